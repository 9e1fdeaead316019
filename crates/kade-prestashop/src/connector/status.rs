//! Status back: a Picqer order's status drives the shop order's state through the mapping
//! table, and its shipments' tracking codes go into the shop's order carrier.
//!
//! Both are applied as "the current state of the Picqer order" (principle 2): the handler
//! re-reads the order, so any number of events, in any order, converge on the same result, and
//! nothing is written when the shop already shows it.

use kade_core::ids::{OrderId, PicklistId};
use kade_core::prestashop::map_status;
use kade_store::AuditEntry;

use super::PrestaShop;
use kade_engine::JobError;
use kade_engine::picqer::PicqerConnection;

/// `tracking_number` holds at most 64 characters in PrestaShop.
const TRACKING_MAX: usize = 64;

/// Joins tracking codes with ", " as far as they fit in 64 characters.
pub(crate) fn join_codes(codes: &[String]) -> String {
    let mut out = String::new();
    for code in codes {
        let next = if out.is_empty() { code.clone() } else { format!("{out}, {code}") };
        if next.len() > TRACKING_MAX {
            break;
        }
        out = next;
    }
    out
}

impl PrestaShop {
    pub(crate) async fn status_back(&self, picqer: &PicqerConnection, idorder: u64) -> Result<AuditEntry, JobError> {
        let Some(id) = self.shop_order_of(idorder).await? else {
            return Ok(self.entry(
                None,
                "status back: not an order of this shop",
                serde_json::json!({"idorder": idorder}),
            ));
        };
        let entities = self.both(id, idorder);
        let porder = picqer.client().order(OrderId(idorder)).await?;
        let order = self.client.order(id).await?;
        let status = porder.status.as_str().to_owned();
        let mut detail = serde_json::json!({"id_order": id, "idorder": idorder, "picqer_status": status, "state": order.current_state});
        // A status no rule can name (one Picqer adds later) maps to nothing.
        let mapped = status.parse().ok().and_then(|st| map_status(&self.settings.status_map, order.current_state, st));
        if let Some(new_state) = mapped {
            self.client.add_order_history(id, new_state, self.settings.send_status_email).await?;
            detail["new_state"] = new_state.into();
            self.log(&entities, "status back: shop state changed", detail.clone()).await;
        }
        // Shipments of every picklist: partial deliveries (several picklists or parcels) all count.
        let mut shipments = Vec::new();
        for p in &porder.picklists {
            shipments.extend(
                picqer.client().shipments(PicklistId(p.idpicklist.0)).await?.into_iter().filter(|s| !s.cancelled),
            );
        }
        if !shipments.is_empty() {
            detail["tracking"] = self.write_tracking(id, &entities, &shipments).await?;
        }
        Ok(self.entry(Some(self.order_entity(id)), "status back", detail))
    }

    /// Puts the tracking codes on the order carrier whose carrier name equals the Picqer
    /// shipping provider's name exactly (case-sensitive). The order carrier is read whole and
    /// PUT back whole, so no other field is wiped.
    async fn write_tracking(
        &self,
        id: u64,
        entities: &[String],
        shipments: &[kade_picqer::types::Shipment],
    ) -> Result<serde_json::Value, JobError> {
        let carriers = self.client.carriers().await?;
        let mut rows = self.client.order_carriers(id).await?;
        let mut results = Vec::new();
        let mut providers: Vec<String> = shipments.iter().filter_map(|s| s.provider.clone()).collect();
        providers.dedup();
        for provider in providers {
            let mut codes: Vec<String> = Vec::new();
            for s in shipments.iter().filter(|s| s.provider.as_deref() == Some(provider.as_str())) {
                let parcel_codes: Vec<String> =
                    s.parcels.iter().filter_map(|p| p.tracking_code.clone()).filter(|c| !c.is_empty()).collect();
                if parcel_codes.is_empty() {
                    codes.extend(s.trackingcode.clone().filter(|c| !c.is_empty()));
                } else {
                    codes.extend(parcel_codes);
                }
            }
            codes.dedup();
            let carrier_name = |row: &crate::Object| {
                let idc: u64 = row.get("id_carrier").and_then(|v| v.parse().ok()).unwrap_or(0);
                carriers.iter().find(|c| c.id == idc).map(|c| c.name.clone()).unwrap_or_default()
            };
            let Some(row) = rows.iter_mut().find(|r| carrier_name(r) == provider) else {
                let shop_names: Vec<String> = rows.iter().map(carrier_name).collect();
                let detail = serde_json::json!({
                    "picqer_provider": provider, "shop_carriers": shop_names, "codes": codes,
                    "why": "carriers are matched by exact, case-sensitive name",
                });
                self.log(entities, "tracking not written: no shop carrier with this exact name", detail.clone()).await;
                results.push(detail);
                continue;
            };
            let joined = join_codes(&codes);
            if joined.is_empty() || row.get("tracking_number") == Some(joined.as_str()) {
                results.push(serde_json::json!({"provider": provider, "tracking_number": joined, "written": false}));
                continue;
            }
            let row_id: u64 = row.get("id").and_then(|v| v.parse().ok()).unwrap_or(0);
            row.set("tracking_number", joined.clone());
            let query: Vec<(&str, String)> =
                if self.settings.send_status_email { vec![("sendemail", "1".into())] } else { vec![] };
            self.client.put_object("order_carriers", row_id, row, &query).await?;
            let detail = serde_json::json!({"provider": provider, "tracking_number": joined, "order_carrier": row_id, "written": true});
            self.log(entities, "tracking written to the shop", detail.clone()).await;
            results.push(detail);
        }
        Ok(serde_json::Value::Array(results))
    }
}

#[cfg(test)]
mod tests {
    use super::join_codes;

    #[test]
    fn codes_are_joined_within_64_characters() {
        assert_eq!(join_codes(&["A".into(), "B".into()]), "A, B");
        let long: Vec<String> = (0..10).map(|i| format!("3SABCD{i:08}")).collect();
        let joined = join_codes(&long);
        assert!(joined.len() <= 64 && joined.starts_with("3SABCD00000000, 3SABCD00000001"), "{joined}");
    }
}
