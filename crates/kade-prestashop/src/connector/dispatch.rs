//! The PrestaShop connector as Kade's centre sees it ([`kade_engine::Connector`]): its shops,
//! its jobs, its reaction to Picqer events, its schedules, routes, checks and status.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, Weak};

use futures_util::future::BoxFuture;
use kade_engine::connector::{ApiOperation, CheckLine, ConnectorError, RouteContext, Schedule};
use kade_engine::jobs::decode;
use kade_engine::picqer::{PicqerConnection, PicqerEvent};
use kade_engine::{Connector, Engine, JobError};
use kade_store::{AuditEntry, Job};

use super::jobs::{PrestaJob, StatusBackJob, StockProductJob};
use super::{PrestaShop, ShopSettings, calls};

/// The namespace of everything PrestaShop in Kade.
pub const KIND: &str = "prestashop";

/// Every PrestaShop shop of this Kade. Shops given to [`PrestaConnector::new`] connect when the
/// hub starts; [`PrestaConnector::add_shop`] connects one later.
pub struct PrestaConnector {
    /// Itself, for the routes it hands out (they outlive any borrow of it).
    me: Weak<PrestaConnector>,
    configured: Vec<ShopSettings>,
    shops: RwLock<BTreeMap<String, Arc<PrestaShop>>>,
}

impl PrestaConnector {
    /// The connector with the shops of the configuration (connected at start).
    pub fn new(configured: Vec<ShopSettings>) -> Arc<Self> {
        Arc::new_cyclic(|me| PrestaConnector { me: me.clone(), configured, shops: RwLock::default() })
    }

