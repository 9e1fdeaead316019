//! The local mirror of a Picqer account: products with stock per warehouse, small reference
//! resources (warehouses, tags, VAT groups...) and the state of each sync.
//!
//! Principle 2: webhooks and polls arrive out of order, so a product write carries a version and
//! is applied only if it is at least as new as what is stored. An equal version overwrites, so a
//! re-read of the same state (a full sync after an event) still refreshes the row.
//!
//! Versions are milliseconds on one scale for every writer (the engine's catalogue module says
//! how reads and webhook bodies are mapped onto it). A write from a webhook body covers a whole
//! second, so it uses [`Store::upsert_product_if_before`]: written only when the stored version
//! lies before that second, and otherwise told the stored version, so the caller can tell
//! "stored is newer" from "stored is within the same second" (ambiguous order).

use std::collections::HashMap;

use serde_json::Value;
use sqlx::types::Json;

use crate::backend::now_ms;
use crate::records::{MirrorProduct, MirrorStock, SyncState};

/// Result of [`Store::upsert_product_if_before`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionedWrite {
    Written,
    /// Not written: the stored row's version was at or after the bound.
    Kept {
        stored_version: i64,
    },
}
use crate::{Store, StoreError};

/// Products written per transaction by [`Store::upsert_products`]: one Picqer page.
const BATCH: usize = 100;

