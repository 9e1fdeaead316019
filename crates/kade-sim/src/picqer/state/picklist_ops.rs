//! Picklist actions: close (pick), cancel, and shipments.

use super::World;
use super::picking::check_completion;
use super::picklists::{Parcel, Shipment, emit_picklist, shipment_json};
use crate::picqer::errors::{ApiError, ApiResult};

fn open_picklist(w: &World, id: u64) -> ApiResult<()> {
    let p = w.picklists.get(&id).ok_or_else(|| ApiError::not_found("Picklist"))?;
    match p.status.as_str() {
        "new" => Ok(()),
        "paused" => Err(ApiError::rule("Picklist is paused")),
        other => Err(ApiError::rule(format!("Picklist is already {other}"))),
    }
}

/// `POST /picklists/{id}/close` and `/pickall`: everything is picked and leaves stock
/// (`stock -= amount`, `reservedpicklists -= amount`; free stock is unchanged).
/// Events: picklists.closed, products.stock_changed + products.free_stock_changed per product,
/// then the order's completion events if this finished it.
pub fn close(w: &mut World, id: u64) -> ApiResult<()> {
    open_picklist(w, id)?;
    let Some(p) = w.picklists.get(&id).cloned() else {
        return Err(ApiError::not_found("Picklist"));
    };
    for line in &p.lines {
        let old = w.level(line.idproduct, p.widx).map_or(0, |l| l.stock);
        if let Some(level) = w.level_mut(line.idproduct, p.widx) {
            level.stock -= line.amount;
            level.reservedpicklists -= line.amount;
        }
        let reason = format!("Picklist {}", p.picklistid);
        w.log_stock(line.idproduct, p.widx, old, old - line.amount, &reason);
    }
    let now = w.now();
    if let Some(p) = w.picklists.get_mut(&id) {
        for line in &mut p.lines {
            line.amount_picked = line.amount;
        }
        p.status = "closed".into();
        p.closed_at = Some(now);
        p.updated = now;
    }
    emit_picklist(w, "picklists.closed", id);
    w.flush_stock_events();
    check_completion(w, p.idorder);
    Ok(())
}

/// Cancels an open picklist and releases its reservations, without events (callers emit).
/// With `count_cancelled`, the order lines record the amounts as cancelled.
pub fn release_and_cancel(w: &mut World, id: u64, count_cancelled: bool) {
    let Some(p) = w.picklists.get(&id).cloned() else {
        return;
    };
    for line in &p.lines {
        let open = line.amount - line.amount_picked;
        if let Some(level) = w.level_mut(line.idproduct, p.widx) {
            level.reservedpicklists -= open;
        }
        if count_cancelled
            && let Some(l) = w
                .orders
                .get_mut(&p.idorder)
                .and_then(|o| o.lines.iter_mut().find(|l| l.idorder_product == line.idorder_product))
        {
            l.amount_cancelled += open;
        }
    }
    let now = w.now();
    if let Some(p) = w.picklists.get_mut(&id) {
        p.status = "cancelled".into();
        p.updated = now;
    }
}

/// `POST /picklists/{id}/cancel`. Events: picklists.cancelled, stock events, completion.
pub fn cancel(w: &mut World, id: u64) -> ApiResult<()> {
    let p = w.picklists.get(&id).ok_or_else(|| ApiError::not_found("Picklist"))?;
    if !p.is_open() {
        return Err(ApiError::rule(format!("Picklist is already {}", p.status)));
    }
    let idorder = p.idorder;
    release_and_cancel(w, id, true);
    emit_picklist(w, "picklists.cancelled", id);
    w.flush_stock_events();
    check_completion(w, idorder);
    Ok(())
}

/// What a shipment request asks for. Everything is optional: the simulator fills in a provider
/// and a generated tracking code, as a label request to a carrier would.
#[derive(Clone, Debug, Default)]
pub struct ShipmentSpec {
    pub idshippingprovider_profile: Option<u64>,
    /// Carrier key (`postnl`, `dhl`, `dpd`) when no profile is given.
    pub carrier: Option<String>,
    /// Tracking codes and weights of the parcels; empty = one generated parcel.
    pub parcels: Vec<(Option<String>, Option<i64>)>,
    pub weight: Option<i64>,
}

