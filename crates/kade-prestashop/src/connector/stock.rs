//! Stock: Picqer is master. A product's sellable figure (the shop's formula over Picqer's
//! warehouses) is written to the matching stock row — product or combination, found by its
//! reference = productcode — only where the shop's value differs.
//!
//! Rows Kade never writes: the total row (`id_product_attribute = 0`) of a product with
//! combinations (PrestaShop recomputes it as their sum) and rows with `depends_on_stock = 1`
//! (advanced stock management derives those).

use std::collections::{BTreeMap, BTreeSet};

use crate::{Object, StockAvailable};
use kade_core::ids::ProductId;
use kade_core::prestashop::{WarehouseStock, stock_writes};
use kade_picqer::types::{Product, ProductFilter};
use kade_store::AuditEntry;
use serde::Serialize;

use futures_util::StreamExt as _;

use super::PrestaShop;
use kade_engine::JobError;
use kade_engine::picqer::PicqerConnection;

/// Stock writes a full sync keeps in flight. PrestaShop has no bulk stock endpoint, so each
/// differing row is one PUT; a few at a time shortens a large sync without loading a small
/// shared host the way an unbounded burst would.
const SHOP_WRITES_IN_FLIGHT: usize = 4;

/// What a full stock sync did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StockReport {
    pub picqer_products: usize,
    pub shop_rows: usize,
    pub matched: usize,
    pub written: usize,
    pub unchanged: usize,
    /// Shop references with no Picqer product.
    pub unknown: usize,
    /// Total rows of products with combinations and `depends_on_stock` rows.
    pub skipped: usize,
}

impl PrestaShop {
    fn sellable(&self, p: &Product) -> i64 {
        let stock: Vec<WarehouseStock> = p
            .stock
            .iter()
            .map(|s| WarehouseStock { warehouse: s.idwarehouse.0, free: s.freestock, allocated: s.reservedallocations })
            .collect();
        self.settings.stock_formula.sellable(&stock)
    }

    /// Rows to leave alone: totals of products with combinations, and derived rows.
    fn writable(rows: &[(StockAvailable, Object)]) -> impl Fn(&StockAvailable) -> bool {
        let with_combos: BTreeSet<u64> =
            rows.iter().filter(|(s, _)| s.id_product_attribute != 0).map(|(s, _)| s.id_product).collect();
        move |s: &StockAvailable| {
            let combination_total = s.id_product_attribute == 0 && with_combos.contains(&s.id_product);
            !s.depends_on_stock && !combination_total
        }
    }

    async fn put_quantity(&self, row: &Object, id: u64, quantity: i64) -> Result<(), JobError> {
        let mut row = row.clone();
        row.set("quantity", quantity.to_string());
        self.client.put_object("stock_availables", id, &row, &[]).await?;
        Ok(())
    }

    /// One product after a Picqer stock event.
    pub(crate) async fn stock_product(
        &self,
        picqer: &PicqerConnection,
        idproduct: u64,
    ) -> Result<AuditEntry, JobError> {
        // The mirror is current: this job was queued by the product's own refresh, after it wrote
        // the mirror (principle 5: read what Kade already knows). Picqer only when it lacks it.
        let mirrored = self.store.product(&self.settings.picqer, idproduct as i64).await?;
        let product = match mirrored.and_then(|m| serde_json::from_value::<Product>(m.data).ok()) {
            Some(p) => p,
            None => picqer.client().product(ProductId(idproduct)).await?,
        };
        let entity = kade_core::dedupe::entity_key(&self.settings.picqer, "product", idproduct);
        let want = self.sellable(&product);
        let matches = self.client.find_by_reference(&product.productcode).await?;
        let mut written = Vec::new();
        for m in &matches {
            let rows = self.client.stock_rows_of(m.id_product).await?;
            let ok = Self::writable(&rows);
            for (s, obj) in rows.iter().filter(|(s, _)| s.id_product_attribute == m.id_product_attribute) {
                if !ok(s) {
                    continue;
                }
                if s.quantity != want {
                    self.put_quantity(obj, s.id, want).await?;
                    written.push(serde_json::json!({"stock_available": s.id, "from": s.quantity, "to": want}));
                }
            }
        }
        let detail = serde_json::json!({
            "productcode": product.productcode, "sellable": want, "shop_matches": matches.len(), "written": written,
        });
        let action = if matches.is_empty() {
            "stock: no shop product with this reference"
        } else if written.is_empty() {
            "stock: shop already right"
        } else {
            "stock: shop updated"
        };
        Ok(self.entry(Some(entity), action, detail))
    }

    /// Every product: Picqer's catalogue in pages of 100 (stock included), the shop's products,
    /// combinations and stock rows in large pages, then one PUT per row that differs.
    pub async fn stock_full(&self, picqer: &PicqerConnection) -> Result<StockReport, JobError> {
        // Both sides are read at once: neither depends on the other.
        let picqer_side = picqer.client().products(&ProductFilter::default()).collect_all();
        let shop_side = async {
            Ok::<_, crate::PrestaError>((self.client.sellables().await?, self.client.stock_availables().await?))
        };
        let (products, shop) = tokio::join!(picqer_side, shop_side);
        let (products, (sellables, rows)) = (products?, shop?);
        let wanted_by_code: BTreeMap<&str, i64> =
            products.iter().map(|p| (p.productcode.as_str(), self.sellable(p))).collect();
        let ok = Self::writable(&rows);
        let by_key: BTreeMap<(u64, u64), &(StockAvailable, Object)> =
            rows.iter().map(|r| ((r.0.id_product, r.0.id_product_attribute), r)).collect();
        let mut report =
            StockReport { picqer_products: products.len(), shop_rows: rows.len(), ..StockReport::default() };
        let (mut current, mut wanted) = (BTreeMap::new(), BTreeMap::new());
        for s in &sellables {
            let Some(row) = by_key.get(&(s.id_product, s.id_product_attribute)) else { continue };
            if !ok(&row.0) {
                report.skipped += 1;
                continue;
            }
            let Some(want) = wanted_by_code.get(s.reference.as_str()) else {
                report.unknown += 1;
                continue;
            };
            report.matched += 1;
            current.insert(row.0.id, row.0.quantity);
            wanted.insert(row.0.id, *want);
        }
        let writes = stock_writes(&current, &wanted);
        report.unchanged = report.matched - writes.len();
        let by_id: BTreeMap<u64, &Object> = rows.iter().map(|(s, o)| (s.id, o)).collect();
        let puts = writes.into_iter().filter_map(|(id, q)| by_id.get(&id).map(|obj| self.put_quantity(obj, id, q)));
        let mut puts = futures_util::stream::iter(puts).buffer_unordered(SHOP_WRITES_IN_FLIGHT);
        while let Some(done) = puts.next().await {
            done?;
            report.written += 1;
        }
        self.log(&[format!("{}/stock", self.name())], "stock full sync", serde_json::json!(report)).await;
        Ok(report)
    }
}
