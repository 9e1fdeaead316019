//! Conditions on an event's data (or on the re-read entity at send time).
//!
//! A condition names a field of the Picqer resource as Picqer writes it (`status`,
//! `deliverycountry`, `emailaddress`, a dotted path such as `picklists.0.status`), or one of the
//! aliases merchants think in (`country` = the delivery country of an order, the country of a
//! return). Values compare as text, case-insensitively, so `NL`, `nl` and the number `5` vs the
//! text `"5"` all behave the way a merchant expects.

use serde_json::Value;

/// One test on the entity. All conditions of a rule must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// The field's value equals this text.
    Equals { field: String, value: String },
    /// The field's value differs from this text (or the field is absent).
    NotEquals { field: String, value: String },
    /// The field's value is one of these.
    In { field: String, values: Vec<String> },
    /// The field is present, not null and not empty (`exists = true`), or the opposite.
    Exists { field: String, present: bool },
    /// The entity carries this tag (by title), or does not (`present = false`).
    Tag { title: String, present: bool },
}

impl Condition {
    /// Whether the condition holds for `entity` (the resource's JSON object).
    pub fn holds(&self, entity: &Value) -> bool {
        match self {
            Condition::Equals { field, value } => text(lookup(entity, field)).is_some_and(|t| same(&t, value)),
            Condition::NotEquals { field, value } => !text(lookup(entity, field)).is_some_and(|t| same(&t, value)),
            Condition::In { field, values } => {
                text(lookup(entity, field)).is_some_and(|t| values.iter().any(|v| same(&t, v)))
            }
            Condition::Exists { field, present } => {
                let found = match lookup(entity, field) {
                    None | Some(Value::Null) => false,
                    Some(Value::String(s)) => !s.trim().is_empty(),
                    Some(Value::Array(a)) => !a.is_empty(),
                    Some(Value::Object(o)) => !o.is_empty(),
                    Some(_) => true,
                };
                found == *present
            }
            Condition::Tag { title, present } => tag_titles(entity).iter().any(|t| same(t, title)) == *present,
        }
    }

    /// A short human form for previews and logs: `status = completed`.
    pub fn describe(&self) -> String {
        match self {
            Condition::Equals { field, value } => format!("{field} = {value}"),
            Condition::NotEquals { field, value } => format!("{field} != {value}"),
            Condition::In { field, values } => format!("{field} in [{}]", values.join(", ")),
            Condition::Exists { field, present: true } => format!("{field} exists"),
            Condition::Exists { field, present: false } => format!("{field} is empty"),
            Condition::Tag { title, present: true } => format!("tag {title:?}"),
            Condition::Tag { title, present: false } => format!("no tag {title:?}"),
        }
    }
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Resolves `field` (with aliases and dotted paths) in `entity`.
pub fn lookup<'a>(entity: &'a Value, field: &str) -> Option<&'a Value> {
    let direct = path(entity, field);
    if direct.is_some() {
        return direct;
    }
    let alias = match field {
        "country" => "deliverycountry",
        "name" | "customer_name" => "deliveryname",
        "email" => "emailaddress",
        "phone" => "telephone",
        "order_status" => "status",
        _ => return None,
    };
    path(entity, alias)
}

fn path<'a>(entity: &'a Value, field: &str) -> Option<&'a Value> {
    let mut at = entity;
    for key in field.split('.') {
        at = match at {
            Value::Object(o) => o.get(key)?,
            Value::Array(a) => a.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Tag titles of an entity. Picqer writes `tags` as an object keyed by title on orders, and as
/// an array of tag objects on picklists (since Oct 2025); both are accepted, as are plain strings.
pub fn tag_titles(entity: &Value) -> Vec<String> {
    match entity.get("tags") {
        Some(Value::Object(o)) => o.keys().cloned().collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|t| match t {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o.get("title").and_then(Value::as_str).map(str::to_string),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order() -> Value {
        json!({"idorder": 5, "status": "completed", "deliverycountry": "NL", "emailaddress": "",
               "telephone": "0612345678", "tags": {"VIP": {"idtag": 1, "title": "VIP"}},
               "picklists": [{"status": "closed"}]})
    }

    #[test]
    fn equals_in_and_aliases() {
        let o = order();
        assert!(Condition::Equals { field: "status".into(), value: "Completed".into() }.holds(&o));
        assert!(Condition::Equals { field: "country".into(), value: "nl".into() }.holds(&o));
        assert!(Condition::Equals { field: "idorder".into(), value: "5".into() }.holds(&o));
        assert!(Condition::Equals { field: "picklists.0.status".into(), value: "closed".into() }.holds(&o));
        assert!(!Condition::Equals { field: "missing".into(), value: "x".into() }.holds(&o));
        assert!(Condition::NotEquals { field: "status".into(), value: "cancelled".into() }.holds(&o));
        assert!(Condition::NotEquals { field: "missing".into(), value: "x".into() }.holds(&o));
        let in_benelux = Condition::In { field: "country".into(), values: vec!["BE".into(), "NL".into()] };
        assert!(in_benelux.holds(&o));
        assert!(!in_benelux.holds(&json!({"deliverycountry": "DE"})));
    }

    #[test]
    fn exists_treats_empty_text_as_absent() {
        let o = order();
        assert!(Condition::Exists { field: "phone".into(), present: true }.holds(&o));
        assert!(!Condition::Exists { field: "email".into(), present: true }.holds(&o));
        assert!(Condition::Exists { field: "email".into(), present: false }.holds(&o));
    }

    #[test]
    fn tags_in_both_shapes() {
        let o = order();
        assert!(Condition::Tag { title: "vip".into(), present: true }.holds(&o));
        assert!(Condition::Tag { title: "B2B".into(), present: false }.holds(&o));
        let picklist = json!({"tags": [{"idtag": 2, "title": "B2B"}]});
        assert!(Condition::Tag { title: "B2B".into(), present: true }.holds(&picklist));
        assert!(!Condition::Tag { title: "VIP".into(), present: true }.holds(&json!({"tags": []})));
    }
}
