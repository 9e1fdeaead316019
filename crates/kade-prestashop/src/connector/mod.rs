//! One connected PrestaShop shop feeding a Picqer connection: settings, the live client, the
//! notification ingress, and the dispatch of its jobs.
//!
//! Several shops may feed one Picqer account; each is known by its name (URLs, entity keys, the
//! link table) and its order prefix (Picqer references).

mod calls;
mod dispatch;
mod hooks;
mod ingress;
mod jobs;
mod orders;
mod products;
mod routes;
mod status;
mod stock;

use std::sync::Arc;
use std::time::Duration;

use kade_core::Secret;
use kade_core::picqer::PicqerStatus;
use kade_core::prestashop::{OrderPrefix, ShopName, StateRoles, StatusRule, StockFormula, WsKey};
use kade_store::{AuditEntry, ConnectionRecord, Link, SecretBox, Store, SyncState};

pub use dispatch::{KIND, PrestaConnector};
pub use hooks::{HookState, HookStatus, hook_state};
pub use ingress::{NotifyError, NotifyOutcome, SIGNATURE_HEADER, ingest_notification, verify_signature};
pub use jobs::{OrderJob, PrestaJob, ShopJob, StatusBackJob, StockProductJob};
pub use stock::StockReport;

use kade_engine::{Engine, JobError, now_ms};

use crate::{PrestaClient, PrestaConfig};

/// How one shop is set up (from the config file or a test).
#[derive(Clone)]
pub struct ShopSettings {
    /// The shop's name in Kade (URLs, logs); its type holds the rule.
    pub name: ShopName,
    /// The Picqer connection its orders go to.
    pub picqer: String,
    pub shop_url: String,
    pub ws_key: WsKey,
    /// The shared secret of the shop's notification module (HMAC-SHA256 of the body).
    pub notify_secret: Secret,
    /// The Picqer reference is `PREFIX #idorder / REFERENCE`.
    pub prefix: OrderPrefix,
    /// Picqer tag titles put on new orders (must exist in Picqer).
    pub tags: Vec<String>,
    /// Send the shop's unit prices (incl. tax) on order lines instead of Picqer's prices.
    pub use_shop_price: bool,
    /// Create products missing in Picqer (stock 0) before the order.
    pub create_missing_products: bool,
    /// Which shop states create, process and force-cancel the Picqer order.
    pub roles: StateRoles,
    /// Allocate stock for orders left in concept.
    pub allocate_concept: bool,
    /// (shop state or any, Picqer status) → shop state; first match wins.
    pub status_map: Vec<StatusRule>,
    /// Send the state's e-mail when Kade changes a shop order's state.
    pub send_status_email: bool,
    /// Keep PrestaShop stock in step with Picqer.
    pub stock_sync: bool,
    pub stock_formula: StockFormula,
    /// Run a full stock sync on every stock webhook instead of a one-product update.
    pub full_stock_on_webhook: bool,
    /// Token of the full-sync URL (`/prestashop/{name}/stock-sync?token=…`); `None` disables it.
    pub full_sync_token: Option<Secret>,
    /// How often to poll for changed orders (the safety net); zero disables polling.
    pub poll_every: Duration,
    /// The webservice pace (PrestaShop sends no rate-limit headers): requests per second, and
    /// how many may go at once before the pace applies.
    pub requests_per_second: u32,
    pub burst: u32,
}

impl std::fmt::Debug for ShopSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopSettings")
            .field("name", &self.name)
            .field("picqer", &self.picqer)
            .field("shop_url", &self.shop_url)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl ShopSettings {
    /// Defaults a merchant starts from: prefix `PS`; "payment accepted" (2) and "processing in
    /// progress" (3) create, 3 processes, "canceled" (6) force-cancels; Picqer `completed` →
    /// "shipped" (4), `cancelled` → "canceled" (6); stock on, free stock of all warehouses.
    /// The values that need a rule arrive parsed (`"shop".parse()?`), so nothing here can fail.
    pub fn new(name: ShopName, picqer: &str, shop_url: &str, ws_key: WsKey, notify_secret: Secret) -> Self {
        ShopSettings {
            name,
            picqer: picqer.into(),
            shop_url: shop_url.into(),
            ws_key,
            notify_secret,
            prefix: OrderPrefix::default(),
            tags: Vec::new(),
            use_shop_price: true,
            create_missing_products: false,
            roles: StateRoles { create: vec![2, 3], process: vec![3], cancel: vec![6] },
            allocate_concept: false,
            status_map: vec![
                StatusRule { when: None, picqer: PicqerStatus::Completed, then: 4 },
                StatusRule { when: None, picqer: PicqerStatus::Cancelled, then: 6 },
            ],
            send_status_email: true,
            stock_sync: true,
            stock_formula: StockFormula::default(),
            full_stock_on_webhook: false,
            full_sync_token: None,
            poll_every: Duration::from_secs(300),
            requests_per_second: crate::DEFAULT_REQUESTS_PER_SECOND,
            burst: crate::DEFAULT_BURST,
        }
    }
}

