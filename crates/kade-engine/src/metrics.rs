//! Kade's Prometheus metrics, kept with the Prometheus project's own client (`prometheus-client`)
//! so that the exposition is written by code that follows the format, not by hand: the hand-written
//! version repeated `# TYPE` once per label set, which both formats forbid.
//!
//! `/metrics` serves OpenMetrics to a scraper that asks for it (Prometheus does) and the classic
//! text format (0.0.4) otherwise (`curl`, `promtool check metrics`). The two disagree on how a
//! counter's family is named (`kade_webhooks` vs `kade_webhooks_total`), so each is rendered by
//! its own encoder from the one registry.
//!
//! Every label value is a fixed string chosen in code (a source, a result, a job kind, a partner
//! system, a status class), never request data, so the number of series stays bounded.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, prometheus_text, text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of OpenMetrics text 1.0.0.
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Which exposition format a scrape gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    OpenMetrics,
    /// The Prometheus text format, version 0.0.4.
    Text,
}

impl Format {
    /// OpenMetrics when the `Accept` header names it (Prometheus lists it first), otherwise the
    /// classic text format, which every older tool reads.
    pub fn from_accept(accept: Option<&str>) -> Self {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Text,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Format::Text => prometheus_text::CONTENT_TYPE,
        }
    }
}

/// Webhook answers: from ~1 ms (a duplicate) to seconds (a store under pressure); the ingest goal
/// is a p99 under 25 ms, so the buckets are dense there.
const ACK_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
/// Job attempts: a mirror write takes milliseconds, a catalogue page or a shop order with several
/// partner calls and retries tens of seconds.
const JOB_BUCKETS: [f64; 13] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// One HTTP attempt to a partner: tens of milliseconds when healthy, up to the client timeouts.
const CALL_BUCKETS: [f64; 12] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

fn ack_histogram() -> Histogram {
    Histogram::new(ACK_BUCKETS)
}
fn job_histogram() -> Histogram {
    Histogram::new(JOB_BUCKETS)
}
fn call_histogram() -> Histogram {
    Histogram::new(CALL_BUCKETS)
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    source: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    system: &'static str,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

/// The engine's metrics handle: recorded from the ingress, the worker and every partner call
/// (through [`kade_calls::Observer`]), rendered at `/metrics`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    webhooks: Family<WebhookLabels, Counter>,
    ack: Histograms<WebhookLabels>,
    jobs: Family<JobLabels, Counter>,
    job_seconds: Histograms<JobLabels>,
    calls: Histograms<CallLabels>,
    audit_dropped: Family<ReasonLabels, Counter>,
    queue: Family<StateLabels, Gauge>,
    /// Scrape-time gauges are set and encoded by one scrape at a time.
    scrape: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let webhooks = Family::default();
        let ack = Histograms::new_with_constructor(ack_histogram as fn() -> Histogram);
        let jobs = Family::default();
        let job_seconds = Histograms::new_with_constructor(job_histogram as fn() -> Histogram);
        let calls = Histograms::new_with_constructor(call_histogram as fn() -> Histogram);
        let audit_dropped = Family::default();
        let queue = Family::default();
        // Counter families are named without `_total`; the encoders add it to the samples.
        registry.register("kade_webhooks", "Inbound webhook deliveries by source and result", webhooks.clone());
        registry.register(
            "kade_webhook_ack_seconds",
            "Time from a webhook request's start to its answer (2xx or refusal)",
            ack.clone(),
        );
        registry.register(
            "kade_jobs",
            "Job attempts by kind and outcome (done, retry, dead, lease_lost, unrecorded)",
            jobs.clone(),
        );
        registry.register("kade_job_duration_seconds", "Time a job attempt's handler ran", job_seconds.clone());
        registry.register(
            "kade_partner_call_seconds",
            "Partner HTTP attempts (retries included) by system and status class",
            calls.clone(),
        );
        registry.register("kade_audit_dropped", "Audit entries dropped by reason", audit_dropped.clone());
        registry.register("kade_queue_jobs", "Jobs in the queue by state, read at scrape time", queue.clone());
        Metrics { registry, webhooks, ack, jobs, job_seconds, calls, audit_dropped, queue, scrape: Mutex::new(()) }
    }
}

impl Metrics {
    /// Counts a webhook answer without timing it.
    pub fn webhook(&self, source: &str, result: &str) {
        self.webhooks.get_or_create(&WebhookLabels { source: source.to_owned(), result: result.to_owned() }).inc();
    }

    /// Counts a webhook answer and observes how long it took from the request's start.
    pub fn acknowledged(&self, source: &str, result: &str, took: Duration) {
        let labels = WebhookLabels { source: source.to_owned(), result: result.to_owned() };
        self.ack.get_or_create(&labels).observe(took.as_secs_f64());
        self.webhooks.get_or_create(&labels).inc();
    }

