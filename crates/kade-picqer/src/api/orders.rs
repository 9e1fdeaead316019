//! Orders, picklists, shipments, backorders.

use kade_core::ids::{OrderId, OrderProductId, PicklistId, TagId};
use serde_json::json;

use crate::error::PicqerError;
use crate::pager::Pager;
use kade_transport::Request;

use crate::transport::{JsonBody as _, PicqerClient};
use crate::types::{
    Backorder, Comment, NewOrder, NewOrderLine, NewShipment, Order, OrderFilter, OrderLine, OrderUpdate, Picklist,
    Shipment,
};

/// How to cancel an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelMode {
    /// Only concept and expected orders can be cancelled.
    Normal,
    /// Cancel whatever the status, removing picklists even if picked.
    Force,
}

impl PicqerClient {
    /// Orders matching `filter`, page by page.
    pub fn orders(&self, filter: &OrderFilter) -> Pager<Order> {
        Pager::new(self.clone(), "/orders", filter.to_query())
    }

    /// Orders with this exact reference. Creating an order is not idempotent in Picqer, so look
    /// here first before (re)creating one.
    pub async fn orders_by_reference(&self, reference: &str) -> Result<Vec<Order>, PicqerError> {
        let filter = OrderFilter { reference: Some(reference.into()), ..Default::default() };
        let mut found = self.orders(&filter).collect_all().await?;
        found.retain(|o| o.reference.as_deref() == Some(reference));
        Ok(found)
    }

    /// One order.
    pub async fn order(&self, id: OrderId) -> Result<Order, PicqerError> {
        self.send_json(Request::get(format!("/orders/{id}"))).await
    }

    /// Creates an order; it starts as `concept`. Not retried on timeouts: on
    /// [`PicqerError::Transport`] with `maybe_applied`, look it up by reference.
    pub async fn create_order(&self, order: &NewOrder) -> Result<Order, PicqerError> {
        self.send_json(Request::post("/orders").json(order)).await
    }

    /// Updates header fields.
    pub async fn update_order(&self, id: OrderId, update: &OrderUpdate) -> Result<Order, PicqerError> {
        self.send_json(Request::put(format!("/orders/{id}")).json(update)).await
    }

    /// Adds a line (fails with error 33 once processing).
    pub async fn add_order_line(&self, id: OrderId, line: &NewOrderLine) -> Result<OrderLine, PicqerError> {
        self.send_json(Request::post(format!("/orders/{id}/products")).json(line)).await
    }

    /// Removes a line (fails with error 33 once processing).
    pub async fn remove_order_line(&self, id: OrderId, line: OrderProductId) -> Result<(), PicqerError> {
        self.send(Request::delete(format!("/orders/{id}/products/{line}"))).await.map(drop)
    }

    async fn order_action(&self, id: OrderId, action: &str) -> Result<Order, PicqerError> {
        self.send_json(Request::post(format!("/orders/{id}/{action}"))).await
    }

    /// Reserves stock for a concept order.
    pub async fn allocate_order(&self, id: OrderId) -> Result<Order, PicqerError> {
        self.order_action(id, "allocate").await
    }

    /// Releases a concept order's reservation.
    pub async fn deallocate_order(&self, id: OrderId) -> Result<Order, PicqerError> {
        self.order_action(id, "deallocate").await
    }

    /// Sends the order to the warehouse: picklists where stock allows, backorders otherwise.
    /// Error 32 ([`PicqerError::is_already_processed`]) means it already was.
    pub async fn process_order(&self, id: OrderId) -> Result<Order, PicqerError> {
        self.order_action(id, "process").await
    }

    /// Pauses a processing order.
    pub async fn pause_order(&self, id: OrderId) -> Result<Order, PicqerError> {
        self.order_action(id, "pause").await
    }

    /// Resumes a paused order.
    pub async fn resume_order(&self, id: OrderId) -> Result<Order, PicqerError> {
        self.order_action(id, "resume").await
    }

    /// Moves an `expected` order back to `concept`.
    pub async fn change_order_to_concept(&self, id: OrderId) -> Result<Order, PicqerError> {
        self.order_action(id, "change-to-concept").await
    }

