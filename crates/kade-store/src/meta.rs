//! Connections, installed hooks, scheduler ticks, the audit log and the link table: the small
//! bookkeeping tables around the queue.

use sqlx::types::Json;

use crate::backend::now_ms;
use crate::records::{AuditEntry, ConnectionRecord, HookRecord, Link};
use crate::{Store, StoreError};

impl Store {
    /// Creates or replaces the connection named `c.name`.
    pub async fn put_connection(&self, c: &ConnectionRecord) -> Result<(), StoreError> {
        writer!(self, |db| {
            sqlx::query(
                "INSERT INTO connections (name, kind, settings, secrets_enc, state, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, settings = excluded.settings, \
             secrets_enc = excluded.secrets_enc, state = excluded.state, updated_ms = excluded.updated_ms",
            )
            .bind(&c.name)
            .bind(&c.kind)
            .bind(Json(&c.settings))
            .bind(&c.secrets_enc)
            .bind(&c.state)
            .bind(c.updated_ms)
            .execute(db)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    pub async fn connection(&self, name: &str) -> Result<Option<ConnectionRecord>, StoreError> {
        reader!(self, |db| {
            let row = sqlx::query(
                "SELECT name, kind, settings, secrets_enc, state, updated_ms FROM connections WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(db)
            .await?;
            Ok(row.as_ref().map(crate::decode::connection).transpose()?)
        })
    }

    /// All connections, by name.
    pub async fn connections(&self) -> Result<Vec<ConnectionRecord>, StoreError> {
        reader!(self, |db| {
            let rows = sqlx::query(
                "SELECT name, kind, settings, secrets_enc, state, updated_ms FROM connections ORDER BY name",
            )
            .fetch_all(db)
            .await?;
            Ok(rows.iter().map(crate::decode::connection).collect::<Result<_, _>>()?)
        })
    }

    /// Disconnect: the credentials are erased and the state becomes "disconnected"; the row (and
    /// the mirror, links and history that refer to it) stays.
    pub async fn clear_connection_secrets(&self, name: &str) -> Result<(), StoreError> {
        let changed = writer!(self, |db| sqlx::query(
            "UPDATE connections SET secrets_enc = NULL, state = 'disconnected', updated_ms = $2 WHERE name = $1",
        )
        .bind(name)
        .bind(now_ms())
        .execute(db)
        .await?
        .rows_affected());
        if changed == 0 {
            return Err(StoreError::NotFound { what: "connection", key: name.to_string() });
        }
        Ok(())
    }

    /// Creates or replaces the hook `(h.connection, h.idhook)`. `last_event_ms` keeps the later of
    /// the stored and the given value, so re-saving a hook never forgets when it last delivered.
    pub async fn put_hook(&self, h: &HookRecord) -> Result<(), StoreError> {
        writer!(self, |db| sqlx::query(
            "INSERT INTO hooks (connection, idhook, event, address, secret_enc, active, last_event_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (connection, idhook) DO UPDATE SET event = excluded.event, address = excluded.address, \
             secret_enc = excluded.secret_enc, active = excluded.active, updated_ms = excluded.updated_ms, \
             last_event_ms = CASE WHEN hooks.last_event_ms IS NULL THEN excluded.last_event_ms \
                                  WHEN excluded.last_event_ms IS NULL THEN hooks.last_event_ms \
                                  WHEN excluded.last_event_ms > hooks.last_event_ms THEN excluded.last_event_ms \
                                  ELSE hooks.last_event_ms END",
        )
        .bind(&h.connection)
        .bind(h.idhook)
        .bind(&h.event)
        .bind(&h.address)
        .bind(&h.secret_enc)
        .bind(h.active)
        .bind(h.last_event_ms)
        .bind(h.updated_ms)
        .execute(db)
        .await?
        .rows_affected());
        Ok(())
    }

    /// The connection's hooks, by id.
    pub async fn hooks(&self, connection: &str) -> Result<Vec<HookRecord>, StoreError> {
        reader!(self, |db| {
            let rows = sqlx::query(
                "SELECT connection, idhook, event, address, secret_enc, active, last_event_ms, updated_ms FROM hooks \
                 WHERE connection = $1 ORDER BY idhook",
            )
            .bind(connection)
            .fetch_all(db)
            .await?;
            Ok(rows.iter().map(crate::decode::hook).collect::<Result<_, _>>()?)
        })
    }

    pub async fn delete_hook(&self, connection: &str, idhook: i64) -> Result<(), StoreError> {
        writer!(self, |db| sqlx::query("DELETE FROM hooks WHERE connection = $1 AND idhook = $2")
            .bind(connection)
            .bind(idhook)
            .execute(db)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Records that an event arrived through the hook (moves `last_event_ms` forward only), which
    /// is where the supervisor's back-fill starts after an outage.
    pub async fn touch_hook_event(&self, connection: &str, idhook: i64, at_ms: i64) -> Result<(), StoreError> {
        writer!(self, |db| sqlx::query(
            "UPDATE hooks SET last_event_ms = $3 WHERE connection = $1 AND idhook = $2 \
             AND (last_event_ms IS NULL OR last_event_ms < $3)",
        )
        .bind(connection)
        .bind(idhook)
        .bind(at_ms)
        .execute(db)
        .await?
        .rows_affected());
        Ok(())
    }

    /// True only for the first caller of `(schedule, fire_ms)`, across every process sharing the
    /// database, so a recurring job fires once per tick however many schedulers run.
    pub async fn claim_tick(&self, schedule: &str, fire_ms: i64) -> Result<bool, StoreError> {
        let inserted = writer!(self, |db| sqlx::query(
            "INSERT INTO schedule_ticks (schedule, fire_ms, claimed_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(schedule)
        .bind(fire_ms)
        .bind(now_ms())
        .execute(db)
        .await?
        .rows_affected());
        Ok(inserted == 1)
    }

    /// Appends to the audit log (principle 9).
    pub async fn audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        writer!(self, |db| sqlx::query(
            "INSERT INTO audit (at_ms, connection, entity, action, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(e.at_ms)
        .bind(&e.connection)
        .bind(&e.entity)
        .bind(&e.action)
        .bind(Json(&e.detail))
        .execute(db)
        .await?
        .rows_affected());
        Ok(())
    }

    /// The entity's audit trail, newest first.
    pub async fn audit_for(&self, entity: &str, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        reader!(self, |db| {
            let rows = sqlx::query(
                "SELECT at_ms, connection, entity, action, detail FROM audit \
                 WHERE entity = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(entity)
            .bind(limit)
            .fetch_all(db)
            .await?;
            Ok(rows.iter().map(crate::decode::audit).collect::<Result<_, _>>()?)
        })
    }

    /// The latest audit entries, newest first.
    pub async fn audit_recent(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        reader!(self, |db| {
            let rows =
                sqlx::query("SELECT at_ms, connection, entity, action, detail FROM audit ORDER BY id DESC LIMIT $1")
                    .bind(limit)
                    .fetch_all(db)
                    .await?;
            Ok(rows.iter().map(crate::decode::audit).collect::<Result<_, _>>()?)
        })
    }

    /// Records (or updates the state of) a cross-system identity. One B id per A entity and B
    /// system/kind: linking again replaces it.
    pub async fn link(&self, l: &Link) -> Result<(), StoreError> {
        writer!(self, |db| sqlx::query(
            "INSERT INTO links (a_system, a_kind, a_id, b_system, b_kind, b_id, state, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (a_system, a_kind, a_id, b_system, b_kind) DO UPDATE SET \
             b_id = excluded.b_id, state = excluded.state, updated_ms = excluded.updated_ms",
        )
        .bind(&l.a_system)
        .bind(&l.a_kind)
        .bind(&l.a_id)
        .bind(&l.b_system)
        .bind(&l.b_kind)
        .bind(&l.b_id)
        .bind(&l.state)
        .bind(l.updated_ms)
        .execute(db)
        .await?
        .rows_affected());
        Ok(())
    }

    /// What `(a_system, a_kind, a_id)` is linked to in `b_system`.
    pub async fn linked(
        &self,
        a_system: &str,
        a_kind: &str,
        a_id: &str,
        b_system: &str,
    ) -> Result<Vec<Link>, StoreError> {
        reader!(self, |db| {
            let rows = sqlx::query(
                "SELECT a_system, a_kind, a_id, b_system, b_kind, b_id, state, updated_ms FROM links \
                 WHERE a_system = $1 AND a_kind = $2 AND a_id = $3 AND b_system = $4 ORDER BY b_kind",
            )
            .bind(a_system)
            .bind(a_kind)
            .bind(a_id)
            .bind(b_system)
            .fetch_all(db)
            .await?;
            Ok(rows.iter().map(crate::decode::link).collect::<Result<_, _>>()?)
        })
    }

    /// The reverse lookup: which `a_system` entities are linked to `(b_system, b_kind, b_id)`.
    /// A Picqer status change arrives with the Picqer id; this finds the shop order it belongs to.
    pub async fn links_to(
        &self,
        b_system: &str,
        b_kind: &str,
        b_id: &str,
        a_system: &str,
    ) -> Result<Vec<Link>, StoreError> {
        reader!(self, |db| {
            let rows = sqlx::query(
                "SELECT a_system, a_kind, a_id, b_system, b_kind, b_id, state, updated_ms FROM links \
                 WHERE b_system = $1 AND b_kind = $2 AND b_id = $3 AND a_system = $4 ORDER BY a_kind, a_id",
            )
            .bind(b_system)
            .bind(b_kind)
            .bind(b_id)
            .bind(a_system)
            .fetch_all(db)
            .await?;
            Ok(rows.iter().map(crate::decode::link).collect::<Result<_, _>>()?)
        })
    }
}
