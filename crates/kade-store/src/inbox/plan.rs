//! The database-free half of batched ingest: which items of a batch reach the database, how
//! their jobs coalesce, and the placeholder-only SQL for the multi-row statements.
//!
//! Why it exists: sqlx runs SQLite on a worker thread, so every statement costs a thread round
//! trip. Ingesting event by event (insert, enqueue, link: three or four statements each) capped
//! the single writer near 8k events/s however large the batch. Here a chunk of events costs a
//! fixed handful of statements, and the per-event sequential semantics are reproduced in memory:
//! [`JobPlan::new`] replays, in batch order, exactly what `enqueue_on!` would have done one
//! event at a time, given what the database already holds.
//!
//! Every SQL text built here contains placeholders only, never data, which is what makes the
//! `AssertSqlSafe` around it true.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::StoreError;
use crate::jobs::payload_with_event_id;
use crate::records::{InboundEvent, Ingested, NewJob};

/// Events per multi-row statement. Far below SQLite's bound-parameter limit (9 per inbox row),
/// and small enough that statement preparation stays cheap; large enough that a whole grouped
/// commit of the ingress usually fits in one or two chunks.
pub(super) const CHUNK: usize = 128;

/// How a statement spells its placeholders. Every statement built here binds its values in the
/// order the placeholders appear, each exactly once, so the two spellings bind identically.
///
/// Why SQLite gets anonymous `?`: sqlx resolves each numbered placeholder (`$n`, `?n`) of a
/// SQLite statement by asking SQLite its name, which walks a list of every named parameter, so
/// binding a 1,000-parameter statement cost a million string comparisons (~7% of the ingress's
/// CPU). Anonymous placeholders have no name and bind by position. PostgreSQL only knows `$n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Style {
    Numbered,
    Anonymous,
}

impl Style {
    pub(super) fn of(store: &crate::Store) -> Style {
        match store {
            crate::Store::Sqlite(_) => Style::Anonymous,
            crate::Store::Postgres(_) => Style::Numbered,
        }
    }

    /// Appends placeholder number `n` (1-based, in text order).
    fn push(self, s: &mut String, n: usize) {
        match self {
            Style::Numbered => {
                let _ = write!(s, "${n}");
            }
            Style::Anonymous => s.push('?'),
        }
    }
}

/// `(p, ..., p)` with `width` placeholders for each of `rows`, comma-separated, numbered from
/// `offset + 1`.
fn tuples(style: Style, rows: usize, width: usize, offset: usize) -> String {
    let mut s = String::with_capacity(rows * width * 5);
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            if c > 0 {
                s.push_str(", ");
            }
            style.push(&mut s, offset + r * width + c + 1);
        }
        s.push(')');
    }
    s
}

/// `p, ..., p`: `n` placeholders numbered from `offset + 1`.
fn list(style: Style, n: usize, offset: usize) -> String {
    let mut s = String::with_capacity(n * 5);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        style.push(&mut s, offset + i + 1);
    }
    s
}

/// Multi-row inbox insert; binds the 9 columns of [`InboundEvent`] per row. A key already
/// stored returns no row (the caller looks those up); on PostgreSQL a key being inserted by a
/// concurrent transaction makes this wait for it first.
pub(super) fn insert_inbox_sql(style: Style, rows: usize) -> String {
    format!(
        "INSERT INTO inbox (connection, source, dedupe_key, event, entity_key, headers, body, verified, received_ms) \
         VALUES {} ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key",
        tuples(style, rows, 9, 0)
    )
}

pub(super) fn select_inbox_sql(style: Style, keys: usize) -> String {
    format!("SELECT id, dedupe_key FROM inbox WHERE dedupe_key IN ({})", list(style, keys, 0))
}

pub(super) fn select_job_keys_sql(style: Style, keys: usize) -> String {
    format!("SELECT id, dedupe_key FROM jobs WHERE dedupe_key IN ({})", list(style, keys, 0))
}

/// The queued jobs a chunk may coalesce into, with their dedupe keys; binds the kinds, then the
/// entity keys. Over-selects (any kind × any entity); [`JobPlan::new`] matches exact pairs.
pub(super) fn select_queued_sql(style: Style, kinds: usize, entities: usize) -> String {
    format!(
        "SELECT kind, entity_key, dedupe_key FROM jobs WHERE state = 'queued' AND entity_key IS NOT NULL \
         AND kind IN ({}) AND entity_key IN ({})",
        list(style, kinds, 0),
        list(style, entities, kinds)
    )
}

