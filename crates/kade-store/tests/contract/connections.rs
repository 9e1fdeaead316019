//! Connections (with encrypted secrets) and installed hooks.

use kade_store::{ConnectionRecord, HookRecord, SecretBox, StoreError};
use serde_json::json;

use crate::each_backend;

#[tokio::test]
async fn connections_keep_secrets_encrypted_and_lose_them_on_disconnect() {
    each_backend(async |s| {
        let keys = SecretBox::from_key_material(b"test master key material").unwrap();
        let mut c = ConnectionRecord {
            name: "shop".into(),
            kind: "picqer".into(),
            settings: json!({ "subdomain": "demo" }),
            secrets_enc: Some(keys.encrypt(b"picqer-api-key")),
            state: "connected".into(),
            updated_ms: 1,
        };
        s.put_connection(&c).await.unwrap();
        let stored = s.connection("shop").await.unwrap().unwrap();
        assert_eq!(stored, c);
        let enc = stored.secrets_enc.unwrap();
        assert!(!enc.contains("picqer-api-key"), "stored as ciphertext");
        assert_eq!(keys.decrypt(&enc).unwrap(), b"picqer-api-key");

        c.settings = json!({ "subdomain": "demo2" });
        s.put_connection(&c).await.unwrap();
        s.put_connection(&ConnectionRecord { name: "accounting".into(), kind: "exact".into(), ..c.clone() })
            .await
            .unwrap();
        let names: Vec<_> = s.connections().await.unwrap().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["accounting", "shop"]);
        assert_eq!(s.connection("shop").await.unwrap().unwrap().settings, json!({ "subdomain": "demo2" }));

        s.clear_connection_secrets("shop").await.unwrap();
        let gone = s.connection("shop").await.unwrap().unwrap();
        assert_eq!((gone.secrets_enc, gone.state.as_str()), (None, "disconnected"));
        assert_eq!(gone.settings, json!({ "subdomain": "demo2" }), "the row and its settings are kept");
        assert!(matches!(s.clear_connection_secrets("nope").await, Err(StoreError::NotFound { .. })));
        assert!(s.connection("nope").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn hooks_upsert_track_their_last_event_and_can_be_deleted() {
    each_backend(async |s| {
        let hook = |idhook, event: &str| HookRecord {
            connection: "shop".into(),
            idhook,
            event: event.into(),
            address: "https://kade.example/webhooks/picqer/shop".into(),
            secret_enc: "v1:abc".into(),
            active: true,
            last_event_ms: None,
            updated_ms: 1,
        };
        s.put_hook(&hook(20, "orders.status_changed")).await.unwrap();
        s.put_hook(&hook(10, "products.free_stock_changed")).await.unwrap();
        s.put_hook(&HookRecord { connection: "other".into(), ..hook(30, "x") }).await.unwrap();
        assert_eq!(s.hooks("shop").await.unwrap().iter().map(|h| h.idhook).collect::<Vec<_>>(), [10, 20]);

        s.touch_hook_event("shop", 10, 500).await.unwrap();
        s.touch_hook_event("shop", 10, 400).await.unwrap();
        assert_eq!(s.hooks("shop").await.unwrap()[0].last_event_ms, Some(500), "never moves backwards");

        // The supervisor re-saves the hook as deactivated, without knowing the last event time.
        s.put_hook(&HookRecord { active: false, ..hook(10, "products.free_stock_changed") }).await.unwrap();
        let h = &s.hooks("shop").await.unwrap()[0];
        assert_eq!((h.active, h.last_event_ms), (false, Some(500)));
        s.put_hook(&HookRecord { last_event_ms: Some(900), ..hook(10, "products.free_stock_changed") }).await.unwrap();
        assert_eq!(s.hooks("shop").await.unwrap()[0].last_event_ms, Some(900));

        s.delete_hook("shop", 10).await.unwrap();
        s.delete_hook("shop", 10).await.unwrap();
        assert_eq!(s.hooks("shop").await.unwrap(), [hook(20, "orders.status_changed")]);
        assert_eq!(s.hooks("other").await.unwrap().len(), 1);
    })
    .await;
}
