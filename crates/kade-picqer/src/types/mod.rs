//! Picqer's resources as Kade reads and writes them.
//!
//! Reading is tolerant on purpose: unknown fields are ignored, most fields are optional (Picqer
//! sends explicit `null`s and adds fields over time), `tags` may be an object keyed by title or an
//! array, and datetimes use Picqer's `YYYY-MM-DD HH:MM:SS`. Request bodies are separate types that
//! only serialise the fields that are set, because Picqer's PUT is a partial update.

mod catalogue;
mod hook;
mod order;
mod parties;
mod purchasing;
mod returns;
mod tags;

pub use catalogue::*;
pub use hook::*;
pub use order::*;
pub use parties::*;
pub use purchasing::*;
pub use returns::*;
pub use tags::{Tag, Tags};

use serde::{Deserialize, Deserializer};

/// `null` (or a missing field, with `#[serde(default)]`) becomes the type's default.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Booleans that some payloads send as `0`/`1` or `"0"`/`"1"`; `null` is false.
pub(crate) fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::Number(n) => n.as_i64().unwrap_or(0) != 0,
        serde_json::Value::String(s) => matches!(s.as_str(), "1" | "true"),
        _ => false,
    })
}
