//! The worker: claims due jobs with a lease, runs them, and records the outcome durably.
//!
//! A worker never sleeps on a failure: a failed job is rescheduled in the store (`run_at` in the
//! future, exponential backoff with jitter) and the worker moves on. While a handler runs, a
//! heartbeat extends its lease; if the process dies, the lease runs out and the job is claimed
//! again, so every handler must be safe to run twice.
//!
//! Exactly once: a handler does its idempotent work and *returns* its effect record instead of
//! writing it; the worker commits that record, the job's completion and the processed mark on
//! the inbox events the job accounts for in one lease-checked transaction
//! ([`Store::finish_job`]). A crash before that commit leaves everything to the re-run; a crash
//! after it leaves nothing to redo.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use kade_store::{AuditEntry, Job, SecretBox, Store, StoreError};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tracing::Instrument as _;

use crate::connector::{Connector, Registry};
use crate::jobs::{JobError, JobSpec};
use crate::metrics::Metrics;
use crate::now_ms;
use crate::picqer::PicqerConnection;

#[path = "worker_outcome.rs"]
mod outcome;

/// Worker settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Identifies this process in leases (`host:pid:random` by default).
    pub worker_id: String,
    /// How long a claimed job stays ours without a heartbeat.
    pub lease: Duration,
    /// Jobs claimed per round.
    pub batch: i64,
    /// Jobs run at once.
    pub concurrency: usize,
    /// Sleep when the queue is empty (new work also wakes workers directly).
    pub idle_poll: Duration,
    /// Attempts before a job becomes a dead letter.
    pub max_attempts: i32,
    /// First retry delay; doubles per attempt with jitter, up to `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// On shutdown, how long in-flight jobs may take to finish.
    pub shutdown_grace: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            worker_id: format!("kade-{}-{:08x}", std::process::id(), fastrand::u32(..)),
            lease: Duration::from_secs(60),
            batch: 16,
            concurrency: 4,
            idle_poll: Duration::from_millis(250),
            max_attempts: 12,
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(3600),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

struct Inner {
    store: Store,
    secrets: SecretBox,
    cfg: EngineConfig,
    metrics: Arc<Metrics>,
    picqer: RwLock<BTreeMap<String, Arc<PicqerConnection>>>,
    /// The connectors (shops, accounting…), registered before the hub starts.
    connectors: RwLock<Registry>,
    automations: RwLock<Option<Arc<crate::automation::Automations>>>,
    /// Added to the wall clock for every scheduling decision (claims, automation due times):
    /// lets tests and demos compress a two-day wait without touching the database.
    clock_offset_ms: AtomicI64,
    wake: Notify,
}

