//! Inbox: ingest is atomic with its job, duplicates write nothing.

use kade_store::{InboundEvent, Ingested};
use serde_json::json;

use crate::{each_backend, job};

pub fn event(connection: &str, dedupe_key: &str, entity: Option<&str>, received_ms: i64) -> InboundEvent {
    InboundEvent {
        connection: connection.into(),
        source: "webhook".into(),
        dedupe_key: dedupe_key.into(),
        event: "products.free_stock_changed".into(),
        entity_key: entity.map(Into::into),
        headers: json!({ "x-picqer-signature": "abc" }),
        body: b"{\"event\":\"products.free_stock_changed\",\"data\":{\"idproduct\":1}}\x00\xff".to_vec(),
        verified: true,
        received_ms,
    }
}

#[tokio::test]
async fn ingest_accepts_then_rejects_the_duplicate_without_enqueueing() {
    each_backend(async |s| {
        let ev = event("shop", "hook1:evt:1", Some("picqer:product:1"), 1_000);
        let first = s.ingest(&ev, &job("product_changed", Some("picqer:product:1"), 1_000)).await.unwrap();
        let Ingested::Accepted { event_id, job_id } = first else {
            panic!("first delivery must be accepted: {first:?}")
        };

        let stored = s.event(event_id).await.unwrap().expect("event stored");
        assert_eq!(stored.body, ev.body, "raw bytes kept exactly");
        assert_eq!(stored.headers, ev.headers);
        assert_eq!(stored.job_id, Some(job_id));
        assert!(stored.verified);
        let queued = s.job(job_id).await.unwrap().expect("job stored in the same transaction");
        assert_eq!(queued.state, "queued");
        assert_eq!(queued.payload["event_id"], json!(event_id), "the job points at its event");
        assert_eq!(queued.payload["kind"], json!("product_changed"), "the caller's payload is kept");

        let again = s.ingest(&ev, &job("product_changed", Some("other"), 1_000)).await.unwrap();
        assert_eq!(again, Ingested::Duplicate { event_id });
        assert_eq!(s.count_events().await.unwrap(), 1);
        assert_eq!(s.jobs(None, 100).await.unwrap().len(), 1, "nothing enqueued for the duplicate");
    })
    .await;
}

#[tokio::test]
async fn events_list_newest_first_and_filter_by_connection() {
    each_backend(async |s| {
        for i in 0..5 {
            let conn = if i % 2 == 0 { "a" } else { "b" };
            s.ingest(&event(conn, &format!("k{i}"), None, i), &job("e", None, i)).await.unwrap();
        }
        assert_eq!(s.count_events().await.unwrap(), 5);
        let all = s.events(None, 10).await.unwrap();
        let keys: Vec<_> = all.iter().map(|e| e.dedupe_key.as_str()).collect();
        assert_eq!(keys, ["k4", "k3", "k2", "k1", "k0"]);
        let a = s.events(Some("a"), 2).await.unwrap();
        let keys: Vec<_> = a.iter().map(|e| e.dedupe_key.as_str()).collect();
        assert_eq!(keys, ["k4", "k2"]);
        assert!(s.event(9_999).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn a_burst_of_events_for_one_entity_becomes_one_job_pointing_at_the_newest() {
    each_backend(async |s| {
        let mut last_event = 0;
        let mut jobs = std::collections::BTreeSet::new();
        for i in 0..20 {
            let ev = event("shop", &format!("burst{i}"), Some("picqer:product:7"), i);
            match s.ingest(&ev, &job("product_changed", Some("picqer:product:7"), 100 + i)).await.unwrap() {
                Ingested::Accepted { event_id, job_id } => {
                    last_event = event_id;
                    jobs.insert(job_id);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(jobs.len(), 1, "twenty events, one job");
        let j = s.job(*jobs.first().unwrap()).await.unwrap().unwrap();
        assert_eq!(j.payload["event_id"], serde_json::json!(last_event));
        assert_eq!(j.run_at_ms, 100, "earliest run_at kept");
        assert_eq!(s.count_events().await.unwrap(), 20, "every event is kept in the inbox");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_of_one_event_are_accepted_once() {
    each_backend(async |s| {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.ingest(&event("shop", "same-delivery", None, 1), &job("e", None, 1)).await.unwrap()
            }));
        }
        let mut accepted = 0;
        for t in tasks {
            if matches!(t.await.unwrap(), Ingested::Accepted { .. }) {
                accepted += 1;
            }
        }
        assert_eq!(accepted, 1);
        assert_eq!(s.count_events().await.unwrap(), 1);
        assert_eq!(s.jobs(None, 10).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn ingest_many_commits_a_batch_with_duplicates_resolved_in_order() {
    each_backend(async |s| {
        s.ingest(&event("shop", "seen-before", None, 0), &job("e", None, 0)).await.unwrap();
        let items = vec![
            (event("shop", "b1", Some("p:1"), 1), job("product_changed", Some("p:1"), 1)),
            (event("shop", "seen-before", None, 2), job("e", None, 2)),
            (event("shop", "b2", Some("p:1"), 3), job("product_changed", Some("p:1"), 3)),
            (event("shop", "b1", Some("p:1"), 4), job("product_changed", Some("p:1"), 4)),
        ];
        let out = s.ingest_many(&items).await.unwrap();
        let [
            Ingested::Accepted { event_id: b1, job_id: j1 },
            Ingested::Duplicate { .. },
            Ingested::Accepted { job_id: j2, .. },
            dup,
        ] = out[..]
        else {
            panic!("{out:?}")
        };
        assert_eq!(j1, j2, "coalesced within the batch");
        assert_eq!(dup, Ingested::Duplicate { event_id: b1 }, "repeat inside the batch");
        assert_eq!(s.count_events().await.unwrap(), 3);
        assert!(s.ingest_many(&[]).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_job_reads_the_unprocessed_events_it_will_account_for() {
    use kade_store::{AuditEntry, EventScope};
    each_backend(async |s| {
        let entity = "shop/product/7";
        let mut ids = Vec::new();
        for i in 0..4 {
            let ev = event("shop", &format!("e{i}"), Some(entity), i);
            match s.ingest(&ev, &job("picqer.product_refresh", Some(entity), 0)).await.unwrap() {
                Ingested::Accepted { event_id, .. } => ids.push(event_id),
                other => panic!("{other:?}"),
            }
        }
        s.ingest(&event("shop", "other", Some("shop/product/8"), 9), &job("x", Some("shop/product/8"), 0))
            .await
            .unwrap();
        let read = |v: Vec<kade_store::StoredEvent>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(read(s.unprocessed_events(entity, ids[2], 100).await.unwrap()), ids[..3], "up to, oldest first");
        assert_eq!(read(s.unprocessed_events(entity, ids[3], 2).await.unwrap()), ids[..2], "limited");
        // Once a job has accounted for them, they are no longer read.
        let claimed = s.claim("w", 10, 60_000, 1).await.unwrap();
        let j = claimed.iter().find(|j| j.entity_key.as_deref() == Some(entity)).unwrap();
        let scope = EventScope::EntityUpTo { entity_key: entity.into(), up_to: ids[1] };
        let effect = AuditEntry { at_ms: 1, connection: None, entity: None, action: "x".into(), detail: json!({}) };
        s.finish_job(j.id, "w", &scope, &effect).await.unwrap();
        // (All four were coalesced into that one job, so all four are accounted for.)
        assert_eq!(read(s.unprocessed_events(entity, ids[3], 100).await.unwrap()), Vec::<i64>::new());
    })
    .await;
}