/// Writes one product and, if it was newer, replaces its stock rows; yields whether it wrote.
/// A macro so the same statements run on either backend's transaction.
/// The row is written when the stored version is below `$below` (`p.version + 1` for the
/// at-least-as-new rule).
macro_rules! write_product {
    ($tx:ident, $connection:expr, $p:expr, $now:expr) => {{
        let p: &MirrorProduct = $p;
        write_product!($tx, $connection, p, $now, p.version.saturating_add(1))
    }};
    ($tx:ident, $connection:expr, $p:expr, $now:expr, $below:expr) => {{
        let p: &MirrorProduct = $p;
        let below: i64 = $below;
        let written = sqlx::query(
            "INSERT INTO products \
             (connection, idproduct, productcode, name, barcode, active, version, data, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (connection, idproduct) DO UPDATE SET \
             productcode = excluded.productcode, name = excluded.name, \
             barcode = excluded.barcode, active = excluded.active, version = excluded.version, data = excluded.data, \
             updated_ms = excluded.updated_ms \
             WHERE products.version < $10",
        )
        .bind($connection)
        .bind(p.idproduct)
        .bind(&p.productcode)
        .bind(&p.name)
        .bind(&p.barcode)
        .bind(p.active)
        .bind(p.version)
        .bind(Json(&p.data))
        .bind($now)
        .bind(below)
        .execute(&mut *$tx)
        .await?
        .rows_affected()
            == 1;
        if written {
            sqlx::query("DELETE FROM product_stock WHERE connection = $1 AND idproduct = $2")
                .bind($connection)
                .bind(p.idproduct)
                .execute(&mut *$tx)
                .await?;
            for s in &p.stock {
                sqlx::query(
                    "INSERT INTO product_stock (connection, idproduct, idwarehouse, stock, reserved, freestock) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind($connection)
                .bind(p.idproduct)
                .bind(s.idwarehouse)
                .bind(s.stock)
                .bind(s.reserved)
                .bind(s.freestock)
                .execute(&mut *$tx)
                .await?;
            }
        }
        written
    }};
}

/// Attaches stock rows `(idproduct, stock)` to their products, ordered by warehouse.
pub(crate) fn attach_stock(mut products: Vec<MirrorProduct>, stock: Vec<(i64, MirrorStock)>) -> Vec<MirrorProduct> {
    let mut by_product: HashMap<i64, Vec<MirrorStock>> = HashMap::new();
    for (idproduct, s) in stock {
        by_product.entry(idproduct).or_default().push(s);
    }
    for p in &mut products {
        p.stock = by_product.remove(&p.idproduct).unwrap_or_default();
    }
    products
}

impl Store {
    /// Writes the product if there is none yet or `p.version` is at least the stored version.
    /// Returns whether it was written.
    pub async fn upsert_product(&self, connection: &str, p: &MirrorProduct) -> Result<bool, StoreError> {
        let now = now_ms();
        Ok(transaction!(self, |tx| write_product!(tx, connection, p, now)))
    }

    /// Writes `p` if there is none yet or the stored version is below `below` (which is at most
    /// `p.version`); otherwise writes nothing and returns the stored version. One transaction,
    /// so the answer describes the row as it was when the write was refused.
    pub async fn upsert_product_if_before(
        &self,
        connection: &str,
        p: &MirrorProduct,
        below: i64,
    ) -> Result<VersionedWrite, StoreError> {
        if below > p.version {
            return Err(StoreError::Invalid(format!("bound {below} lies after the version {}", p.version)));
        }
        let now = now_ms();
        Ok(transaction!(self, |tx| {
            if write_product!(tx, connection, p, now, below) {
                VersionedWrite::Written
            } else {
                let stored: i64 =
                    sqlx::query_scalar("SELECT version FROM products WHERE connection = $1 AND idproduct = $2")
                        .bind(connection)
                        .bind(p.idproduct)
                        .fetch_one(&mut *tx)
                        .await?;
                VersionedWrite::Kept { stored_version: stored }
            }
        }))
    }

    /// Batch form of [`Store::upsert_product`] (same version rule), one transaction per 100
    /// products so a full sync commits page by page. Returns how many were written.
    pub async fn upsert_products(&self, connection: &str, ps: &[MirrorProduct]) -> Result<u64, StoreError> {
        let now = now_ms();
        let mut written = 0;
        for page in ps.chunks(BATCH) {
            written += transaction!(self, |tx| {
                let mut n = 0u64;
                for p in page {
                    if write_product!(tx, connection, p, now) {
                        n += 1;
                    }
                }
                n
            });
        }
        Ok(written)
    }

    pub async fn product(&self, connection: &str, idproduct: i64) -> Result<Option<MirrorProduct>, StoreError> {
        reader!(self, |db| {
            let Some(row) = sqlx::query(concat!(
                "SELECT ",
                product_cols!(),
                " FROM products WHERE connection = $1 AND idproduct = $2"
            ))
            .bind(connection)
            .bind(idproduct)
            .fetch_optional(db)
            .await?
            else {
                return Ok(None);
            };
            let product = crate::decode::product(&row)?;
            let stock = sqlx::query(
                "SELECT idproduct, idwarehouse, stock, reserved, freestock FROM product_stock \
                 WHERE connection = $1 AND idproduct = $2 ORDER BY idwarehouse",
            )
            .bind(connection)
            .bind(idproduct)
            .fetch_all(db)
            .await?;
            let stock = stock.iter().map(crate::decode::stock).collect::<Result<Vec<_>, _>>()?;
            Ok(attach_stock(vec![product], stock).pop())
        })
    }

    /// Products with this exact product code (Picqer does not enforce uniqueness), by id.
    pub async fn product_by_code(&self, connection: &str, productcode: &str) -> Result<Vec<MirrorProduct>, StoreError> {
        reader!(self, |db| {
            let rows = sqlx::query(concat!(
                "SELECT ",
                product_cols!(),
                " FROM products WHERE connection = $1 AND productcode = $2 ORDER BY idproduct"
            ))
            .bind(connection)
            .bind(productcode)
            .fetch_all(db)
            .await?;
            let products = rows.iter().map(crate::decode::product).collect::<Result<Vec<_>, _>>()?;
            let stock = sqlx::query(
                "SELECT s.idproduct, s.idwarehouse, s.stock, s.reserved, s.freestock FROM product_stock s \
                 JOIN products p ON p.connection = s.connection AND p.idproduct = s.idproduct \
                 WHERE p.connection = $1 AND p.productcode = $2 ORDER BY s.idwarehouse",
            )
            .bind(connection)
            .bind(productcode)
            .fetch_all(db)
            .await?;
            let stock = stock.iter().map(crate::decode::stock).collect::<Result<Vec<_>, _>>()?;
            Ok(attach_stock(products, stock))
        })
    }

    pub async fn count_products(&self, connection: &str) -> Result<i64, StoreError> {
        Ok(reader!(self, |db| sqlx::query_scalar("SELECT COUNT(*) FROM products WHERE connection = $1")
            .bind(connection)
            .fetch_one(db)
            .await?))
    }

    /// Stores a reference resource (`kind` "warehouse", "tag", "vatgroup"... any short name) as
    /// its JSON, replacing the previous copy.
    pub async fn put_reference(&self, connection: &str, kind: &str, id: i64, data: Value) -> Result<(), StoreError> {
        if kind.is_empty() {
            return Err(StoreError::Invalid("reference kind must not be empty".into()));
        }
        writer!(self, |db| sqlx::query(
            "INSERT INTO mirror_refs (connection, kind, id, data, updated_ms) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (connection, kind, id) DO UPDATE SET data = excluded.data, updated_ms = excluded.updated_ms",
        )
        .bind(connection)
        .bind(kind)
        .bind(id)
        .bind(Json(&data))
        .bind(now_ms())
        .execute(db)
        .await?
        .rows_affected());
        Ok(())
    }

    /// All stored resources of one kind, by id.
    pub async fn references(&self, connection: &str, kind: &str) -> Result<Vec<Value>, StoreError> {
        reader!(self, |db| {
            let rows = sqlx::query("SELECT data FROM mirror_refs WHERE connection = $1 AND kind = $2 ORDER BY id")
                .bind(connection)
                .bind(kind)
                .fetch_all(db)
                .await?;
            Ok(rows.iter().map(|r| crate::backend::Cols::json(r, "data")).collect::<Result<_, _>>()?)
        })
    }

    /// Creates or replaces the state of sync `(s.connection, s.name)`.
    pub async fn put_sync_state(&self, s: &SyncState) -> Result<(), StoreError> {
        writer!(self, |db| sqlx::query(
            "INSERT INTO sync_state (connection, name, cursor, status, items, last_run_ms, last_error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (connection, name) DO UPDATE SET cursor = excluded.cursor, status = excluded.status, \
             items = excluded.items, last_run_ms = excluded.last_run_ms, last_error = excluded.last_error",
        )
        .bind(&s.connection)
        .bind(&s.name)
        .bind(Json(&s.cursor))
        .bind(&s.status)
        .bind(s.items)
        .bind(s.last_run_ms)
        .bind(&s.last_error)
        .execute(db)
        .await?
        .rows_affected());
        Ok(())
    }

    pub async fn sync_state(&self, connection: &str, name: &str) -> Result<Option<SyncState>, StoreError> {
        reader!(self, |db| {
            let row = sqlx::query(
                "SELECT connection, name, cursor, status, items, last_run_ms, last_error FROM sync_state \
                 WHERE connection = $1 AND name = $2",
            )
            .bind(connection)
            .bind(name)
            .fetch_optional(db)
            .await?;
            Ok(row.as_ref().map(crate::decode::sync_state).transpose()?)
        })
    }
}
