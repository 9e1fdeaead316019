//! The automation send log and opt-out list (see `migrations/*/0004_automation.sql`).
//!
//! The send log is the memory that makes "one message per (rule, entity, step)" hold: a row is
//! created when a send is scheduled (`INSERT … ON CONFLICT DO NOTHING`, so duplicates and
//! replays find the existing row), and the *intent* — state `sending` — is committed before the
//! provider is called, only by the caller that moves the row out of `scheduled`. Whoever finds
//! a row in `sending` afterwards knows a send may have happened and must resolve it, never
//! blindly send again.

use serde::{Deserialize, Serialize};

use crate::backend::{Cols, now_ms};
use crate::{Store, StoreError};

/// The states of a send.
pub mod send_state {
    /// Waiting for its due time (a wait, quiet hours).
    pub const SCHEDULED: &str = "scheduled";
    /// The intent is recorded; the provider is (or was, before a crash) being called.
    pub const SENDING: &str = "sending";
    /// The provider accepted it.
    pub const SENT: &str = "sent";
    /// The provider reported delivery (status callback).
    pub const DELIVERED: &str = "delivered";
    /// The provider refused it for good; `error_code` and `reason` say why. Never retried.
    pub const FAILED_PERMANENT: &str = "failed_permanent";
    /// Not sent on purpose (no contact, opted out, cap, conditions no longer hold); see `reason`.
    pub const SKIPPED: &str = "skipped";
    /// The provider call ended without an answer; being resolved by a provider lookup.
    pub const IN_DOUBT: &str = "in_doubt";
    /// The provider cannot tell whether it went out (SMTP, WhatsApp without a callback): not
    /// resent, surfaced for the operator.
    pub const AMBIGUOUS: &str = "ambiguous";
    pub const ALL: [&str; 8] = [SCHEDULED, SENDING, SENT, DELIVERED, FAILED_PERMANENT, SKIPPED, IN_DOUBT, AMBIGUOUS];
}

/// A send to schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSend {
    pub send_key: String,
    pub rule: String,
    pub entity: String,
    pub step: i32,
    pub connection: String,
    pub channel: String,
    pub event: String,
    pub due_ms: i64,
}

/// One row of the send log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRecord {
    pub id: i64,
    pub send_key: String,
    pub rule: String,
    pub entity: String,
    pub step: i32,
    pub connection: String,
    pub channel: String,
    pub state: String,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub provider_id: Option<String>,
    pub error_code: Option<String>,
    pub reason: Option<String>,
    pub event: Option<String>,
    pub due_ms: i64,
    /// When the intent was recorded (the provider call started).
    pub intent_ms: Option<i64>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// Filters for [`Store::sends`]; empty fields match everything.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SendFilter {
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub recipient: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
}

/// A recipient who opted out of a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    pub channel: String,
    pub recipient: String,
    pub reason: Option<String>,
    pub created_ms: i64,
}

macro_rules! send_cols {
    () => {
        "id, send_key, rule, entity, step, connection, channel, state, recipient, subject, body, provider_id, \
         error_code, reason, event, due_ms, intent_ms, created_ms, updated_ms"
    };
}

fn send(r: &impl Cols) -> sqlx::Result<SendRecord> {
    Ok(SendRecord {
        id: r.i64("id")?,
        send_key: r.text("send_key")?,
        rule: r.text("rule")?,
        entity: r.text("entity")?,
        step: r.i32("step")?,
        connection: r.text("connection")?,
        channel: r.text("channel")?,
        state: r.text("state")?,
        recipient: r.opt_text("recipient")?,
        subject: r.opt_text("subject")?,
        body: r.opt_text("body")?,
        provider_id: r.opt_text("provider_id")?,
        error_code: r.opt_text("error_code")?,
        reason: r.opt_text("reason")?,
        event: r.opt_text("event")?,
        due_ms: r.i64("due_ms")?,
        intent_ms: r.opt_i64("intent_ms")?,
        created_ms: r.i64("created_ms")?,
        updated_ms: r.i64("updated_ms")?,
    })
}

/// A provider's outcome for a send that was (possibly) handed over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendOutcome<'a> {
    pub state: &'a str,
    pub provider_id: Option<&'a str>,
    pub error_code: Option<&'a str>,
    pub reason: Option<&'a str>,
}

