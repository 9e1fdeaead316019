//! The automation rig: the Picqer simulator, the message providers' stand-ins (a real SMTP
//! server — Python's aiosmtpd — and the WhatsApp and Twilio simulators), and a hub with rules
//! (workers off: tests drive the queue and move the engine's clock to compress waits).

use std::sync::Arc;
use std::time::Duration;

use kade_core::automation::{Rule, RuleSpec};
use kade_engine::automation::{Automations, CallbackKeys};
use kade_engine::picqer::PicqerSettings;
use kade_messaging::testing::TestSmtpServer;
use kade_messaging::{Messenger, SmtpConfig, TwilioConfig, WebhookOptions, WhatsAppConfig};
use kade_picqer::types::{NewOrder, NewOrderLine, Order, Product, ProductFilter, StockChange};
use kade_picqer::{ApiKey, ClientConfig, PicqerClient};
use kade_server::{Hub, HubOptions};
use kade_sim::picqer::RunningSim;
use kade_sim::twilio::{RunningTwilioSim, TwilioSimConfig};
use kade_sim::whatsapp::{RunningWhatsAppSim, WhatsAppSimConfig};
use kade_store::{SendFilter, SendRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::{client, control, hub_options, sim};

pub const ADMIN: &str = "test-admin-token-0123456789";
/// The WhatsApp webhook verify token of rigs with WhatsApp.
pub const VERIFY_TOKEN: &str = "rig-verify-token";

/// Rules from `[[automation]]` TOML, validated like the config loader does.
pub fn rules(toml_text: &str) -> Vec<Rule> {
    #[derive(Deserialize)]
    struct File {
        automation: Vec<RuleSpec>,
    }
    let file: File = toml::from_str(toml_text).expect("rule TOML parses");
    file.automation
        .iter()
        .map(|s| s.build().unwrap_or_else(|p| panic!("rule {:?} is invalid: {p:?}", s.name)))
        .collect()
}

/// The message providers a rig talks to.
#[derive(Clone, Default)]
pub struct Providers {
    pub smtp: Option<SmtpConfig>,
    pub whatsapp: Option<WhatsAppConfig>,
    pub twilio: Option<TwilioConfig>,
    /// Do not ask Twilio for delivery receipts (so a lookup, not a receipt, settles an in-doubt SMS).
    pub no_twilio_receipts: bool,
}

impl Providers {
    pub fn smtp(server: &TestSmtpServer) -> Providers {
        Providers { smtp: Some(server.smtp_config("shop@example.com")), ..Providers::default() }
    }

    pub fn with_whatsapp(mut self, sim: &RunningWhatsAppSim) -> Providers {
        let c = sim.config();
        self.whatsapp = Some(WhatsAppConfig {
            base_url: sim.base_url(),
            phone_number_id: c.phone_number_id.clone(),
            access_token: c.access_token.clone(),
            app_secret: c.app_secret.clone(),
        });
        self
    }

    pub fn with_twilio(mut self, sim: &RunningTwilioSim) -> Providers {
        let c = sim.config();
        self.twilio = Some(TwilioConfig {
            base_url: sim.base_url(),
            account_sid: c.account_sid.clone(),
            auth_token: c.auth_token.clone(),
            from: c.from_numbers[0].clone(),
            status_callback: None,
        });
        self
    }
}

pub async fn whatsapp_sim() -> RunningWhatsAppSim {
    let _ = rustls::crypto::ring::default_provider().install_default();
    kade_sim::whatsapp::start(WhatsAppSimConfig::default(), "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

pub async fn twilio_sim() -> RunningTwilioSim {
    let _ = rustls::crypto::ring::default_provider().install_default();
    kade_sim::twilio::start(TwilioSimConfig::default(), "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

pub struct AutoRig {
    pub picqer: RunningSim,
    pub hub: Hub,
    pub db: String,
    rules: Vec<Rule>,
    providers: Providers,
    port: u16,
}

async fn start_hub(db: &str, picqer: &RunningSim, rules: &[Rule], providers: &Providers, port: u16) -> Hub {
    // Twilio is told where to post receipts in each message, so it needs the hub's address
    // before the hub exists: the rig picks the port up front and keeps it across restarts.
    let mut providers = providers.clone();
    if let Some(t) = providers.twilio.as_mut().filter(|_| !providers.no_twilio_receipts) {
        t.status_callback = Some(format!("http://127.0.0.1:{port}/webhooks/twilio/status"));
    }
    let providers = &providers;
    let mut client = ClientConfig::with_base_url(picqer.base_url(), ApiKey::new(picqer.api_key()));
    client.retry_base = Duration::from_millis(20);
    client.retry_cap = Duration::from_millis(100);
    let settings = PicqerSettings {
        name: "main".into(),
        client,
        webhook_url: String::new(),
        events: vec!["orders.created".into()],
    };
    let opts = HubOptions {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        admin_token: ADMIN.into(),
        ..hub_options(db, vec![settings])
    };
    let messenger = Messenger::new(providers.smtp.clone(), providers.whatsapp.clone(), providers.twilio.clone())
        .expect("providers configure")
        .with_webhook_options(WebhookOptions { allow_private_targets: true, ..Default::default() })
        .unwrap();
    let callbacks = CallbackKeys {
        whatsapp_app_secret: providers.whatsapp.as_ref().map(|w| w.app_secret.clone()),
        whatsapp_verify_token: providers.whatsapp.as_ref().map(|_| VERIFY_TOKEN.to_string()),
        twilio_auth_token: providers.twilio.as_ref().map(|t| t.auth_token.clone()),
        twilio_status_url: providers.twilio.as_ref().and_then(|t| t.status_callback.clone()),
    };
    let auto =
        Automations { rules: rules.to_vec(), messenger: Arc::new(messenger), default_country: "NL".into(), callbacks };
    Hub::start_with_automations(opts, Some(auto)).await.expect("hub starts")
}

impl AutoRig {
    pub async fn start(db: &str, rules: Vec<Rule>, providers: Providers) -> AutoRig {
        let picqer = sim(20).await;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let hub = start_hub(db, &picqer, &rules, &providers, port).await;
        let rig = AutoRig { picqer, hub, db: db.to_string(), rules, providers, port };
        // The first catalogue sync is queued at start; run it so it does not count as work later.
        rig.settle().await;
        rig
    }

    /// Stops the hub (as a restart would) and starts a new one on the same database.
    pub async fn restart(self) -> AutoRig {
        let AutoRig { picqer, hub, db, rules, providers, port } = self;
        hub.stop().await;
        let hub = start_hub(&db, &picqer, &rules, &providers, port).await;
        AutoRig { picqer, hub, db, rules, providers, port }
    }

    pub fn api(&self) -> PicqerClient {
        client(&self.picqer)
    }

    /// Until quiet: Picqer's webhooks delivered and the queue drained, again while a round ran
    /// something.
    pub async fn settle(&self) {
        for _ in 0..50 {
            self.picqer.hooks().settle().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let ran = self.hub.engine.drain().await.unwrap();
            if ran == 0 {
                return;
            }
        }
        panic!("the rig did not settle");
    }

    /// Moves the engine's clock forward (a compressed wait) and runs what became due.
    pub async fn advance(&self, by: Duration) {
        self.hub.engine.advance_clock(by);
        self.settle().await;
    }

    pub async fn log(&self) -> Vec<SendRecord> {
        let mut rows = self.hub.engine.store().sends(&SendFilter::default()).await.unwrap();
        rows.reverse();
        rows
    }

    /// A product with stock in every warehouse.
    pub async fn product(&self) -> Product {
        let api = self.api();
        let p = api.products(&ProductFilter::default()).collect_all().await.unwrap().remove(0);
        for w in api.warehouses().await.unwrap() {
            let change = StockChange::Absolute { amount: 50, reason: "test".into() };
            api.change_stock(p.idproduct, w.idwarehouse, &change).await.unwrap();
        }
        p
    }

    /// A processed order for Jan (email and phone as given).
    pub async fn order(&self, email: Option<&str>, phone: Option<&str>, country: &str) -> Order {
        let p = self.product().await;
        let api = self.api();
        let order = api
            .create_order(&NewOrder {
                reference: Some(format!("WEB-{}", fastrand::u32(1000..9999))),
                emailaddress: email.map(Into::into),
                telephone: phone.map(Into::into),
                deliveryname: Some("Jan Jansen".into()),
                deliverycountry: Some(country.into()),
                invoicename: Some("Jan Jansen".into()),
                invoicecountry: Some(country.into()),
                products: vec![NewOrderLine::by_id(p.idproduct, 2)],
                ..Default::default()
            })
            .await
            .unwrap();
        api.process_order(order.idorder).await.unwrap()
    }

    /// Picks and ships the order in the simulator: one shipment with these parcels.
    pub async fn ship(&self, order: &Order, codes: &[&str]) {
        let id = order.idorder.0;
        control(&self.picqer, "POST", &format!("/_sim/orders/{id}/pick"), json!({})).await;
        let parcels: Vec<Value> = codes.iter().map(|c| json!({"trackingcode": c, "carrier": "postnl"})).collect();
        control(&self.picqer, "POST", &format!("/_sim/orders/{id}/ship"), json!({ "parcels": parcels })).await;
    }

    /// The PicqerEvent jobs (done) for `event`.
    pub async fn event_jobs(&self, event: &str) -> Vec<i64> {
        let jobs = self.hub.engine.store().jobs(Some("done"), 1000).await.unwrap();
        jobs.iter()
            .filter(|j| j.kind == "picqer.event" && j.payload.get("event").and_then(Value::as_str) == Some(event))
            .map(|j| j.id)
            .collect()
    }

    /// Runs the given jobs again (a replay, as `kade replay` does) and drains.
    pub async fn replay(&self, jobs: &[i64]) {
        for id in jobs {
            assert!(self.hub.engine.store().replay_job(*id, self.hub.engine.now_ms()).await.unwrap());
        }
        self.settle().await;
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let http = reqwest::Client::new();
        let url = format!("{}/api/v1{path}", self.hub.url());
        let req = match method {
            "POST" => http.post(url).json(&body.unwrap_or(json!({}))),
            "DELETE" => http.delete(url),
            _ => http.get(url),
        };
        let resp = req.bearer_auth(ADMIN).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

pub const DAY: Duration = Duration::from_secs(86_400);
