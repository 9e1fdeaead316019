//! Returns and goods-in through the client: the simulator's and the client's readings of the
//! less-documented bodies (return receive, receipts) must agree.

use kade_core::ids::WarehouseId;
use kade_picqer::types::{
    NewOrder, NewOrderLine, NewPurchaseOrder, NewPurchaseOrderLine, NewReturn, ProductFilter, ReturnLine, StockChange,
};
use serde_json::json;

use crate::support::{client, control, sim};

#[tokio::test]
async fn a_shipped_order_is_returned_and_restocked() {
    let sim = sim(10).await;
    let picqer = client(&sim);
    let product = picqer.products(&ProductFilter::default()).collect_all().await.unwrap().remove(0);
    for w in picqer.warehouses().await.unwrap() {
        picqer
            .change_stock(product.idproduct, w.idwarehouse, &StockChange::Absolute { amount: 5, reason: "t".into() })
            .await
            .unwrap();
    }
    let order = picqer
        .create_order(&NewOrder {
            reference: Some("RET-1".into()),
            deliveryname: Some("A".into()),
            deliverycountry: Some("NL".into()),
            invoicename: Some("A".into()),
            invoicecountry: Some("NL".into()),
            products: vec![NewOrderLine::by_id(product.idproduct, 2)],
            ..Default::default()
        })
        .await
        .unwrap();
    picqer.process_order(order.idorder).await.unwrap();
    control(&sim, "POST", &format!("/_sim/orders/{}/pick", order.idorder), json!({})).await;
    control(&sim, "POST", &format!("/_sim/orders/{}/ship", order.idorder), json!({})).await;
    let total = |v: &[kade_picqer::types::StockEntry]| v.iter().map(|s| s.stock).sum::<i64>();
    let before = total(&picqer.stock(product.idproduct).await.unwrap());

    let statuses = picqer.return_statuses().await.unwrap();
    assert!(statuses.len() >= 2);
    let ret = picqer
        .create_return(&NewReturn {
            idorder: Some(order.idorder),
            idreturn_status: Some(statuses[0].idreturn_status),
            reference: Some("RMA-1".into()),
            returned_products: vec![ReturnLine { idproduct: product.idproduct, amount: 1 }],
        })
        .await
        .unwrap();
    assert_eq!(ret.idorder, Some(order.idorder));
    assert_eq!(ret.name.as_deref(), Some("A"), "name copied from the order");
    picqer.receive_return(ret.idreturn, &[ReturnLine { idproduct: product.idproduct, amount: 1 }]).await.unwrap();
    assert_eq!(total(&picqer.stock(product.idproduct).await.unwrap()), before + 1);
    picqer.set_return_status(ret.idreturn, statuses[1].idreturn_status, "checked").await.unwrap();
    let ret = picqer.return_(ret.idreturn).await.unwrap();
    assert_eq!(ret.idreturn_status, Some(statuses[1].idreturn_status));
    assert_eq!(ret.returned_products.iter().map(|l| l.amount_received).sum::<i64>(), 1);
}

#[tokio::test]
async fn a_purchase_order_is_bought_received_and_adds_stock() {
    let sim = sim(10).await;
    let picqer = client(&sim);
    let product = picqer.products(&ProductFilter::default()).collect_all().await.unwrap().remove(0);
    let supplier = picqer.suppliers().collect_all().await.unwrap().remove(0);
    let wh: WarehouseId = picqer.warehouses().await.unwrap()[0].idwarehouse;
    let before = picqer.stock_in(product.idproduct, wh).await.unwrap().stock;

    let po = picqer
        .create_purchase_order(&NewPurchaseOrder {
            idsupplier: Some(supplier.idsupplier),
            idwarehouse: Some(wh),
            products: vec![NewPurchaseOrderLine { idproduct: product.idproduct, amount: 6, price: None }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(po.status, "concept");
    assert_eq!(picqer.mark_purchased(po.idpurchaseorder).await.unwrap().status, "purchased");
    let receipt = picqer.create_receipt(po.idpurchaseorder).await.unwrap();
    assert_eq!(receipt.status, "processing");
    picqer.receive_product(receipt.idreceipt, product.idproduct, 4).await.unwrap();
    assert_eq!(picqer.stock_in(product.idproduct, wh).await.unwrap().stock, before + 4);
    assert_eq!(picqer.receive_all(receipt.idreceipt).await.unwrap().status, "completed");
    assert_eq!(picqer.stock_in(product.idproduct, wh).await.unwrap().stock, before + 6);
    let po = picqer.purchase_order(po.idpurchaseorder).await.unwrap();
    assert_eq!(po.status, "received");
    assert_eq!(po.products[0].amountreceived, 6);

    let other = picqer
        .create_purchase_order(&NewPurchaseOrder {
            supplier_name: Some("Ad-hoc BV".into()),
            products: vec![NewPurchaseOrderLine { idproduct: product.idproduct, amount: 1, price: None }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(picqer.cancel_purchase_order(other.idpurchaseorder).await.unwrap().status, "cancelled");
}
