//! Typed views of the resources Kade reads, parsed tolerantly: every scalar may arrive as a
//! string or a number, absent fields read as empty, multilingual fields as their first value.

use serde_json::Value;

use crate::object::text;

fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::Array(items)) => items.first().and_then(|i| i.get("value")).map(text).unwrap_or_default(),
        Some(x) => text(x),
        None => String::new(),
    }
}

fn u(v: &Value, k: &str) -> u64 {
    s(v, k).trim().parse::<f64>().map(|f| f.max(0.0) as u64).unwrap_or(0)
}

fn i(v: &Value, k: &str) -> i64 {
    s(v, k).trim().parse::<f64>().map(|f| f as i64).unwrap_or(0)
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderRow {
    pub id: u64,
    pub product_id: u64,
    pub product_attribute_id: u64,
    pub quantity: i64,
    pub name: String,
    pub reference: String,
    pub unit_price_tax_incl: String,
    pub unit_price_tax_excl: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub id: u64,
    pub reference: String,
    pub current_state: u64,
    pub id_customer: u64,
    pub id_address_delivery: u64,
    pub id_address_invoice: u64,
    pub id_carrier: u64,
    pub id_shop: u64,
    pub date_add: String,
    pub date_upd: String,
    pub rows: Vec<OrderRow>,
}

impl Order {
    pub fn from_json(v: &Value) -> Self {
        let rows = v
            .pointer("/associations/order_rows")
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .map(|r| OrderRow {
                        id: u(r, "id"),
                        product_id: u(r, "product_id"),
                        product_attribute_id: u(r, "product_attribute_id"),
                        quantity: i(r, "product_quantity"),
                        name: s(r, "product_name"),
                        reference: s(r, "product_reference"),
                        unit_price_tax_incl: s(r, "unit_price_tax_incl"),
                        unit_price_tax_excl: s(r, "unit_price_tax_excl"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Order {
            id: u(v, "id"),
            reference: s(v, "reference"),
            current_state: u(v, "current_state"),
            id_customer: u(v, "id_customer"),
            id_address_delivery: u(v, "id_address_delivery"),
            id_address_invoice: u(v, "id_address_invoice"),
            id_carrier: u(v, "id_carrier"),
            id_shop: u(v, "id_shop"),
            date_add: s(v, "date_add"),
            date_upd: s(v, "date_upd"),
            rows,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Address {
    pub id: u64,
    pub id_country: u64,
    pub company: String,
    pub firstname: String,
    pub lastname: String,
    pub address1: String,
    pub address2: String,
    pub postcode: String,
    pub city: String,
    pub phone: String,
    pub phone_mobile: String,
}

impl Address {
    pub fn from_json(v: &Value) -> Self {
        Address {
            id: u(v, "id"),
            id_country: u(v, "id_country"),
            company: s(v, "company"),
            firstname: s(v, "firstname"),
            lastname: s(v, "lastname"),
            address1: s(v, "address1"),
            address2: s(v, "address2"),
            postcode: s(v, "postcode"),
            city: s(v, "city"),
            phone: s(v, "phone"),
            phone_mobile: s(v, "phone_mobile"),
        }
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.firstname, self.lastname).trim().to_owned()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Customer {
    pub id: u64,
    pub firstname: String,
    pub lastname: String,
    pub email: String,
}

impl Customer {
    pub fn from_json(v: &Value) -> Self {
        Customer { id: u(v, "id"), firstname: s(v, "firstname"), lastname: s(v, "lastname"), email: s(v, "email") }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Carrier {
    pub id: u64,
    pub id_reference: u64,
    pub name: String,
    pub deleted: bool,
    pub active: bool,
}

impl Carrier {
    pub fn from_json(v: &Value) -> Self {
        Carrier {
            id: u(v, "id"),
            id_reference: u(v, "id_reference"),
            name: s(v, "name"),
            deleted: u(v, "deleted") == 1,
            active: u(v, "active") == 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderState {
    pub id: u64,
    pub name: String,
}

impl OrderState {
    pub fn from_json(v: &Value) -> Self {
        OrderState { id: u(v, "id"), name: s(v, "name") }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct StockAvailable {
    pub id: u64,
    pub id_product: u64,
    pub id_product_attribute: u64,
    pub quantity: i64,
    pub depends_on_stock: bool,
}

impl StockAvailable {
    pub fn from_json(v: &Value) -> Self {
        StockAvailable {
            id: u(v, "id"),
            id_product: u(v, "id_product"),
            id_product_attribute: u(v, "id_product_attribute"),
            quantity: i(v, "quantity"),
            depends_on_stock: u(v, "depends_on_stock") == 1,
        }
    }
}

/// A product or a combination, reduced to what matching needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Sellable {
    pub id_product: u64,
    /// 0 for a product without combinations.
    pub id_product_attribute: u64,
    pub reference: String,
    pub name: String,
    pub price: String,
}

impl Sellable {
    pub fn product(v: &Value) -> Self {
        Sellable {
            id_product: u(v, "id"),
            id_product_attribute: 0,
            reference: s(v, "reference"),
            name: s(v, "name"),
            price: s(v, "price"),
        }
    }
    pub fn combination(v: &Value) -> Self {
        Sellable {
            id_product: u(v, "id_product"),
            id_product_attribute: u(v, "id"),
            reference: s(v, "reference"),
            name: String::new(),
            price: s(v, "price"),
        }
    }
}

/// A customer message (used to check whether a note was already written).
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerMessage {
    pub id: u64,
    pub id_customer_thread: u64,
    pub message: String,
    pub private: bool,
}

impl CustomerMessage {
    pub fn from_json(v: &Value) -> Self {
        CustomerMessage {
            id: u(v, "id"),
            id_customer_thread: u(v, "id_customer_thread"),
            message: s(v, "message"),
            private: u(v, "private") == 1,
        }
    }
}

pub fn id_of(v: &Value) -> u64 {
    u(v, "id")
}

pub fn field(v: &Value, k: &str) -> String {
    s(v, k)
}
