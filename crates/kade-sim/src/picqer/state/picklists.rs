//! Picklists and their shipments: the model, the GET shapes, and creation from an order.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::catalog::tags_array;
use super::orders::{Order, TEXT_FIELDS};
use super::{World, money, ts, ts_opt};

#[derive(Clone, Debug)]
pub struct PicklistLine {
    pub idpicklist_product: u64,
    pub idproduct: u64,
    pub idorder_product: u64,
    pub idvatgroup: u64,
    pub productcode: String,
    pub name: String,
    pub remarks: String,
    pub amount: i64,
    pub amount_picked: i64,
    pub price: i64,
    pub weight: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Picklist {
    pub idpicklist: u64,
    pub picklistid: String,
    pub idorder: u64,
    pub idcustomer: Option<u64>,
    pub idwarehouse: u64,
    /// Index of `idwarehouse` in `World::warehouses`.
    pub widx: usize,
    pub idshippingprovider_profile: Option<u64>,
    /// `new`, `paused`, `closed` or `cancelled`.
    pub status: String,
    /// Delivery fields copied from the order when the picklist was made.
    pub delivery: BTreeMap<&'static str, String>,
    pub tags: Vec<u64>,
    pub lines: Vec<PicklistLine>,
    pub shipments: Vec<u64>,
    pub created: i64,
    pub updated: i64,
    pub closed_at: Option<i64>,
}

impl Picklist {
    pub fn total_products(&self) -> i64 {
        self.lines.iter().map(|l| l.amount).sum()
    }
    pub fn total_picked(&self) -> i64 {
        self.lines.iter().map(|l| l.amount_picked).sum()
    }
    pub fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "new" | "paused")
    }
}

#[derive(Clone, Debug)]
pub struct Parcel {
    pub idparcel: u64,
    pub weight: Option<i64>,
    pub tracking_code: String,
    pub tracking_url: String,
}

#[derive(Clone, Debug)]
pub struct Shipment {
    pub idshipment: u64,
    pub idpicklist: u64,
    pub idorder: u64,
    pub idshippingprovider: u64,
    pub idshippingprovider_profile: u64,
    pub provider: String,
    pub profile_name: String,
    pub carrier_key: String,
    pub trackingcode: String,
    pub tracktraceurl: String,
    pub weight: Option<i64>,
    pub created: i64,
    pub parcels: Vec<Parcel>,
}

fn delivery_field(p: &Picklist, key: &str) -> Value {
    json!(p.delivery.get(key))
}

/// The picklist in its GET shape (also the `picklists.*` webhook data). `tags` is an array.
pub fn picklist_json(w: &World, p: &Picklist) -> Value {
    let lines: Vec<Value> = p
        .lines
        .iter()
        .map(|l| {
            json!({
                "idpicklist_product": l.idpicklist_product,
                "idproduct": l.idproduct,
                "idorder_product": l.idorder_product,
                "idreturn_product_replacement": null,
                "idvatgroup": l.idvatgroup,
                "productcode": l.productcode,
                "name": l.name,
                "remarks": l.remarks,
                "amount": l.amount,
                "amount_picked": l.amount_picked,
                "price": money(l.price),
                "weight": l.weight,
                "stocklocation": null,
                "partof_idpicklist_product": null,
                "has_parts": false,
                "pick_locations": [],
            })
        })
        .collect();
    json!({
        "idpicklist": p.idpicklist,
        "picklistid": p.picklistid,
        "idcustomer": p.idcustomer,
        "idorder": p.idorder,
        "idreturn": null,
        "idwarehouse": p.idwarehouse,
        "idtemplate": null,
        "idpicklist_batch": null,
        "idshippingprovider_profile": p.idshippingprovider_profile,
        "deliveryname": delivery_field(p, "deliveryname"),
        "deliverycontact": delivery_field(p, "deliverycontactname"),
        "deliveryaddress": delivery_field(p, "deliveryaddress"),
        "deliveryaddress2": delivery_field(p, "deliveryaddress2"),
        "deliveryzipcode": delivery_field(p, "deliveryzipcode"),
        "deliverycity": delivery_field(p, "deliverycity"),
        "deliveryregion": delivery_field(p, "deliveryregion"),
        "deliverycountry": delivery_field(p, "deliverycountry"),
        "telephone": delivery_field(p, "telephone"),
        "emailaddress": delivery_field(p, "emailaddress"),
        "reference": delivery_field(p, "reference"),
        "preferred_delivery_date": delivery_field(p, "preferred_delivery_date"),
        "assigned_to_iduser": null,
        "invoiced": false,
        "urgent": false,
        "status": p.status,
        "totalproducts": p.total_products(),
        "totalpicked": p.total_picked(),
        "snoozed_until": null,
        "closed_by_iduser": null,
        "closed_at": ts_opt(p.closed_at),
        "created": ts(p.created),
        "updated": ts(p.updated),
        "comment_count": 0,
        "tags": tags_array(w, &p.tags),
        "products": lines,
    })
}

