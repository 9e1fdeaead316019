//! Assembling a running Kade: store, engine, connections, hooks, workers, scheduler, HTTP.
//! `kade serve`, `kade demo` and the tests all start Kade through [`Hub::start`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kade_engine::ingest::{DEFAULT_MAX_BATCH, IngestBatcher};
use kade_engine::picqer::{ConnectError, PicqerConnection, PicqerSettings};
use kade_engine::picqer::{ConnectionJob, PicqerJob};
use kade_engine::scheduler::{self, Schedule};
use kade_engine::{Connector, Engine, EngineConfig, Metrics};
use kade_store::{SecretBox, Store, StoreError};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::{AdminToken, AppState};

/// Everything needed to start Kade. `Debug` never shows the admin token or the master key.
#[derive(Clone)]
pub struct HubOptions {
    pub database_url: String,
    pub listen: SocketAddr,
    /// Where Picqer reaches this Kade; hooks point at `{public_url}/webhooks/picqer/{name}`.
    /// `None` uses the address it listens on (tests, the demo).
    pub public_url: Option<String>,
    pub admin_token: String,
    pub master_key: Vec<u8>,
    pub picqer: Vec<PicqerSettings>,
    pub incremental_every: Duration,
    pub engine: EngineConfig,
    /// Run workers and the scheduler (off in tests that drive the queue by hand).
    pub background: bool,
    pub body_limit: usize,
    /// How the customer-answer agent behaves (stock formula, language model...).
    pub agent: kade_agent::AgentConfig,
    /// The connectors (shops and other partner systems); each starts after the Picqer
    /// connections it follows, before the HTTP server answers.
    pub connectors: Vec<Arc<dyn Connector>>,
}

