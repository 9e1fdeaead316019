//! The order state machine: allocate, process (picklists or backorders), pause/resume, cancel,
//! change-to-concept, and completion.
//!
//! ```text
//! concept ──process──► processing ──(all picklists closed + shipped, no backorders)──► completed
//!   ▲  │                 │  ▲
//!   │  │            pause│  │resume
//! expected               ▼  │
//!   (change-to-concept)  paused
//! any ──DELETE (concept/expected; others need force=true)──► cancelled
//! ```
//! Every transition fires `orders.status_changed` first, then the specific event.

use std::collections::BTreeMap;

use super::World;
use super::backorders;
use super::orders::emit_order;
use super::picklists::{create_for_order, emit_picklist};
use crate::picqer::errors::{ApiError, ApiResult, code};

fn status(w: &World, id: u64) -> ApiResult<String> {
    w.orders.get(&id).map(|o| o.status.clone()).ok_or_else(|| ApiError::not_found("Order"))
}

fn set_status(w: &mut World, id: u64, status: &str) {
    let now = w.now();
    if let Some(o) = w.orders.get_mut(&id) {
        o.status = status.to_owned();
        o.updated = now;
    }
}

/// Refuses allocate/process on orders that are past `concept`/`expected` (error 32, which
/// integrations treat as "already done").
fn require_concept(status: &str) -> ApiResult<()> {
    match status {
        "concept" | "expected" => Ok(()),
        "cancelled" => Err(ApiError::code400(code::ORDER_ALREADY_CLOSED, "Order is cancelled")),
        _ => Err(ApiError::code400(code::ORDER_ALREADY_CLOSED, "Order is already closed (processed)")),
    }
}

/// Products still to deliver per line: `(line index, idproduct, amount)`.
fn open_lines(w: &World, id: u64) -> Vec<(usize, u64, i64)> {
    w.orders.get(&id).map_or_else(Vec::new, |o| {
        o.lines
            .iter()
            .enumerate()
            .map(|(i, l)| (i, l.idproduct, l.amount - l.amount_cancelled))
            .filter(|(_, _, a)| *a > 0)
            .collect()
    })
}

/// The warehouse an order is served from: the highest-priority one accepting orders that has
/// all of it in free stock, else the highest-priority one accepting orders. GUESS: Picqer can
/// split over warehouses; the simulator never does.
fn choose_warehouse(w: &World, lines: &[(usize, u64, i64)]) -> usize {
    let mut candidates: Vec<usize> =
        (0..w.warehouses.len()).filter(|&i| w.warehouses[i].accept_orders && w.warehouses[i].active).collect();
    candidates.sort_by_key(|&i| w.warehouses[i].priority);
    let mut need: BTreeMap<u64, i64> = BTreeMap::new();
    for (_, idproduct, amount) in lines {
        *need.entry(*idproduct).or_default() += amount;
    }
    let fits = |widx: usize| need.iter().all(|(id, n)| w.level(*id, widx).is_some_and(|l| l.free() >= *n));
    candidates.iter().copied().find(|&i| fits(i)).or_else(|| candidates.first().copied()).unwrap_or(0)
}

/// Releases allocations of one line (or all lines) of an order.
pub fn release_allocations(w: &mut World, id: u64, only_line: Option<u64>) {
    let Some(o) = w.orders.get(&id) else { return };
    let Some(widx) = o.alloc_warehouse else { return };
    let releases: Vec<(usize, u64, i64)> = o
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.allocated > 0 && only_line.is_none_or(|x| x == l.idorder_product))
        .map(|(i, l)| (i, l.idproduct, l.allocated))
        .collect();
    for (li, idproduct, n) in releases {
        if let Some(level) = w.level_mut(idproduct, widx) {
            level.reservedallocations -= n;
        }
        if let Some(line) = w.orders.get_mut(&id).and_then(|o| o.lines.get_mut(li)) {
            line.allocated = 0;
        }
    }
    if let Some(o) = w.orders.get_mut(&id)
        && o.lines.iter().all(|l| l.allocated == 0)
    {
        o.alloc_warehouse = None;
    }
}

