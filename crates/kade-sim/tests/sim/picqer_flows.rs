//! Business flows of the Picqer simulator: the order state machine, stock arithmetic through
//! allocate → process → close, backorders, cancellation, and the staff control API.

use std::net::SocketAddr;

use kade_sim::SimClock;
use kade_sim::picqer::{PicqerSimConfig, RunningSim, start};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

async fn sim() -> RunningSim {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = PicqerSimConfig {
        products: 20,
        rate_limit_per_minute: 0,
        clock: SimClock::manual(1_767_225_600_000),
        ..PicqerSimConfig::default()
    };
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("literal address");
    start(config, addr).await.expect("simulator starts")
}

async fn raw(sim: &RunningSim, method: Method, url: String, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = Client::new().request(method, url).basic_auth(sim.api_key(), None::<&str>);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request reaches the simulator");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn api(sim: &RunningSim, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    raw(sim, method, format!("{}{path}", sim.base_url()), body).await
}

async fn control(sim: &RunningSim, path: &str, body: Value) -> (StatusCode, Value) {
    raw(sim, Method::POST, format!("{}/_sim{path}", sim.root_url()), Some(body)).await
}

/// Creates a product with `stock` units in the main warehouse (101); returns its id.
async fn product(sim: &RunningSim, code: &str, stock: i64) -> u64 {
    let body = json!({"name": code, "price": 12.5, "productcode": code, "idvatgroup": 201});
    let (status, p) = api(sim, Method::POST, "/products", Some(body)).await;
    assert_eq!(status, 201, "{p}");
    let id = p["idproduct"].as_u64().unwrap_or_default();
    let path = format!("/products/{id}/stock/101");
    api(sim, Method::POST, &path, Some(json!({"amount": stock, "reason": "seed"}))).await;
    id
}

async fn main_stock(sim: &RunningSim, id: u64) -> Value {
    api(sim, Method::GET, &format!("/products/{id}/stock/101"), None).await.1
}

fn order_body(lines: Value) -> Value {
    json!({
        "reference": "WEB-1001", "emailaddress": "a@b.nl",
        "deliveryname": "Jan Jansen", "deliveryaddress": "Straat 1", "deliveryzipcode": "1234 AB",
        "deliverycity": "Arnhem", "deliverycountry": "NL",
        "invoicename": "Jan Jansen", "invoicecountry": "NL",
        "products": lines,
    })
}

async fn new_order(sim: &RunningSim, body: Value) -> u64 {
    let (status, o) = api(sim, Method::POST, "/orders", Some(body)).await;
    assert_eq!(status, 201, "{o}");
    assert_eq!(o["status"], "concept");
    o["idorder"].as_u64().unwrap_or_default()
}

#[tokio::test]
async fn order_life_from_concept_to_completed_with_stock_arithmetic() {
    let sim = sim().await;
    let id = product(&sim, "LIFE-1", 10).await;
    let o = new_order(&sim, order_body(json!([{"productcode": "LIFE-1", "amount": 3}]))).await;
    let (_, order) = api(&sim, Method::GET, &format!("/orders/{o}"), None).await;
    assert_eq!(order["tags"], json!({}));
    assert!(order["public_status_page"].as_str().is_some_and(|s| s.starts_with("http")));
    assert_eq!(order["products"][0]["price"], json!(12.5));

    api(&sim, Method::POST, &format!("/orders/{o}/allocate"), None).await;
    let s = main_stock(&sim, id).await;
    assert_eq!((s["reservedallocations"].as_i64(), s["freestock"].as_i64()), (Some(3), Some(7)));

    let (status, order) = api(&sim, Method::POST, &format!("/orders/{o}/process"), None).await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["status"], "processing");
    let s = main_stock(&sim, id).await;
    assert_eq!(s["reservedallocations"], json!(0));
    assert_eq!(s["reservedpicklists"], json!(3));
    assert_eq!(s["reserved"], json!(3));
    assert_eq!(s["freestock"], json!(7));
    let (status, err) = api(&sim, Method::POST, &format!("/orders/{o}/process"), None).await;
    assert_eq!((status.as_u16(), err["error_code"].as_u64()), (400, Some(32)));
    let (status, err) =
        api(&sim, Method::POST, &format!("/orders/{o}/products"), Some(json!({"productcode": "LIFE-1", "amount": 1})))
            .await;
    assert_eq!((status.as_u16(), err["error_code"].as_u64()), (400, Some(33)));

    // Stock may not drop below what picklists reserved.
    let path = format!("/products/{id}/stock/101");
    let (status, _) = api(&sim, Method::POST, &path, Some(json!({"amount": 2}))).await;
    assert_eq!(status, 400);

    let pid = order["picklists"][0]["idpicklist"].as_u64().unwrap_or_default();
    let (_, pl) = api(&sim, Method::GET, &format!("/picklists/{pid}"), None).await;
    assert_eq!(pl["status"], "new");
    assert!(pl["tags"].is_array());
    assert_eq!(pl["totalproducts"], json!(3));
    let (_, pl) = api(&sim, Method::POST, &format!("/picklists/{pid}/close"), None).await;
    assert_eq!(pl["status"], "closed");
    let s = main_stock(&sim, id).await;
    assert_eq!(
        (s["stock"].as_i64(), s["reservedpicklists"].as_i64(), s["freestock"].as_i64()),
        (Some(7), Some(0), Some(7))
    );
    let (_, order) = api(&sim, Method::GET, &format!("/orders/{o}"), None).await;
    assert_eq!(order["status"], "processing", "not shipped yet");

    let (status, shipment) = api(
        &sim,
        Method::POST,
        &format!("/picklists/{pid}/shipments"),
        Some(json!({"idshippingprovider_profile": 453})),
    )
    .await;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(shipment["carrier_key"], "dhl");
    assert!(
        shipment["tracktraceurl"]
            .as_str()
            .is_some_and(|u| u.contains(shipment["trackingcode"].as_str().unwrap_or("?")))
    );
    let (_, order) = api(&sim, Method::GET, &format!("/orders/{o}"), None).await;
    assert_eq!(order["status"], "completed");
    let (_, list) = api(&sim, Method::GET, "/orders?status=completed&reference=WEB-1001", None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    sim.shutdown().await;
}

