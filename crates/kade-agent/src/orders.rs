//! Order lookup in Picqer, live through the connection's budgeted client, with a short cache.
//!
//! Candidates are found first (by order number, or by shop reference through Picqer's search
//! and a strict comparison of reference keys); the identity gate decides which of them may be
//! described; only those are expanded with shipments and backorders. The cache holds Picqer's
//! answers, never decisions: every question passes the gate again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kade_picqer::PicqerClient;
use kade_picqer::types::{Order, OrderFilter, OrderStatus};
use serde::{Deserialize, Serialize};

use crate::detect::{OrderRef, reference_matches};
use crate::error::AgentError;
use crate::identity::OrderIdentity;

/// At most this many pages of search results are read for one reference.
const SEARCH_PAGES: usize = 2;

/// One order line as a customer sees it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LineFacts {
    pub productcode: String,
    pub name: String,
    pub amount: i64,
    pub amount_cancelled: i64,
}

/// One parcel.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ParcelFacts {
    pub tracking_code: Option<String>,
    pub tracking_url: Option<String>,
}

/// One shipment with all its parcels.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShipmentFacts {
    pub carrier: Option<String>,
    pub parcels: Vec<ParcelFacts>,
    pub created: Option<String>,
}

/// Items waiting for stock.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackorderFacts {
    pub productcode: String,
    pub name: String,
    pub amount: i64,
    /// When Picqer expects it (`date_available`), if it knows.
    pub expected: Option<String>,
}

/// How far along an order is, in the customer's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Received,
    BeingPrepared,
    WaitingForStock,
    PartlyShipped,
    Shipped,
    Completed,
    OnHold,
    Cancelled,
}

/// Everything an order answer may say. Only built for verified askers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderFacts {
    pub idorder: u64,
    pub orderid: String,
    pub reference: Option<String>,
    /// Picqer's status.
    pub status: String,
    pub stage: Stage,
    pub created: Option<String>,
    pub lines: Vec<LineFacts>,
    pub shipments: Vec<ShipmentFacts>,
    pub backorders: Vec<BackorderFacts>,
    pub status_page: Option<String>,
}

pub fn identity_of(o: &Order) -> OrderIdentity {
    OrderIdentity { email: o.emailaddress.clone(), postcode: o.deliveryzipcode.clone(), phone: o.telephone.clone() }
}

fn stage(status: &OrderStatus, shipped: bool, waiting: bool) -> Stage {
    match status {
        OrderStatus::Cancelled => Stage::Cancelled,
        OrderStatus::Paused => Stage::OnHold,
        OrderStatus::Completed if shipped => Stage::Shipped,
        OrderStatus::Completed => Stage::Completed,
        OrderStatus::Processing if shipped && waiting => Stage::PartlyShipped,
        OrderStatus::Processing if shipped => Stage::Shipped,
        OrderStatus::Processing if waiting => Stage::WaitingForStock,
        OrderStatus::Processing => Stage::BeingPrepared,
        _ => Stage::Received,
    }
}

struct Cached<T> {
    at: Instant,
    value: T,
}

/// Picqer lookups with a time-to-live cache.
pub struct OrderLookup {
    client: PicqerClient,
    ttl: Duration,
    candidates: Mutex<HashMap<String, Cached<Vec<Order>>>>,
    details: Mutex<HashMap<u64, Cached<OrderFacts>>>,
}

fn cache_get<K: std::hash::Hash + Eq, T: Clone>(m: &Mutex<HashMap<K, Cached<T>>>, k: &K, ttl: Duration) -> Option<T> {
    let map = m.lock().unwrap_or_else(|e| e.into_inner());
    map.get(k).filter(|c| c.at.elapsed() < ttl).map(|c| c.value.clone())
}

fn cache_put<K: std::hash::Hash + Eq, T>(m: &Mutex<HashMap<K, Cached<T>>>, k: K, value: T, ttl: Duration) {
    let mut map = m.lock().unwrap_or_else(|e| e.into_inner());
    map.retain(|_, c| c.at.elapsed() < ttl);
    map.insert(k, Cached { at: Instant::now(), value });
}

impl OrderLookup {
    pub fn new(client: PicqerClient, ttl: Duration) -> Self {
        OrderLookup { client, ttl, candidates: Mutex::default(), details: Mutex::default() }
    }

