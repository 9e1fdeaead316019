//! Product writes: create, partial update, (in)activate, parts and tags.

use serde_json::{Map, Value};

use super::World;
use super::products::{PRODUCT_TYPES, Part, Product, emit_product, part_json};
use super::stock::StockLevel;
use crate::picqer::errors::{ApiError, ApiResult, code};
use crate::picqer::extract::Fields;

fn check_vatgroup(w: &World, idvatgroup: u64) -> ApiResult<()> {
    if w.vatgroup_exists(idvatgroup) {
        Ok(())
    } else {
        Err(ApiError::code400(code::UNKNOWN_VATGROUP, format!("Unknown vatgroup {idvatgroup}")))
    }
}

/// Applies the optional attributes present in `body` to `p` (shared by create and update).
fn apply(w: &World, p: &mut Product, body: &Map<String, Value>) -> ApiResult<()> {
    let f = Fields(body);
    if body.contains_key("name") {
        p.name = f.req_str("name")?;
    }
    if body.contains_key("price") {
        p.price = f.cents("price")?.ok_or_else(|| ApiError::missing("price"))?;
    }
    if body.contains_key("idvatgroup") {
        let id = f.req_u64("idvatgroup")?;
        check_vatgroup(w, id)?;
        p.idvatgroup = id;
    }
    if body.contains_key("fixedstockprice") {
        p.fixedstockprice = f.cents("fixedstockprice")?;
    }
    if body.contains_key("idsupplier") {
        let id = f.u64("idsupplier")?;
        if let Some(id) = id
            && !w.suppliers.contains_key(&id)
        {
            return Err(ApiError::bad_request(format!("Supplier {id} does not exist")));
        }
        p.idsupplier = id;
    }
    for (key, slot) in [
        ("productcode_supplier", &mut p.productcode_supplier),
        ("description", &mut p.description),
        ("barcode", &mut p.barcode),
        ("hs_code", &mut p.hs_code),
        ("country_of_origin", &mut p.country_of_origin),
    ] {
        if body.contains_key(key) {
            *slot = f.str(key)?;
        }
    }
    for (key, slot) in [
        ("deliverytime", &mut p.deliverytime),
        ("weight", &mut p.weight),
        ("length", &mut p.length),
        ("width", &mut p.width),
        ("height", &mut p.height),
    ] {
        if body.contains_key(key) {
            *slot = f.i64(key)?;
        }
    }
    if let Some(v) = f.i64("minimum_purchase_quantity")? {
        p.minimum_purchase_quantity = v;
    }
    if let Some(v) = f.i64("purchase_in_quantities_of")? {
        p.purchase_in_quantities_of = v;
    }
    if let Some(kind) = f.str("type")? {
        if !PRODUCT_TYPES.contains(&kind.as_str()) {
            return Err(ApiError::bad_request(format!("Unknown product type '{kind}'")));
        }
        p.kind = kind;
    } else if let Some(true) = f.bool("unlimitedstock")? {
        p.kind = "unlimited_stock".into();
    }
    Ok(())
}

/// `POST /products`: `name`, `price`, `productcode` and `idvatgroup` are required.
pub fn create(w: &mut World, body: &Map<String, Value>) -> ApiResult<u64> {
    let f = Fields(body);
    for key in ["productcode", "name", "idvatgroup"] {
        if !f.has(key) {
            return Err(ApiError::missing(key));
        }
    }
    if !f.has("price") {
        return Err(ApiError::missing("price"));
    }
    let productcode = f.req_str("productcode")?;
    if w.products.by_code(&productcode).is_some() {
        return Err(ApiError::rule(format!("Productcode '{productcode}' is already in use")));
    }
    let now = w.now();
    let stock =
        w.warehouses.iter().map(|wh| StockLevel { idwarehouse: wh.idwarehouse, ..StockLevel::default() }).collect();
    let mut p = Product {
        active: f.bool("active")?.unwrap_or(true),
        ..Product::new(w.products.next_id(), productcode, String::new(), now, stock)
    };
    apply(w, &mut p, body)?;
    let id = p.idproduct;
    w.products.push(p);
    // Picqer documents products.changed as "created or edited", so a create fires both.
    emit_product(w, "products.created", id);
    emit_product(w, "products.changed", id);
    Ok(id)
}

/// Bumps `updated` and fires `products.changed`.
fn changed(w: &mut World, id: u64) {
    let now = w.now();
    if let Some(p) = w.products.get_mut(id) {
        p.updated = now;
    }
    emit_product(w, "products.changed", id);
}

