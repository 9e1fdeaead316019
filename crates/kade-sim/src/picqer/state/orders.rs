//! Orders: the model and its GET shape. Writes live in `order_ops`, status changes in `picking`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::catalog::tags_object;
use super::{World, money, ts};

/// The free-text header fields of an order, in the order Picqer lists them. Absent = `null`.
pub const TEXT_FIELDS: [&str; 22] = [
    "deliveryname",
    "deliverycontactname",
    "deliveryaddress",
    "deliveryaddress2",
    "deliveryzipcode",
    "deliverycity",
    "deliveryregion",
    "deliverycountry",
    "invoicename",
    "invoicecontactname",
    "invoiceaddress",
    "invoiceaddress2",
    "invoicezipcode",
    "invoicecity",
    "invoiceregion",
    "invoicecountry",
    "telephone",
    "emailaddress",
    "reference",
    "customer_remarks",
    "preferred_delivery_date",
    "language",
];

#[derive(Clone, Debug)]
pub struct OrderLine {
    pub idorder_product: u64,
    pub idproduct: u64,
    pub idvatgroup: u64,
    pub productcode: String,
    pub name: String,
    pub remarks: String,
    pub price: i64,
    pub amount: i64,
    pub amount_cancelled: i64,
    pub weight: Option<i64>,
    /// Stock reserved for this line by `allocate` (in `Order::alloc_warehouse`).
    pub allocated: i64,
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub idcomment: u64,
    pub body: String,
    pub created: i64,
}

#[derive(Clone, Debug)]
pub struct Note {
    pub idorder_note: u64,
    pub note: String,
    pub created: i64,
}

#[derive(Clone, Debug)]
pub struct Order {
    pub idorder: u64,
    pub orderid: String,
    pub idcustomer: Option<u64>,
    pub idtemplate: Option<u64>,
    pub idshippingprovider_profile: Option<u64>,
    pub text: BTreeMap<&'static str, String>,
    pub pickup_point_data: Value,
    pub partialdelivery: bool,
    pub auto_split: bool,
    pub invoiced: bool,
    pub discount: f64,
    pub calculatevat: bool,
    pub status: String,
    pub created: i64,
    pub updated: i64,
    pub tags: Vec<u64>,
    pub orderfields: Vec<(u64, String)>,
    pub lines: Vec<OrderLine>,
    pub picklists: Vec<u64>,
    pub comments: Vec<Comment>,
    pub notes: Vec<Note>,
    /// Warehouse index holding this order's allocations, if any.
    pub alloc_warehouse: Option<usize>,
}

impl Order {
    pub fn text(&self, key: &str) -> Option<&str> {
        self.text.get(key).map(String::as_str)
    }
}

/// Joins the non-empty parts of an address block the way Picqer's `full_*_address` reads.
fn full_address(o: &Order, prefix: &str) -> String {
    let get = |k: &str| o.text(&format!("{prefix}{k}")).unwrap_or("").trim().to_owned();
    let zip_city = format!("{} {}", get("zipcode"), get("city")).trim().to_owned();
    [get("name"), get("contactname"), get("address"), get("address2"), zip_city, get("region"), get("country")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn line_json(l: &OrderLine) -> Value {
    json!({
        "idorder_product": l.idorder_product,
        "idproduct": l.idproduct,
        "idvatgroup": l.idvatgroup,
        "productcode": l.productcode,
        "name": l.name,
        "remarks": l.remarks,
        "price": money(l.price),
        "amount": l.amount,
        "amount_cancelled": l.amount_cancelled,
        "weight": l.weight,
        "partof_idorder_product": null,
        "has_parts": false,
    })
}

/// Stable, unguessable-looking token for the public status page URL.
fn status_token(idorder: u64) -> String {
    format!("{:016x}", idorder.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The order in its GET shape (also the `orders.*` webhook data).
pub fn order_json(w: &World, o: &Order) -> Value {
    let mut v = Map::new();
    v.insert("idorder".into(), json!(o.idorder));
    v.insert("idcustomer".into(), json!(o.idcustomer));
    v.insert("idtemplate".into(), json!(o.idtemplate));
    v.insert("idshippingprovider_profile".into(), json!(o.idshippingprovider_profile));
    v.insert("orderid".into(), json!(o.orderid));
    v.insert("idfulfilment_customer".into(), Value::Null);
    for key in TEXT_FIELDS {
        v.insert(key.into(), json!(o.text(key)));
    }
    v.insert("full_delivery_address".into(), json!(full_address(o, "delivery")));
    v.insert("full_invoice_address".into(), json!(full_address(o, "invoice")));
    v.insert("pickup_point_data".into(), o.pickup_point_data.clone());
    v.insert("partialdelivery".into(), json!(o.partialdelivery));
    v.insert("auto_split".into(), json!(o.auto_split));
    v.insert("invoiced".into(), json!(o.invoiced));
    v.insert("discount".into(), json!(o.discount));
    v.insert("calculatevat".into(), json!(o.calculatevat));
    v.insert("status".into(), json!(o.status));
    v.insert("public_status_page".into(), json!(format!("{}/s/{}", w.root_url, status_token(o.idorder))));
    v.insert("created".into(), ts(o.created));
    v.insert("updated".into(), ts(o.updated));
    let warehouses: Vec<u64> = w.warehouses.iter().filter(|x| x.accept_orders).map(|x| x.idwarehouse).collect();
    v.insert("warehouses".into(), json!(warehouses));
    v.insert("pricelists".into(), json!([]));
    v.insert("tags".into(), tags_object(w, &o.tags));
    let fields: Vec<Value> =
        o.orderfields.iter().map(|(id, value)| json!({"idorderfield": id, "title": null, "value": value})).collect();
    v.insert("orderfields".into(), json!(fields));
    let picklists: Vec<Value> = o
        .picklists
        .iter()
        .filter_map(|id| w.picklists.get(id))
        .map(|p| {
            json!({
                "idpicklist": p.idpicklist,
                "picklistid": p.picklistid,
                "idwarehouse": p.idwarehouse,
                "status": p.status,
                "totalproducts": p.total_products(),
                "totalpicked": p.total_picked(),
                "created": ts(p.created),
                "closed_at": super::ts_opt(p.closed_at),
            })
        })
        .collect();
    v.insert("picklists".into(), json!(picklists));
    let lines: Vec<Value> = o.lines.iter().map(line_json).collect();
    v.insert("products".into(), json!(lines));
    Value::Object(v)
}

/// Emits `event` with the current GET shape of order `id`.
pub fn emit_order(w: &mut World, event: &'static str, id: u64) {
    if let Some(o) = w.orders.get(&id) {
        let data = order_json(w, o);
        w.emit(event, data);
    }
}

pub fn comment_json(c: &Comment) -> Value {
    json!({
        "idcomment": c.idcomment,
        "body": c.body,
        "author": null,
        "show_at_related": true,
        "is_visible_fulfilment": false,
        "created": ts(c.created),
    })
}

/// GUESS: the note row shape is not documented.
pub fn note_json(idorder: u64, n: &Note) -> Value {
    json!({
        "idorder_note": n.idorder_note,
        "idorder": idorder,
        "iduser": null,
        "note": n.note,
        "created": ts(n.created),
    })
}
