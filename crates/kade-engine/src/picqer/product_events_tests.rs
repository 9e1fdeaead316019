//! The pure part of the version rules: which delivery a job applies, and when it must re-read.

use super::*;

fn delivery(event_id: i64, at: &str, freestock: Option<i64>) -> ProductDelivery {
    let data = match freestock {
        Some(f) => serde_json::json!({"idproduct": 7, "productcode": "P7", "name": "Seven",
            "stock": [{"idwarehouse": 1, "stock": f, "reserved": 0, "freestock": f}]}),
        None => serde_json::json!({"idproduct": 7, "productcode": "P7", "name": "Seven"}),
    };
    let body = serde_json::json!({"idhook": 1, "name": "h", "event": "products.free_stock_changed",
        "event_triggered_at": at, "data": data});
    ProductDelivery::parse(event_id, 7, body.to_string().as_bytes()).expect("an envelope")
}

fn applied(c: Choice<'_>) -> (i64, String) {
    match c {
        Choice::Apply(p, t) => (p.stock[0].freestock, t.to_string()),
        Choice::Reread { reason, .. } => panic!("re-read: {reason}"),
    }
}

#[test]
fn the_newest_second_wins_whatever_the_arrival_order() {
    let ds = [delivery(1, "2026-03-01 10:00:05", Some(5)), delivery(2, "2026-03-01 10:00:02", Some(2))];
    assert_eq!(applied(choose(&ds)), (5, "2026-03-01 10:00:05".to_string()));
}

#[test]
fn identical_states_of_one_second_are_not_ambiguous() {
    // stock_changed and free_stock_changed fire together for one change.
    let ds = [delivery(1, "2026-03-01 10:00:05", Some(5)), delivery(2, "2026-03-01 10:00:05", Some(5))];
    assert_eq!(applied(choose(&ds)).0, 5);
}

#[test]
fn different_states_of_one_second_are_reread_no_lower_than_that_second() {
    let ds = [delivery(1, "2026-03-01 10:00:05", Some(5)), delivery(2, "2026-03-01 10:00:05", Some(4))];
    match choose(&ds) {
        Choice::Reread { not_below, .. } => assert_eq!(not_below, delivery_version(ds[0].triggered_at)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_body_without_stock_or_for_another_product_is_reread() {
    assert!(matches!(choose(&[delivery(1, "2026-03-01 10:00:05", None)]), Choice::Reread { .. }));
    // An older complete delivery does not stand in for a newer incomplete one.
    let ds = [delivery(1, "2026-03-01 10:00:01", Some(1)), delivery(2, "2026-03-01 10:00:05", None)];
    assert!(matches!(choose(&ds), Choice::Reread { .. }));
    let body = br#"{"event_triggered_at":"2026-03-01 10:00:05","data":{"idproduct":8,"stock":[]}}"#;
    assert!(ProductDelivery::parse(1, 7, body).unwrap().product.is_none(), "another product's body");
    assert!(ProductDelivery::parse(1, 7, b"{not json").is_none());
    assert!(matches!(choose(&[]), Choice::Reread { .. }));
}

#[test]
fn a_delivery_covers_its_whole_second() {
    let t: PicqerDateTime = "1970-01-01 00:00:02".parse().unwrap();
    assert_eq!(delivery_version(t), 2_999);
}
