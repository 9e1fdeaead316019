//! Customers and their addresses.

use serde::Serialize;
use serde_json::{Map, Value};

use super::World;
use crate::picqer::errors::{ApiError, ApiResult};
use crate::picqer::extract::Fields;

#[derive(Clone, Debug, Serialize)]
pub struct Address {
    pub idcustomer_address: u64,
    pub name: Option<String>,
    pub contactname: Option<String>,
    pub address: Option<String>,
    pub address2: Option<String>,
    pub zipcode: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub defaultinvoice: bool,
    pub defaultdelivery: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Customer {
    pub idcustomer: u64,
    pub idtemplate: Option<u64>,
    pub customerid: String,
    pub name: String,
    pub contactname: Option<String>,
    pub telephone: Option<String>,
    pub emailaddress: Option<String>,
    pub discount: f64,
    pub vatnumber: Option<String>,
    pub calculatevat: bool,
    pub default_order_remarks: Option<String>,
    pub auto_split: bool,
    pub language: String,
    pub addresses: Vec<Address>,
}

impl Customer {
    /// The address orders use for delivery: the default-delivery one, else the first.
    pub fn delivery_address(&self) -> Option<&Address> {
        self.addresses.iter().find(|a| a.defaultdelivery).or_else(|| self.addresses.first())
    }
    pub fn invoice_address(&self) -> Option<&Address> {
        self.addresses.iter().find(|a| a.defaultinvoice).or_else(|| self.addresses.first())
    }
}

fn apply_customer(c: &mut Customer, body: &Map<String, Value>) -> ApiResult<()> {
    let f = Fields(body);
    if body.contains_key("name") {
        c.name = f.req_str("name")?;
    }
    for (key, slot) in [
        ("contactname", &mut c.contactname),
        ("telephone", &mut c.telephone),
        ("emailaddress", &mut c.emailaddress),
        ("vatnumber", &mut c.vatnumber),
        ("default_order_remarks", &mut c.default_order_remarks),
    ] {
        if body.contains_key(key) {
            *slot = f.str(key)?;
        }
    }
    if let Some(v) = f.str("customerid")? {
        c.customerid = v;
    }
    if let Some(v) = f.str("language")? {
        c.language = v;
    }
    if let Some(v) = f.bool("calculatevat")? {
        c.calculatevat = v;
    }
    if let Some(v) = f.bool("auto_split")? {
        c.auto_split = v;
    }
    if let Some(v) = f.u64("idtemplate")? {
        c.idtemplate = Some(v);
    }
    if let Some(v) = f.cents("discount")? {
        c.discount = v as f64 / 100.0;
    }
    Ok(())
}

/// Builds an address from a body; `id` is assigned by the caller.
pub fn address_from(id: u64, body: &Map<String, Value>) -> ApiResult<Address> {
    let f = Fields(body);
    Ok(Address {
        idcustomer_address: id,
        name: f.str("name")?,
        contactname: f.str("contactname")?,
        address: f.str("address")?,
        address2: f.str("address2")?,
        zipcode: f.str("zipcode")?,
        city: f.str("city")?,
        region: f.str("region")?,
        country: f.str("country")?,
        defaultinvoice: f.bool("defaultinvoice")?.unwrap_or(false),
        defaultdelivery: f.bool("defaultdelivery")?.unwrap_or(false),
    })
}

/// `POST /customers` (`name` required; `addresses` optional).
pub fn create_customer(w: &mut World, body: &Map<String, Value>) -> ApiResult<Customer> {
    let f = Fields(body);
    f.req_str("name")?;
    let id = w.ids.customer.peek();
    let mut c = Customer {
        idcustomer: id,
        idtemplate: None,
        customerid: (id - 1_000_000 + 1000).to_string(),
        name: String::new(),
        contactname: None,
        telephone: None,
        emailaddress: None,
        discount: 0.0,
        vatnumber: None,
        calculatevat: true,
        default_order_remarks: None,
        auto_split: false,
        language: "nl".into(),
        addresses: Vec::new(),
    };
    apply_customer(&mut c, body)?;
    let mut addresses = Vec::new();
    for a in f.objects("addresses")?.unwrap_or_default() {
        addresses.push(address_from(0, a)?);
    }
    w.ids.customer.take();
    for mut a in addresses {
        a.idcustomer_address = w.ids.address.take();
        c.addresses.push(a);
    }
    w.customers.insert(id, c.clone());
    Ok(c)
}

/// `PUT /customers/{id}`.
pub fn update_customer(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<Customer> {
    let mut c = w.customers.get(&id).cloned().ok_or_else(|| ApiError::not_found("Customer"))?;
    apply_customer(&mut c, body)?;
    w.customers.insert(id, c.clone());
    Ok(c)
}

/// `POST /customers/{id}/addresses`.
pub fn add_address(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<Address> {
    if !w.customers.contains_key(&id) {
        return Err(ApiError::not_found("Customer"));
    }
    let mut a = address_from(0, body)?;
    a.idcustomer_address = w.ids.address.take();
    if let Some(c) = w.customers.get_mut(&id) {
        c.addresses.push(a.clone());
    }
    Ok(a)
}

/// `PUT /customers/{id}/addresses/{idaddress}` (partial).
pub fn update_address(w: &mut World, id: u64, idaddress: u64, body: &Map<String, Value>) -> ApiResult<Address> {
    let c = w.customers.get_mut(&id).ok_or_else(|| ApiError::not_found("Customer"))?;
    let a = c
        .addresses
        .iter_mut()
        .find(|a| a.idcustomer_address == idaddress)
        .ok_or_else(|| ApiError::not_found("Address"))?;
    let f = Fields(body);
    let mut next = a.clone();
    for (key, slot) in [
        ("name", &mut next.name),
        ("contactname", &mut next.contactname),
        ("address", &mut next.address),
        ("address2", &mut next.address2),
        ("zipcode", &mut next.zipcode),
        ("city", &mut next.city),
        ("region", &mut next.region),
        ("country", &mut next.country),
    ] {
        if body.contains_key(key) {
            *slot = f.str(key)?;
        }
    }
    if let Some(v) = f.bool("defaultinvoice")? {
        next.defaultinvoice = v;
    }
    if let Some(v) = f.bool("defaultdelivery")? {
        next.defaultdelivery = v;
    }
    *a = next.clone();
    Ok(next)
}

/// `DELETE /customers/{id}/addresses/{idaddress}`.
pub fn delete_address(w: &mut World, id: u64, idaddress: u64) -> ApiResult<()> {
    let c = w.customers.get_mut(&id).ok_or_else(|| ApiError::not_found("Customer"))?;
    let before = c.addresses.len();
    c.addresses.retain(|a| a.idcustomer_address != idaddress);
    if c.addresses.len() == before {
        return Err(ApiError::not_found("Address"));
    }
    Ok(())
}
