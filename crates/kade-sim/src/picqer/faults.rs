//! Per-route fault injection for the `/api/v1` surface.
//!
//! Faults exist to exercise the failure paths a real Picqer account produces rarely and at the
//! worst moment: slow answers, 5xx, surprise 429s, and — the nastiest one — a request that was
//! committed but whose answer never arrived, which is what makes "look up before re-creating"
//! (DESIGN principle 4) necessary.

use serde::{Deserialize, Serialize};

use super::errors::{ApiError, ApiResult};

/// A fault rule as posted to `POST /_sim/faults`.
#[derive(Clone, Debug, Deserialize)]
pub struct FaultSpec {
    /// Only this method (case-insensitive); any method when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Prefix of the request path, e.g. `/api/v1/products`.
    pub path: String,
    /// Delay before answering, in real milliseconds.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// Answer this status with Picqer's envelope instead of running the handler.
    #[serde(default)]
    pub status: Option<u16>,
    /// Run the handler (commit the change), then kill the connection without an answer.
    #[serde(default)]
    pub drop_after_commit: bool,
    /// How many matching requests to affect; 0 = until cleared. Default 1.
    #[serde(default)]
    pub times: Option<u32>,
}

/// An active rule, as listed by `GET /_sim/faults`.
#[derive(Clone, Debug, Serialize)]
pub struct Fault {
    pub idfault: u64,
    pub method: Option<String>,
    pub path: String,
    pub latency_ms: Option<u64>,
    pub status: Option<u16>,
    pub drop_after_commit: bool,
    /// Requests still to affect; `None` = until cleared.
    pub remaining: Option<u32>,
    /// Requests affected so far.
    pub hits: u64,
}

/// What the gate must do for one request.
#[derive(Clone, Debug, Default)]
pub struct FaultAction {
    pub latency_ms: Option<u64>,
    pub status: Option<u16>,
    pub drop_after_commit: bool,
}

#[derive(Default)]
pub struct Faults {
    next_id: u64,
    rules: Vec<Fault>,
}

impl Faults {
    pub fn add(&mut self, spec: FaultSpec) -> ApiResult<Fault> {
        if !spec.path.starts_with('/') {
            return Err(ApiError::bad_request("path must start with '/'"));
        }
        if let Some(status) = spec.status
            && !(400..=599).contains(&status)
        {
            return Err(ApiError::bad_request("status must be a 4xx or 5xx code"));
        }
        if spec.status.is_some() && spec.drop_after_commit {
            return Err(ApiError::bad_request(
                "status and drop_after_commit exclude each other (status skips the handler)",
            ));
        }
        self.next_id += 1;
        let times = spec.times.unwrap_or(1);
        let fault = Fault {
            idfault: self.next_id,
            method: spec.method.map(|m| m.to_ascii_uppercase()),
            path: spec.path,
            latency_ms: spec.latency_ms,
            status: spec.status,
            drop_after_commit: spec.drop_after_commit,
            remaining: (times > 0).then_some(times),
            hits: 0,
        };
        self.rules.push(fault.clone());
        Ok(fault)
    }

    pub fn list(&self) -> Vec<Fault> {
        self.rules.clone()
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Finds the first rule matching the request and consumes one use of it.
    pub fn take(&mut self, method: &str, path: &str) -> Option<FaultAction> {
        let idx = self
            .rules
            .iter()
            .position(|f| f.method.as_deref().is_none_or(|m| m == method) && path.starts_with(&f.path))?;
        let rule = &mut self.rules[idx];
        rule.hits += 1;
        let action =
            FaultAction { latency_ms: rule.latency_ms, status: rule.status, drop_after_commit: rule.drop_after_commit };
        if let Some(left) = rule.remaining.as_mut() {
            *left -= 1;
            if *left == 0 {
                self.rules.remove(idx);
            }
        }
        Some(action)
    }
}