/// The runtime: store, connections, workers. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    pub fn new(store: Store, secrets: SecretBox, cfg: EngineConfig, metrics: Arc<Metrics>) -> Self {
        kade_calls::observe(&metrics); // telemetry: partner-call latency from every client
        Engine {
            inner: Arc::new(Inner {
                store,
                secrets,
                cfg,
                metrics,
                picqer: RwLock::default(),
                connectors: RwLock::default(),
                automations: RwLock::default(),
                clock_offset_ms: AtomicI64::new(0),
                wake: Notify::new(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn secrets(&self) -> &SecretBox {
        &self.inner.secrets
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.cfg
    }

    /// Registers a live Picqer connection under its name.
    pub fn add_picqer(&self, conn: Arc<PicqerConnection>) {
        let mut map = self.inner.picqer.write().unwrap_or_else(|p| p.into_inner());
        map.insert(conn.name().to_string(), conn);
    }

    /// Forgets a connection (after disconnect).
    pub fn remove_picqer(&self, name: &str) -> Option<Arc<PicqerConnection>> {
        self.inner.picqer.write().unwrap_or_else(|p| p.into_inner()).remove(name)
    }

    /// The live connection called `name`.
    pub fn picqer(&self, name: &str) -> Option<Arc<PicqerConnection>> {
        self.inner.picqer.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    /// Every live Picqer connection.
    pub fn picqer_all(&self) -> Vec<Arc<PicqerConnection>> {
        self.inner.picqer.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// Registers a connector; its namespace must be free.
    pub fn register(&self, connector: Arc<dyn Connector>) -> Result<(), String> {
        self.inner.connectors.write().unwrap_or_else(|p| p.into_inner()).register(connector)
    }

    /// The registered connectors.
    pub fn connectors(&self) -> Vec<Arc<dyn Connector>> {
        self.inner.connectors.read().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }

    /// The connector owning namespace `kind`.
    pub fn connector(&self, kind: &str) -> Option<Arc<dyn Connector>> {
        self.inner.connectors.read().unwrap_or_else(|p| p.into_inner()).get(kind).cloned()
    }

    /// Queues a typed job to run now.
    pub async fn enqueue<J: JobSpec>(&self, job: &J) -> Result<i64, JobError> {
        self.enqueue_at(job, self.now_ms()).await
    }

    /// Queues a typed job to run at `run_at_ms` (engine time), and wakes idle workers.
    pub async fn enqueue_at<J: JobSpec>(&self, job: &J, run_at_ms: i64) -> Result<i64, JobError> {
        let row = crate::jobs::encode(job, run_at_ms, self.inner.cfg.max_attempts)?;
        let id = self.inner.store.enqueue(&row).await?;
        self.notify();
        Ok(id)
    }

    /// Installs the automation rules and the messenger that sends for them.
    pub fn set_automations(&self, automations: crate::automation::Automations) {
        *self.inner.automations.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(automations));
    }

    /// The automation rules, if any are configured.
    pub fn automations(&self) -> Option<Arc<crate::automation::Automations>> {
        self.inner.automations.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The engine's "now" (Unix ms): the wall clock plus the offset set by [`Engine::advance_clock`].
    pub fn now_ms(&self) -> i64 {
        now_ms() + self.inner.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// Moves the engine's clock forward (tests and the demo compress waits this way; a restarted
    /// process starts from the wall clock again).
    pub fn advance_clock(&self, by: Duration) {
        self.inner.clock_offset_ms.fetch_add(by.as_millis() as i64, Ordering::Relaxed);
        self.notify();
    }

    /// Wakes idle workers (call after enqueuing).
    pub fn notify(&self) {
        self.inner.wake.notify_waiters();
    }

    /// Runs workers until `shutdown` turns true: stop claiming, let in-flight jobs finish within
    /// the grace period, leave the rest to lease expiry.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let cfg = &self.inner.cfg;
        self.recover_orphans().await;
        let mut running: JoinSet<()> = JoinSet::new();
        loop {
            if *shutdown.borrow() {
                break;
            }
            while running.try_join_next().is_some() {}
            let free = cfg.concurrency.saturating_sub(running.len()) as i64;
            let claimed = if free > 0 { self.claim(free.min(cfg.batch)).await } else { Vec::new() };
            let idle = claimed.is_empty();
            for job in claimed {
                let engine = self.clone();
                running.spawn(async move { engine.execute(job).await });
            }
            if idle || free == 0 {
                tokio::select! {
                    _ = shutdown.changed() => {}
                    _ = self.inner.wake.notified() => {}
                    _ = tokio::time::sleep(cfg.idle_poll) => {}
                    Some(_) = running.join_next(), if !running.is_empty() => {}
                }
            }
        }
        let grace = tokio::time::sleep(cfg.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                next = running.join_next() => if next.is_none() { break },
                _ = &mut grace => {
                    tracing::warn!(left = running.len(), "shutdown grace over; leases of unfinished jobs will expire");
                    running.abort_all();
                    break;
                }
            }
        }
    }

    /// Runs every due job, one at a time, until none is claimable. Deterministic: for tests, the
    /// demo and `kade sync`. Returns how many jobs ran.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        let mut ran = 0;
        loop {
            let jobs = self.inner.store.claim(&self.inner.cfg.worker_id, 1, self.lease_ms(), self.now_ms()).await?;
            let Some(job) = jobs.into_iter().next() else {
                return Ok(ran);
            };
            self.execute(job).await;
            ran += 1;
        }
    }

    /// SQLite runs single-process, so at start every job still "running" belongs to a process
    /// that died (a crash, a SIGKILL): take those over now rather than after their lease (a
    /// minute) runs out, which would also hold back every later job of the same entities.
    /// PostgreSQL may be shared by live processes, so there leases simply expire.
    async fn recover_orphans(&self) {
        if self.inner.store.backend() != "sqlite" {
            return;
        }
        match self.inner.store.expire_foreign_leases(&self.inner.cfg.worker_id, now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "taking over jobs left running by a previous process"),
            Err(e) => tracing::warn!(error = %e, "could not release the jobs of a previous process"),
        }
    }

    fn lease_ms(&self) -> i64 {
        self.inner.cfg.lease.as_millis() as i64
    }

    async fn claim(&self, limit: i64) -> Vec<Job> {
        match self.inner.store.claim(&self.inner.cfg.worker_id, limit, self.lease_ms(), self.now_ms()).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::error!(error = %e, "claiming jobs failed");
                tokio::time::sleep(self.inner.cfg.idle_poll).await;
                Vec::new()
            }
        }
    }

    /// Runs one claimed job with a lease heartbeat and records the outcome.
    async fn execute(&self, job: Job) {
        let store = &self.inner.store;
        let worker = self.inner.cfg.worker_id.clone();
        let lease = self.inner.cfg.lease;
        let heartbeat = async {
            loop {
                tokio::time::sleep(lease / 3).await;
                match store.extend_lease(job.id, &worker, self.now_ms() + lease.as_millis() as i64).await {
                    Ok(true) => {}
                    // The lease was lost (we were too slow); someone else owns the job now.
                    Ok(false) => return,
                    Err(e) => tracing::warn!(job = job.id, error = %e, "lease heartbeat failed"),
                }
            }
        };
        // Every partner call the handler makes is recorded and listed on the entry for this
        // attempt (principle 9; `crate::calls`). Shop jobs record and list their own.
        // telemetry: one span per attempt (its logs carry the job), and the handler's duration.
        let entity = job.entity_key.as_deref().unwrap_or("");
        let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempts, entity);
        let started = std::time::Instant::now();
        let (result, calls) = tokio::select! {
            r = kade_calls::recorded(self.handle(&job)).instrument(span.clone()) => r,
            () = heartbeat => (Err(JobError::transient("lease lost while running")), Vec::new()),
        };
        self.record(&job, result, &calls, started.elapsed()).instrument(span).await;
    }

    /// Dispatches a job to its handler: the core's own namespaces here, every other namespace
    /// to the connector that owns it.
    async fn handle(&self, job: &Job) -> Result<Option<AuditEntry>, JobError> {
        match crate::jobs::namespace(&job.kind) {
            "picqer" => self.handle_picqer(crate::jobs::decode(job)?).await,
            "automation" => crate::automation::run(self, job).await.map(Some),
            ns => match self.connector(ns) {
                Some(connector) => connector.handle(self, job).await,
                None => Err(JobError::transient(format!(
                    "no connector {ns:?} is registered in this process for job kind {:?}",
                    job.kind
                ))),
            },
        }
    }

    /// Runs a Picqer job; after an event, every connector and the automations queue their own
    /// jobs for it.
    async fn handle_picqer(&self, job: crate::picqer::PicqerJob) -> Result<Option<AuditEntry>, JobError> {
        use crate::picqer::PicqerJob;
        let name = job.connection();
        let conn = self
            .picqer(name)
            .ok_or_else(|| JobError::transient(format!("connection {name:?} is not connected (yet)")))?;
        match &job {
            PicqerJob::ProductRefresh(event) => {
                let entry = conn.refresh_product(event).await?;
                for connector in self.connectors() {
                    connector.on_picqer_event(self, event).await?;
                }
                Ok(Some(entry))
            }
            PicqerJob::Event(event) => {
                let entry = conn.record_event(event).await?;
                for connector in self.connectors() {
                    connector.on_picqer_event(self, event).await?;
                }
                crate::automation::after_event(self, &conn, event).await?;
                Ok(Some(entry))
            }
            PicqerJob::CatalogueFull(job) => conn.full_sync(job).await.map(|()| None),
            PicqerJob::CatalogueIncremental(_) => conn.incremental_sync().await.map(|()| None),
            PicqerJob::HookSupervise(_) => conn.supervise(self).await.map(|_| None),
        }
    }
}
