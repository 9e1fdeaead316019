//! The registry and delivery queue behind the one lock, and their bookkeeping.
//!
//! Everything here runs inside short lock sections: no I/O, no waiting. The dispatcher and the
//! attempt tasks (see `delivery`) call in to take work off the queue and to record results.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use tokio::sync::Notify;

use super::{DELIVERY_LOG_CAPACITY, DeliveryRecord, Hook, HookFaults, HookPolicy, MAX_IN_FLIGHT};
use crate::clock::{SimClock, duration_ms};

/// Everything behind a [`Hooks`](super::Hooks) handle.
pub(super) struct Shared {
    pub(super) clock: SimClock,
    pub(super) policy: HookPolicy,
    state: Mutex<State>,
    pub(super) signals: Arc<Signals>,
}

/// Wake-ups, kept outside [`Shared`] so the dispatcher can wait on them without keeping the
/// registry alive: when the last [`Hooks`](super::Hooks) handle goes, the dispatcher notices and exits.
pub(super) struct Signals {
    /// Something may be dispatchable: work was queued, an attempt finished, faults changed.
    pub(super) wake: Notify,
    /// An attempt finished or queued work was dropped; [`Hooks::settle`](super::Hooks::settle) re-checks.
    pub(super) idle: Notify,
    pub(super) closed: AtomicBool,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.signals.closed.store(true, Ordering::Release);
        self.signals.wake.notify_one();
    }
}

impl Shared {
    pub(super) fn new(clock: SimClock, policy: HookPolicy) -> Self {
        Shared {
            clock,
            policy,
            state: Mutex::new(State {
                next_idhook: 1,
                hooks: BTreeMap::new(),
                faults: HookFaults::default(),
                held: Vec::new(),
                pending: BTreeMap::new(),
                ready: BTreeSet::new(),
                next_seq: 0,
                in_flight: 0,
                busy: BTreeSet::new(),
                log: VecDeque::new(),
                next_iddelivery: 1,
                started: false,
            }),
            signals: Arc::new(Signals { wake: Notify::new(), idle: Notify::new(), closed: AtomicBool::new(false) }),
        }
    }

    /// Poisoning is ignored: every critical section leaves the state consistent before it can panic.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(super) struct State {
    pub(super) next_idhook: u64,
    pub(super) hooks: BTreeMap<u64, Entry>,
    pub(super) faults: HookFaults,
    /// Deliveries held back by the reorder fault, in emission order.
    pub(super) held: Vec<Job>,
    /// Pending deliveries per hook, keyed by (due time in simulated ms, sequence number): due
    /// order, and emission order among deliveries due at the same time.
    pending: BTreeMap<u64, BTreeMap<(i64, u64), Job>>,
    /// The first pending delivery of every hook with nothing in flight, as (due, seq, idhook).
    /// The dispatcher only looks at the first element, so picking the next delivery stays
    /// O(log n) however long a busy hook's backlog grows.
    ready: BTreeSet<(i64, u64, u64)>,
    next_seq: u64,
    pub(super) in_flight: usize,
    /// Hooks with an attempt in flight; their further deliveries wait.
    pub(super) busy: BTreeSet<u64>,
    pub(super) log: VecDeque<DeliveryRecord>,
    pub(super) next_iddelivery: u64,
    pub(super) started: bool,
}

pub(super) struct Entry {
    pub(super) hook: Hook,
    /// Bumped on every deactivation, so deliveries queued or in flight before it are dropped even
    /// if the hook is reactivated before they come up.
    pub(super) epoch: u64,
    /// Simulated times of recent complete failures, oldest first, pruned to the failure window.
    pub(super) failures: VecDeque<i64>,
}

/// One delivery of one body through one hook; `attempt` counts from 1.
#[derive(Clone)]
pub(super) struct Job {
    pub(super) idhook: u64,
    pub(super) epoch: u64,
    pub(super) event: String,
    pub(super) body: Bytes,
    pub(super) attempt: u32,
}

/// Where an attempt goes, copied out of the registry so the lock is not held across the request.
pub(super) struct Target {
    pub(super) address: String,
    pub(super) secret: Option<String>,
}

/// What the dispatcher should do next.
pub(super) enum Next {
    Dispatch(Job, Target),
    /// Nothing dispatchable now; sleep until this simulated time (if any work is scheduled) or
    /// until woken.
    Wait(Option<i64>),
}

impl State {
    fn active_entry(&self, idhook: u64, epoch: u64) -> Option<&Entry> {
        self.hooks.get(&idhook).filter(|e| e.hook.active && e.epoch == epoch)
    }

    /// Queues a fresh delivery (not a retry), applying the network faults. The reorder window
    /// counts deliveries across all hooks (one per hook per event; two with `duplicate`), since
    /// the fault models the network, not any one receiver. Retries bypass the faults.
    pub(super) fn enqueue_new(&mut self, job: Job, now: i64) {
        if self.active_entry(job.idhook, job.epoch).is_none() {
            return; // deactivated between emit's snapshot and now
        }
        let copies = if self.faults.duplicate { 2 } else { 1 };
        for _ in 0..copies {
            if self.faults.reorder_window > 1 {
                self.held.push(job.clone());
                if self.held.len() >= self.faults.reorder_window as usize {
                    self.flush_held(now);
                }
            } else {
                self.push_queue(now, job.clone());
            }
        }
    }