#[tokio::test]
async fn order_validation_errors_use_picqers_codes() {
    let sim = sim().await;
    product(&sim, "VAL-1", 1).await;
    let (s, e) = api(&sim, Method::POST, "/orders", Some(order_body(json!([])))).await;
    assert_eq!((s.as_u16(), e["error_code"].as_u64()), (400, Some(13)));
    let (s, e) =
        api(&sim, Method::POST, "/orders", Some(order_body(json!([{"productcode": "NOPE", "amount": 1}])))).await;
    assert_eq!((s.as_u16(), e["error_code"].as_u64()), (400, Some(24)));
    let (s, e) =
        api(&sim, Method::POST, "/orders", Some(json!({"products": [{"productcode": "VAL-1", "amount": 1}]}))).await;
    assert_eq!((s.as_u16(), e["error_code"].as_u64()), (400, Some(5)));

    // With idcustomer, empty fields come from the customer.
    let (_, customers) = api(&sim, Method::GET, "/customers", None).await;
    let c = &customers[0];
    let body = json!({"idcustomer": c["idcustomer"], "products": [{"productcode": "VAL-1", "amount": 1}]});
    let (s, o) = api(&sim, Method::POST, "/orders", Some(body)).await;
    assert_eq!(s, 201, "{o}");
    assert_eq!(o["deliveryname"], c["name"]);
    assert_eq!(o["emailaddress"], c["emailaddress"]);
    assert_eq!(o["deliverycountry"], c["addresses"][0]["country"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn backorders_wait_for_stock_and_become_picklists() {
    let sim = sim().await;
    let id = product(&sim, "BACK-1", 2).await;
    let mut body = order_body(json!([{"idproduct": id, "amount": 5}]));
    body["partialdelivery"] = json!(true);
    let o = new_order(&sim, body).await;
    let (_, order) = api(&sim, Method::POST, &format!("/orders/{o}/process"), None).await;
    assert_eq!(order["picklists"].as_array().map(Vec::len), Some(1));
    let (_, bos) = api(&sim, Method::GET, &format!("/orders/{o}/backorders"), None).await;
    assert_eq!(bos[0]["amount"], json!(3));
    let s = main_stock(&sim, id).await;
    assert_eq!(
        (s["reservedpicklists"].as_i64(), s["reservedbackorders"].as_i64(), s["freestock"].as_i64()),
        (Some(2), Some(3), Some(-3))
    );

    control(&sim, &format!("/products/{id}/stock"), json!({"idwarehouse": 101, "change": 3})).await;
    let (_, order) = api(&sim, Method::POST, &format!("/orders/{o}/process-backorders"), None).await;
    assert_eq!(order["picklists"].as_array().map(Vec::len), Some(2));
    let (_, bos) = api(&sim, Method::GET, "/backorders", None).await;
    assert_eq!(bos, json!([]));
    let s = main_stock(&sim, id).await;
    assert_eq!((s["reservedpicklists"].as_i64(), s["freestock"].as_i64()), (Some(5), Some(0)));

    // Without partial delivery everything waits.
    let o2 = new_order(&sim, order_body(json!([{"idproduct": id, "amount": 1}]))).await;
    let (_, order) = api(&sim, Method::POST, &format!("/orders/{o2}/process"), None).await;
    assert_eq!(order["picklists"], json!([]));
    assert_eq!(main_stock(&sim, id).await["reservedbackorders"], json!(1));
    sim.shutdown().await;
}

#[tokio::test]
async fn backorders_carry_the_expected_date_staff_set() {
    let sim = sim().await;
    let id = product(&sim, "DATE-1", 0).await;
    let o = new_order(&sim, order_body(json!([{"idproduct": id, "amount": 2}]))).await;
    api(&sim, Method::POST, &format!("/orders/{o}/process"), None).await;
    let (_, bos) = api(&sim, Method::GET, &format!("/orders/{o}/backorders"), None).await;
    assert_eq!(bos[0]["date_available"], Value::Null, "unknown until purchasing says");
    let idb = bos[0]["idbackorder"].as_u64().unwrap_or_default();

    let (status, b) =
        control(&sim, &format!("/backorders/{idb}/date-available"), json!({"date_available": "2026-02-14"})).await;
    assert_eq!(status, 200, "{b}");
    let (_, bos) = api(&sim, Method::GET, &format!("/orders/{o}/backorders"), None).await;
    assert_eq!(bos[0]["date_available"], json!("2026-02-14"));
    let (_, one) = api(&sim, Method::GET, &format!("/backorders/{idb}"), None).await;
    assert_eq!(one["date_available"], json!("2026-02-14"));

    let (status, e) =
        control(&sim, &format!("/backorders/{idb}/date-available"), json!({"date_available": "14-02-2026"})).await;
    assert_eq!((status, e["error_code"].as_i64()), (StatusCode::BAD_REQUEST, Some(5)), "{e}");
    let (status, _) = control(&sim, "/backorders/1/date-available", json!({"date_available": null})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = control(&sim, &format!("/backorders/{idb}/date-available"), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    control(&sim, &format!("/backorders/{idb}/date-available"), json!({"date_available": null})).await;
    let (_, bos) = api(&sim, Method::GET, &format!("/orders/{o}/backorders"), None).await;
    assert_eq!(bos[0]["date_available"], Value::Null, "cleared");
    sim.shutdown().await;
}

#[tokio::test]
async fn cancelling_needs_force_once_processing() {
    let sim = sim().await;
    let id = product(&sim, "CAN-1", 10).await;
    let line = json!([{"idproduct": id, "amount": 4}]);
    let concept = new_order(&sim, order_body(line.clone())).await;
    let (s, o) = api(&sim, Method::DELETE, &format!("/orders/{concept}"), None).await;
    assert_eq!((s.as_u16(), o["status"].as_str()), (200, Some("cancelled")));
    let (s, e) = api(&sim, Method::DELETE, &format!("/orders/{concept}"), None).await;
    assert_eq!((s.as_u16(), e["error_code"].as_u64()), (400, Some(32)));

    let o = new_order(&sim, order_body(line.clone())).await;
    api(&sim, Method::POST, &format!("/orders/{o}/process"), None).await;
    let (s, e) = api(&sim, Method::DELETE, &format!("/orders/{o}"), None).await;
    assert_eq!((s.as_u16(), e["error_code"].as_u64()), (400, Some(30)));
    let (s, order) = api(&sim, Method::DELETE, &format!("/orders/{o}?force=true"), None).await;
    assert_eq!((s.as_u16(), order["status"].as_str()), (200, Some("cancelled")));
    let pid = order["picklists"][0]["idpicklist"].as_u64().unwrap_or_default();
    let (_, pl) = api(&sim, Method::GET, &format!("/picklists/{pid}"), None).await;
    assert_eq!(pl["status"], "cancelled");
    assert_eq!(main_stock(&sim, id).await["freestock"], json!(10));

    let o = new_order(&sim, order_body(line)).await;
    api(&sim, Method::POST, &format!("/orders/{o}/process"), None).await;
    let (s, order) = api(&sim, Method::DELETE, &format!("/orders/{o}"), Some(json!({"force": true}))).await;
    assert_eq!((s.as_u16(), order["status"].as_str()), (200, Some("cancelled")));
    sim.shutdown().await;
}

#[tokio::test]
async fn staff_control_api_processes_picks_and_ships() {
    let sim = sim().await;
    let id = product(&sim, "STAFF-1", 5).await;
    let o = new_order(&sim, order_body(json!([{"idproduct": id, "amount": 2}]))).await;
    let (s, order) = control(&sim, &format!("/orders/{o}/process"), json!({})).await;
    assert_eq!((s.as_u16(), order["status"].as_str()), (200, Some("processing")));
    let (s, _) = control(&sim, &format!("/orders/{o}/ship"), json!({})).await;
    assert_eq!(s, 400, "nothing picked yet");
    let (s, order) = control(&sim, &format!("/orders/{o}/pick"), json!({})).await;
    assert_eq!((s.as_u16(), order["picklists"][0]["status"].as_str()), (200, Some("closed")));
    let parcels = json!({"parcels": [
        {"trackingcode": "3SABC123", "carrier": "postnl"},
        {"trackingcode": "3SABC124", "carrier": "postnl"}
    ]});
    let (s, shipments) = control(&sim, &format!("/orders/{o}/ship"), parcels).await;
    assert_eq!(s, 200, "{shipments}");
    let shipment = &shipments[0];
    assert_eq!(shipment["trackingcode"], "3SABC123");
    assert_eq!(shipment["parcels"].as_array().map(Vec::len), Some(2));
    assert!(shipment["tracktraceurl"].as_str().is_some_and(|u| u.contains("postnl") && u.contains("3SABC123")));
    let (_, order) = api(&sim, Method::GET, &format!("/orders/{o}"), None).await;
    assert_eq!(order["status"], "completed");
    sim.shutdown().await;
}

type Inbox = std::sync::Arc<std::sync::Mutex<Vec<(Option<String>, Vec<u8>)>>>;

/// A webhook receiver on a free port that records the signature header and raw body.
async fn receiver() -> (String, Inbox) {
    use axum::routing::post;
    let inbox: Inbox = Default::default();
    let store = inbox.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                let sig = headers.get("x-picqer-signature").and_then(|v| v.to_str().ok()).map(str::to_owned);
                store.lock().unwrap_or_else(|e| e.into_inner()).push((sig, body.to_vec()));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
    let addr = listener.local_addr().expect("receiver address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), inbox)
}

#[tokio::test]
async fn processing_an_order_delivers_signed_webhooks_with_the_resource() {
    use base64::Engine;
    let sim = sim().await;
    let (url, inbox) = receiver().await;
    for event in ["orders.status_changed", "orders.closed", "picklists.created", "orders.cancelled"] {
        let body = json!({"name": event, "event": event, "address": url, "secret": "s3cret"});
        let (status, hook) = api(&sim, Method::POST, "/hooks", Some(body)).await;
        if event == "orders.cancelled" {
            assert_eq!(status, 400, "there is no orders.cancelled event: {hook}");
        } else {
            assert_eq!(status, 201, "{hook}");
            assert_eq!(hook["secret"], json!(true));
        }
    }
    let id = product(&sim, "HOOK-1", 3).await;
    let o = new_order(&sim, order_body(json!([{"idproduct": id, "amount": 1}]))).await;
    api(&sim, Method::POST, &format!("/orders/{o}/process"), None).await;
    sim.hooks().settle().await;

    let got = inbox.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut events = Vec::new();
    for (sig, body) in &got {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"s3cret");
        let expected = base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, body));
        assert_eq!(sig.as_deref(), Some(expected.as_str()));
        let v: Value = serde_json::from_slice(body).expect("json body");
        if v["event"] == "orders.status_changed" {
            assert_eq!(v["data"]["status"], "processing");
            assert_eq!(v["data"]["idorder"], json!(o));
        }
        events.push(v["event"].as_str().unwrap_or_default().to_owned());
    }
    events.sort();
    assert_eq!(events, ["orders.closed", "orders.status_changed", "picklists.created"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn expected_orders_return_to_concept_and_cancel_without_force() {
    let sim = sim().await;
    let id = product(&sim, "EXP-1", 1).await;
    let o = new_order(&sim, order_body(json!([{"idproduct": id, "amount": 1}]))).await;
    let (s, order) = control(&sim, &format!("/orders/{o}/expect"), json!({})).await;
    assert_eq!((s.as_u16(), order["status"].as_str()), (200, Some("expected")));
    let (s, order) = api(&sim, Method::POST, &format!("/orders/{o}/change-to-concept"), None).await;
    assert_eq!((s.as_u16(), order["status"].as_str()), (200, Some("concept")));
    let (s, e) = api(&sim, Method::POST, &format!("/orders/{o}/change-to-concept"), None).await;
    assert_eq!(s, 400, "{e}");
    control(&sim, &format!("/orders/{o}/expect"), json!({})).await;
    let (s, order) = api(&sim, Method::DELETE, &format!("/orders/{o}"), None).await;
    assert_eq!((s.as_u16(), order["status"].as_str()), (200, Some("cancelled")));
    sim.shutdown().await;
}

#[tokio::test]
async fn returns_purchase_orders_and_receipts_over_http() {
    let sim = sim().await;
    let id = product(&sim, "PUR-1", 0).await;
    let body = json!({"idsupplier": 601, "products": [{"idproduct": id, "amount": 4, "price": 3.25}]});
    let (s, po) = api(&sim, Method::POST, "/purchaseorders", Some(body)).await;
    assert_eq!((s.as_u16(), po["status"].as_str()), (201, Some("concept")), "{po}");
    let idpo = po["idpurchaseorder"].as_u64().unwrap_or_default();
    let (s, _) = api(&sim, Method::POST, "/receipts", Some(json!({"idpurchaseorder": idpo}))).await;
    assert_eq!(s, 400, "a concept purchase order cannot be received");
    let (_, po) = api(&sim, Method::POST, &format!("/purchaseorders/{idpo}/mark-as-purchased"), None).await;
    assert_eq!(po["status"], "purchased");
    let (s, receipt) = api(&sim, Method::POST, "/receipts", Some(json!({"idpurchaseorder": idpo}))).await;
    assert_eq!((s.as_u16(), receipt["status"].as_str()), (201, Some("processing")));
    let idr = receipt["idreceipt"].as_u64().unwrap_or_default();
    let path = format!("/receipts/{idr}/products");
    let (s, receipt) = api(&sim, Method::POST, &path, Some(json!({"idproduct": id, "amount": 1}))).await;
    assert_eq!((s.as_u16(), receipt["amount_received"].as_i64()), (201, Some(1)));
    assert_eq!(main_stock(&sim, id).await["stock"], json!(1));
    let (_, receipt) = api(&sim, Method::POST, &format!("/receipts/{idr}/mark-all-received"), None).await;
    assert_eq!(receipt["status"], "completed");
    let (_, po) = api(&sim, Method::GET, &format!("/purchaseorders/{idpo}"), None).await;
    assert_eq!(po["status"], "received");
    assert_eq!(main_stock(&sim, id).await["stock"], json!(4));

    // A second purchase order received in one go by "staff".
    let body = json!({"idsupplier": 602, "products": [{"productcode": "PUR-1", "amount": 2}]});
    let idpo2 = api(&sim, Method::POST, "/purchaseorders", Some(body)).await.1["idpurchaseorder"].clone();
    let (s, receipt) = control(&sim, &format!("/purchaseorders/{idpo2}/receive"), json!({})).await;
    assert_eq!((s.as_u16(), receipt["status"].as_str()), (200, Some("completed")), "{receipt}");
    assert_eq!(main_stock(&sim, id).await["stock"], json!(6));

    // Returns: address copied from the order, status via the log, receive restocks.
    let o = new_order(&sim, order_body(json!([{"idproduct": id, "amount": 1}]))).await;
    let (_, statuses) = api(&sim, Method::GET, "/return_statuses", None).await;
    let (_, reasons) = api(&sim, Method::GET, "/return_reasons", None).await;
    let body = json!({"idorder": o, "returned_products": [{"idproduct": id, "amount": 1, "idreturn_reason": reasons[0]["idreturn_reason"]}]});
    let (s, ret) = api(&sim, Method::POST, "/returns", Some(body)).await;
    assert_eq!((s.as_u16(), ret["name"].as_str()), (201, Some("Jan Jansen")), "{ret}");
    let idret = ret["idreturn"].as_u64().unwrap_or_default();
    let log = json!({"idreturn_status": statuses[1]["idreturn_status"], "message": "arrived"});
    let (s, _) = api(&sim, Method::POST, &format!("/returns/{idret}/logs"), Some(log)).await;
    assert_eq!(s, 201);
    let (s, ret) = control(&sim, &format!("/returns/{idret}/receive"), json!({})).await;
    assert_eq!((s.as_u16(), ret["returned_products"][0]["amount_received"].as_i64()), (200, Some(1)));
    assert_eq!(ret["idreturn_status"], statuses[1]["idreturn_status"]);
    assert_eq!(main_stock(&sim, id).await["stock"], json!(7));
    sim.shutdown().await;
}
