//! Transport-level behaviour of the PrestaShop simulator, in raw HTTP: auth and permissions with
//! the webservice's codes, XML and JSON output (with the empty-list quirk), list parameters,
//! XML-only input, PUT as a full replace, side effects, notifications and faults.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use kade_sim::SimClock;
use kade_sim::prestashop::{
    AddressSpec, ComboSpec, CustomerSpec, LineSpec, NotifyConfig, NotifyMode, OrderSpec, PrestaSimConfig, ProductSpec,
    RunningPrestaSim, sign, start,
};
use reqwest::{Client, Method};
use serde_json::{Value, json};

async fn shop() -> RunningPrestaSim {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = PrestaSimConfig { clock: SimClock::manual(1_767_225_600_000), ..PrestaSimConfig::default() };
    start(config, "127.0.0.1:0".parse::<SocketAddr>().unwrap()).await.expect("simulator starts")
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

async fn send(
    sim: &RunningPrestaSim,
    key: Option<&str>,
    method: Method,
    path_query: &str,
    body: Option<String>,
) -> Reply {
    let mut req = Client::new().request(method, format!("{}{path_query}", sim.api_url()));
    if let Some(key) = key {
        req = req.basic_auth(key, Some(""));
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    let resp = req.send().await.expect("request reaches the simulator");
    Reply { status: resp.status().as_u16(), headers: resp.headers().clone(), text: resp.text().await.unwrap() }
}

async fn get(sim: &RunningPrestaSim, path_query: &str) -> Reply {
    send(sim, Some(sim.ws_key()), Method::GET, path_query, None).await
}

fn code_of(r: &Reply) -> u64 {
    r.json()["errors"][0]["code"].as_u64().unwrap_or_else(|| panic!("no error code: {}", r.text))
}

fn order_spec(lines: &[(&str, u32)]) -> OrderSpec {
    OrderSpec {
        customer: CustomerSpec { firstname: "Jan".into(), lastname: "Jansen".into(), email: "jan@example.com".into() },
        address: AddressSpec {
            company: String::new(),
            address1: "Dorpsstraat 1".into(),
            address2: String::new(),
            postcode: "1234 AB".into(),
            city: "Utrecht".into(),
            country: "NL".into(),
            phone: "0612345678".into(),
        },
        invoice_address: None,
        lines: lines.iter().map(|(r, q)| LineSpec { reference: (*r).into(), quantity: *q, price: None }).collect(),
        state: None,
        carrier: None,
        reference: Some("ITQRFWVHT".into()),
    }
}

fn product(reference: &str, quantity: i64, combos: &[(&str, i64)]) -> ProductSpec {
    ProductSpec {
        reference: reference.into(),
        name: format!("Product {reference}"),
        price: "12.100000".into(),
        quantity,
        combinations: combos
            .iter()
            .map(|(r, q)| ComboSpec { reference: (*r).into(), quantity: *q, price: None })
            .collect(),
        tax_rate: None,
        image: None,
    }
}

#[tokio::test]
async fn auth_errors_carry_the_webservice_codes() {
    let sim = shop().await;
    let none = send(&sim, None, Method::GET, "/orders?output_format=JSON", None).await;
    assert_eq!((none.status, code_of(&none)), (401, 16));
    assert!(none.headers.get("www-authenticate").is_some());
    assert!(none.headers.get("psws-version").is_none());
    let short = send(&sim, Some("short"), Method::GET, "/orders?output_format=JSON", None).await;
    assert_eq!((short.status, code_of(&short)), (401, 18));
    let wrong = send(&sim, Some(&"X".repeat(32)), Method::GET, "/orders?output_format=JSON", None).await;
    assert_eq!(wrong.status, 401);
    // ws_key in the query works like the Basic username.
    let by_query =
        send(&sim, None, Method::GET, &format!("/orders?output_format=JSON&ws_key={}", sim.ws_key()), None).await;
    assert_eq!(by_query.status, 200, "{}", by_query.text);
    assert!(by_query.headers.get("psws-version").is_some());
    let unknown = get(&sim, "/ordres?output_format=JSON").await;
    assert_eq!((unknown.status, code_of(&unknown)), (400, 27));
    assert!(unknown.text.contains("Did you mean"), "{}", unknown.text);

    let c = Client::new();
    let url = format!("{}/_sim/access", sim.root_url());
    c.put(&url).json(&json!({"permissions": {"orders": ["GET"], "customers": []}})).send().await.unwrap();
    let put =
        send(&sim, Some(sim.ws_key()), Method::PUT, "/orders/1?output_format=JSON", Some("<prestashop/>".into())).await;
    assert_eq!((put.status, code_of(&put)), (405, 25));
    let denied = get(&sim, "/customers?output_format=JSON").await;
    assert_eq!((denied.status, code_of(&denied)), (401, 26));
    c.put(&url).json(&json!({"enabled": false})).send().await.unwrap();
    let off = get(&sim, "/orders?output_format=JSON").await;
    assert_eq!((off.status, code_of(&off)), (503, 22));
}

#[tokio::test]
async fn json_lists_have_the_empty_array_quirk_and_string_values() {
    let sim = shop().await;
    let empty = get(&sim, "/orders?output_format=JSON").await;
    assert_eq!((empty.status, empty.text.as_str()), (200, "[]"));
    sim.add_product(&product("ABC-1", 5, &[]));
    sim.place_order(&order_spec(&[("ABC-1", 2)])).unwrap();
    let ids = get(&sim, "/orders?output_format=JSON").await.json();
    assert_eq!(ids, json!({"orders": [{"id": 1}]}));
    let full = get(&sim, "/orders/1?output_format=JSON").await.json();
    assert_eq!(full["order"]["reference"], "ITQRFWVHT");
    assert_eq!(full["order"]["current_state"], "2");
    let rows = &full["order"]["associations"]["order_rows"];
    assert_eq!(rows[0]["product_reference"], "ABC-1");
    assert_eq!(rows[0]["product_quantity"], "2");
    let name = get(&sim, "/products/1?output_format=JSON").await.json();
    assert_eq!(name["product"]["name"], json!([{"id": "1", "value": "Product ABC-1"}]));
    let one_lang = get(&sim, "/products/1?output_format=JSON&language=1").await.json();
    assert_eq!(one_lang["product"]["name"], "Product ABC-1");
    // Stock went down with the order.
    assert_eq!(name["product"]["quantity"], "3");
}

#[tokio::test]
async fn xml_output_uses_cdata_and_xlinks() {
    let sim = shop().await;
    sim.add_product(&product("X&Y", 1, &[]));
    let list = get(&sim, "/products").await;
    assert!(list.text.contains(r#"<product id="1" xlink:href=""#), "{}", list.text);
    let detail = get(&sim, "/products/1").await;
    assert!(detail.text.contains("<reference><![CDATA[X&Y]]></reference>"), "{}", detail.text);
    let missing = get(&sim, "/products/99").await;
    assert_eq!(missing.status, 404);
    assert!(missing.text.contains("<code><![CDATA[87]]></code>"), "{}", missing.text);
}

#[tokio::test]
async fn filters_display_sort_limit_and_date_gating() {
    let sim = shop().await;
    for (i, r) in ["AB-1", "AB-2", "CD-3", "ab-4"].iter().enumerate() {
        sim.add_product(&product(r, i as i64, &[]));
    }
    let q = |query: &str| format!("/products?output_format=JSON&{query}");
    let refs = |v: Value| -> Vec<String> {
        v["products"]
            .as_array()
            .map(|a| a.iter().map(|p| p["reference"].as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    let r = get(&sim, &q("display=[id,reference]&filter[reference]=[AB]%")).await.json();
    assert_eq!(refs(r), ["AB-1", "AB-2", "ab-4"]);
    let r = get(&sim, &q("display=[id,reference]&filter[reference]=[AB-1|CD-3]")).await.json();
    assert_eq!(refs(r), ["AB-1", "CD-3"]);
    let r = get(&sim, &q("display=[id,reference]&filter[id]=[2,3]")).await.json();
    assert_eq!(refs(r), ["AB-2", "CD-3"]);
    let r = get(&sim, &q("display=[id,reference]&filter[id]=[>2]")).await.json();
    assert_eq!(refs(r), ["CD-3", "ab-4"]);
    let r = get(&sim, &q("display=[id,reference]&sort=[id_DESC]&limit=1,2")).await.json();
    assert_eq!(refs(r), ["CD-3", "AB-2"]);
    let unknown = get(&sim, &q("display=[id,colour]")).await;
    assert_eq!((unknown.status, code_of(&unknown)), (400, 35));
    let syntax = get(&sim, &q("display=id,reference")).await;
    assert_eq!((syntax.status, code_of(&syntax)), (400, 36));
    let no_date = get(&sim, &q("filter[date_upd]=[2026-01-01 00:00:00,2027-01-01 00:00:00]")).await;
    assert_eq!(no_date.status, 400, "{}", no_date.text);
    let dated =
        get(&sim, &q("display=[id]&date=1&filter[date_upd]=[2026-01-01 00:00:00,2027-01-01 00:00:00]")).await.json();
    assert_eq!(dated["products"].as_array().unwrap().len(), 4);
    let full = get(&sim, &q("display=full&limit=1")).await.json();
    assert!(full["products"][0]["associations"]["stock_availables"].is_array(), "{full}");
}

#[tokio::test]
async fn put_replaces_the_whole_object_and_input_is_xml_only() {
    let sim = shop().await;
    sim.add_product(&product("ABC-1", 5, &[]));
    sim.place_order(&order_spec(&[("ABC-1", 1)])).unwrap();
    let oc = get(&sim, "/order_carriers/1?output_format=JSON").await.json();
    assert_eq!(oc["order_carrier"]["weight"], "1.250000");
    // A PUT with only the tracking number wipes every other optional field.
    let partial = "<prestashop><order_carrier><id>1</id><id_order>1</id_order><id_carrier>4</id_carrier>\
                   <tracking_number>3STEST123</tracking_number></order_carrier></prestashop>";
    let r =
        send(&sim, Some(sim.ws_key()), Method::PUT, "/order_carriers/1?output_format=JSON", Some(partial.into())).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["order_carrier"]["tracking_number"], "3STEST123");
    assert_eq!(r.json()["order_carrier"]["weight"], "0");
    // PATCH changes only what it carries.
    let patch = "<prestashop><order_carrier><id>1</id><weight>2.5</weight></order_carrier></prestashop>";
    let r =
        send(&sim, Some(sim.ws_key()), Method::PATCH, "/order_carriers/1?output_format=JSON", Some(patch.into())).await;
    assert_eq!(
        (r.json()["order_carrier"]["weight"].as_str(), r.json()["order_carrier"]["tracking_number"].as_str()),
        (Some("2.5"), Some("3STEST123"))
    );
    let json_body =
        send(&sim, Some(sim.ws_key()), Method::PUT, "/order_carriers/1?output_format=JSON", Some("{\"id\":1}".into()))
            .await;
    assert_eq!((json_body.status, code_of(&json_body)), (500, 127));
    let no_id = send(
        &sim,
        Some(sim.ws_key()),
        Method::PUT,
        "/order_carriers/1?output_format=JSON",
        Some("<prestashop><order_carrier/></prestashop>".into()),
    )
    .await;
    assert_eq!((no_id.status, code_of(&no_id)), (400, 90));
    let missing = send(
        &sim,
        Some(sim.ws_key()),
        Method::PUT,
        "/order_carriers/9?output_format=JSON",
        Some(partial.replace("<id>1</id>", "<id>9</id>")),
    )
    .await;
    assert_eq!((missing.status, code_of(&missing)), (404, 92));
    let required = "<prestashop><order_carrier><id>1</id><id_order>1</id_order></order_carrier></prestashop>";
    let r = send(&sim, Some(sim.ws_key()), Method::PUT, "/order_carriers/1?output_format=JSON", Some(required.into()))
        .await;
    assert_eq!((r.status, code_of(&r)), (400, 41));
    let with_id = send(
        &sim,
        Some(sim.ws_key()),
        Method::POST,
        "/customer_threads?output_format=JSON",
        Some("<prestashop><customer_thread><id>4</id></customer_thread></prestashop>".into()),
    )
    .await;
    assert_eq!((with_id.status, code_of(&with_id)), (400, 91));
    let read_only = "<prestashop><product><id>1</id><price>1</price><name><language id=\"1\">x</language></name><quantity>9</quantity></product></prestashop>";
    let r = send(&sim, Some(sim.ws_key()), Method::PUT, "/products/1?output_format=JSON", Some(read_only.into())).await;
    assert_eq!((r.status, code_of(&r)), (400, 93));
}

#[tokio::test]
async fn order_histories_move_the_state_and_combination_stock_sums_up() {
    let sim = shop().await;
    sim.add_product(&product("SHIRT", 0, &[("SHIRT-S", 2), ("SHIRT-M", 3)]));
    assert_eq!(sim.field("products", 1, "quantity").as_deref(), Some("5"));
    let r = send(
        &sim,
        Some(sim.ws_key()),
        Method::GET,
        "/stock_availables?output_format=JSON&display=full&filter[id_product]=[1]&filter[id_product_attribute]=[2]",
        None,
    )
    .await
    .json();
    let row = &r["stock_availables"][0];
    let body = format!(
        "<prestashop><stock_available><id>{}</id><id_product>1</id_product><id_product_attribute>2</id_product_attribute>\
         <quantity>10</quantity><depends_on_stock>0</depends_on_stock><out_of_stock>2</out_of_stock></stock_available></prestashop>",
        row["id"]
    );
    let put = send(
        &sim,
        Some(sim.ws_key()),
        Method::PUT,
        &format!("/stock_availables/{}?output_format=JSON", row["id"]),
        Some(body),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(sim.field("products", 1, "quantity").as_deref(), Some("12"));

    sim.place_order(&order_spec(&[("SHIRT-M", 1)])).unwrap();
    let hist = "<prestashop><order_history><id_order>1</id_order><id_order_state>4</id_order_state></order_history></prestashop>";
    let r = send(
        &sim,
        Some(sim.ws_key()),
        Method::POST,
        "/order_histories?output_format=JSON&sendemail=1",
        Some(hist.into()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(sim.field("orders", 1, "current_state").as_deref(), Some("4"));
    assert!(sim.mails().iter().any(|m| m.template == "shipped"));
}

#[tokio::test]
async fn notifications_are_signed_and_can_be_duplicated_lost_or_reordered() {
    let sim = shop().await;
    let got: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/n",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                let sig = headers.get("x-kade-signature").unwrap().to_str().unwrap().to_owned();
                sink.lock().unwrap().push((sig, serde_json::from_slice(&body).unwrap()));
                assert_eq!(headers["x-kade-signature"].to_str().unwrap(), sign("s3cret", &body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/n", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let configure = |mode| sim.configure_notify(Some(NotifyConfig { url: url.clone(), secret: "s3cret".into(), mode }));
    let settle = || async {
        for _ in 0..100 {
            if sim.notify_in_flight() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("notifications did not settle");
    };
    sim.add_product(&product("A", 9, &[]));
    configure(NotifyMode::Normal);
    sim.place_order(&order_spec(&[("A", 1)])).unwrap();
    settle().await;
    configure(NotifyMode::Duplicate);
    sim.set_state(1, 3).unwrap();
    settle().await;
    configure(NotifyMode::Lost);
    sim.set_state(1, 4).unwrap();
    configure(NotifyMode::OutOfOrder);
    sim.set_state(1, 5).unwrap();
    sim.set_state(1, 6).unwrap();
    settle().await;
    let events: Vec<(String, u64)> = got
        .lock()
        .unwrap()
        .iter()
        .map(|(_, b)| (b["event"].as_str().unwrap().to_owned(), b["current_state"].as_u64().unwrap()))
        .collect();
    let status = |s| ("order.status_changed".to_owned(), s);
    assert_eq!(events, vec![("order.created".to_owned(), 2), status(3), status(3), status(6), status(5)]);
    assert!(sim.notify_deliveries().iter().any(|d| d.outcome == "lost"));
}

#[tokio::test]
async fn injected_faults_answer_in_the_webservice_format_and_drop_after_commit() {
    let sim = shop().await;
    let c = Client::new();
    let faults = format!("{}/_sim/faults", sim.root_url());
    c.post(&faults).json(&json!({"path": "/api/orders", "status": 503})).send().await.unwrap();
    let r = get(&sim, "/orders?output_format=JSON").await;
    assert_eq!(r.status, 503);
    assert!(r.json()["errors"].is_array());
    assert_eq!(get(&sim, "/orders?output_format=JSON").await.status, 200);
    sim.add_product(&product("A", 1, &[]));
    sim.place_order(&order_spec(&[("A", 1)])).unwrap();
    c.post(&faults).json(&json!({"path": "/api/order_histories", "drop_after_commit": true})).send().await.unwrap();
    let hist = "<prestashop><order_history><id_order>1</id_order><id_order_state>3</id_order_state></order_history></prestashop>";
    let sent = Client::new()
        .post(format!("{}/order_histories", sim.api_url()))
        .basic_auth(sim.ws_key(), Some(""))
        .body(hist)
        .send()
        .await;
    assert!(sent.is_err(), "the answer must never arrive");
    assert_eq!(sim.field("orders", 1, "current_state").as_deref(), Some("3"), "but the change was committed");
    let journal = sim.journal();
    assert!(
        journal
            .iter()
            .any(|e| e.method == "POST" && e.path == "/api/order_histories" && e.body.contains("<id_order_state>3"))
    );
}
