//! The simulated shop: one table of records per resource, and the write rules of the webservice
//! (null-on-omit PUT, required and read-only fields, the side effects of order histories, stock
//! rows and order carriers).

use std::collections::BTreeMap;

use super::errors::{PsError, PsResult, code};
use super::schema::{self, Resource};
use crate::clock::SimClock;

/// Field name → value. PrestaShop stores nearly everything as strings on the wire; so do we.
pub type Row = BTreeMap<String, String>;

#[derive(Clone, Debug, Default)]
pub struct Record {
    pub fields: Row,
    pub assoc: BTreeMap<String, Vec<Row>>,
}

impl Record {
    pub fn get(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", String::as_str)
    }
    pub fn num(&self, field: &str) -> i64 {
        self.get(field).trim().parse::<f64>().map_or(0, |v| v as i64)
    }
}

/// A parsed write body: the fields present, and the associations when the body had any.
#[derive(Clone, Debug, Default)]
pub struct Input {
    pub fields: Row,
    pub assoc: Option<BTreeMap<String, Vec<Row>>>,
}

/// Something the shop's notification module would report.
#[derive(Clone, Debug)]
pub struct Notice {
    pub event: &'static str,
    pub id_order: u64,
    pub current_state: u64,
    pub previous_state: Option<u64>,
    pub date_upd: String,
}

/// A mail the shop would have sent (order state templates, in-transit mails).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Mail {
    pub template: String,
    pub id_order: u64,
    pub at: String,
}

pub struct World {
    pub clock: SimClock,
    pub root_url: String,
    tables: BTreeMap<&'static str, BTreeMap<u64, Record>>,
    next_ids: BTreeMap<&'static str, u64>,
    pub notices: Vec<Notice>,
    pub mails: Vec<Mail>,
    pub rng: fastrand::Rng,
    /// Product images by `id_image`: (id_product, the file), served at
    /// `/api/images/products/{id_product}/{id_image}`.
    pub images: BTreeMap<u64, (u64, Vec<u8>)>,
    /// Tax rate (percent) of a product's tax rules group, by product id; 21 when absent.
    pub tax_rates: BTreeMap<u64, f64>,
}

pub enum WriteMode {
    Post,
    Put,
    Patch,
}

impl World {
    pub fn new(clock: SimClock, seed: u64) -> Self {
        World {
            clock,
            root_url: String::new(),
            tables: BTreeMap::new(),
            next_ids: BTreeMap::new(),
            notices: Vec::new(),
            mails: Vec::new(),
            rng: fastrand::Rng::with_seed(seed),
            images: BTreeMap::new(),
            tax_rates: BTreeMap::new(),
        }
    }

    /// The next record of `res` gets id `next` (a shop that has been trading for a while).
    pub fn start_ids_at(&mut self, res: &'static str, next: u64) {
        self.next_ids.insert(res, next.saturating_sub(1));
    }

    pub fn now(&self) -> String {
        self.clock.now_picqer()
    }

    pub fn table(&self, res: &str) -> impl Iterator<Item = (&u64, &Record)> {
        self.tables.get(res).into_iter().flat_map(|t| t.iter())
    }

    pub fn get(&self, res: &str, id: u64) -> Option<&Record> {
        self.tables.get(res)?.get(&id)
    }

    pub fn count(&self, res: &str) -> usize {
        self.tables.get(res).map_or(0, BTreeMap::len)
    }

    /// Inserts a record with the schema defaults filled in; returns its id.
    pub fn insert(&mut self, res: &'static str, mut rec: Record) -> u64 {
        let schema = schema::resource(res).expect("known resource");
        let next = self.next_ids.entry(res).or_insert(0);
        *next += 1;
        let id = *next;
        let now = self.now();
        for field in schema.fields {
            rec.fields.entry(field.name.to_owned()).or_insert_with(|| field.default.to_owned());
        }
        for stamp in ["date_add", "date_upd"] {
            if schema.field(stamp).is_some() && rec.get(stamp).is_empty() {
                rec.fields.insert(stamp.to_owned(), now.clone());
            }
        }
        rec.fields.insert("id".into(), id.to_string());
        self.tables.entry(res).or_default().insert(id, rec);
        id
    }

