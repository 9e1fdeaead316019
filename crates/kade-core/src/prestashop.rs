//! Pure rules of the PrestaShop ↔ Picqer flows: the order reference, the prefix, the status
//! mapping table, what a shop status means for the Picqer order, and the sellable-stock formula.

use std::collections::BTreeMap;

use crate::picqer::PicqerStatus;

mod types;

pub use types::{OrderPrefix, PrefixError, SHOP_NAME_MAX, ShopName, ShopNameError, WS_KEY_LEN, WsKey, WsKeyError};

/// The prefix a shop starts with ([`OrderPrefix::default`]).
pub const DEFAULT_PREFIX: &str = "PS";

/// The Picqer order `reference` of a shop order: `PREFIX #idorder / REFERENCE`, e.g.
/// `DEV #73 / ITQRFWVHT`. It is the natural key Kade looks up before creating (principle 4), and
/// the prefix keeps several shops on one Picqer account apart.
pub fn order_reference(prefix: &OrderPrefix, id_order: u64, shop_reference: &str) -> String {
    format!("{prefix} #{id_order} / {shop_reference}")
}

/// One row of the status mapping table: when the shop order is in `when` (any state when
/// `None`) and the Picqer order has status `picqer`, move the shop order to `then`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusRule {
    pub when: Option<u64>,
    pub picqer: PicqerStatus,
    pub then: u64,
}

/// The new shop state for a Picqer status: the first matching row wins; `None` when no row
/// matches or the order is already in the target state (so nothing is written twice).
pub fn map_status(rules: &[StatusRule], current: u64, picqer_status: PicqerStatus) -> Option<u64> {
    let rule = rules.iter().find(|r| r.picqer == picqer_status && r.when.is_none_or(|w| w == current))?;
    (rule.then != current).then_some(rule.then)
}

/// What the shop order's state asks of the Picqer side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateRoles {
    pub create: Vec<u64>,
    pub process: Vec<u64>,
    pub cancel: Vec<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderAction {
    /// Create the Picqer order (if it does not exist yet).
    Create,
    /// Create (if needed) and set it to processing.
    CreateAndProcess,
    /// Set the existing Picqer order to processing.
    Process,
    /// Force-cancel the existing Picqer order (even when shipped).
    Cancel,
    Nothing,
}

/// Decides from the shop state and whether a Picqer order exists. Cancel wins over everything;
/// a state may both create and process.
pub fn decide(roles: &StateRoles, state: u64, exists: bool) -> OrderAction {
    if roles.cancel.contains(&state) {
        return if exists { OrderAction::Cancel } else { OrderAction::Nothing };
    }
    let (create, process) = (roles.create.contains(&state), roles.process.contains(&state));
    match (exists, create, process) {
        (false, true, true) => OrderAction::CreateAndProcess,
        (false, true, false) => OrderAction::Create,
        (true, _, true) => OrderAction::Process,
        _ => OrderAction::Nothing,
    }
}

/// The sellable-stock formula: which warehouses count, whether allocated stock counts as
/// sellable, and whether a negative result is shown as 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockFormula {
    /// Warehouse ids that count; empty = all.
    pub warehouses: Vec<u64>,
    /// Free + allocated instead of free only.
    pub include_allocated: bool,
    pub clamp_at_zero: bool,
}

impl Default for StockFormula {
    fn default() -> Self {
        StockFormula { warehouses: Vec::new(), include_allocated: false, clamp_at_zero: true }
    }
}

/// One warehouse's stock of one product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WarehouseStock {
    pub warehouse: u64,
    pub free: i64,
    pub allocated: i64,
}

impl StockFormula {
    pub fn sellable(&self, stock: &[WarehouseStock]) -> i64 {
        let total: i64 = stock
            .iter()
            .filter(|s| self.warehouses.is_empty() || self.warehouses.contains(&s.warehouse))
            .map(|s| s.free + if self.include_allocated { s.allocated } else { 0 })
            .sum();
        if self.clamp_at_zero { total.max(0) } else { total }
    }
}

/// Writes a stock sync must make: `(key, new value)` for every key whose current shop value
/// differs from the wanted one. Keys missing on either side are skipped.
pub fn stock_writes<K: Ord + Clone>(current: &BTreeMap<K, i64>, wanted: &BTreeMap<K, i64>) -> Vec<(K, i64)> {
    wanted
        .iter()
        .filter_map(|(k, want)| current.get(k).filter(|have| *have != want).map(|_| (k.clone(), *want)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference() {
        let dev: OrderPrefix = "DEV".parse().unwrap();
        assert_eq!(order_reference(&dev, 73, "ITQRFWVHT"), "DEV #73 / ITQRFWVHT");
    }

    #[test]
    fn first_matching_row_wins_and_conditions_apply() {
        use PicqerStatus::{Completed, Processing};
        let rules = vec![
            StatusRule { when: Some(2), picqer: Processing, then: 3 },
            StatusRule { when: None, picqer: Processing, then: 9 },
            StatusRule { when: None, picqer: Completed, then: 4 },
            StatusRule { when: None, picqer: Completed, then: 5 },
        ];
        assert_eq!(map_status(&rules, 2, Processing), Some(3));
        assert_eq!(map_status(&rules, 10, Processing), Some(9));
        assert_eq!(map_status(&rules, 2, Completed), Some(4));
        assert_eq!(map_status(&rules, 4, Completed), None, "already there: nothing to write");
        assert_eq!(map_status(&rules, 2, PicqerStatus::Cancelled), None);
    }

    #[test]
    fn decisions() {
        let roles = StateRoles { create: vec![2, 3], process: vec![3], cancel: vec![6] };
        assert_eq!(decide(&roles, 2, false), OrderAction::Create);
        assert_eq!(decide(&roles, 3, false), OrderAction::CreateAndProcess);
        assert_eq!(decide(&roles, 3, true), OrderAction::Process);
        assert_eq!(decide(&roles, 2, true), OrderAction::Nothing);
        assert_eq!(decide(&roles, 6, true), OrderAction::Cancel);
        assert_eq!(decide(&roles, 6, false), OrderAction::Nothing);
        assert_eq!(decide(&roles, 1, false), OrderAction::Nothing);
    }

    #[test]
    fn stock_formula_and_writes() {
        let stock = [
            WarehouseStock { warehouse: 1, free: 5, allocated: 2 },
            WarehouseStock { warehouse: 2, free: -8, allocated: 1 },
        ];
        assert_eq!(StockFormula::default().sellable(&stock), 0);
        let f = StockFormula { clamp_at_zero: false, ..StockFormula::default() };
        assert_eq!(f.sellable(&stock), -3);
        let f = StockFormula { warehouses: vec![1], include_allocated: true, clamp_at_zero: true };
        assert_eq!(f.sellable(&stock), 7);
        let current = BTreeMap::from([(1, 5), (2, 3), (3, 0)]);
        let wanted = BTreeMap::from([(1, 5), (2, 4), (4, 9)]);
        assert_eq!(stock_writes(&current, &wanted), vec![(2, 4)]);
    }
}
