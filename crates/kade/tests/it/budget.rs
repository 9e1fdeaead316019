//! The rate budget: a long sync runs at the allowed rate and receives no 429.
//!
//! Wall time against the budget floor is a benchmark figure (`kade bench picqer`,
//! docs/benchmarks.md), not a timed assertion; these tests assert the call count and that the
//! limit was never overstepped, while the limit is binding (the client had to wait).

use kade_picqer::types::ProductFilter;
use kade_sim::picqer::PicqerSimConfig;

use crate::support::{client, journal_for, sim_with};

#[tokio::test]
async fn mirrors_50000_products_within_the_budget() {
    // Picqer's proportions (one page of 100 per request, 50,000 products, 500 requests per
    // minute) with the limit raised 12x so the test takes seconds rather than a minute, and a small
    // burst so the budget binds from the 51st page on. (A debug build serves about 200 pages/s,
    // twice the limit, so the limit and not the server sets the pace.)
    let sim = sim_with(PicqerSimConfig {
        products: 50_000,
        rate_limit_per_minute: 6_000,
        rate_burst: Some(50),
        ..Default::default()
    })
    .await;
    let picqer = client(&sim);
    let started = std::time::Instant::now();
    let all = picqer.products(&ProductFilter::default()).collect_all().await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(all.len(), 50_000);
    let stats = picqer.stats();
    // 500 full pages, then the empty page that tells a client without a total count it is done.
    assert_eq!(stats.requests, 501);
    assert_eq!(stats.rate_limited, 0);
    assert!(journal_for(&sim, "GET", "/api/v1/products").iter().all(|e| e.status == 200));
    // Either the limit set the pace (the client waited for budget), or the machine was so loaded
    // that the server itself was slower than the limit — then the run took at least the floor.
    let floor = std::time::Duration::from_secs_f64((501.0 - 50.0) / 100.0);
    assert!(
        !stats.budget_wait.is_zero() || elapsed >= floor,
        "faster than the limit allows without waiting: {elapsed:?}"
    );
}

#[tokio::test]
async fn clients_sharing_a_key_share_one_budget() {
    let sim = sim_with(PicqerSimConfig {
        products: 5_000,
        rate_limit_per_minute: 3_000,
        rate_burst: Some(20),
        ..Default::default()
    })
    .await;
    let a = client(&sim);
    let b = a.share_budget(a.config().clone()).unwrap();
    let started = std::time::Instant::now();
    let (ra, rb) = tokio::join!(
        a.products(&ProductFilter::default()).collect_all(),
        b.products(&ProductFilter::default()).collect_all()
    );
    assert_eq!((ra.unwrap().len(), rb.unwrap().len()), (5_000, 5_000));
    assert_eq!(a.stats().requests, 102);
    assert_eq!(a.stats().rate_limited, 0);
    let floor = std::time::Duration::from_secs_f64((102.0 - 20.0) / 50.0);
    assert!(!a.stats().budget_wait.is_zero() || started.elapsed() >= floor);
}
