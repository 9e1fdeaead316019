//! Typed identifiers, so a Picqer order id can never be passed where a product id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares a `u64` newtype id that serialises as a bare JSON number.
macro_rules! numeric_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<u64> for $name {
            fn from(v: u64) -> Self {
                $name(v)
            }
        }
    )*};
}

numeric_id! {
    /// Picqer `idproduct`.
    ProductId;
    /// Picqer `idwarehouse`.
    WarehouseId;
    /// Picqer `idvatgroup`.
    VatGroupId;
    /// Picqer `idtag`.
    TagId;
    /// Picqer `idcustomer`.
    CustomerId;
    /// Picqer `idorder` (the internal key; the human-facing number is `orderid`, a string).
    OrderId;
    /// Picqer `idorder_product` (one order line).
    OrderProductId;
    /// Picqer `idpicklist`.
    PicklistId;
    /// Picqer `idshipment`.
    ShipmentId;
    /// Picqer `idreturn`.
    ReturnId;
    /// Picqer `idreturn_status`.
    ReturnStatusId;
    /// Picqer `idshippingprovider`.
    ShippingProviderId;
    /// Picqer `idshippingprovider_profile`.
    ShippingProfileId;
    /// Picqer `idsupplier`.
    SupplierId;
    /// Picqer `idpurchaseorder`.
    PurchaseOrderId;
    /// Picqer `idreceipt`.
    ReceiptId;
    /// Picqer `idbackorder`.
    BackorderId;
    /// Picqer `idhook`.
    HookId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialise_as_bare_numbers() {
        let id = OrderId(12345);
        assert_eq!(serde_json::to_string(&id).unwrap(), "12345");
        let back: OrderId = serde_json::from_str("12345").unwrap();
        assert_eq!(back, id);
        assert_eq!(id.to_string(), "12345");
    }
}
