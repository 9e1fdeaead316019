//! The webservice gateway: every `/api` request passes journal → fault injection → webservice
//! switch → key → resource and method permissions → handler, and answers in XML or JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::errors::{PsError, PsResult, code};
use super::notify::Notifier;
use super::query::ListQuery;
use super::render::{self, Ctx, Format, XML_HEAD, XML_TAIL};
use super::schema::{self, METHODS, RESOURCES};
use super::world::{World, WriteMode};
use crate::clock::SimClock;
use crate::picqer::faults::Faults;
use crate::picqer::journal::Journal;
use crate::picqer::listener::KillSwitch;
pub use crate::picqer::server::lock;

pub(super) use super::images::IMAGES;
const MAX_BODY: usize = 16 * 1024 * 1024;
/// The version a client can read from `PSWS-Version` once authenticated.
pub const PS_VERSION: &str = "8.1.7";

/// The webservice key and what it may do.
pub struct Access {
    pub enabled: bool,
    pub key: String,
    pub active: bool,
    /// resource → allowed methods (HEAD follows GET).
    pub permissions: BTreeMap<String, BTreeSet<String>>,
}

impl Access {
    pub fn all(key: String) -> Self {
        let every: BTreeSet<String> = METHODS.iter().map(|m| (*m).to_owned()).collect();
        let mut permissions: BTreeMap<String, BTreeSet<String>> =
            RESOURCES.iter().map(|r| (r.name.to_owned(), every.clone())).collect();
        permissions.insert(IMAGES.to_owned(), every.clone());
        Access { enabled: true, key, active: true, permissions }
    }
}

pub struct Sim {
    pub world: Mutex<World>,
    pub access: Mutex<Access>,
    pub clock: SimClock,
    pub faults: Mutex<Faults>,
    pub journal: Mutex<Journal>,
    pub notifier: Notifier,
}

pub type AppState = Arc<Sim>;

impl Sim {
    /// Runs a world operation under the lock, then hands the notices it produced to the notifier.
    pub fn run<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let (result, notices) = {
            let mut world = lock(&self.world);
            let result = f(&mut world);
            (result, std::mem::take(&mut world.notices))
        };
        for notice in notices {
            self.notifier.send(notice);
        }
        result
    }
}

fn basic_user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split_once(':').map_or(text.clone(), |(u, _)| u.to_owned()))
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn output_format(params: &[(String, String)], headers: &HeaderMap) -> Format {
    let header = ["output-format", "io-format"].iter().find_map(|h| headers.get(*h)?.to_str().ok());
    let chosen = param(params, "output_format").or(param(params, "io_format")).or(header);
    if chosen.is_some_and(|f| f.eq_ignore_ascii_case("json")) { Format::Json } else { Format::Xml }
}

fn respond(format: Format, status: StatusCode, body: String, authed: bool) -> Response {
    let content_type = match format {
        Format::Json => "application/json",
        Format::Xml => "text/xml;charset=utf-8",
    };
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, body.as_bytes());
    let hex = hex::encode(sha1);
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    h.insert("x-powered-by", HeaderValue::from_static("PrestaShop Webservice"));
    h.insert("execution-time", HeaderValue::from_static("0.001"));
    if let Ok(v) = HeaderValue::from_str(&hex) {
        h.insert("content-sha1", v);
    }
    if authed {
        h.insert("psws-version", HeaderValue::from_static(PS_VERSION));
    }
    resp
}

fn error_response(format: Format, err: &PsError, authed: bool) -> Response {
    let mut resp = respond(format, err.status, render::error(format, err), authed);
    if err.status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static("Basic realm=\"Welcome to PrestaShop Webservice, please enter the authentication key as the login. No password required.\""),
        );
    }
    resp
}

/// Checks the switch, the key and the permissions; `Ok` carries nothing, auth passed.
pub(super) fn authorize(sim: &Sim, key: Option<&str>, resource: Option<&str>, method: &str) -> PsResult<()> {
    let access = lock(&sim.access);
    if !access.enabled {
        return Err(PsError::new(
            503,
            code::DISABLED,
            "The PrestaShop webservice is disabled. Please activate it in the PrestaShop Back Office",
        ));
    }
    let key = key.ok_or_else(|| PsError::new(401, code::NO_KEY, "Authentication key is empty"))?;
    if key.is_empty() {
        return Err(PsError::new(401, code::EMPTY_KEY, "Authentication key is empty"));
    }
    if key.len() != 32 {
        return Err(PsError::new(401, code::KEY_FORMAT, "Invalid authentication key format"));
    }
    if !crate::callbacks::constant_time_eq(key.as_bytes(), access.key.as_bytes()) {
        return Err(PsError::new(401, code::UNKNOWN_KEY, "Invalid authentication key"));
    }
    if !access.active {
        return Err(PsError::new(401, code::KEY_INACTIVE, "Authentification key is not active"));
    }
    let Some(resource) = resource else { return Ok(()) };
    if schema::resource(resource).is_none() {
        let names: Vec<&str> = RESOURCES.iter().map(|r| r.name).collect();
        let near =
            names.iter().find(|n| n.starts_with(&resource[..resource.len().min(4)])).copied().unwrap_or("orders");
        return Err(PsError::bad(
            code::UNKNOWN_RESOURCE,
            format!(
                "Resource of type \"{resource}\" does not exists. Did you mean: \"{near}\"? The full list is: \"{}\"",
                names.join("\", \"")
            ),
        ));
    }
    let allowed = access.permissions.get(resource).cloned().unwrap_or_default();
    if allowed.is_empty() {
        return Err(PsError::new(
            401,
            code::RESOURCE_NOT_ALLOWED,
            format!("Resource of type \"{resource}\" is not allowed with this authentication key"),
        ));
    }
    let needed = if method == "HEAD" { "GET" } else { method };
    if !allowed.contains(needed) {
        return Err(PsError::new(
            405,
            code::METHOD_NOT_ALLOWED_FOR_KEY,
            format!("Method {method} is not allowed for the resource {resource} with this authentication key"),
        ));
    }
    Ok(())
}

