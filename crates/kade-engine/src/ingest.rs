//! Grouped commits for the inbox.
//!
//! Every acknowledged webhook must be durable before its 2xx (principle 1). On SQLite with
//! `synchronous=FULL` that costs an fsync per commit, so one transaction per webhook caps the
//! ingress at the disk's fsync rate (~1.7k/s on CI). The [`IngestBatcher`] lets concurrent
//! deliveries share a commit: one task takes whatever is waiting in its channel (up to a cap),
//! commits it with [`Store::ingest_many`] in one transaction, and answers each caller.
//!
//! There is no timer: a batch is whatever arrived while the previous commit was running (group
//! commit). A lone delivery on an idle hub is committed at once, so latency never pays for
//! batching; under load, batches grow by themselves until a commit amortises its fsync.
//!
//! Callers still learn their own outcome only after the transaction holding their event has
//! committed, so "answer 200 only once stored" is unchanged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use kade_store::{InboundEvent, IngestBatch, IngestTurn, Ingested, NewJob, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

/// Largest batch committed at once by default. Big enough that the fsync is amortised, small
/// enough that one transaction stays short and a failed batch retries a bounded amount of work
/// item by item.
pub const DEFAULT_MAX_BATCH: usize = 512;

/// Deliveries that may wait for the batcher before callers are held back. Bounded so that a
/// store slower than the ingress pushes back on HTTP (requests wait) instead of growing memory.
const QUEUE_DEPTH: usize = 8 * DEFAULT_MAX_BATCH;

/// Failed item-by-item retries after which the rest of a failed batch is answered with the
/// error without trying (see the fallback in `run`).
const FALLBACK_FAILURES: usize = 3;

/// Batches committed at once on PostgreSQL (see `run_concurrent`); leaves pool connections for
/// workers.
const PG_IN_FLIGHT: usize = 4;

/// Batches committed back to back in one SQLite writer turn at most (see `run_in_turns`).
const TURN_BATCHES: usize = 8;

type Reply = oneshot::Sender<Result<Ingested, StoreError>>;

struct Item {
    event: InboundEvent,
    job: NewJob,
    reply: Reply,
}

/// Counters describing the batches committed so far (for the benchmark and metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Transactions attempted for batches.
    pub batches: u64,
    /// Items answered.
    pub items: u64,
    /// The largest batch so far.
    pub largest: u64,
    /// Batches whose transaction failed and were retried item by item.
    pub fallbacks: u64,
}

impl BatchStats {
    /// Mean items per transaction.
    pub fn mean(&self) -> f64 {
        if self.batches == 0 { 0.0 } else { self.items as f64 / self.batches as f64 }
    }
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    items: AtomicU64,
    largest: AtomicU64,
    fallbacks: AtomicU64,
}

/// Commits inbox events with their jobs in grouped transactions. Cheap to clone; the background
/// task ends when the last clone is dropped (after answering everything already queued).
#[derive(Clone, Debug)]
pub struct IngestBatcher {
    tx: mpsc::Sender<Item>,
    counters: Arc<Counters>,
}

impl IngestBatcher {
    /// Starts the batching task for `store` (on the current Tokio runtime), committing at most
    /// `max_batch` items per transaction.
    pub fn start(store: Store, max_batch: usize) -> IngestBatcher {
        let max_batch = max_batch.max(1);
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH.max(max_batch));
        let counters = Arc::new(Counters::default());
        tokio::spawn(run(store, rx, max_batch, counters.clone()));
        IngestBatcher { tx, counters }
    }

    /// Stores `event` and enqueues `job` atomically, like [`Store::ingest`], sharing the
    /// transaction with whatever other deliveries are waiting. Returns once that transaction
    /// has committed (or failed: then nothing of this event was stored).
    pub async fn ingest(&self, event: InboundEvent, job: NewJob) -> Result<Ingested, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Item { event, job, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Batches committed so far.
    pub fn stats(&self) -> BatchStats {
        let c = &self.counters;
        BatchStats {
            batches: c.batches.load(Ordering::Relaxed),
            items: c.items.load(Ordering::Relaxed),
            largest: c.largest.load(Ordering::Relaxed),
            fallbacks: c.fallbacks.load(Ordering::Relaxed),
        }
    }
}

/// The batcher task is gone (its runtime is shutting down); nothing was stored.
fn stopped() -> StoreError {
    StoreError::Invalid("the ingest batcher has stopped (Kade is shutting down)".into())
}

async fn run(store: Store, rx: mpsc::Receiver<Item>, max_batch: usize, counters: Arc<Counters>) {
    match store {
        Store::Postgres(_) => run_concurrent(store, rx, max_batch, counters).await,
        Store::Sqlite(_) => run_in_turns(store, rx, max_batch, counters).await,
    }
}