/// Why a shop could not be connected.
#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error("shop {0:?}: {1}")]
    Invalid(String, String),
    #[error("shop {shop:?}: the webservice at {url} refused or failed: {source}")]
    Shop {
        shop: String,
        url: String,
        #[source]
        source: crate::PrestaError,
    },
    #[error("shop {0:?}: could not save it: {1}")]
    Store(String, kade_store::StoreError),
}

/// A live shop.
pub struct PrestaShop {
    settings: ShopSettings,
    client: PrestaClient,
    store: Store,
    /// Picqer tag ids for `settings.tags`, resolved on connect.
    tag_ids: Vec<u64>,
}

pub(crate) const ORDERS_STATE: &str = "orders";

impl PrestaShop {
    /// Checks what only the live systems know (tags against Picqer's tags, the key with one live
    /// call; name, prefix and key format are guaranteed by their types), refuses a prefix change
    /// once orders were synced, and saves the shop (secrets encrypted).
    pub async fn connect(store: Store, secrets: &SecretBox, settings: ShopSettings) -> Result<Arc<Self>, ShopError> {
        let name = settings.name.to_string();
        let invalid = |m: String| ShopError::Invalid(name.clone(), m);
        let store_err = |e| ShopError::Store(name.clone(), e);
        if let Some(previous) = store.connection(&name).await.map_err(store_err)? {
            let old = previous.settings.get("prefix").and_then(|p| p.as_str()).unwrap_or_default().to_owned();
            let synced = store.sync_state(&name, ORDERS_STATE).await.map_err(store_err)?.map_or(0, |s| s.items);
            if !old.is_empty() && old != settings.prefix.as_str() && synced > 0 {
                return Err(invalid(format!(
                    "the prefix cannot change from {old:?} to {:?}: {synced} order(s) were already sent to Picqer with \
                     references starting with {old:?}, and Kade finds them by that reference (a new prefix would \
                     create them again). Keep {old:?}, or connect the shop under a new name.",
                    settings.prefix
                )));
            }
        }
        let known = store.references(&settings.picqer, "tag").await.map_err(store_err)?;
        let mut tag_ids = Vec::new();
        for title in &settings.tags {
            let found = known.iter().find(|t| t.get("title").and_then(|v| v.as_str()) == Some(title.as_str()));
            match found.and_then(|t| t.get("idtag")).and_then(|v| v.as_u64()) {
                Some(id) => tag_ids.push(id),
                None => {
                    let titles: Vec<&str> = known.iter().filter_map(|t| t.get("title")?.as_str()).collect();
                    return Err(invalid(format!(
                        "tag {title:?} does not exist in Picqer (known tags: {})",
                        titles.join(", ")
                    )));
                }
            }
        }
        let mut config = PrestaConfig::new(&settings.shop_url, settings.ws_key.expose());
        config.requests_per_second = settings.requests_per_second;
        config.burst = settings.burst;
        let client = PrestaClient::new(config).map_err(|e| invalid(e.to_string()))?;
        client.ping().await.map_err(|source| ShopError::Shop {
            shop: name.clone(),
            url: settings.shop_url.clone(),
            source,
        })?;
        let secret_blob =
            serde_json::json!({"ws_key": settings.ws_key.expose(), "notify_secret": settings.notify_secret.expose()})
                .to_string();
        let record = ConnectionRecord {
            name: name.clone(),
            kind: "prestashop".into(),
            settings: serde_json::json!({
                "shop_url": settings.shop_url, "picqer": settings.picqer, "prefix": settings.prefix, "tags": settings.tags,
            }),
            secrets_enc: Some(secrets.encrypt(secret_blob.as_bytes())),
            state: "connected".into(),
            updated_ms: now_ms(),
        };
        store.put_connection(&record).await.map_err(store_err)?;
        Ok(Arc::new(PrestaShop { settings, client, store, tag_ids }))
    }

    pub fn name(&self) -> &str {
        self.settings.name.as_str()
    }

    pub fn settings(&self) -> &ShopSettings {
        &self.settings
    }

    pub fn client(&self) -> &PrestaClient {
        &self.client
    }

    /// `prestashop/{shop}`: the link table's system name for this shop.
    pub(crate) fn system(&self) -> String {
        format!("prestashop/{}", self.name())
    }

