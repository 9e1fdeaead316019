//! The sellable-stock formula: which warehouses count, which figure, what buffer, and where
//! "low" starts. Pure, so the rule a shop configures is the rule every answer uses.

use kade_store::MirrorStock;
use serde::{Deserialize, Serialize};

/// Which stock figure counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StockBasis {
    /// Picqer's free stock: physical stock minus what is reserved for orders.
    #[default]
    Free,
    /// Physical stock, ignoring reservations.
    Physical,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StockFormula {
    /// Warehouses whose stock is sellable; empty = those Picqer counts for general stock (all
    /// when Kade has no warehouse data yet).
    pub warehouses: Vec<i64>,
    pub basis: StockBasis,
    /// Units held back from the sellable figure (a safety margin).
    pub buffer: i64,
    /// Sellable stock at or below this (and above zero) is "low".
    pub low_at: i64,
}

impl Default for StockFormula {
    fn default() -> Self {
        StockFormula { warehouses: Vec::new(), basis: StockBasis::Free, buffer: 0, low_at: 5 }
    }
}

/// What a customer is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    InStock,
    Low,
    OutOfStock,
}

impl StockFormula {
    /// Sellable units over the counted warehouses (`counted`: the default set when the formula
    /// names none), never below zero.
    pub fn sellable(&self, stock: &[MirrorStock], counted: &[i64]) -> i64 {
        let set: &[i64] = if self.warehouses.is_empty() { counted } else { &self.warehouses };
        let total: i64 = stock
            .iter()
            .filter(|s| set.is_empty() || set.contains(&s.idwarehouse))
            .map(|s| match self.basis {
                StockBasis::Free => s.freestock,
                StockBasis::Physical => s.stock,
            })
            .sum();
        (total - self.buffer).max(0)
    }

    pub fn availability(&self, sellable: i64, unlimited: bool) -> Availability {
        if unlimited {
            Availability::InStock
        } else if sellable <= 0 {
            Availability::OutOfStock
        } else if sellable <= self.low_at {
            Availability::Low
        } else {
            Availability::InStock
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(idwarehouse: i64, stock: i64, reserved: i64) -> MirrorStock {
        MirrorStock { idwarehouse, stock, reserved, freestock: stock - reserved }
    }

    #[test]
    fn the_formula_counts_what_it_is_told() {
        let stock = [s(101, 10, 4), s(102, 3, 0), s(103, 50, 0)];
        let f = StockFormula::default();
        assert_eq!(f.sellable(&stock, &[101, 102]), 9, "free stock of the counted warehouses");
        assert_eq!(f.sellable(&stock, &[]), 59, "no warehouse data: all");
        let physical = StockFormula { basis: StockBasis::Physical, warehouses: vec![101], ..f.clone() };
        assert_eq!(physical.sellable(&stock, &[101, 102]), 10);
        let buffered = StockFormula { buffer: 20, ..f.clone() };
        assert_eq!(buffered.sellable(&stock, &[101, 102]), 0, "never negative");
        assert_eq!(f.availability(0, false), Availability::OutOfStock);
        assert_eq!(f.availability(5, false), Availability::Low);
        assert_eq!(f.availability(6, false), Availability::InStock);
        assert_eq!(f.availability(0, true), Availability::InStock, "unlimited stock is always available");
    }
}
