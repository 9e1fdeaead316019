//! Hooks: Picqer's webhook subscriptions (one event each).

use kade_core::ids::HookId;
use serde::{Deserialize, Deserializer, Serialize};

use super::{lenient_bool, null_default};

/// A hook as Picqer lists it. Picqer shows `secret` as a boolean ("has one") or as the text.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Hook {
    pub idhook: HookId,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub event: String,
    #[serde(default, deserialize_with = "null_default")]
    pub address: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub active: bool,
    #[serde(default, deserialize_with = "has_secret")]
    pub secret: bool,
}

fn has_secret<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::String(s) => !s.is_empty(),
        _ => false,
    })
}

/// Body of `POST /hooks`.
#[derive(Clone, Debug, Serialize)]
pub struct NewHook {
    pub name: String,
    pub event: String,
    pub address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}
