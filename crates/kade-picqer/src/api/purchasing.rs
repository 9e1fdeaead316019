//! Purchase orders and receipts.

use kade_core::ids::{ProductId, PurchaseOrderId, ReceiptId};
use serde_json::json;

use crate::error::PicqerError;
use crate::pager::Pager;
use kade_transport::Request;

use crate::transport::{JsonBody as _, PicqerClient};
use crate::types::{NewPurchaseOrder, PurchaseOrder, Receipt};

impl PicqerClient {
    /// Purchase orders, page by page.
    pub fn purchase_orders(&self) -> Pager<PurchaseOrder> {
        Pager::new(self.clone(), "/purchaseorders", Vec::new())
    }

    /// One purchase order.
    pub async fn purchase_order(&self, id: PurchaseOrderId) -> Result<PurchaseOrder, PicqerError> {
        self.send_json(Request::get(format!("/purchaseorders/{id}"))).await
    }

    /// Creates a purchase order (status `concept`).
    pub async fn create_purchase_order(&self, po: &NewPurchaseOrder) -> Result<PurchaseOrder, PicqerError> {
        self.send_json(Request::post("/purchaseorders").json(po)).await
    }

    /// Marks it as purchased (sent to the supplier).
    pub async fn mark_purchased(&self, id: PurchaseOrderId) -> Result<PurchaseOrder, PicqerError> {
        self.send_json(Request::post(format!("/purchaseorders/{id}/mark-as-purchased"))).await
    }

    /// Cancels a purchase order.
    pub async fn cancel_purchase_order(&self, id: PurchaseOrderId) -> Result<PurchaseOrder, PicqerError> {
        self.send_json(Request::post(format!("/purchaseorders/{id}/cancel"))).await
    }

    /// Opens a receipt for a purchase order.
    pub async fn create_receipt(&self, po: PurchaseOrderId) -> Result<Receipt, PicqerError> {
        self.send_json(Request::post("/receipts").json(&json!({"idpurchaseorder": po}))).await
    }

    /// Receives an amount of a product on a receipt (adds stock).
    pub async fn receive_product(
        &self,
        receipt: ReceiptId,
        product: ProductId,
        amount: i64,
    ) -> Result<(), PicqerError> {
        let body = json!({"idproduct": product, "amount": amount});
        self.send(Request::post(format!("/receipts/{receipt}/products")).json(&body)).await.map(drop)
    }

    /// Marks everything on the receipt received; the receipt completes.
    pub async fn receive_all(&self, receipt: ReceiptId) -> Result<Receipt, PicqerError> {
        self.send_json(Request::post(format!("/receipts/{receipt}/mark-all-received"))).await
    }
}
