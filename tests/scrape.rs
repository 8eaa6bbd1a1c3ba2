//! Links end to end: `trove add <url>` + `trove work` against a real HTTP server on
//! 127.0.0.1 started by the test. The fetch layer's own cases (timeouts, redirects, size
//! caps, charsets, rate limits) are covered in crates/trove-scrape/tests; here we check
//! what a person sees: statuses, messages, attempts, and that refreshing an unchanged page
//! does not process it again.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use trove_tests::{assert_db_consistent, Sandbox};

#[derive(Default)]
struct Log {
    /// (path, If-None-Match) of every request
    requests: Mutex<Vec<(String, Option<String>)>>,
    flaky: AtomicUsize,
}

const ARTICLE: &str = r#"<!doctype html><html><head><title>Tide pools of the north coast</title></head>
<body><nav><a href="/">Home</a> <a href="/shop">Shop</a> <a href="/login">Log in</a></nav>
<div class="ad">BUY CHEAP SUNGLASSES NOW</div>
<article><h1>Tide pools of the north coast</h1>
<p>At low tide the basalt shelves expose hundreds of pools where anemones, sea stars and
hermit crabs wait for the water to return. Visitors should step only on bare rock.</p>
<p>The richest pools lie below the lighthouse, where cold upwelling water brings plankton
close to shore and the kelp forest begins a few metres out.</p>
<p>Rangers lead walks on weekend mornings; check the tide table before you set out, since
the shelf floods quickly when the tide turns.</p></article>
<footer>Copyright 2026 Coastal Trust. Privacy. Terms.</footer></body></html>"#;

fn app(log: Arc<Log>) -> Router {
    let logged = |log: &Arc<Log>, path: &str, h: &HeaderMap| {
        let inm = h
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        log.requests.lock().unwrap().push((path.to_owned(), inm));
    };
    let l1 = log.clone();
    let l2 = log.clone();
    let l3 = log.clone();
    let l4 = log.clone();
    Router::new()
        .route(
            "/robots.txt",
            get(|| async { "User-agent: *\nDisallow: /private/\n" }),
        )
        .route(
            "/article",
            get(move |h: HeaderMap| async move {
                logged(&l1, "/article", &h);
                if h.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some("\"v1\"") {
                    return StatusCode::NOT_MODIFIED.into_response();
                }
                (
                    [
                        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                        (header::ETAG, "\"v1\""),
                    ],
                    ARTICLE,
                )
                    .into_response()
            }),
        )
        .route(
            "/flaky",
            get(move |h: HeaderMap| async move {
                logged(&l2, "/flaky", &h);
                if l2.flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                    return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response();
                }
                (
                    [(header::CONTENT_TYPE, "text/plain")],
                    "Second time lucky: the flaky page eventually answered.",
                )
                    .into_response()
            }),
        )
        .route(
            "/private/secret",
            get(move |h: HeaderMap| async move {
                logged(&l3, "/private/secret", &h);
                ([(header::CONTENT_TYPE, "text/plain")], "robots said no")
            }),
        )
        .route(
            "/blob",
            get(move |h: HeaderMap| async move {
                logged(&l4, "/blob", &h);
                (
                    [(header::CONTENT_TYPE, "application/octet-stream")],
                    vec![0u8, 1, 2, 3, 255],
                )
                    .into_response()
            }),
        )
        .route(
            "/site/{page}",
            get(|axum::extract::Path(page): axum::extract::Path<String>| async move {
                let links: &[&str] = match page.as_str() {
                    "index.html" => &["a", "b", "c", "a#top", "/other/x", "http://elsewhere.invalid/"],
                    "a" => &["a1", "a2", "index.html"],
                    "a1" => &["a11"],
                    "b" => &["index.html", "b?"],
                    _ => &[],
                };
                let body: String = links
                    .iter()
                    .map(|l| format!("<li><a href=\"{l}\">{l}</a></li>"))
                    .collect();
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    format!(
                        "<html><head><title>Page {page}</title></head><body><main><h1>Page {page}</h1>\
                         <p>This is page {page} of the little crawl site, with enough words to count as content.</p>\
                         <ul>{body}</ul></main></body></html>"
                    ),
                )
            }),
        )
        .route(
            "/other/{page}",
            get(|| async { ([(header::CONTENT_TYPE, "text/plain")], "outside the folder") }),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page").into_response() })
}

