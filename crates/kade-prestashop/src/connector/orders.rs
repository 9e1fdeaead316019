//! Order push: a shop order becomes exactly one Picqer order, and its later shop states drive
//! processing and force-cancellation; plus the polling safety net.
//!
//! Idempotence (principle 4): the Picqer order is looked up by its reference
//! (`PREFIX #id / REFERENCE`) before it is created, so a retry, a duplicate notification, a poll
//! racing a notification, or a crash between "created" and "linked" finds the first order
//! instead of making a second. Notes written back are looked up by their text first, likewise.

use crate::{Order, OrderRow};
use kade_core::Money;
use kade_core::ids::{OrderId, ProductId, TagId, VatGroupId};
use kade_core::prestashop::{OrderAction, decide, order_reference};
use kade_picqer::CancelMode;
use kade_picqer::types::{NewOrder, NewOrderLine, OrderStatus};
use kade_store::AuditEntry;

use super::PrestaShop;
use kade_engine::Engine;
use kade_engine::JobError;
use kade_engine::picqer::PicqerConnection;

/// The marker of Kade's note carrying the Picqer order number.
const NUMBER_NOTE: &str = "Picqer order";
/// Overlap of consecutive polls: `date_upd` has one-second resolution and equal seconds happen.
const POLL_OVERLAP_SECS: i64 = 60;

/// A shop price (decimal text, six decimals) as an exact amount: parsed from the text, never
/// through a float.
pub(super) fn money(text: &str) -> Option<Money> {
    Money::from_decimal_rounded(text).ok()
}

impl PrestaShop {
    /// Brings shop order `id`'s Picqer side in line with its current shop state.
    pub(crate) async fn sync_order(&self, picqer: &PicqerConnection, id: u64) -> Result<AuditEntry, JobError> {
        let order = self.client.order(id).await?;
        let entity = self.order_entity(id);
        let mut linked = self.linked_order(id).await?;
        if linked.is_none() {
            linked = self.find_existing(picqer, &order).await?;
        }
        let action = decide(&self.settings.roles, order.current_state, linked.is_some());
        let detail = serde_json::json!({"id_order": id, "state": order.current_state, "idorder": linked});
        match action {
            OrderAction::Nothing => Ok(self.entry(Some(entity), "order: nothing to do in this state", detail)),
            OrderAction::Create | OrderAction::CreateAndProcess => {
                // `linked` is `None` here: the link table and Picqer (by reference) were asked above.
                let Some(idorder) = self.create(picqer, &order).await? else {
                    return Ok(self.entry(Some(entity), "order: not sent (no line matched a Picqer product)", detail));
                };
                if action == OrderAction::CreateAndProcess {
                    // A new order is a concept; an existing one is read for its status.
                    let fresh = linked.is_none();
                    self.process(picqer, &order, idorder, fresh).await?;
                } else if self.settings.allocate_concept {
                    match picqer.client().allocate_order(OrderId(idorder)).await {
                        Ok(_) => {}
                        Err(e) if e.is_already_processed() => {}
                        Err(e) => return Err(e.into()),
                    }
                    self.log(
                        &self.both(id, idorder),
                        "order: stock allocated (concept)",
                        serde_json::json!({"idorder": idorder}),
                    )
                    .await;
                }
                Ok(self.entry(
                    Some(entity),
                    "order: in Picqer",
                    serde_json::json!({"id_order": id, "idorder": idorder}),
                ))
            }
            OrderAction::Process => {
                let idorder = linked.unwrap_or_default();
                self.process(picqer, &order, idorder, false).await?;
                Ok(self.entry(Some(entity), "order: processing", detail))
            }
            OrderAction::Cancel => {
                let idorder = linked.unwrap_or_default();
                let current = picqer.client().order(OrderId(idorder)).await?;
                if current.status == OrderStatus::Cancelled {
                    return Ok(self.entry(Some(entity), "order: already cancelled in Picqer", detail));
                }
                picqer.client().cancel_order(OrderId(idorder), CancelMode::Force).await?;
                let note = serde_json::json!({"id_order": id, "idorder": idorder, "was": current.status.as_str()});
                self.log(&self.both(id, idorder), "order: force-cancelled in Picqer", note.clone()).await;
                Ok(self.entry(Some(entity), "order: cancelled", note))
            }
        }
    }

    /// The Picqer product with this code: from the mirror (an active one first), from Picqer only
    /// for a code the mirror lacks (a product created since the last sync).
    async fn product_id_by_code(&self, picqer: &PicqerConnection, code: &str) -> Result<Option<ProductId>, JobError> {
        if code.is_empty() {
            return Ok(None);
        }
        let mirrored = self.store.product_by_code(&self.settings.picqer, code).await?;
        let best = mirrored.iter().find(|p| p.active).or(mirrored.first());
        if let Some(p) = best {
            return Ok(Some(ProductId(p.idproduct as u64)));
        }
        Ok(picqer.client().products_by_code(code).await?.first().map(|p| p.idproduct))
    }

