//! One request, fully built before the first attempt, and the answer it got.
//!
//! Every retry sends the very same URL and body. Picqer's own PHP client once rebuilt the query
//! on a 429 retry and silently restarted a paginated sync at page one; building once rules that
//! out by construction.

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

/// Where a request goes: a path under the transport's base URL, or an absolute URL (a webhook
/// target, a "next page" link).
#[derive(Clone, Debug)]
pub(crate) enum Target {
    Path(String),
    Url(Url),
}

/// One partner request.
#[derive(Clone, Debug)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) target: Target,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Bytes>,
    pub(crate) repeatable: bool,
    pub(crate) label: String,
}

impl Request {
    /// A request to `path` under the base URL. GET, HEAD, PUT and DELETE are repeatable (sending
    /// twice has the effect of once, so 5xx and timeouts are retried); anything else is not,
    /// unless marked with [`Request::idempotent`].
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        let path = path.into();
        Self::build(method, path.clone(), Target::Path(path))
    }

    /// A request to an absolute URL. Errors and the call record name it without its query,
    /// user or password (they may carry secrets).
    pub fn to_url(method: Method, url: Url) -> Self {
        let mut label = url.clone();
        label.set_query(None);
        label.set_fragment(None);
        let _ = label.set_username("");
        let _ = label.set_password(None);
        Self::build(method, label.to_string(), Target::Url(url))
    }

    fn build(method: Method, label: String, target: Target) -> Self {
        let repeatable = matches!(method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS);
        Request { method, target, query: Vec::new(), headers: HeaderMap::new(), body: None, repeatable, label }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// Marks a request as safe to send twice (a POST with an idempotency key, a search).
    pub fn idempotent(self) -> Self {
        self.repeatable(true)
    }

    /// Overrides the method's default: `false` for a PUT or DELETE with a side effect beyond
    /// its target (rare), `true` as [`Request::idempotent`].
    pub fn repeatable(mut self, repeatable: bool) -> Self {
        self.repeatable = repeatable;
        self
    }

    /// Appends query pairs (encoded once, before the first attempt).
    pub fn query<K: Into<String>, V: Into<String>>(mut self, pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        self.query.extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Sets a header on this request only (the credential's headers are set on the transport).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Sets the body with its content type.
    pub fn body(mut self, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        self.headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        self.body = Some(body.into());
        self
    }

    /// An `application/x-www-form-urlencoded` body (the same encoding as a URL query).
    pub fn form<K: AsRef<str>, V: AsRef<str>>(self, pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut enc = Url::parse("http://form.invalid/").expect("a constant URL parses");
        enc.query_pairs_mut().extend_pairs(pairs);
        let encoded = enc.query().unwrap_or("").to_owned();
        self.body("application/x-www-form-urlencoded", encoded)
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path (or query-less URL) that names this request in errors and the call record.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn is_repeatable(&self) -> bool {
        self.repeatable
    }
}

/// A 2xx answer.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absolute_url_is_named_without_its_query_or_credentials() {
        let url = Url::parse("https://user:pw@hooks.example/in?token=s3cret#x").unwrap();
        let req = Request::to_url(Method::POST, url);
        assert_eq!(req.label(), "https://hooks.example/in");
        assert!(!req.is_repeatable(), "a POST is not repeatable unless marked");
        assert!(req.idempotent().is_repeatable());
    }

    #[test]
    fn methods_default_to_their_http_semantics_and_forms_are_encoded_once() {
        assert!(Request::get("/a").is_repeatable() && Request::put("/a").is_repeatable());
        assert!(Request::delete("/a").is_repeatable() && !Request::put("/a").repeatable(false).is_repeatable());
        let req = Request::post("/m").form([("Body", "a b&c=d"), ("To", "+316")]);
        assert_eq!(req.body.as_deref(), Some(&b"Body=a+b%26c%3Dd&To=%2B316"[..]));
        assert_eq!(req.headers[CONTENT_TYPE], "application/x-www-form-urlencoded");
    }
}
