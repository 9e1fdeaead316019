//! Recurring work: the hook supervisor, incremental catalogue syncs.
//!
//! Fire times are aligned to the schedule's period (every 5 minutes means :00, :05, ...), and a
//! fire is claimed in the store before its job is queued, so several Kade processes sharing one
//! PostgreSQL queue each round's job exactly once.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::watch;

use crate::jobs::JobKind;
use crate::now_ms;
use crate::worker::Engine;

/// One recurring job for one connection.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub connection: String,
    pub kind: JobKind,
    pub every: Duration,
}

impl Schedule {
    fn name(&self) -> String {
        format!("{}/{}", self.connection, self.kind.as_str())
    }

    /// The latest fire time at or before `now_ms`.
    pub fn fire_at_or_before(&self, now_ms: i64) -> i64 {
        let period = (self.every.as_millis() as i64).max(1000);
        now_ms - now_ms.rem_euclid(period)
    }
}

/// The standard schedules for a Picqer connection: the hook supervisor every 5 minutes, the
/// incremental catalogue sync, and a nightly full sync as reconciliation (it also catches changes
/// that do not move a product's `updated`, such as stock, when a webhook was lost).
pub fn picqer_schedules(connection: &str, incremental_every: Duration) -> Vec<Schedule> {
    vec![
        Schedule { connection: connection.into(), kind: JobKind::HookSupervise, every: Duration::from_secs(300) },
        Schedule { connection: connection.into(), kind: JobKind::CatalogueIncremental, every: incremental_every },
        Schedule { connection: connection.into(), kind: JobKind::CatalogueFull, every: Duration::from_secs(24 * 3600) },
    ]
}

/// Queues the job of every schedule whose fire time has come, once per fire time across all
/// processes. Returns how many jobs were queued.
pub async fn tick(engine: &Engine, schedules: &[Schedule], last: &mut BTreeMap<String, i64>) -> usize {
    let now = now_ms();
    let mut queued = 0;
    for s in schedules {
        let name = s.name();
        let fire = s.fire_at_or_before(now);
        if last.get(&name).is_some_and(|l| *l >= fire) {
            continue;
        }
        match engine.store().claim_tick(&name, fire).await {
            Ok(true) => {
                if let Some(conn) = engine.picqer(&s.connection) {
                    match conn.enqueue(engine, s.kind, serde_json::json!({"scheduled_ms": fire})).await {
                        Ok(_) => queued += 1,
                        Err(e) => tracing::warn!(schedule = %name, error = %e, "could not queue a scheduled job"),
                    }
                }
                last.insert(name, fire);
            }
            Ok(false) => {
                last.insert(name, fire);
            }
            Err(e) => tracing::warn!(schedule = %name, error = %e, "could not claim a schedule tick"),
        }
    }
    queued
}

/// Runs the scheduler until shutdown.
pub async fn run(engine: Engine, schedules: Vec<Schedule>, mut shutdown: watch::Receiver<bool>) {
    let mut last = BTreeMap::new();
    loop {
        tick(&engine, &schedules, &mut last).await;
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fire_times_align_to_the_period() {
        let s = Schedule { connection: "main".into(), kind: JobKind::HookSupervise, every: Duration::from_secs(300) };
        assert_eq!(s.fire_at_or_before(1_000_000_123), 1_000_000_123 - 1_000_000_123 % 300_000);
        assert_eq!(s.fire_at_or_before(600_000), 600_000);
    }
}
