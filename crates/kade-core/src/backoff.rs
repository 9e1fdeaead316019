//! Retry delays: exponential, capped, with jitter.
//!
//! Jitter spreads retries of many clients (or many jobs) so they do not return in lockstep. The
//! random number is an argument, which keeps this pure and its bounds testable.

use std::time::Duration;

/// Delay before retry number `attempt` (0 for the first retry): `base * 2^attempt` capped at `cap`,
/// then "equal jitter" — half fixed, half random — so a retry never comes back immediately.
/// `random` is a uniform sample from `[0, 1)`.
pub fn delay(attempt: u32, base: Duration, cap: Duration, random: f64) -> Duration {
    let exp = base.saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX)).min(cap);
    let half = exp / 2;
    half + half.mul_f64(random.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_stays_within_jitter_bounds() {
        let base = Duration::from_millis(200);
        let cap = Duration::from_secs(30);
        assert_eq!(delay(0, base, cap, 0.0), Duration::from_millis(100));
        assert_eq!(delay(0, base, cap, 1.0), Duration::from_millis(200));
        assert_eq!(delay(3, base, cap, 0.5), Duration::from_millis(1200));
        for attempt in 0..64 {
            for r in [0.0, 0.3, 0.999] {
                let d = delay(attempt, base, cap, r);
                assert!(d <= cap && d >= Duration::from_millis(100).min(cap / 2));
            }
        }
        assert_eq!(delay(40, base, cap, 0.0), cap / 2);
    }
}
