//! Customers, suppliers, shipping providers, comments.

use kade_core::PicqerDateTime;
use kade_core::datetime::deserialize_opt;
use kade_core::ids::{CustomerId, ShippingProfileId, ShippingProviderId, SupplierId};
use serde::{Deserialize, Serialize};

use super::{lenient_bool, null_default};

/// A customer.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Customer {
    pub idcustomer: CustomerId,
    #[serde(default)]
    pub customerid: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default)]
    pub contactname: Option<String>,
    #[serde(default)]
    pub telephone: Option<String>,
    #[serde(default)]
    pub emailaddress: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub addresses: Vec<CustomerAddress>,
}

/// A customer's address.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct CustomerAddress {
    #[serde(default)]
    pub idcustomer_address: Option<u64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub zipcode: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub defaultinvoice: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub defaultdelivery: bool,
}

/// Body of `POST /customers`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewCustomer {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emailaddress: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// A shipping provider configured on the account, with its profiles.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ShippingProvider {
    pub idshippingprovider: ShippingProviderId,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub profiles: Vec<ShippingProfile>,
}

/// One shipping method of a provider.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ShippingProfile {
    pub idshippingprovider_profile: ShippingProfileId,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
}

/// A supplier (not available on Picqer Fulfilment accounts).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Supplier {
    pub idsupplier: SupplierId,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default)]
    pub emailaddress: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
}

/// Body of `POST /suppliers`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewSupplier {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emailaddress: Option<String>,
}

/// A comment on an order, product, ... (the newer mechanism), or an order note (the older one).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Comment {
    #[serde(default, alias = "idorder_note", alias = "idorder_log")]
    pub idcomment: Option<u64>,
    #[serde(default, alias = "note", alias = "description")]
    pub body: Option<String>,
    #[serde(default, alias = "created_at", deserialize_with = "deserialize_opt")]
    pub created: Option<PicqerDateTime>,
}
