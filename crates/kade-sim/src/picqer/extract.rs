//! Request extractors that fail with Picqer's envelope instead of axum's plain-text rejections.
//!
//! Input is parsed leniently in the way a PHP backend tends to be (numbers sent as strings are
//! accepted, `"1"`/`"true"` are booleans), but anything that cannot be read is a 400, never a
//! panic and never a 422.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::errors::{ApiError, ApiResult};

/// Fixed page size of every list endpoint.
pub const PAGE: usize = 100;

/// Largest integer accepted in a body (see [`Fields::i64`]).
const MAX_MAGNITUDE: u64 = 1_000_000_000_000;

/// A JSON object body. An empty body reads as `{}` so that action endpoints (`POST .../process`)
/// work without one, as the PHP client sends them.
pub struct JsonBody(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("Could not read request body: {e}")))?;
        parse_object(&bytes).map(JsonBody)
    }
}

/// Parses a body that must be a JSON object (or empty).
pub fn parse_object(bytes: &[u8]) -> ApiResult<Map<String, Value>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("JSON body must be an object")),
        Err(e) => Err(ApiError::bad_request(format!("Invalid JSON body: {e}"))),
    }
}

/// Query parameters. Repeated keys keep the last value.
pub struct Q(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Q {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs: axum::extract::Query<Vec<(String, String)>> = axum::extract::Query::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::bad_request(format!("Invalid query string: {e}")))?;
        Ok(Q(pairs.0.into_iter().collect()))
    }
}

impl Q {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// A filter value that is present and non-empty.
    pub fn filter(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// `?flag`, `?flag=1` and `?flag=true` are all "on"; absent, `0` and `false` are "off".
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some(v) if !matches!(v, "0" | "false"))
    }

    /// The `offset` parameter (default 0).
    pub fn offset(&self) -> ApiResult<usize> {
        match self.filter("offset") {
            None => Ok(0),
            Some(v) => v.parse().map_err(|_| ApiError::bad_request("offset must be a non-negative integer")),
        }
    }

    pub fn u64(&self, key: &str) -> ApiResult<Option<u64>> {
        self.filter(key)
            .map(|v| v.parse().map_err(|_| ApiError::bad_request(format!("{key} must be an integer"))))
            .transpose()
    }
}

/// Numeric path parameters, in route order. A non-numeric id cannot exist, so it is a 404.
pub struct Ids(pub Vec<u64>);

impl<S: Send + Sync> FromRequestParts<S> for Ids {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state).await.map_err(|_| ApiError::not_found("Resource"))?;
        raw.iter()
            .map(|(_, v)| v.parse::<u64>().map_err(|_| ApiError::not_found("Resource")))
            .collect::<Result<Vec<_>, _>>()
            .map(Ids)
    }
}

impl Ids {
    /// The first id; routes always declare at least one.
    pub fn first(&self) -> u64 {
        self.0.first().copied().unwrap_or(0)
    }
    pub fn second(&self) -> u64 {
        self.0.get(1).copied().unwrap_or(0)
    }
}

/// Typed, lenient access to the fields of a JSON object body.
pub struct Fields<'a>(pub &'a Map<String, Value>);

impl Fields<'_> {
    pub fn has(&self, key: &str) -> bool {
        self.0.get(key).is_some_and(|v| !v.is_null())
    }

    /// A string field; numbers are accepted and stringified.
    pub fn str(&self, key: &str) -> ApiResult<Option<String>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(ApiError::bad_request(format!("{key} must be a string"))),
        }
    }

    /// A string field that must be present and non-empty.
    pub fn req_str(&self, key: &str) -> ApiResult<String> {
        match self.str(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(ApiError::missing(key)),
        }
    }

    /// An integer field. Magnitudes beyond 10^12 are refused so that no later sum or product of
    /// amounts, weights and stock can overflow.
    pub fn i64(&self, key: &str) -> ApiResult<Option<i64>> {
        let value = self.raw_i64(key)?;
        if value.is_some_and(|v| v.unsigned_abs() > MAX_MAGNITUDE) {
            return Err(ApiError::bad_request(format!("{key} is out of range")));
        }
        Ok(value)
    }

    fn raw_i64(&self, key: &str) -> ApiResult<Option<i64>> {
        let bad = || ApiError::bad_request(format!("{key} must be an integer"));
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(bad),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
            Some(_) => Err(bad()),
        }
    }

    pub fn req_i64(&self, key: &str) -> ApiResult<i64> {
        self.i64(key)?.ok_or_else(|| ApiError::missing(key))
    }

    pub fn u64(&self, key: &str) -> ApiResult<Option<u64>> {
        match self.i64(key)? {
            None => Ok(None),
            Some(v) => {
                u64::try_from(v).map(Some).map_err(|_| ApiError::bad_request(format!("{key} must not be negative")))
            }
        }
    }

    pub fn req_u64(&self, key: &str) -> ApiResult<u64> {
        self.u64(key)?.ok_or_else(|| ApiError::missing(key))
    }

    /// A price in euros, returned in cents so arithmetic stays exact.
    pub fn cents(&self, key: &str) -> ApiResult<Option<i64>> {
        let bad = || ApiError::bad_request(format!("{key} must be a number"));
        let value = match self.0.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.as_f64().ok_or_else(bad)?,
            Some(Value::String(s)) => s.trim().replace(',', ".").parse().map_err(|_| bad())?,
            Some(_) => return Err(bad()),
        };
        if !value.is_finite() || value.abs() > 1e12 {
            return Err(bad());
        }
        Ok(Some((value * 100.0).round() as i64))
    }

    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        let bad = || ApiError::bad_request(format!("{key} must be a boolean"));
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => Ok(Some(n.as_f64().ok_or_else(bad)? != 0.0)),
            Some(Value::String(s)) => match s.as_str() {
                "1" | "true" => Ok(Some(true)),
                "0" | "false" | "" => Ok(Some(false)),
                _ => Err(bad()),
            },
            Some(_) => Err(bad()),
        }
    }

    /// An array of objects (e.g. order lines); anything else is a 400.
    pub fn objects(&self, key: &str) -> ApiResult<Option<Vec<&Map<String, Value>>>> {
        let bad = || ApiError::bad_request(format!("{key} must be an array of objects"));
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => {
                items.iter().map(|v| v.as_object().ok_or_else(bad)).collect::<Result<Vec<_>, _>>().map(Some)
            }
            Some(_) => Err(bad()),
        }
    }
}

/// Takes one page from an id-ordered iterator.
pub fn page<T>(iter: impl Iterator<Item = T>, offset: usize) -> Vec<T> {
    iter.skip(offset).take(PAGE).collect()
}

/// Case-insensitive substring test used by every `search` filter.
pub fn contains_ci(haystack: &str, needle_lower: &str) -> bool {
    haystack.to_lowercase().contains(needle_lower)
}