    pub fn set(&mut self, res: &str, id: u64, field: &str, value: impl Into<String>) {
        if let Some(rec) = self.tables.get_mut(res).and_then(|t| t.get_mut(&id)) {
            rec.fields.insert(field.to_owned(), value.into());
        }
    }

    /// A record as the webservice shows it: stored fields plus computed read-only values and
    /// associations.
    pub fn view(&self, res: &str, id: u64) -> Option<Record> {
        let mut rec = self.get(res, id)?.clone();
        match res {
            "products" => {
                let rows: Vec<(u64, &Record)> = self
                    .table("stock_availables")
                    .filter(|(_, s)| s.num("id_product") as u64 == id)
                    .map(|(i, s)| (*i, s))
                    .collect();
                let total =
                    rows.iter().find(|(_, s)| s.num("id_product_attribute") == 0).map_or(0, |(_, s)| s.num("quantity"));
                rec.fields.insert("quantity".into(), total.to_string());
                let combos = self
                    .table("combinations")
                    .filter(|(_, c)| c.num("id_product") as u64 == id)
                    .map(|(i, _)| Row::from([("id".to_owned(), i.to_string())]))
                    .collect();
                rec.assoc.insert("combinations".into(), combos);
                let stock = rows
                    .iter()
                    .map(|(i, s)| {
                        Row::from([
                            ("id".to_owned(), i.to_string()),
                            ("id_product_attribute".to_owned(), s.get("id_product_attribute").to_owned()),
                        ])
                    })
                    .collect();
                rec.assoc.insert("stock_availables".into(), stock);
            }
            "combinations" => {
                let qty = self.stock_row(rec.num("id_product") as u64, id).map_or(0, |(_, s)| s.num("quantity"));
                rec.fields.insert("quantity".into(), qty.to_string());
            }
            "customer_threads" => {
                let msgs = self
                    .table("customer_messages")
                    .filter(|(_, m)| m.num("id_customer_thread") as u64 == id)
                    .map(|(i, _)| Row::from([("id".to_owned(), i.to_string())]))
                    .collect();
                rec.assoc.insert("customer_messages".into(), msgs);
            }
            _ => {}
        }
        Some(rec)
    }

    pub fn stock_row(&self, id_product: u64, id_attr: u64) -> Option<(u64, &Record)> {
        self.table("stock_availables")
            .find(|(_, s)| s.num("id_product") as u64 == id_product && s.num("id_product_attribute") as u64 == id_attr)
            .map(|(i, s)| (*i, s))
    }

    /// Saving a combination's stock row recomputes the product's total row (`postSave`), so the
    /// total of a product with combinations is always the sum of its combination rows.
    pub fn recompute_total(&mut self, id_product: u64) {
        if !self.table("combinations").any(|(_, c)| c.num("id_product") as u64 == id_product) {
            return;
        }
        let combos: Vec<i64> = self
            .table("stock_availables")
            .filter(|(_, s)| s.num("id_product") as u64 == id_product && s.num("id_product_attribute") != 0)
            .map(|(_, s)| s.num("quantity"))
            .collect();
        if combos.is_empty() {
            return;
        }
        let total: i64 = combos.iter().sum();
        if let Some((row, _)) = self.stock_row(id_product, 0) {
            self.set("stock_availables", row, "quantity", total.to_string());
        }
    }

