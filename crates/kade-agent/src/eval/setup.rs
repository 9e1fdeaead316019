//! Creating the evaluation's orders in a Picqer simulator: through the public API (create,
//! process) as a shop would, and through the simulator's control API for what warehouse staff
//! do (stock counts, picking, shipping, expected dates).

use std::collections::HashMap;

use kade_picqer::PicqerClient;
use kade_picqer::types::{NewOrder, NewOrderLine, ProductFilter};
use serde_json::{Value, json};

use super::{EvalError, OrderSpec, ProductSpec};

/// An order as created.
#[derive(Clone, Debug)]
pub struct CreatedOrder {
    pub idorder: u64,
    pub orderid: String,
}

fn err(key: &str, message: impl std::fmt::Display) -> EvalError {
    EvalError::Setup { key: key.to_string(), message: message.to_string() }
}

async fn control(http: &reqwest::Client, root: &str, key: &str, path: &str, body: Value) -> Result<Value, EvalError> {
    let resp = http.post(format!("{root}/_sim{path}")).json(&body).send().await.map_err(|e| err(key, e))?;
    let status = resp.status();
    let v: Value = resp.json().await.map_err(|e| err(key, e))?;
    if !status.is_success() {
        return Err(err(key, format!("control {path} answered {status}: {v}")));
    }
    Ok(v)
}

/// Creates the products with their stock (main warehouse; 0 in the others).
pub async fn create_products(client: &PicqerClient, root_url: &str, specs: &[ProductSpec]) -> Result<(), EvalError> {
    let http = reqwest::Client::new();
    let root = root_url.trim_end_matches('/');
    let warehouses = client.warehouses().await.map_err(|e| err("-", e))?;
    let vat = client.vatgroups().await.map_err(|e| err("-", e))?;
    let vat = vat.first().ok_or_else(|| err("-", "the account has no VAT groups"))?.idvatgroup;
    for spec in specs {
        let key = spec.code.as_str();
        let p = kade_picqer::types::NewProduct {
            productcode: spec.code.clone(),
            name: spec.name.clone(),
            price: kade_core::Money::from_cents(2995),
            idvatgroup: vat,
            barcode: spec.barcode.clone(),
            ..Default::default()
        };
        let created = client.create_product(&p).await.map_err(|e| err(key, e))?;
        for (i, w) in warehouses.iter().enumerate() {
            let amount = if i == 0 { spec.stock } else { 0 };
            let body = json!({"idwarehouse": w.idwarehouse.0, "amount": amount, "reason": "eval"});
            control(&http, root, key, &format!("/products/{}/stock", created.idproduct), body).await?;
        }
    }
    Ok(())
}

/// Creates `specs` in the simulator at `root_url` (its control API) through `client` (its API).
pub async fn create_orders(
    client: &PicqerClient,
    root_url: &str,
    specs: &[OrderSpec],
) -> Result<HashMap<String, CreatedOrder>, EvalError> {
    let http = reqwest::Client::new();
    let root = root_url.trim_end_matches('/');
    let warehouses = client.warehouses().await.map_err(|e| err("-", e))?;
    let mut out = HashMap::new();
    for spec in specs {
        let key = spec.key.as_str();
        for s in &spec.stock {
            let p = client
                .products(&ProductFilter { productcode: Some(s.code.clone()), ..Default::default() })
                .collect_all()
                .await
                .map_err(|e| err(key, e))?;
            let p = p.first().ok_or_else(|| err(key, format!("no product {}", s.code)))?;
            for (i, w) in warehouses.iter().enumerate() {
                let amount = if i == 0 { s.amount } else { 0 };
                control(
                    &http,
                    root,
                    key,
                    &format!("/products/{}/stock", p.idproduct),
                    json!({"idwarehouse": w.idwarehouse.0, "amount": amount, "reason": "eval"}),
                )
                .await?;
            }
        }
        let order = NewOrder {
            reference: spec.reference.clone(),
            emailaddress: spec.email.clone(),
            telephone: spec.phone.clone(),
            deliveryname: spec.name.clone().or(Some("Eval Customer".into())),
            deliveryaddress: Some("Dorpsstraat 1".into()),
            deliveryzipcode: spec.postcode.clone(),
            deliverycity: Some("Arnhem".into()),
            deliverycountry: Some("NL".into()),
            invoicename: spec.name.clone().or(Some("Eval Customer".into())),
            invoicecountry: Some("NL".into()),
            partialdelivery: Some(spec.partialdelivery),
            products: spec.lines.iter().map(|l| NewOrderLine::by_code(l.code.clone(), l.amount)).collect(),
            ..Default::default()
        };
        let created = client.create_order(&order).await.map_err(|e| err(key, e))?;
        let id = created.idorder;
        for step in &spec.steps {
            match step.as_str() {
                "process" => {
                    client.process_order(id).await.map_err(|e| err(key, e))?;
                }
                "pick" => {
                    control(&http, root, key, &format!("/orders/{id}/pick"), json!({})).await?;
                }
                "ship" => {
                    let body = json!({"parcels": spec.parcels, "separate_shipments": spec.separate_shipments});
                    control(&http, root, key, &format!("/orders/{id}/ship"), body).await?;
                }
                "pause" => {
                    client.pause_order(id).await.map_err(|e| err(key, e))?;
                }
                "cancel" => {
                    client.cancel_order(id, kade_picqer::CancelMode::Force).await.map_err(|e| err(key, e))?;
                }
                other => return Err(err(key, format!("unknown step {other:?}"))),
            }
        }
        if let Some(date) = &spec.backorder_date {
            for b in client.order_backorders(id).await.map_err(|e| err(key, e))? {
                control(
                    &http,
                    root,
                    key,
                    &format!("/backorders/{}/date-available", b.idbackorder),
                    json!({"date_available": date}),
                )
                .await?;
            }
        }
        out.insert(spec.key.clone(), CreatedOrder { idorder: id.0, orderid: created.orderid.clone() });
    }
    Ok(out)
}