/// Every `/api` request.
pub async fn api(State(sim): State<AppState>, req: Request) -> Response {
    let conn = req.extensions().get::<ConnectInfo<KillSwitch>>().cloned();
    let (parts, body) = req.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        let err = PsError::bad(code::XML_ERROR, "the request body is too large or unreadable");
        return error_response(Format::Xml, &err, false);
    };
    let params: Vec<(String, String)> = Query::try_from_uri(&uri).map(|Query(p)| p).unwrap_or_default();
    let method = param(&params, "ps_method").map_or_else(|| method.as_str().to_owned(), str::to_ascii_uppercase);
    let path = uri.path().to_owned();
    let format = output_format(&params, &headers);
    let fault = lock(&sim.faults).take(&method, &path).unwrap_or_default();
    if let Some(ms) = fault.latency_ms {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let response = if let Some(status) = fault.status {
        let err = PsError::new(status, 0, "Simulated fault (injected by /_sim/faults)");
        let mut resp = error_response(format, &err, false);
        if status == 429 {
            resp.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
        }
        resp
    } else {
        handle(&sim, &method, &path, &params, &headers, format, &body)
    };
    let at = sim.clock.now_picqer();
    lock(&sim.journal).record(&method, &path, uri.query().unwrap_or(""), response.status().as_u16(), &body, at);
    if fault.drop_after_commit
        && let Some(ConnectInfo(kill)) = conn
    {
        kill.kill();
    }
    response
}

fn handle(
    sim: &Sim,
    method: &str,
    path: &str,
    params: &[(String, String)],
    headers: &HeaderMap,
    format: Format,
    body: &[u8],
) -> Response {
    let rest = path.trim_start_matches("/api").trim_matches('/');
    let mut parts = rest.split('/').filter(|s| !s.is_empty());
    let resource = parts.next();
    let id = parts.next();
    let key = basic_user(headers).or_else(|| param(params, "ws_key").map(str::to_owned));
    if !["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].contains(&method) {
        let err = PsError::new(405, code::METHOD_INVALID, format!("Method {method} is not valid"));
        return error_response(format, &err, false);
    }
    if resource == Some(IMAGES) {
        let rest: Vec<&str> = id.into_iter().chain(parts).collect();
        return match super::images::image_file(sim, key.as_deref(), method, &rest) {
            Ok(resp) => resp,
            Err((err, authed)) => error_response(format, &err, authed),
        };
    }
    if let Err(err) = authorize(sim, key.as_deref(), resource, method) {
        return error_response(format, &err, false);
    }
    let world_url = format!("{}/api", lock(&sim.world).root_url);
    let ctx = Ctx { format, api_url: &world_url, one_language: param(params, "language").is_some() };
    let result = match resource {
        None => Ok((StatusCode::OK, index(&ctx, sim))),
        Some(res) => {
            let res = schema::resource(res).expect("checked by authorize");
            let id = match id.map(|s| s.parse::<u64>()) {
                Some(Ok(id)) => Some(id),
                Some(Err(_)) => {
                    let err = PsError::bad(code::INVALID_ID, "Invalid ID");
                    return error_response(format, &err, true);
                }
                None => None,
            };
            dispatch(sim, &ctx, res, id, method, params, body)
        }
    };
    match result {
        Ok((status, body)) if method == "HEAD" || method == "DELETE" => {
            let _ = body;
            respond(format, status, String::new(), true)
        }
        Ok((status, body)) => respond(format, status, body, true),
        Err(err) => error_response(format, &err, true),
    }
}

