//! The Picqer API simulator.
//!
//! A stateful, in-memory Picqer account served over HTTP: `/api/v1/...` behaves like Picqer's REST
//! API (Basic auth, bare-array lists paged by `offset`, rate-limit headers and 429s, Picqer's error
//! envelope), state changes fire webhooks through [`hooks::Hooks`], and `/_sim/...` lets tests act
//! as warehouse staff, move the clock and inject faults. See `docs/simulators.md`.

pub mod api;
pub mod control;
pub mod errors;
pub mod extract;
pub mod faults;
pub mod hooks;
pub mod journal;
pub mod listener;
pub mod ratelimit;
pub mod seed;
pub mod server;
pub mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::SimClock;
pub use journal::JournalEntry;
use server::{Sim, lock};

/// How to build the simulated account.
#[derive(Clone, Debug)]
pub struct PicqerSimConfig {
    /// The only API key accepted (as the Basic-auth username).
    pub api_key: String,
    /// Number of seeded products (100 000 seeds in well under a second).
    pub products: usize,
    /// Same seed, same world.
    pub seed: u64,
    /// Requests per minute per API key; 0 = unlimited.
    pub rate_limit_per_minute: u32,
    /// Token-bucket capacity; `None` = the per-minute limit.
    pub rate_burst: Option<u32>,
    pub clock: SimClock,
    pub hook_policy: hooks::HookPolicy,
}

impl Default for PicqerSimConfig {
    fn default() -> Self {
        PicqerSimConfig {
            api_key: "picqer-sim-key".into(),
            products: 250,
            seed: 1,
            rate_limit_per_minute: 500,
            rate_burst: None,
            clock: SimClock::real(),
            hook_policy: hooks::HookPolicy::default(),
        }
    }
}

/// Builds the seeded world without serving it (used by `start`, and by tests that only check
/// seeding).
pub fn build_world(config: &PicqerSimConfig, root_url: &str) -> state::World {
    let mut world = state::World::new(config.clock.clone());
    world.root_url = root_url.to_owned();
    seed::seed(&mut world, config.seed, config.products);
    world
}

/// Binds `listen` (port 0 picks a free port), seeds the world, starts the hook engine and the
/// server, and returns at once.
pub async fn start(config: PicqerSimConfig, listen: SocketAddr) -> std::io::Result<RunningSim> {
    let tcp = TcpListener::bind(listen).await?;
    let addr = tcp.local_addr()?;
    let root_url = listener::loopback_url(addr);
    let world = build_world(&config, &root_url);
    let hooks = hooks::Hooks::new(config.clock.clone(), config.hook_policy.clone());
    hooks.start();
    let sim = Arc::new(Sim {
        world: Mutex::new(world),
        hooks: hooks.clone(),
        clock: config.clock.clone(),
        api_key: config.api_key.clone(),
        limiter: Mutex::new(ratelimit::RateLimiter::new(
            config.rate_limit_per_minute,
            config.rate_burst,
            config.clock.clone(),
        )),
        faults: Mutex::new(faults::Faults::default()),
        journal: Mutex::new(journal::Journal::default()),
    });
    let app = server::app(sim.clone());
    let (stop_tx, task) = listener::serve(tcp, app, "picqer");
    Ok(RunningSim {
        addr,
        root_url,
        api_key: config.api_key,
        clock: config.clock,
        hooks,
        sim,
        stop: Some(stop_tx),
        task,
    })
}

/// A running simulator. Dropping it stops the server gracefully (like [`RunningSim::shutdown`]
/// without waiting), so a test that forgets to shut down does not leak a listener.
pub struct RunningSim {
    addr: SocketAddr,
    root_url: String,
    api_key: String,
    clock: SimClock,
    hooks: hooks::Hooks,
    sim: Arc<Sim>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningSim {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn root_url(&self) -> String {
        self.root_url.clone()
    }

    /// `http://127.0.0.1:PORT/api/v1`.
    pub fn base_url(&self) -> String {
        format!("{}/api/v1", self.root_url)
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    pub fn hooks(&self) -> &hooks::Hooks {
        &self.hooks
    }

    /// Every `/api/v1` request so far (same data as `GET /_sim/journal`).
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.sim.journal).entries()
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the server.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Runs until the server stops (it only stops on error; used by `kade sim picqer`).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
        drop(self.stop.take());
    }
}
