//! A typo-tolerant, variant-aware search over the mirrored catalogue, held in memory.
//!
//! Words of names and product fields are canonicalised (Dutch → English, plurals, "medium" →
//! "m") on both sides, so "blauwe jas maat M" finds "Alpine Jacket Blue M". Words match exactly,
//! by prefix, or within a small edit distance; codes and barcodes match exactly or by prefix (a
//! typo in a code names another product). Sizes and colours are variant words: when the question
//! names one, products of another size or colour are ruled out instead of ranked lower.

use std::collections::HashMap;

use kade_store::MirrorProduct;

/// Canonical forms: the first word of each row is what the others mean.
const SYNONYMS: &[&[&str]] = &[
    &["blue", "blauw", "blauwe"],
    &["red", "rood", "rode"],
    &["black", "zwart", "zwarte"],
    &["green", "groen", "groene"],
    &["white", "wit", "witte"],
    &["grey", "gray", "grijs", "grijze"],
    &["jacket", "jas", "jassen", "jack", "jasje", "jackets", "coat"],
    &["hoodie", "trui", "truien", "hoody", "hoodies", "sweater"],
    &["tshirt", "shirt", "shirts", "tshirts", "tee", "shirtje"],
    &["sock", "sok", "sokken", "socks"],
    &["cap", "pet", "petten", "caps", "petje"],
    &["backpack", "rugzak", "rugzakken", "backpacks", "rugtas"],
    &["sneaker", "sneakers", "schoen", "schoenen", "gympen", "shoe", "shoes"],
    &["handbook", "handboek", "boek", "book", "books", "boeken"],
    &["gift", "cadeau", "kado"],
    &["card", "kaart", "bon"],
    &["set", "sets"],
    &["s", "small", "klein"],
    &["m", "medium", "middel"],
    &["l", "large", "groot"],
    &["xl", "xlarge", "extra-large"],
];

/// Words expanding to several canonical words.
const COMPOUNDS: &[(&str, &[&str])] = &[
    ("giftcard", &["gift", "card"]),
    ("cadeaukaart", &["gift", "card"]),
    ("cadeaubon", &["gift", "card"]),
    ("giftset", &["gift", "set"]),
];

const COLOURS: &[&str] = &["blue", "red", "black", "green", "white", "grey"];

/// Whether a canonical word is a size: letter sizes, shoe sizes, sock ranges.
fn is_size(w: &str) -> bool {
    matches!(w, "xs" | "s" | "m" | "l" | "xl" | "xxl")
        || (w.len() == 2 && w.bytes().all(|b| b.is_ascii_digit()) && ("30".."50").contains(&w))
        || (w.len() == 5 && w.as_bytes()[2] == b'-' && w[..2].bytes().chain(w[3..].bytes()).all(|b| b.is_ascii_digit()))
}

/// Canonical words of a piece of text (a name, a question).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || c == ',' || c == '/' || c == '(' || c == ')') {
        let t = raw.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        if t.is_empty() {
            continue;
        }
        // "T-Shirt" → "tshirt", but "39-42" stays a size.
        let t = if is_size(&t) { t } else { t.replace(['-', '\''], "") };
        if let Some((_, parts)) = COMPOUNDS.iter().find(|(w, _)| *w == t) {
            out.extend(parts.iter().map(|p| p.to_string()));
            continue;
        }
        out.push(canonical(&t));
    }
    out
}

fn canonical(w: &str) -> String {
    for row in SYNONYMS {
        if row.contains(&w) {
            return row[0].to_string();
        }
    }
    w.to_string()
}

/// Optimal-string-alignment distance (edits and adjacent swaps), giving up above `max`.
fn distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
            row_min = row_min.min(cur[j]);
        }
        if row_min > max {
            return None;
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    (prev[b.len()] <= max).then_some(prev[b.len()])
}

/// One product as the index holds it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub product: MirrorProduct,
    pub unlimited: bool,
    codes: Vec<String>,
    size: Option<String>,
    colour: Option<String>,
}

/// The index.
#[derive(Debug, Default)]
pub struct Catalogue {
    entries: Vec<Entry>,
    /// Word → entries having it.
    words: HashMap<String, Vec<u32>>,
    /// Lower-cased product code, its dash-separated head (`jkt-0001`), and barcode → entries.
    codes: HashMap<String, Vec<u32>>,
}

/// A scored hit.
#[derive(Clone, Debug)]
pub struct Hit<'a> {
    pub entry: &'a Entry,
    pub score: f32,
}

/// Product field values (`productfields[].value`) worth searching.
fn field_text(data: &serde_json::Value) -> String {
    data.get("productfields")
        .and_then(|f| f.as_array())
        .map(|fields| {
            fields.iter().filter_map(|f| f.get("value").and_then(|v| v.as_str())).collect::<Vec<_>>().join(" ")
        })
        .unwrap_or_default()
}

