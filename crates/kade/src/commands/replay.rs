//! `kade replay`: re-queue dead or done jobs, directly in the database named by the config.
//!
//! It works whether or not `kade serve` is running: a running Kade picks the jobs up on its next
//! claim; a stopped one runs them when it starts. Handlers are idempotent, so replaying a job that
//! had succeeded re-applies current state and changes nothing else.

use anyhow::Context as _;
use kade_store::Store;

use crate::cli::ReplayArgs;
use crate::config;

pub async fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let cfg = match config::load(&args.config) {
        Ok(cfg) => cfg,
        Err(errors) => anyhow::bail!("{} is not valid:\n{errors}", args.config.display()),
    };
    let store = Store::open(&cfg.database.url)
        .await
        .with_context(|| format!("opening the database {}", cfg.database.redacted_url()))?;
    let mut jobs: Vec<i64> = args.job.clone();
    for id in &args.event {
        let event = store.event(*id).await?.with_context(|| format!("there is no inbox event {id}"))?;
        jobs.push(event.job_id.with_context(|| format!("inbox event {id} has no job"))?);
    }
    if args.dead {
        jobs.extend(store.jobs(Some("dead"), 10_000).await?.iter().map(|j| j.id));
    }
    if jobs.is_empty() {
        println!("nothing to replay");
        return Ok(());
    }
    let now = kade_engine::now_ms();
    let mut failed = 0;
    for id in jobs {
        let Some(job) = store.job(id).await? else {
            println!("✗ job {id}: no such job");
            failed += 1;
            continue;
        };
        if store.replay_job(id, now).await? {
            let entity = job.entity_key.as_deref().unwrap_or("-");
            println!("✓ job {id} ({}, {entity}) queued again; it was {}", job.kind, job.state);
        } else {
            println!("✗ job {id} is {} — only dead or done jobs can be replayed", job.state);
            failed += 1;
        }
    }
    store.close().await;
    anyhow::ensure!(failed == 0, "{failed} job(s) could not be replayed");
    Ok(())
}
