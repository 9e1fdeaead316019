//! Orders, their lines, picklists, shipments and backorders.

use kade_core::datetime::deserialize_opt;
use kade_core::ids::{
    BackorderId, CustomerId, OrderId, OrderProductId, PicklistId, ProductId, ShipmentId, ShippingProfileId, VatGroupId,
    WarehouseId,
};
use kade_core::{Money, PicqerDateTime};
use serde::{Deserialize, Serialize};

use super::{Tags, lenient_bool, null_default};

/// An order's status. Unknown future statuses are kept as text rather than failing the parse.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Concept,
    Expected,
    Processing,
    Paused,
    Completed,
    Cancelled,
    #[serde(untagged)]
    Other(String),
}

impl OrderStatus {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            OrderStatus::Concept => "concept",
            OrderStatus::Expected => "expected",
            OrderStatus::Processing => "processing",
            OrderStatus::Paused => "paused",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Other(s) => s,
        }
    }
}

/// An order as Picqer returns it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Order {
    pub idorder: OrderId,
    /// Human-facing order number (digits as a string, e.g. "20140079").
    #[serde(default, deserialize_with = "null_default")]
    pub orderid: String,
    #[serde(default)]
    pub idcustomer: Option<CustomerId>,
    pub status: OrderStatus,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub emailaddress: Option<String>,
    #[serde(default)]
    pub telephone: Option<String>,
    #[serde(default)]
    pub deliveryname: Option<String>,
    #[serde(default)]
    pub deliverycontactname: Option<String>,
    #[serde(default)]
    pub deliveryaddress: Option<String>,
    #[serde(default)]
    pub deliveryaddress2: Option<String>,
    #[serde(default)]
    pub deliveryzipcode: Option<String>,
    #[serde(default)]
    pub deliverycity: Option<String>,
    #[serde(default)]
    pub deliverycountry: Option<String>,
    #[serde(default)]
    pub invoicename: Option<String>,
    #[serde(default)]
    pub invoicecountry: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub partialdelivery: bool,
    #[serde(default)]
    pub preferred_delivery_date: Option<String>,
    #[serde(default)]
    pub public_status_page: Option<String>,
    #[serde(default)]
    pub idfulfilment_customer: Option<u64>,
    #[serde(default, deserialize_with = "deserialize_opt")]
    pub created: Option<PicqerDateTime>,
    #[serde(default, deserialize_with = "deserialize_opt")]
    pub updated: Option<PicqerDateTime>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default, deserialize_with = "null_default")]
    pub products: Vec<OrderLine>,
    #[serde(default, deserialize_with = "null_default")]
    pub picklists: Vec<PicklistSummary>,
}

/// One order line. Parts of a composition appear as extra lines pointing at their parent.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct OrderLine {
    pub idorder_product: OrderProductId,
    pub idproduct: ProductId,
    #[serde(default)]
    pub idvatgroup: Option<VatGroupId>,
    #[serde(default, deserialize_with = "null_default")]
    pub productcode: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default)]
    pub remarks: Option<String>,
    #[serde(default)]
    pub price: Option<Money>,
    #[serde(default, deserialize_with = "null_default")]
    pub amount: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub amount_cancelled: i64,
    #[serde(default)]
    pub partof_idorder_product: Option<OrderProductId>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub has_parts: bool,
}

/// The picklist summary embedded in an order.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PicklistSummary {
    pub idpicklist: PicklistId,
    #[serde(default, deserialize_with = "null_default")]
    pub picklistid: String,
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
}

/// A line of a new order: by productcode or by idproduct.
#[derive(Clone, Debug, Serialize)]
pub struct NewOrderLine {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idproduct: Option<ProductId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub productcode: Option<String>,
    pub amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
    /// The line's VAT group, when the price sent is the shop's own (its rate, not the
    /// product's default group, is what the shop charged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idvatgroup: Option<VatGroupId>,
}

impl NewOrderLine {
    /// A line naming the product by productcode.
    pub fn by_code(productcode: impl Into<String>, amount: i64) -> Self {
        NewOrderLine {
            idproduct: None,
            productcode: Some(productcode.into()),
            amount,
            price: None,
            remarks: None,
            idvatgroup: None,
        }
    }

    /// A line naming the product by id.
    pub fn by_id(idproduct: ProductId, amount: i64) -> Self {
        NewOrderLine {
            idproduct: Some(idproduct),
            productcode: None,
            amount,
            price: None,
            remarks: None,
            idvatgroup: None,
        }
    }
}

/// Body of `POST /orders`. With `idcustomer`, empty address fields are filled from the customer.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewOrder {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idcustomer: Option<CustomerId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emailaddress: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveryname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliverycontactname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveryaddress: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveryzipcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliverycity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliverycountry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoicename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoiceaddress: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoicezipcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoicecity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoicecountry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partialdelivery: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_delivery_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_remarks: Option<String>,
    pub products: Vec<NewOrderLine>,
}

/// Body of `PUT /orders/{id}` (header fields only; lines have their own endpoints).
#[derive(Clone, Debug, Default, Serialize)]
pub struct OrderUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emailaddress: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveryname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveryaddress: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_remarks: Option<String>,
}