    /// The shop called `name`.
    pub fn shop(&self, name: &str) -> Option<Arc<PrestaShop>> {
        self.shops.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    /// Every connected shop.
    pub fn shops(&self) -> Vec<Arc<PrestaShop>> {
        self.shops.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// The shops that feed the Picqer connection `picqer`.
    fn shops_of(&self, picqer: &str) -> Vec<Arc<PrestaShop>> {
        self.shops().into_iter().filter(|s| s.settings().picqer == picqer).collect()
    }

    /// Connects a shop to one of the hub's Picqer connections: validates and saves it, and
    /// registers it (its notification URL answers from now on, its poll is scheduled).
    pub async fn add_shop(&self, engine: &Engine, settings: ShopSettings) -> Result<Arc<PrestaShop>, ConnectorError> {
        let fail = |message: String, source: Option<Box<dyn std::error::Error + Send + Sync>>| ConnectorError {
            connector: KIND,
            instance: settings.name.to_string(),
            message,
            source,
        };
        if engine.picqer(&settings.picqer).is_none() {
            return Err(fail(format!("there is no Picqer connection named {:?}", settings.picqer), None));
        }
        let shop = PrestaShop::connect(engine.store().clone(), engine.secrets(), settings.clone())
            .await
            .map_err(|e| fail(e.to_string(), Some(Box::new(e))))?;
        self.shops.write().unwrap_or_else(|p| p.into_inner()).insert(shop.name().to_string(), shop.clone());
        Ok(shop)
    }

    fn shop_for(&self, name: &str) -> Result<Arc<PrestaShop>, JobError> {
        self.shop(name).ok_or_else(|| JobError::transient(format!("shop {name:?} is not connected (yet)")))
    }

    async fn run(&self, engine: &Engine, job: &Job) -> Result<Option<AuditEntry>, JobError> {
        let typed: PrestaJob = decode(job)?;
        let shop = self.shop_for(typed.shop())?;
        let picqer = engine.picqer(&shop.settings().picqer).ok_or_else(|| {
            JobError::transient(format!("connection {:?} is not connected (yet)", shop.settings().picqer))
        })?;
        let (result, calls) = kade_calls::recorded(run(engine, &picqer, &shop, &typed)).await;
        calls::attach(&shop, job, result, &calls).await
    }

    /// After a Picqer event: the stock update of every shop that syncs stock (a product event),
    /// the status-back of every shop on the connection (an order or shipment event; a shop that
    /// does not know the order finishes at once, from the link table). One job per shop.
    async fn react(&self, engine: &Engine, event: &PicqerEvent) -> Result<(), JobError> {
        for shop in self.shops_of(&event.connection) {
            if let Some(idproduct) = event.idproduct.filter(|_| event.moves_stock() && shop.settings().stock_sync) {
                if shop.settings().full_stock_on_webhook {
                    shop.enqueue_full_stock(engine, &event.event).await?;
                } else {
                    let job =
                        StockProductJob { connection: event.connection.clone(), shop: shop.name().into(), idproduct };
                    engine.enqueue(&PrestaJob::StockProduct(job)).await?;
                }
            }
            if let Some(idorder) = event.order() {
                let job = StatusBackJob { connection: event.connection.clone(), shop: shop.name().into(), idorder };
                engine.enqueue(&PrestaJob::StatusBack(job)).await?;
            }
        }
        Ok(())
    }
}

async fn run(
    engine: &Engine,
    picqer: &PicqerConnection,
    shop: &PrestaShop,
    job: &PrestaJob,
) -> Result<Option<AuditEntry>, JobError> {
    match job {
        PrestaJob::Order(j) => shop.sync_order(picqer, j.id_order).await.map(Some),
        PrestaJob::StatusBack(j) => shop.status_back(picqer, j.idorder).await.map(Some),
        PrestaJob::StockProduct(j) => shop.stock_product(picqer, j.idproduct).await.map(Some),
        PrestaJob::StockFull(_) => {
            shop.stock_full(picqer).await.map(|r| Some(shop.entry(None, "stock full sync", serde_json::json!(r))))
        }
        PrestaJob::Poll(_) => shop.poll(engine).await.map(Some),
    }
}

impl Connector for PrestaConnector {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn start<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            for settings in &self.configured {
                self.add_shop(engine, settings.clone()).await?;
            }
            Ok(())
        })
    }

    fn schedules(&self) -> Vec<Schedule> {
        self.shops()
            .iter()
            .filter(|s| !s.settings().poll_every.is_zero())
            .filter_map(|s| {
                let job = PrestaJob::Poll(s.shop_job(Some("scheduled")));
                Schedule::new(format!("{}/prestashop.poll", s.name()), s.settings().poll_every, &job).ok()
            })
            .collect()
    }

    fn on_picqer_event<'a>(
        &'a self,
        engine: &'a Engine,
        event: &'a PicqerEvent,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.react(engine, event))
    }

    fn handle<'a>(&'a self, engine: &'a Engine, job: &'a Job) -> BoxFuture<'a, Result<Option<AuditEntry>, JobError>> {
        Box::pin(self.run(engine, job))
    }

    fn routes(&self, ctx: &RouteContext) -> axum::Router {
        self.me.upgrade().map_or_else(axum::Router::new, |me| super::routes::public(ctx.clone(), me))
    }

    fn admin_routes(&self, ctx: &RouteContext) -> axum::Router {
        self.me.upgrade().map_or_else(axum::Router::new, |me| super::routes::admin(ctx.clone(), me))
    }

    fn openapi(&self) -> Vec<ApiOperation> {
        super::routes::OPERATIONS.to_vec()
    }

    fn describe(&self, public_url: &str) -> Vec<Vec<String>> {
        let base = public_url.trim_end_matches('/');
        self.configured
            .iter()
            .map(|s| {
                let name = &s.name;
                let full_sync = match s.full_sync_token {
                    Some(_) => format!("  full sync URL {base}/prestashop/{name}/stock-sync?token=***"),
                    None => format!("  full sync URL disabled (no prestashop.{name}.full_sync_token)"),
                };
                vec![
                    format!("PrestaShop shop \"{name}\" ({}, Picqer connection \"{}\")", s.shop_url, s.picqer),
                    format!("  notify URL    {base}/webhooks/prestashop/{name}"),
                    full_sync,
                    format!("  prefix        {} (Picqer references like \"{} #73 / ITQRFWVHT\")", s.prefix, s.prefix),
                ]
            })
            .collect()
    }

    fn check(&self) -> BoxFuture<'_, Vec<CheckLine>> {
        Box::pin(async move {
            let mut lines = Vec::new();
            for s in &self.configured {
                let result = match super::verify(s).await {
                    Ok(()) => Ok("connected: the webservice key works".to_string()),
                    Err(e) => Err(e.to_string()),
                };
                lines.push(CheckLine { what: format!("prestashop shop {:?} ({})", s.name, s.shop_url), result });
            }
            lines
        })
    }

    fn status<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, serde_json::Value> {
        Box::pin(async move {
            let mut shops = Vec::new();
            for shop in self.shops() {
                let hooks = match engine.picqer(&shop.settings().picqer) {
                    Some(picqer) => match shop.hook_status(&picqer).await {
                        Ok(h) => serde_json::json!(h),
                        Err(e) => serde_json::json!({"error": e.to_string()}),
                    },
                    None => serde_json::json!({"error": "the Picqer connection is not connected"}),
                };
                shops.push(serde_json::json!({
                    "name": shop.name(), "picqer": shop.settings().picqer, "prefix": shop.settings().prefix,
                    "hooks": hooks,
                }));
            }
            serde_json::json!({"kind": KIND, "instances": shops})
        })
    }
}