    pub(crate) fn both(&self, id: u64, idorder: u64) -> Vec<String> {
        vec![self.order_entity(id), kade_core::dedupe::entity_key(&self.settings.picqer, "order", idorder)]
    }

    /// A Picqer order made earlier for this shop order (a crash before the link was stored).
    async fn find_existing(&self, picqer: &PicqerConnection, order: &Order) -> Result<Option<u64>, JobError> {
        let reference = order_reference(&self.settings.prefix, order.id, &order.reference);
        let found = picqer.client().orders_by_reference(&reference).await?;
        let Some(existing) = found.first() else { return Ok(None) };
        let idorder = existing.idorder.0;
        self.link_order(order.id, idorder, "created").await?;
        self.log(
            &self.both(order.id, idorder),
            "order: found in Picqer by reference",
            serde_json::json!({"reference": reference, "idorder": idorder}),
        )
        .await;
        Ok(Some(idorder))
    }

    /// Sets the Picqer order to processing; `just_created` skips reading its status (a new
    /// order is a concept).
    async fn process(
        &self,
        picqer: &PicqerConnection,
        order: &Order,
        idorder: u64,
        just_created: bool,
    ) -> Result<(), JobError> {
        if !just_created {
            let current = picqer.client().order(OrderId(idorder)).await?;
            if current.status != OrderStatus::Concept && current.status != OrderStatus::Expected {
                return Ok(());
            }
        }
        match picqer.client().process_order(OrderId(idorder)).await {
            Ok(_) => {}
            Err(e) if e.is_already_processed() => {}
            Err(e) => return Err(e.into()),
        }
        self.log(
            &self.both(order.id, idorder),
            "order: set to processing",
            serde_json::json!({"state": order.current_state}),
        )
        .await;
        Ok(())
    }

    /// Creates the Picqer order; `None` when no line matched. The caller has found no linked
    /// and no existing order by reference in this same job (one look-up per job, not two).
    /// Missing products are created first when the shop is set up to.
    async fn create(&self, picqer: &PicqerConnection, order: &Order) -> Result<Option<u64>, JobError> {
        let reference = order_reference(&self.settings.prefix, order.id, &order.reference);
        let entity = self.order_entity(order.id);
        let mut lines = Vec::new();
        let mut missing: Vec<&OrderRow> = Vec::new();
        for row in &order.rows {
            let idproduct = match self.product_id_by_code(picqer, &row.reference).await? {
                Some(id) => Some(id),
                None if self.settings.create_missing_products && !row.reference.is_empty() => {
                    Some(self.create_product(picqer, order, row).await?)
                }
                None => None,
            };
            match idproduct {
                Some(idproduct) => {
                    let mut line = NewOrderLine::by_id(idproduct, row.quantity);
                    if self.settings.use_shop_price {
                        // Picqer prices exclude VAT; the line's VAT group carries the rate the
                        // shop charged (not the product's default group), so Picqer's gross
                        // equals the shop's.
                        line.price = money(&row.unit_price_tax_excl);
                        line.idvatgroup = Some(VatGroupId(self.vat_group_for(super::products::row_rate(row)).await?));
                    }
                    lines.push(line);
                }
                None => missing.push(row),
            }
        }
        let missing_text: Vec<String> =
            missing.iter().map(|r| format!("{} ({}) x{}", r.reference, r.name, r.quantity)).collect();
        if lines.is_empty() {
            let note = format!(
                "Kade: this order was not sent to Picqer: none of its products exist in Picqer: {}",
                missing_text.join(", ")
            );
            self.note_once(order, &note).await?;
            self.log(&[entity], "order: no line matched, not sent", serde_json::json!({"missing": missing_text})).await;
            return Ok(None);
        }
        let new = self.new_order(order, &reference, lines).await?;
        // Not retried on a dropped connection: the next attempt looks the order up by reference.
        let created = match picqer.client().create_order(&new).await {
            Ok(o) => o,
            Err(e) => {
                self.log(
                    &[entity],
                    "order: create failed",
                    serde_json::json!({"reference": reference, "error": e.to_string()}),
                )
                .await;
                return Err(e.into());
            }
        };
        let idorder = created.idorder.0;
        self.link_order(order.id, idorder, "created").await?;
        self.bump_synced().await?;
        self.log(
            &self.both(order.id, idorder),
            "order: created in Picqer",
            serde_json::json!({"reference": reference, "idorder": idorder, "orderid": created.orderid, "id_order": order.id}),
        )
        .await;
        for tag in &self.tag_ids {
            picqer.client().tag_order(OrderId(idorder), TagId(*tag)).await?;
        }
        if !missing.is_empty() {
            let warning =
                format!("Kade: products missing in Picqer, not on the Picqer order: {}", missing_text.join(", "));
            let comments = picqer.client().order_comments(OrderId(idorder)).await?;
            if !comments.iter().any(|c| c.body.as_deref() == Some(warning.as_str())) {
                picqer.client().comment_order(OrderId(idorder), &warning).await?;
            }
            self.note_once(order, &warning).await?;
            self.log(
                &self.both(order.id, idorder),
                "order: lines without a Picqer product",
                serde_json::json!({"missing": missing_text}),
            )
            .await;
        }
        self.note_once(order, &format!("{NUMBER_NOTE} {} (Kade)", created.orderid)).await?;
        Ok(Some(idorder))
    }

