//! `kade demo`: a walk-through on embedded defaults. A seeded Picqer simulator, the Picqer client
//! mirroring its catalogue within the rate budget, hooks with secrets, an order taken from concept
//! to completed by simulated warehouse staff, and every signed webhook verified on arrival.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kade_picqer::types::{NewHook, NewOrder, NewOrderLine, OrderStatus, ProductFilter};
use kade_picqer::webhook::WebhookSecret;
use kade_picqer::{ApiKey, ClientConfig, PicqerClient};
use kade_sim::picqer::{PicqerSimConfig, start};
use serde_json::json;

use super::receiver::{self, Received};
use crate::cli::DemoArgs;

const EVENTS: [&str; 5] = [
    "orders.status_changed",
    "orders.completed",
    "picklists.closed",
    "picklists.shipments.created",
    "products.free_stock_changed",
];

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    println!("Kade demo — everything below runs locally, on simulators.\n");

    let sim = start(PicqerSimConfig { products: args.products, ..PicqerSimConfig::default() }, args.listen)
        .await
        .context("starting the Picqer simulator")?;
    println!("1. Picqer simulator up at {} ({} products, 500 requests/minute)", sim.base_url(), args.products);

    let config = ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key())).contact("kade demo");
    let picqer = PicqerClient::new(config)?;

    let warehouses = picqer.warehouses().await?;
    let vat = picqer.vatgroups().await?;
    println!(
        "2. Connected: {} warehouses ({}), {} VAT groups",
        warehouses.len(),
        warehouses.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(", "),
        vat.len()
    );

    let t = Instant::now();
    let mut pager = picqer.products(&ProductFilter::default());
    let mut catalogue = Vec::new();
    while let Some(page) = pager.next_page().await? {
        catalogue.extend(page);
    }
    let calls = picqer.stats().requests - 2;
    println!(
        "3. Mirrored the catalogue: {} products in {} list calls ({:.2}s, {} rate-limit hits)",
        catalogue.len(),
        calls,
        t.elapsed().as_secs_f64(),
        picqer.stats().rate_limited
    );

    let secret = receiver::random_secret()?;
    let (url, mut events) = receiver::start(vec![WebhookSecret::new(secret.as_bytes())]).await?;
    for event in EVENTS {
        let hook = NewHook {
            name: format!("Kade demo {event}"),
            event: event.into(),
            address: url.clone(),
            secret: Some(secret.clone()),
        };
        picqer.create_hook(&hook).await?;
    }
    println!("4. Subscribed {} hooks (each with a secret) to a local receiver at {url}", EVENTS.len());

    let product = catalogue
        .iter()
        .find(|p| p.free_stock(&[]) >= 2 && !p.has_unlimited_stock())
        .context("the seeded catalogue has no product with free stock")?;
    let reference = "DEMO #1001 / KADEDEMO";
    // Picqer order creation is not idempotent: look the reference up before creating.
    let order = match picqer.orders_by_reference(reference).await?.into_iter().next() {
        Some(existing) => existing,
        None => {
            let new = NewOrder {
                reference: Some(reference.into()),
                emailaddress: Some("jan@example.nl".into()),
                deliveryname: Some("Jan Jansen".into()),
                deliveryaddress: Some("Straat 1".into()),
                deliveryzipcode: Some("1234AB".into()),
                deliverycity: Some("Arnhem".into()),
                deliverycountry: Some("NL".into()),
                invoicename: Some("Jan Jansen".into()),
                invoicecountry: Some("NL".into()),
                products: vec![NewOrderLine::by_code(product.productcode.clone(), 2)],
                ..Default::default()
            };
            picqer.create_order(&new).await?
        }
    };
    println!(
        "5. Order {} created as {} for 2 x {} ({})",
        order.orderid,
        order.status.as_str(),
        product.name,
        product.productcode
    );

    let order = picqer.process_order(order.idorder).await?;
    println!("6. Order sent to the warehouse: {}, {} picklist(s)", order.status.as_str(), order.picklists.len());

    let control = reqwest::Client::new();
    let root = sim.root_url();
    for (step, body) in
        [("pick", json!({})), ("ship", json!({"parcels": [{"carrier": "postnl"}, {"carrier": "postnl"}]}))]
    {
        let resp = control.post(format!("{root}/_sim/orders/{}/{step}", order.idorder)).json(&body).send().await?;
        if !resp.status().is_success() {
            bail!("simulated warehouse could not {step} the order: {}", resp.text().await.unwrap_or_default());
        }
    }
    println!("7. Warehouse staff (simulated) picked the order and shipped it in two parcels");

    println!("8. Signed webhooks received and verified:");
    // Deliveries run concurrently, as Picqer's may, so arrival order can differ from emission
    // order: wait for the completion, then give stragglers a moment.
    let mut deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut completed = false;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(Received::Event(env))) => {
                let what = env.resource().map(|(k, id)| format!("id{k} {id}")).unwrap_or_default();
                let status =
                    env.data.get("status").and_then(|s| s.as_str()).map(|s| format!(" → {s}")).unwrap_or_default();
                println!("   ✓ {:<30} {what}{status}", env.event);
                if env.event == "orders.completed" {
                    completed = true;
                    deadline = tokio::time::Instant::now() + Duration::from_millis(300);
                }
            }
            Ok(Some(Received::Refused(why))) => println!("   ✗ refused: {why}"),
            Ok(None) | Err(_) if completed => break,
            Ok(None) | Err(_) => bail!("the order's webhooks did not all arrive within 10 s"),
        }
    }

    let order = picqer.order(order.idorder).await?;
    if order.status != OrderStatus::Completed {
        bail!("expected the order to be completed, it is {}", order.status.as_str());
    }
    for summary in &order.picklists {
        for s in picqer.shipments(summary.idpicklist).await? {
            let carrier = s.public_providername.clone().or(s.provider.clone()).unwrap_or_default();
            if s.parcels.is_empty() {
                let (code, url) = (s.trackingcode.unwrap_or_default(), s.tracktraceurl.unwrap_or_default());
                println!("   parcel via {carrier}: {code} {url}");
            }
            for p in s.parcels {
                let (code, url) = (p.tracking_code.unwrap_or_default(), p.tracking_url.unwrap_or_default());
                println!("   parcel via {carrier}: {code} {url}");
            }
        }
    }
    let stats = picqer.stats();
    println!(
        "9. Done in {:.1}s: order {} is {}; {} API calls, {} rate-limit hits, {} retries.",
        started.elapsed().as_secs_f64(),
        order.orderid,
        order.status.as_str(),
        stats.requests,
        stats.rate_limited,
        stats.retries
    );

    if args.keep_running {
        println!(
            "\nThe simulator keeps running: curl -u {}: {}/orders   (Ctrl-C to stop)",
            sim.api_key(),
            sim.base_url()
        );
        tokio::signal::ctrl_c().await?;
    }
    sim.shutdown().await;
    Ok(())
}