/// SQLite has one writer: a second transaction in flight would only wait for it, and take items
/// out of the channel that could have joined the next batch. So batches go one after another,
/// in turns: the loop takes the writer once ([`Store::ingest_turn`]) and, while deliveries keep
/// arriving, hands batch after batch to it without giving it up in between, which keeps the
/// writer thread from idling while this task is rescheduled. A turn ends when the queue is
/// empty, or after [`TURN_BATCHES`] so that the store's other writes (workers finishing jobs)
/// get the writer in time.
async fn run_in_turns(store: Store, mut rx: mpsc::Receiver<Item>, max_batch: usize, counters: Arc<Counters>) {
    let mut waiting: Vec<Item> = Vec::with_capacity(max_batch);
    loop {
        // `recv_many` waits for the first item, then takes whatever else is already queued: the
        // batch is exactly what accumulated during the previous commit.
        if waiting.is_empty() && rx.recv_many(&mut waiting, max_batch).await == 0 {
            break;
        }
        let turn = match store.ingest_turn().await {
            Ok(turn) => turn,
            Err(e) => {
                tracing::error!(error = %e, "the store refused an ingest turn");
                fail_all(std::mem::take(&mut waiting), &e);
                continue;
            }
        };
        for _ in 0..TURN_BATCHES {
            let batch = std::mem::replace(&mut waiting, Vec::with_capacity(max_batch));
            commit(&store, &turn, batch, &counters).await;
            // What arrived during that commit, without waiting: an empty queue ends the turn.
            while waiting.len() < max_batch {
                match rx.try_recv() {
                    Ok(item) => waiting.push(item),
                    Err(_) => break,
                }
            }
            if waiting.is_empty() {
                break;
            }
        }
    }
}

/// PostgreSQL commits concurrent transactions in parallel (the store's pool has 10
/// connections), so there a few batches may be in flight at once.
async fn run_concurrent(store: Store, mut rx: mpsc::Receiver<Item>, max_batch: usize, counters: Arc<Counters>) {
    let mut running = tokio::task::JoinSet::new();
    let mut waiting: Vec<Item> = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut waiting, max_batch).await > 0 {
        let mut batch = std::mem::replace(&mut waiting, Vec::with_capacity(max_batch));
        // Concurrent transactions lock job rows (one queued job per entity); taking them in the
        // same order in every batch means two batches can wait for each other but never
        // deadlock. The sort is stable, so in-batch duplicates keep their order.
        batch.sort_by(|a, b| a.job.entity_key.cmp(&b.job.entity_key));
        let (store, counters) = (store.clone(), counters.clone());
        running.spawn(async move {
            match store.ingest_turn().await {
                Ok(turn) => commit(&store, &turn, batch, &counters).await,
                Err(e) => fail_all(batch, &e),
            }
        });
        while running.len() >= PG_IN_FLIGHT {
            let _ = running.join_next().await;
        }
    }
    while running.join_next().await.is_some() {}
}

/// Answers every item of `batch` with a copy of `e`: nothing of them was stored.
fn fail_all(batch: Vec<Item>, e: &StoreError) {
    for item in batch {
        let _ = item.reply.send(Err(StoreError::Invalid(format!("not stored: {e}"))));
    }
}

/// Commits one batch and answers every caller in it.
async fn commit(store: &Store, turn: &IngestTurn, batch: Vec<Item>, counters: &Counters) {
    let n = batch.len() as u64;
    counters.batches.fetch_add(1, Ordering::Relaxed);
    counters.items.fetch_add(n, Ordering::Relaxed);
    counters.largest.fetch_max(n, Ordering::Relaxed);
    let (items, mut replies): (Vec<_>, Vec<_>) = batch.into_iter().map(|i| ((i.event, i.job), i.reply)).unzip();
    let items: IngestBatch = items.into();
    match store.ingest_in_turn(turn, items.clone()).await {
        Ok(results) if results.len() == replies.len() => {
            for (reply, result) in replies.into_iter().zip(results) {
                // The caller may have gone (client hung up): the event is stored anyway, and
                // Picqer's retry will be answered as a duplicate.
                let _ = reply.send(Ok(result));
            }
        }
        Ok(results) => {
            let message = format!("ingest_many returned {} results for {} items", results.len(), replies.len());
            tracing::error!("{message}");
            for reply in replies {
                let _ = reply.send(Err(StoreError::Invalid(message.clone())));
            }
        }
        Err(e) if items.len() == 1 => {
            if let Some(reply) = replies.pop() {
                let _ = reply.send(Err(e));
            }
        }
        Err(e) => {
            // The whole batch rolled back, so nothing of it is stored. Retry each item in a
            // transaction of its own: one item the database rejects must not fail the deliveries
            // that merely shared its transaction. Once a few retries fail as well the cause is
            // the database, not an item: answer the rest at once rather than wait out a timeout
            // per item. Every caller that fails answers 503, and Picqer retries.
            counters.fallbacks.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, items = items.len(), "batched ingest failed; retrying item by item");
            let mut failures = 0;
            for ((event, job), reply) in items.iter().zip(replies) {
                let result = if failures < FALLBACK_FAILURES {
                    let one: IngestBatch = Arc::new([(event.clone(), job.clone())]);
                    store.ingest_in_turn(turn, one).await.and_then(|mut out| {
                        out.pop().ok_or_else(|| StoreError::Invalid("ingest produced no result".into()))
                    })
                } else {
                    Err(StoreError::Invalid(format!("not stored: the batch transaction failed ({e})")))
                };
                failures += usize::from(result.is_err());
                let _ = reply.send(result);
            }
        }
    }
}
