//! Reading the whole mirror in pages, for consumers that keep their own in-memory view of the
//! catalogue (the agent's search index). Keyset pagination by `idproduct`, so a scan of a large
//! catalogue costs one index range read per page and never skips or repeats a product, even
//! while syncs write.

use crate::records::MirrorProduct;
use crate::{Store, StoreError};

impl Store {
    /// Up to `limit` products of `connection` with `idproduct > after`, by id, with their stock.
    /// Scan a catalogue by passing the last id of each page as the next `after` until a page
    /// comes back shorter than `limit`.
    pub async fn products_after(
        &self,
        connection: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<MirrorProduct>, StoreError> {
        if limit <= 0 {
            return Err(StoreError::Invalid("limit must be at least 1".into()));
        }
        reader!(self, |db| {
            let rows = sqlx::query(concat!(
                "SELECT ",
                product_cols!(),
                " FROM products WHERE connection = $1 AND idproduct > $2 ORDER BY idproduct LIMIT $3"
            ))
            .bind(connection)
            .bind(after)
            .bind(limit)
            .fetch_all(db)
            .await?;
            let products = rows.iter().map(crate::decode::product).collect::<Result<Vec<_>, _>>()?;
            let Some(last) = products.last().map(|p| p.idproduct) else {
                return Ok(Vec::new());
            };
            let stock = sqlx::query(
                "SELECT idproduct, idwarehouse, stock, reserved, freestock FROM product_stock \
                 WHERE connection = $1 AND idproduct > $2 AND idproduct <= $3 ORDER BY idwarehouse",
            )
            .bind(connection)
            .bind(after)
            .bind(last)
            .fetch_all(db)
            .await?;
            let stock = stock.iter().map(crate::decode::stock).collect::<Result<Vec<_>, _>>()?;
            Ok(crate::mirror::attach_stock(products, stock))
        })
    }
}
