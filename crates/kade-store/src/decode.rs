//! Column lists and row decoders, one per record, shared by both backends through [`Cols`].
//! The column lists are macros so they can be spliced into `concat!` and stay `&'static str`
//! (sqlx 0.9 only accepts static SQL without an explicit `AssertSqlSafe`).

use crate::backend::Cols;
use crate::records::*;

macro_rules! job_cols {
    () => {
        "id, kind, entity_key, payload, priority, attempts, max_attempts, run_at_ms, state, last_error, locked_by, \
         lease_until_ms, created_ms, updated_ms"
    };
}

macro_rules! event_cols {
    () => {
        "id, connection, source, dedupe_key, event, entity_key, headers, body, verified, received_ms, job_id"
    };
}

macro_rules! product_cols {
    () => {
        "idproduct, productcode, name, barcode, active, version, data"
    };
}

pub(crate) fn job(r: &impl Cols) -> sqlx::Result<Job> {
    Ok(Job {
        id: r.i64("id")?,
        kind: r.text("kind")?,
        entity_key: r.opt_text("entity_key")?,
        payload: r.json("payload")?,
        priority: r.i32("priority")?,
        attempts: r.i32("attempts")?,
        max_attempts: r.i32("max_attempts")?,
        run_at_ms: r.i64("run_at_ms")?,
        state: r.text("state")?,
        last_error: r.opt_text("last_error")?,
        locked_by: r.opt_text("locked_by")?,
        lease_until_ms: r.opt_i64("lease_until_ms")?,
        created_ms: r.i64("created_ms")?,
        updated_ms: r.i64("updated_ms")?,
    })
}

pub(crate) fn event(r: &impl Cols) -> sqlx::Result<StoredEvent> {
    Ok(StoredEvent {
        id: r.i64("id")?,
        connection: r.text("connection")?,
        source: r.text("source")?,
        dedupe_key: r.text("dedupe_key")?,
        event: r.text("event")?,
        entity_key: r.opt_text("entity_key")?,
        headers: r.json("headers")?,
        body: r.bytes("body")?,
        verified: r.flag("verified")?,
        received_ms: r.i64("received_ms")?,
        job_id: r.opt_i64("job_id")?,
    })
}

pub(crate) fn connection(r: &impl Cols) -> sqlx::Result<ConnectionRecord> {
    Ok(ConnectionRecord {
        name: r.text("name")?,
        kind: r.text("kind")?,
        settings: r.json("settings")?,
        secrets_enc: r.opt_text("secrets_enc")?,
        state: r.text("state")?,
        updated_ms: r.i64("updated_ms")?,
    })
}

pub(crate) fn audit(r: &impl Cols) -> sqlx::Result<AuditEntry> {
    Ok(AuditEntry {
        at_ms: r.i64("at_ms")?,
        connection: r.opt_text("connection")?,
        entity: r.opt_text("entity")?,
        action: r.text("action")?,
        detail: r.json("detail")?,
    })
}

pub(crate) fn link(r: &impl Cols) -> sqlx::Result<Link> {
    Ok(Link {
        a_system: r.text("a_system")?,
        a_kind: r.text("a_kind")?,
        a_id: r.text("a_id")?,
        b_system: r.text("b_system")?,
        b_kind: r.text("b_kind")?,
        b_id: r.text("b_id")?,
        state: r.text("state")?,
        updated_ms: r.i64("updated_ms")?,
    })
}

/// The product without its stock rows, which live in their own table.
pub(crate) fn product(r: &impl Cols) -> sqlx::Result<MirrorProduct> {
    Ok(MirrorProduct {
        idproduct: r.i64("idproduct")?,
        productcode: r.text("productcode")?,
        name: r.text("name")?,
        barcode: r.opt_text("barcode")?,
        active: r.flag("active")?,
        version: r.i64("version")?,
        data: r.json("data")?,
        stock: Vec::new(),
    })
}

pub(crate) fn stock(r: &impl Cols) -> sqlx::Result<(i64, MirrorStock)> {
    Ok((
        r.i64("idproduct")?,
        MirrorStock {
            idwarehouse: r.i64("idwarehouse")?,
            stock: r.i64("stock")?,
            reserved: r.i64("reserved")?,
            freestock: r.i64("freestock")?,
        },
    ))
}

pub(crate) fn sync_state(r: &impl Cols) -> sqlx::Result<SyncState> {
    Ok(SyncState {
        connection: r.text("connection")?,
        name: r.text("name")?,
        cursor: r.json("cursor")?,
        status: r.text("status")?,
        items: r.i64("items")?,
        last_run_ms: r.i64("last_run_ms")?,
        last_error: r.opt_text("last_error")?,
    })
}

pub(crate) fn hook(r: &impl Cols) -> sqlx::Result<HookRecord> {
    Ok(HookRecord {
        connection: r.text("connection")?,
        idhook: r.i64("idhook")?,
        event: r.text("event")?,
        address: r.text("address")?,
        secret_enc: r.text("secret_enc")?,
        active: r.flag("active")?,
        last_event_ms: r.opt_i64("last_event_ms")?,
        updated_ms: r.i64("updated_ms")?,
    })
}
