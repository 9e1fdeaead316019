//! Returns and their account-configured statuses.

use kade_core::PicqerDateTime;
use kade_core::datetime::deserialize_opt;
use kade_core::ids::{CustomerId, OrderId, ProductId, ReturnId, ReturnStatusId};
use serde::{Deserialize, Serialize};

use super::null_default;

/// A return status (configured per account, not a fixed list).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ReturnStatus {
    pub idreturn_status: ReturnStatusId,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default)]
    pub default_status: Option<String>,
}

/// A return.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Return {
    pub idreturn: ReturnId,
    #[serde(default, deserialize_with = "null_default")]
    pub returnid: String,
    #[serde(default)]
    pub idorder: Option<OrderId>,
    #[serde(default)]
    pub idcustomer: Option<CustomerId>,
    #[serde(default)]
    pub idreturn_status: Option<ReturnStatusId>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub emailaddress: Option<String>,
    #[serde(default)]
    pub telephone: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default, deserialize_with = "deserialize_opt")]
    pub created: Option<PicqerDateTime>,
    #[serde(default, deserialize_with = "null_default")]
    pub returned_products: Vec<ReturnedProduct>,
}

/// A product line of a return.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ReturnedProduct {
    #[serde(default)]
    pub idreturn_product: Option<u64>,
    pub idproduct: ProductId,
    #[serde(default)]
    pub productcode: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub amount: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub amount_received: i64,
}

/// A line of a new return, or of a receive call.
#[derive(Clone, Debug, Serialize)]
pub struct ReturnLine {
    pub idproduct: ProductId,
    pub amount: i64,
}

/// Body of `POST /returns`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewReturn {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idorder: Option<OrderId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idreturn_status: Option<ReturnStatusId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub returned_products: Vec<ReturnLine>,
}
