//! The PrestaShop webservice simulator.
//!
//! A stateful, in-memory PrestaShop 8 shop served over HTTP: `/api/...` behaves like the classic
//! webservice (key as Basic username or `ws_key`, per-resource permissions, XML and JSON output
//! with the JSON renderer's quirks, XML-only input, PUT as a full replace, filters, `display`,
//! `sort`, `limit`), a notification module emulation POSTs signed notices on new orders and
//! status changes, and `/_sim/...` lets tests act as shopper and back office, inject faults and
//! read the request journal. See `docs/simulators.md`.

pub mod control;
pub mod errors;
mod images;
pub mod notify;
pub mod ops;
pub mod query;
pub mod render;
pub mod schema;
pub mod server;
pub mod world;
pub mod xmlin;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::SimClock;
use crate::picqer::journal::{Journal, JournalEntry};
pub use notify::{NotifyConfig, NotifyMode, SIGNATURE_HEADER, sign};
pub use ops::{AddressSpec, ComboSpec, CustomerSpec, LineSpec, OrderSpec, ProductSpec};
use server::{Access, Sim, lock};

/// The default webservice key (32 characters, like a real one).
pub const DEFAULT_WS_KEY: &str = "KADESIMPRESTASHOPWEBSERVICEKEY01";

#[derive(Clone, Debug)]
pub struct PrestaSimConfig {
    /// The only webservice key (must be 32 characters to be usable, as in PrestaShop).
    pub ws_key: String,
    /// Seeded simple products `SIM-00001`…, each with 10 in stock.
    pub products: usize,
    pub seed: u64,
    pub clock: SimClock,
    /// Where the notification module posts, if anywhere.
    pub notify: Option<NotifyConfig>,
    /// The id of the first order placed (default 1).
    pub first_order_id: u64,
}

impl Default for PrestaSimConfig {
    fn default() -> Self {
        PrestaSimConfig {
            ws_key: DEFAULT_WS_KEY.into(),
            products: 0,
            seed: 1,
            clock: SimClock::real(),
            notify: None,
            first_order_id: 1,
        }
    }
}

/// Binds `listen` (port 0 picks one), seeds the shop and serves it; returns at once.
pub async fn start(config: PrestaSimConfig, listen: SocketAddr) -> std::io::Result<RunningPrestaSim> {
    let tcp = TcpListener::bind(listen).await?;
    let addr = tcp.local_addr()?;
    let root_url = crate::picqer::listener::loopback_url(addr);
    let mut world = world::World::new(config.clock.clone(), config.seed);
    world.root_url = root_url.clone();
    ops::seed(&mut world, config.products);
    world.start_ids_at("orders", config.first_order_id.max(1));
    let notifier = notify::Notifier::start();
    notifier.configure(config.notify.clone());
    let sim = Arc::new(Sim {
        world: Mutex::new(world),
        access: Mutex::new(Access::all(config.ws_key.clone())),
        clock: config.clock.clone(),
        faults: Mutex::new(Default::default()),
        journal: Mutex::new(Journal::default()),
        notifier,
    });
    let app = server::app(sim.clone());
    let (stop_tx, task) = crate::picqer::listener::serve(tcp, app, "prestashop");
    Ok(RunningPrestaSim { addr, root_url, ws_key: config.ws_key, sim, stop: Some(stop_tx), task })
}

/// A running shop. Dropping it stops the server.
pub struct RunningPrestaSim {
    addr: SocketAddr,
    root_url: String,
    ws_key: String,
    sim: Arc<Sim>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningPrestaSim {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:PORT` (the shop URL a merchant would configure).
    pub fn root_url(&self) -> String {
        self.root_url.clone()
    }
    /// `http://127.0.0.1:PORT/api`.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.root_url)
    }
    pub fn ws_key(&self) -> &str {
        &self.ws_key
    }
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.sim.journal).entries()
    }
    pub fn clear_journal(&self) {
        lock(&self.sim.journal).clear();
    }
    pub fn configure_notify(&self, config: Option<NotifyConfig>) {
        self.sim.notifier.configure(config);
    }
    pub fn notify_deliveries(&self) -> Vec<notify::Delivery> {
        self.sim.notifier.deliveries()
    }
    pub fn notify_in_flight(&self) -> usize {
        self.sim.notifier.in_flight()
    }
    pub fn flush_notifications(&self) {
        self.sim.notifier.flush();
    }
    pub fn add_product(&self, spec: &ProductSpec) -> u64 {
        self.sim.run(|w| ops::add_product(w, spec))
    }
    /// Places an order as a shopper would (and notifies, when configured).
    pub fn place_order(&self, spec: &OrderSpec) -> Result<u64, String> {
        self.sim.run(|w| ops::place_order(w, spec)).map_err(|e| e.message)
    }
    /// Changes an order's status from the back office (history row, notice).
    pub fn set_state(&self, id_order: u64, state: u64) -> Result<(), String> {
        self.sim.run(|w| w.change_state(id_order, state, 1, true)).map(|_| ()).map_err(|e| e.message)
    }
    /// One stored field of one record (e.g. `("orders", 5, "current_state")`).
    pub fn field(&self, resource: &str, id: u64, field: &str) -> Option<String> {
        lock(&self.sim.world).view(resource, id).map(|r| r.get(field).to_owned())
    }
    /// Every record of a resource, as field maps (computed values included).
    pub fn records(&self, resource: &str) -> Vec<world::Row> {
        let w = lock(&self.sim.world);
        let ids: Vec<u64> = w.table(resource).map(|(id, _)| *id).collect();
        ids.into_iter().filter_map(|id| w.view(resource, id)).map(|r| r.fields).collect()
    }
    /// The order rows of an order.
    pub fn order_rows(&self, id_order: u64) -> Vec<world::Row> {
        lock(&self.sim.world)
            .get("orders", id_order)
            .and_then(|o| o.assoc.get("order_rows").cloned())
            .unwrap_or_default()
    }
    pub fn mails(&self) -> Vec<world::Mail> {
        lock(&self.sim.world).mails.clone()
    }
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
        drop(self.stop.take());
    }
}
