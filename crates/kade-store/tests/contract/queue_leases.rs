//! Queue: leases and crash recovery, retries, dead letters and replay.

use kade_store::JobOutcome;

use crate::{each_backend, job};

#[tokio::test]
async fn an_expired_lease_makes_the_job_claimable_and_the_old_worker_loses_it() {
    each_backend(async |s| {
        let id = s.enqueue(&job("push_order", Some("order:1"), 0)).await.unwrap();
        assert_eq!(s.claim("old", 1, 1_000, 0).await.unwrap()[0].id, id);
        assert!(s.extend_lease(id, "old", 2_000).await.unwrap(), "heartbeat while alive");
        assert!(!s.extend_lease(id, "someone-else", 9_000).await.unwrap());
        assert!(s.claim("new", 1, 1_000, 1_999).await.unwrap().is_empty(), "lease still live");

        // "old" crashed: after the lease runs out, the job is handed to "new".
        let again = s.claim("new", 1, 1_000, 2_000).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].id, again[0].attempts, again[0].locked_by.as_deref()), (id, 2, Some("new")));

        assert!(!s.complete(id, "old").await.unwrap(), "the old worker must learn it lost the job");
        assert!(!s.extend_lease(id, "old", 10_000).await.unwrap());
        assert_eq!(s.retry_later(id, "old", "late", 5_000).await.unwrap(), JobOutcome::LeaseLost);
        assert!(!s.fail_permanently(id, "old", "late").await.unwrap());
        assert!(s.complete(id, "new").await.unwrap());
        assert!(!s.complete(id, "new").await.unwrap(), "completing twice is refused");
        let done = s.job(id).await.unwrap().unwrap();
        assert_eq!((done.state.as_str(), done.lease_until_ms), ("done", None));
    })
    .await;
}

#[tokio::test]
async fn retries_back_off_then_end_dead_after_max_attempts() {
    each_backend(async |s| {
        let id = s.enqueue(&job("push_order", Some("order:9"), 0)).await.unwrap();
        let mut now = 0;
        for attempt in 1..=3 {
            let got = s.claim("w", 1, 1_000, now).await.unwrap();
            assert_eq!((got.len(), got[0].attempts), (1, attempt));
            let retry_at = now + 100 * i64::from(attempt);
            let outcome = s.retry_later(id, "w", &format!("boom {attempt}"), retry_at).await.unwrap();
            if attempt < 3 {
                assert_eq!(outcome, JobOutcome::Rescheduled { run_at_ms: retry_at });
                let j = s.job(id).await.unwrap().unwrap();
                assert_eq!((j.state.as_str(), j.run_at_ms), ("queued", retry_at));
                assert_eq!(j.last_error.as_deref(), Some(format!("boom {attempt}").as_str()));
                assert!(s.claim("w", 1, 1_000, retry_at - 1).await.unwrap().is_empty(), "not before the backoff");
                now = retry_at;
            } else {
                assert_eq!(outcome, JobOutcome::Dead);
            }
        }
        let dead = s.jobs(Some("dead"), 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].last_error.as_deref(), Some("boom 3"));
        assert!(s.claim("w", 1, 1_000, i64::MAX / 2).await.unwrap().is_empty(), "dead jobs are never claimed");
    })
    .await;
}

#[tokio::test]
async fn a_retry_defers_to_newer_queued_work_for_the_same_entity() {
    each_backend(async |s| {
        let old = s.enqueue(&job("stock_sync", Some("p:5"), 0)).await.unwrap();
        s.claim("w", 1, 10_000, 0).await.unwrap();
        let newer = s.enqueue(&job("stock_sync", Some("p:5"), 10)).await.unwrap();
        let outcome = s.retry_later(old, "w", "shop down", 5_000).await.unwrap();
        assert_eq!(outcome, JobOutcome::Superseded { by: newer });
        let old_job = s.job(old).await.unwrap().unwrap();
        assert_eq!(old_job.state, "done");
        assert!(old_job.last_error.unwrap().contains("shop down"));
        assert_eq!(s.job(newer).await.unwrap().unwrap().run_at_ms, 5_000, "the backoff still applies");
    })
    .await;
}

#[tokio::test]
async fn a_job_whose_last_lease_expires_goes_dead_instead_of_looping() {
    each_backend(async |s| {
        let mut j = job("poison", Some("p:666"), 0);
        j.max_attempts = 2;
        let id = s.enqueue(&j).await.unwrap();
        assert_eq!(s.claim("w", 1, 100, 0).await.unwrap().len(), 1);
        assert_eq!(s.claim("w", 1, 100, 100).await.unwrap().len(), 1, "second attempt after a crash");
        assert!(s.claim("w", 1, 100, 200).await.unwrap().is_empty(), "no third attempt");
        let dead = s.job(id).await.unwrap().unwrap();
        assert_eq!(dead.state, "dead");
        assert!(dead.last_error.unwrap().contains("lease expired"));
    })
    .await;
}

#[tokio::test]
async fn permanent_failures_are_dead_letters_that_can_be_replayed() {
    each_backend(async |s| {
        let id = s.enqueue(&job("push_invoice", Some("inv:1"), 0)).await.unwrap();
        s.claim("w", 1, 1_000, 0).await.unwrap();
        assert!(!s.replay_job(id, 10).await.unwrap(), "running jobs are not replayed");
        assert!(s.fail_permanently(id, "w", "422 invalid VAT number").await.unwrap());
        let dead = s.job(id).await.unwrap().unwrap();
        assert_eq!((dead.state.as_str(), dead.last_error.as_deref()), ("dead", Some("422 invalid VAT number")));

        assert!(s.replay_job(id, 500).await.unwrap());
        let again = s.job(id).await.unwrap().unwrap();
        assert_eq!((again.state.as_str(), again.attempts, again.run_at_ms), ("queued", 0, 500));
        assert!(!s.replay_job(id, 500).await.unwrap(), "already queued");
        let got = s.claim("w", 1, 1_000, 500).await.unwrap();
        assert_eq!((got[0].id, got[0].attempts), (id, 1));
        assert!(s.complete(id, "w").await.unwrap());
        assert!(s.replay_job(id, 600).await.unwrap(), "done jobs can be re-run too");
        assert!(!s.replay_job(424_242, 600).await.unwrap(), "unknown id");
    })
    .await;
}

#[tokio::test]
async fn replaying_into_an_entity_with_queued_work_folds_into_it() {
    each_backend(async |s| {
        let dead = s.enqueue(&job("stock_sync", Some("p:3"), 0)).await.unwrap();
        s.claim("w", 1, 1_000, 0).await.unwrap();
        assert!(s.fail_permanently(dead, "w", "bad").await.unwrap());
        let queued = s.enqueue(&job("stock_sync", Some("p:3"), 9_000)).await.unwrap();
        assert!(s.replay_job(dead, 100).await.unwrap());
        assert_eq!(s.job(queued).await.unwrap().unwrap().run_at_ms, 100, "made due now");
        let folded = s.job(dead).await.unwrap().unwrap();
        assert_eq!(folded.state, "done");
        assert_eq!(s.jobs(Some("queued"), 10).await.unwrap().len(), 1, "still one queued job for the entity");
    })
    .await;
}
