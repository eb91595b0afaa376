//! An app's whole listing comes in pages (`GET /v1/wallets?cursor=…&limit=…`): every wallet
//! once, oldest first, whatever the page size; bad paging parameters get a code.

mod support;

use dyad_proto::WalletType;
use dyad_sdk::Dyad;
use dyad_test_support::custom_id;
use support::{expect_error, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_wallet_once_in_order_across_pages() {
    let t = TestServer::start().await;
    let key = t.app("bulk").await;
    let other = t.app("other").await;
    let app = Dyad::new(&t.url(), &key);
    let mut made = Vec::new();
    for i in 0..23 {
        made.push(
            app.create_pregen_wallet(WalletType::Solana, &custom_id(&format!("p-{i}")))
                .await
                .unwrap()
                .id,
        );
    }
    Dyad::new(&t.url(), &other)
        .create_pregen_wallet(WalletType::Solana, &custom_id("not-yours"))
        .await
        .unwrap();

    for limit in [1, 5, 10, 23, 1000] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = app
                .list_pregen_wallets_page(cursor.as_deref(), Some(limit))
                .await
                .unwrap();
            assert!(page.wallets.len() <= limit as usize);
            seen.extend(page.wallets.iter().map(|w| w.id));
            pages += 1;
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, made, "limit {limit}");
        assert_eq!(pages, made.len().div_ceil(limit as usize).max(1), "limit {limit}");
    }
    let all: Vec<_> = app
        .get_all_pregen_wallets()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(all, made);

    for (query, why) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage", "cursor"),
        ("cursor=a&cursor=b", "once"),
        ("email=a@example.com&limit=5", "not paged"),
    ] {
        let body = expect_error(
            t.get(&key, &format!("/v1/wallets?{query}")).await,
            400,
            "INVALID_REQUEST",
        )
        .await;
        assert!(body["message"].as_str().unwrap().contains(why), "{query}: {body}");
    }
}