fn index(ctx: &Ctx<'_>, sim: &Sim) -> String {
    let access = lock(&sim.access);
    let allowed: Vec<(&str, BTreeSet<String>)> =
        access.permissions.iter().filter(|(_, m)| !m.is_empty()).map(|(r, m)| (r.as_str(), m.clone())).collect();
    match ctx.format {
        Format::Json => {
            let map: serde_json::Map<String, serde_json::Value> = allowed
                .iter()
                .map(|(r, m)| ((*r).to_owned(), serde_json::json!({"get": m.contains("GET"), "put": m.contains("PUT"), "post": m.contains("POST"), "patch": m.contains("PATCH"), "delete": m.contains("DELETE")})))
                .collect();
            serde_json::json!({ "api": map }).to_string()
        }
        Format::Xml => {
            let mut out = format!("{XML_HEAD}<api shopName=\"Kade simulated shop\">\n");
            for (r, m) in allowed {
                out.push_str(&format!(
                    "<{r} xlink:href=\"{}/{r}\" get=\"{}\" put=\"{}\" post=\"{}\" patch=\"{}\" delete=\"{}\" head=\"{}\"/>\n",
                    ctx.api_url,
                    m.contains("GET"),
                    m.contains("PUT"),
                    m.contains("POST"),
                    m.contains("PATCH"),
                    m.contains("DELETE"),
                    m.contains("GET")
                ));
            }
            out.push_str(&format!("</api>\n{XML_TAIL}"));
            out
        }
    }
}

fn dispatch(
    sim: &Sim,
    ctx: &Ctx<'_>,
    res: &'static schema::Resource,
    id: Option<u64>,
    method: &str,
    params: &[(String, String)],
    body: &[u8],
) -> PsResult<(StatusCode, String)> {
    let send_email = param(params, "sendemail") == Some("1");
    match (method, id) {
        ("GET" | "HEAD", None) => {
            if param(params, "schema").is_some() {
                let blank = super::world::Record::default();
                return Ok((StatusCode::OK, render::detail(ctx, res, &blank)));
            }
            let query = ListQuery::parse(res, params)?;
            let world = lock(&sim.world);
            // Without filters or sort a page is a slice of the table: no need to copy it all.
            let rows: Vec<_> = match query.plain_page() {
                Some((offset, count)) => {
                    world.table(res.name).skip(offset).take(count).map(|(_, r)| r.clone()).collect()
                }
                None => query.apply(world.table(res.name).map(|(_, r)| r.clone()).collect()),
            };
            // Computed values (associations, product quantity) cost a scan each: only when shown.
            let computed = match &query.display {
                super::query::Display::Ids => false,
                super::query::Display::Full => true,
                super::query::Display::Fields(list) => {
                    list.iter().any(|(f, _)| f == "quantity" || res.assoc(f).is_some())
                }
            };
            let page: Vec<_> = if computed {
                rows.iter().filter_map(|r| world.view(res.name, r.num("id") as u64)).collect()
            } else {
                rows
            };
            Ok((StatusCode::OK, render::list(ctx, res, &page, &query.display)))
        }
        ("GET" | "HEAD", Some(id)) => {
            let world = lock(&sim.world);
            let rec = world.view(res.name, id).ok_or_else(|| PsError::not_exists(res.name, id))?;
            Ok((StatusCode::OK, render::detail(ctx, res, &rec)))
        }
        ("POST", None) => {
            let input = super::xmlin::parse(res, body)?;
            if input.fields.contains_key("id") {
                return Err(PsError::bad(code::ID_FORBIDDEN, "id is forbidden when adding a new resource"));
            }
            let new_id = sim.run(|w| w.write(res, None, input, WriteMode::Post, send_email))?;
            let rec = lock(&sim.world).view(res.name, new_id).ok_or_else(|| PsError::not_exists(res.name, new_id))?;
            Ok((StatusCode::CREATED, render::detail(ctx, res, &rec)))
        }
        ("PUT" | "PATCH", Some(id)) => {
            let input = super::xmlin::parse(res, body)?;
            match input.fields.get("id").map(|v| v.parse::<u64>()) {
                None => return Err(PsError::bad(code::ID_REQUIRED, "id is required when modifying a resource")),
                Some(Ok(body_id)) if body_id == id => {}
                Some(_) => {
                    return Err(PsError::bad(code::ID_REQUIRED, "the id in the body does not match the id in the URL"));
                }
            }
            let mode = if method == "PUT" { WriteMode::Put } else { WriteMode::Patch };
            sim.run(|w| w.write(res, Some(id), input, mode, send_email))?;
            let rec = lock(&sim.world).view(res.name, id).ok_or_else(|| PsError::not_exists(res.name, id))?;
            Ok((StatusCode::OK, render::detail(ctx, res, &rec)))
        }
        ("DELETE", Some(id)) => {
            sim.run(|w| w.delete(res.name, id))?;
            Ok((StatusCode::OK, String::new()))
        }
        ("PUT" | "PATCH" | "DELETE", None) => Err(PsError::bad(code::ID_REQUIRED, "You have to set an id in the URL")),
        ("POST", Some(_)) => Err(PsError::new(405, code::METHOD_INVALID, "POST on a single resource is not valid")),
        _ => Err(PsError::new(405, code::METHOD_INVALID, format!("Method {method} is not valid"))),
    }
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/api", axum::routing::any(api))
        .route("/api/", axum::routing::any(api))
        .route("/api/{*rest}", axum::routing::any(api))
        .nest("/_sim", super::control::router())
        .fallback(|| async { (StatusCode::NOT_FOUND, Body::from("Not Found")) })
        .with_state(state)
}
