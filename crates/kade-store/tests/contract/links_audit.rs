//! Link table and audit log.

use kade_store::{AuditEntry, Link};
use serde_json::json;

use crate::each_backend;

fn link(a_id: &str, b_kind: &str, b_id: &str, state: &str) -> Link {
    Link {
        a_system: "prestashop".into(),
        a_kind: "order".into(),
        a_id: a_id.into(),
        b_system: "picqer".into(),
        b_kind: b_kind.into(),
        b_id: b_id.into(),
        state: state.into(),
        updated_ms: 1,
    }
}

#[tokio::test]
async fn links_upsert_and_resolve_both_ways() {
    each_backend(async |s| {
        s.link(&link("73", "order", "12345", "created")).await.unwrap();
        s.link(&link("73", "customer", "9", "matched")).await.unwrap();
        s.link(&link("74", "order", "12346", "created")).await.unwrap();
        s.link(&link("73", "order", "12345", "synced")).await.unwrap();

        let found = s.linked("prestashop", "order", "73", "picqer").await.unwrap();
        assert_eq!(found, [link("73", "customer", "9", "matched"), link("73", "order", "12345", "synced")]);
        assert!(s.linked("prestashop", "order", "73", "exact").await.unwrap().is_empty());
        assert!(s.linked("prestashop", "order", "75", "picqer").await.unwrap().is_empty());

        let back = s.links_to("picqer", "order", "12346", "prestashop").await.unwrap();
        assert_eq!(back, [link("74", "order", "12346", "created")]);
    })
    .await;
}

#[tokio::test]
async fn audit_is_append_only_and_queryable_by_entity() {
    each_backend(async |s| {
        let entry = |at_ms, entity: Option<&str>, action: &str| AuditEntry {
            at_ms,
            connection: Some("shop".into()),
            entity: entity.map(Into::into),
            action: action.into(),
            detail: json!({ "at": at_ms }),
        };
        s.audit(&entry(1, Some("picqer:product:1"), "event.received")).await.unwrap();
        s.audit(&entry(2, Some("picqer:product:2"), "event.received")).await.unwrap();
        s.audit(&entry(3, Some("picqer:product:1"), "stock.written")).await.unwrap();
        s.audit(&AuditEntry { connection: None, ..entry(4, None, "startup") }).await.unwrap();

        let trail = s.audit_for("picqer:product:1", 10).await.unwrap();
        assert_eq!(
            trail,
            [entry(3, Some("picqer:product:1"), "stock.written"), entry(1, Some("picqer:product:1"), "event.received")]
        );
        assert_eq!(s.audit_for("picqer:product:1", 1).await.unwrap().len(), 1);
        let recent = s.audit_recent(3).await.unwrap();
        assert_eq!(recent.iter().map(|e| e.at_ms).collect::<Vec<_>>(), [4, 3, 2]);
        assert_eq!(recent[0].connection, None);
    })
    .await;
}
