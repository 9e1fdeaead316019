//! Installing Kade's hooks in Picqer, and the supervisor that keeps them alive.
//!
//! Picqer deactivates a hook after repeated failed deliveries, and events sent while it is
//! inactive are lost to Kade. The supervisor runs on a schedule: it compares the configured
//! events with what Picqer lists (the pure [`kade_core::hooks::plan_hooks`]), reactivates or
//! recreates what is missing, retires what is stale, and then back-fills the gap with an
//! incremental catalogue sync.

use base64::Engine as _;
use kade_core::hooks::{ExistingHook, HookPlan, plan_hooks};
use kade_core::ids::HookId;
use kade_picqer::types::NewHook;
use kade_store::HookRecord;
use ring::rand::SecureRandom as _;

use super::{ConnectionJob, PicqerConnection, PicqerJob};
use crate::jobs::JobError;
use crate::now_ms;
use crate::worker::Engine;

/// What a supervisor round did.
#[derive(Clone, Debug, Default)]
pub struct SuperviseReport {
    pub plan: HookPlan,
    /// Whether an incremental sync was queued to cover events missed while hooks were down.
    pub backfill_queued: bool,
}

/// A fresh hook secret: 32 random bytes from the OS, URL-safe base64.
fn new_secret() -> Result<String, JobError> {
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| JobError::transient("the OS random source failed"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

impl PicqerConnection {
    /// Makes Picqer's hooks match the configuration. Idempotent: a second run changes nothing.
    pub async fn install_hooks(&self) -> Result<HookPlan, JobError> {
        let name = self.name().to_string();
        let address = self.settings.webhook_url.clone();
        let listed = self.client.hooks().await?;
        let stored = self.store.hooks(&name).await?;
        let existing: Vec<ExistingHook> = listed
            .iter()
            .map(|h| ExistingHook {
                idhook: h.idhook.0,
                event: h.event.clone(),
                address: h.address.clone(),
                active: h.active,
                secret_known: stored.iter().any(|s| s.idhook as u64 == h.idhook.0),
            })
            .collect();
        let plan = plan_hooks(&self.settings.events, &address, &existing);

        // Hooks Kade created at a previous address (public_url changed): retire them too.
        let moved: Vec<i64> = stored.iter().filter(|s| s.address != address).map(|s| s.idhook).collect();
        for id in &moved {
            if listed.iter().any(|h| h.idhook.0 == *id as u64 && h.active) {
                self.client.deactivate_hook(HookId(*id as u64)).await?;
            }
            self.store.delete_hook(&name, *id).await?;
        }
        for id in &plan.deactivate {
            self.client.deactivate_hook(HookId(*id)).await?;
            self.store.delete_hook(&name, *id as i64).await?;
        }
        // Hooks Kade remembers but Picqer no longer lists are gone for good.
        for s in stored.iter().filter(|s| !listed.iter().any(|h| h.idhook.0 == s.idhook as u64)) {
            self.store.delete_hook(&name, s.idhook).await?;
        }
        for id in &plan.reactivate {
            let hook = self.client.reactivate_hook(HookId(*id)).await?;
            if let Some(mut record) = stored.iter().find(|s| s.idhook as u64 == *id).cloned() {
                record.active = hook.active;
                record.updated_ms = now_ms();
                self.store.put_hook(&record).await?;
            }
        }
        for event in &plan.create {
            let secret = new_secret()?;
            let hook = self
                .client
                .create_hook(&NewHook {
                    name: format!("Kade {name} {event}"),
                    event: event.clone(),
                    address: address.clone(),
                    secret: Some(secret.clone()),
                })
                .await?;
            let record = HookRecord {
                connection: name.clone(),
                idhook: hook.idhook.0 as i64,
                event: event.clone(),
                address: address.clone(),
                secret_enc: self.secrets.encrypt(secret.as_bytes()),
                active: hook.active,
                last_event_ms: None,
                updated_ms: now_ms(),
            };
            self.store.put_hook(&record).await?;
        }
        self.reload_keys().await?;
        if !plan.is_noop() || !moved.is_empty() {
            let detail = serde_json::json!({
                "created": plan.create, "reactivated": plan.reactivate, "deactivated": plan.deactivate, "kept": plan.keep,
                "retired_old_address": moved,
            });
            self.audit(None, "hooks reconciled", detail).await;
        }
        Ok(plan)
    }

    /// One supervisor round: heal the hooks, and when some were down, queue a back-fill.
    pub async fn supervise(&self, engine: &Engine) -> Result<SuperviseReport, JobError> {
        let had_hooks = !self.store.hooks(self.name()).await?.is_empty();
        let plan = self.install_hooks().await?;
        let healed = !plan.reactivate.is_empty() || !plan.create.is_empty();
        let backfill_queued = had_hooks && healed;
        if backfill_queued {
            self.enqueue(engine, PicqerJob::CatalogueIncremental, Some("backfill after hooks were down")).await?;
            self.audit(
                None,
                "backfill queued",
                serde_json::json!({"healed": plan.reactivate.len() + plan.create.len()}),
            )
            .await;
        }
        Ok(SuperviseReport { plan, backfill_queued })
    }

    /// Queues a job about this whole connection (a sync, a supervisor round); `reason` is shown
    /// in the audit. Coalesced: one of each kind queued per connection at a time.
    pub async fn enqueue(
        &self,
        engine: &Engine,
        job: fn(ConnectionJob) -> PicqerJob,
        reason: Option<&str>,
    ) -> Result<i64, JobError> {
        engine.enqueue(&job(ConnectionJob::new(self.name(), reason))).await
    }
}
