//! A connector written only for this test, in the shape docs/design.md ("Adding a connector")
//! describes: a tiny partner that is told about every Picqer order event by an HTTP POST to a
//! local receiver. It lives in this one file; the hub learns of it through one registration
//! line (`connectors: vec![echo.clone()]`). It proves that the centre needs no edit for a new
//! connector: its jobs run through the worker, its reaction to Picqer events through the
//! registry, its routes are served and documented, its admin route is behind the token, its
//! partner calls are on the audit entry, and it shows in `/api/v1/connectors`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::routing::get;
use futures_util::future::BoxFuture;
use kade_engine::connector::{ApiOperation, CheckLine, ConnectorError, RouteContext};
use kade_engine::jobs::decode;
use kade_engine::picqer::{PicqerEvent, PicqerSettings};
use kade_engine::transport::{Partner, Request, Transport, TransportConfig};
use kade_engine::{Connector, Engine, JobError, JobSpec, Priority};
use kade_picqer::types::{NewOrder, NewOrderLine};
use kade_picqer::{ApiKey, ClientConfig};
use kade_server::{Hub, HubOptions};
use kade_store::{AuditEntry, Job};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{ADMIN_TOKEN as TOKEN, Receiver, client, hub_options, sim, test_databases};

/// The echo partner's one job: tell the receiver about one order event.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
enum EchoJob {
    #[serde(rename = "echo.forward")]
    Forward { connection: String, idorder: u64, event: String },
}

impl JobSpec for EchoJob {
    fn entity_key(&self) -> Option<String> {
        let EchoJob::Forward { idorder, event, .. } = self;
        Some(format!("echo/order/{idorder}/{event}"))
    }

    fn priority(&self) -> Priority {
        Priority::Event
    }
}

struct EchoConnector {
    /// The partner's API on the one partner transport (budget, timeouts, classified retries,
    /// the call record), as every connector's client is.
    api: Transport,
    forwarded: AtomicU64,
}

impl EchoConnector {
    /// `receiver` is `http://host:port/hook`.
    fn new(receiver: &str) -> Arc<Self> {
        let base = receiver.trim_end_matches("/hook");
        let cfg = TransportConfig::new(base, 50, Duration::from_secs(1));
        let api = Transport::new(Partner::new("echo"), cfg, Default::default()).expect("transport builds");
        Arc::new(EchoConnector { api, forwarded: AtomicU64::new(0) })
    }

    async fn forward(&self, job: &Job) -> Result<Option<AuditEntry>, JobError> {
        let EchoJob::Forward { connection, idorder, event } = decode(job)?;
        let body = json!({"idorder": idorder, "event": event}).to_string();
        // A POST: the transport never resends it once sent; the job retries it (the partner
        // de-duplicates by order and event, as a real one would by an idempotency key).
        let sent = self.api.send(&Request::post("/hook").body("application/json", body)).await;
        sent.map_err(|e| JobError::from_partner(e.class(), e))?;
        self.forwarded.fetch_add(1, Ordering::Relaxed);
        let entity = Some(kade_core::dedupe::entity_key(&connection, "order", idorder));
        Ok(Some(kade_engine::effect_entry("echo", entity, "echoed", json!({"event": event}))))
    }
}

impl Connector for EchoConnector {
    fn kind(&self) -> &'static str {
        "echo"
    }

    fn start<'a>(&'a self, _engine: &'a Engine) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async { Ok(()) })
    }

    fn on_picqer_event<'a>(
        &'a self,
        engine: &'a Engine,
        event: &'a PicqerEvent,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            if let Some(idorder) = event.idorder {
                let job =
                    EchoJob::Forward { connection: event.connection.clone(), idorder, event: event.event.clone() };
                engine.enqueue(&job).await?;
            }
            Ok(())
        })
    }

    fn handle<'a>(&'a self, _engine: &'a Engine, job: &'a Job) -> BoxFuture<'a, Result<Option<AuditEntry>, JobError>> {
        Box::pin(self.forward(job))
    }

    fn routes(&self, _ctx: &RouteContext) -> axum::Router {
        axum::Router::new().route("/echo/ping", get(|| async { "pong" }))
    }

    fn admin_routes(&self, _ctx: &RouteContext) -> axum::Router {
        axum::Router::new().route("/echo/receiver", get(|| async { axum::Json(json!({"receiver": "configured"})) }))
    }

    fn openapi(&self) -> Vec<ApiOperation> {
        vec![ApiOperation { method: "get", path: "/echo/receiver", summary: "Where order events are echoed to" }]
    }

    fn check(&self) -> BoxFuture<'_, Vec<CheckLine>> {
        Box::pin(async { vec![CheckLine { what: "echo receiver".into(), result: Ok("configured".into()) }] })
    }

    fn status<'a>(&'a self, _engine: &'a Engine) -> BoxFuture<'a, Value> {
        Box::pin(async move { json!({"kind": "echo", "forwarded": self.forwarded.load(Ordering::Relaxed)}) })
    }
}

