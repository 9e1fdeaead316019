//! CPU time of this process's threads, read from `/proc` (Linux only; elsewhere nothing is
//! reported).
//!
//! Why: on two shared cores a throughput figure alone does not say whether the ingress waited
//! (idle cores: a latency or locking problem) or ran out of CPU (then only less work per webhook
//! helps), nor which thread spent it. Grouping by thread name separates the Tokio workers (HTTP,
//! verification, the load generator), the SQLite ingest writer, and sqlx's SQLite threads.

use std::collections::BTreeMap;
use std::time::Duration;

/// Clock ticks per second of `/proc/*/stat` times; 100 on every Linux Kade targets.
const TICKS_PER_SEC: u64 = 100;

/// CPU time per thread name at one moment.
#[derive(Clone, Debug, Default)]
pub struct Sample(BTreeMap<u64, (String, u64)>);

/// Reads every thread's name and CPU ticks (user + system).
pub fn sample() -> Sample {
    let mut threads = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return Sample(threads) };
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse::<u64>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        if let Some(parsed) = parse_stat(&stat) {
            threads.insert(tid, parsed);
        }
    }
    Sample(threads)
}

/// `(name, utime + stime)` from one `stat` line. The name sits in parentheses and may itself
/// contain spaces or parentheses, so the fields are counted from the last `)`.
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_string();
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // After the name: state is field 3 of the line, utime 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// CPU spent between two samples, per thread name (threads that started in between count
/// from zero), largest first.
pub fn spent(before: &Sample, after: &Sample) -> Vec<(String, Duration)> {
    let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
    for (tid, (name, ticks)) in &after.0 {
        let start = before.0.get(tid).map_or(0, |(_, t)| *t);
        *by_name.entry(name.clone()).or_default() += ticks.saturating_sub(start);
    }
    let mut out: Vec<(String, Duration)> = by_name
        .into_iter()
        .filter(|(_, t)| *t > 0)
        .map(|(n, t)| (n, Duration::from_millis(t * 1000 / TICKS_PER_SEC)))
        .collect();
    out.sort_by_key(|(_, d)| std::cmp::Reverse(*d));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_spaces_and_parentheses_are_read_from_the_last_parenthesis() {
        let line = "4242 (odd (name) x) S 1 2 3 4 5 6 7 8 9 10 250 17 0 0 20 0 1 0";
        assert_eq!(parse_stat(line), Some(("odd (name) x".to_string(), 267)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn spending_is_grouped_by_name_and_new_threads_count_from_zero() {
        let before = Sample(BTreeMap::from([(1, ("w".into(), 10)), (2, ("w".into(), 5))]));
        let after = Sample(BTreeMap::from([(1, ("w".into(), 30)), (2, ("w".into(), 5)), (3, ("db".into(), 50))]));
        assert_eq!(
            spent(&before, &after),
            vec![("db".to_string(), Duration::from_millis(500)), ("w".to_string(), Duration::from_millis(200))]
        );
    }
}