/// Filters for `GET /orders`.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub reference: Option<String>,
    pub orderid: Option<String>,
    pub status: Option<OrderStatus>,
    /// Created at or after.
    pub sincedate: Option<PicqerDateTime>,
    pub search: Option<String>,
    pub emailaddress: Option<String>,
    pub idcustomer: Option<CustomerId>,
}

impl OrderFilter {
    pub(crate) fn to_query(&self) -> Vec<(String, String)> {
        let mut q: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                q.push((k.to_string(), v));
            }
        };
        put("reference", self.reference.clone());
        put("orderid", self.orderid.clone());
        put("status", self.status.as_ref().map(|s| s.as_str().to_string()));
        put("sincedate", self.sincedate.map(|d| d.to_string()));
        put("search", self.search.clone());
        put("emailaddress", self.emailaddress.clone());
        put("idcustomer", self.idcustomer.map(|c| c.to_string()));
        q
    }
}

/// A picklist: the warehouse job for (part of) an order.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Picklist {
    pub idpicklist: PicklistId,
    #[serde(default, deserialize_with = "null_default")]
    pub picklistid: String,
    #[serde(default)]
    pub idorder: Option<OrderId>,
    #[serde(default)]
    pub idwarehouse: Option<WarehouseId>,
    /// `new`, `closed`, `cancelled`, `paused`, `snoozed` (kept as text: the enum is not documented).
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub totalproducts: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub totalpicked: i64,
    #[serde(default, deserialize_with = "deserialize_opt")]
    pub closed_at: Option<PicqerDateTime>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default, deserialize_with = "null_default")]
    pub products: Vec<PicklistLine>,
}

/// A picklist line.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PicklistLine {
    #[serde(default)]
    pub idpicklist_product: Option<u64>,
    pub idproduct: ProductId,
    #[serde(default)]
    pub idorder_product: Option<OrderProductId>,
    #[serde(default, deserialize_with = "null_default")]
    pub productcode: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub amount: i64,
    /// Current name `amount_picked`; older payloads use `amountpicked`.
    #[serde(default, alias = "amountpicked", deserialize_with = "null_default")]
    pub amount_picked: i64,
}

/// A parcel of a multi-colli shipment.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Parcel {
    #[serde(default)]
    pub idparcel: Option<u64>,
    #[serde(default)]
    pub weight: Option<i64>,
    #[serde(default)]
    pub tracking_code: Option<String>,
    #[serde(default)]
    pub tracking_url: Option<String>,
}

/// A shipment of a picklist (what `picklists.shipments.created` carries).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Shipment {
    pub idshipment: ShipmentId,
    pub idpicklist: PicklistId,
    #[serde(default)]
    pub idorder: Option<OrderId>,
    /// The provider's technical name (e.g. "PostNL").
    #[serde(default)]
    pub provider: Option<String>,
    /// The carrier name customers know.
    #[serde(default)]
    pub public_providername: Option<String>,
    #[serde(default)]
    pub carrier_key: Option<String>,
    #[serde(default)]
    pub trackingcode: Option<String>,
    #[serde(default)]
    pub trackingurl: Option<String>,
    /// The public tracking page.
    #[serde(default)]
    pub tracktraceurl: Option<String>,
    #[serde(default)]
    pub labelurl: Option<String>,
    #[serde(default)]
    pub weight: Option<i64>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub cancelled: bool,
    #[serde(default, deserialize_with = "deserialize_opt")]
    pub created: Option<PicqerDateTime>,
    #[serde(default, deserialize_with = "null_default")]
    pub parcels: Vec<Parcel>,
}

/// Body of `POST /picklists/{id}/shipments`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewShipment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idshippingprovider_profile: Option<ShippingProfileId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
}

/// A backorder: an order line waiting for stock.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Backorder {
    pub idbackorder: BackorderId,
    #[serde(default)]
    pub idorder: Option<OrderId>,
    #[serde(default)]
    pub idorder_product: Option<OrderProductId>,
    pub idproduct: ProductId,
    #[serde(default)]
    pub idwarehouse: Option<WarehouseId>,
    #[serde(default, deserialize_with = "null_default")]
    pub amount: i64,
    /// Expected availability, where Picqer knows it.
    #[serde(default)]
    pub date_available: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_status_is_kept_and_lines_parse() {
        let o: Order = serde_json::from_str(
            r#"{"idorder":1,"orderid":"20140079","status":"on_hold_for_review","tags":{},"reference":null,
               "products":[{"idorder_product":1,"idproduct":138,"idvatgroup":18,"productcode":"6531-RB-7-9",
               "name":"x","remarks":"","price":54.46,"amount":2,"amount_cancelled":0,"weight":200,
               "partof_idorder_product":null,"has_parts":false}],"picklists":null}"#,
        )
        .unwrap();
        assert_eq!(o.status, OrderStatus::Other("on_hold_for_review".into()));
        assert_eq!(o.products[0].price.unwrap().cents(), 5446);
        let s: OrderStatus = serde_json::from_str("\"processing\"").unwrap();
        assert_eq!(s, OrderStatus::Processing);
    }

    #[test]
    fn new_order_omits_unset_fields() {
        let o = NewOrder {
            reference: Some("WEB-1".into()),
            products: vec![NewOrderLine::by_code("SKU-1", 2)],
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"reference":"WEB-1","products":[{"productcode":"SKU-1","amount":2}]}"#
        );
    }
}
