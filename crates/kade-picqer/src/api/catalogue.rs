//! Products, stock, parts, warehouses, VAT groups, tags.

use kade_core::ids::{ProductId, TagId, WarehouseId};
use serde_json::json;

use crate::error::{PicqerError, codes};
use crate::pager::Pager;
use kade_transport::Request;

use crate::transport::{JsonBody as _, PicqerClient};
use crate::types::{
    NewProduct, Product, ProductFilter, ProductImage, ProductPart, ProductUpdate, StockChange, StockEntry, Tag,
    VatGroup, Warehouse,
};

impl PicqerClient {
    /// Products matching `filter`, page by page (`GET /products`).
    pub fn products(&self, filter: &ProductFilter) -> Pager<Product> {
        Pager::new(self.clone(), "/products", filter.to_query())
    }

    /// One product.
    pub async fn product(&self, id: ProductId) -> Result<Product, PicqerError> {
        self.send_json(Request::get(format!("/products/{id}"))).await
    }

    /// Products with this exact productcode, active or not. Picqer lists active products only
    /// unless asked, and does not promise productcodes are unique, so this returns every match.
    pub async fn products_by_code(&self, productcode: &str) -> Result<Vec<Product>, PicqerError> {
        let filter =
            ProductFilter { productcode: Some(productcode.into()), include_inactive: true, ..Default::default() };
        let mut found = self.products(&filter).collect_all().await?;
        // Guard against servers that treat the filter as a prefix or case-insensitively.
        found.retain(|p| p.productcode == productcode);
        Ok(found)
    }

    /// Creates a product (`POST /products`).
    pub async fn create_product(&self, product: &NewProduct) -> Result<Product, PicqerError> {
        self.send_json(Request::post("/products").json(product)).await
    }

    /// Partial update (`PUT /products/{id}`).
    pub async fn update_product(&self, id: ProductId, update: &ProductUpdate) -> Result<Product, PicqerError> {
        self.send_json(Request::put(format!("/products/{id}")).json(update)).await
    }

    /// Reactivates a product. Repeatable: activating twice is the same as once.
    pub async fn activate_product(&self, id: ProductId) -> Result<(), PicqerError> {
        self.send(Request::post(format!("/products/{id}/activate")).idempotent()).await.map(drop)
    }

    /// Deactivates a product (Picqer never deletes products). Repeatable.
    pub async fn inactivate_product(&self, id: ProductId) -> Result<(), PicqerError> {
        self.send(Request::post(format!("/products/{id}/inactivate")).idempotent()).await.map(drop)
    }

    /// Stock per warehouse.
    pub async fn stock(&self, id: ProductId) -> Result<Vec<StockEntry>, PicqerError> {
        self.send_json(Request::get(format!("/products/{id}/stock"))).await
    }

    /// Stock in one warehouse.
    pub async fn stock_in(&self, id: ProductId, warehouse: WarehouseId) -> Result<StockEntry, PicqerError> {
        self.send_json(Request::get(format!("/products/{id}/stock/{warehouse}"))).await
    }

    /// Changes stock in one warehouse. Picqer refuses to go negative or below what picklists
    /// reserved. An absolute change is repeatable; a relative one is not.
    pub async fn change_stock(
        &self,
        id: ProductId,
        warehouse: WarehouseId,
        change: &StockChange,
    ) -> Result<StockEntry, PicqerError> {
        let call = Request::post(format!("/products/{id}/stock/{warehouse}")).json(change);
        self.send_json(call.repeatable(matches!(change, StockChange::Absolute { .. }))).await
    }

    /// Parts of a composition; empty for a product that is not one (Picqer answers 404 with
    /// error_code 20 there).
    pub async fn parts(&self, id: ProductId) -> Result<Vec<ProductPart>, PicqerError> {
        match self.send_json(Request::get(format!("/products/{id}/parts"))).await {
            Err(e) if e.is_not_found() && e.error_code() == Some(codes::NO_PARTS) => Ok(Vec::new()),
            other => other,
        }
    }

    /// Adds a part to a composition.
    pub async fn add_part(&self, id: ProductId, part: ProductId, amount: i64) -> Result<ProductPart, PicqerError> {
        self.send_json(
            Request::post(format!("/products/{id}/parts")).json(&json!({"idproduct": part, "amount": amount})),
        )
        .await
    }

    /// The product's images.
    pub async fn product_images(&self, id: ProductId) -> Result<Vec<ProductImage>, PicqerError> {
        self.send_json(Request::get(format!("/products/{id}/images"))).await
    }

    /// Uploads an image file to a product (`POST /products/{id}/images` with the file as
    /// base64). Not repeatable: a retry after a dropped answer could add it twice, so callers
    /// check [`Self::product_images`] first.
    pub async fn add_product_image(&self, id: ProductId, file: &[u8]) -> Result<ProductImage, PicqerError> {
        use base64::Engine as _;
        let image = base64::engine::general_purpose::STANDARD.encode(file);
        self.send_json(Request::post(format!("/products/{id}/images")).json(&json!({"image": image}))).await
    }

    /// Tags a product.
    pub async fn tag_product(&self, id: ProductId, tag: TagId) -> Result<(), PicqerError> {
        self.send(Request::post(format!("/products/{id}/tags")).json(&json!({"idtag": tag}))).await.map(drop)
    }

    /// All warehouses.
    pub async fn warehouses(&self) -> Result<Vec<Warehouse>, PicqerError> {
        Pager::new(self.clone(), "/warehouses", Vec::new()).collect_all().await
    }

    /// All VAT groups.
    pub async fn vatgroups(&self) -> Result<Vec<VatGroup>, PicqerError> {
        self.send_json(Request::get("/vatgroups")).await
    }

    /// All tags.
    pub async fn tags(&self) -> Result<Vec<Tag>, PicqerError> {
        Pager::new(self.clone(), "/tags", Vec::new()).collect_all().await
    }

    /// Creates a tag.
    pub async fn create_tag(&self, title: &str, color: &str, inherit: bool) -> Result<Tag, PicqerError> {
        self.send_json(Request::post("/tags").json(&json!({"title": title, "color": color, "inherit": inherit}))).await
    }
}