    /// The orders `r` could mean (possibly none).
    pub async fn candidates(&self, r: &OrderRef) -> Result<Vec<Order>, AgentError> {
        let key = format!("{r:?}");
        if let Some(hit) = cache_get(&self.candidates, &key, self.ttl) {
            return Ok(hit);
        }
        let found = match r {
            OrderRef::OrderId(id) => {
                let filter = OrderFilter { orderid: Some(id.clone()), ..Default::default() };
                let mut page = self.client.orders(&filter).next_page().await?.unwrap_or_default();
                page.retain(|o| &o.orderid == id);
                page
            }
            OrderRef::Reference(text) => {
                let mut pager =
                    self.client.orders(&OrderFilter { search: Some(search_term(text)), ..Default::default() });
                let mut found = Vec::new();
                for _ in 0..SEARCH_PAGES {
                    let Some(page) = pager.next_page().await? else { break };
                    found.extend(
                        page.into_iter().filter(|o| o.reference.as_deref().is_some_and(|r| reference_matches(text, r))),
                    );
                }
                found
            }
        };
        cache_put(&self.candidates, key, found.clone(), self.ttl);
        Ok(found)
    }

    /// The full story of one (verified) order: lines, shipments with every parcel, backorders.
    pub async fn details(&self, o: &Order) -> Result<OrderFacts, AgentError> {
        let id = o.idorder.0;
        if let Some(hit) = cache_get(&self.details, &id, self.ttl) {
            return Ok(hit);
        }
        let mut shipments = Vec::new();
        for p in o.picklists.iter().filter(|p| p.status != "cancelled") {
            for s in self.client.shipments(p.idpicklist).await?.into_iter().filter(|s| !s.cancelled) {
                let mut parcels: Vec<ParcelFacts> = s
                    .parcels
                    .iter()
                    .map(|x| ParcelFacts {
                        tracking_code: x.tracking_code.clone(),
                        tracking_url: x.tracking_url.clone(),
                    })
                    .collect();
                if parcels.is_empty() && s.trackingcode.is_some() {
                    let url = s.tracktraceurl.clone().or(s.trackingurl.clone());
                    parcels.push(ParcelFacts { tracking_code: s.trackingcode.clone(), tracking_url: url });
                }
                let carrier = s.public_providername.clone().or(s.provider.clone()).or(s.carrier_key.clone());
                shipments.push(ShipmentFacts { carrier, parcels, created: s.created.map(|c| c.to_string()) });
            }
        }
        let lines: Vec<LineFacts> = o
            .products
            .iter()
            .filter(|l| l.partof_idorder_product.is_none())
            .map(|l| LineFacts {
                productcode: l.productcode.clone(),
                name: l.name.clone(),
                amount: l.amount,
                amount_cancelled: l.amount_cancelled,
            })
            .collect();
        let mut backorders = Vec::new();
        if matches!(o.status, OrderStatus::Processing | OrderStatus::Paused) {
            for b in self.client.order_backorders(o.idorder).await? {
                let line = o.products.iter().find(|l| l.idproduct == b.idproduct);
                backorders.push(BackorderFacts {
                    productcode: line.map(|l| l.productcode.clone()).unwrap_or_default(),
                    name: line.map(|l| l.name.clone()).unwrap_or_default(),
                    amount: b.amount,
                    expected: b.date_available.filter(|d| !d.trim().is_empty()),
                });
            }
        }
        let facts = OrderFacts {
            idorder: id,
            orderid: o.orderid.clone(),
            reference: o.reference.clone(),
            status: o.status.as_str().to_string(),
            stage: stage(&o.status, !shipments.is_empty(), !backorders.is_empty()),
            created: o.created.map(|c| c.to_string()),
            lines,
            shipments,
            backorders,
            status_page: o.public_status_page.clone(),
        };
        cache_put(&self.details, id, facts.clone(), self.ttl);
        Ok(facts)
    }
}

/// What to send as Picqer's `search` for a written reference: the shop's own reference code if
/// there is one, else the number, else the text. Results are filtered strictly afterwards.
fn search_term(reference: &str) -> String {
    let parts: Vec<String> =
        reference.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()).map(str::to_string).collect();
    if let Some(code) = parts.iter().find(|p| p.len() >= 6 && p.bytes().all(|b| b.is_ascii_alphabetic())) {
        return code.clone();
    }
    if let Some(n) = parts.iter().rev().find(|p| p.bytes().all(|b| b.is_ascii_digit())) {
        return n.clone();
    }
    reference.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms() {
        assert_eq!(search_term("DEV #73 / ITQRFWVHT"), "ITQRFWVHT");
        assert_eq!(search_term("PS #73"), "73");
        assert_eq!(search_term("#73"), "73");
    }

    #[test]
    fn stages() {
        assert_eq!(stage(&OrderStatus::Processing, true, true), Stage::PartlyShipped);
        assert_eq!(stage(&OrderStatus::Processing, false, true), Stage::WaitingForStock);
        assert_eq!(stage(&OrderStatus::Completed, true, false), Stage::Shipped);
        assert_eq!(stage(&OrderStatus::Concept, false, false), Stage::Received);
        assert_eq!(stage(&OrderStatus::Other("x".into()), false, false), Stage::Received);
    }
}
