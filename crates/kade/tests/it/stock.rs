//! Picqer's stock rules, through the client: never negative, never below picklist reservations,
//! free stock = stock - reserved, and orders moving stock through allocation, picking and shipping.

use kade_core::ids::{ProductId, WarehouseId};
use kade_picqer::types::{NewOrder, NewOrderLine, ProductFilter, StockChange, StockEntry};
use kade_picqer::{ErrorClass, PicqerClient};

use crate::support::{client, sim};

async fn entry(picqer: &PicqerClient, id: ProductId, wh: WarehouseId) -> StockEntry {
    picqer.stock_in(id, wh).await.unwrap()
}

fn assert_arithmetic(s: &StockEntry) {
    assert_eq!(s.reserved, s.reservedbackorders + s.reservedpicklists + s.reservedallocations, "{s:?}");
    assert_eq!(s.freestock, s.stock - s.reserved, "{s:?}");
}

#[tokio::test]
async fn stock_never_goes_negative_nor_below_picklist_reservations() {
    let sim = sim(20).await;
    let picqer = client(&sim);
    let product = picqer.products(&ProductFilter::default()).collect_all().await.unwrap().remove(0);
    let warehouses = picqer.warehouses().await.unwrap();
    for w in &warehouses {
        let s = picqer
            .change_stock(
                product.idproduct,
                w.idwarehouse,
                &StockChange::Absolute { amount: 10, reason: "count".into() },
            )
            .await
            .unwrap();
        assert_eq!(s.stock, 10);
        assert_arithmetic(&s);
    }
    let wh = warehouses[0].idwarehouse;
    for bad in [
        StockChange::Absolute { amount: -1, reason: "x".into() },
        StockChange::Relative { change: -11, reason: "x".into() },
    ] {
        let err = picqer.change_stock(product.idproduct, wh, &bad).await.unwrap_err();
        assert_eq!((err.status(), err.class()), (Some(400), ErrorClass::Permanent), "{err}");
    }
    assert_eq!(entry(&picqer, product.idproduct, wh).await.stock, 10, "a refused change changes nothing");
    let s = picqer
        .change_stock(product.idproduct, wh, &StockChange::Relative { change: -3, reason: "damaged".into() })
        .await
        .unwrap();
    assert_eq!((s.stock, s.freestock), (7, 7));

    // An order for 4: allocation, then picklist reservation, then consumption on close.
    let order = picqer
        .create_order(&NewOrder {
            reference: Some("STOCK-1".into()),
            deliveryname: Some("A".into()),
            deliverycountry: Some("NL".into()),
            invoicename: Some("A".into()),
            invoicecountry: Some("NL".into()),
            products: vec![NewOrderLine::by_id(product.idproduct, 4)],
            ..Default::default()
        })
        .await
        .unwrap();
    picqer.allocate_order(order.idorder).await.unwrap();
    let total_alloc: i64 = picqer.stock(product.idproduct).await.unwrap().iter().map(|s| s.reservedallocations).sum();
    assert_eq!(total_alloc, 4);

    let order = picqer.process_order(order.idorder).await.unwrap();
    let stock = picqer.stock(product.idproduct).await.unwrap();
    let reserved = stock.iter().find(|s| s.reservedpicklists == 4).expect("a warehouse holds the picklist reservation");
    assert_eq!(
        stock.iter().map(|s| s.reservedallocations).sum::<i64>(),
        0,
        "allocation turns into a picklist reservation"
    );
    assert_arithmetic(reserved);
    let (wh, before) = (reserved.idwarehouse, reserved.stock);

    let err = picqer
        .change_stock(product.idproduct, wh, &StockChange::Absolute { amount: 3, reason: "x".into() })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "cannot go below what picklists reserved: {err}");

    let picklist = order.picklists.first().expect("processing with free stock creates a picklist");
    picqer.close_picklist(picklist.idpicklist).await.unwrap();
    let after = entry(&picqer, product.idproduct, wh).await;
    assert_eq!((after.stock, after.reservedpicklists), (before - 4, 0));
    assert_arithmetic(&after);
}
