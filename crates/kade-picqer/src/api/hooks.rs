//! Hook management.

use kade_core::ids::HookId;

use crate::error::PicqerError;
use crate::pager::Pager;
use kade_transport::Request;

use crate::transport::{JsonBody as _, PicqerClient};
use crate::types::{Hook, NewHook};

impl PicqerClient {
    /// Every hook on the account, active or not (deactivated hooks stay listed).
    pub async fn hooks(&self) -> Result<Vec<Hook>, PicqerError> {
        Pager::new(self.clone(), "/hooks", Vec::new()).collect_all().await
    }

    /// One hook.
    pub async fn hook(&self, id: HookId) -> Result<Hook, PicqerError> {
        self.send_json(Request::get(format!("/hooks/{id}"))).await
    }

    /// Subscribes `address` to one event. Not repeatable: list first to stay idempotent.
    pub async fn create_hook(&self, hook: &NewHook) -> Result<Hook, PicqerError> {
        self.send_json(Request::post("/hooks").json(hook)).await
    }

    /// Deactivates a hook (`DELETE /hooks/{id}`; Picqer keeps it, inactive).
    pub async fn deactivate_hook(&self, id: HookId) -> Result<(), PicqerError> {
        self.send(Request::delete(format!("/hooks/{id}"))).await.map(drop)
    }

    /// Reactivates a hook Picqer (or we) deactivated. Repeatable.
    pub async fn reactivate_hook(&self, id: HookId) -> Result<Hook, PicqerError> {
        self.send_json(Request::post(format!("/hooks/{id}/reactivate")).idempotent()).await
    }
}