    /// Appends an order history and moves the order to `state` (what `changeIdOrderState` does).
    pub fn change_state(&mut self, id_order: u64, state: u64, id_employee: u64, send_email: bool) -> PsResult<u64> {
        let Some(order) = self.get("orders", id_order) else {
            return Err(PsError::bad(code::VALIDATION, format!("Validation error: order {id_order} does not exist")));
        };
        let previous = order.num("current_state") as u64;
        let Some(os) = self.get("order_states", state) else {
            return Err(PsError::bad(
                code::VALIDATION,
                format!("Validation error: order state {state} does not exist"),
            ));
        };
        let template = os.get("template").to_owned();
        let mails = os.get("send_email") == "1";
        let now = self.now();
        let mut hist = Record::default();
        for (k, v) in [("id_order", id_order), ("id_order_state", state), ("id_employee", id_employee)] {
            hist.fields.insert(k.into(), v.to_string());
        }
        let id = self.insert("order_histories", hist);
        self.set("orders", id_order, "current_state", state.to_string());
        self.set("orders", id_order, "date_upd", now.clone());
        if send_email && mails {
            self.mails.push(Mail { template, id_order, at: now.clone() });
        }
        self.notices.push(Notice {
            event: "order.status_changed",
            id_order,
            current_state: state,
            previous_state: Some(previous),
            date_upd: now,
        });
        Ok(id)
    }

    /// The generic write path of the webservice for POST, PUT and PATCH.
    pub fn write(
        &mut self,
        res: &'static Resource,
        id: Option<u64>,
        input: Input,
        mode: WriteMode,
        send_email: bool,
    ) -> PsResult<u64> {
        for (name, value) in &input.fields {
            let Some(field) = res.field(name) else { continue };
            if !field.writable {
                return Err(PsError::bad(code::NOT_WRITABLE, format!("parameter \"{name}\" not writable")));
            }
            validate(res.name, field, value)?;
        }
        if let Some(assoc) = &input.assoc
            && let Some(unknown) = assoc.keys().find(|k| res.assoc(k).is_none())
        {
            return Err(PsError::bad(
                code::UNKNOWN_ASSOCIATION,
                format!("The association \"{unknown}\" does not exist"),
            ));
        }
        let existing = match id {
            Some(id) => {
                Some(self.get(res.name, id).cloned().ok_or_else(|| PsError::new(404, code::INVALID_ID, "Invalid ID"))?)
            }
            None => None,
        };
        let mut rec = match (&mode, existing.clone()) {
            (WriteMode::Patch, Some(old)) => old,
            _ => Record::default(),
        };
        if !matches!(mode, WriteMode::Patch) {
            for field in res.fields {
                let given = input.fields.get(field.name).filter(|v| !v.is_empty());
                if field.required && given.is_none() {
                    return Err(PsError::bad(code::REQUIRED, format!("parameter \"{}\" required", field.name)));
                }
            }
            // PUT replaces: a writable field missing from the body goes back to NULL/default;
            // read-only and system fields keep their value.
            if let Some(old) = &existing {
                for field in res.fields {
                    if !field.writable || field.name == "date_add" {
                        rec.fields.insert(field.name.to_owned(), old.get(field.name).to_owned());
                    }
                }
                rec.assoc = old.assoc.clone();
            }
        }
        for (name, value) in input.fields {
            if res.field(&name).is_some() {
                rec.fields.insert(name, value);
            }
        }
        if res.name == "orders" {
            // order_rows are read-only through the webservice: keep what the shop created.
            if let Some(old) = &existing {
                rec.assoc = old.assoc.clone();
            }
        } else if let Some(assoc) = input.assoc {
            rec.assoc.extend(assoc);
        }
        let now = self.now();
        let id = match existing {
            Some(old) => {
                let id = id.unwrap_or_default();
                for field in res.fields {
                    rec.fields.entry(field.name.to_owned()).or_insert_with(|| field.default.to_owned());
                }
                if res.field("date_upd").is_some() {
                    rec.fields.insert("date_upd".into(), now);
                }
                rec.fields.insert("id".into(), id.to_string());
                let state_change = res.name == "orders" && old.get("current_state") != rec.get("current_state");
                let new_state = rec.num("current_state") as u64;
                self.tables.entry(res.name).or_default().insert(id, rec.clone());
                if state_change {
                    // The `current_state` setter goes through the order history, like the BO.
                    self.set("orders", id, "current_state", old.get("current_state"));
                    self.change_state(id, new_state, 0, send_email)?;
                }
                id
            }
            None => self.create_side_effects(res, rec, send_email)?,
        };
        self.after_write(res.name, id, send_email);
        Ok(id)
    }