pub fn shipment_json(w: &World, s: &Shipment) -> Value {
    let parcels: Vec<Value> = s
        .parcels
        .iter()
        .map(|p| {
            json!({
                "idparcel": p.idparcel,
                "weight": p.weight,
                "tracking_code": p.tracking_code,
                "tracking_url": p.tracking_url,
            })
        })
        .collect();
    json!({
        "idshipment": s.idshipment,
        "idpicklist": s.idpicklist,
        "idorder": s.idorder,
        "idreturn": null,
        "idshippingprovider": s.idshippingprovider,
        "idcompany_shippingprovider": s.idshippingprovider,
        "idcompany_shippingprovider_profile": s.idshippingprovider_profile,
        "provider": s.provider,
        "providername": s.provider,
        "public_providername": s.provider,
        "profile_name": s.profile_name,
        "carrier_key": s.carrier_key,
        "labelurl": format!("{}/labels/{}.pdf", w.root_url, s.idshipment),
        "labelurl_pdf": format!("{}/labels/{}.pdf", w.root_url, s.idshipment),
        "labelurl_zpl": null,
        "trackingcode": s.trackingcode,
        "trackingurl": s.tracktraceurl,
        "tracktraceurl": s.tracktraceurl,
        "weight": s.weight,
        "created_by_iduser": null,
        "cancelled": false,
        "created": ts(s.created),
        "updated": ts(s.created),
        "parcels": parcels,
    })
}

pub fn emit_picklist(w: &mut World, event: &'static str, id: u64) {
    if let Some(p) = w.picklists.get(&id) {
        let data = picklist_json(w, p);
        w.emit(event, data);
    }
}

/// Creates a `new` picklist for `order` in warehouse `widx` with `(line index, amount)` pairs,
/// reserving the stock for picklists. The caller has checked availability.
pub fn create_for_order(w: &mut World, idorder: u64, widx: usize, picks: &[(usize, i64)]) -> Option<u64> {
    let order: Order = w.orders.get(&idorder)?.clone();
    let idwarehouse = w.warehouses.get(widx)?.idwarehouse;
    let id = w.ids.picklist.take();
    let now = w.now();
    let mut lines = Vec::new();
    for &(li, amount) in picks {
        let Some(line) = order.lines.get(li) else { continue };
        if amount <= 0 {
            continue;
        }
        if let Some(level) = w.level_mut(line.idproduct, widx) {
            level.reservedpicklists += amount;
        }
        lines.push(PicklistLine {
            idpicklist_product: w.ids.picklist_line.take(),
            idproduct: line.idproduct,
            idorder_product: line.idorder_product,
            idvatgroup: line.idvatgroup,
            productcode: line.productcode.clone(),
            name: line.name.clone(),
            remarks: line.remarks.clone(),
            amount,
            amount_picked: 0,
            price: line.price,
            weight: line.weight,
        });
    }
    let delivery = TEXT_FIELDS
        .iter()
        .filter(|k| {
            k.starts_with("delivery")
                || matches!(**k, "telephone" | "emailaddress" | "reference" | "preferred_delivery_date")
        })
        .filter_map(|k| order.text(k).map(|v| (*k, v.to_owned())))
        .collect();
    // Tags marked `inherit` carry over from the order to its picklists.
    let tags = order.tags.iter().copied().filter(|t| w.tags.get(t).is_some_and(|tag| tag.inherit)).collect();
    let picklist = Picklist {
        idpicklist: id,
        picklistid: (30_250_000 + id - 30_000_000).to_string(),
        idorder,
        idcustomer: order.idcustomer,
        idwarehouse,
        widx,
        idshippingprovider_profile: order.idshippingprovider_profile,
        status: "new".into(),
        delivery,
        tags,
        lines,
        shipments: Vec::new(),
        created: now,
        updated: now,
        closed_at: None,
    };
    w.picklists.insert(id, picklist);
    if let Some(o) = w.orders.get_mut(&idorder) {
        o.picklists.push(id);
    }
    Some(id)
}