impl HubOptions {
    /// A hub on `database_url` with these Picqer connections, listening on a free loopback
    /// port, with the defaults `kade serve` uses otherwise and no connectors; workers and the
    /// scheduler off (set `background`). The demo, the benchmarks and the tests start from this
    /// and change what they are about with struct-update syntax.
    pub fn local(database_url: &str, admin_token: &str, master_key: &[u8], picqer: Vec<PicqerSettings>) -> Self {
        HubOptions {
            database_url: database_url.to_string(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            admin_token: admin_token.to_string(),
            master_key: master_key.to_vec(),
            picqer,
            incremental_every: Duration::from_secs(900),
            engine: EngineConfig::default(),
            background: false,
            body_limit: 1024 * 1024,
            agent: kade_agent::AgentConfig::default(),
            connectors: Vec::new(),
        }
    }
}

impl std::fmt::Debug for HubOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubOptions")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("admin_token", &"***")
            .field("master_key", &"***")
            .field("picqer", &self.picqer)
            .field("incremental_every", &self.incremental_every)
            .field("background", &self.background)
            .field("connectors", &self.connectors.iter().map(|c| c.kind()).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Why Kade could not start.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("database {url}: {source}")]
    Store {
        url: String,
        #[source]
        source: StoreError,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("security.master_key: {0}")]
    MasterKey(#[from] kade_store::CryptoError),
    #[error(transparent)]
    Connector(#[from] kade_engine::connector::ConnectorError),
    #[error("connection {name:?}: {step} failed: {message}")]
    Setup { name: String, step: &'static str, message: String },
}

/// A running Kade.
pub struct Hub {
    pub engine: Engine,
    /// The ingress's grouped-commit batcher (its statistics are what `kade bench ingest` reports).
    pub ingest: IngestBatcher,
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Hub {
    /// Starts Kade. The HTTP listener is up before hooks are installed, so Picqer's first
    /// deliveries find it.
    pub async fn start(opts: HubOptions) -> Result<Hub, HubError> {
        Hub::start_with_automations(opts, None).await
    }

    /// [`Hub::start`] with automation rules: they are installed before any worker runs, and the
    /// Picqer events their triggers need are added to every connection's hooks.
    pub async fn start_with_automations(
        mut opts: HubOptions,
        automations: Option<kade_engine::automation::Automations>,
    ) -> Result<Hub, HubError> {
        let url = redact_url(&opts.database_url);
        let store =
            Store::open(&opts.database_url).await.map_err(|source| HubError::Store { url: url.clone(), source })?;
        let secrets = SecretBox::from_key_material(&opts.master_key)?;
        let engine = Engine::new(store, secrets, opts.engine.clone(), Arc::new(Metrics::default()));
        if let Some(auto) = automations {
            for settings in &mut opts.picqer {
                for rule in auto.rules.iter().filter(|r| r.connection.as_deref().is_none_or(|c| c == settings.name)) {
                    for event in rule.trigger.events() {
                        if !settings.events.contains(&event) {
                            settings.events.push(event);
                        }
                    }
                }
            }
            engine.set_automations(auto);
        }
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|source| HubError::Listen { addr: opts.listen, source })?;
        let addr = listener.local_addr().map_err(|source| HubError::Listen { addr: opts.listen, source })?;
        let (shutdown, rx) = watch::channel(false);
        let mut tasks = JoinSet::new();

        let mut schedules: Vec<Schedule> = Vec::new();
        let public = opts.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
        for mut settings in opts.picqer.clone() {
            let name = settings.name.clone();
            settings.webhook_url = format!("{}/webhooks/picqer/{name}", public.trim_end_matches('/'));
            let conn = PicqerConnection::connect(engine.store().clone(), engine.secrets().clone(), settings).await?;
            engine.add_picqer(conn.clone());
            conn.install_hooks().await.map_err(|e| HubError::Setup {
                name: name.clone(),
                step: "installing hooks",
                message: e.to_string(),
            })?;
            let full_done = engine
                .store()
                .sync_state(&name, "catalogue_full")
                .await
                .map_err(|source| HubError::Store { url: url.clone(), source })?
                .is_some_and(|s| s.status == "done");
            if !full_done {
                let first =
                    ConnectionJob { unless_done_since_ms: Some(0), ..ConnectionJob::new(&name, Some("first sync")) };
                engine.enqueue(&PicqerJob::CatalogueFull(first)).await.map_err(|e| HubError::Setup {
                    name: name.clone(),
                    step: "queueing the first catalogue sync",
                    message: e.to_string(),
                })?;
            }
            schedules.extend(scheduler::picqer_schedules(&name, opts.incremental_every));
        }

        for connector in &opts.connectors {
            engine.register(connector.clone()).map_err(|message| HubError::Setup {
                name: connector.kind().into(),
                step: "registering the connector",
                message,
            })?;
            connector.start(&engine).await?;
        }

        // Serve only now that every connection is registered: the listener was bound first (so
        // the webhook URL exists and early deliveries wait in the backlog), but answering before
        // the connection is known would refuse them with 404 — and Picqer retries each refusal.
        let ingest = IngestBatcher::start(engine.store().clone(), DEFAULT_MAX_BATCH);
        let state = AppState {
            engine: engine.clone(),
            admin: Arc::new(AdminToken::new(&opts.admin_token)),
            body_limit: opts.body_limit,
            ingest: ingest.clone(),
            refusals: crate::ingress::RefusalLog::start(engine.clone()),
            agents: Arc::new(crate::agent::Agents::new(opts.agent.clone())),
        };
        let app = crate::router(state);
        let mut stop = rx.clone();
        tasks.spawn(async move {
            let graceful = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(graceful).await {
                tracing::error!(error = %e, "HTTP server stopped");
            }
        });

        if opts.background {
            let (e, r) = (engine.clone(), rx.clone());
            tasks.spawn(async move { e.run(r).await });
            let (e, r) = (engine.clone(), rx.clone());
            tasks.spawn(async move { scheduler::run(e, schedules, r).await });
        }
        Ok(Hub { engine, ingest, addr, shutdown, tasks })
    }

    /// The base URL of this Kade's HTTP server.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops claiming work, lets in-flight jobs finish (within the grace period), closes HTTP.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
    let redacted = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    match path {
        Some(p) => format!("{scheme}://{redacted}/{p}"),
        None => format!("{scheme}://{redacted}"),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(redact_url("postgres://kade:s3cret@db:5432/kade"), "postgres://kade:***@db:5432/kade");
        assert_eq!(redact_url("postgres://kade@db/kade"), "postgres://kade@db/kade");
        assert_eq!(redact_url("sqlite:kade.db"), "sqlite:kade.db");
        assert_eq!(redact_url("postgresql://u:p@h"), "postgresql://u:***@h");
    }
}
