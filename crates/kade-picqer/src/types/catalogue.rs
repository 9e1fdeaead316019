//! Products, stock, warehouses, VAT groups.

use kade_core::datetime::deserialize_opt;
use kade_core::ids::{ProductId, SupplierId, VatGroupId, WarehouseId};
use kade_core::{Money, PicqerDateTime};
use serde::{Deserialize, Serialize};

use super::{Tags, lenient_bool, null_default};

/// A product as Picqer returns it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Product {
    pub idproduct: ProductId,
    #[serde(default)]
    pub idvatgroup: Option<VatGroupId>,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub productcode: String,
    #[serde(default)]
    pub price: Option<Money>,
    #[serde(default)]
    pub fixedstockprice: Option<Money>,
    #[serde(default)]
    pub idsupplier: Option<SupplierId>,
    #[serde(default)]
    pub productcode_supplier: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub barcode: Option<String>,
    /// `normal`, `unlimited_stock`, `virtual_composition`, `composition_with_stock`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub unlimitedstock: bool,
    #[serde(default)]
    pub weight: Option<i64>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub active: bool,
    #[serde(default)]
    pub idfulfilment_customer: Option<u64>,
    #[serde(default, deserialize_with = "deserialize_opt")]
    pub created: Option<PicqerDateTime>,
    #[serde(default, deserialize_with = "deserialize_opt")]
    pub updated: Option<PicqerDateTime>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default, deserialize_with = "null_default")]
    pub productfields: Vec<ProductField>,
    #[serde(default, deserialize_with = "null_default")]
    pub images: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub stock: Vec<StockEntry>,
}

impl Product {
    /// Whether stock is not tracked for this product (shops should show it as always available).
    pub fn has_unlimited_stock(&self) -> bool {
        self.unlimitedstock || self.kind.as_deref() == Some("unlimited_stock")
    }

    /// Free stock summed over the given warehouses (all when `warehouses` is empty).
    pub fn free_stock(&self, warehouses: &[WarehouseId]) -> i64 {
        self.stock
            .iter()
            .filter(|s| warehouses.is_empty() || warehouses.contains(&s.idwarehouse))
            .map(|s| s.freestock)
            .sum()
    }
}

/// A custom product field value.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ProductField {
    pub idproductfield: u64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

/// Stock of one product in one warehouse.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct StockEntry {
    pub idwarehouse: WarehouseId,
    #[serde(default, deserialize_with = "null_default")]
    pub stock: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub reserved: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub reservedbackorders: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub reservedpicklists: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub reservedallocations: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub freestock: i64,
    #[serde(default)]
    pub freepickablestock: Option<i64>,
}

/// A stock mutation for `POST /products/{id}/stock/{idwarehouse}`.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum StockChange {
    /// Add or remove (`{"change": -3, "reason": ...}`).
    Relative { change: i64, reason: String },
    /// Set to an absolute amount (`{"amount": 25, "reason": ...}`).
    Absolute { amount: i64, reason: String },
}

/// Body of `POST /products`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewProduct {
    pub productcode: String,
    pub name: String,
    pub price: Money,
    pub idvatgroup: VatGroupId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixedstockprice: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idsupplier: Option<SupplierId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub productcode_supplier: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// Body of `PUT /products/{id}`: only the fields that are set are sent.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ProductUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idvatgroup: Option<VatGroupId>,
}

/// Filters for `GET /products`.
#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    /// Exact productcode (case-sensitive).
    pub productcode: Option<String>,
    /// Free text over name, productcode, barcode.
    pub search: Option<String>,
    /// Only products changed after this moment (incremental sync).
    pub updated_after: Option<PicqerDateTime>,
    /// Include inactive products (Picqer lists active ones only by default).
    pub include_inactive: bool,
    /// Only these products (one request for many ids).
    pub idproducts: Vec<ProductId>,
}

impl ProductFilter {
    pub(crate) fn to_query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(v) = &self.productcode {
            q.push(("productcode".into(), v.clone()));
        }
        if let Some(v) = &self.search {
            q.push(("search".into(), v.clone()));
        }
        if let Some(v) = &self.updated_after {
            q.push(("updated_after".into(), v.to_string()));
        }
        if self.include_inactive {
            q.push(("inactive".into(), "true".into()));
        }
        if !self.idproducts.is_empty() {
            let ids: Vec<String> = self.idproducts.iter().map(|i| i.to_string()).collect();
            q.push(("idproducts".into(), ids.join(",")));
        }
        q
    }
}

/// One part of a composition (`/products/{id}/parts`).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ProductPart {
    pub idproduct_part: u64,
    pub idproduct: ProductId,
    #[serde(default, deserialize_with = "null_default")]
    pub amount: i64,
    #[serde(default)]
    pub productcode: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// A warehouse.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Warehouse {
    pub idwarehouse: WarehouseId,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub accept_orders: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub counts_for_general_stock: bool,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub active: bool,
}

/// A product image as Picqer lists it (`GET /products/{id}/images`).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ProductImage {
    pub idproduct_image: u64,
    #[serde(default)]
    pub idproduct: Option<ProductId>,
    #[serde(default, deserialize_with = "null_default")]
    pub url: String,
    #[serde(default, deserialize_with = "null_default")]
    pub contenttype: String,
    #[serde(default)]
    pub size: Option<u64>,
}

/// A VAT group (needed to create products).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct VatGroup {
    pub idvatgroup: VatGroupId,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Percentage, e.g. 21.
    #[serde(default)]
    pub percentage: Option<Money>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_real_shaped_product_with_nulls_and_unknown_fields() {
        let json = r#"{"idproduct":138,"idvatgroup":18,"name":"Shuffle","price":59.95,"fixedstockprice":null,
          "productcode":"DKS-092383","barcode":null,"type":"normal","unlimitedstock":false,"weight":null,
          "active":true,"created":"2015-12-30 13:36:36","updated":"","tags":[],"productfields":null,
          "some_new_field":{"x":1},"stock":[{"idwarehouse":1766,"stock":15,"reserved":1,"reservedbackorders":0,
          "reservedpicklists":1,"reservedallocations":0,"freestock":14}]}"#;
        let p: Product = serde_json::from_str(json).unwrap();
        assert_eq!(p.price.unwrap().cents(), 5995);
        assert!(p.updated.is_none());
        assert_eq!(p.free_stock(&[]), 14);
        assert_eq!(p.free_stock(&[WarehouseId(1)]), 0);
        assert!(!p.has_unlimited_stock());
    }

    #[test]
    fn stock_change_bodies_match_the_documented_shapes() {
        let rel = StockChange::Relative { change: -3, reason: "Damaged".into() };
        assert_eq!(serde_json::to_string(&rel).unwrap(), r#"{"change":-3,"reason":"Damaged"}"#);
        let abs = StockChange::Absolute { amount: 25, reason: "Count".into() };
        assert_eq!(serde_json::to_string(&abs).unwrap(), r#"{"amount":25,"reason":"Count"}"#);
        let upd = ProductUpdate { name: Some("N".into()), ..Default::default() };
        assert_eq!(serde_json::to_string(&upd).unwrap(), r#"{"name":"N"}"#);
    }
}
