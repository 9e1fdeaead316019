//! `products.*` deliveries are applied from their bodies (issue 12, point 4): no Picqer call in
//! the common case, the newer state kept whatever order deliveries arrive in, and one re-read
//! exactly when the body cannot settle it (no stock array; two states of one second).

use std::time::Duration;

use kade_core::PicqerDateTime;
use kade_engine::EngineConfig;
use kade_engine::picqer::PicqerSettings;
use kade_picqer::types::ProductFilter;
use kade_picqer::{ApiKey, ClientConfig};
use kade_server::{Hub, HubOptions};
use kade_sim::picqer::RunningSim;
use serde_json::{Value, json};

use crate::support::{client, control, hub_options, sim, test_databases};

const EVENT: &str = "products.free_stock_changed";

async fn hub(db: &str, sim: &RunningSim) -> Hub {
    let mut client = ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key()));
    client.retry_base = Duration::from_millis(20);
    Hub::start(HubOptions {
        engine: EngineConfig { worker_id: "product-events".into(), ..EngineConfig::default() },
        ..hub_options(
            db,
            vec![PicqerSettings {
                name: "main".into(),
                client,
                webhook_url: String::new(),
                events: vec![EVENT.into()],
            }],
        )
    })
    .await
    .expect("hub starts")
}

/// Delivers, signed by Picqer's hook, one delivery per `(seconds from base, freestock)`: the
/// product's GET shape with that free stock, or without its stock array when `None`. Then runs
/// the queue.
/// Boxed: debug builds give every call site its own stack slot for the future, and the
/// scenario's many calls would not fit a test thread's stack.
fn deliver<'a>(
    hub: &'a Hub,
    sim: &'a RunningSim,
    product: &'a Value,
    base: i64,
    changes: &'a [(i64, Option<i64>)],
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>> {
    Box::pin(deliver_now(hub, sim, product, base, changes))
}

async fn deliver_now(hub: &Hub, sim: &RunningSim, product: &Value, base: i64, changes: &[(i64, Option<i64>)]) {
    let hook = sim.hooks().list().into_iter().find(|h| h.event == EVENT && h.active).expect("our hook");
    let before = hub.engine.store().count_events().await.unwrap();
    for (i, &(offset, freestock)) in changes.iter().enumerate() {
        let mut data = product.clone();
        match freestock {
            Some(f) => data["stock"] = json!([{"idwarehouse": 1, "stock": f + 1, "reserved": 1, "freestock": f}]),
            None => {
                data.as_object_mut().unwrap().remove("stock");
            }
        }
        let at = PicqerDateTime::from_epoch_secs(base + offset).to_string();
        // Deliveries of one state differ in their envelope (as Picqer's stock and free-stock
        // events do), so the inbox does not take them for one delivery sent twice.
        let name = format!("{} #{i}", hook.name);
        let body = json!({"idhook": hook.idhook, "name": name, "event": EVENT, "event_triggered_at": at, "data": data});
        sim.hooks().deliver_raw(hook.idhook, body.to_string().into_bytes()).unwrap();
    }
    sim.hooks().settle().await;
    let want = before + changes.len() as i64;
    for _ in 0..500 {
        if hub.engine.store().count_events().await.unwrap() >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(hub.engine.store().count_events().await.unwrap(), want, "every delivery stored");
    hub.engine.drain().await.unwrap();
}

#[tokio::test]
async fn product_deliveries_apply_from_their_bodies_newest_second_wins() {
    for db in test_databases("product_events").await {
        scenario(&db).await;
    }
}

async fn scenario(db: &str) {
    {
        let sim = sim(10).await;
        let hub = hub(db, &sim).await;
        hub.engine.drain().await.unwrap();
        let p = client(&sim).products(&ProductFilter::default()).next_page().await.unwrap().unwrap().remove(4);
        let id = p.idproduct.0;
        let product = serde_json::to_value(&p).unwrap();
        control(&sim, "DELETE", "/_sim/journal", json!({})).await;
        let reads = |sim: &RunningSim| {
            sim.journal().iter().filter(|e| e.path.starts_with(&format!("/api/v1/products/{id}"))).count()
        };
        let picqer_calls = |sim: &RunningSim| sim.journal().len();
        let free = async |hub: &Hub| {
            let m = hub.engine.store().product("main", id as i64).await.unwrap().unwrap();
            m.stock.iter().map(|s| s.freestock).collect::<Vec<_>>()
        };
        // Event times after the full sync's reads (Kade reads Picqer's times as UTC, as the
        // simulator writes them).
        let base = kade_engine::now_ms() / 1000 + 5;

        // The common case: applied from the body, no Picqer call at all.
        deliver(&hub, &sim, &product, base, &[(1, Some(5))]).await;
        assert_eq!(free(&hub).await, [5]);
        assert_eq!(picqer_calls(&sim), 0, "{:?}", sim.journal());

        // Out of order, in two jobs: the older delivery (a late retry) leaves the newer state.
        deliver(&hub, &sim, &product, base, &[(20, Some(20))]).await;
        deliver(&hub, &sim, &product, base, &[(15, Some(15))]).await;
        assert_eq!(free(&hub).await, [20]);
        // Out of order within one coalesced job.
        deliver(&hub, &sim, &product, base, &[(40, Some(40)), (30, Some(30))]).await;
        assert_eq!(free(&hub).await, [40]);
        // Two deliveries of one second with the same state (stock and free-stock events fire
        // together): not ambiguous.
        deliver(&hub, &sim, &product, base, &[(45, Some(45)), (45, Some(45))]).await;
        assert_eq!(free(&hub).await, [45]);
        assert_eq!(picqer_calls(&sim), 0, "{:?}", sim.journal());

        // A body without the stock array: one re-read, which wins over the delivery.
        let truth: Vec<i64> = p.stock.iter().map(|s| s.freestock).collect();
        deliver(&hub, &sim, &product, base, &[(50, None)]).await;
        assert_eq!(reads(&sim), 1);
        assert_eq!(free(&hub).await, truth);
        // An older delivery after that re-read is still older.
        deliver(&hub, &sim, &product, base, &[(49, Some(49))]).await;
        assert_eq!(free(&hub).await, truth);
        assert_eq!(reads(&sim), 1);

        // Two different states of one second, in one job: one re-read.
        deliver(&hub, &sim, &product, base, &[(60, Some(60)), (60, Some(61))]).await;
        assert_eq!(reads(&sim), 2);
        assert_eq!(free(&hub).await, truth);
        // ... and in two jobs: the second delivery meets a stored state of its second.
        deliver(&hub, &sim, &product, base, &[(70, Some(70))]).await;
        assert_eq!(free(&hub).await, [70]);
        deliver(&hub, &sim, &product, base, &[(70, Some(71))]).await;
        assert_eq!(reads(&sim), 3);
        assert_eq!(free(&hub).await, truth);
        assert_eq!(picqer_calls(&sim), 3, "only the re-reads: {:?}", sim.journal());
        hub.stop().await;
    }
}
