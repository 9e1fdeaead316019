//! A webservice object as read (from JSON output) and written back (as XML input).
//!
//! Updates go through this type on purpose: a PUT replaces the whole object, so the only safe
//! update is "read every field, change some, send every field back".

use serde_json::Value as Json;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    /// Multilingual: (language id, text).
    Lang(Vec<(String, String)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// The XML node name (`order_carrier`).
    pub node: String,
    /// Fields in the order the shop sent them.
    pub fields: Vec<(String, Value)>,
}

/// A JSON scalar as the text PrestaShop means (numbers and booleans arrive either way).
pub fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        Json::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
        other => other.to_string(),
    }
}

impl Object {
    pub fn new(node: &str) -> Self {
        Object { node: node.to_owned(), fields: Vec::new() }
    }

    /// Reads the object from JSON output. Associations are left out: the resources Kade writes
    /// back (order carriers, stock rows) have none, and read-only ones would be rejected.
    pub fn from_json(node: &str, json: &Json) -> Option<Self> {
        let map = json.as_object()?;
        let mut fields = Vec::new();
        for (k, v) in map {
            match v {
                Json::Array(items) => {
                    let langs =
                        items.iter().filter_map(|i| Some((text(i.get("id")?), text(i.get("value")?)))).collect();
                    fields.push((k.clone(), Value::Lang(langs)));
                }
                Json::Object(_) => {}
                v => fields.push((k.clone(), Value::Text(text(v)))),
            }
        }
        Some(Object { node: node.to_owned(), fields })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).and_then(|(_, v)| match v {
            Value::Text(t) => Some(t.as_str()),
            Value::Lang(l) => l.first().map(|(_, t)| t.as_str()),
        })
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = Value::Text(value.into());
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name.to_owned(), value)),
        }
    }

    pub fn set_lang(&mut self, name: &str, value: impl Into<String>) {
        let value = Value::Lang(vec![("1".into(), value.into())]);
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name.to_owned(), value)),
        }
    }

    /// Drops fields the webservice refuses on input (e.g. a product's `quantity`).
    pub fn remove(&mut self, name: &str) {
        self.fields.retain(|(k, _)| k != name);
    }
}
