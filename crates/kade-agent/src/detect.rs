//! Reading a customer message: order numbers and shop references, offered identity (emails,
//! postcodes), what is asked (orders, stock or both) and the words that describe a product.
//! Hand-written scanning over whitespace tokens: the patterns are few and a regex engine would
//! be a large dependency for them.

use serde::Serialize;

pub use crate::words::FILLER;
use crate::words::{ORDER_WORDS, STOCK_WORDS};

/// An order the message refers to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum OrderRef {
    /// A Picqer order number (`orderid`), digits only.
    OrderId(String),
    /// A shop reference as written, e.g. `PS #73`, `#73` or `ITQRFWVHT`.
    Reference(String),
}

impl OrderRef {
    pub fn text(&self) -> &str {
        match self {
            OrderRef::OrderId(s) | OrderRef::Reference(s) => s,
        }
    }
}

/// What a message contains.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Analysis {
    pub order_refs: Vec<OrderRef>,
    pub emails: Vec<String>,
    pub postcodes: Vec<String>,
    pub asks_order: bool,
    pub asks_stock: bool,
    /// Lower-cased words left for a product search (order numbers, emails, postcodes and
    /// filler words removed).
    pub product_words: Vec<String>,
}

/// Words in a message that look like codes but are not order references.
const NOT_REFERENCES: &[&str] = &["EAN", "SKU", "XL", "XXL", "XS", "REF", "NR", "NO", "NUM", "ID"];

fn trim_punct(s: &str) -> &str {
    s.trim_matches(|c: char| !(c.is_alphanumeric() || c == '#' || c == '@' || c == '-' || c == '+'))
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_prefix_letters(s: &str) -> bool {
    (2..=5).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_uppercase())
        && !NOT_REFERENCES.contains(&s)
        && !ORDER_WORDS.contains(&s.to_ascii_lowercase().as_str())
}

/// `PS#73`, `PS-73`, `PS73` → `("PS", "73")`.
/// Case-insensitive: glued, the digits make the intent clear.
fn split_glued_reference(s: &str) -> Option<(String, &str)> {
    let letters = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    let (prefix, rest) = s.split_at(letters);
    let prefix = prefix.to_ascii_uppercase();
    let number = rest.trim_start_matches(['#', '-']);
    (is_prefix_letters(&prefix) && is_digits(number) && number.len() <= 9).then_some((prefix, number))
}

/// `0612345678`: a Dutch mobile number, not an order number.
fn looks_like_phone(s: &str) -> bool {
    s.len() == 10 && s.starts_with("06")
}

