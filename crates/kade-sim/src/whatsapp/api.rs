//! `POST /{version}/{phone-number-id}/messages`: journal → fault → auth → validation → accept.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::{AppState, WINDOW_MS, WaMessage, WaSim, WindowMode, hooks};
use crate::picqer::listener::KillSwitch;
use crate::picqer::server::lock;

const MAX_BODY: usize = 1024 * 1024;

/// A Graph API error: `{"error":{"message","type","code","error_data":{...},"fbtrace_id"}}`.
pub struct GraphError {
    pub status: u16,
    pub code: u64,
    pub kind: &'static str,
    pub message: String,
    pub details: Option<String>,
}

impl GraphError {
    fn new(status: u16, code: u64, message: impl Into<String>) -> Self {
        GraphError { status, code, kind: "OAuthException", message: message.into(), details: None }
    }
    fn details(mut self, d: impl Into<String>) -> Self {
        self.details = Some(d.into());
        self
    }
    fn invalid(details: impl Into<String>) -> Self {
        GraphError::new(400, 100, "(#100) Invalid parameter").details(details)
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut err = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": format!("AkadeSim{:08x}", fastrand::u32(..)),
        });
        if let Some(d) = self.details {
            err["error_data"] = json!({"messaging_product": "whatsapp", "details": d});
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut resp = (status, axum::Json(json!({ "error": err }))).into_response();
        if self.status == 401 {
            resp.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static(
                    "OAuth \"Facebook Platform\" \"invalid_token\" \"Invalid OAuth access token\"",
                ),
            );
        }
        resp
    }
}

/// The digits of a number (`+31 6-1234 5678` → `31612345678`).
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Every request that is not `/_sim`.
pub async fn handle(State(sim): State<AppState>, req: Request) -> Response {
    let conn = req.extensions().get::<ConnectInfo<KillSwitch>>().cloned();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let fault = lock(&sim.faults).take(&method, &path).unwrap_or_default();
    if let Some(ms) = fault.latency_ms {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let response = match fault.status {
        Some(429) => GraphError::new(429, 130429, "(#130429) Rate limit hit")
            .details("Cloud API message throughput has been reached.")
            .into_response(),
        Some(s) if s >= 500 => {
            GraphError { kind: "OAuthException", ..GraphError::new(s, 131000, "(#131000) Something went wrong") }
                .into_response()
        }
        Some(s) => GraphError::new(s, 100, "Simulated fault (injected by /_sim/faults)").into_response(),
        None => route(&sim, &method, &path, &parts.headers, &body).unwrap_or_else(IntoResponse::into_response),
    };
    lock(&sim.journal).record(
        &method,
        &path,
        parts.uri.query().unwrap_or(""),
        response.status().as_u16(),
        &body,
        sim.clock.now_picqer(),
    );
    if fault.drop_after_commit
        && let Some(ConnectInfo(kill)) = conn
    {
        kill.kill();
    }
    response
}

fn route(
    sim: &WaSim,
    method: &str,
    path: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<Response, GraphError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let [version, object, edge] = segments.as_slice() else {
        return Err(GraphError::new(400, 2500, "Unknown path components").details(path.to_owned()));
    };
    if !version.starts_with('v') {
        return Err(GraphError::new(400, 2500, format!("Unknown path components: /{version}")));
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    match token {
        None => {
            return Err(GraphError::new(
                401,
                190,
                "An active access token must be used to query information about the current user.",
            ));
        }
        Some(t) if !crate::callbacks::constant_time_eq(t.as_bytes(), sim.config.access_token.as_bytes()) => {
            return Err(GraphError::new(401, 190, "Invalid OAuth access token - Cannot parse access token"));
        }
        Some(_) => {}
    }
    if *object != sim.config.phone_number_id {
        let mut e = GraphError::new(
            400,
            100,
            format!(
                "Unsupported post request. Object with ID '{object}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
            ),
        );
        e.kind = "GraphMethodException";
        return Err(e);
    }
    if *edge != "messages" || method != "POST" {
        return Err(GraphError::new(400, 2500, format!("Unknown path components: /{edge}")));
    }
    let doc: Value =
        serde_json::from_slice(body).map_err(|e| GraphError::invalid(format!("the body is not JSON: {e}")))?;
    send(sim, &doc).map(|msg| {
        let resp = json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": doc.get("to").cloned().unwrap_or(Value::Null), "wa_id": msg.to}],
            "messages": [{"id": msg.id, "message_status": "accepted"}],
        });
        (StatusCode::OK, axum::Json(resp)).into_response()
    })
}

fn str_at<'a>(doc: &'a Value, ptr: &str) -> Option<&'a str> {
    doc.pointer(ptr).and_then(Value::as_str)
}

