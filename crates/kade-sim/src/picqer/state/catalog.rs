//! Small reference resources: warehouses, VAT groups, tags, shipping providers, suppliers,
//! return statuses and reasons. Their field names are Picqer's, so they serialise directly.

use serde::Serialize;
use serde_json::{Map, Value};

use super::World;
use crate::picqer::errors::{ApiError, ApiResult};
use crate::picqer::extract::Fields;

#[derive(Clone, Debug, Serialize)]
pub struct Warehouse {
    pub idwarehouse: u64,
    pub name: String,
    pub accept_orders: bool,
    pub counts_for_general_stock: bool,
    pub priority: u32,
    pub active: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct VatGroup {
    pub idvatgroup: u64,
    pub name: String,
    pub percentage: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tag {
    pub idtag: u64,
    pub title: String,
    pub color: String,
    pub inherit: bool,
    #[serde(rename = "textColor")]
    pub text_color: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ShippingProfile {
    pub idshippingprovider_profile: u64,
    pub name: String,
    pub carrier: String,
}

/// GUESS: the provider/profile shape is not documented beyond the ids and `name`.
#[derive(Clone, Debug, Serialize)]
pub struct ShippingProvider {
    pub idshippingprovider: u64,
    pub name: String,
    /// Carrier key used on shipments (`postnl`, `dhl`, `dpd`).
    pub carrier_key: String,
    pub profiles: Vec<ShippingProfile>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Supplier {
    pub idsupplier: u64,
    pub name: String,
    pub contactname: Option<String>,
    pub address: Option<String>,
    pub address2: Option<String>,
    pub zipcode: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub telephone: Option<String>,
    pub emailaddress: Option<String>,
    pub remarks: Option<String>,
    pub language: String,
}

/// Return statuses are account records; `status` is the fixed category behind each one (GUESS).
#[derive(Clone, Debug, Serialize)]
pub struct ReturnStatus {
    pub idreturn_status: u64,
    pub name: String,
    pub status: String,
    pub color: String,
    pub default: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReturnReason {
    pub idreturn_reason: u64,
    pub name: String,
}

/// Tags rendered the way orders and products embed them: an object keyed by title (`{}` when
/// there are none — serialising an empty map, never `[]`).
pub fn tags_object(w: &World, ids: &[u64]) -> Value {
    let mut map = Map::new();
    for tag in ids.iter().filter_map(|id| w.tags.get(id)) {
        map.insert(tag.title.clone(), serde_json::json!(tag));
    }
    Value::Object(map)
}

/// Tags as an array of tag objects (picklists since Oct 2025, and the `/tags` sub-resources).
pub fn tags_array(w: &World, ids: &[u64]) -> Value {
    Value::Array(ids.iter().filter_map(|id| w.tags.get(id)).map(|t| serde_json::json!(t)).collect())
}

/// `POST /tags`.
pub fn create_tag(w: &mut World, body: &Map<String, Value>) -> ApiResult<Tag> {
    let f = Fields(body);
    let title = f.req_str("title")?;
    if w.tags.values().any(|t| t.title == title) {
        return Err(ApiError::rule(format!("Tag '{title}' already exists")));
    }
    let tag = Tag {
        idtag: w.ids.tag.take(),
        title,
        color: f.str("color")?.unwrap_or_else(|| "#823882".into()),
        inherit: f.bool("inherit")?.unwrap_or(false),
        text_color: "#FFFFFF".into(),
    };
    w.tags.insert(tag.idtag, tag.clone());
    Ok(tag)
}

/// Looks up the tag named by `{"idtag": N}` in a body.
pub fn tag_from_body(w: &World, body: &Map<String, Value>) -> ApiResult<u64> {
    let idtag = Fields(body).req_u64("idtag")?;
    if !w.tags.contains_key(&idtag) {
        return Err(ApiError::bad_request(format!("Tag {idtag} does not exist")));
    }
    Ok(idtag)
}

const SUPPLIER_TEXT: [&str; 10] = [
    "contactname",
    "address",
    "address2",
    "zipcode",
    "city",
    "region",
    "country",
    "telephone",
    "emailaddress",
    "remarks",
];

fn supplier_field<'a>(s: &'a mut Supplier, key: &str) -> Option<&'a mut Option<String>> {
    Some(match key {
        "contactname" => &mut s.contactname,
        "address" => &mut s.address,
        "address2" => &mut s.address2,
        "zipcode" => &mut s.zipcode,
        "city" => &mut s.city,
        "region" => &mut s.region,
        "country" => &mut s.country,
        "telephone" => &mut s.telephone,
        "emailaddress" => &mut s.emailaddress,
        "remarks" => &mut s.remarks,
        _ => return None,
    })
}

/// Applies the supplier fields present in `body` (partial update).
fn apply_supplier(s: &mut Supplier, body: &Map<String, Value>) -> ApiResult<()> {
    let f = Fields(body);
    if body.contains_key("name") {
        s.name = f.req_str("name")?;
    }
    if let Some(language) = f.str("language")? {
        s.language = language;
    }
    for key in SUPPLIER_TEXT {
        if body.contains_key(key) {
            let value = f.str(key)?;
            if let Some(slot) = supplier_field(s, key) {
                *slot = value;
            }
        }
    }
    Ok(())
}

/// `POST /suppliers`.
pub fn create_supplier(w: &mut World, body: &Map<String, Value>) -> ApiResult<Supplier> {
    let name = Fields(body).req_str("name")?;
    let mut s = Supplier {
        idsupplier: w.ids.supplier.peek(),
        name,
        contactname: None,
        address: None,
        address2: None,
        zipcode: None,
        city: None,
        region: None,
        country: None,
        telephone: None,
        emailaddress: None,
        remarks: None,
        language: "nl".into(),
    };
    apply_supplier(&mut s, body)?;
    w.ids.supplier.take();
    w.suppliers.insert(s.idsupplier, s.clone());
    Ok(s)
}

/// `PUT /suppliers/{id}`.
pub fn update_supplier(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<Supplier> {
    let current = w.suppliers.get(&id).ok_or_else(|| ApiError::not_found("Supplier"))?;
    let mut s = current.clone();
    apply_supplier(&mut s, body)?;
    w.suppliers.insert(id, s.clone());
    Ok(s)
}