fn is_dutch_postcode(digits: &str, letters: &str) -> bool {
    digits.len() == 4
        && is_digits(digits)
        && !digits.starts_with('0')
        && letters.len() == 2
        && letters.bytes().all(|b| b.is_ascii_alphabetic())
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// Reads a message.
pub fn analyze(message: &str) -> Analysis {
    let raw: Vec<&str> = message.split_whitespace().collect();
    let toks: Vec<&str> = raw.iter().map(|t| trim_punct(t)).collect();
    let lower: Vec<String> = toks.iter().map(|t| t.to_lowercase()).collect();
    let mut a = Analysis::default();
    let mut used = vec![false; toks.len()];
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        let next = toks.get(i + 1).copied().unwrap_or("");
        let l = lower[i].as_str();
        if t.contains('@') {
            push_unique(&mut a.emails, t.to_string());
            used[i] = true;
        } else if matches!(l, "postcode" | "zip" | "zipcode" | "postal" | "postcode:") && !next.is_empty() {
            // "postcode 6811 AB", "zip 50667", "postal code 2000"
            let mut j = i + 1;
            if lower.get(j).is_some_and(|w| w == "code" || w == "is") {
                j += 1;
            }
            if let Some(p) = toks.get(j) {
                let second = toks.get(j + 1).copied().unwrap_or("");
                used[i] = true;
                used[j] = true;
                if is_dutch_postcode(p, second) {
                    used[j + 1] = true;
                    push_unique(&mut a.postcodes, format!("{p} {second}"));
                    i = j + 1;
                } else {
                    push_unique(&mut a.postcodes, p.to_string());
                    i = j;
                }
            }
        } else if is_dutch_postcode(t, next) && !STOCK_WORDS.contains(&lower[i + 1].as_str()) {
            push_unique(&mut a.postcodes, format!("{t} {next}"));
            used[i] = true;
            used[i + 1] = true;
            i += 1;
        } else if t.len() == 6 && is_dutch_postcode(&t[..4], &t[4..]) {
            push_unique(&mut a.postcodes, t.to_string());
            used[i] = true;
        } else if let Some(d) = t.strip_prefix('#').filter(|d| is_digits(d)) {
            push_unique(&mut a.order_refs, OrderRef::Reference(format!("#{d}")));
            used[i] = true;
        } else if is_digits(t) && looks_like_phone(t) {
            used[i] = true;
        } else if is_digits(t) && (6..=12).contains(&t.len()) {
            push_unique(&mut a.order_refs, OrderRef::OrderId(t.to_string()));
            used[i] = true;
        } else if is_prefix_letters(t)
            && (next.starts_with('#') || is_digits(next))
            && is_digits(next.trim_start_matches('#'))
        {
            let number = next.trim_start_matches('#');
            let mut reference = format!("{t} #{number}");
            used[i] = true;
            used[i + 1] = true;
            i += 1;
            // "DEV #73 / ITQRFWVHT": the shop's own reference follows a slash.
            if raw.get(i + 1) == Some(&"/") && toks.get(i + 2).is_some_and(|s| s.len() >= 6) {
                reference = format!("{reference} / {}", toks[i + 2]);
                used[i + 1] = true;
                used[i + 2] = true;
                i += 2;
            }
            push_unique(&mut a.order_refs, OrderRef::Reference(reference));
        } else if let Some((prefix, number)) = split_glued_reference(t) {
            push_unique(&mut a.order_refs, OrderRef::Reference(format!("{prefix} #{number}")));
            used[i] = true;
        } else if t.len() == 9 && t.bytes().all(|b| b.is_ascii_uppercase()) {
            // PrestaShop's own order references are nine capital letters.
            push_unique(&mut a.order_refs, OrderRef::Reference(t.to_string()));
            used[i] = true;
        } else if is_digits(t)
            && (2..=5).contains(&t.len())
            && i > 0
            && ORDER_WORDS.contains(&lower[i - 1].trim_end_matches(':'))
        {
            // "order 73", "bestelling 1234": a bare number right after an order word.
            push_unique(&mut a.order_refs, OrderRef::Reference(t.to_string()));
            used[i] = true;
        }
        i += 1;
    }
    a.asks_order = !a.order_refs.is_empty() || lower.iter().any(|w| ORDER_WORDS.contains(&w.as_str()));
    a.asks_stock = lower.iter().any(|w| STOCK_WORDS.contains(&w.as_str()))
        || lower.windows(2).any(|w| w[0] == "in" && w[1] == "stock");
    a.product_words = lower
        .iter()
        .zip(&used)
        .filter(|(w, used)| !**used && !w.is_empty() && !FILLER.contains(&w.as_str()))
        .filter(|(w, _)| !ORDER_WORDS.contains(&w.as_str()))
        .map(|(w, _)| w.trim_start_matches('#').to_string())
        .filter(|w| !w.is_empty())
        .collect();
    a
}