/// The multi-row form of `enqueue_on!`'s upsert: 9 values per [`Group`], its 7 columns then
/// "now" twice (created, updated).
/// The groups of one statement never share (kind, entity), so no row is updated twice.
pub(super) fn upsert_jobs_sql(style: Style, rows: usize) -> String {
    format!(
        "INSERT INTO jobs (kind, entity_key, payload, priority, max_attempts, run_at_ms, dedupe_key, \
         created_ms, updated_ms, state, attempts) VALUES {}{} RETURNING id, kind, entity_key",
        tuples_with(style, rows, 9, ", 'queued', 0"),
        crate::jobs::MERGE_QUEUED
    )
}

/// Sets `job_id` on `rows` inbox rows; binds (event id, job id) pairs, then the event ids again.
pub(super) fn link_sql(style: Style, rows: usize) -> String {
    let mut cases = String::new();
    for r in 0..rows {
        cases.push_str(" WHEN ");
        style.push(&mut cases, 2 * r + 1);
        cases.push_str(" THEN ");
        style.push(&mut cases, 2 * r + 2);
    }
    format!("UPDATE inbox SET job_id = CASE id{cases} END WHERE id IN ({})", list(style, rows, 2 * rows))
}

/// [`tuples`] with `extra` (no placeholders) spliced after each row's placeholders.
fn tuples_with(style: Style, rows: usize, width: usize, extra: &str) -> String {
    tuples(style, rows, width, 0).replace(')', &format!("{extra})"))
}

/// The items that reach the database (first occurrence of each inbox key, in order) and, for
/// every item, the index of its key's first occurrence: a repeat inside the batch is a duplicate
/// of that one and needs no statement at all.
pub(super) fn first_occurrences(items: &[(&InboundEvent, &NewJob)]) -> (Vec<usize>, Vec<usize>) {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    let mut unique = Vec::with_capacity(items.len());
    let first_of = items
        .iter()
        .enumerate()
        .map(|(i, (ev, _))| {
            *seen.entry(ev.dedupe_key.as_str()).or_insert_with(|| {
                unique.push(i);
                i
            })
        })
        .collect();
    (unique, first_of)
}

/// Fills in the repeats from their first occurrence's result (always known by then).
pub(super) fn finish(first_of: &[usize], slots: Vec<Option<Ingested>>) -> Result<Vec<Ingested>, StoreError> {
    first_of
        .iter()
        .enumerate()
        .map(|(i, &first)| match (i == first, &slots[first]) {
            (true, Some(done)) => Ok(*done),
            (false, Some(Ingested::Accepted { event_id, .. } | Ingested::Duplicate { event_id })) => {
                Ok(Ingested::Duplicate { event_id: *event_id })
            }
            (_, None) => Err(StoreError::Invalid(format!("ingest left batch item {first} unresolved"))),
        })
        .collect()
}

/// The distinct job dedupe keys of `jobs`: the chunk must learn which of them exist already.
pub(super) fn job_dedupe_keys<'a>(jobs: &[&'a NewJob]) -> Vec<&'a str> {
    let mut keys: Vec<&str> = jobs.iter().filter_map(|j| j.dedupe_key.as_deref()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The distinct kinds and entity keys whose queued jobs [`JobPlan::new`] must know about, or
/// `None` when it need not look: only a job with BOTH a dedupe key and an entity can coalesce
/// into a queued job whose own dedupe key then decides whether the new key is recorded.
pub(super) fn coalesce_lookup<'a>(jobs: &[&'a NewJob]) -> Option<(Vec<&'a str>, Vec<&'a str>)> {
    if !jobs.iter().any(|j| j.dedupe_key.is_some() && j.entity_key.is_some()) {
        return None;
    }
    let with_entity = jobs.iter().filter(|j| j.entity_key.is_some());
    let mut kinds: Vec<&str> = with_entity.clone().map(|j| j.kind.as_str()).collect();
    let mut entities: Vec<&str> = with_entity.filter_map(|j| j.entity_key.as_deref()).collect();
    for v in [&mut kinds, &mut entities] {
        v.sort_unstable();
        v.dedup();
    }
    Some((kinds, entities))
}

/// One row of the jobs upsert: the merge of a chunk's jobs for one (kind, entity), or a lone job
/// without entity. Coalescing keeps the earliest `run_at`, the highest priority, the newest
/// payload, the first job's `max_attempts` and the first dedupe key, as `enqueue_on!` does.
#[derive(Debug, PartialEq)]
pub(super) struct Group {
    pub kind: String,
    pub entity_key: Option<String>,
    pub payload: Value,
    pub priority: i32,
    pub max_attempts: i32,
    pub run_at_ms: i64,
    pub dedupe_key: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    /// A job that already existed (found by its dedupe key): left untouched.
    Existing(i64),
    /// The job the upsert of `groups[n]` yields.
    Group(usize),
}

