//! Finishing jobs exactly once: completion, processed marks and the effect entry commit together,
//! under the lease, and an event is never marked (or counted in an effect) twice.

use kade_store::{AuditEntry, EventScope, Finished, Ingested, JobOutcome, Store};
use serde_json::json;

use crate::inbox::event;
use crate::{each_backend, job};

const NOW: i64 = 1_000_000;

fn effect(action: &str) -> AuditEntry {
    AuditEntry { at_ms: NOW, connection: Some("shop".into()), entity: None, action: action.into(), detail: json!({}) }
}

/// Ingests one event for `entity` (a product refresh job keyed by it) and returns (event, job).
async fn ingest(s: &Store, key: &str, entity: &str) -> (i64, i64) {
    match s.ingest(&event("shop", key, Some(entity), NOW), &job("refresh", Some(entity), NOW)).await.unwrap() {
        Ingested::Accepted { event_id, job_id } => (event_id, job_id),
        other => panic!("{key} not accepted: {other:?}"),
    }
}

#[tokio::test]
async fn a_lost_lease_commits_nothing_and_the_new_owner_commits_once() {
    each_backend(async |s| {
        let (ev, id) = ingest(&s, "k1", "p/1").await;
        assert_eq!(s.claim("a", 1, 10, NOW).await.unwrap().len(), 1);
        // a stalls past its lease; b takes the job over.
        assert_eq!(s.claim("b", 1, 60_000, NOW + 100).await.unwrap()[0].id, id);
        let scope = EventScope::One(ev);
        assert_eq!(s.finish_job(id, "a", &scope, &effect("stale")).await.unwrap(), Finished::LeaseLost);
        assert_eq!(s.count_unprocessed_events().await.unwrap(), 1, "the lost lease marked nothing");
        assert!(s.audit_recent(10).await.unwrap().is_empty(), "the lost lease wrote no effect");
        assert_eq!(s.job(id).await.unwrap().unwrap().state, "running", "still b's");

        assert_eq!(s.finish_job(id, "b", &scope, &effect("fresh")).await.unwrap(), Finished::Done { events: vec![ev] });
        assert_eq!(s.count_unprocessed_events().await.unwrap(), 0);
        assert_eq!(s.job(id).await.unwrap().unwrap().state, "done");
        let audit = s.audit_recent(10).await.unwrap();
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "fresh");
        assert_eq!(audit[0].detail["processed_events"], json!([ev]), "the effect names its events");
        // Finishing again (a duplicate report) is a lost lease too: the job is no longer running.
        assert_eq!(s.finish_job(id, "b", &scope, &effect("again")).await.unwrap(), Finished::LeaseLost);
        assert_eq!(s.effects_per_event().await.unwrap(), [(ev, 1)].into());
    })
    .await;
}

#[tokio::test]
async fn processing_twice_marks_once() {
    each_backend(async |s| {
        // Two events coalesce into one queued job; it covers both.
        let (e1, id) = ingest(&s, "k1", "p/1").await;
        let (e2, same) = ingest(&s, "k2", "p/1").await;
        assert_eq!(id, same, "coalesced");
        assert_eq!(s.claim("w", 1, 60_000, NOW).await.unwrap().len(), 1);
        let scope = EventScope::EntityUpTo { entity_key: "p/1".into(), up_to: e2 };
        assert_eq!(
            s.finish_job(id, "w", &scope, &effect("once")).await.unwrap(),
            Finished::Done { events: vec![e1, e2] }
        );

        // The same work again (an operator replays the done job): it runs, but marks nothing new.
        assert!(s.replay_job(id, NOW).await.unwrap());
        assert_eq!(s.claim("w", 1, 60_000, NOW).await.unwrap().len(), 1);
        assert_eq!(s.finish_job(id, "w", &scope, &effect("twice")).await.unwrap(), Finished::Done { events: vec![] });

        assert_eq!(s.count_unprocessed_events().await.unwrap(), 0);
        assert_eq!(s.effects_per_event().await.unwrap(), [(e1, 1), (e2, 1)].into(), "no event counted twice");
    })
    .await;
}