/// Comparable keys of a reference: each `/`-separated part as lower-case letters and digits,
/// the number of each part on its own, and the whole. `"DEV #73 / ITQRFWVHT"` →
/// `dev73, 73, itqrfwvht, dev73itqrfwvht`.
pub fn reference_keys(reference: &str) -> Vec<String> {
    let squash = |s: &str| s.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    let mut keys = Vec::new();
    for part in reference.split('/') {
        let k = squash(part);
        if k.is_empty() {
            continue;
        }
        let digits: String = k.chars().skip_while(|c| !c.is_ascii_digit()).collect();
        push_unique(&mut keys, k.clone());
        if is_digits(&digits) && digits != k {
            push_unique(&mut keys, digits);
        }
    }
    let whole = squash(reference);
    if !whole.is_empty() {
        push_unique(&mut keys, whole);
    }
    keys
}

/// Whether a reference written by a customer (`asked`) names the order reference `actual`.
/// The asked reference's own key must equal one of `actual`'s keys: `#73` matches `PS #73`, but
/// `PS #73` does not match `DEV #73`.
pub fn reference_matches(asked: &str, actual: &str) -> bool {
    let wanted: String = asked.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    !wanted.is_empty() && reference_keys(actual).contains(&wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(m: &str) -> Vec<OrderRef> {
        analyze(m).order_refs
    }

    #[test]
    fn order_numbers_and_references() {
        assert_eq!(refs("Where is my order 20140079?"), [OrderRef::OrderId("20140079".into())]);
        assert_eq!(refs("bestelling PS #73 graag"), [OrderRef::Reference("PS #73".into())]);
        assert_eq!(refs("order PS73"), [OrderRef::Reference("PS #73".into())]);
        assert_eq!(refs("order ps73"), [OrderRef::Reference("PS #73".into())]);
        assert!(refs("call me on 0612345678").is_empty(), "a phone number is not an order number");
        assert_eq!(refs("ORDER 20140079"), [OrderRef::OrderId("20140079".into())], "shouting is not a prefix");
        assert_eq!(refs("DEV #73 / ITQRFWVHT where is it"), [OrderRef::Reference("DEV #73 / ITQRFWVHT".into())]);
        assert_eq!(refs("my order #73"), [OrderRef::Reference("#73".into())]);
        assert_eq!(refs("order 73 please"), [OrderRef::Reference("73".into())]);
        assert_eq!(refs("ref ITQRFWVHT"), [OrderRef::Reference("ITQRFWVHT".into())]);
        assert!(refs("is the blue jacket in stock in XL").is_empty());
        assert!(refs("do you have size 42 sneakers").is_empty());
    }

    #[test]
    fn identity_in_the_text() {
        let a = analyze("Order 20140079, my email is Jan.Jansen1@example.com and postcode 6811 AB.");
        assert_eq!(a.emails, ["Jan.Jansen1@example.com"]);
        assert_eq!(a.postcodes, ["6811 AB"]);
        assert_eq!(analyze("20140079 3511CD").postcodes, ["3511CD"]);
        assert_eq!(analyze("order 20140079 zip code 50667").postcodes, ["50667"]);
        assert!(a.asks_order && !a.asks_stock);
    }

    #[test]
    fn product_words_and_intent() {
        let a = analyze("Hebben jullie de blauwe jas nog op voorraad in maat M?");
        assert!(a.asks_stock && !a.asks_order);
        assert_eq!(a.product_words, ["blauwe", "jas", "m"]);
        let b = analyze("Is the Alpine Jacket Blue M in stock?");
        assert_eq!(b.product_words, ["alpine", "jacket", "blue", "m"]);
    }

    #[test]
    fn reference_keys_match_loosely_but_not_across_shops() {
        assert!(reference_matches("PS #73", "PS #73"));
        assert!(reference_matches("ps73", "PS #73"));
        assert!(reference_matches("#73", "DEV #73 / ITQRFWVHT"));
        assert!(reference_matches("ITQRFWVHT", "DEV #73 / ITQRFWVHT"));
        assert!(!reference_matches("PS #73", "DEV #73 / ITQRFWVHT"));
        assert!(!reference_matches("#7", "PS #73"));
    }
}