    async fn new_order(
        &self,
        order: &Order,
        reference: &str,
        products: Vec<NewOrderLine>,
    ) -> Result<NewOrder, JobError> {
        let customer = self.client.customer(order.id_customer).await?;
        let delivery = self.client.address(order.id_address_delivery).await?;
        let invoice = if order.id_address_invoice == order.id_address_delivery {
            delivery.clone()
        } else {
            self.client.address(order.id_address_invoice).await?
        };
        let delivery_country = self.client.country_iso(delivery.id_country).await?;
        let invoice_country = if invoice.id_country == delivery.id_country {
            delivery_country.clone()
        } else {
            self.client.country_iso(invoice.id_country).await?
        };
        let name = |a: &crate::Address| if a.company.is_empty() { a.full_name() } else { a.company.clone() };
        let street = |a: &crate::Address| {
            [a.address1.as_str(), a.address2.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let phone =
            [&delivery.phone, &delivery.phone_mobile, &invoice.phone].into_iter().find(|p| !p.is_empty()).cloned();
        Ok(NewOrder {
            reference: Some(reference.into()),
            emailaddress: Some(customer.email).filter(|e| !e.is_empty()),
            telephone: phone,
            deliveryname: Some(name(&delivery)),
            deliverycontactname: Some(delivery.full_name()).filter(|_| !delivery.company.is_empty()),
            deliveryaddress: Some(street(&delivery)),
            deliveryzipcode: Some(delivery.postcode.clone()),
            deliverycity: Some(delivery.city.clone()),
            deliverycountry: Some(delivery_country),
            invoicename: Some(name(&invoice)),
            invoiceaddress: Some(street(&invoice)),
            invoicezipcode: Some(invoice.postcode.clone()),
            invoicecity: Some(invoice.city.clone()),
            invoicecountry: Some(invoice_country),
            products,
            ..NewOrder::default()
        })
    }

    /// Adds a private note to the shop order unless the same text is already there.
    pub(crate) async fn note_once(&self, order: &Order, text: &str) -> Result<(), JobError> {
        let (thread, messages) = self.client.order_messages(order.id).await?;
        if messages.iter().any(|m| m.message == text) {
            return Ok(());
        }
        self.client.add_private_note(order, thread, text).await?;
        Ok(())
    }

    /// The safety net: orders changed since the last poll (with an overlap) get an order job,
    /// coalesced with any notification-driven one. The cursor is the shop's own clock
    /// (`date_upd` of what it returned), so clock skew between Kade and the shop is irrelevant.
    pub(crate) async fn poll(&self, engine: &Engine) -> Result<AuditEntry, JobError> {
        let state = self.store.sync_state(self.name(), "poll").await?;
        let from = state
            .as_ref()
            .and_then(|s| s.cursor.get("date_upd")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| "1970-01-01 00:00:00".into());
        let from = shift(&from, -POLL_OVERLAP_SECS);
        let orders = self.client.orders_updated(&from, "9999-12-31 23:59:59").await?;
        let mut newest = from.clone();
        for o in &orders {
            self.enqueue_order(engine, o.id, "poll").await?;
            if o.date_upd > newest {
                newest = o.date_upd.clone();
            }
        }
        let items = state.as_ref().map_or(0, |s| s.items) + orders.len() as i64;
        self.store
            .put_sync_state(&kade_store::SyncState {
                connection: self.name().into(),
                name: "poll".into(),
                cursor: serde_json::json!({"date_upd": newest}),
                status: "done".into(),
                items,
                last_run_ms: kade_engine::now_ms(),
                last_error: None,
            })
            .await?;
        Ok(self.entry(
            None,
            "orders polled",
            serde_json::json!({"from": from, "orders": orders.len(), "cursor": newest}),
        ))
    }
}

/// `Y-m-d H:i:s` moved by `secs` (the text is returned unchanged when it does not parse).
fn shift(datetime: &str, secs: i64) -> String {
    match datetime.parse::<kade_core::PicqerDateTime>() {
        Ok(t) => t.plus_secs(secs).to_string(),
        Err(_) => datetime.to_owned(),
    }
}
