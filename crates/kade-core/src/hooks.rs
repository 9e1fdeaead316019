//! Which Picqer hooks Kade must create, reactivate or deactivate.
//!
//! Installing hooks must be idempotent (running it twice creates nothing new), must retire hooks
//! Kade created earlier for events no longer configured, and must heal hooks Picqer deactivated
//! after failed deliveries. All of that is one comparison between what is configured and what
//! Picqer lists, so it lives here as a pure function and the connector only carries out the plan.

use std::collections::BTreeSet;

/// A hook as Picqer lists it, with what Kade knows about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingHook {
    pub idhook: u64,
    pub event: String,
    pub address: String,
    pub active: bool,
    /// Kade still holds this hook's secret (it created the hook), so it can verify deliveries
    /// and may reactivate it. A hook without a known secret is never reused.
    pub secret_known: bool,
}

/// What to do, in this order: deactivate, reactivate, create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookPlan {
    /// Hooks at Kade's address that are fine as they are.
    pub keep: Vec<u64>,
    /// Inactive hooks at Kade's address, with a known secret, for a configured event.
    pub reactivate: Vec<u64>,
    /// Events with no usable hook: create one each (with a fresh secret).
    pub create: Vec<String>,
    /// Active hooks at Kade's address that are stale: an event no longer configured, a duplicate,
    /// or a secret Kade no longer knows (deliveries could not be verified).
    pub deactivate: Vec<u64>,
}

impl HookPlan {
    /// True when nothing needs to change.
    pub fn is_noop(&self) -> bool {
        self.reactivate.is_empty() && self.create.is_empty() && self.deactivate.is_empty()
    }
}

/// Compares the configured `events` at `address` with the hooks Picqer lists. Hooks at other
/// addresses belong to other integrations and are never touched.
pub fn plan_hooks(events: &[String], address: &str, existing: &[ExistingHook]) -> HookPlan {
    let wanted: BTreeSet<&str> = events.iter().map(String::as_str).collect();
    let mut ours: Vec<&ExistingHook> = existing.iter().filter(|h| h.address == address).collect();
    // Prefer, per event: an active hook with a known secret, then an inactive one with a known
    // secret, then the lowest id (oldest) — so repeated runs pick the same hook.
    ours.sort_by_key(|h| (h.event.clone(), !(h.active && h.secret_known), !h.secret_known, h.idhook));
    let mut plan = HookPlan::default();
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    for h in ours {
        let usable = wanted.contains(h.event.as_str()) && h.secret_known && !covered.contains(h.event.as_str());
        if usable {
            covered.insert(h.event.as_str());
            if h.active {
                plan.keep.push(h.idhook);
            } else {
                plan.reactivate.push(h.idhook);
            }
        } else if h.active {
            plan.deactivate.push(h.idhook);
        }
    }
    plan.create = wanted.iter().filter(|e| !covered.contains(*e)).map(|e| e.to_string()).collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: &str = "https://kade.example/webhooks/picqer/main";

    fn hook(idhook: u64, event: &str, address: &str, active: bool, secret_known: bool) -> ExistingHook {
        ExistingHook { idhook, event: event.into(), address: address.into(), active, secret_known }
    }

    fn events(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn first_install_creates_one_hook_per_event() {
        let plan = plan_hooks(&events(&["orders.completed", "products.changed"]), ADDR, &[]);
        assert_eq!(plan.create, events(&["orders.completed", "products.changed"]));
        assert!(plan.keep.is_empty() && plan.deactivate.is_empty() && plan.reactivate.is_empty());
    }

    #[test]
    fn a_second_run_is_a_noop() {
        let existing = [hook(1, "orders.completed", ADDR, true, true), hook(2, "products.changed", ADDR, true, true)];
        let plan = plan_hooks(&events(&["orders.completed", "products.changed"]), ADDR, &existing);
        assert!(plan.is_noop(), "{plan:?}");
        assert_eq!(plan.keep, vec![1, 2]);
    }

    #[test]
    fn heals_retires_and_leaves_others_alone() {
        let existing = [
            hook(1, "orders.completed", ADDR, false, true), // deactivated by Picqer: reactivate
            hook(2, "products.changed", ADDR, true, true),  // fine
            hook(3, "products.changed", ADDR, true, true),  // duplicate: retire
            hook(4, "returns.created", ADDR, true, true),   // no longer configured: retire
            hook(5, "orders.completed", "https://other.example", true, false), // someone else's
            hook(6, "picklists.closed", ADDR, true, false), // secret lost: retire and recreate
            hook(7, "returns.created", ADDR, false, true),  // inactive and unwanted: leave
        ];
        let plan = plan_hooks(&events(&["orders.completed", "products.changed", "picklists.closed"]), ADDR, &existing);
        assert_eq!(plan.reactivate, vec![1]);
        assert_eq!(plan.keep, vec![2]);
        let mut deactivate = plan.deactivate.clone();
        deactivate.sort();
        assert_eq!(deactivate, vec![3, 4, 6]);
        assert_eq!(plan.create, events(&["picklists.closed"]));
    }

    #[test]
    fn an_active_hook_is_preferred_over_an_inactive_one() {
        let existing = [hook(1, "orders.completed", ADDR, false, true), hook(9, "orders.completed", ADDR, true, true)];
        let plan = plan_hooks(&events(&["orders.completed"]), ADDR, &existing);
        assert_eq!((plan.keep, plan.reactivate), (vec![9], vec![]));
        assert!(plan.deactivate.is_empty() && plan.create.is_empty());
    }
}