    fn create_side_effects(&mut self, res: &'static Resource, rec: Record, send_email: bool) -> PsResult<u64> {
        match res.name {
            "order_histories" => {
                let (order, state) = (rec.num("id_order") as u64, rec.num("id_order_state") as u64);
                self.change_state(order, state, rec.num("id_employee") as u64, send_email)
            }
            "customer_messages" if self.get("customer_threads", rec.num("id_customer_thread") as u64).is_none() => {
                Err(PsError::bad(code::VALIDATION, "Validation error: id_customer_thread does not exist"))
            }
            "combinations" => {
                let product = rec.num("id_product") as u64;
                if self.get("products", product).is_none() {
                    return Err(PsError::bad(code::VALIDATION, "Validation error: id_product does not exist"));
                }
                let id = self.insert("combinations", rec);
                self.add_stock_row(product, id, 0);
                Ok(id)
            }
            "products" => {
                let id = self.insert("products", rec);
                self.add_stock_row(id, 0, 0);
                Ok(id)
            }
            name => Ok(self.insert(name, rec)),
        }
    }

    pub fn add_stock_row(&mut self, id_product: u64, id_attr: u64, quantity: i64) -> u64 {
        let mut row = Record::default();
        row.fields.insert("id_product".into(), id_product.to_string());
        row.fields.insert("id_product_attribute".into(), id_attr.to_string());
        row.fields.insert("quantity".into(), quantity.to_string());
        let id = self.insert("stock_availables", row);
        self.recompute_total(id_product);
        id
    }

    fn after_write(&mut self, res: &str, id: u64, send_email: bool) {
        match res {
            "stock_availables" => {
                let product = self.get(res, id).map_or(0, |r| r.num("id_product") as u64);
                self.recompute_total(product);
            }
            "order_carriers" if send_email => {
                let Some(oc) = self.get(res, id) else { return };
                let (order, carrier) = (oc.num("id_order") as u64, oc.num("id_carrier") as u64);
                let has_url = self.get("carriers", carrier).is_some_and(|c| !c.get("url").is_empty());
                if has_url && !oc.get("tracking_number").is_empty() {
                    let at = self.now();
                    self.mails.push(Mail { template: "in_transit".into(), id_order: order, at });
                }
            }
            _ => {}
        }
    }

    pub fn delete(&mut self, res: &str, id: u64) -> PsResult<()> {
        let table = self.tables.entry(schema::resource(res).map_or("", |r| r.name)).or_default();
        table.remove(&id).map(|_| ()).ok_or_else(|| PsError::not_exists(res, id))
    }
}

/// Field validators (`isUnsignedId`, `isInt`, `isTrackingNumber`, `isEmail`…), loosely.
fn validate(res: &str, field: &schema::Field, value: &str) -> PsResult<()> {
    let bad = || PsError::bad(code::VALIDATION, format!("Validation error: \"{}\" is invalid ({res})", field.name));
    if (field.default == "0" || field.link.is_some()) && !value.is_empty() && value.trim().parse::<f64>().is_err() {
        return Err(bad());
    }
    match field.name {
        "tracking_number" => {
            let ok = value.len() <= 64
                && value.chars().all(|c| c.is_ascii_alphanumeric() || "~:#,%&_=()[].? +-@/".contains(c));
            if !ok {
                return Err(bad());
            }
        }
        "email" if !value.is_empty() && !value.contains('@') => return Err(bad()),
        _ => {}
    }
    Ok(())
}
