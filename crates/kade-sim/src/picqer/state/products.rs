//! Products: storage that stays fast at 100 000 items, and the product JSON shape.
//!
//! Products cannot be deleted in Picqer (only inactivated), and ids only grow, so they live in a
//! `Vec` where `idproduct = BASE + index`: lookup is O(1) and the unfiltered list is a slice, which
//! keeps `GET /products?offset=99900` as cheap as the first page.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use super::catalog::tags_object;
use super::stock::{StockLevel, stock_json};
use super::{World, money, opt_str, ts};
use crate::picqer::extract::PAGE;

/// Id of the first product.
pub const PRODUCT_BASE: u64 = 10_000_001;

/// Product types Picqer documents.
pub const PRODUCT_TYPES: [&str; 4] = ["normal", "unlimited_stock", "virtual_composition", "composition_with_stock"];

#[derive(Clone, Debug)]
pub struct Part {
    pub idproduct_part: u64,
    pub idproduct: u64,
    pub amount: i64,
}

#[derive(Clone, Debug)]
pub struct Product {
    pub idproduct: u64,
    pub productcode: String,
    pub name: String,
    /// Prices are cents: Picqer sends euros as floats, the simulator never does float arithmetic.
    pub price: i64,
    pub fixedstockprice: Option<i64>,
    pub idvatgroup: u64,
    pub idsupplier: Option<u64>,
    pub productcode_supplier: Option<String>,
    pub deliverytime: Option<i64>,
    pub description: Option<String>,
    pub barcode: Option<String>,
    pub kind: String,
    pub weight: Option<i64>,
    pub length: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub minimum_purchase_quantity: i64,
    pub purchase_in_quantities_of: i64,
    pub hs_code: Option<String>,
    pub country_of_origin: Option<String>,
    pub active: bool,
    pub created: i64,
    pub updated: i64,
    pub tags: Vec<u64>,
    pub parts: Vec<Part>,
    /// Uploaded images (`POST /products/{id}/images`), in upload order.
    pub images: Vec<ProductImage>,
    /// One entry per warehouse, in `World::warehouses` order.
    pub stock: Vec<StockLevel>,
}

/// One product image as uploaded: Picqer keeps the file and hands out a URL to it.
#[derive(Clone, Debug)]
pub struct ProductImage {
    pub idproduct_image: u64,
    pub idproduct: u64,
    /// Sniffed from the file's first bytes (`image/jpeg`, `image/png`, `image/gif`, `image/webp`).
    pub contenttype: String,
    pub data: Vec<u8>,
}

impl ProductImage {
    /// Where the simulator serves the file (`GET /_sim/images/{id}`).
    pub fn url(&self, root_url: &str) -> String {
        format!("{root_url}/_sim/images/{}", self.idproduct_image)
    }

    /// The `GET /products/{id}/images` shape.
    pub fn json(&self, root_url: &str) -> Value {
        json!({
            "idproduct_image": self.idproduct_image,
            "idproduct": self.idproduct,
            "url": self.url(root_url),
            "contenttype": self.contenttype,
            "size": self.data.len(),
        })
    }
}