/// A public track-and-trace URL in the style of each carrier (the simulator's own invention).
pub fn tracktrace_url(root: &str, carrier: &str, code: &str, country: &str, zip: &str) -> String {
    match carrier {
        "postnl" => format!("https://jouw.postnl.nl/track-and-trace/{code}-{country}-{zip}"),
        "dhl" => format!("https://my.dhlecommerce.nl/home/tracktrace/{code}/{zip}"),
        "dpd" => format!("https://tracking.dpd.de/status/nl_NL/parcel/{code}"),
        _ => format!("{root}/track/{code}"),
    }
}

fn generated_code(carrier: &str, n: u64) -> String {
    match carrier {
        "postnl" => format!("3SSIM{:09}", n % 1_000_000_000),
        "dhl" => format!("JVGL{n:016}"),
        _ => format!("{:014}", 5_000_000_000_000 + n),
    }
}

/// `POST /picklists/{id}/shipments`. Events: picklists.shipments.created (data = shipment),
/// then the order's completion events if this finished it.
pub fn add_shipment(w: &mut World, id: u64, spec: &ShipmentSpec) -> ApiResult<u64> {
    let p = w.picklists.get(&id).cloned().ok_or_else(|| ApiError::not_found("Picklist"))?;
    if p.status == "cancelled" {
        return Err(ApiError::rule("Picklist is cancelled"));
    }
    let wanted_profile = spec.idshippingprovider_profile.or(p.idshippingprovider_profile);
    let provider = match (&spec.carrier, wanted_profile) {
        (Some(carrier), None) => w
            .shipping
            .iter()
            .find(|s| s.carrier_key.eq_ignore_ascii_case(carrier))
            .ok_or_else(|| ApiError::bad_request(format!("Unknown carrier '{carrier}'")))?,
        (_, Some(profile)) => w
            .shipping
            .iter()
            .find(|s| s.profiles.iter().any(|x| x.idshippingprovider_profile == profile))
            .ok_or_else(|| ApiError::bad_request(format!("Unknown shipping provider profile {profile}")))?,
        (None, None) => w.shipping.first().ok_or_else(|| ApiError::rule("No shipping provider configured"))?,
    };
    let profile = wanted_profile
        .and_then(|id| provider.profiles.iter().find(|x| x.idshippingprovider_profile == id))
        .or_else(|| provider.profiles.first())
        .ok_or_else(|| ApiError::rule("Shipping provider has no profile"))?;
    let (provider_id, provider_name, carrier) =
        (provider.idshippingprovider, provider.name.clone(), provider.carrier_key.clone());
    let (profile_id, profile_name) = (profile.idshippingprovider_profile, profile.name.clone());
    let idshipment = w.ids.shipment.take();
    let country = p.delivery.get("deliverycountry").map_or("NL", String::as_str).to_owned();
    let zip: String =
        p.delivery.get("deliveryzipcode").map_or("", String::as_str).chars().filter(|c| !c.is_whitespace()).collect();
    let requested = if spec.parcels.is_empty() { vec![(None, spec.weight)] } else { spec.parcels.clone() };
    let mut parcels = Vec::new();
    for (code, weight) in requested {
        let idparcel = w.ids.parcel.take();
        let code = code.unwrap_or_else(|| generated_code(&carrier, idparcel));
        let url = tracktrace_url(&w.root_url, &carrier, &code, &country, &zip);
        parcels.push(Parcel { idparcel, weight, tracking_code: code, tracking_url: url });
    }
    let line_weight =
        p.lines.iter().fold(0i64, |acc, l| acc.saturating_add(l.weight.unwrap_or(0).saturating_mul(l.amount)));
    let shipment = Shipment {
        idshipment,
        idpicklist: id,
        idorder: p.idorder,
        idshippingprovider: provider_id,
        idshippingprovider_profile: profile_id,
        provider: provider_name,
        profile_name,
        carrier_key: carrier,
        trackingcode: parcels.first().map(|x| x.tracking_code.clone()).unwrap_or_default(),
        tracktraceurl: parcels.first().map(|x| x.tracking_url.clone()).unwrap_or_default(),
        weight: spec.weight.or(Some(line_weight)),
        created: w.now(),
        parcels,
    };
    let data = shipment_json(w, &shipment);
    w.shipments.insert(idshipment, shipment);
    if let Some(p) = w.picklists.get_mut(&id) {
        p.shipments.push(idshipment);
    }
    w.emit("picklists.shipments.created", data);
    check_completion(w, p.idorder);
    Ok(idshipment)
}
