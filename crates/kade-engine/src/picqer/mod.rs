//! One connected Picqer account: its client, its hooks and their secrets, its catalogue mirror.

mod catalogue;
mod events;
mod hooks;
mod jobs;
mod product_events;
mod record;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use kade_picqer::webhook::WebhookSecret;
use kade_picqer::{ClientConfig, PicqerClient};
use kade_store::{ConnectionRecord, SecretBox, Store};

pub use catalogue::to_mirror;
pub use events::{InboundError, InboundOutcome, ingest_delivery};
pub use hooks::SuperviseReport;
pub use jobs::{ConnectionJob, PRODUCT_REFRESH_KIND, PicqerEvent, PicqerJob};
pub use product_events::{Choice, ProductDelivery, ProductOutcome, choose, delivery_version};

use crate::jobs::JobError;
use crate::now_ms;

/// Why connecting failed. The classification (wrong key, unknown account, unreachable) is the
/// client's own [`kade_picqer::ConnectError`]; this adds which connection it was.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("connection {name:?}: {source}")]
    Picqer {
        name: String,
        #[source]
        source: kade_picqer::ConnectError,
    },
    #[error("connection {0:?}: could not save it: {1}")]
    Store(String, kade_store::StoreError),
}

/// The secrets of Kade's hooks on one connection; `secrets[i]` belongs to hook `idhooks[i]`.
/// Kept as two lists so a delivery is checked against the slice as it is, with no copying.
#[derive(Debug, Default)]
pub struct VerificationKeys {
    pub idhooks: Vec<u64>,
    pub secrets: Vec<WebhookSecret>,
}

/// How a connection is set up (from the config file).
#[derive(Clone, Debug)]
pub struct PicqerSettings {
    pub name: String,
    pub client: ClientConfig,
    /// Where Picqer should deliver this connection's webhooks.
    pub webhook_url: String,
    /// The events Kade subscribes to.
    pub events: Vec<String>,
}

/// A live connection. Shared by workers and the ingress.
pub struct PicqerConnection {
    settings: PicqerSettings,
    client: PicqerClient,
    store: Store,
    secrets: SecretBox,
    /// Verification keys of Kade's hooks, by idhook. Refreshed whenever hooks change.
    keys: RwLock<Arc<VerificationKeys>>,
    /// When this process last stored each hook's last-event time (see `touch_hook`).
    hook_touched: Mutex<HashMap<i64, i64>>,
}

impl PicqerConnection {
    /// Verifies the account with one live call, saves the connection (API key encrypted), and
    /// loads the secrets of hooks installed earlier.
    pub async fn connect(
        store: Store,
        secrets: SecretBox,
        settings: PicqerSettings,
    ) -> Result<Arc<Self>, ConnectError> {
        let name = settings.name.clone();
        let picqer_err = |source| ConnectError::Picqer { name: name.clone(), source };
        let client =
            PicqerClient::new(settings.client.clone()).map_err(|e| picqer_err(kade_picqer::ConnectError::Other(e)))?;
        let url = settings.client.base_url.clone();
        let warehouses =
            client.warehouses().await.map_err(|e| picqer_err(kade_picqer::ConnectError::from_picqer(e, &url)))?;
        let record = ConnectionRecord {
            name: name.clone(),
            kind: "picqer".into(),
            settings: serde_json::json!({
                "base_url": url, "webhook_url": settings.webhook_url, "events": settings.events,
                "warehouses": warehouses.len(),
            }),
            secrets_enc: Some(secrets.encrypt(settings.client.api_key.expose().as_bytes())),
            state: "connected".into(),
            updated_ms: now_ms(),
        };
        store.put_connection(&record).await.map_err(|e| ConnectError::Store(name.clone(), e))?;
        // Reference data flows need (warehouses for stock formulas, VAT groups to create products,
        // tags for orders): read on every connect.
        let classify = |e| picqer_err(kade_picqer::ConnectError::from_picqer(e, &url));
        let mut refs: Vec<(&str, u64, serde_json::Value)> = Vec::new();
        for w in &warehouses {
            refs.push(("warehouse", w.idwarehouse.0, serde_json::to_value(w).unwrap_or_default()));
        }
        for v in client.vatgroups().await.map_err(classify)? {
            refs.push(("vatgroup", v.idvatgroup.0, serde_json::to_value(&v).unwrap_or_default()));
        }
        for t in client.tags().await.map_err(classify)? {
            refs.push(("tag", t.idtag.0, serde_json::to_value(&t).unwrap_or_default()));
        }
        for (kind, id, data) in refs {
            store
                .put_reference(&name, kind, id as i64, data)
                .await
                .map_err(|e| ConnectError::Store(name.clone(), e))?;
        }
        let conn = Arc::new(PicqerConnection {
            settings,
            client,
            store,
            secrets,
            keys: RwLock::default(),
            hook_touched: Mutex::default(),
        });
        conn.reload_keys().await.map_err(|e| ConnectError::Store(name, e))?;
        Ok(conn)
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    pub fn client(&self) -> &PicqerClient {
        &self.client
    }

    pub fn settings(&self) -> &PicqerSettings {
        &self.settings
    }

    /// Keys to verify a delivery with.
    pub fn verification_keys(&self) -> Arc<VerificationKeys> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Re-reads hook secrets from the store (after hooks were created or retired).
    pub async fn reload_keys(&self) -> Result<(), kade_store::StoreError> {
        let mut keys = VerificationKeys::default();
        for h in self.store.hooks(self.name()).await? {
            match self.secrets.decrypt(&h.secret_enc) {
                Ok(secret) => {
                    keys.idhooks.push(h.idhook as u64);
                    keys.secrets.push(WebhookSecret::new(&secret));
                }
                Err(e) => {
                    tracing::error!(connection = self.name(), idhook = h.idhook, error = %e, "cannot decrypt a hook secret (wrong master key?)")
                }
            }
        }
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
        Ok(())
    }

    /// Deactivates Kade's hooks in Picqer and removes the credentials. Mirrored data and the
    /// connection's configuration stay, so reconnecting resumes where it was.
    pub async fn disconnect(&self) -> Result<(), JobError> {
        for h in self.store.hooks(self.name()).await? {
            match self.client.deactivate_hook(kade_core::ids::HookId(h.idhook as u64)).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
            self.store.delete_hook(self.name(), h.idhook).await?;
        }
        self.store.clear_connection_secrets(self.name()).await?;
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::default();
        self.audit(None, "disconnected", serde_json::json!({})).await;
        Ok(())
    }

    /// Moves hook `idhook`'s last-event time on, at most once a second per hook and process.
    /// It is a health signal ("deliveries arrive"); storing it for every event would cost a
    /// commit per job while a burst is processed.
    pub(crate) async fn touch_hook(&self, idhook: i64) -> Result<(), kade_store::StoreError> {
        let now = now_ms();
        {
            let mut seen = self.hook_touched.lock().unwrap_or_else(|p| p.into_inner());
            if seen.get(&idhook).is_some_and(|t| (now - t).abs() < 1000) {
                return Ok(());
            }
            seen.insert(idhook, now);
        }
        self.store.touch_hook_event(self.name(), idhook, now).await
    }

    /// Writes an audit entry; failures are logged, never fatal.
    async fn audit(&self, entity: Option<String>, action: &str, detail: serde_json::Value) {
        let entry = kade_store::AuditEntry {
            at_ms: now_ms(),
            connection: Some(self.name().to_string()),
            entity,
            action: action.to_string(),
            detail,
        };
        if let Err(e) = self.store.audit(&entry).await {
            tracing::warn!(error = %e, "audit write failed");
        }
    }
}
