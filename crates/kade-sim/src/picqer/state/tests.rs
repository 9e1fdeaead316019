//! Event order and bookkeeping of world operations, checked on the queue itself (no HTTP, no
//! delivery engine), so the documented emission order is pinned down exactly.

use serde_json::{Map, Value, json};

use super::*;
use crate::clock::SimClock;
use crate::picqer::seed::seed;

fn world() -> World {
    let mut w = World::new(SimClock::manual(1_767_225_600_000));
    seed(&mut w, 1, 10);
    w
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn names(w: &mut World) -> Vec<&'static str> {
    w.take_events().into_iter().map(|(e, _)| e).collect()
}

fn product_with_stock(w: &mut World, code: &str, stock: i64) -> u64 {
    let body = obj(json!({"name": code, "price": 2, "productcode": code, "idvatgroup": 201}));
    let id = product_ops::create(w, &body).expect("product");
    w.add_stock(id, 0, stock, "test").expect("stock");
    w.take_events();
    id
}

fn order(w: &mut World, id: u64, amount: i64) -> u64 {
    let body = obj(json!({
        "deliveryname": "A", "deliverycountry": "NL", "invoicename": "A", "invoicecountry": "NL",
        "products": [{"idproduct": id, "amount": amount}],
    }));
    order_ops::create(w, &body).expect("order")
}

#[test]
fn process_close_ship_fire_events_in_the_documented_order() {
    let mut w = world();
    let p = product_with_stock(&mut w, "EV-1", 5);
    let o = order(&mut w, p, 2);
    assert_eq!(names(&mut w), ["orders.created"]);

    picking::allocate(&mut w, o).expect("allocate");
    assert_eq!(names(&mut w), ["orders.allocated", "products.free_stock_changed"]);

    picking::process(&mut w, o).expect("process");
    // Allocation moved to the picklist: free stock unchanged, so no stock event.
    assert_eq!(names(&mut w), ["orders.status_changed", "orders.closed", "picklists.created"]);

    let pid = w.orders[&o].picklists[0];
    picklist_ops::close(&mut w, pid).expect("close");
    assert_eq!(names(&mut w), ["picklists.closed", "products.stock_changed", "products.free_stock_changed"]);

    picklist_ops::add_shipment(&mut w, pid, &picklist_ops::ShipmentSpec::default()).expect("ship");
    assert_eq!(names(&mut w), ["picklists.shipments.created", "orders.status_changed", "orders.completed"]);
    assert_eq!(w.orders[&o].status, "completed");
}

#[test]
fn forced_cancel_releases_everything_and_has_no_cancelled_event() {
    let mut w = world();
    let p = product_with_stock(&mut w, "EV-2", 1);
    let mut body = obj(json!({
        "deliveryname": "A", "deliverycountry": "NL", "invoicename": "A", "invoicecountry": "NL",
        "partialdelivery": true, "products": [{"idproduct": p, "amount": 3}],
    }));
    body.insert("reference".into(), json!("R"));
    let o = order_ops::create(&mut w, &body).expect("order");
    picking::process(&mut w, o).expect("process");
    let events = names(&mut w);
    assert_eq!(&events[..4], ["orders.created", "orders.status_changed", "orders.closed", "picklists.created"]);
    assert_eq!(w.level(p, 0).map(|l| (l.reservedpicklists, l.reservedbackorders)), Some((1, 2)));

    assert!(picking::cancel(&mut w, o, false).is_err());
    picking::cancel(&mut w, o, true).expect("forced cancel");
    assert_eq!(names(&mut w), ["orders.status_changed", "picklists.cancelled", "products.free_stock_changed"]);
    let level = w.level(p, 0).cloned().unwrap_or_default();
    assert_eq!((level.reserved(), level.free()), (0, 1));
    assert!(w.backorders.is_empty());
}

#[test]
fn pause_and_resume_carry_the_picklists_along() {
    let mut w = world();
    let p = product_with_stock(&mut w, "EV-3", 4);
    let o = order(&mut w, p, 1);
    picking::process(&mut w, o).expect("process");
    w.take_events();
    picking::pause(&mut w, o).expect("pause");
    assert_eq!(names(&mut w), ["orders.status_changed", "orders.paused", "picklists.paused"]);
    let pid = w.orders[&o].picklists[0];
    assert!(picklist_ops::close(&mut w, pid).is_err(), "paused picklists cannot be closed");
    picking::resume(&mut w, o).expect("resume");
    assert_eq!(names(&mut w), ["orders.status_changed", "orders.resumed", "picklists.resumed"]);
}

#[test]
fn purchase_receipt_and_return_flows_restock() {
    let mut w = world();
    let p = product_with_stock(&mut w, "EV-4", 0);
    let body = obj(json!({"idsupplier": 601, "products": [{"idproduct": p, "amount": 6}]}));
    let po = purchasing::create(&mut w, &body).expect("po");
    assert!(receipts::create(&mut w, &obj(json!({"idpurchaseorder": po}))).is_err(), "concept");
    purchasing::mark_purchased(&mut w, po).expect("purchase");
    assert_eq!(names(&mut w), ["purchase_orders.created", "purchase_orders.changed", "purchase_orders.purchased"]);
    let r = receipts::create(&mut w, &obj(json!({"idpurchaseorder": po}))).expect("receipt");
    receipts::add_product(&mut w, r, &obj(json!({"idproduct": p, "amount": 2})), false).expect("scan");
    assert_eq!(
        names(&mut w),
        ["receipts.created", "receipts.product_received", "products.stock_changed", "products.free_stock_changed"]
    );
    receipts::mark_all_received(&mut w, r).expect("all");
    assert_eq!(w.purchaseorders[&po].status, "received");
    assert_eq!(w.level(p, 0).map(|l| l.stock), Some(6));
    let events = names(&mut w);
    assert_eq!(events.first(), Some(&"receipts.product_received"));
    assert_eq!(events.last(), Some(&"receipts.completed"));
    assert!(events.contains(&"purchase_orders.changed"));

    let o = order(&mut w, p, 2);
    let ret =
        returns::create(&mut w, &obj(json!({"idorder": o, "returned_products": [{"idproduct": p, "amount": 2}]})))
            .expect("return");
    assert_eq!(w.returns[&ret].text.get("name").map(String::as_str), Some("A"));
    returns::add_log(&mut w, ret, &obj(json!({"idreturn_status": 502}))).expect("log");
    returns::receive(&mut w, ret, &Map::new()).expect("receive");
    assert_eq!(w.level(p, 0).map(|l| l.stock), Some(8));
    assert_eq!(
        names(&mut w),
        [
            "orders.created",
            "returns.created",
            "returns.status_changed",
            "returns.products_received",
            "products.stock_changed",
            "products.free_stock_changed"
        ]
    );
}
