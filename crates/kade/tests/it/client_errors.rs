//! Error paths: credentials, Picqer's error envelope, and a hostile network.

use std::time::Duration;

use kade_core::Money;
use kade_core::ids::{ProductId, VatGroupId};
use kade_picqer::types::{NewOrder, NewOrderLine, NewProduct, ProductFilter};
use kade_picqer::{ApiKey, ClientConfig, ErrorClass, PicqerClient, PicqerError, codes};
use serde_json::json;

use crate::support::{client, client_with, control, journal_for, sim};

fn order_for(code: &str, reference: &str) -> NewOrder {
    NewOrder {
        reference: Some(reference.into()),
        deliveryname: Some("Jan Jansen".into()),
        deliveryaddress: Some("Straat 1".into()),
        deliveryzipcode: Some("1234AB".into()),
        deliverycity: Some("Arnhem".into()),
        deliverycountry: Some("NL".into()),
        invoicename: Some("Jan Jansen".into()),
        invoicecountry: Some("NL".into()),
        products: vec![NewOrderLine::by_code(code, 1)],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_permanent() {
    let sim = sim(10).await;
    let bad = PicqerClient::new(ClientConfig::with_base_url(sim.base_url(), ApiKey::new("wrong"))).unwrap();
    let err = bad.warehouses().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(bad.stats().requests, 1, "401 is not retried");
    // The key never appears in the error text or the config's Debug output.
    assert!(!format!("{err} {:?}", bad.config()).contains("wrong"));
}

#[tokio::test]
async fn picqer_error_codes_are_kept_and_classified() {
    let sim = sim(10).await;
    let picqer = client(&sim);

    let err = picqer.product(ProductId(999_999)).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");

    let bad_vat = NewProduct {
        productcode: "NEW-1".into(),
        name: "New".into(),
        price: Money::from_cents(995),
        idvatgroup: VatGroupId(424_242),
        ..Default::default()
    };
    let err = picqer.create_product(&bad_vat).await.unwrap_err();
    assert_eq!((err.status(), err.error_code()), (Some(400), Some(codes::UNKNOWN_VATGROUP)), "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent);

    let err = picqer.create_order(&order_for("NO-SUCH-CODE", "ERR-1")).await.unwrap_err();
    assert_eq!((err.status(), err.error_code()), (Some(400), Some(codes::PRODUCT_NOT_FOUND)), "{err}");

    let mut missing = order_for("x", "ERR-2");
    missing.products.clear();
    let err = picqer.create_order(&missing).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "validation is 400, never 422: {err}");

    let product = picqer.products(&ProductFilter::default()).collect_all().await.unwrap().remove(0);
    let order = picqer.create_order(&order_for(&product.productcode, "ERR-3")).await.unwrap();
    picqer.process_order(order.idorder).await.unwrap();
    let err = picqer.process_order(order.idorder).await.unwrap_err();
    assert!(err.is_already_processed(), "processing twice should be error 32: {err}");
}

#[tokio::test]
async fn a_429_is_waited_out_and_the_identical_request_resent() {
    let sim = sim(250).await;
    let picqer = client(&sim);
    control(
        &sim,
        "POST",
        "/_sim/faults",
        json!({"method": "GET", "path": "/api/v1/products", "status": 429, "times": 2}),
    )
    .await;
    let mut pager = picqer.products(&ProductFilter::default()).starting_at(100);
    let page = pager.next_page().await.unwrap().unwrap();
    assert_eq!(page.len(), 100);
    assert_eq!(picqer.stats().rate_limited, 2);
    let sent = journal_for(&sim, "GET", "/api/v1/products");
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|e| e.query == sent[0].query && e.query.contains("offset=100")), "{sent:?}");
    assert_eq!(sent.iter().map(|e| e.status).collect::<Vec<_>>(), vec![429, 429, 200]);
}

#[tokio::test]
async fn server_errors_are_retried_only_where_repeating_is_safe() {
    let sim = sim(10).await;
    let picqer = client(&sim);
    control(
        &sim,
        "POST",
        "/_sim/faults",
        json!({"method": "GET", "path": "/api/v1/warehouses", "status": 500, "times": 2}),
    )
    .await;
    assert!(!picqer.warehouses().await.unwrap().is_empty());
    assert_eq!(journal_for(&sim, "GET", "/api/v1/warehouses").len(), 3);

    control(
        &sim,
        "POST",
        "/_sim/faults",
        json!({"method": "POST", "path": "/api/v1/orders", "status": 503, "times": 1}),
    )
    .await;
    let code = picqer.products(&ProductFilter::default()).collect_all().await.unwrap()[0].productcode.clone();
    let err = picqer.create_order(&order_for(&code, "R-503")).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
    assert_eq!(journal_for(&sim, "POST", "/api/v1/orders").len(), 1, "a create is never blindly resent");
}

#[tokio::test]
async fn a_dropped_create_is_flagged_and_found_by_reference_not_duplicated() {
    let sim = sim(10).await;
    let picqer = client(&sim);
    let code = picqer.products(&ProductFilter::default()).collect_all().await.unwrap()[0].productcode.clone();
    control(
        &sim,
        "POST",
        "/_sim/faults",
        json!({"method": "POST", "path": "/api/v1/orders", "drop_after_commit": true}),
    )
    .await;
    let err = picqer.create_order(&order_for(&code, "WEB-DROP-1")).await.unwrap_err();
    assert!(matches!(err, PicqerError::Transport { maybe_applied: true, .. }), "{err}");
    // The recovery path: look up before creating again. Exactly one order exists.
    let found = picqer.orders_by_reference("WEB-DROP-1").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(journal_for(&sim, "POST", "/api/v1/orders").len(), 1);
}

#[tokio::test]
async fn a_slow_answer_times_out_and_a_safe_request_is_retried() {
    let sim = sim(10).await;
    let picqer = client_with(&sim, |c| c.timeout = Duration::from_millis(300));
    control(
        &sim,
        "POST",
        "/_sim/faults",
        json!({"method": "GET", "path": "/api/v1/vatgroups", "latency_ms": 1500, "times": 1}),
    )
    .await;
    assert!(!picqer.vatgroups().await.unwrap().is_empty());
    assert_eq!(picqer.stats().retries, 1);
}
