//! `/metrics` of a running hub read by parsers Kade did not write (acceptance 6 of issue 12):
//! Python's `prometheus_client` — its OpenMetrics parser for the OpenMetrics answer, its text
//! parser for the classic one — and `promtool check metrics` when it is on PATH (Debian package
//! `prometheus`; CI does not install it). After a webhook was acknowledged, a job ran and partner
//! calls were made, the three histograms are there with their `_bucket`, `_sum` and `_count`.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use kade_engine::EngineConfig;
use kade_engine::picqer::PicqerSettings;
use kade_picqer::types::ProductFilter;
use kade_picqer::{ApiKey, ClientConfig};
use kade_server::{Hub, HubOptions};
use kade_sim::picqer::RunningSim;
use serde_json::{Value, json};

use crate::support::{client, hub_options, sim, test_databases};

/// Parses stdin with the chosen parser; prints every family as JSON. Raises (exit 1) on input
/// the parser refuses, and on a family that comes twice (the text parser would merge them).
const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families as text
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
parse = openmetrics if sys.argv[1] == "openmetrics" else text
out = {}
for f in parse(sys.stdin.read()):
    if f.name in out:
        raise ValueError("family %s comes twice" % f.name)
    out[f.name] = {"type": f.type, "samples": [[s.name, s.labels, s.value] for s in f.samples]}
print(json.dumps(out))
"#;

fn parse(python: &Path, format: &str, exposition: &str) -> Result<Value, String> {
    let mut child = Command::new(python)
        .args(["-c", PARSE, format])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    child.stdin.take().unwrap().write_all(exposition.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).expect("the script prints JSON"))
}

/// `promtool check metrics` (parse and lint), or `None` when promtool is not installed.
fn promtool(exposition: &str) -> Option<Result<(), String>> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take().unwrap().write_all(exposition.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Some(if out.status.success() { Ok(()) } else { Err(said) })
}

/// The `_count` of the histogram `family` over the series whose labels include `labels`.
fn histogram_count(families: &Value, family: &str, labels: &[(&str, &str)]) -> f64 {
    let f = &families[family];
    assert_eq!(f["type"], "histogram", "{family}: {f}");
    let samples = f["samples"].as_array().unwrap();
    for suffix in ["_bucket", "_sum", "_count"] {
        let name = format!("{family}{suffix}");
        assert!(samples.iter().any(|s| s[0] == name.as_str()), "{family} has no {suffix}: {f}");
    }
    let matches = |s: &&Value| labels.iter().all(|(k, v)| s[1][*k] == *v);
    samples
        .iter()
        .filter(|s| s[0] == format!("{family}_count").as_str())
        .filter(matches)
        .map(|s| s[2].as_f64().unwrap())
        .sum()
}

fn options(db: &str, sim: &RunningSim) -> HubOptions {
    let mut client = ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key()));
    client.retry_base = Duration::from_millis(20);
    client.retry_cap = Duration::from_millis(100);
    let events = ["products.changed", "products.free_stock_changed", "orders.status_changed"];
    let picqer = PicqerSettings {
        name: "main".into(),
        client,
        webhook_url: String::new(),
        events: events.iter().map(|e| e.to_string()).collect(),
    };
    HubOptions {
        engine: EngineConfig { worker_id: "test-worker".into(), ..EngineConfig::default() },
        ..hub_options(db, vec![picqer])
    }
}

async fn scrape(hub: &Hub, accept: Option<&str>) -> (String, String) {
    let mut req = reqwest::Client::new().get(format!("{}/metrics", hub.url()));
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    (content_type, resp.text().await.unwrap())
}

#[test]
fn the_parsers_refuse_what_kade_used_to_serve() {
    let python = kade_messaging::testing::test_python().expect("a Python with prometheus_client");
    // The old exposition: one `# TYPE` line per label set.
    let repeated =
        "# TYPE kade_jobs gauge\nkade_jobs{state=\"queued\"} 0\n# TYPE kade_jobs gauge\nkade_jobs{state=\"done\"} 3\n";
    let err = parse(&python, "openmetrics", &format!("{repeated}# EOF\n")).expect_err("a repeated TYPE is refused");
    assert!(err.contains("metadata after samples"), "{err}");
    assert!(parse(&python, "openmetrics", "# TYPE kade_jobs gauge\nkade_jobs 1\n").is_err(), "no # EOF");
    if let Some(result) = promtool(repeated) {
        assert!(result.is_err(), "promtool accepted a repeated TYPE");
    }
}

#[tokio::test]
async fn metrics_pass_real_exposition_parsers_with_the_three_histograms() {
    let python = kade_messaging::testing::test_python().expect("a Python with prometheus_client");
    // The exposition does not depend on the database: SQLite only.
    let db = test_databases("metrics").await.remove(0);
    let sim = sim(5).await;
    let hub = Hub::start(options(&db, &sim)).await.expect("hub starts");
    hub.engine.drain().await.unwrap();

    // One delivery acknowledged, its job run (a product refresh reads Picqer); one refused.
    let p = client(&sim).products(&ProductFilter::default()).next_page().await.unwrap().unwrap().remove(0);
    let hook = sim.hooks().list().into_iter().find(|h| h.event == "products.changed" && h.active).unwrap();
    let body = json!({"idhook": hook.idhook, "name": hook.name, "event": "products.changed",
                      "event_triggered_at": "2026-11-23 10:00:00", "data": {"idproduct": p.idproduct.0}});
    let http = reqwest::Client::new();
    let url = format!("{}/_sim/hooks/{}/deliver", sim.root_url(), hook.idhook);
    assert!(http.post(url).body(body.to_string()).send().await.unwrap().status().is_success());
    sim.hooks().settle().await;
    for _ in 0..300 {
        if hub.engine.store().count_events().await.unwrap() >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    hub.engine.drain().await.unwrap();
    let refused = http.post(format!("{}/webhooks/picqer/main", hub.url())).body("{}").send().await.unwrap();
    assert_eq!(refused.status(), 401);

    let prometheus = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let (content_type, openmetrics) = scrape(&hub, Some(prometheus)).await;
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let (content_type, text) = scrape(&hub, None).await;
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");

    for (format, exposition) in [("openmetrics", &openmetrics), ("text", &text)] {
        let families = parse(&python, format, exposition).unwrap_or_else(|e| panic!("{format}: {e}\n{exposition}"));
        let webhook = |result| histogram_count(&families, "kade_webhook_ack_seconds", &[("result", result)]);
        assert!(webhook("accepted") >= 1.0, "{format}: {exposition}");
        assert!(webhook("bad_signature") >= 1.0, "{format}: {exposition}");
        let done = histogram_count(&families, "kade_job_duration_seconds", &[("outcome", "done")]);
        assert!(done >= 1.0, "{format}: {exposition}");
        let calls = histogram_count(&families, "kade_partner_call_seconds", &[("system", "picqer"), ("status", "2xx")]);
        assert!(calls >= 1.0, "{format}: {exposition}");
        assert_eq!(families["kade_queue_jobs"]["type"], "gauge", "{format}: {exposition}");
    }
    // The counters the other tests and dashboards read keep their names.
    assert!(text.contains("kade_webhooks_total{source=\"picqer\",result=\"accepted\"} "), "{text}");
    match promtool(&text) {
        Some(result) => result.unwrap_or_else(|e| panic!("promtool check metrics: {e}\n{text}")),
        None => eprintln!("promtool is not on PATH; checked with prometheus_client only"),
    }
    hub.stop().await;
}
