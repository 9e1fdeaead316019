//! Recurring work: the hook supervisor, incremental catalogue syncs.
//!
//! Fire times are aligned to the schedule's period (every 5 minutes means :00, :05, ...), and a
//! fire is claimed in the store before its job is queued, so several Kade processes sharing one
//! PostgreSQL queue each round's job exactly once.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::watch;

pub use crate::connector::Schedule;
use crate::now_ms;
use crate::picqer::{ConnectionJob, PicqerJob};
use crate::worker::Engine;

/// The standard schedules for a Picqer connection: the hook supervisor every 5 minutes, the
/// incremental catalogue sync, and a nightly full sync as reconciliation (it also catches changes
/// that do not move a product's `updated`, such as stock, when a webhook was lost).
pub fn picqer_schedules(connection: &str, incremental_every: Duration) -> Vec<Schedule> {
    let job = |kind: fn(ConnectionJob) -> PicqerJob| kind(ConnectionJob::new(connection, Some("scheduled")));
    let each = [
        (PicqerJob::HookSupervise as fn(ConnectionJob) -> PicqerJob, Duration::from_secs(300)),
        (PicqerJob::CatalogueIncremental, incremental_every),
        (PicqerJob::CatalogueFull, Duration::from_secs(24 * 3600)),
    ];
    each.into_iter()
        .filter_map(|(kind, every)| {
            let job = job(kind);
            // The names the store has always known these fires by.
            Schedule::new(format!("{connection}/{}", job.kind()), every, &job).ok()
        })
        .collect()
}

/// Queues the job of every schedule whose fire time has come, once per fire time across all
/// processes. Returns how many jobs were queued.
pub async fn tick(engine: &Engine, schedules: &[Schedule], last: &mut BTreeMap<String, i64>) -> usize {
    let now = now_ms();
    let mut queued = 0;
    let connectors = engine.connectors().iter().flat_map(|c| c.schedules()).collect::<Vec<_>>();
    for s in schedules.iter().chain(&connectors) {
        let name = s.name.clone();
        let fire = s.fire_at_or_before(now);
        if last.get(&name).is_some_and(|l| *l >= fire) {
            continue;
        }
        match engine.store().claim_tick(&name, fire).await {
            Ok(true) => {
                let mut job = s.job.clone();
                job.run_at_ms = engine.now_ms();
                if let Some(payload) = job.payload.as_object_mut() {
                    payload.insert("scheduled_ms".into(), fire.into());
                }
                job.max_attempts = engine.config().max_attempts;
                match engine.store().enqueue(&job).await {
                    Ok(_) => {
                        queued += 1;
                        engine.notify();
                    }
                    Err(e) => tracing::warn!(schedule = %name, error = %e, "could not queue a scheduled job"),
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
        let s = picqer_schedules("main", Duration::from_secs(900)).remove(0);
        assert_eq!(s.name, "main/picqer.hook_supervise");
        assert_eq!(s.fire_at_or_before(1_000_000_123), 1_000_000_123 - 1_000_000_123 % 300_000);
        assert_eq!(s.fire_at_or_before(600_000), 600_000);
    }
}
