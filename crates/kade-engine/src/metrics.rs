//! Counters for Prometheus, kept as plain atomics and rendered in the text exposition format.
//! (A metrics framework would add crates for what is, here, a handful of numbers.)

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Labelled counters. Names and labels are fixed strings chosen in code, never request data, so
/// cardinality stays bounded.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
}

impl Metrics {
    /// Adds one to `name{labels}`; `labels` is already formatted (`result="accepted"`).
    pub fn inc(&self, name: &'static str, labels: &str) {
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        *c.entry((name, labels.to_string())).or_default() += 1;
    }

    /// The current value of `name{labels}`.
    pub fn get(&self, name: &'static str, labels: &str) -> u64 {
        let c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        c.get(&(name, labels.to_string())).copied().unwrap_or_default()
    }

    /// Prometheus text format, with `extra` gauges appended.
    pub fn render(&self, extra: &[(&str, &str, i64)]) -> String {
        let c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let mut last = "";
        for ((name, labels), v) in c.iter() {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} counter");
                last = name;
            }
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {v}");
            } else {
                let _ = writeln!(out, "{name}{{{labels}}} {v}");
            }
        }
        for (name, labels, v) in extra {
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
        out
    }
}