#[tokio::test]
async fn scopes_cover_what_they_say_and_nothing_else() {
    each_backend(async |s| {
        // Job 1 runs; event 2 of the same entity gets its own queued job meanwhile.
        let (e1, j1) = ingest(&s, "k1", "p/1").await;
        assert_eq!(s.claim("w", 1, 60_000, NOW).await.unwrap()[0].id, j1);
        let (e2, j2) = ingest(&s, "k2", "p/1").await;
        let (other, _) = ingest(&s, "k3", "p/2").await;
        assert_ne!(j1, j2);

        // One event: only it, even though the entity has another unprocessed one.
        assert_eq!(
            s.finish_job(j1, "w", &EventScope::One(e1), &effect("one")).await.unwrap(),
            Finished::Done { events: vec![e1] }
        );
        assert_eq!(s.count_unprocessed_events().await.unwrap(), 2);

        // A superseded job leaves its event to the job that supersedes it.
        let (e4, j4) = ingest(&s, "k4", "p/1").await;
        assert_eq!(j4, j2, "coalesced into the queued job");
        assert_eq!(s.claim("w", 1, 60_000, NOW).await.unwrap()[0].id, j2);
        let (e5, j5) = ingest(&s, "k5", "p/1").await;
        assert!(
            matches!(s.retry_later(j2, "w", "boom", NOW).await.unwrap(), JobOutcome::Superseded { by } if by == j5)
        );
        assert!(s.claim("w", 5, 60_000, NOW).await.unwrap().iter().any(|j| j.id == j5));
        let scope = EventScope::EntityUpTo { entity_key: "p/1".into(), up_to: e5 };
        assert_eq!(
            s.finish_job(j5, "w", &scope, &effect("refresh")).await.unwrap(),
            Finished::Done { events: vec![e2, e4, e5] },
            "the refresh covers the superseded job's events, not another entity's"
        );
        assert_eq!(s.count_unprocessed_events().await.unwrap(), 1);
        assert_eq!(s.event(other).await.unwrap().unwrap().entity_key.as_deref(), Some("p/2"));

        // No events in scope: the entry is written with an empty list.
        let sched = s.enqueue(&kade_store::NewJob { priority: 5, ..job("sync", None, NOW) }).await.unwrap();
        assert_eq!(s.claim("w", 1, 60_000, NOW).await.unwrap()[0].id, sched);
        assert_eq!(
            s.finish_job(sched, "w", &EventScope::None, &effect("sync")).await.unwrap(),
            Finished::Done { events: vec![] }
        );
        let counts = s.effects_per_event().await.unwrap();
        assert_eq!(counts, [(e1, 1), (e2, 1), (e4, 1), (e5, 1)].into());
    })
    .await;
}

#[tokio::test]
async fn foreign_leases_expire_on_request_and_the_jobs_are_claimed_again() {
    each_backend(async |s| {
        let (_, id) = ingest(&s, "k1", "p/1").await;
        assert_eq!(s.claim("dead-process", 1, 60_000, NOW).await.unwrap().len(), 1);
        assert!(s.claim("me", 1, 60_000, NOW + 1).await.unwrap().is_empty(), "leased");
        assert_eq!(s.expire_foreign_leases("me", NOW + 1).await.unwrap(), 1);
        assert_eq!(s.expire_foreign_leases("me", NOW + 1).await.unwrap(), 0, "nothing left to release");
        let taken = s.claim("me", 1, 60_000, NOW + 1).await.unwrap();
        assert_eq!(taken[0].id, id);
        assert_eq!(taken[0].attempts, 2, "the crashed attempt counts");
        assert_eq!(s.expire_foreign_leases("me", NOW + 2).await.unwrap(), 0, "our own lease is kept");
    })
    .await;
}
