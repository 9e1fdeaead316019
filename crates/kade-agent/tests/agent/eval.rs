//! The evaluation set in the repository, run against a seeded simulator: it must meet its goal
//! (>= 95 % of facts right, no disclosures without identity).

use crate::support::*;
use kade_agent::AgentConfig;
use kade_agent::eval::{self, EvalSet};

#[tokio::test]
async fn the_evaluation_set_meets_its_goal() {
    let set = EvalSet::parse(eval::BUILTIN).expect("the built-in set parses");
    assert!(set.questions.len() >= 60, "at least 60 questions");
    let sim = sim(400).await;
    let c = client(&sim);
    eval::create_products(&c, &sim.root_url(), &set.products).await.expect("products");
    let orders = eval::create_orders(&c, &sim.root_url(), &set.orders).await.expect("orders");
    let store = store("eval").await;
    mirror(&c, &store).await;
    let agent = agent(c, store, AgentConfig::default());
    let report = eval::run(&agent, &set, &orders).await;
    for o in report.outcomes.iter().filter(|o| !o.missing.is_empty() || !o.present_but_forbidden.is_empty()) {
        eprintln!(
            "{}: missing {:?}, forbidden {:?}\n  {}",
            o.id,
            o.missing,
            o.present_but_forbidden,
            o.answer.replace('\n', "\n  ")
        );
    }
    eprintln!(
        "facts right: {}/{} ({:.1} %), disclosures: {}",
        report.facts_right,
        report.facts_total,
        report.share() * 100.0,
        report.disclosures
    );
    assert_eq!(report.disclosures, 0, "no disclosures without identity");
    assert!(report.share() >= 0.95, "share of facts right {:.3}", report.share());
    sim.shutdown().await;
}

#[test]
fn a_broken_set_is_reported_with_its_cause() {
    let e = EvalSet::parse("[[questions]]\nid = 1\n").unwrap_err();
    assert!(e.to_string().starts_with("evaluation set:"), "{e}");
    let e = EvalSet::parse("[[questions]]\nid = \"x\"\nmessage = \"m\"\nidentity = \"maybe\"\n").unwrap_err();
    assert!(e.to_string().contains("maybe"), "{e}");
}
