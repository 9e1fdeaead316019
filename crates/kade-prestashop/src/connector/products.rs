//! Products missing in Picqer, created from the shop's data before the order that needs them
//! (name, price excl. VAT, reference as productcode, cover image, the VAT group of the shop's rate; stock
//! starts at 0 so free stock goes negative once the order is allocated), and the VAT group a
//! shop price maps to.

use crate::{Order, OrderRow};
use kade_core::ids::{ProductId, VatGroupId};
use kade_picqer::types::NewProduct;

use super::PrestaShop;
use super::orders::money;
use kade_engine::JobError;
use kade_engine::picqer::PicqerConnection;

/// The tax rate (percent) a shop order row was charged at, from its prices incl. and excl. tax.
pub(super) fn row_rate(row: &OrderRow) -> f64 {
    let incl = row.unit_price_tax_incl.trim().parse::<f64>().unwrap_or(0.0);
    let excl = row.unit_price_tax_excl.trim().parse::<f64>().unwrap_or(0.0);
    if excl > 0.0 { (incl / excl - 1.0) * 100.0 } else { 0.0 }
}

/// The id of the VAT group whose percentage is nearest to `rate` (`groups` as mirrored from
/// Picqer's `/vatgroups`).
pub(super) fn nearest_vat_group(groups: &[serde_json::Value], rate: f64) -> Option<u64> {
    let pct = |g: &serde_json::Value| {
        g.get("percentage").and_then(|p| p.as_f64().or_else(|| p.as_str()?.parse().ok())).unwrap_or(0.0)
    };
    groups
        .iter()
        .filter(|g| g.get("idvatgroup").and_then(serde_json::Value::as_u64).is_some())
        .min_by(|a, b| (pct(a) - rate).abs().total_cmp(&(pct(b) - rate).abs()))
        .and_then(|g| g.get("idvatgroup")?.as_u64())
}

impl PrestaShop {
    /// The Picqer VAT group for a shop tax rate (from the mirrored VAT groups).
    pub(super) async fn vat_group_for(&self, rate: f64) -> Result<u64, JobError> {
        let groups = self.store.references(&self.settings.picqer, "vatgroup").await?;
        // Loaded on every connect: none means the account has none, which a retry will not fix.
        nearest_vat_group(&groups, rate).ok_or_else(|| {
            JobError::permanent(format!(
                "Picqer connection {:?} has no VAT groups; add one in Picqer and restart Kade",
                self.settings.picqer
            ))
        })
    }

    /// Creates a product missing in Picqer from the shop's data, then copies its cover image.
    pub(super) async fn create_product(
        &self,
        picqer: &PicqerConnection,
        order: &Order,
        row: &OrderRow,
    ) -> Result<ProductId, JobError> {
        let rate = row_rate(row);
        let group = self.vat_group_for(rate).await?;
        let product = NewProduct {
            productcode: row.reference.clone(),
            name: if row.name.is_empty() { row.reference.clone() } else { row.name.clone() },
            // Picqer's product price excludes VAT (its VAT group adds it).
            price: money(&row.unit_price_tax_excl).unwrap_or_default(),
            idvatgroup: VatGroupId(group),
            fixedstockprice: None,
            barcode: None,
            weight: None,
            description: None,
            idsupplier: None,
            productcode_supplier: None,
            kind: None,
        };
        // A retry after a dropped answer finds the product by code instead of making a second.
        let created = match picqer.client().create_product(&product).await {
            Ok(p) => p.idproduct,
            Err(e) if matches!(e.class(), kade_picqer::ErrorClass::Transient) => return Err(e.into()),
            Err(e) => match picqer.client().products_by_code(&row.reference).await?.first() {
                Some(p) => p.idproduct,
                None => return Err(e.into()),
            },
        };
        let entities =
            [self.order_entity(order.id), kade_core::dedupe::entity_key(&self.settings.picqer, "product", created.0)];
        let detail = serde_json::json!({"productcode": row.reference, "idproduct": created.0, "vat_rate": rate, "idvatgroup": group});
        self.log(&entities, "product created in Picqer (missing)", detail).await;
        self.copy_image(picqer, row, created, &entities).await?;
        Ok(created)
    }

    /// Copies the shop product's cover image to the new Picqer product, unless the product
    /// already has one (a retry). A file Picqer refuses is logged, not fatal: the order matters
    /// more than the picture. Transient failures retry the job.
    async fn copy_image(
        &self,
        picqer: &PicqerConnection,
        row: &OrderRow,
        idproduct: ProductId,
        entities: &[String],
    ) -> Result<(), JobError> {
        if row.product_id == 0 {
            return Ok(());
        }
        let Some(image) = self.client.product_image(row.product_id).await? else { return Ok(()) };
        if !picqer.client().product_images(idproduct).await?.is_empty() {
            return Ok(());
        }
        match picqer.client().add_product_image(idproduct, &image.bytes).await {
            Ok(added) => {
                let detail = serde_json::json!({
                    "idproduct": idproduct.0, "id_product": row.product_id, "id_image": image.id_image,
                    "idproduct_image": added.idproduct_image, "bytes": image.bytes.len(),
                });
                self.log(entities, "product image copied to Picqer", detail).await;
                Ok(())
            }
            Err(e) if matches!(e.class(), kade_picqer::ErrorClass::Transient) => Err(e.into()),
            Err(e) => {
                let detail =
                    serde_json::json!({"idproduct": idproduct.0, "id_product": row.product_id, "error": e.to_string()});
                self.log(entities, "product image not copied (Picqer refused it)", detail).await;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_rate_wins() {
        let groups = vec![
            serde_json::json!({"idvatgroup": 201, "percentage": 21.0}),
            serde_json::json!({"idvatgroup": 202, "percentage": "9.00"}),
            serde_json::json!({"idvatgroup": 203, "percentage": 0}),
        ];
        assert_eq!(nearest_vat_group(&groups, 20.999), Some(201));
        assert_eq!(nearest_vat_group(&groups, 9.01), Some(202));
        assert_eq!(nearest_vat_group(&groups, 0.0), Some(203));
        assert_eq!(nearest_vat_group(&[], 21.0), None);
        let row = |incl: &str, excl: &str| OrderRow {
            id: 1,
            product_id: 1,
            product_attribute_id: 0,
            quantity: 1,
            name: String::new(),
            reference: String::new(),
            unit_price_tax_incl: incl.into(),
            unit_price_tax_excl: excl.into(),
        };
        assert!((row_rate(&row("10.900000", "10.000000")) - 9.0).abs() < 1e-9);
        assert_eq!(row_rate(&row("5", "0")), 0.0);
    }
}
