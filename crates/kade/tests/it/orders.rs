//! An order's life and cancellation, with the webhook events the simulator emits on the way.

use kade_picqer::types::{
    NewHook, NewOrder, NewOrderLine, NewShipment, OrderStatus, Product, ProductFilter, StockChange,
};
use kade_picqer::{CancelMode, PicqerClient};
use serde_json::Value;

use crate::support::{Receiver, client, sim};

const ORDER_EVENTS: [&str; 7] = [
    "orders.created",
    "orders.status_changed",
    "orders.closed",
    "orders.completed",
    "picklists.created",
    "picklists.closed",
    "picklists.shipments.created",
];

fn new_order(p: &Product, amount: i64, reference: &str) -> NewOrder {
    NewOrder {
        reference: Some(reference.into()),
        emailaddress: Some("jan@example.nl".into()),
        deliveryname: Some("Jan Jansen".into()),
        deliverycountry: Some("NL".into()),
        invoicename: Some("Jan Jansen".into()),
        invoicecountry: Some("NL".into()),
        products: vec![NewOrderLine::by_id(p.idproduct, amount)],
        ..Default::default()
    }
}

async fn stocked_product(picqer: &PicqerClient, amount: i64) -> Product {
    let p = picqer.products(&ProductFilter::default()).collect_all().await.unwrap().remove(0);
    for w in picqer.warehouses().await.unwrap() {
        picqer
            .change_stock(p.idproduct, w.idwarehouse, &StockChange::Absolute { amount, reason: "test".into() })
            .await
            .unwrap();
    }
    p
}

#[tokio::test]
async fn concept_to_completed_with_events_in_order() {
    let sim = sim(20).await;
    let picqer = client(&sim);
    let product = stocked_product(&picqer, 10).await;
    let rx = Receiver::start(200).await;
    for event in ORDER_EVENTS {
        let hook =
            NewHook { name: event.into(), event: event.into(), address: rx.url.clone(), secret: Some("s".into()) };
        picqer.create_hook(&hook).await.unwrap();
    }

    let order = picqer.create_order(&new_order(&product, 2, "LIFE-1")).await.unwrap();
    assert_eq!(order.status, OrderStatus::Concept);
    let order = picqer.process_order(order.idorder).await.unwrap();
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.picklists.len(), 1);
    let picklist = picqer.close_picklist(order.picklists[0].idpicklist).await.unwrap();
    assert_eq!(picklist.status, "closed");
    assert_eq!(picqer.order(order.idorder).await.unwrap().status, OrderStatus::Processing, "not shipped yet");
    let shipment = picqer.create_shipment(picklist.idpicklist, &NewShipment::default()).await.unwrap();
    assert!(shipment.trackingcode.is_some());
    assert_eq!(picqer.order(order.idorder).await.unwrap().status, OrderStatus::Completed);

    // Emission order, from the simulator's delivery log (arrival order may differ: deliveries
    // run concurrently, as Picqer's may).
    sim.hooks().settle().await;
    let mut records = sim.hooks().deliveries();
    records.sort_by_key(|d| d.iddelivery);
    let events: Vec<&str> = records.iter().map(|d| d.event.as_str()).collect();
    let pos = |e: &str| events.iter().position(|x| *x == e).unwrap_or_else(|| panic!("{e} missing: {events:?}"));
    assert!(pos("orders.created") < pos("orders.closed"), "{events:?}");
    assert!(pos("orders.closed") < pos("picklists.created"), "{events:?}");
    assert!(pos("picklists.created") < pos("picklists.closed"), "{events:?}");
    assert!(pos("picklists.closed") < pos("picklists.shipments.created"), "{events:?}");
    assert!(pos("picklists.shipments.created") < pos("orders.completed"), "{events:?}");

    // Every delivery arrived, signed, and the status changes tell the story.
    let bodies = rx.wait_for(records.len()).await;
    assert_eq!(bodies.len(), records.len(), "every emitted event reached the receiver");
    assert!(bodies.iter().all(|b| b.signature.is_some()));
    let mut statuses: Vec<String> = bodies
        .iter()
        .map(|b| serde_json::from_slice::<Value>(&b.body).unwrap())
        .filter(|v| v["event"] == "orders.status_changed")
        .map(|v| v["data"]["status"].as_str().unwrap_or_default().to_string())
        .collect();
    statuses.sort();
    assert_eq!(statuses, vec!["completed", "processing"]);
}

#[tokio::test]
async fn cancel_needs_force_once_processing() {
    let sim = sim(20).await;
    let picqer = client(&sim);
    let product = stocked_product(&picqer, 10).await;

    let concept = picqer.create_order(&new_order(&product, 1, "CANCEL-1")).await.unwrap();
    picqer.cancel_order(concept.idorder, CancelMode::Normal).await.unwrap();
    assert_eq!(picqer.order(concept.idorder).await.unwrap().status, OrderStatus::Cancelled);

    let free_before: i64 = picqer.stock(product.idproduct).await.unwrap().iter().map(|s| s.freestock).sum();
    let order = picqer.create_order(&new_order(&product, 3, "CANCEL-2")).await.unwrap();
    picqer.process_order(order.idorder).await.unwrap();
    let free_during: i64 = picqer.stock(product.idproduct).await.unwrap().iter().map(|s| s.freestock).sum();
    assert_eq!(free_during, free_before - 3);

    let err = picqer.cancel_order(order.idorder, CancelMode::Normal).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(picqer.order(order.idorder).await.unwrap().status, OrderStatus::Processing);

    picqer.cancel_order(order.idorder, CancelMode::Force).await.unwrap();
    let cancelled = picqer.order(order.idorder).await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    let free_after: i64 = picqer.stock(product.idproduct).await.unwrap().iter().map(|s| s.freestock).sum();
    assert_eq!(free_after, free_before, "force-cancel releases the picklist reservation");
}

#[tokio::test]
async fn without_free_stock_processing_makes_backorders() {
    let sim = sim(20).await;
    let picqer = client(&sim);
    let product = stocked_product(&picqer, 0).await;
    let order = picqer.create_order(&new_order(&product, 2, "BACK-1")).await.unwrap();
    let order = picqer.process_order(order.idorder).await.unwrap();
    assert_eq!(order.status, OrderStatus::Processing);
    assert!(order.picklists.is_empty());
    let backorders = picqer.order_backorders(order.idorder).await.unwrap();
    assert_eq!(backorders.iter().map(|b| b.amount).sum::<i64>(), 2);
}
