//! The webservice client: auth (key as Basic username, empty password), JSON output, XML input,
//! and the calls Kade's PrestaShop flows need.

use kade_transport::header::{AUTHORIZATION, HeaderMap};
use kade_transport::{Partner, Request, Transport, TransportStats};
use reqwest::Method;
use serde_json::Value;

pub use crate::config::PrestaConfig;
use crate::error::{PrestaError, error_from};
use crate::object::Object;
use crate::types::*;
use crate::xml;

/// PrestaShop's webservice: no rate-limit headers; a 5xx is transient unless its error code
/// says the input was bad (127: XML error, 46: invalid field), which repeating cannot fix.
const PRESTASHOP: Partner = Partner::new("prestashop").transient_status(|status, body| {
    status >= 500
        && !matches!(error_from(&Method::GET, "", status, &String::from_utf8_lossy(body)).code(), Some(127 | 46))
});

#[derive(Clone)]
pub struct PrestaClient {
    pub(crate) transport: Transport,
    pub(crate) api: String,
}

impl std::fmt::Debug for PrestaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("PrestaClient").field("api", &self.api).finish_non_exhaustive()
    }
}

/// Page size for list calls (PrestaShop has no maximum; large pages are cheap for it).
pub const PAGE: usize = 1000;

impl PrestaClient {
    pub fn new(config: PrestaConfig) -> Result<Self, PrestaError> {
        if !(config.shop_url.starts_with("http://") || config.shop_url.starts_with("https://")) {
            return Err(PrestaError::Config(format!(
                "shop URL {:?} must start with http:// or https://",
                config.shop_url
            )));
        }
        if config.ws_key.len() != 32 {
            return Err(PrestaError::Config(format!(
                "a webservice key has 32 characters, this one has {} (Advanced Parameters > Webservice in the back office)",
                config.ws_key.len()
            )));
        }
        if config.requests_per_second == 0 {
            return Err(PrestaError::Config("requests_per_second must be at least 1".into()));
        }
        let auth = kade_transport::basic_auth(&config.ws_key, "").map_err(|_| {
            PrestaError::Config("the webservice key contains characters not allowed in a header".into())
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        let transport = Transport::new(PRESTASHOP, config.transport(), headers)?;
        Ok(PrestaClient { transport, api: format!("{}/api", config.shop_url) })
    }

    /// Counters of this client's budget (requests, retries, 429s, time spent waiting).
    pub fn stats(&self) -> TransportStats {
        self.transport.stats()
    }

    /// One call; `query` is appended after `output_format=JSON`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<String>,
    ) -> Result<Value, PrestaError> {
        let mut req = Request::new(method.clone(), path)
            .query([("output_format", "JSON")])
            .query(query.iter().map(|(k, v)| (*k, v.clone())));
        if let Some(b) = body {
            req = req.body("text/xml", b);
        }
        let text = self.transport.send(&req).await?.text();
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| PrestaError::Decode {
            method: method.to_string(),
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// A list: `{"orders":[…]}`, or `[]` when empty (the JSON renderer drops empty arrays).
    pub async fn list(&self, resource: &str, query: &[(&str, String)]) -> Result<Vec<Value>, PrestaError> {
        let v = self.call(Method::GET, resource, query, None).await?;
        match v {
            Value::Array(items) => Ok(items),
            Value::Object(mut map) => match map.remove(resource) {
                Some(Value::Array(items)) => Ok(items),
                None if map.is_empty() => Ok(Vec::new()),
                _ => Err(PrestaError::Decode {
                    method: "GET".into(),
                    path: resource.into(),
                    message: format!("no {resource} array"),
                }),
            },
            Value::Null => Ok(Vec::new()),
            _ => Err(PrestaError::Decode { method: "GET".into(), path: resource.into(), message: "not a list".into() }),
        }
    }

    /// Every page of a list (`limit=offset,PAGE` until a short page).
    pub async fn list_all(&self, resource: &str, query: &[(&str, String)]) -> Result<Vec<Value>, PrestaError> {
        let mut out = Vec::new();
        loop {
            let mut q = query.to_vec();
            q.push(("limit", format!("{},{PAGE}", out.len())));
            let page = self.list(resource, &q).await?;
            let short = page.len() < PAGE;
            out.extend(page);
            if short {
                return Ok(out);
            }
        }
    }

    /// One object, unwrapped from `{"<singular>": {...}}`.
    pub async fn get(&self, resource: &str, singular: &str, id: u64) -> Result<Value, PrestaError> {
        let v = self.call(Method::GET, &format!("{resource}/{id}"), &[], None).await?;
        v.get(singular).cloned().ok_or_else(|| PrestaError::Decode {
            method: "GET".into(),
            path: format!("{resource}/{id}"),
            message: format!("no {singular} object"),
        })
    }

    pub async fn get_object(&self, resource: &str, singular: &str, id: u64) -> Result<Object, PrestaError> {
        let v = self.get(resource, singular, id).await?;
        Object::from_json(singular, &v).ok_or_else(|| PrestaError::Decode {
            method: "GET".into(),
            path: resource.into(),
            message: "not an object".into(),
        })
    }

    /// Full replace of an object read with [`Self::get_object`] and changed locally.
    pub async fn put_object(
        &self,
        resource: &str,
        id: u64,
        object: &Object,
        query: &[(&str, String)],
    ) -> Result<Value, PrestaError> {
        self.call(Method::PUT, &format!("{resource}/{id}"), query, Some(xml::render(object))).await
    }

    pub async fn post_object(
        &self,
        resource: &str,
        object: &Object,
        query: &[(&str, String)],
    ) -> Result<Value, PrestaError> {
        let v = self.call(Method::POST, resource, query, Some(xml::render(object))).await?;
        Ok(v.get(&object.node).cloned().unwrap_or(v))
    }

    /// Checks the key: one cheap call that needs GET on orders.
    pub async fn ping(&self) -> Result<(), PrestaError> {
        self.list("orders", &[("limit", "1".into())]).await.map(|_| ())
    }

    pub async fn order(&self, id: u64) -> Result<Order, PrestaError> {
        Ok(Order::from_json(&self.get("orders", "order", id).await?))
    }

    /// Orders changed in `[from, to]` (shop time, `Y-m-d H:i:s`), oldest first.
    pub async fn orders_updated(&self, from: &str, to: &str) -> Result<Vec<Order>, PrestaError> {
        let q = [
            ("display", "full".to_owned()),
            ("date", "1".to_owned()),
            ("filter[date_upd]", format!("[{from},{to}]")),
            ("sort", "[date_upd_ASC,id_ASC]".to_owned()),
        ];
        Ok(self.list_all("orders", &q).await?.iter().map(Order::from_json).collect())
    }

    pub async fn address(&self, id: u64) -> Result<Address, PrestaError> {
        Ok(Address::from_json(&self.get("addresses", "address", id).await?))
    }

    pub async fn customer(&self, id: u64) -> Result<Customer, PrestaError> {
        Ok(Customer::from_json(&self.get("customers", "customer", id).await?))
    }

    pub async fn country_iso(&self, id: u64) -> Result<String, PrestaError> {
        Ok(field(&self.get("countries", "country", id).await?, "iso_code"))
    }

    pub async fn carriers(&self) -> Result<Vec<Carrier>, PrestaError> {
        Ok(self.list_all("carriers", &[("display", "full".into())]).await?.iter().map(Carrier::from_json).collect())
    }

    pub async fn order_states(&self) -> Result<Vec<OrderState>, PrestaError> {
        let q = [("display", "full".to_owned()), ("language", "1".to_owned())];
        Ok(self.list_all("order_states", &q).await?.iter().map(OrderState::from_json).collect())
    }

    /// The order's carrier rows, as full objects ready to be changed and PUT back.
    pub async fn order_carriers(&self, id_order: u64) -> Result<Vec<Object>, PrestaError> {
        let q = [("display", "full".to_owned()), ("filter[id_order]", format!("[{id_order}]"))];
        Ok(self
            .list("order_carriers", &q)
            .await?
            .iter()
            .filter_map(|v| Object::from_json("order_carrier", v))
            .collect())
    }

    /// Moves an order to a state the supported way (an order history).
    pub async fn add_order_history(&self, id_order: u64, state: u64, send_email: bool) -> Result<(), PrestaError> {
        let mut o = Object::new("order_history");
        o.set("id_order", id_order.to_string());
        o.set("id_order_state", state.to_string());
        let q = if send_email { vec![("sendemail", "1".to_owned())] } else { vec![] };
        self.post_object("order_histories", &o, &q).await.map(|_| ())
    }

    /// The private messages on an order's threads.
    pub async fn order_messages(&self, id_order: u64) -> Result<(Option<u64>, Vec<CustomerMessage>), PrestaError> {
        let q = [("display", "[id]".to_owned()), ("filter[id_order]", format!("[{id_order}]"))];
        let threads: Vec<u64> = self.list("customer_threads", &q).await?.iter().map(id_of).collect();
        let mut messages = Vec::new();
        for t in &threads {
            let q = [("display", "full".to_owned()), ("filter[id_customer_thread]", format!("[{t}]"))];
            messages.extend(self.list("customer_messages", &q).await?.iter().map(CustomerMessage::from_json));
        }
        Ok((threads.first().copied(), messages))
    }

    /// Adds a private (employee-only) note to an order, creating its thread when needed.
    pub async fn add_private_note(
        &self,
        order: &Order,
        thread: Option<u64>,
        message: &str,
    ) -> Result<u64, PrestaError> {
        let thread = match thread {
            Some(t) => t,
            None => {
                let mut t = Object::new("customer_thread");
                for (k, v) in [
                    ("id_lang", "1".to_owned()),
                    ("id_shop", order.id_shop.max(1).to_string()),
                    ("id_customer", order.id_customer.to_string()),
                    ("id_order", order.id.to_string()),
                    ("id_contact", "0".to_owned()),
                    ("status", "open".to_owned()),
                    ("token", format!("kade{:012}", order.id)),
                ] {
                    t.set(k, v);
                }
                id_of(&self.post_object("customer_threads", &t, &[]).await?)
            }
        };
        let mut m = Object::new("customer_message");
        m.set("id_customer_thread", thread.to_string());
        m.set("id_employee", "0");
        m.set("message", message);
        m.set("private", "1");
        Ok(id_of(&self.post_object("customer_messages", &m, &[]).await?))
    }

    /// Every product and combination with its reference (two paged list calls).
    pub async fn sellables(&self) -> Result<Vec<Sellable>, PrestaError> {
        let products = self
            .list_all("products", &[("display", "[id,reference,name,price]".into()), ("language", "1".into())])
            .await?;
        let combos = self.list_all("combinations", &[("display", "[id,id_product,reference,price]".into())]).await?;
        let mut out: Vec<Sellable> = products.iter().map(Sellable::product).collect();
        out.extend(combos.iter().map(Sellable::combination));
        Ok(out)
    }

    pub async fn product(&self, id: u64) -> Result<Sellable, PrestaError> {
        let v = self.call(Method::GET, &format!("products/{id}"), &[("language", "1".into())], None).await?;
        Ok(Sellable::product(v.get("product").unwrap_or(&Value::Null)))
    }

    /// Every stock row, typed and as a full object ready to be changed and PUT back.
    pub async fn stock_availables(&self) -> Result<Vec<(StockAvailable, Object)>, PrestaError> {
        let rows = self.list_all("stock_availables", &[("display", "full".into())]).await?;
        Ok(rows
            .iter()
            .filter_map(|v| Some((StockAvailable::from_json(v), Object::from_json("stock_available", v)?)))
            .collect())
    }

    /// The stock rows of one product (its own row and one per combination).
    pub async fn stock_rows_of(&self, id_product: u64) -> Result<Vec<(StockAvailable, Object)>, PrestaError> {
        let q = [("display", "full".to_owned()), ("filter[id_product]", format!("[{id_product}]"))];
        let rows = self.list("stock_availables", &q).await?;
        Ok(rows
            .iter()
            .filter_map(|v| Some((StockAvailable::from_json(v), Object::from_json("stock_available", v)?)))
            .collect())
    }

    pub async fn stock_available(&self, id_product: u64, id_attr: u64) -> Result<Option<Object>, PrestaError> {
        let q = [
            ("display", "full".to_owned()),
            ("filter[id_product]", format!("[{id_product}]")),
            ("filter[id_product_attribute]", format!("[{id_attr}]")),
        ];
        Ok(self.list("stock_availables", &q).await?.first().and_then(|v| Object::from_json("stock_available", v)))
    }

    /// Products or combinations with exactly this reference (the filter is case-insensitive,
    /// so the case is checked here).
    pub async fn find_by_reference(&self, reference: &str) -> Result<Vec<Sellable>, PrestaError> {
        let q = [
            ("display", "[id,id_product,reference,price]".to_owned()),
            ("filter[reference]", format!("[{reference}]")),
        ];
        let mut out: Vec<Sellable> = self.list("combinations", &q).await?.iter().map(Sellable::combination).collect();
        let q = [
            ("display", "[id,reference,name,price]".to_owned()),
            ("filter[reference]", format!("[{reference}]")),
            ("language", "1".to_owned()),
        ];
        out.extend(self.list("products", &q).await?.iter().map(Sellable::product));
        out.retain(|s| s.reference == reference);
        Ok(out)
    }
}
