//! The hook status of a shop and its create/reactivate action on the admin API: a hook
//! deactivated in Picqer shows as inactive, the action reactivates it, a second run changes
//! nothing; an event the connection does not subscribe to shows as missing and not configured.

use serde_json::{Value, json};

use crate::prestashop_rig::{EVENTS, Rig, shop_settings, shop_sim};
use crate::support::{control, test_databases};

const TOKEN: &str = "test-admin-token-0123456789";

async fn call(rig: &Rig, method: &str, shop: &str, token: Option<&str>) -> (u16, Value) {
    let url = format!("{}/api/v1/prestashop/{shop}/hooks", rig.hub.url());
    let http = reqwest::Client::new();
    let mut req = if method == "POST" { http.post(url) } else { http.get(url) };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

fn states(body: &Value) -> Vec<(String, String)> {
    body["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["event"].as_str().unwrap().to_owned(), h["state"].as_str().unwrap().to_owned()))
        .collect()
}

fn state_of(body: &Value, event: &str) -> String {
    states(body).into_iter().find(|(e, _)| e == event).map(|(_, s)| s).unwrap_or_default()
}

#[tokio::test]
async fn an_inactive_hook_is_shown_and_reactivated_on_request() {
    for db in test_databases("ps_hooks").await {
        let mut rig = Rig::new(&db, 5).await;
        let sim = shop_sim(1).await;
        let settings = shop_settings("shop", &sim);
        rig.add_shop(sim, settings).await;

        assert_eq!(call(&rig, "GET", "shop", None).await.0, 401, "behind the admin token");
        assert_eq!(call(&rig, "POST", "shop", Some("wrong-token")).await.0, 401);
        let (status, body) = call(&rig, "GET", "nope", Some(TOKEN)).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));

        let (status, body) = call(&rig, "GET", "shop", Some(TOKEN)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["healthy"], true);
        assert_eq!(
            states(&body),
            [
                ("orders.status_changed", "active"),
                ("orders.completed", "active"),
                ("picklists.shipments.created", "active"),
                ("products.free_stock_changed", "active"),
            ]
            .map(|(e, s)| (e.to_owned(), s.to_owned()))
        );

        // Picqer deactivates the order status hook (as it does after repeated failures).
        let id = body["hooks"][0]["idhook"].as_u64().unwrap();
        control(&rig.picqer, "POST", &format!("/_sim/hooks/{id}/deactivate"), json!({})).await;
        let (_, body) = call(&rig, "GET", "shop", Some(TOKEN)).await;
        assert_eq!(state_of(&body, "orders.status_changed"), "inactive");
        assert_eq!(body["healthy"], false);

        let (status, body) = call(&rig, "POST", "shop", Some(TOKEN)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["reactivated"], json!([id]));
        assert_eq!(body["created"], json!([]));
        assert_eq!(state_of(&body, "orders.status_changed"), "active");
        let (_, body) = call(&rig, "GET", "shop", Some(TOKEN)).await;
        assert_eq!(state_of(&body, "orders.status_changed"), "active");
        assert_eq!(body["healthy"], true);

        // Idempotent: a second request changes nothing and creates no second hook.
        let (_, again) = call(&rig, "POST", "shop", Some(TOKEN)).await;
        assert_eq!((again["reactivated"].clone(), again["created"].clone()), (json!([]), json!([])));
        let hooks = rig.api().hooks().await.unwrap();
        assert_eq!(hooks.iter().filter(|h| h.event == "orders.status_changed").count(), 1);
        let actions = rig.audit_actions("shop/hooks").await;
        assert_eq!(actions.iter().filter(|a| *a == "hooks: create/reactivate requested").count(), 2, "{actions:?}");
    }
}

#[tokio::test]
async fn an_event_the_connection_does_not_subscribe_to_is_missing() {
    let db = test_databases("ps_hooks_missing").await.remove(0);
    let events: Vec<&str> = EVENTS.iter().copied().filter(|e| *e != "picklists.shipments.created").collect();
    let mut rig = Rig::with_events(&db, 5, &events).await;
    let sim = shop_sim(1).await;
    let settings = shop_settings("shop", &sim);
    rig.add_shop(sim, settings).await;
    let (_, body) = call(&rig, "GET", "shop", Some(TOKEN)).await;
    let shipments =
        body["hooks"].as_array().unwrap().iter().find(|h| h["event"] == "picklists.shipments.created").unwrap();
    assert_eq!((shipments["state"].as_str(), shipments["configured"].as_bool()), (Some("missing"), Some(false)));
    // The action installs configured events only (the supervisor would retire anything else).
    let (status, body) = call(&rig, "POST", "shop", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(state_of(&body, "picklists.shipments.created"), "missing");
    assert_eq!(state_of(&body, "orders.completed"), "active");

    // Picqer failing to list its hooks: a 502 saying so, not a panic or a 500.
    control(&rig.picqer, "POST", "/_sim/faults", json!({"path": "/api/v1/hooks", "status": 500, "times": 0})).await;
    let (status, body) = call(&rig, "GET", "shop", Some(TOKEN)).await;
    assert_eq!((status, body["error"].as_str()), (502, Some("picqer_failed")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("500"), "{body}");
    let (status, _) = call(&rig, "POST", "shop", Some(TOKEN)).await;
    assert_eq!(status, 502);
}
