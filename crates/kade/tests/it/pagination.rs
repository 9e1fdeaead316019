//! Offset pagination over a large catalogue.

use std::collections::BTreeSet;

use futures_util::TryStreamExt as _;
use kade_picqer::types::ProductFilter;

use crate::support::{client, journal_for, sim};

#[tokio::test]
async fn pages_through_10001_products_in_order_and_resumes_from_an_offset() {
    let sim = sim(10_001).await;
    let picqer = client(&sim);

    let all: Vec<_> = picqer.products(&ProductFilter::default()).into_stream().try_collect().await.unwrap();
    assert_eq!(all.len(), 10_001);
    assert!(all.windows(2).all(|w| w[0].idproduct < w[1].idproduct), "stable order by id");
    assert_eq!(journal_for(&sim, "GET", "/api/v1/products").len(), 101, "100 full pages and one short page");

    // Stop after 40 pages, keep the offset, resume with a new pager: same set, no overlap.
    let mut first = picqer.products(&ProductFilter::default());
    let mut seen = Vec::new();
    for _ in 0..40 {
        seen.extend(first.next_page().await.unwrap().unwrap());
    }
    let resume_at = first.offset();
    assert_eq!(resume_at, 4_000);
    let rest = picqer.products(&ProductFilter::default()).starting_at(resume_at).collect_all().await.unwrap();
    seen.extend(rest);
    let ids: BTreeSet<_> = seen.iter().map(|p| p.idproduct).collect();
    assert_eq!((seen.len(), ids.len()), (10_001, 10_001));
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let sim = sim(300).await;
    let picqer = client(&sim);
    let some = picqer.products(&ProductFilter::default()).next_page_owned().await;
    let code = some[17].productcode.clone();
    let found = picqer.products_by_code(&code).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].productcode, code);
    let ids = vec![some[3].idproduct, some[5].idproduct];
    let by_ids =
        picqer.products(&ProductFilter { idproducts: ids.clone(), ..Default::default() }).collect_all().await.unwrap();
    assert_eq!(by_ids.iter().map(|p| p.idproduct).collect::<Vec<_>>(), ids);
}

trait FirstPage {
    async fn next_page_owned(self) -> Vec<kade_picqer::types::Product>;
}

impl FirstPage for kade_picqer::Pager<kade_picqer::types::Product> {
    async fn next_page_owned(mut self) -> Vec<kade_picqer::types::Product> {
        self.next_page().await.unwrap().unwrap()
    }
}
