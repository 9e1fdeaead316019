//! Jobs queued by the previous release (payloads written field by field, before jobs were typed)
//! still run after an upgrade, on SQLite and PostgreSQL: the rows below are what that release
//! stored for a shop order notification and a Picqer stock webhook.

use kade_sim::prestashop::{NotifyConfig, NotifyMode};
use kade_store::NewJob;
use serde_json::json;

use crate::prestashop_rig::{Rig, SECRET, order, product, shop_settings, shop_sim};
use crate::support::test_databases;

fn old_row(kind: &str, entity: String, payload: serde_json::Value, priority: i32) -> NewJob {
    NewJob {
        kind: kind.into(),
        entity_key: Some(entity),
        payload,
        run_at_ms: kade_engine::now_ms(),
        max_attempts: 12,
        dedupe_key: None,
        priority,
    }
}

#[tokio::test]
async fn jobs_written_by_the_previous_release_still_run() {
    for db in test_databases("ps_upgrade").await {
        let mut rig = Rig::new(&db, 10).await;
        rig.settle().await;
        let code = rig.productcodes(1).await.remove(0);
        let sim = shop_sim(1).await;
        sim.add_product(&product(&code, 0));
        let settings = shop_settings("shop", &sim);
        let i = rig.add_shop(sim, settings).await;
        // The shop's module is silent: only the old queued row tells Kade about the order.
        rig.shop(i).configure_notify(Some(NotifyConfig {
            url: format!("{}/webhooks/prestashop/shop", rig.hub.url()),
            secret: SECRET.into(),
            mode: NotifyMode::Lost,
        }));
        rig.shop(i).place_order(&order(&[(&code, 1)], "UPGRADEXX")).unwrap();
        let store = rig.hub.engine.store();
        let payload = json!({"connection": "main", "shop": "shop", "id_order": 1, "event": "order.created"});
        store.enqueue(&old_row("prestashop.order", "shop/order/1".into(), payload, 20)).await.unwrap();
        let p = rig.api().products_by_code(&code).await.unwrap().remove(0);
        let payload = json!({"connection": "main", "event": "products.free_stock_changed", "idhook": 1,
            "triggered_at": "2026-11-20 10:00:00", "idproduct": p.idproduct.0});
        let entity = format!("main/product/{}", p.idproduct.0);
        store.enqueue(&old_row("picqer.product_refresh", entity, payload, 10)).await.unwrap();
        rig.settle().await;

        assert_eq!(rig.orders_with_reference("PS #1 / UPGRADEXX").await.len(), 1, "the old order job ran");
        let dead = store.jobs(Some("dead"), 10).await.unwrap();
        assert!(dead.is_empty(), "no old job was refused: {dead:?}");
        let actions = rig.audit_actions(&format!("main/product/{}", p.idproduct.0)).await;
        assert!(actions.iter().any(|a| a == "product mirrored"), "{actions:?}");
        // The old stock row reached the shop through the new fan-out (one job per shop).
        let puts = rig
            .shop(i)
            .journal()
            .into_iter()
            .filter(|e| e.method == "PUT" && e.path.starts_with("/api/stock_availables"));
        assert_eq!(puts.count(), 1, "the shop's stock row was written once");
    }
}
