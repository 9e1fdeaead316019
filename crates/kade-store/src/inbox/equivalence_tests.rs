//! Differential check of batched ingest: random batches (repeated inbox keys inside and across
//! batches, coalescing entities, job dedupe keys, running jobs that must not absorb new events)
//! through `ingest_many`, several chunks each, must answer and leave the database exactly as the
//! same events ingested one at a time, and so must the multi-row statement path PostgreSQL
//! uses (run here on SQLite). Ids are compared by rank: sequences may skip numbers
//! differently on conflicts, which nothing may depend on.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::Store;
use crate::records::{InboundEvent, Ingested, NewJob};

struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn batch(r: &mut Lcg, n: usize, round: i64) -> Vec<(InboundEvent, NewJob)> {
    (0..n)
        .map(|i| {
            let entity = (r.below(4) != 0).then(|| format!("p:{}", r.below(8)));
            let kind = ["a", "b"][r.below(2) as usize].to_string();
            let job = NewJob {
                kind,
                entity_key: entity.clone(),
                payload: if r.below(6) == 0 { json!(["not an object"]) } else { json!({ "i": i }) },
                run_at_ms: r.below(1000) as i64,
                max_attempts: 1 + r.below(3) as i32,
                dedupe_key: (r.below(5) == 0).then(|| format!("d{}", r.below(6))),
                priority: r.below(3) as i32,
            };
            let ev = InboundEvent {
                connection: "shop".into(),
                source: "webhook".into(),
                dedupe_key: format!("ev{}", r.below(n as u64 * 2)),
                event: "e".into(),
                entity_key: entity,
                headers: json!({ "round": round }),
                body: vec![i as u8, 0xff],
                verified: true,
                received_ms: round * 1000 + i as i64,
            };
            (ev, job)
        })
        .collect()
}

/// Everything observable, with ids replaced by their rank in their table.
async fn snapshot(s: &Store, answers: &[Ingested]) -> Value {
    let events = s.events(None, 100_000).await.unwrap();
    let jobs = s.jobs(None, 100_000).await.unwrap();
    let rank = |ids: Vec<i64>| -> HashMap<i64, usize> {
        let mut ids = ids;
        ids.sort_unstable();
        ids.into_iter().enumerate().map(|(r, id)| (id, r)).collect()
    };
    let ev = rank(events.iter().map(|e| e.id).collect());
    let jb = rank(jobs.iter().map(|j| j.id).collect());
    let answers: Vec<Value> = answers
        .iter()
        .map(|a| match *a {
            Ingested::Accepted { event_id, job_id } => json!(["accepted", ev[&event_id], jb[&job_id]]),
            Ingested::Duplicate { event_id } => json!(["duplicate", ev[&event_id]]),
        })
        .collect();
    let events: Vec<Value> =
        events.iter().map(|e| json!([ev[&e.id], e.dedupe_key, e.headers, e.body, e.job_id.map(|j| jb[&j])])).collect();
    let jobs: Vec<Value> = jobs
        .iter()
        .map(|j| {
            let mut payload = j.payload.clone();
            if let Some(id) = payload.get("event_id").and_then(Value::as_i64) {
                payload["event_id"] = json!(ev[&id]);
            }
            json!([jb[&j.id], j.kind, j.entity_key, payload, j.state, j.priority, j.max_attempts, j.run_at_ms])
        })
        .collect();
    json!({ "answers": answers, "events": events, "jobs": jobs })
}

#[tokio::test]
async fn batches_behave_exactly_like_one_event_at_a_time() {
    let dir = std::env::temp_dir().join(format!("kade_ingest_equiv_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = |name: &str| format!("sqlite:{}", dir.join(name).display());
    let batched = Store::open(&url("batched.db")).await.unwrap();
    let single = Store::open(&url("single.db")).await.unwrap();
    // PostgreSQL's multi-row path, run on SQLite: the ingest writer must match it too.
    let statements = Store::open(&url("statements.db")).await.unwrap();
    let mut r = Lcg(7);
    for round in 0..4 {
        let items = batch(&mut r, 300, round);
        let a = batched.ingest_many(&items).await.unwrap();
        let mut b = Vec::new();
        for (ev, job) in &items {
            b.push(single.ingest(ev, job).await.unwrap());
        }
        let refs: Vec<_> = items.iter().map(|(e, j)| (e, j)).collect();
        let c = statements.ingest_statements(&refs).await.unwrap();
        let expected = snapshot(&single, &b).await;
        assert_eq!(snapshot(&batched, &a).await, expected, "round {round}: batch vs one at a time");
        assert_eq!(snapshot(&statements, &c).await, expected, "round {round}: multi-row statements");
        // Some queued jobs start running: later events for their entity must get a new job.
        for s in [&batched, &single, &statements] {
            s.claim("w", 3, 60_000, 10_000).await.unwrap();
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
