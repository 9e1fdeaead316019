//! Customers, suppliers, shipping providers.

use kade_core::ids::{CustomerId, SupplierId};

use crate::error::PicqerError;
use crate::pager::Pager;
use kade_transport::Request;

use crate::transport::{JsonBody as _, PicqerClient};
use crate::types::{Customer, NewCustomer, NewSupplier, ShippingProvider, Supplier};

impl PicqerClient {
    /// Customers, optionally matching a search text (name, email...).
    pub fn customers(&self, search: Option<&str>) -> Pager<Customer> {
        let q = search.map(|s| vec![("search".to_string(), s.to_string())]).unwrap_or_default();
        Pager::new(self.clone(), "/customers", q)
    }

    /// One customer.
    pub async fn customer(&self, id: CustomerId) -> Result<Customer, PicqerError> {
        self.send_json(Request::get(format!("/customers/{id}"))).await
    }

    /// Creates a customer.
    pub async fn create_customer(&self, customer: &NewCustomer) -> Result<Customer, PicqerError> {
        self.send_json(Request::post("/customers").json(customer)).await
    }

    /// Shipping providers and their profiles.
    pub async fn shipping_providers(&self) -> Result<Vec<ShippingProvider>, PicqerError> {
        self.send_json(Request::get("/shippingproviders")).await
    }

    /// Suppliers, page by page.
    pub fn suppliers(&self) -> Pager<Supplier> {
        Pager::new(self.clone(), "/suppliers", Vec::new())
    }

    /// One supplier.
    pub async fn supplier(&self, id: SupplierId) -> Result<Supplier, PicqerError> {
        self.send_json(Request::get(format!("/suppliers/{id}"))).await
    }

    /// Creates a supplier.
    pub async fn create_supplier(&self, supplier: &NewSupplier) -> Result<Supplier, PicqerError> {
        self.send_json(Request::post("/suppliers").json(supplier)).await
    }
}
