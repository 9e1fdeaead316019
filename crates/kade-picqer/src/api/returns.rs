//! Returns.

use kade_core::ids::{ReturnId, ReturnStatusId};
use serde_json::json;

use crate::error::PicqerError;
use crate::pager::Pager;
use kade_transport::Request;

use crate::transport::{JsonBody as _, PicqerClient};
use crate::types::{NewReturn, Return, ReturnLine, ReturnStatus};

impl PicqerClient {
    /// The account's return statuses.
    pub async fn return_statuses(&self) -> Result<Vec<ReturnStatus>, PicqerError> {
        self.send_json(Request::get("/return_statuses")).await
    }

    /// Returns, page by page.
    pub fn returns(&self) -> Pager<Return> {
        Pager::new(self.clone(), "/returns", Vec::new())
    }

    /// One return.
    pub async fn return_(&self, id: ReturnId) -> Result<Return, PicqerError> {
        self.send_json(Request::get(format!("/returns/{id}"))).await
    }

    /// Registers a return.
    pub async fn create_return(&self, ret: &NewReturn) -> Result<Return, PicqerError> {
        self.send_json(Request::post("/returns").json(ret)).await
    }

    /// Changes a return's status through its log.
    pub async fn set_return_status(
        &self,
        id: ReturnId,
        status: ReturnStatusId,
        message: &str,
    ) -> Result<(), PicqerError> {
        let body = json!({"idreturn_status": status, "message": message});
        self.send(Request::post(format!("/returns/{id}/logs")).json(&body)).await.map(drop)
    }

    /// Receives returned products (restocks them).
    pub async fn receive_return(&self, id: ReturnId, lines: &[ReturnLine]) -> Result<Return, PicqerError> {
        self.send_json(Request::post(format!("/returns/{id}/receive")).json(&json!({"products": lines}))).await
    }
}