impl Store {
    /// Records a scheduled send, or returns the row that already exists for its key (a
    /// duplicate webhook, a replay): either way, the current row.
    pub async fn schedule_send(&self, s: &NewSend) -> Result<SendRecord, StoreError> {
        let now = now_ms();
        writer!(self, |db| sqlx::query(
            "INSERT INTO automation_sends (send_key, rule, entity, step, connection, channel, state, event, due_ms, \
             created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, 'scheduled', $7, $8, $9, $9) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&s.send_key)
        .bind(&s.rule)
        .bind(&s.entity)
        .bind(s.step)
        .bind(&s.connection)
        .bind(&s.channel)
        .bind(&s.event)
        .bind(s.due_ms)
        .bind(now)
        .execute(db)
        .await?
        .rows_affected());
        self.send_by_key(&s.send_key)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "automation send", key: s.send_key.clone() })
    }

    /// The send with this key.
    pub async fn send_by_key(&self, key: &str) -> Result<Option<SendRecord>, StoreError> {
        reader!(self, |db| {
            let row = sqlx::query(concat!("SELECT ", send_cols!(), " FROM automation_sends WHERE send_key = $1"))
                .bind(key)
                .fetch_optional(db)
                .await?;
            Ok(row.as_ref().map(send).transpose()?)
        })
    }

    /// The send a provider knows by `provider_id` (status callbacks without our key).
    pub async fn send_by_provider_id(&self, provider_id: &str) -> Result<Option<SendRecord>, StoreError> {
        reader!(self, |db| {
            let row = sqlx::query(concat!(
                "SELECT ",
                send_cols!(),
                " FROM automation_sends WHERE provider_id = $1 ORDER BY id LIMIT 1"
            ))
            .bind(provider_id)
            .fetch_optional(db)
            .await?;
            Ok(row.as_ref().map(send).transpose()?)
        })
    }

    /// Moves a scheduled send to `sending` with what is about to be sent, committed. True only
    /// for the one caller that made the move: that caller, and nobody else, calls the provider.
    pub async fn record_intent(
        &self,
        key: &str,
        recipient: &str,
        subject: Option<&str>,
        body: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = writer!(self, |db| {
            sqlx::query(
            "UPDATE automation_sends SET state = 'sending', recipient = $2, subject = $3, body = $4, intent_ms = $5, \
             updated_ms = $5 WHERE send_key = $1 AND state = 'scheduled'",
        )
        .bind(key)
        .bind(recipient)
        .bind(subject)
        .bind(body)
        .bind(now_ms)
        .execute(db)
        .await?
        .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Moves a send from state `from` to the outcome. False when it was not in `from` (someone
    /// else, e.g. a status callback, got there first).
    pub async fn finish_send(&self, key: &str, from: &str, to: &SendOutcome<'_>) -> Result<bool, StoreError> {
        if !send_state::ALL.contains(&to.state) {
            return Err(StoreError::Invalid(format!("unknown send state {:?}", to.state)));
        }
        let changed = writer!(self, |db| sqlx::query(
            "UPDATE automation_sends SET state = $3, provider_id = COALESCE($4, provider_id), \
             error_code = COALESCE($5, error_code), reason = COALESCE($6, reason), updated_ms = $7 \
             WHERE send_key = $1 AND state = $2",
        )
        .bind(key)
        .bind(from)
        .bind(to.state)
        .bind(to.provider_id)
        .bind(to.error_code)
        .bind(to.reason)
        .bind(now_ms())
        .execute(db)
        .await?
        .rows_affected());
        Ok(changed == 1)
    }

    /// Skips a scheduled send (or one whose intent was recorded but never handed over — the
    /// caller knows), with the reason shown in the log.
    pub async fn skip_send(&self, key: &str, reason: &str) -> Result<bool, StoreError> {
        self.finish_send(
            key,
            send_state::SCHEDULED,
            &SendOutcome { state: send_state::SKIPPED, reason: Some(reason), ..Default::default() },
        )
        .await
    }

    /// Moves a scheduled send's due time (quiet hours, a later wait).
    pub async fn reschedule_send(&self, key: &str, due_ms: i64) -> Result<(), StoreError> {
        writer!(self, |db| sqlx::query(
            "UPDATE automation_sends SET due_ms = $2, updated_ms = $3 WHERE send_key = $1 AND state = 'scheduled'",
        )
        .bind(key)
        .bind(due_ms)
        .bind(now_ms())
        .execute(db)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Applies a provider status callback to the send with `key` (or, without a key, the one
    /// with `provider_id`). Only sends that were handed over change, and `delivered` is never
    /// downgraded to `sent`; returns the updated row, `None` if nothing matched.
    pub async fn apply_status(
        &self,
        key: Option<&str>,
        provider_id: &str,
        state: &str,
        error_code: Option<&str>,
    ) -> Result<Option<SendRecord>, StoreError> {
        if ![send_state::SENT, send_state::DELIVERED, send_state::FAILED_PERMANENT].contains(&state) {
            return Err(StoreError::Invalid(format!("a status callback cannot set state {state:?}")));
        }
        let now = now_ms();
        writer!(self, |db| sqlx::query(
            "UPDATE automation_sends SET state = $3, provider_id = COALESCE(provider_id, $2), \
             error_code = COALESCE($4, error_code), updated_ms = $5 \
             WHERE (send_key = $1 OR provider_id = $2) \
             AND (state IN ('sending', 'in_doubt', 'ambiguous') OR (state = 'sent' AND $3 <> 'sent'))",
        )
        .bind(key.unwrap_or_default())
        .bind(provider_id)
        .bind(state)
        .bind(error_code)
        .bind(now)
        .execute(db)
        .await?
        .rows_affected());
        match key {
            Some(k) if !k.is_empty() => self.send_by_key(k).await,
            _ => self.send_by_provider_id(provider_id).await,
        }
    }

    /// The send log, newest first, filtered.
    pub async fn sends(&self, f: &SendFilter) -> Result<Vec<SendRecord>, StoreError> {
        let e = |v: &Option<String>| v.clone().unwrap_or_default();
        reader!(self, |db| {
            let rows = sqlx::query(concat!(
                "SELECT ",
                send_cols!(),
                " FROM automation_sends WHERE ($1 = '' OR rule = $1) AND ($2 = '' OR state = $2) \
                 AND ($3 = '' OR channel = $3) AND ($4 = '' OR recipient = $4) ORDER BY id DESC LIMIT $5"
            ))
            .bind(e(&f.rule))
            .bind(e(&f.state))
            .bind(e(&f.channel))
            .bind(e(&f.recipient))
            .bind(f.limit.unwrap_or(100).clamp(1, 10_000))
            .fetch_all(db)
            .await?;
            Ok(rows.iter().map(send).collect::<Result<_, _>>()?)
        })
    }

    /// Messages handed (or possibly handed) to a provider for `recipient` since `since_ms`,
    /// other than `except_key`: what a per-customer cap counts.
    pub async fn count_sends_to(&self, recipient: &str, since_ms: i64, except_key: &str) -> Result<i64, StoreError> {
        reader!(self, |db| Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM automation_sends WHERE recipient = $1 AND intent_ms >= $2 AND send_key <> $3 \
             AND state IN ('sending', 'sent', 'delivered', 'in_doubt', 'ambiguous')",
        )
        .bind(recipient)
        .bind(since_ms)
        .bind(except_key)
        .fetch_one(db)
        .await?))
    }

    /// Adds (or re-confirms) an opt-out.
    pub async fn add_optout(&self, channel: &str, recipient: &str, reason: Option<&str>) -> Result<(), StoreError> {
        writer!(self, |db| sqlx::query(
            "INSERT INTO automation_optouts (channel, recipient, reason, created_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (channel, recipient) DO UPDATE SET reason = excluded.reason",
        )
        .bind(channel)
        .bind(recipient)
        .bind(reason)
        .bind(now_ms())
        .execute(db)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Removes an opt-out; false if there was none.
    pub async fn remove_optout(&self, channel: &str, recipient: &str) -> Result<bool, StoreError> {
        let n = writer!(self, |db| sqlx::query("DELETE FROM automation_optouts WHERE channel = $1 AND recipient = $2")
            .bind(channel)
            .bind(recipient)
            .execute(db)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    pub async fn is_opted_out(&self, channel: &str, recipient: &str) -> Result<bool, StoreError> {
        reader!(self, |db| {
            let n: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM automation_optouts WHERE channel = $1 AND recipient = $2")
                    .bind(channel)
                    .bind(recipient)
                    .fetch_one(db)
                    .await?;
            Ok(n > 0)
        })
    }

    /// Opt-outs, optionally of one channel, by channel and recipient.
    pub async fn optouts(&self, channel: Option<&str>) -> Result<Vec<OptOut>, StoreError> {
        reader!(self, |db| {
            let rows = sqlx::query(
                "SELECT channel, recipient, reason, created_ms FROM automation_optouts \
                 WHERE ($1 = '' OR channel = $1) ORDER BY channel, recipient",
            )
            .bind(channel.unwrap_or_default())
            .fetch_all(db)
            .await?;
            let decode = |r: &_| -> sqlx::Result<OptOut> {
                Ok(OptOut {
                    channel: Cols::text(r, "channel")?,
                    recipient: Cols::text(r, "recipient")?,
                    reason: Cols::opt_text(r, "reason")?,
                    created_ms: Cols::i64(r, "created_ms")?,
                })
            };
            Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
        })
    }
}
