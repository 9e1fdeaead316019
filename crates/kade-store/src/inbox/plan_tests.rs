//! The in-memory replay of `enqueue_on!` must match what event-by-event ingest did; the contract
//! suite checks the database side, these check the corner cases that need no database.

use std::collections::HashMap;

use serde_json::json;

use super::*;

fn job(kind: &str, entity: Option<&str>, run_at_ms: i64, dedupe: Option<&str>) -> NewJob {
    NewJob {
        kind: kind.into(),
        entity_key: entity.map(Into::into),
        payload: json!({ "kind": kind }),
        run_at_ms,
        max_attempts: 3,
        dedupe_key: dedupe.map(Into::into),
        priority: 0,
    }
}

fn no_queued() -> HashMap<(String, String), Option<String>> {
    HashMap::new()
}

#[test]
fn sql_binds_one_placeholder_per_value_in_text_order() {
    use Style::{Anonymous, Numbered};
    assert_eq!(tuples(Numbered, 2, 2, 1), "($2, $3), ($4, $5)");
    assert_eq!(tuples(Anonymous, 2, 2, 1), "(?, ?), (?, ?)");
    assert_eq!(list(Numbered, 3, 2), "$3, $4, $5");
    assert_eq!(list(Anonymous, 3, 2), "?, ?, ?");
    assert!(insert_inbox_sql(Numbered, 2).contains("($10, $11, $12, $13, $14, $15, $16, $17, $18)"));
    assert!(upsert_jobs_sql(Numbered, 1).contains("($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0)"));
    assert_eq!(
        link_sql(Numbered, 2),
        "UPDATE inbox SET job_id = CASE id WHEN $1 THEN $2 WHEN $3 THEN $4 END WHERE id IN ($5, $6)"
    );
    assert_eq!(
        link_sql(Anonymous, 2),
        "UPDATE inbox SET job_id = CASE id WHEN ? THEN ? WHEN ? THEN ? END WHERE id IN (?, ?)"
    );
    // Anonymous and numbered forms differ only in the spelling of placeholders.
    for (n, a) in [
        (insert_inbox_sql(Numbered, 3), insert_inbox_sql(Anonymous, 3)),
        (upsert_jobs_sql(Numbered, 3), upsert_jobs_sql(Anonymous, 3)),
    ] {
        let mut spelled = n.clone();
        for i in (1..=40).rev() {
            spelled = spelled.replace(&format!("${i}"), "?");
        }
        assert_eq!(spelled, a);
        assert_eq!(n.matches('$').count(), a.matches('?').count());
    }
}

#[test]
fn repeats_in_a_batch_are_duplicates_of_the_first_occurrence() {
    let ev = |k: &str| crate::records::InboundEvent {
        connection: "c".into(),
        source: "s".into(),
        dedupe_key: k.into(),
        event: "e".into(),
        entity_key: None,
        headers: json!({}),
        body: Vec::new(),
        verified: true,
        received_ms: 0,
    };
    let (a, b, j) = (ev("a"), ev("b"), job("k", None, 0, None));
    let items = [(&a, &j), (&b, &j), (&a, &j)];
    let (unique, first_of) = first_occurrences(&items);
    assert_eq!((unique, first_of.clone()), (vec![0, 1], vec![0, 1, 0]));
    let slots =
        vec![Some(Ingested::Accepted { event_id: 7, job_id: 9 }), Some(Ingested::Duplicate { event_id: 3 }), None];
    let out = finish(&first_of, slots).unwrap();
    assert_eq!(out[2], Ingested::Duplicate { event_id: 7 });
    assert!(finish(&[0], vec![None]).is_err());
}

#[test]
fn jobs_of_one_entity_coalesce_and_point_at_the_newest_event() {
    let (a, b, c) = (job("k", Some("p:1"), 50, None), job("k", Some("p:1"), 20, None), job("k", None, 5, None));
    let mut b = b;
    b.priority = 4;
    let plan = JobPlan::new(&[(1, &a), (2, &c), (3, &b)], &HashMap::new(), &no_queued());
    assert_eq!(plan.groups.len(), 2);
    let g = &plan.groups[0];
    assert_eq!((g.run_at_ms, g.priority, g.payload["event_id"].clone()), (20, 4, json!(3)));
    assert_eq!(plan.targets, [Target::Group(0), Target::Group(1), Target::Group(0)]);
    // RETURNING order is not trusted: entity rows match by key, others by ascending id.
    let ids = plan.job_ids(vec![(11, "k".into(), None), (40, "k".into(), Some("p:1".into()))]).unwrap();
    assert_eq!(ids, [40, 11, 40]);
    assert!(plan.job_ids(vec![(11, "k".into(), None)]).is_err());
}

#[test]
fn a_known_dedupe_key_returns_the_existing_job_and_new_keys_resolve_within_the_batch() {
    let known = HashMap::from([("old".to_string(), 99)]);
    let (a, b, c) =
        (job("k", None, 0, Some("old")), job("k", None, 0, Some("new")), job("x", Some("e"), 0, Some("new")));
    let plan = JobPlan::new(&[(1, &a), (2, &b), (3, &c)], &known, &no_queued());
    assert_eq!(plan.targets, [Target::Existing(99), Target::Group(0), Target::Group(0)]);
    assert_eq!(plan.groups.len(), 1);
    assert_eq!(plan.groups[0].payload["event_id"], json!(2), "a dedupe hit leaves the job as it was");
}

#[test]
fn a_queued_job_keeps_its_own_dedupe_key_so_the_new_one_is_not_recorded() {
    let queued = HashMap::from([(("k".to_string(), "e".to_string()), Some("theirs".to_string()))]);
    let (a, b) = (job("k", Some("e"), 0, Some("mine")), job("k", None, 0, Some("mine")));
    let plan = JobPlan::new(&[(1, &a), (2, &b)], &HashMap::new(), &queued);
    assert_eq!(plan.targets, [Target::Group(0), Target::Group(1)], "\"mine\" was never stored");
    let plan = JobPlan::new(&[(1, &a), (2, &b)], &HashMap::new(), &no_queued());
    assert_eq!(plan.targets, [Target::Group(0), Target::Group(0)]);
}

#[test]
fn lookups_are_asked_for_only_when_they_can_matter() {
    let (a, b) = (job("k", Some("e"), 0, None), job("k", None, 0, Some("d")));
    assert!(coalesce_lookup(&[&a, &b]).is_none());
    assert_eq!(job_dedupe_keys(&[&a, &b, &b]), ["d"]);
    let c = job("j", Some("f"), 0, Some("d2"));
    assert_eq!(coalesce_lookup(&[&a, &b, &c]), Some((vec!["j", "k"], vec!["e", "f"])));
}