    /// Counts an audit entry that could not be kept.
    pub fn audit_dropped(&self, reason: &str) {
        self.audit_dropped.get_or_create(&ReasonLabels { reason: reason.to_owned() }).inc();
    }

    /// Counts a finished job attempt and observes how long its handler ran.
    pub fn job_attempt(&self, kind: &str, outcome: &str, took: Duration) {
        let labels = JobLabels { kind: kind.to_owned(), outcome: outcome.to_owned() };
        self.job_seconds.get_or_create(&labels).observe(took.as_secs_f64());
        self.jobs.get_or_create(&labels).inc();
    }

    /// The exposition in `format`; `queue` (state, jobs) is read by the caller at scrape time.
    pub fn render(&self, format: Format, queue: &[(String, i64)]) -> String {
        let _one = self.scrape.lock().unwrap_or_else(PoisonError::into_inner);
        self.queue.clear();
        for (state, n) in queue {
            self.queue.get_or_create(&StateLabels { state: state.clone() }).set(*n);
        }
        let mut out = String::new();
        let written = match format {
            Format::OpenMetrics => text::encode(&mut out, &self.registry),
            Format::Text => prometheus_text::encode(&mut out, &self.registry),
        };
        if let Err(e) = written {
            // Writing into a String fails only on a label the encoder rejects: a bug, not data.
            tracing::error!(error = %e, "could not encode the metrics");
        }
        out
    }
}

/// Partner-call latency, fed by every client's `kade_calls::note` (see `Engine::new`).
impl kade_calls::Observer for Metrics {
    fn observe(&self, system: &'static str, _method: &str, status: Option<u16>, took: Duration) {
        self.calls.get_or_create(&CallLabels { system, status: status_class(status) }).observe(took.as_secs_f64());
    }
}

/// A status as its class, so the label has six values at most.
fn status_class(status: Option<u16>) -> &'static str {
    match status {
        None => "none",
        Some(100..=199) => "1xx",
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(_) => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kade_calls::Observer as _;

    fn filled() -> Metrics {
        let m = Metrics::default();
        m.acknowledged("picqer", "accepted", Duration::from_millis(3));
        m.acknowledged("picqer", "bad_signature", Duration::from_millis(1));
        m.webhook("prestashop", "accepted");
        m.job_attempt("product_refresh", "done", Duration::from_millis(40));
        m.observe("picqer", "GET", Some(503), Duration::from_millis(20));
        m.observe("picqer", "GET", None, Duration::from_secs(30));
        m
    }

    fn queue() -> Vec<(String, i64)> {
        vec![("queued".into(), 2), ("done".into(), 5)]
    }

    #[test]
    fn each_family_has_one_help_and_one_type_line_in_both_formats() {
        for format in [Format::Text, Format::OpenMetrics] {
            let out = filled().render(format, &queue());
            for kind in ["# HELP ", "# TYPE "] {
                let mut names: Vec<&str> =
                    out.lines().filter_map(|l| l.strip_prefix(kind)).map(|l| l.split(' ').next().unwrap()).collect();
                let all = names.len();
                names.sort_unstable();
                names.dedup();
                assert_eq!(names.len(), all, "{format:?} repeats a {kind}line:\n{out}");
            }
            assert!(out.contains("kade_queue_jobs{state=\"queued\"} 2"), "{out}");
            assert!(out.contains("kade_webhooks_total{source=\"picqer\",result=\"accepted\"} 1"), "{out}");
            assert!(out.contains("kade_partner_call_seconds_count{system=\"picqer\",status=\"none\"} 1"), "{out}");
            assert!(out.contains("kade_partner_call_seconds_count{system=\"picqer\",status=\"5xx\"} 1"), "{out}");
            assert_eq!(out.ends_with("# EOF\n"), format == Format::OpenMetrics, "{out}");
        }
    }

    #[test]
    fn counters_are_named_per_format() {
        let text = filled().render(Format::Text, &queue());
        assert!(text.contains("# TYPE kade_jobs_total counter"), "{text}");
        let om = filled().render(Format::OpenMetrics, &queue());
        assert!(om.contains("# TYPE kade_jobs counter"), "{om}");
    }

    #[test]
    fn a_state_that_disappears_from_the_queue_is_no_longer_reported() {
        let m = Metrics::default();
        m.render(Format::Text, &queue());
        let out = m.render(Format::Text, &[("queued".into(), 1)]);
        assert!(out.contains("kade_queue_jobs{state=\"queued\"} 1") && !out.contains("state=\"done\""), "{out}");
    }

    #[test]
    fn the_accept_header_picks_the_format() {
        let prometheus = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::from_accept(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(Format::from_accept(Some("*/*")), Format::Text);
        assert_eq!(Format::from_accept(None), Format::Text);
    }
}
