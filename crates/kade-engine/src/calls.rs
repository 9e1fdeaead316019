//! Partner calls on audit entries (principle 9): every job runs inside
//! [`kade_calls::recorded`], and the calls it made are listed on the entry that records its
//! outcome, in one shape for every partner:
//! `"calls": [{"system","method","path","status","ms"}], "calls_total", "calls_ms"`.
//!
//! A successful job's calls ride on its effect entry, which the worker commits with the job
//! anyway: no extra database write per call, not even on the stock path. A failed attempt's
//! calls go on its failure entry: that is where an operator looks for the 401 or the timeout.

pub use kade_calls::{Call, note, recorded};
use serde_json::{Map, Value, json};

/// Calls listed one by one on an entry; a full sync may make thousands, and the totals still
/// count them all.
const LISTED: usize = 50;

/// The `calls`, `calls_total` and `calls_ms` fields for `calls`.
pub fn summary(calls: &[Call]) -> Map<String, Value> {
    let listed: Vec<Value> = calls
        .iter()
        .take(LISTED)
        .map(|c| json!({"system": c.system, "method": c.method, "path": c.path, "status": c.status, "ms": c.ms}))
        .collect();
    let mut m = Map::new();
    m.insert("calls".into(), listed.into());
    m.insert("calls_total".into(), calls.len().into());
    m.insert("calls_ms".into(), calls.iter().map(|c| c.ms).sum::<u64>().into());
    m
}

/// Adds the calls to an entry's `detail`; a detail that is not an object is kept under
/// `result`. No calls, no change.
pub fn add_to(detail: &mut Value, calls: &[Call]) {
    if calls.is_empty() {
        return;
    }
    match detail.as_object_mut() {
        Some(d) => d.extend(summary(calls)),
        None => {
            let mut d = summary(calls);
            d.insert("result".into(), detail.take());
            *detail = d.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(i: u64) -> Call {
        Call {
            system: "picqer",
            method: "GET".into(),
            path: format!("/products/{i}"),
            status: Some(200),
            ms: i,
            at_ms: 0,
        }
    }

    #[test]
    fn calls_join_an_object_detail_wrap_any_other_and_list_at_most_fifty() {
        let mut detail = json!({"written": true});
        add_to(&mut detail, &[call(1)]);
        assert_eq!(detail["written"], true);
        assert_eq!(detail["calls"][0]["path"], "/products/1");
        let mut detail = json!("plain");
        let many: Vec<Call> = (0..60).map(call).collect();
        add_to(&mut detail, &many);
        assert_eq!((detail["result"].clone(), detail["calls_total"].clone()), (json!("plain"), json!(60)));
        assert_eq!(detail["calls"].as_array().unwrap().len(), LISTED);
        assert_eq!(detail["calls_ms"], (0..60).sum::<u64>());
        let mut untouched = json!({"a": 1});
        add_to(&mut untouched, &[]);
        assert_eq!(untouched, json!({"a": 1}));
    }
}