/// `POST /orders/{id}/allocate`: reserves what free stock allows (`reservedallocations`).
pub fn allocate(w: &mut World, id: u64) -> ApiResult<()> {
    require_concept(&status(w, id)?)?;
    release_allocations(w, id, None);
    let lines = open_lines(w, id);
    let widx = choose_warehouse(w, &lines);
    for (li, idproduct, amount) in lines {
        let free = w.level(idproduct, widx).map_or(0, |l| l.free().max(0));
        let n = amount.min(free);
        if n == 0 {
            continue;
        }
        if let Some(level) = w.level_mut(idproduct, widx) {
            level.reservedallocations += n;
        }
        if let Some(o) = w.orders.get_mut(&id) {
            o.alloc_warehouse = Some(widx);
            if let Some(line) = o.lines.get_mut(li) {
                line.allocated = n;
            }
        }
    }
    emit_order(w, "orders.allocated", id);
    w.flush_stock_events();
    Ok(())
}

/// `POST /orders/{id}/deallocate`.
pub fn deallocate(w: &mut World, id: u64) -> ApiResult<()> {
    require_concept(&status(w, id)?)?;
    release_allocations(w, id, None);
    w.flush_stock_events();
    Ok(())
}

/// `POST /orders/{id}/process`: picklist for what free stock covers, backorders for the rest
/// (or, without `partialdelivery`, backorders for everything when anything is short).
/// Events: orders.status_changed, orders.closed, picklists.created, stock events.
pub fn process(w: &mut World, id: u64) -> ApiResult<()> {
    require_concept(&status(w, id)?)?;
    release_allocations(w, id, None);
    let lines = open_lines(w, id);
    let widx = choose_warehouse(w, &lines);
    let partial = w.orders.get(&id).is_some_and(|o| o.partialdelivery);
    let mut free: BTreeMap<u64, i64> = BTreeMap::new();
    let mut picks = Vec::new();
    let mut backs = Vec::new();
    for &(li, idproduct, amount) in &lines {
        let avail = free.entry(idproduct).or_insert_with(|| w.level(idproduct, widx).map_or(0, |l| l.free().max(0)));
        let n = amount.min(*avail);
        *avail -= n;
        picks.push((li, n));
        backs.push((li, amount - n));
    }
    if !partial && backs.iter().any(|(_, n)| *n > 0) {
        picks.clear();
        backs = lines.iter().map(|&(li, _, amount)| (li, amount)).collect();
    }
    let picklist = if picks.iter().any(|(_, n)| *n > 0) { create_for_order(w, id, widx, &picks) } else { None };
    for (li, n) in backs.into_iter().filter(|(_, n)| *n > 0) {
        backorders::create(w, id, li, widx, n);
    }
    set_status(w, id, "processing");
    emit_order(w, "orders.status_changed", id);
    emit_order(w, "orders.closed", id);
    if let Some(pid) = picklist {
        emit_picklist(w, "picklists.created", pid);
    }
    w.flush_stock_events();
    Ok(())
}

/// `POST /orders/{id}/pause`: processing → paused; open picklists are paused too.
pub fn pause(w: &mut World, id: u64) -> ApiResult<()> {
    if status(w, id)? != "processing" {
        return Err(ApiError::rule("Only processing orders can be paused"));
    }
    set_status(w, id, "paused");
    let paused = set_picklists(w, id, "new", "paused");
    emit_order(w, "orders.status_changed", id);
    emit_order(w, "orders.paused", id);
    for pid in paused {
        emit_picklist(w, "picklists.paused", pid);
    }
    Ok(())
}

/// `POST /orders/{id}/resume` (path GUESS): paused → processing; paused picklists → new.
pub fn resume(w: &mut World, id: u64) -> ApiResult<()> {
    if status(w, id)? != "paused" {
        return Err(ApiError::rule("Only paused orders can be resumed"));
    }
    set_status(w, id, "processing");
    let resumed = set_picklists(w, id, "paused", "new");
    emit_order(w, "orders.status_changed", id);
    emit_order(w, "orders.resumed", id);
    for pid in resumed {
        emit_picklist(w, "picklists.resumed", pid);
    }
    Ok(())
}