async fn echo_hub(db: &str, sim: &kade_sim::picqer::RunningSim, echo: Arc<EchoConnector>) -> Hub {
    let mut client = ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key()));
    client.retry_base = Duration::from_millis(20);
    let picqer = PicqerSettings {
        name: "main".into(),
        client,
        webhook_url: String::new(),
        events: vec!["orders.status_changed".into(), "products.free_stock_changed".into()],
    };
    let opts = HubOptions { connectors: vec![echo], ..hub_options(db, vec![picqer]) }; // the one registration line
    Hub::start(opts).await.expect("hub starts")
}

/// Drains the queue until the receiver has `n` deliveries (bounded).
async fn drain_until(hub: &Hub, sim: &kade_sim::picqer::RunningSim, receiver: &Receiver, n: usize) {
    for _ in 0..100 {
        sim.hooks().settle().await;
        hub.engine.drain().await.unwrap();
        if receiver.taken().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_connector_in_its_own_file_reacts_to_picqer_runs_its_jobs_and_serves_its_routes() {
    for db in test_databases("echo").await {
        let sim = sim(3).await;
        let receiver = Receiver::start(500).await;
        let echo = EchoConnector::new(&receiver.url);
        let hub = echo_hub(&db, &sim, echo.clone()).await;
        hub.engine.drain().await.unwrap();

        // A Picqer order event reaches the echo partner; its first answer is a 500, so the job
        // retries, and the receiver sees the same event again, then accepts it.
        let picqer = client(&sim);
        let product = picqer.products(&Default::default()).next_page().await.unwrap().unwrap().remove(0);
        let order = picqer
            .create_order(&NewOrder {
                deliveryname: Some("Echo Test".into()),
                deliverycountry: Some("NL".into()),
                invoicename: Some("Echo Test".into()),
                invoicecountry: Some("NL".into()),
                products: vec![NewOrderLine::by_id(product.idproduct, 1)],
                ..Default::default()
            })
            .await
            .unwrap();
        picqer.process_order(order.idorder).await.unwrap();
        drain_until(&hub, &sim, &receiver, 1).await;
        *receiver.status.lock().unwrap() = 200;
        drain_until(&hub, &sim, &receiver, 2).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        hub.engine.drain().await.unwrap();
        let got = receiver.taken();
        assert!(got.len() >= 2, "a 500 then a retry: {got:?}");
        let last: Value = serde_json::from_slice(&got.last().unwrap().body).unwrap();
        assert_eq!(last["idorder"], order.idorder.0);
        assert_eq!(last["event"], "orders.status_changed");
        let settled = got.len();
        hub.engine.drain().await.unwrap();
        assert_eq!(receiver.taken().len(), settled, "nothing is echoed twice once accepted");

        // The effect entry lists the partner call, in the shape every partner's calls take.
        let entity = format!("main/order/{}", order.idorder.0);
        let audit = hub.engine.store().audit_for(&entity, 50).await.unwrap();
        let echoed = audit.iter().find(|e| e.action == "echoed").expect("the echo's effect entry");
        assert_eq!(echoed.detail["kind"], "echo.forward");
        assert_eq!(echoed.detail["calls"][0]["system"], "echo");
        assert_eq!(echoed.detail["calls"][0]["status"], 200);
        let job_entity = format!("echo/order/{}/orders.status_changed", order.idorder.0);
        let attempts = hub.engine.store().audit_for(&job_entity, 50).await.unwrap();
        let failed =
            attempts.iter().find(|e| e.action == "job retry").expect("the 500 attempt is on the job's timeline");
        assert_eq!(failed.detail["calls"][0]["status"], 500);

        // Its public route is served; its admin route is behind the token and documented.
        let http = reqwest::Client::new();
        let ping = http.get(format!("{}/echo/ping", hub.url())).send().await.unwrap();
        assert_eq!(ping.text().await.unwrap(), "pong");
        let url = format!("{}/api/v1/echo/receiver", hub.url());
        assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
        let ok = http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(ok.status(), 200);
        let doc: Value =
            http.get(format!("{}/api/openapi.json", hub.url())).send().await.unwrap().json().await.unwrap();
        assert!(doc["paths"]["/echo/receiver"]["get"].is_object(), "documented");
        let listed: Value = http
            .get(format!("{}/api/v1/connectors", hub.url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["connectors"][0]["kind"], "echo");
        assert!(listed["connectors"][0]["forwarded"].as_u64().unwrap() >= 1);
        hub.stop().await;
    }
}