/// The image type of a file from its magic bytes; `None` when it is not an image Picqer takes.
pub fn sniff_image(data: &[u8]) -> Option<&'static str> {
    match data {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

impl Product {
    /// An active `normal` product with Picqer's defaults for every optional field (nulls, no
    /// minimum purchase, buy per one), created at `created`. Callers set what differs.
    pub fn new(idproduct: u64, productcode: String, name: String, created: i64, stock: Vec<StockLevel>) -> Self {
        Product {
            idproduct,
            productcode,
            name,
            price: 0,
            fixedstockprice: None,
            idvatgroup: 0,
            idsupplier: None,
            productcode_supplier: None,
            deliverytime: None,
            description: None,
            barcode: None,
            kind: "normal".into(),
            weight: None,
            length: None,
            width: None,
            height: None,
            minimum_purchase_quantity: 0,
            purchase_in_quantities_of: 1,
            hs_code: None,
            country_of_origin: None,
            active: true,
            created,
            updated: created,
            tags: Vec::new(),
            parts: Vec::new(),
            images: Vec::new(),
            stock,
        }
    }

    pub fn is_composition(&self) -> bool {
        matches!(self.kind.as_str(), "virtual_composition" | "composition_with_stock")
    }
}

#[derive(Default)]
pub struct Products {
    list: Vec<Product>,
    by_code: HashMap<String, u64>,
    /// Indexes of inactive products, for O(log n) offset arithmetic on the default (active) list.
    inactive: BTreeSet<usize>,
}

impl Products {
    fn index(id: u64) -> Option<usize> {
        id.checked_sub(PRODUCT_BASE).and_then(|i| usize::try_from(i).ok())
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn next_id(&self) -> u64 {
        PRODUCT_BASE + self.list.len() as u64
    }

    pub fn get(&self, id: u64) -> Option<&Product> {
        Self::index(id).and_then(|i| self.list.get(i))
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut Product> {
        Self::index(id).and_then(|i| self.list.get_mut(i))
    }

    pub fn all(&self) -> &[Product] {
        &self.list
    }

    pub fn by_code(&self, code: &str) -> Option<u64> {
        self.by_code.get(code).copied()
    }

    /// Appends a product; its id must be [`Products::next_id`].
    pub fn push(&mut self, p: Product) {
        debug_assert_eq!(p.idproduct, self.next_id());
        self.by_code.insert(p.productcode.clone(), p.idproduct);
        if !p.active {
            self.inactive.insert(self.list.len());
        }
        self.list.push(p);
    }

    /// Keeps the productcode index in step with a rename.
    pub fn rename_code(&mut self, id: u64, old: &str, new: &str) {
        self.by_code.remove(old);
        self.by_code.insert(new.to_owned(), id);
    }

    pub fn set_active(&mut self, id: u64, active: bool) {
        if let Some(i) = Self::index(id) {
            if let Some(p) = self.list.get_mut(i) {
                p.active = active;
            }
            if active {
                self.inactive.remove(&i);
            } else {
                self.inactive.insert(i);
            }
        }
    }

    /// One page of the unfiltered list: all products when `include_inactive`, else active ones.
    /// O(page + log n · inactive) rather than O(offset).
    pub fn page(&self, offset: usize, include_inactive: bool) -> Vec<&Product> {
        if include_inactive || self.inactive.is_empty() {
            let start = offset.min(self.list.len());
            let end = (start + PAGE).min(self.list.len());
            return self.list[start..end].iter().collect();
        }
        // Find the smallest index p such that `offset` active products precede it.
        let active_before = |p: usize| p - self.inactive.range(..p).count();
        let (mut lo, mut hi) = (offset, self.list.len());
        if active_before(hi) <= offset {
            return Vec::new();
        }
        while lo < hi {
            let mid = (lo + hi) / 2;
            if active_before(mid) < offset {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        self.list[lo..].iter().filter(|p| p.active).take(PAGE).collect()
    }
}

/// The product in its GET shape (also the webhook `data`).
pub fn product_json(w: &World, p: &Product) -> Value {
    let stock: Vec<Value> = p.stock.iter().map(stock_json).collect();
    json!({
        "idproduct": p.idproduct,
        "idvatgroup": p.idvatgroup,
        "idsupplier": p.idsupplier,
        "idfulfilment_customer": null,
        "productcode": p.productcode,
        "name": p.name,
        "price": money(p.price),
        "fixedstockprice": p.fixedstockprice.map(money),
        "productcode_supplier": opt_str(&p.productcode_supplier),
        "deliverytime": p.deliverytime,
        "description": opt_str(&p.description),
        "barcode": opt_str(&p.barcode),
        "type": p.kind,
        "unlimitedstock": p.kind == "unlimited_stock",
        "assembled": false,
        "weight": p.weight,
        "length": p.length,
        "width": p.width,
        "height": p.height,
        "minimum_purchase_quantity": p.minimum_purchase_quantity,
        "purchase_in_quantities_of": p.purchase_in_quantities_of,
        "hs_code": opt_str(&p.hs_code),
        "country_of_origin": opt_str(&p.country_of_origin),
        "active": p.active,
        "show_on_portal": true,
        "created": ts(p.created),
        "updated": ts(p.updated),
        "comment_count": 0,
        "analysis_abc_classification": null,
        "analysis_pick_amount_per_day": 0.0,
        "tags": tags_object(w, &p.tags),
        "productfields": [],
        "images": p.images.iter().map(|i| i.url(&w.root_url)).collect::<Vec<_>>(),
        "pricelists": [],
        "stock": stock,
    })
}

/// A part row of a composition.
pub fn part_json(w: &World, part: &Part) -> Value {
    let (code, name) =
        w.products.get(part.idproduct).map_or((Value::Null, Value::Null), |p| (json!(p.productcode), json!(p.name)));
    json!({
        "idproduct_part": part.idproduct_part,
        "idproduct": part.idproduct,
        "amount": part.amount,
        "productcode": code,
        "name": name,
    })
}

/// Emits `event` with the current GET shape of product `id`.
pub fn emit_product(w: &mut World, event: &'static str, id: u64) {
    if let Some(p) = w.products.get(id) {
        let data = product_json(w, p);
        w.emit(event, data);
    }
}
