//! Jobs queued by the previous release (untyped payloads, written field by field) decode into
//! the typed jobs, and the typed jobs write the same kind, entity key and lane as it did.

use kade_store::Job;
use serde_json::{Value, json};

use super::{decode, encode};
use crate::automation::{AutomationJob, SendJob};
use crate::picqer::{ConnectionJob, PicqerEvent, PicqerJob};

fn stored(kind: &str, payload: Value) -> Job {
    Job {
        id: 7,
        kind: kind.into(),
        entity_key: None,
        payload,
        state: "queued".into(),
        attempts: 0,
        max_attempts: 12,
        run_at_ms: 0,
        last_error: None,
        locked_by: None,
        lease_until_ms: None,
        created_ms: 0,
        updated_ms: 0,
        priority: 0,
    }
}

#[test]
fn payloads_of_the_previous_release_decode() {
    // As `prepare_delivery` wrote them, with the `event_id` the store adds.
    let old = json!({"connection": "main", "event": "products.free_stock_changed", "idhook": 3,
        "triggered_at": "2026-11-20 10:00:00", "idproduct": 42, "event_id": 9});
    let PicqerJob::ProductRefresh(e) = decode(&stored("picqer.product_refresh", old)).unwrap() else { panic!() };
    assert_eq!((e.connection.as_str(), e.idproduct, e.idhook, e.event_id), ("main", Some(42), Some(3), Some(9)));
    let old = json!({"connection": "main", "event": "picklists.shipments.created", "idhook": 4,
        "triggered_at": "2026-11-20 10:00:00", "idshipment": 5, "for_idorder": 6});
    let PicqerJob::Event(e) = decode(&stored("picqer.event", old)).unwrap() else { panic!() };
    assert_eq!((e.resource(), e.order()), (Some(("shipment", 5)), Some(6)));
    // The scheduler's and the admin API's syncs.
    for (kind, payload) in [
        ("picqer.catalogue_full", json!({"connection": "main", "reason": "first sync"})),
        ("picqer.catalogue_incremental", json!({"connection": "main", "scheduled_ms": 1_700_000_000_000i64})),
        ("picqer.hook_supervise", json!({"connection": "main"})),
    ] {
        let job: PicqerJob = decode(&stored(kind, payload)).unwrap();
        assert_eq!((job.kind(), job.connection()), (kind, "main"));
    }
    let old = json!({"connection": "main", "rule": "shipped", "key": "k1", "kind": "order", "id": 12,
        "event": "orders.completed", "source_event_id": null});
    let AutomationJob::Send(s) = decode(&stored("automation.send", old)).unwrap();
    assert_eq!((s.key.as_str(), s.id, s.occasion), ("k1", 12, None));
}

#[test]
fn typed_jobs_keep_the_stored_kind_entity_and_lane() {
    let event = PicqerEvent {
        connection: "main".into(),
        event: "products.stock_changed".into(),
        idproduct: Some(42),
        ..Default::default()
    };
    let row = encode(&PicqerJob::ProductRefresh(event), 5, 12).unwrap();
    assert_eq!(
        (row.kind.as_str(), row.entity_key.as_deref(), row.priority),
        ("picqer.product_refresh", Some("main/product/42"), 10)
    );
    assert_eq!((row.run_at_ms, row.max_attempts, row.payload["idproduct"].clone()), (5, 12, json!(42)));
    assert!(row.payload.get("event_id").is_none(), "the store owns event_id");
    let row = encode(&PicqerJob::CatalogueFull(ConnectionJob::new("main", None)), 0, 1).unwrap();
    assert_eq!((row.entity_key.as_deref(), row.priority), (Some("main/picqer.catalogue_full"), 0));
    let send = SendJob {
        connection: "main".into(),
        rule: "r".into(),
        key: "k1".into(),
        kind: "order".into(),
        id: 1,
        event: String::new(),
        source_event_id: None,
        occasion: None,
    };
    let row = encode(&AutomationJob::Send(send.clone()), 0, 1).unwrap();
    assert_eq!(
        (row.dedupe_key.as_deref(), row.entity_key.as_deref(), row.priority),
        (Some("automation:k1"), Some("automation/k1"), 5)
    );
    let later = AutomationJob::Send(SendJob { occasion: Some("k1@99".into()), ..send });
    assert_eq!(encode(&later, 0, 1).unwrap().dedupe_key.as_deref(), Some("automation:k1@99"));
}

#[test]
fn a_payload_that_does_not_fit_is_a_permanent_error_naming_the_job() {
    let err = decode::<PicqerJob>(&stored("picqer.product_refresh", json!({"idproduct": "x"}))).unwrap_err();
    assert!(err.to_string().contains("job 7 (picqer.product_refresh)"), "{err}");
    let job_err = crate::JobError::from(err);
    assert!(matches!(job_err, crate::JobError::Permanent(_)));
    assert!(decode::<PicqerJob>(&stored("shopify.order", json!({}))).is_err());
}