/// `PUT /products/{id}` (partial).
pub fn update(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<()> {
    let mut p = w.products.get(id).cloned().ok_or_else(|| ApiError::not_found("Product"))?;
    let old_code = p.productcode.clone();
    if body.contains_key("productcode") {
        let code = Fields(body).req_str("productcode")?;
        if code != old_code && w.products.by_code(&code).is_some() {
            return Err(ApiError::rule(format!("Productcode '{code}' is already in use")));
        }
        p.productcode = code;
    }
    apply(w, &mut p, body)?;
    let active = Fields(body).bool("active")?;
    if p.productcode != old_code {
        w.products.rename_code(id, &old_code, &p.productcode);
    }
    if let Some(slot) = w.products.get_mut(id) {
        *slot = p;
    }
    if let Some(active) = active {
        w.products.set_active(id, active);
    }
    changed(w, id);
    Ok(())
}

/// `POST /products/{id}/activate` and `/inactivate`.
pub fn set_active(w: &mut World, id: u64, active: bool) -> ApiResult<()> {
    if w.products.get(id).is_none() {
        return Err(ApiError::not_found("Product"));
    }
    w.products.set_active(id, active);
    changed(w, id);
    Ok(())
}

fn composition(w: &World, id: u64) -> ApiResult<&Product> {
    let p = w.products.get(id).ok_or_else(|| ApiError::not_found("Product"))?;
    if p.is_composition() {
        Ok(p)
    } else {
        Err(ApiError::new(axum::http::StatusCode::NOT_FOUND, code::NO_PARTS, "Product has no parts"))
    }
}

/// `GET /products/{id}/parts`: 404 with error_code 20 for a product that is not a composition.
pub fn parts(w: &World, id: u64) -> ApiResult<Vec<Value>> {
    let p = composition(w, id)?;
    Ok(p.parts.iter().map(|part| part_json(w, part)).collect())
}

pub fn part(w: &World, id: u64, idpart: u64) -> ApiResult<Value> {
    let p = composition(w, id)?;
    p.parts
        .iter()
        .find(|x| x.idproduct_part == idpart)
        .map(|x| part_json(w, x))
        .ok_or_else(|| ApiError::not_found("Part"))
}

fn parts_changed(w: &mut World, id: u64) {
    emit_product(w, "products.parts.changed", id);
    changed(w, id);
}

/// `POST /products/{id}/parts` with `{idproduct, amount}`.
pub fn add_part(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<Value> {
    composition(w, id)?;
    let f = Fields(body);
    let idpart_product = f.req_u64("idproduct")?;
    let amount = f.i64("amount")?.unwrap_or(1);
    if idpart_product == id || w.products.get(idpart_product).is_none() {
        return Err(ApiError::code400(
            code::PRODUCT_NOT_EXIST,
            format!("Product {idpart_product} does not exist or cannot be a part"),
        ));
    }
    if amount <= 0 {
        return Err(ApiError::bad_request("amount must be positive"));
    }
    let part = Part { idproduct_part: w.ids.part.take(), idproduct: idpart_product, amount };
    let json = part_json(w, &part);
    if let Some(p) = w.products.get_mut(id) {
        p.parts.push(part);
    }
    parts_changed(w, id);
    Ok(json)
}

/// `PUT /products/{id}/parts/{idproduct_part}` with `{"amount":N}`.
pub fn update_part(w: &mut World, id: u64, idpart: u64, body: &Map<String, Value>) -> ApiResult<Value> {
    composition(w, id)?;
    let amount = Fields(body).req_i64("amount")?;
    if amount <= 0 {
        return Err(ApiError::bad_request("amount must be positive"));
    }
    let part = w
        .products
        .get_mut(id)
        .and_then(|p| p.parts.iter_mut().find(|x| x.idproduct_part == idpart))
        .ok_or_else(|| ApiError::not_found("Part"))?;
    part.amount = amount;
    let part = part.clone();
    parts_changed(w, id);
    Ok(part_json(w, &part))
}

pub fn delete_part(w: &mut World, id: u64, idpart: u64) -> ApiResult<()> {
    composition(w, id)?;
    let p = w.products.get_mut(id).ok_or_else(|| ApiError::not_found("Product"))?;
    let before = p.parts.len();
    p.parts.retain(|x| x.idproduct_part != idpart);
    if p.parts.len() == before {
        return Err(ApiError::not_found("Part"));
    }
    parts_changed(w, id);
    Ok(())
}

/// `POST /products/{id}/tags` with `{"idtag":N}`; adding a tag twice is a no-op.
pub fn add_tag(w: &mut World, id: u64, idtag: u64) -> ApiResult<()> {
    let p = w.products.get_mut(id).ok_or_else(|| ApiError::not_found("Product"))?;
    if !p.tags.contains(&idtag) {
        p.tags.push(idtag);
        changed(w, id);
    }
    Ok(())
}

pub fn remove_tag(w: &mut World, id: u64, idtag: u64) -> ApiResult<()> {
    let p = w.products.get_mut(id).ok_or_else(|| ApiError::not_found("Product"))?;
    if !p.tags.contains(&idtag) {
        return Err(ApiError::not_found("Tag"));
    }
    p.tags.retain(|t| *t != idtag);
    changed(w, id);
    Ok(())
}

/// `POST /products/{id}/images` with `{"image":"<base64 of the file>"}`: the file must decode
/// and be an image (JPEG, PNG, GIF or WebP), else a 400 like Picqer's validation errors.
pub fn add_image(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<Value> {
    use base64::Engine as _;
    let encoded = Fields(body).req_str("image")?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| ApiError::bad_request("image must be the image file encoded as base64"))?;
    let contenttype = super::products::sniff_image(&data)
        .ok_or_else(|| ApiError::bad_request("image is not a JPEG, PNG, GIF or WebP file"))?;
    let idproduct_image = w.ids.image.take();
    let image = super::products::ProductImage { idproduct_image, idproduct: id, contenttype: contenttype.into(), data };
    let shown = image.json(&w.root_url);
    w.products.get_mut(id).ok_or_else(|| ApiError::not_found("Product"))?.images.push(image);
    changed(w, id);
    Ok(shown)
}

/// `DELETE /products/{id}/images/{idproduct_image}`.
pub fn delete_image(w: &mut World, id: u64, idimage: u64) -> ApiResult<()> {
    let p = w.products.get_mut(id).ok_or_else(|| ApiError::not_found("Product"))?;
    let before = p.images.len();
    p.images.retain(|i| i.idproduct_image != idimage);
    if p.images.len() == before {
        return Err(ApiError::not_found("Product image"));
    }
    changed(w, id);
    Ok(())
}