/// Validates and accepts one message, queueing its status webhooks.
fn send(sim: &WaSim, doc: &Value) -> Result<WaMessage, GraphError> {
    if str_at(doc, "/messaging_product") != Some("whatsapp") {
        return Err(GraphError::invalid("messaging_product is required and must be \"whatsapp\""));
    }
    let to_raw = str_at(doc, "/to").ok_or_else(|| {
        GraphError::new(400, 131008, "(#131008) Required parameter is missing").details("to is required")
    })?;
    let to = digits(to_raw);
    let well_formed = to_raw.trim().trim_start_matches('+').chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
    if !well_formed || !(8..=15).contains(&to.len()) || to.starts_with('0') {
        return Err(GraphError::invalid(format!("to: {to_raw:?} is not a valid phone number in international format")));
    }
    let kind = str_at(doc, "/type").unwrap_or("text").to_owned();
    let now = sim.clock.now_ms();
    let mut st = lock(&sim.state);
    let (mut text, mut template, mut language, mut params) = (None, None, None, Vec::new());
    match kind.as_str() {
        "text" => {
            let body = str_at(doc, "/text/body").ok_or_else(|| {
                GraphError::new(400, 131008, "(#131008) Required parameter is missing").details("text.body is required")
            })?;
            if body.is_empty() || body.chars().count() > 4096 {
                return Err(GraphError::new(400, 131009, "(#131009) Parameter value is not valid")
                    .details("text.body must be 1-4096 characters"));
            }
            text = Some(body.to_owned());
        }
        "template" => {
            let name = str_at(doc, "/template/name").ok_or_else(|| GraphError::invalid("template.name is required"))?;
            let lang = str_at(doc, "/template/language/code")
                .ok_or_else(|| GraphError::invalid("template.language.code is required"))?;
            let found = st.templates.iter().find(|t| t.name == name && t.language == lang).cloned();
            let Some(t) = found.filter(|t| t.status != "PENDING" && t.status != "REJECTED") else {
                return Err(GraphError::new(404, 132001, "(#132001) Template name does not exist in the translation")
                    .details(format!("template name ({name}) does not exist in {lang}")));
            };
            match t.status.as_str() {
                "PAUSED" => {
                    return Err(GraphError::new(400, 132015, "(#132015) Template is paused")
                        .details(format!("{name} is paused because of low quality")));
                }
                "DISABLED" => {
                    return Err(GraphError::new(400, 132016, "(#132016) Template is disabled")
                        .details(format!("{name} is disabled")));
                }
                _ => {}
            }
            for comp in doc.pointer("/template/components").and_then(Value::as_array).into_iter().flatten() {
                if comp.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("body")) {
                    for p in comp.get("parameters").and_then(Value::as_array).into_iter().flatten() {
                        match (p.get("type").and_then(Value::as_str), p.get("text").and_then(Value::as_str)) {
                            (Some("text"), Some(v)) if !v.trim().is_empty() => params.push(v.to_owned()),
                            _ => {
                                return Err(GraphError::new(
                                    400,
                                    132012,
                                    "(#132012) Parameter format does not match format in the created template",
                                )
                                .details("body parameters must be {\"type\":\"text\",\"text\":\"<non-empty>\"}"));
                            }
                        }
                    }
                }
            }
            if params.len() != t.body_params {
                return Err(GraphError::new(
                    400,
                    132000,
                    "(#132000) Number of parameters does not match the expected number of params",
                )
                .details(format!(
                    "body: number of localizable_params ({}) does not match the expected number of params ({})",
                    params.len(),
                    t.body_params
                )));
            }
            template = Some(name.to_owned());
            language = Some(lang.to_owned());
        }
        other => {
            return Err(GraphError::new(400, 131051, "(#131051) Unsupported message type")
                .details(format!("type {other:?} is not supported by this simulator")));
        }
    }
    let in_window = st.inbound.get(&to).is_some_and(|at| now - at < WINDOW_MS);
    if kind == "text" && !in_window && st.window_mode == WindowMode::Sync {
        return Err(GraphError::new(400, 131047, "(#131047) Re-engagement message")
            .details("Message failed to send because more than 24 hours have passed since the customer last replied to this number."));
    }
    if let (Some(gap), Some(last)) = (st.pair_rate_ms, st.last_sent_to.get(&to))
        && now - last < gap
    {
        return Err(GraphError::new(400, 131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit")
            .details(
                "Too many messages sent from this phone number to the same phone number in a short period of time.",
            ));
    }
    st.last_sent_to.insert(to.clone(), now);
    st.next_id += 1;
    let raw_id = format!("HBgL{to}FQIAERgS{:012X}{}", st.next_id, sim.config.phone_number_id);
    let id = format!("wamid.{}", base64::engine::general_purpose::STANDARD.encode(raw_id.as_bytes()));
    let failure = if st.undeliverable.contains(&to) {
        Some(131026)
    } else if kind == "text" && !in_window {
        Some(131047)
    } else {
        None
    };
    let msg = WaMessage {
        id: id.clone(),
        to,
        kind,
        text,
        template,
        language,
        params,
        biz_opaque_callback_data: str_at(doc, "/biz_opaque_callback_data").map(str::to_owned),
        status: "accepted".into(),
        error_code: None,
        statuses: vec!["accepted".into()],
        created_ms: now,
    };
    st.messages.push(msg.clone());
    drop(st);
    match failure {
        Some(code) => hooks::progress(sim, &id, &[("failed", Some(code))]),
        None => hooks::progress(sim, &id, &[("sent", None), ("delivered", None)]),
    }
    Ok(msg)
}