fn set_picklists(w: &mut World, id: u64, from: &str, to: &str) -> Vec<u64> {
    let ids: Vec<u64> = w.orders.get(&id).map(|o| o.picklists.clone()).unwrap_or_default();
    let now = w.now();
    let mut changed = Vec::new();
    for pid in ids {
        if let Some(p) = w.picklists.get_mut(&pid)
            && p.status == from
        {
            p.status = to.to_owned();
            p.updated = now;
            changed.push(pid);
        }
    }
    changed
}

/// `POST /orders/{id}/change-to-concept`: only from `expected`.
pub fn change_to_concept(w: &mut World, id: u64) -> ApiResult<()> {
    if status(w, id)? != "expected" {
        return Err(ApiError::rule("Only expected orders can be changed to concept"));
    }
    set_status(w, id, "concept");
    emit_order(w, "orders.status_changed", id);
    Ok(())
}

/// Simulator-only: concept → expected. Picqer sets `expected` itself (no API call does), so
/// tests need a way to reach it to exercise `change-to-concept`.
pub fn mark_expected(w: &mut World, id: u64) -> ApiResult<()> {
    if status(w, id)? != "concept" {
        return Err(ApiError::rule("Only concept orders can become expected"));
    }
    set_status(w, id, "expected");
    emit_order(w, "orders.status_changed", id);
    Ok(())
}

/// `DELETE /orders/{id}` (cancel). Without force only concept/expected orders; with force any
/// order that is not cancelled yet. Releases allocations, cancels open picklists and deletes
/// backorders. Closed picklists stay closed: their stock already left the building.
pub fn cancel(w: &mut World, id: u64, force: bool) -> ApiResult<()> {
    match status(w, id)?.as_str() {
        "concept" | "expected" => {}
        "cancelled" => {
            return Err(ApiError::code400(code::ORDER_ALREADY_CLOSED, "Order is already cancelled"));
        }
        "completed" if !force => {
            return Err(ApiError::code400(
                code::ORDER_ALREADY_CLOSED,
                "Order is already completed; cancel with force=true",
            ));
        }
        "processing" | "paused" if !force => {
            return Err(ApiError::code400(
                code::ORDER_BEING_PROCESSED,
                "Order is being processed; cancel with force=true",
            ));
        }
        _ => {}
    }
    release_allocations(w, id, None);
    let open: Vec<u64> = w
        .orders
        .get(&id)
        .map(|o| o.picklists.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|pid| w.picklists.get(pid).is_some_and(|p| p.is_open()))
        .collect();
    for pid in &open {
        super::picklist_ops::release_and_cancel(w, *pid, false);
    }
    for bid in backorders::of_order(w, id) {
        backorders::remove(w, bid);
    }
    set_status(w, id, "cancelled");
    emit_order(w, "orders.status_changed", id);
    for pid in open {
        emit_picklist(w, "picklists.cancelled", pid);
    }
    w.flush_stock_events();
    Ok(())
}

/// Completes a processing order once every live picklist is closed and shipped and no
/// backorders remain. Events: orders.status_changed, orders.completed.
pub fn check_completion(w: &mut World, id: u64) {
    let Some(o) = w.orders.get(&id) else { return };
    if o.status != "processing" {
        return;
    }
    let live: Vec<_> =
        o.picklists.iter().filter_map(|pid| w.picklists.get(pid)).filter(|p| p.status != "cancelled").collect();
    let done = !live.is_empty()
        && live.iter().all(|p| p.status == "closed" && !p.shipments.is_empty())
        && backorders::of_order(w, id).is_empty();
    if done {
        set_status(w, id, "completed");
        emit_order(w, "orders.status_changed", id);
        emit_order(w, "orders.completed", id);
    }
}
