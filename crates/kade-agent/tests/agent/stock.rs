//! Stock questions on the mirror of a Picqer simulator: variants, typos, Dutch, ambiguity,
//! unknown products and the sellable-stock formula.

use crate::support::*;
use kade_agent::stock::StockFormula;
use kade_agent::{AgentConfig, Channel, Question};

fn ask(message: &str) -> Question {
    Question { message: message.into(), channel: Channel::Chat, from: None, language: None }
}

async fn world(tag: &str) -> (kade_sim::picqer::RunningSim, kade_picqer::PicqerClient, kade_store::Store) {
    let sim = sim(40).await;
    let c = client(&sim);
    product(&sim, &c, "ZEP-0001-BLU-M", "Zephyr Jacket Blue M", 30).await;
    product(&sim, &c, "ZEP-0001-BLU-L", "Zephyr Jacket Blue L", 3).await;
    product(&sim, &c, "ZEP-0001-RED-M", "Zephyr Jacket Red M", 0).await;
    let store = store(tag).await;
    mirror(&c, &store).await;
    (sim, c, store)
}

#[tokio::test]
async fn stock_answers_in_stock_low_and_out_in_both_languages() {
    let (sim, c, store) = world("stock").await;
    let agent = agent(c, store, AgentConfig::default());
    let cases = [
        ("Is the Zephyr Jacket Blue M in stock?", "Zephyr Jacket Blue M (ZEP-0001-BLU-M) is in stock."),
        (
            "do you have the zephyr jacket blue in size L",
            "Zephyr Jacket Blue L (ZEP-0001-BLU-L) is in stock, but only a few are left.",
        ),
        (
            "Hebben jullie de rode Zephyr jas nog in maat M?",
            "Zephyr Jacket Red M (ZEP-0001-RED-M) is op dit moment niet op voorraad.",
        ),
        ("zephir jackt blue medium available?", "Zephyr Jacket Blue M (ZEP-0001-BLU-M) is in stock."),
        ("is ZEP-0001-RED-M in stock", "Zephyr Jacket Red M (ZEP-0001-RED-M) is out of stock at the moment."),
        (
            "blauwe zephyr jas maat L op voorraad?",
            "Zephyr Jacket Blue L (ZEP-0001-BLU-L) is op voorraad, maar er zijn er nog maar een paar.",
        ),
    ];
    for (q, expected) in cases {
        let r = agent.ask(&ask(q)).await.unwrap();
        assert_eq!(r.answer, expected, "question {q:?}");
        assert_eq!(r.facts.intents, ["stock"]);
        assert_eq!(r.facts.products.len(), 1);
        assert!(r.sources.iter().any(|s| s == "mirror:main/products"));
    }
    let r = agent.ask(&ask("Is the blue zephyr jacket in stock?")).await.unwrap();
    assert!(r.answer.starts_with("Several products match"), "{}", r.answer);
    assert!(r.answer.contains("Zephyr Jacket Blue L (ZEP-0001-BLU-L): only a few left"));
    assert!(r.answer.contains("Zephyr Jacket Blue M (ZEP-0001-BLU-M): in stock"));
    assert!(!r.answer.contains("Red"), "a colour rules out other colours");
    let r = agent.ask(&ask("Verkopen jullie flamingo paraplu's?")).await.unwrap();
    assert!(r.answer.starts_with("Ik kon geen product vinden"), "{}", r.answer);
    assert!(r.facts.products.is_empty());
    let r = agent.ask(&ask("Do you have flamingo umbrellas in stock?")).await.unwrap();
    assert!(r.answer.starts_with("I could not find a product matching \"flamingo umbrellas\""), "{}", r.answer);
    let r = agent.ask(&ask("hello")).await.unwrap();
    assert_eq!(r.facts.intents, ["help"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_configured_formula_decides_availability() {
    let (sim, c, store) = world("formula").await;
    let strict = AgentConfig {
        stock: StockFormula { buffer: 3, low_at: 10, ..StockFormula::default() },
        ..AgentConfig::default()
    };
    let agent = agent(c.clone(), store.clone(), strict);
    let r = agent.ask(&ask("ZEP-0001-BLU-L in stock?")).await.unwrap();
    assert!(r.answer.ends_with("is out of stock at the moment."), "3 units minus a buffer of 3: {}", r.answer);
    let r = agent.ask(&ask("ZEP-0001-BLU-M in stock?")).await.unwrap();
    assert_eq!((r.facts.products[0].sellable, r.answer.contains("only a few")), (27, false));

    // Only the overflow warehouse counts: nothing there.
    let overflow = AgentConfig {
        stock: StockFormula { warehouses: vec![102], ..StockFormula::default() },
        ..AgentConfig::default()
    };
    let agent = crate::support::agent(c, store, overflow);
    let r = agent.ask(&ask("ZEP-0001-BLU-M in stock?")).await.unwrap();
    assert_eq!(r.facts.products[0].sellable, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_index_follows_the_mirror() {
    let (sim, c, store) = world("refresh").await;
    let agent = agent(c.clone(), store.clone(), AgentConfig::default());
    let r = agent.ask(&ask("ZEP-0001-RED-M in stock?")).await.unwrap();
    assert!(r.answer.contains("out of stock"));
    let id = c.products_by_code("ZEP-0001-RED-M").await.unwrap()[0].idproduct.0;
    set_stock(&sim, id, 40).await;
    mirror(&c, &store).await;
    agent.refresh_catalogue().await;
    let r = agent.ask(&ask("ZEP-0001-RED-M in stock?")).await.unwrap();
    assert!(r.answer.ends_with("is in stock."), "{}", r.answer);
    sim.shutdown().await;
}