    /// Releases the reorder buffer, newest first.
    pub(super) fn flush_held(&mut self, now: i64) {
        let held = std::mem::take(&mut self.held);
        for job in held.into_iter().rev() {
            self.push_queue(now, job);
        }
    }

    fn push_queue(&mut self, due: i64, job: Job) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let idhook = job.idhook;
        let old = self.head(idhook);
        self.pending.entry(idhook).or_default().insert((due, seq), job);
        self.reindex(idhook, old);
    }

    fn head(&self, idhook: u64) -> Option<(i64, u64)> {
        self.pending.get(&idhook)?.keys().next().copied()
    }

    /// Brings the hook's entry in `ready` up to date after its queue or busy state changed;
    /// `old` is its head before the change.
    pub(super) fn reindex(&mut self, idhook: u64, old: Option<(i64, u64)>) {
        if let Some((due, seq)) = old {
            self.ready.remove(&(due, seq, idhook));
        }
        if !self.busy.contains(&idhook)
            && let Some((due, seq)) = self.head(idhook)
        {
            self.ready.insert((due, seq, idhook));
        }
    }

    /// Whether an idle hook has a delivery due. Deliveries of busy hooks are not counted: callers
    /// check `in_flight` as well.
    pub(super) fn has_due(&self, now: i64) -> bool {
        self.ready.first().is_some_and(|&(due, _, _)| due <= now)
    }

    /// Marks the hook inactive and forgets everything it still had to send.
    pub(super) fn deactivate_entry(&mut self, idhook: u64) -> Option<Hook> {
        let entry = self.hooks.get_mut(&idhook)?;
        entry.hook.active = false;
        entry.epoch += 1;
        let hook = entry.hook.clone();
        let old = self.head(idhook);
        self.pending.remove(&idhook);
        self.reindex(idhook, old);
        self.held.retain(|job| job.idhook != idhook);
        Some(hook)
    }

    /// Takes the first due delivery whose hook is idle, in (due, emission) order. Also returns
    /// whether stale deliveries were dropped along the way, so `settle` can re-check.
    pub(super) fn take_next(&mut self, now: i64) -> (Next, bool) {
        let mut dropped = false;
        loop {
            // Work blocked by the in-flight cap (or by a busy hook, which is not in `ready`) is
            // picked up when an attempt finishes, which wakes the dispatcher; only work due in
            // the future needs a timer.
            if self.in_flight >= MAX_IN_FLIGHT {
                return (Next::Wait(None), dropped);
            }
            let Some(&(due, seq, idhook)) = self.ready.first() else {
                return (Next::Wait(None), dropped);
            };
            if due > now {
                return (Next::Wait(Some(due)), dropped);
            }
            self.ready.remove(&(due, seq, idhook));
            let job = self.pending.get_mut(&idhook).and_then(|q| q.remove(&(due, seq)));
            if self.pending.get(&idhook).is_some_and(BTreeMap::is_empty) {
                self.pending.remove(&idhook);
            }
            let Some(job) = job else {
                continue;
            };
            let Some(entry) = self.active_entry(idhook, job.epoch) else {
                // Cannot happen while deactivation purges the queue; kept as a safety net.
                dropped = true;
                self.reindex(idhook, None);
                continue;
            };
            let target = Target { address: entry.hook.address.clone(), secret: entry.hook.secret_value.clone() };
            self.in_flight += 1;
            self.busy.insert(idhook);
            return (Next::Dispatch(job, target), dropped);
        }
    }

    pub(super) fn record(&mut self, record: DeliveryRecord) {
        if self.log.len() >= DELIVERY_LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(record);
    }

    /// After a failed attempt: schedule the next retry, or count a complete failure and deactivate
    /// the hook once enough of them fall within the window.
    pub(super) fn after_failure(&mut self, job: Job, now: i64, policy: &HookPolicy) {
        if self.active_entry(job.idhook, job.epoch).is_none() {
            return;
        }
        let retry_index = (job.attempt as usize).saturating_sub(1);
        if let Some(delay) = policy.retry_schedule.get(retry_index) {
            let due = now.saturating_add(duration_ms(*delay));
            let attempt = job.attempt + 1;
            self.push_queue(due, Job { attempt, ..job });
            return;
        }
        let idhook = job.idhook;
        let window = duration_ms(policy.failure_window);
        let Some(entry) = self.hooks.get_mut(&idhook) else {
            return;
        };
        entry.failures.push_back(now);
        while entry.failures.front().is_some_and(|&t| now.saturating_sub(t) >= window) {
            entry.failures.pop_front();
        }
        let failures = entry.failures.len();
        tracing::debug!(idhook, failures, "webhook delivery failed completely");
        if policy.deactivate_after > 0 && failures >= policy.deactivate_after as usize {
            tracing::info!(idhook, failures, "deactivating webhook after repeated complete failures");
            self.deactivate_entry(idhook);
        }
    }
}