    pub(crate) fn order_entity(&self, id: u64) -> String {
        kade_core::dedupe::entity_key(self.name(), "order", id)
    }

    /// The Picqer order linked to shop order `id`.
    pub(crate) async fn linked_order(&self, id: u64) -> Result<Option<u64>, JobError> {
        let links = self
            .store
            .linked(&self.system(), "order", &id.to_string(), &format!("picqer/{}", self.settings.picqer))
            .await?;
        Ok(links.first().and_then(|l| l.b_id.parse().ok()))
    }

    /// The shop order linked to Picqer order `idorder`.
    pub(crate) async fn shop_order_of(&self, idorder: u64) -> Result<Option<u64>, JobError> {
        let links = self
            .store
            .links_to(&format!("picqer/{}", self.settings.picqer), "order", &idorder.to_string(), &self.system())
            .await?;
        Ok(links.first().and_then(|l| l.a_id.parse().ok()))
    }

    pub(crate) async fn link_order(&self, id: u64, idorder: u64, state: &str) -> Result<(), JobError> {
        let link = Link {
            a_system: self.system(),
            a_kind: "order".into(),
            a_id: id.to_string(),
            b_system: format!("picqer/{}", self.settings.picqer),
            b_kind: "order".into(),
            b_id: idorder.to_string(),
            state: state.into(),
            updated_ms: now_ms(),
        };
        Ok(self.store.link(&link).await?)
    }

    /// A log line in the audit, on every entity given (the shop order and the Picqer order, so
    /// both timelines show it). Failures are logged, never fatal.
    pub(crate) async fn log(&self, entities: &[String], action: &str, detail: serde_json::Value) {
        for entity in entities {
            let entry = AuditEntry {
                at_ms: now_ms(),
                connection: Some(self.name().to_string()),
                entity: Some(entity.clone()),
                action: action.to_string(),
                detail: detail.clone(),
            };
            if let Err(e) = self.store.audit(&entry).await {
                tracing::warn!(error = %e, "audit write failed");
            }
        }
    }

    pub(crate) fn entry(&self, entity: Option<String>, action: &str, detail: serde_json::Value) -> AuditEntry {
        kade_engine::effect_entry(self.name(), entity, action, detail)
    }

    pub(crate) async fn bump_synced(&self) -> Result<(), JobError> {
        let mut state = self.store.sync_state(self.name(), ORDERS_STATE).await?.unwrap_or(SyncState {
            connection: self.name().into(),
            name: ORDERS_STATE.into(),
            cursor: serde_json::json!({}),
            status: "done".into(),
            items: 0,
            last_run_ms: 0,
            last_error: None,
        });
        state.items += 1;
        state.last_run_ms = now_ms();
        Ok(self.store.put_sync_state(&state).await?)
    }

    /// A job about this whole shop.
    pub(crate) fn shop_job(&self, reason: Option<&str>) -> ShopJob {
        ShopJob {
            connection: self.settings.picqer.clone(),
            shop: self.name().into(),
            reason: reason.map(str::to_string),
        }
    }

    /// Queues the full stock sync (coalesced: one queued per shop at a time).
    pub async fn enqueue_full_stock(&self, engine: &Engine, reason: &str) -> Result<i64, JobError> {
        engine.enqueue(&PrestaJob::StockFull(self.shop_job(Some(reason)))).await
    }

    /// Queues a poll for changed orders.
    pub async fn enqueue_poll(&self, engine: &Engine) -> Result<i64, JobError> {
        engine.enqueue(&PrestaJob::Poll(self.shop_job(None))).await
    }

    /// Queues the order job of shop order `id_order`.
    pub(crate) async fn enqueue_order(&self, engine: &Engine, id_order: u64, event: &str) -> Result<i64, JobError> {
        let job = OrderJob {
            connection: self.settings.picqer.clone(),
            shop: self.name().into(),
            id_order,
            event: Some(event.into()),
        };
        engine.enqueue(&PrestaJob::Order(job)).await
    }
}

/// One live call to the shop's webservice (the key needs GET on orders), with a short timeout
/// and no retries: what `kade check` asks of a shop.
pub async fn verify(shop: &ShopSettings) -> Result<(), crate::PrestaError> {
    let mut cfg = PrestaConfig::new(&shop.shop_url, shop.ws_key.expose());
    cfg.timeout = Duration::from_secs(10);
    PrestaClient::new(cfg)?.ping().await
}

impl From<crate::PrestaError> for JobError {
    fn from(e: crate::PrestaError) -> Self {
        // One classification for every partner (kade-transport's), kept with the error itself.
        JobError::from_partner(e.class(), e)
    }
}
