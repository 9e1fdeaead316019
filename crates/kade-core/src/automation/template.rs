//! Message templates: plain text with `{{variable}}` placeholders.
//!
//! The language is deliberately tiny — no logic, no loops, no filters — so that a merchant can
//! read every template at a glance and so that every mistake is caught when the rule is loaded,
//! never when a customer's message is being rendered. Lists (products, parcels) are offered as
//! pre-rendered multi-line variables (`{{parcels}}`, `{{products}}`) instead of a loop syntax.
//!
//! A template is parsed once ([`Template::parse`]); parsing checks every placeholder against the
//! known variables and reports the first problem with its line and column (1-based, in
//! characters) inside the template text.

use std::collections::BTreeMap;
use std::fmt;

/// Every variable a template may use, with a one-line description (the docs and error messages
/// list them). Kept in one place so the parser, the renderer and `docs/automations.md` agree.
pub const VARIABLES: &[(&str, &str)] = &[
    ("customer_name", "the delivery contact or name of the order (or return)"),
    ("customer_email", "the e-mail address of the order (or return)"),
    ("customer_phone", "the telephone number, normalised to E.164 when possible"),
    ("order_number", "Picqer's order number (orderid), e.g. 20250001"),
    ("order_status", "the order's current status (completed, processing, cancelled, ...)"),
    ("order_reference", "the order's reference (often the webshop's order number)"),
    ("reference", "the reference of the entity the rule is about (order or return)"),
    ("products", "one line per product: `2 x Blue jacket (JACKET-BL)`"),
    ("tracking_code", "the tracking code of the first parcel"),
    ("tracking_url", "the public tracking page of the first parcel"),
    ("carrier", "the carrier customers know (PostNL, DHL, ...)"),
    ("parcels", "one line per parcel of every shipment: `PostNL 3SABC123 https://...`"),
    ("parcel_count", "how many parcels the order was shipped in"),
    ("return_number", "Picqer's return number (returnid)"),
    ("return_status", "the return's current status name"),
    ("event", "the Picqer event (or derived trigger) that started the rule"),
    ("rule", "the rule's name"),
];

/// Whether `name` is a known variable.
pub fn is_variable(name: &str) -> bool {
    VARIABLES.iter().any(|(v, _)| *v == name)
}

/// Why a template was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct TemplateError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
}

/// A parsed template. Rendering cannot fail: every variable it names is known.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Template({:?})", self.source)
    }
}

/// Line and column (1-based, counted in characters) of byte offset `at` in `text`.
fn position(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl Template {
    /// Parses `source`, rejecting unclosed or empty placeholders, stray `}}`, and unknown
    /// variables (the message suggests the closest known name).
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let err = |at: usize, message: String| {
            let (line, column) = position(source, at);
            TemplateError { line, column, message }
        };
        let mut parts = Vec::new();
        let mut rest = 0;
        while rest < source.len() {
            let tail = &source[rest..];
            let open = tail.find("{{");
            let close = tail.find("}}");
            if let Some(c) = close
                && open.is_none_or(|o| c < o)
            {
                return Err(err(rest + c, "\"}}\" without a matching \"{{\"".into()));
            }
            let Some(o) = open else {
                parts.push(Part::Text(tail.to_string()));
                break;
            };
            if o > 0 {
                parts.push(Part::Text(tail[..o].to_string()));
            }
            let start = rest + o;
            let inner_from = start + 2;
            let Some(len) = source[inner_from..].find("}}") else {
                return Err(err(start, "\"{{\" is never closed with \"}}\"".into()));
            };
            let inner = &source[inner_from..inner_from + len];
            if let Some(nested) = inner.find("{{") {
                return Err(err(inner_from + nested, "\"{{\" inside a placeholder (missing \"}}\"?)".into()));
            }
            let name = inner.trim();
            let name_at = inner_from + (inner.len() - inner.trim_start().len());
            if name.is_empty() {
                return Err(err(start, "empty placeholder \"{{}}\"".into()));
            }
            if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                return Err(err(
                    name_at,
                    format!(
                        "{name:?} is not a variable name (use lower-case letters, digits and _, e.g. {{{{order_number}}}})"
                    ),
                ));
            }
            if !is_variable(name) {
                let hint = closest(name).map(|c| format!(" — did you mean {{{{{c}}}}}?")).unwrap_or_default();
                return Err(err(name_at, format!("unknown variable {{{{{name}}}}}{hint} (see docs/automations.md)")));
            }
            parts.push(Part::Var(name.to_string()));
            rest = inner_from + len + 2;
        }
        Ok(Template { source: source.to_string(), parts })
    }

    /// The text as written in the config.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variables it uses, in order of first use.
    pub fn variables(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for p in &self.parts {
            if let Part::Var(v) = p
                && !out.contains(&v.as_str())
            {
                out.push(v);
            }
        }
        out
    }

    /// Renders with `values`; a variable without a value renders as the empty string (a
    /// template may mention tracking on a rule that can fire before shipping, say).
    pub fn render(&self, values: &BTreeMap<String, String>) -> String {
        let mut out = String::with_capacity(self.source.len() + 64);
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => out.push_str(values.get(v).map(String::as_str).unwrap_or_default()),
            }
        }
        out
    }
}

/// The known variable nearest to `name` (edit distance at most 3), for "did you mean".
fn closest(name: &str) -> Option<&'static str> {
    VARIABLES
        .iter()
        .map(|(v, _)| (distance(name, v), *v))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn renders_variables_with_and_without_spaces() {
        let t = Template::parse("Hi {{customer_name}},\norder {{ order_number }} is {{order_status}}.").unwrap();
        let out = t.render(&values(&[("customer_name", "Jan"), ("order_number", "20250001")]));
        assert_eq!(out, "Hi Jan,\norder 20250001 is .");
        assert_eq!(t.variables(), ["customer_name", "order_number", "order_status"]);
    }

    #[test]
    fn unknown_variables_are_rejected_with_position_and_hint() {
        let e = Template::parse("Hello\n  {{custmer_name}}").unwrap_err();
        assert_eq!((e.line, e.column), (2, 5));
        assert!(e.message.contains("unknown variable {{custmer_name}}"), "{e}");
        assert!(e.message.contains("did you mean {{customer_name}}"), "{e}");
        let e = Template::parse("{{zzzzzzzzzzzz}}").unwrap_err();
        assert!(!e.message.contains("did you mean"), "{e}");
    }

    #[test]
    fn syntax_errors_are_rejected_with_position() {
        let e = Template::parse("ab {{order_number").unwrap_err();
        assert_eq!((e.line, e.column), (1, 4));
        assert!(e.message.contains("never closed"), "{e}");
        let e = Template::parse("x }} y").unwrap_err();
        assert_eq!((e.line, e.column), (1, 3));
        let e = Template::parse("{{ }}").unwrap_err();
        assert!(e.message.contains("empty"), "{e}");
        let e = Template::parse("{{order-number}}").unwrap_err();
        assert!(e.message.contains("not a variable name"), "{e}");
        let e = Template::parse("{{order_number {{rule}}").unwrap_err();
        assert_eq!((e.line, e.column), (1, 16));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let e = Template::parse("Bedankt één keer {{nope}}").unwrap_err();
        assert_eq!((e.line, e.column), (1, 20));
    }

    #[test]
    fn plain_text_and_empty_templates() {
        assert_eq!(Template::parse("").unwrap().render(&BTreeMap::new()), "");
        assert_eq!(Template::parse("no vars { } here").unwrap().render(&BTreeMap::new()), "no vars { } here");
    }
}
