//! Mirror: version rule, batches, stock, references, sync state.

use kade_store::{MirrorProduct, MirrorStock, SyncState};
use serde_json::json;

use crate::each_backend;

fn product(id: i64, code: &str, version: i64, free: i64) -> MirrorProduct {
    MirrorProduct {
        idproduct: id,
        productcode: code.into(),
        name: format!("Product {code} v{version}"),
        barcode: Some(format!("87{id:011}")),
        active: true,
        version,
        data: json!({ "idproduct": id, "productcode": code, "updated": version }),
        stock: vec![
            MirrorStock { idwarehouse: 2, stock: free + 1, reserved: 1, freestock: free },
            MirrorStock { idwarehouse: 1, stock: 10, reserved: 0, freestock: 10 },
        ],
    }
}

#[tokio::test]
async fn an_older_version_never_overwrites_a_newer_one() {
    each_backend(async |s| {
        let v2 = product(1, "SKU-1", 200, 5);
        assert!(s.upsert_product("shop", &v2).await.unwrap(), "first write");
        let v1 = product(1, "SKU-1", 100, 99);
        assert!(!s.upsert_product("shop", &v1).await.unwrap(), "older event arrives late: ignored");

        let stored = s.product("shop", 1).await.unwrap().unwrap();
        assert_eq!(stored.version, 200);
        assert_eq!(stored.stock.iter().map(|w| (w.idwarehouse, w.freestock)).collect::<Vec<_>>(), [(1, 10), (2, 5)]);

        let mut same = product(1, "SKU-1", 200, 3);
        same.active = false;
        same.barcode = None;
        same.stock.truncate(1);
        assert!(s.upsert_product("shop", &same).await.unwrap(), "an equal version overwrites (a re-read)");
        let stored = s.product("shop", 1).await.unwrap().unwrap();
        let mut expected = same.clone();
        expected.stock.sort_by_key(|w| w.idwarehouse);
        assert_eq!(stored, expected, "stock rows replaced, not merged");

        assert!(s.upsert_product("other-connection", &v1).await.unwrap(), "mirrors are per connection");
        assert_eq!(s.product("other-connection", 1).await.unwrap().unwrap().version, 100);
        assert!(s.product("shop", 2).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn batches_commit_page_by_page_with_the_same_rule() {
    each_backend(async |s| {
        let page: Vec<_> = (1..=250).map(|i| product(i, &format!("SKU-{i}"), 10, i)).collect();
        assert_eq!(s.upsert_products("shop", &page).await.unwrap(), 250);
        assert_eq!(s.count_products("shop").await.unwrap(), 250);
        assert_eq!(s.count_products("nobody").await.unwrap(), 0);

        // Half the products are older than stored, half newer.
        let mixed: Vec<_> =
            (1..=250).map(|i| product(i, &format!("SKU-{i}"), if i % 2 == 0 { 11 } else { 9 }, 0)).collect();
        assert_eq!(s.upsert_products("shop", &mixed).await.unwrap(), 125);
        assert_eq!(s.product("shop", 2).await.unwrap().unwrap().version, 11);
        assert_eq!(s.product("shop", 3).await.unwrap().unwrap().version, 10);
        assert_eq!(s.upsert_products("shop", &[]).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn products_are_found_by_code_with_their_stock() {
    each_backend(async |s| {
        s.upsert_products("shop", &[product(1, "JACKET-BLUE", 1, 4), product(2, "JACKET-RED", 1, 0)]).await.unwrap();
        // Picqer does not enforce unique product codes.
        s.upsert_product("shop", &product(3, "JACKET-BLUE", 1, 7)).await.unwrap();
        let found = s.product_by_code("shop", "JACKET-BLUE").await.unwrap();
        assert_eq!(found.iter().map(|p| p.idproduct).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(found[1].stock.iter().find(|w| w.idwarehouse == 2).unwrap().freestock, 7);
        assert_eq!(found[0], s.product("shop", 1).await.unwrap().unwrap());
        assert!(s.product_by_code("shop", "NOPE").await.unwrap().is_empty());
        assert!(s.product_by_code("other", "JACKET-BLUE").await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn references_are_stored_per_connection_and_kind() {
    each_backend(async |s| {
        s.put_reference("shop", "warehouse", 2, json!({ "idwarehouse": 2, "name": "Overflow" })).await.unwrap();
        s.put_reference("shop", "warehouse", 1, json!({ "idwarehouse": 1, "name": "Main" })).await.unwrap();
        s.put_reference("shop", "tag", 1, json!({ "idtag": 1, "title": "VIP" })).await.unwrap();
        s.put_reference("shop", "warehouse", 1, json!({ "idwarehouse": 1, "name": "Main (renamed)" })).await.unwrap();
        let warehouses = s.references("shop", "warehouse").await.unwrap();
        assert_eq!(
            warehouses,
            [json!({ "idwarehouse": 1, "name": "Main (renamed)" }), json!({ "idwarehouse": 2, "name": "Overflow" })]
        );
        assert_eq!(s.references("shop", "tag").await.unwrap().len(), 1);
        assert!(s.references("shop", "vatgroup").await.unwrap().is_empty());
        assert!(s.references("other", "warehouse").await.unwrap().is_empty());
        assert!(s.put_reference("shop", "", 1, json!({})).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn sync_state_is_kept_per_connection_and_name() {
    each_backend(async |s| {
        assert!(s.sync_state("shop", "catalogue_full").await.unwrap().is_none());
        let mut st = SyncState {
            connection: "shop".into(),
            name: "catalogue_full".into(),
            cursor: json!({ "offset": 4000 }),
            status: "running".into(),
            items: 4000,
            last_run_ms: 1_000,
            last_error: None,
        };
        s.put_sync_state(&st).await.unwrap();
        assert_eq!(s.sync_state("shop", "catalogue_full").await.unwrap().unwrap(), st);
        st.status = "failed".into();
        st.last_error = Some("picqer unreachable".into());
        st.cursor = json!({ "updated_after": "2026-01-01 00:00:00" });
        s.put_sync_state(&st).await.unwrap();
        assert_eq!(s.sync_state("shop", "catalogue_full").await.unwrap().unwrap(), st);
        assert!(s.sync_state("shop", "catalogue_incremental").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn the_mirror_scans_in_keyset_pages_with_stock() {
    each_backend(async |s| {
        let page: Vec<_> = (1..=25).map(|i| product(i * 3, &format!("SKU-{i}"), 10, i)).collect();
        s.upsert_products("shop", &page).await.unwrap();
        s.upsert_product("other", &product(1, "ELSEWHERE", 1, 1)).await.unwrap();
        let mut seen = Vec::new();
        let mut after = 0;
        loop {
            let got = s.products_after("shop", after, 10).await.unwrap();
            for p in &got {
                assert_eq!(p.stock.len(), 2, "stock attached to {}", p.productcode);
                assert_eq!(p.stock[0].idwarehouse, 1);
            }
            seen.extend(got.iter().map(|p| p.idproduct));
            match got.last() {
                Some(last) if got.len() == 10 => after = last.idproduct,
                _ => break,
            }
        }
        assert_eq!(seen, (1..=25).map(|i| i * 3).collect::<Vec<_>>(), "every product once, in id order");
        assert!(s.products_after("nobody", 0, 10).await.unwrap().is_empty());
        assert!(s.products_after("shop", 0, 0).await.is_err(), "a zero limit is refused");
    })
    .await;
}

#[tokio::test]
async fn a_bounded_write_reports_the_stored_version_it_kept() {
    use kade_store::VersionedWrite;
    each_backend(async |s| {
        // A delivery of second 5 covers 5_000..=5_999: written over anything before 5_000.
        let first = product(1, "SKU-1", 5_999, 5);
        assert_eq!(s.upsert_product_if_before("shop", &first, 5_000).await.unwrap(), VersionedWrite::Written);
        // An older second is refused and told what is stored.
        let older = product(1, "SKU-1", 3_999, 3);
        assert_eq!(
            s.upsert_product_if_before("shop", &older, 3_000).await.unwrap(),
            VersionedWrite::Kept { stored_version: 5_999 }
        );
        // The same second is refused too: the caller decides (ambiguous order).
        let same = product(1, "SKU-1", 5_999, 6);
        assert_eq!(
            s.upsert_product_if_before("shop", &same, 5_000).await.unwrap(),
            VersionedWrite::Kept { stored_version: 5_999 }
        );
        let stored = s.product("shop", 1).await.unwrap().unwrap();
        assert_eq!((stored.version, stored.stock[1].freestock), (5_999, 5), "nothing of the refused writes");
        // A read asked at 5_500 (inside the second) is newer than nothing and older than nothing
        // here: the plain rule lets it replace an older version only.
        assert!(!s.upsert_product("shop", &product(1, "SKU-1", 5_500, 7)).await.unwrap());
        let newer = product(1, "SKU-1", 9_999, 9);
        assert_eq!(s.upsert_product_if_before("shop", &newer, 9_000).await.unwrap(), VersionedWrite::Written);
        assert_eq!(s.product("shop", 1).await.unwrap().unwrap().stock[1].freestock, 9);
        // A bound after the version is a caller's mistake.
        assert!(s.upsert_product_if_before("shop", &product(2, "SKU-2", 10, 1), 11).await.is_err());
    })
    .await;
}