/// Serve `app` on 127.0.0.1 in a background thread; returns the base URL.
fn serve(log: Arc<Log>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app(log)).await.unwrap();
        });
    });
    format!("http://{addr}")
}

fn find<'a>(items: &'a [Value], url_suffix: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["location"].as_str().unwrap_or("").ends_with(url_suffix))
        .unwrap_or_else(|| panic!("no item for {url_suffix}: {items:#?}"))
}

#[test]
fn links_end_completed_or_failed_with_readable_errors() {
    let log = Arc::new(Log::default());
    let base = serve(log.clone());
    let sb = Sandbox::new();
    let urls = [
        format!("{base}/article"),
        format!("{base}/missing"),
        format!("{base}/flaky"),
        format!("{base}/private/secret"),
        format!("{base}/blob"),
    ];
    let mut args = vec!["add"];
    args.extend(urls.iter().map(String::as_str));
    let added = sb.json(&args);
    assert_eq!(added["added"].as_array().unwrap().len(), 5, "{added}");
    assert_eq!(sb.count_status("pending"), 5);

    // Local files and other schemes are refused at add time, with a reason.
    let o = sb.run(&["--json", "add", "file:///etc/passwd", "javascript:alert(1)"]);
    assert!(!o.status.success(), "nothing added is an error exit");
    let refused: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(refused["added"].as_array().unwrap().len(), 0, "{refused}");
    let skipped = refused["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2, "{refused}");

    work(&sb);

    let items: Vec<Value> = sb
        .json(&["list", "--kind", "url"])
        .as_array()
        .unwrap()
        .clone();
    let article = find(&items, "/article");
    assert_eq!(article["status"], "completed", "{article}");
    assert_eq!(
        article["name"], "Tide pools of the north coast",
        "{article}"
    );

    let missing = find(&items, "/missing");
    assert_eq!(missing["status"], "failed");
    assert!(
        missing["error"].as_str().unwrap().contains("404 Not Found"),
        "{missing}"
    );
    assert_eq!(missing["attempts"], 1, "a 404 is not retried: {missing}");

    let flaky = find(&items, "/flaky");
    assert_eq!(flaky["status"], "completed", "{flaky}");
    assert_eq!(flaky["attempts"], 2, "one 500, then success: {flaky}");

    let private = find(&items, "/private/secret");
    assert_eq!(private["status"], "failed");
    assert!(
        private["error"].as_str().unwrap().contains("robots.txt"),
        "{private}"
    );
    let blob = find(&items, "/blob");
    assert_eq!(blob["status"], "failed");
    assert!(
        blob["error"]
            .as_str()
            .unwrap()
            .contains("application/octet-stream"),
        "{blob}"
    );
    // The disallowed page was never requested.
    assert!(log
        .requests
        .lock()
        .unwrap()
        .iter()
        .all(|(p, _)| p != "/private/secret"));

    // Main content only: the article text is searchable, the nav/ad/footer are not.
    let hits = sb.json(&["search", "anemones", "--mode", "keyword"]);
    assert_eq!(hits["hits"][0]["itemId"], article["id"], "{hits}");
    for junk in ["SUNGLASSES", "Privacy"] {
        let h = sb.json(&["search", junk, "--mode", "keyword"]);
        assert!(h["hits"].as_array().unwrap().is_empty(), "{junk}: {h}");
    }

    // Refresh: a conditional GET answered 304 → completed again, nothing re-chunked.
    let id = article["id"].as_str().unwrap();
    let chunk_ids = |sb: &Sandbox| -> Vec<i64> {
        let c = sb.conn();
        let mut st = c
            .prepare("SELECT id FROM chunks WHERE item = ?1 ORDER BY id")
            .unwrap();
        let v = st
            .query_map([id], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        v
    };
    let before = chunk_ids(&sb);
    assert!(!before.is_empty());
    sb.json(&["refresh", id]);
    assert_eq!(sb.json(&["show", id])["item"]["status"], "pending");
    work(&sb);
    let show = sb.json(&["show", id]);
    assert_eq!(show["item"]["status"], "completed", "{show}");
    assert_eq!(
        chunk_ids(&sb),
        before,
        "an unchanged page must not be re-chunked"
    );
    let article_requests: Vec<_> = log
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| p == "/article")
        .cloned()
        .collect();
    assert_eq!(article_requests.len(), 2, "{article_requests:?}");
    assert_eq!(article_requests[1].1.as_deref(), Some("\"v1\""));

    // Periodic refresh is a setting the worker acts on; absurd intervals are refused.
    let set = sb.json(&["refresh", "--every", "24h"]);
    assert_eq!(set["refreshEveryMs"], 86_400_000, "{set}");
    assert!(!sb.run(&["refresh", "--every", "5s"]).status.success());
    assert!(sb.json(&["refresh", "--every", "off"])["refreshEveryMs"].is_null());

    // Files cannot be "refreshed"; that is `retry`.
    let o = sb.run(&["refresh", "f1"]);
    assert!(!o.status.success());
    assert_db_consistent(&sb);
}

/// Run the worker until idle, no per-host rate limit (everything is on 127.0.0.1).
fn work(sb: &Sandbox) {
    let out = sb
        .cmd(&["work", "--until-idle"])
        .env("TROVE_RATE_LIMIT", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn crawl(sb: &Sandbox, start: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["add", "--crawl", start];
    args.extend_from_slice(extra);
    sb.json(&args);
    work(sb);
    sb.json(&["list", "--kind", "url"])
        .as_array()
        .unwrap()
        .clone()
}

fn paths(items: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = items
        .iter()
        .map(|i| {
            let l = i["location"].as_str().unwrap();
            l[l.find("/site/").or_else(|| l.find("/other/")).unwrap()..].to_owned()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn crawl_respects_depth_folder_and_page_limits_without_duplicates() {
    let base = serve(Arc::new(Log::default()));
    // A file-like start page: its folder (/site/) is the scope with --same-prefix.
    let start = format!("{base}/site/index.html");

    // Depth 2 under /site/: index → a, b, c → a1, a2 (a11 is three clicks away; /other/ is
    // outside the folder; elsewhere.invalid is another host; a#top is a).
    let sb = Sandbox::new();
    let items = crawl(&sb, &start, &["--depth", "2", "--same-prefix"]);
    assert_eq!(
        paths(&items),
        [
            "/site/a",
            "/site/a1",
            "/site/a2",
            "/site/b",
            "/site/c",
            "/site/index.html"
        ],
        "{items:#?}"
    );
    assert!(
        items.iter().all(|i| i["status"] == "completed"),
        "{items:#?}"
    );

    // Same host without the folder rule: /other/x joins at depth 1.
    let sb = Sandbox::new();
    let items = crawl(&sb, &start, &["--depth", "1"]);
    assert_eq!(
        paths(&items),
        [
            "/other/x",
            "/site/a",
            "/site/b",
            "/site/c",
            "/site/index.html"
        ],
        "{items:#?}"
    );

    // The page budget counts the start page.
    let sb = Sandbox::new();
    let items = crawl(&sb, &start, &["--depth", "5", "--max-pages", "3"]);
    assert_eq!(items.len(), 3, "{items:#?}");
    assert_db_consistent(&sb);
}