/// The jobs of a chunk's accepted events, coalesced in memory.
#[derive(Debug)]
pub(super) struct JobPlan {
    pub groups: Vec<Group>,
    targets: Vec<Target>,
}

impl JobPlan {
    /// Replays `enqueue_on!` for each accepted (event id, job), in order. `known` maps job dedupe
    /// keys already stored to their job; `queued` maps (kind, entity) of the queued jobs already
    /// stored to their dedupe key (only needed when [`coalesce_lookup`] asked for it).
    pub fn new(
        accepted: &[(i64, &NewJob)],
        known: &HashMap<String, i64>,
        queued: &HashMap<(String, String), Option<String>>,
    ) -> JobPlan {
        let mut by_key: HashMap<&str, Target> =
            known.iter().map(|(k, &id)| (k.as_str(), Target::Existing(id))).collect();
        let mut by_entity: HashMap<(&str, &str), usize> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        // The dedupe key each group's job will end up with (COALESCE(stored, first new)); only
        // such a key makes a later job with the same key resolve to this group.
        let mut recorded: Vec<bool> = Vec::new();
        let mut targets = Vec::with_capacity(accepted.len());
        for &(event_id, job) in accepted {
            if let Some(t) = job.dedupe_key.as_deref().and_then(|k| by_key.get(k)) {
                targets.push(*t);
                continue;
            }
            let payload = payload_with_event_id(&job.payload, event_id);
            let merge = job.entity_key.as_deref().and_then(|e| by_entity.get(&(job.kind.as_str(), e)).copied());
            let g = match merge {
                Some(g) => {
                    let group = &mut groups[g];
                    group.payload = payload;
                    group.run_at_ms = group.run_at_ms.min(job.run_at_ms);
                    group.priority = group.priority.max(job.priority);
                    if group.dedupe_key.is_none() {
                        group.dedupe_key.clone_from(&job.dedupe_key);
                    }
                    g
                }
                None => {
                    let g = groups.len();
                    if let Some(e) = job.entity_key.as_deref() {
                        by_entity.insert((job.kind.as_str(), e), g);
                        // A queued job with a dedupe key of its own keeps it (COALESCE).
                        let stored = queued.get(&(job.kind.clone(), e.to_string()));
                        recorded.push(matches!(stored, Some(Some(_))));
                    } else {
                        recorded.push(false);
                    }
                    groups.push(Group {
                        kind: job.kind.clone(),
                        entity_key: job.entity_key.clone(),
                        payload,
                        priority: job.priority,
                        max_attempts: job.max_attempts,
                        run_at_ms: job.run_at_ms,
                        dedupe_key: job.dedupe_key.clone(),
                    });
                    g
                }
            };
            if let Some(k) = job.dedupe_key.as_deref()
                && !recorded[g]
            {
                recorded[g] = true;
                by_key.insert(k, Target::Group(g));
            }
            targets.push(Target::Group(g));
        }
        JobPlan { groups, targets }
    }

    /// The job id of every accepted event, in order, from the upsert's `RETURNING id, kind,
    /// entity_key` rows. RETURNING order is unspecified, so rows with an entity are matched by
    /// (kind, entity), unique per statement; rows without one are always fresh inserts, whose ids
    /// ascend in VALUES order (one statement, ids drawn row by row), so they are matched by rank.
    pub fn job_ids(&self, returned: Vec<(i64, String, Option<String>)>) -> Result<Vec<i64>, StoreError> {
        let mismatch = || StoreError::Invalid("the jobs upsert returned rows that do not match the batch".into());
        if returned.len() != self.groups.len() {
            return Err(mismatch());
        }
        let mut by_entity: HashMap<(String, String), i64> = HashMap::new();
        let mut fresh: Vec<i64> = Vec::new();
        for (id, kind, entity) in returned {
            match entity {
                Some(e) => {
                    by_entity.insert((kind, e), id);
                }
                None => fresh.push(id),
            }
        }
        fresh.sort_unstable();
        let mut fresh = fresh.into_iter();
        let ids = self
            .groups
            .iter()
            .map(|g| match &g.entity_key {
                Some(e) => by_entity.get(&(g.kind.clone(), e.clone())).copied(),
                None => fresh.next(),
            })
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(mismatch)?;
        Ok(self
            .targets
            .iter()
            .map(|t| match *t {
                Target::Existing(id) => id,
                Target::Group(g) => ids[g],
            })
            .collect())
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