impl Catalogue {
    /// Indexes active products.
    pub fn build(products: Vec<MirrorProduct>) -> Catalogue {
        let mut c = Catalogue::default();
        for p in products.into_iter().filter(|p| p.active) {
            let idx = c.entries.len() as u32;
            let mut words = words(&p.name);
            words.extend(self::words(&field_text(&p.data)));
            words.sort();
            words.dedup();
            let code = p.productcode.to_lowercase();
            let mut codes = vec![code.clone()];
            let parts: Vec<&str> = code.split('-').collect();
            if parts.len() > 2 {
                codes.push(parts[..2].join("-"));
            }
            codes.extend(p.barcode.iter().map(|b| b.to_lowercase()));
            let size = words.iter().find(|w| is_size(w)).cloned();
            let colour = words.iter().find(|w| COLOURS.contains(&w.as_str())).cloned();
            for w in &words {
                c.words.entry(w.clone()).or_default().push(idx);
            }
            for k in &codes {
                c.codes.entry(k.clone()).or_default().push(idx);
            }
            let unlimited = p.data.get("unlimitedstock").and_then(|v| v.as_bool()).unwrap_or(false)
                || p.data.get("type").and_then(|v| v.as_str()) == Some("unlimited_stock");
            c.entries.push(Entry { product: p, unlimited, codes, size, colour });
        }
        c
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The product with exactly this product code (case-insensitive) or barcode.
    pub fn by_code(&self, code: &str) -> Option<&Entry> {
        let k = code.trim().to_lowercase();
        self.codes
            .get(&k)
            .into_iter()
            .flatten()
            .map(|i| &self.entries[*i as usize])
            .find(|e| e.product.productcode.eq_ignore_ascii_case(&k) || e.product.barcode.as_deref() == Some(&k))
    }

    /// Whether `code` (lower-case) is a product code, a code family head or a barcode.
    pub fn has_code(&self, code: &str) -> bool {
        self.codes.contains_key(code)
    }

    /// Vocabulary words matching query word `q`, with a weight.
    fn word_matches(&self, q: &str) -> Vec<(&str, f32)> {
        let mut out = Vec::new();
        let stem =
            q.strip_suffix("es").filter(|s| s.len() >= 3).or_else(|| q.strip_suffix('s').filter(|s| s.len() >= 3));
        for w in self.words.keys() {
            let weight = if w == q || Some(w.as_str()) == stem {
                1.0
            } else if is_size(q) || is_size(w) || q.bytes().any(|b| b.is_ascii_digit()) {
                continue; // sizes and numbers only match exactly
            } else if q.len() >= 3 && w.starts_with(q) {
                0.7
            } else {
                let max = match q.chars().count() {
                    0..=3 => continue,
                    4..=6 => 1,
                    _ => 2,
                };
                match distance(q, w, max) {
                    Some(1) => 0.8,
                    Some(_) => 0.6,
                    None => continue,
                }
            };
            out.push((w.as_str(), weight));
        }
        out
    }

    /// The best-scoring products for `query` words (canonicalised here), best first. Every
    /// query word that means something in this catalogue must match; sizes and colours rule
    /// out other variants. Empty when nothing matches.
    pub fn search(&self, query: &[String]) -> Vec<Hit<'_>> {
        // Exact code or barcode wins outright (looked up before words are canonicalised, which
        // would drop the dashes of a code).
        for raw in query {
            let w = raw.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
            if let Some(ids) = self.codes.get(&w) {
                let w = &w;
                let hits: Vec<Hit<'_>> =
                    ids.iter().map(|i| Hit { entry: &self.entries[*i as usize], score: 10.0 }).collect();
                let exact: Vec<Hit<'_>> = hits
                    .iter()
                    .filter(|h| h.entry.codes.first() == Some(w) || h.entry.codes.last() == Some(w))
                    .cloned()
                    .collect();
                return if exact.is_empty() { hits } else { exact };
            }
        }
        let q: Vec<String> = query.iter().flat_map(|w| words(w)).collect();
        let sizes: Vec<&String> = q.iter().filter(|w| is_size(w)).collect();
        let colours: Vec<&String> = q.iter().filter(|w| COLOURS.contains(&w.as_str())).collect();
        // Dense per-entry accumulators: a common word ("jacket") touches a large share of a big
        // catalogue, where hashing every posting would dominate the question's cost.
        let mut score = vec![0.0f32; self.entries.len()];
        let mut count = vec![0u8; self.entries.len()];
        let mut best = vec![0.0f32; self.entries.len()];
        let mut meaningful = 0u8;
        for w in q.iter().filter(|w| !is_size(w)).take(usize::from(u8::MAX)) {
            let matches = self.word_matches(w);
            if matches.is_empty() {
                continue; // a word this catalogue does not know (filler, a typo too far)
            }
            meaningful += 1;
            let mut touched = Vec::new();
            for (term, weight) in matches {
                for &i in &self.words[term] {
                    let b = &mut best[i as usize];
                    if *b == 0.0 {
                        touched.push(i);
                    }
                    *b = b.max(weight);
                }
            }
            for i in touched {
                let i = i as usize;
                score[i] += best[i];
                count[i] += 1;
                best[i] = 0.0;
            }
        }
        if meaningful == 0 {
            return Vec::new();
        }
        let mut hits: Vec<Hit<'_>> = count
            .iter()
            .enumerate()
            .filter(|(_, n)| **n == meaningful)
            .map(|(i, _)| Hit { entry: &self.entries[i], score: score[i] })
            .filter(|h| sizes.is_empty() || h.entry.size.as_ref().is_some_and(|s| sizes.contains(&s)))
            .filter(|h| colours.is_empty() || h.entry.colour.as_ref().is_some_and(|c| colours.contains(&c)))
            .collect();
        let top = hits.iter().map(|h| h.score).fold(0.0f32, f32::max);
        hits.retain(|h| h.score >= top - 0.25);
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.entry.product.name.cmp(&b.entry.product.name)));
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kade_store::MirrorStock;

    fn p(id: i64, code: &str, name: &str) -> MirrorProduct {
        MirrorProduct {
            idproduct: id,
            productcode: code.into(),
            name: name.into(),
            barcode: Some(format!("87{id:011}")),
            active: true,
            version: 1,
            data: serde_json::json!({"productfields": [{"idproductfield": 1, "value": "Waterproof"}]}),
            stock: vec![MirrorStock { idwarehouse: 101, stock: 3, reserved: 0, freestock: 3 }],
        }
    }

    fn catalogue() -> Catalogue {
        Catalogue::build(vec![
            p(1, "JKT-0001-BLU-M", "Alpine Jacket Blue M"),
            p(2, "JKT-0001-BLU-L", "Alpine Jacket Blue L"),
            p(3, "JKT-0001-RED-M", "Alpine Jacket Red M"),
            p(4, "TSH-0002-BLK-S", "Harbor T-Shirt Black S"),
            p(5, "SCK-0003-GRN-39-42", "Drift Sock Green 39-42"),
            p(6, "GFC-0004", "Summit Gift card"),
        ])
    }

    fn names(c: &Catalogue, q: &str) -> Vec<String> {
        let q: Vec<String> = q.split_whitespace().map(str::to_string).collect();
        c.search(&q).iter().map(|h| h.entry.product.name.clone()).collect()
    }

    #[test]
    fn variants_narrow_and_typos_are_forgiven() {
        let c = catalogue();
        assert_eq!(names(&c, "blue jacket M"), ["Alpine Jacket Blue M"]);
        assert_eq!(names(&c, "blauwe jas maat m"), ["Alpine Jacket Blue M"]);
        assert_eq!(names(&c, "jakcet blue"), ["Alpine Jacket Blue L", "Alpine Jacket Blue M"]);
        assert_eq!(names(&c, "alpin jackets red medium"), ["Alpine Jacket Red M"]);
        assert_eq!(names(&c, "t-shirt"), ["Harbor T-Shirt Black S"]);
        assert_eq!(names(&c, "sokken 39-42"), ["Drift Sock Green 39-42"]);
        assert_eq!(names(&c, "cadeaubon"), ["Summit Gift card"]);
        assert_eq!(names(&c, "waterproof jacket red"), ["Alpine Jacket Red M"], "product fields are searched");
    }

    #[test]
    fn codes_and_barcodes_match_exactly() {
        let c = catalogue();
        assert_eq!(names(&c, "JKT-0001-RED-M"), ["Alpine Jacket Red M"]);
        assert_eq!(names(&c, "8700000000004"), ["Harbor T-Shirt Black S"]);
        assert_eq!(names(&c, "jkt-0001").len(), 3, "a family code lists its variants");
        assert!(c.by_code("jkt-0001-blu-l").is_some());
    }

    #[test]
    fn unknown_things_find_nothing() {
        let c = catalogue();
        assert!(names(&c, "umbrella").is_empty());
        assert!(names(&c, "jacket XL").is_empty(), "no such size");
        assert!(names(&c, "green jacket").is_empty(), "no such colour");
    }

    #[test]
    fn distance_is_bounded() {
        assert_eq!(distance("jacket", "jakcet", 1), Some(1));
        assert_eq!(distance("jacket", "jackte", 2), Some(1));
        assert_eq!(distance("hoodie", "sneaker", 2), None);
    }
}
