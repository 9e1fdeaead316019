//! The connector shape: what a partner system (a shop, an accounting package, a purchasing
//! tool) implements to join Kade, and the registry the centre iterates.
//!
//! A connector owns a namespace (`prestashop`): its job kinds (`prestashop.order`), its HTTP
//! routes (`/webhooks/prestashop/…`), its admin routes, its config section and its link-table
//! systems all carry it. The worker, the scheduler, the router, the OpenAPI document, `kade check`
//! and `kade serve` know connectors only through this trait; nothing central names one. How to
//! add one, file by file: docs/design.md, "Adding a connector".
//!
//! Methods return boxed futures rather than using `async fn` so that connectors can live behind
//! `Arc<dyn Connector>` without a proc-macro crate.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use kade_store::{AuditEntry, Job, NewJob};
use serde_json::Value;

use crate::ingest::IngestBatcher;
use crate::jobs::{CodecError, JobError, JobSpec};
use crate::picqer::PicqerEvent;
use crate::worker::Engine;

/// What a connector's HTTP routes can reach.
#[derive(Clone)]
pub struct RouteContext {
    pub engine: Engine,
    /// Commits inbound events with their jobs before the 2xx (principle 1).
    pub ingest: IngestBatcher,
    /// Largest inbound body accepted.
    pub body_limit: usize,
}

/// One operation of a connector's admin API, for the OpenAPI document.
#[derive(Clone, Debug)]
pub struct ApiOperation {
    /// `get`, `post`, `put`, `delete`.
    pub method: &'static str,
    /// Relative to `/api/v1`, with `{param}` placeholders.
    pub path: &'static str,
    pub summary: &'static str,
}

/// One line of `kade check` (or of a health view): an instance and whether it answered.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CheckLine {
    /// `prestashop "main"`.
    pub what: String,
    /// `Ok` with what was learnt, `Err` with what to do about it.
    pub result: Result<String, String>,
}

/// A recurring job. Fire times are aligned to `every`, and each fire is claimed in the store
/// before the job is queued, so several processes queue each round once.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// Unique and stable across releases (the store remembers the last fire under it).
    pub name: String,
    pub every: Duration,
    /// The job, stamped with its fire time when queued (`scheduled_ms` in its payload: a job
    /// type that wants it has that field).
    pub job: NewJob,
}

impl Schedule {
    /// A schedule queuing `job` every `every`.
    pub fn new<J: JobSpec>(name: impl Into<String>, every: Duration, job: &J) -> Result<Self, CodecError> {
        Ok(Schedule { name: name.into(), every, job: crate::jobs::encode(job, 0, 0)? })
    }

    /// The latest fire time at or before `now_ms`.
    pub fn fire_at_or_before(&self, now_ms: i64) -> i64 {
        let period = (self.every.as_millis() as i64).max(1000);
        now_ms - now_ms.rem_euclid(period)
    }
}

/// A partner system joined to Kade. See the module documentation.
pub trait Connector: Send + Sync + 'static {
    /// The namespace: `prestashop`.
    fn kind(&self) -> &'static str;

    /// Connects the configured instances (validating them live), once, before any worker or
    /// route runs. An error stops `kade serve` with the message.
    fn start<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<(), ConnectorError>>;

    /// Recurring jobs; asked every scheduler round, so instances added later are covered.
    fn schedules(&self) -> Vec<Schedule> {
        Vec::new()
    }

    /// After Kade has taken in a Picqer event (mirrored a product, recorded an order event):
    /// queue this connector's own jobs for it. Each connector queues its own, so one partner's
    /// failure never delays another's.
    fn on_picqer_event<'a>(&'a self, engine: &'a Engine, event: &'a PicqerEvent)
    -> BoxFuture<'a, Result<(), JobError>>;

    /// Runs one job of this connector's namespace. The returned entry is committed with the
    /// job's completion (exactly once); the partner calls made are added to it by the worker.
    fn handle<'a>(&'a self, engine: &'a Engine, job: &'a Job) -> BoxFuture<'a, Result<Option<AuditEntry>, JobError>>;

    /// Inbound routes (partner notifications, cron URLs). They are public: each checks its own
    /// signature or token.
    fn routes(&self, _ctx: &RouteContext) -> axum::Router {
        axum::Router::new()
    }

    /// Admin routes, nested under `/api/v1` behind the admin token (the server adds the check).
    fn admin_routes(&self, _ctx: &RouteContext) -> axum::Router {
        axum::Router::new()
    }

    /// The admin routes, for the OpenAPI document (a test holds the two to each other).
    fn openapi(&self) -> Vec<ApiOperation> {
        Vec::new()
    }

    /// What an operator needs to wire each configured instance up (its URLs, with secrets
    /// redacted), printed by `kade serve` and `kade check`: one block per instance, a title line
    /// and indented detail lines; `public_url` is Kade's.
    fn describe(&self, _public_url: &str) -> Vec<Vec<String>> {
        Vec::new()
    }

    /// Live checks for `kade check`: one line per instance, in the order of [`Connector::describe`].
    fn check(&self) -> BoxFuture<'_, Vec<CheckLine>>;

    /// Instances with their hook and health state, for `GET /api/v1/connectors`.
    fn status<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Value>;
}

/// Why a connector could not start.
#[derive(Debug, thiserror::Error)]
#[error("{connector} {instance:?}: {message}")]
pub struct ConnectorError {
    pub connector: &'static str,
    pub instance: String,
    pub message: String,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// The registered connectors, in registration order.
#[derive(Clone, Default)]
pub struct Registry {
    connectors: Vec<Arc<dyn Connector>>,
}

impl Registry {
    /// Adds a connector. Two connectors may not share a namespace.
    pub fn register(&mut self, connector: Arc<dyn Connector>) -> Result<(), String> {
        let kind = connector.kind();
        if matches!(kind, "picqer" | "automation") || self.get(kind).is_some() {
            return Err(format!("a connector named {kind:?} is already registered"));
        }
        self.connectors.push(connector);
        Ok(())
    }

    /// The connector owning namespace `kind`.
    pub fn get(&self, kind: &str) -> Option<&Arc<dyn Connector>> {
        self.connectors.iter().find(|c| c.kind() == kind)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Connector>> {
        self.connectors.iter()
    }
}
