//! The Picqer hooks a shop relies on (order status, shipments, stock), their state in Picqer,
//! and the operator's action that heals them.
//!
//! A shop has no hooks of its own: it rides on its Picqer connection's hooks. So the status is
//! read from Picqer's hook list at the connection's webhook address, and the action is the
//! connection's own hook supervisor round ([`PicqerConnection::supervise`]): it creates what is
//! missing, reactivates what Picqer deactivated, and queues a back-fill for the gap. Nothing is
//! duplicated here, and a second run changes nothing.

use kade_core::hooks::HookPlan;
use kade_picqer::types::Hook;

use super::PrestaShop;
use kade_engine::Engine;
use kade_engine::JobError;
use kade_engine::picqer::PicqerConnection;

/// A hook's state, as the operator sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HookState {
    Active,
    /// Picqer lists it but does not deliver (it deactivates hooks after repeated failures).
    Inactive,
    /// No hook for the event at Kade's address.
    Missing,
}

/// One event a shop relies on.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HookStatus {
    pub event: String,
    pub state: HookState,
    /// The hook in Picqer (the active one when several exist).
    pub idhook: Option<u64>,
    /// Whether the Picqer connection's `events` include it: the repair action only installs
    /// configured events (the supervisor would retire anything else again).
    pub configured: bool,
}

/// The state of `event` among Picqer's hooks at `address`.
pub fn hook_state(event: &str, address: &str, listed: &[Hook]) -> (HookState, Option<u64>) {
    let mine = || listed.iter().filter(|h| h.event == event && h.address == address);
    if let Some(h) = mine().find(|h| h.active) {
        return (HookState::Active, Some(h.idhook.0));
    }
    match mine().next() {
        Some(h) => (HookState::Inactive, Some(h.idhook.0)),
        None => (HookState::Missing, None),
    }
}

impl PrestaShop {
    /// The Picqer events this shop's flows need: order status and completion (status back),
    /// shipments (tracking), and free stock when it syncs stock.
    pub fn relied_events(&self) -> Vec<&'static str> {
        let mut events = vec!["orders.status_changed", "orders.completed", "picklists.shipments.created"];
        if self.settings.stock_sync {
            events.push("products.free_stock_changed");
        }
        events
    }

    /// The state of each hook the shop relies on, read live from Picqer.
    pub async fn hook_status(&self, picqer: &PicqerConnection) -> Result<Vec<HookStatus>, JobError> {
        let listed = picqer.client().hooks().await?;
        let address = &picqer.settings().webhook_url;
        Ok(self
            .relied_events()
            .into_iter()
            .map(|event| {
                let (state, idhook) = hook_state(event, address, &listed);
                let configured = picqer.settings().events.iter().any(|e| e == event);
                HookStatus { event: event.to_string(), state, idhook, configured }
            })
            .collect())
    }

    /// Creates missing hooks and reactivates inactive ones (the connection's supervisor round,
    /// audited), then reads the state again.
    pub async fn repair_hooks(
        &self,
        engine: &Engine,
        picqer: &PicqerConnection,
    ) -> Result<(HookPlan, Vec<HookStatus>), JobError> {
        let report = picqer.supervise(engine).await?;
        let after = self.hook_status(picqer).await?;
        let detail = serde_json::json!({
            "created": report.plan.create, "reactivated": report.plan.reactivate,
            "backfill_queued": report.backfill_queued, "hooks": after,
        });
        self.log(&[format!("{}/hooks", self.name())], "hooks: create/reactivate requested", detail).await;
        Ok((report.plan, after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(id: u64, event: &str, address: &str, active: bool) -> Hook {
        serde_json::from_value(
            serde_json::json!({"idhook": id, "name": "h", "event": event, "address": address, "active": active}),
        )
        .unwrap()
    }

    #[test]
    fn active_wins_then_inactive_then_missing() {
        let at = "https://kade.example/webhooks/picqer/main";
        let listed = vec![
            hook(1, "orders.completed", at, false),
            hook(2, "orders.completed", at, true),
            hook(3, "orders.status_changed", at, false),
            hook(4, "products.free_stock_changed", "https://elsewhere.example/hook", true),
        ];
        assert_eq!(hook_state("orders.completed", at, &listed), (HookState::Active, Some(2)));
        assert_eq!(hook_state("orders.status_changed", at, &listed), (HookState::Inactive, Some(3)));
        assert_eq!(
            hook_state("products.free_stock_changed", at, &listed),
            (HookState::Missing, None),
            "another address"
        );
        assert_eq!(hook_state("picklists.shipments.created", at, &listed), (HookState::Missing, None));
    }
}
