//! Purchase orders and receipts (v2).

use kade_core::datetime::deserialize_opt;
use kade_core::ids::{ProductId, PurchaseOrderId, ReceiptId, SupplierId, WarehouseId};
use kade_core::{Money, PicqerDateTime};
use serde::{Deserialize, Serialize};

use super::null_default;

/// A purchase order: `concept`, `purchased`, `received`, `cancelled`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PurchaseOrder {
    pub idpurchaseorder: PurchaseOrderId,
    #[serde(default, deserialize_with = "null_default")]
    pub purchaseorderid: String,
    #[serde(default)]
    pub idsupplier: Option<SupplierId>,
    #[serde(default)]
    pub idwarehouse: Option<WarehouseId>,
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
    #[serde(default)]
    pub delivery_date: Option<String>,
    #[serde(default, deserialize_with = "deserialize_opt")]
    pub updated: Option<PicqerDateTime>,
    #[serde(default, deserialize_with = "null_default")]
    pub products: Vec<PurchaseOrderLine>,
}

/// A purchase order line.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PurchaseOrderLine {
    #[serde(default)]
    pub idpurchaseorder_product: Option<u64>,
    pub idproduct: ProductId,
    #[serde(default)]
    pub productcode: Option<String>,
    #[serde(default)]
    pub price: Option<Money>,
    #[serde(default, deserialize_with = "null_default")]
    pub amount: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub amountreceived: i64,
}

/// A line of a new purchase order.
#[derive(Clone, Debug, Serialize)]
pub struct NewPurchaseOrderLine {
    pub idproduct: ProductId,
    pub amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
}

/// Body of `POST /purchaseorders`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewPurchaseOrder {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idsupplier: Option<SupplierId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idwarehouse: Option<WarehouseId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_date: Option<String>,
    pub products: Vec<NewPurchaseOrderLine>,
}

/// A receipt (goods in): `processing` or `completed`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Receipt {
    pub idreceipt: ReceiptId,
    #[serde(default, deserialize_with = "null_default")]
    pub receiptid: String,
    #[serde(default)]
    pub idwarehouse: Option<WarehouseId>,
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
    #[serde(default)]
    pub purchaseorder: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "deserialize_opt")]
    pub completed_at: Option<PicqerDateTime>,
}
