//! The Messages resource: create (form POST), list (filters, paging), fetch.

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::{AppState, SmsMessage, TwSim, day_of, hooks, rfc2822};
use crate::callbacks::constant_time_eq;
use crate::picqer::listener::KillSwitch;
use crate::picqer::server::lock;

const MAX_BODY: usize = 256 * 1024;
const API: &str = "/2010-04-01";

/// Twilio's error body: `{"code","message","more_info","status"}`.
pub struct TwError {
    pub status: u16,
    pub code: u32,
    pub message: String,
}

pub fn err(status: u16, code: u32, message: impl Into<String>) -> TwError {
    TwError { status, code, message: message.into() }
}

impl IntoResponse for TwError {
    fn into_response(self) -> Response {
        let body = json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status,
        });
        let mut resp =
            (StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST), axum::Json(body)).into_response();
        if self.status == 401 {
            resp.headers_mut().insert("www-authenticate", HeaderValue::from_static("Basic realm=\"Twilio API\""));
        }
        resp
    }
}

pub async fn handle(State(sim): State<AppState>, req: Request) -> Response {
    let conn = req.extensions().get::<ConnectInfo<KillSwitch>>().cloned();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let query: Vec<(String, String)> = Query::try_from_uri(&parts.uri).map(|Query(q)| q).unwrap_or_default();
    let fault = lock(&sim.faults).take(&method, &path).unwrap_or_default();
    if let Some(ms) = fault.latency_ms {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let response = match fault.status {
        Some(429) => {
            let mut r = err(429, 20429, "Too Many Requests").into_response();
            r.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
            r
        }
        Some(s) if s >= 500 => err(s, 20500, "Internal Server Error").into_response(),
        Some(s) => err(s, 20001, "Simulated fault (injected by /_sim/faults)").into_response(),
        None => route(&sim, &method, &path, &query, &parts.headers, &body).unwrap_or_else(IntoResponse::into_response),
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

fn authenticate(sim: &TwSim, headers: &HeaderMap) -> Result<(), TwError> {
    let denied = || err(401, 20003, "Authenticate");
    let value = headers.get("authorization").and_then(|v| v.to_str().ok()).ok_or_else(denied)?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(denied)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(denied());
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| denied())?;
    let text = String::from_utf8(decoded).map_err(|_| denied())?;
    let (user, pass) = text.split_once(':').ok_or_else(denied)?;
    if user == sim.config.account_sid && constant_time_eq(pass.as_bytes(), sim.config.auth_token.as_bytes()) {
        Ok(())
    } else {
        Err(denied())
    }
}

fn route(
    sim: &TwSim,
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, TwError> {
    let not_found = || err(404, 20404, format!("The requested resource {path} was not found"));
    let rest = path.strip_prefix(API).and_then(|r| r.strip_prefix("/Accounts/")).ok_or_else(not_found)?;
    let (account, tail) = rest.split_once('/').ok_or_else(not_found)?;
    authenticate(sim, headers)?;
    if account != sim.config.account_sid {
        return Err(not_found());
    }
    match (method, tail) {
        ("POST", "Messages.json") => {
            let form: Vec<(String, String)> = serde_urlencoded_pairs(body);
            let msg = create(sim, &form)?;
            Ok((StatusCode::CREATED, axum::Json(resource(sim, &msg))).into_response())
        }
        ("GET", "Messages.json") => Ok(axum::Json(list(sim, query)?).into_response()),
        ("GET", t) if t.starts_with("Messages/") && t.ends_with(".json") => {
            let sid = &t["Messages/".len()..t.len() - ".json".len()];
            let msg = lock(&sim.state).messages.iter().find(|m| m.sid == sid).cloned().ok_or_else(not_found)?;
            Ok(axum::Json(resource(sim, &msg)).into_response())
        }
        _ => Err(err(405, 20004, format!("Method {method} not allowed on {path}"))),
    }
}

/// Decodes an `application/x-www-form-urlencoded` body (`+` is a space, `%XX` a byte).
fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body.trim_ascii()).into_owned().collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn is_e164(n: &str) -> bool {
    n.strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'))
}

fn segments(body: &str) -> u32 {
    let gsm = body.chars().all(|c| c.is_ascii() && !c.is_ascii_control() || c == '\n' || c == '\r');
    let (single, multi) = if gsm { (160, 153) } else { (70, 67) };
    let n = body.chars().count();
    if n <= single { 1 } else { n.div_ceil(multi) as u32 }
}

fn create(sim: &TwSim, form: &[(String, String)]) -> Result<SmsMessage, TwError> {
    let to = field(form, "To")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| err(400, 21604, "A 'To' phone number is required."))?;
    let service = field(form, "MessagingServiceSid").filter(|s| !s.is_empty());
    let from = field(form, "From").filter(|f| !f.is_empty());
    if from.is_none() && service.is_none() {
        return Err(err(400, 21603, "A 'From' phone number is required."));
    }
    if let Some(s) = service
        && !(s.starts_with("MG") && s.len() == 34)
    {
        return Err(err(400, 21701, format!("The Messaging Service Sid {s} is invalid.")));
    }
    let body = field(form, "Body").unwrap_or("");
    if body.is_empty() {
        return Err(err(400, 21602, "Message body is required."));
    }
    if body.chars().count() > 1600 {
        return Err(err(400, 21617, "The concatenated message body exceeds the 1600 character limit."));
    }
    if !is_e164(to) {
        return Err(err(400, 21211, format!("Invalid 'To' Phone Number: {to}")));
    }
    if let Some(f) = from {
        let alnum = f.len() <= 11
            && f.chars().any(|c| c.is_ascii_alphabetic())
            && f.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ');
        if !alnum && !sim.config.from_numbers.iter().any(|n| n == f) {
            return Err(err(
                400,
                21606,
                format!(
                    "The From phone number {f} is not a valid, SMS-capable inbound phone number or short code for your account."
                ),
            ));
        }
    }
    let callback = field(form, "StatusCallback").filter(|c| !c.is_empty());
    if let Some(c) = callback
        && !(c.starts_with("http://") || c.starts_with("https://"))
    {
        return Err(err(400, 21609, format!("The StatusCallback URL {c} is not a valid URL.")));
    }
    let now = sim.clock.now_ms();
    let mut st = lock(&sim.state);
    if st.disabled_prefixes.iter().any(|p| to.starts_with(p.as_str())) {
        return Err(err(
            400,
            21408,
            format!("Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}"),
        ));
    }
    if st.opted_out.contains(to) {
        return Err(err(400, 21610, "Attempt to send to unsubscribed recipient"));
    }
    st.next_id += 1;
    let sid = format!("SM{:032x}", (u128::from(st.next_id) << 64) | u128::from(now as u64));
    let msg = SmsMessage {
        sid,
        to: to.to_owned(),
        from: from.map(str::to_owned).unwrap_or_default(),
        body: body.to_owned(),
        status: if service.is_some() { "accepted" } else { "queued" }.into(),
        error_code: None,
        status_callback: callback.map(str::to_owned),
        created_ms: now,
        sent_ms: None,
        updated_ms: now,
        num_segments: segments(body),
        messaging_service_sid: service.map(str::to_owned),
    };
    st.messages.push(msg.clone());
    let outcome = st.unreachable.get(to).cloned();
    drop(st);
    hooks::progress(sim, &msg.sid, outcome);
    Ok(msg)
}

/// The JSON resource for a message.
pub fn resource(sim: &TwSim, m: &SmsMessage) -> Value {
    let uri = format!("{API}/Accounts/{}/Messages/{}.json", sim.config.account_sid, m.sid);
    json!({
        "account_sid": sim.config.account_sid,
        "api_version": "2010-04-01",
        "body": m.body,
        "date_created": rfc2822(m.created_ms),
        "date_sent": m.sent_ms.map(rfc2822),
        "date_updated": rfc2822(m.updated_ms),
        "direction": "outbound-api",
        "error_code": m.error_code,
        "error_message": m.error_code.map(|_| "Message delivery failed"),
        "from": m.from,
        "messaging_service_sid": m.messaging_service_sid,
        "num_media": "0",
        "num_segments": m.num_segments.to_string(),
        "price": null,
        "price_unit": "USD",
        "sid": m.sid,
        "status": m.status,
        "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        "to": m.to,
        "uri": uri,
    })
}

fn list(sim: &TwSim, query: &[(String, String)]) -> Result<Value, TwError> {
    let q = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
    let bad_date = |d: &str| err(400, 20001, format!("Invalid DateSent {d:?}: use YYYY-MM-DD"));
    let check = |d: Option<String>| -> Result<Option<String>, TwError> {
        match d {
            Some(d) if d.len() != 10 || d.as_bytes()[4] != b'-' || d.as_bytes()[7] != b'-' => Err(bad_date(&d)),
            other => Ok(other),
        }
    };
    let (on, before, after) = (check(q("DateSent"))?, check(q("DateSent<"))?, check(q("DateSent>"))?);
    let page_size: usize = q("PageSize").and_then(|s| s.parse().ok()).unwrap_or(50).clamp(1, 1000);
    let page: usize = q("Page").and_then(|s| s.parse().ok()).unwrap_or(0);
    let (to, from) = (q("To"), q("From"));
    let all: Vec<SmsMessage> = {
        let st = lock(&sim.state);
        st.messages
            .iter()
            .rev()
            .filter(|m| to.as_ref().is_none_or(|t| &m.to == t))
            .filter(|m| from.as_ref().is_none_or(|f| &m.from == f))
            .filter(|m| {
                // Messages not yet sent have no date_sent and match no DateSent filter (as on Twilio).
                let day = m.sent_ms.map(day_of);
                on.as_ref().is_none_or(|d| day.as_ref() == Some(d))
                    && before.as_ref().is_none_or(|d| day.as_ref().is_some_and(|x| x <= d))
                    && after.as_ref().is_none_or(|d| day.as_ref().is_some_and(|x| x >= d))
            })
            .cloned()
            .collect()
    };
    let start = page * page_size;
    let items: Vec<Value> = all.iter().skip(start).take(page_size).map(|m| resource(sim, m)).collect();
    let base = format!("{API}/Accounts/{}/Messages.json", sim.config.account_sid);
    let mut keep: Vec<String> = query
        .iter()
        .filter(|(k, _)| k != "Page" && k != "PageSize" && k != "PageToken")
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    keep.push(format!("PageSize={page_size}"));
    let page_uri = |p: usize| format!("{base}?{}&Page={p}", keep.join("&"));
    let next =
        (start + page_size < all.len()).then(|| format!("{}&PageToken=PA{}", page_uri(page + 1), start + page_size));
    Ok(json!({
        "messages": items,
        "page": page,
        "page_size": page_size,
        "start": start,
        "end": start + items.len().saturating_sub(1),
        "uri": page_uri(page),
        "first_page_uri": page_uri(0),
        "next_page_uri": next,
        "previous_page_uri": (page > 0).then(|| page_uri(page - 1)),
    }))
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