    /// Tries to turn this order's backorders into picklists.
    pub async fn process_backorders(&self, id: OrderId) -> Result<(), PicqerError> {
        self.send(Request::post(format!("/orders/{id}/process-backorders"))).await.map(drop)
    }

    /// Cancels an order (`DELETE /orders/{id}`, with `force=true` for [`CancelMode::Force`]).
    pub async fn cancel_order(&self, id: OrderId, mode: CancelMode) -> Result<(), PicqerError> {
        let mut call = Request::delete(format!("/orders/{id}"));
        if mode == CancelMode::Force {
            call = call.query([("force", "true")]);
        }
        self.send(call).await.map(drop)
    }

    /// Adds a comment (visible on related objects).
    pub async fn comment_order(&self, id: OrderId, body: &str) -> Result<Comment, PicqerError> {
        self.send_json(
            Request::post(format!("/orders/{id}/comments")).json(&json!({"body": body, "show_at_related": true})),
        )
        .await
    }

    /// Comments on an order.
    pub async fn order_comments(&self, id: OrderId) -> Result<Vec<Comment>, PicqerError> {
        self.send_json(Request::get(format!("/orders/{id}/comments"))).await
    }

    /// Adds a note (the older mechanism, which fires `orders.notes.created`).
    pub async fn note_order(&self, id: OrderId, note: &str) -> Result<(), PicqerError> {
        self.send(Request::post(format!("/orders/{id}/notes")).json(&json!({"note": note}))).await.map(drop)
    }

    /// Tags an order.
    pub async fn tag_order(&self, id: OrderId, tag: TagId) -> Result<(), PicqerError> {
        self.send(Request::post(format!("/orders/{id}/tags")).json(&json!({"idtag": tag}))).await.map(drop)
    }

    /// The order's backorders.
    pub async fn order_backorders(&self, id: OrderId) -> Result<Vec<Backorder>, PicqerError> {
        self.send_json(Request::get(format!("/orders/{id}/backorders"))).await
    }

    /// Picklists, page by page (`status` filter optional).
    pub fn picklists(&self, status: Option<&str>) -> Pager<Picklist> {
        let q = status.map(|s| vec![("status".to_string(), s.to_string())]).unwrap_or_default();
        Pager::new(self.clone(), "/picklists", q)
    }

    /// One picklist.
    pub async fn picklist(&self, id: PicklistId) -> Result<Picklist, PicqerError> {
        self.send_json(Request::get(format!("/picklists/{id}"))).await
    }

    /// Closes a picklist (picked and packed).
    pub async fn close_picklist(&self, id: PicklistId) -> Result<Picklist, PicqerError> {
        self.send_json(Request::post(format!("/picklists/{id}/close"))).await
    }

    /// Marks every line of a picklist picked.
    pub async fn pickall_picklist(&self, id: PicklistId) -> Result<Picklist, PicqerError> {
        self.send_json(Request::post(format!("/picklists/{id}/pickall"))).await
    }

    /// Cancels a picklist.
    pub async fn cancel_picklist(&self, id: PicklistId) -> Result<Picklist, PicqerError> {
        self.send_json(Request::post(format!("/picklists/{id}/cancel"))).await
    }

    /// Shipments of a picklist (several parcels may exist).
    pub async fn shipments(&self, id: PicklistId) -> Result<Vec<Shipment>, PicqerError> {
        self.send_json(Request::get(format!("/picklists/{id}/shipments"))).await
    }

    /// Creates a shipment (requests a label from the carrier).
    pub async fn create_shipment(&self, id: PicklistId, shipment: &NewShipment) -> Result<Shipment, PicqerError> {
        self.send_json(Request::post(format!("/picklists/{id}/shipments")).json(shipment)).await
    }

    /// Tries to turn every backorder into picklists, now that stock may have arrived.
    pub async fn process_all_backorders(&self) -> Result<(), PicqerError> {
        self.send(Request::post("/backorders/process")).await.map(drop)
    }

    /// Backorders, page by page.
    pub fn backorders(&self) -> Pager<Backorder> {
        Pager::new(self.clone(), "/backorders", Vec::new())
    }
}
