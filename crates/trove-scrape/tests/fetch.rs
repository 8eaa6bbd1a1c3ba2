//! End-to-end fetches against a real HTTP server on 127.0.0.1.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body as AxBody;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use common::{cfg, fixture, req, serve, url};
use sha2::{Digest, Sha256};
use trove_scrape::{Body, ErrorKind, FetchRequest, Fetched, Page, ScrapeConfig, Scraper};

fn html(body: impl Into<String>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

async fn page(s: &Scraper, r: FetchRequest) -> Page {
    match s.fetch(r).await {
        Ok(Fetched::Page(p)) => p,
        other => panic!("expected a page, got {other:?}"),
    }
}

#[tokio::test]
async fn article_keeps_title_and_body_and_drops_boilerplate() {
    let app = Router::new()
        .route(
            "/blog/post",
            get(|| async { html(fixture("blog_article.html")) }),
        )
        .route(
            "/news",
            get(|| async { html(fixture("news_article.html")) }),
        )
        .route("/docs", get(|| async { html(fixture("docs_page.html")) }));
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();

    let p = page(&s, req(addr, "/blog/post")).await;
    assert_eq!(p.http_status, 200);
    assert_eq!(p.content_type, "text/html");
    assert_eq!(p.body, Body::Text);
    assert_eq!(
        p.title.as_deref(),
        Some("Why We Moved Our Build Cache to Local Disks")
    );
    for kept in [
        "For three years our continuous integration fleet",
        "Measuring before changing anything",
        "Locality beat sharing by a wide margin",
        "We decided that was an acceptable trade for the steady state.",
    ] {
        assert!(p.text.contains(kept), "missing {kept:?} in:\n{}", p.text);
    }
    for dropped in [
        "Careers",
        "Subscribe to our newsletter",
        "CloudBuild Pro",
        "All rights reserved",
        "We use cookies",
        "Related posts",
        "Share on Twitter",
        "analytics",
    ] {
        assert!(
            !p.text.contains(dropped),
            "{dropped:?} leaked into:\n{}",
            p.text
        );
    }
    // Paragraphs stay separate.
    assert!(p.text.contains("minutes. But as the monorepo") || p.text.contains("\n\n"));
    let body = fixture("blog_article.html");
    assert_eq!(
        p.content_sha256,
        hex::encode(Sha256::digest(body.as_bytes()))
    );
    assert!(p.links.contains(&url(addr, "/blog/flaky-tests")));
    assert!(p
        .links
        .contains(&url::Url::parse("https://twitter.com/share").unwrap()));
    assert!(p.etag.is_none() && p.last_modified.is_none());

    let p = page(&s, req(addr, "/news")).await;
    assert_eq!(
        p.title.as_deref(),
        Some("City council approves new riverside cycling path")
    );
    assert!(p.text.contains("voted eleven to four"));
    assert!(p.text.contains("community centre on 3 July."));
    for dropped in [
        "ADVERTISEMENT",
        "Sponsored",
        "Most read",
        "Breaking:",
        "Copyright 2025",
    ] {
        assert!(
            !p.text.contains(dropped),
            "{dropped:?} leaked into:\n{}",
            p.text
        );
    }

    let p = page(&s, req(addr, "/docs")).await;
    assert!(p
        .title
        .as_deref()
        .unwrap()
        .starts_with("Configuring connection pools"));
    assert!(p.text.contains("max_connections = 32"));
    assert!(p.text.contains("Diagnosing exhaustion"));
    for dropped in [
        "Installation",
        "Quick start",
        "Built with Sphinx",
        "Previous",
    ] {
        assert!(
            !p.text.contains(dropped),
            "{dropped:?} leaked into:\n{}",
            p.text
        );
    }
}

#[tokio::test]
async fn page_without_article_falls_back_to_visible_text() {
    let app = Router::new().route(
        "/",
        get(|| async {
            html("<html><head><title>Tiny</title><style>p{}</style></head><body><p>Just one line.</p><script>x()</script></body></html>")
        }),
    );
    let addr = serve(app).await;
    let p = page(&Scraper::new(cfg()).unwrap(), req(addr, "/")).await;
    assert_eq!(p.title.as_deref(), Some("Tiny"));
    assert_eq!(p.text, "Just one line.");
}

#[tokio::test]
async fn not_found_is_permanent() {
    let addr = serve(Router::new()).await;
    let e = Scraper::new(cfg())
        .unwrap()
        .fetch(req(addr, "/missing"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert_eq!(e.to_string(), "server answered 404 Not Found");
}

#[tokio::test]
async fn other_client_errors_are_permanent_but_408_is_transient() {
    let app = Router::new()
        .route("/403", get(|| async { StatusCode::FORBIDDEN }))
        .route("/408", get(|| async { StatusCode::REQUEST_TIMEOUT }))
        .route("/410", get(|| async { StatusCode::GONE }));
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();
    let e = s.fetch(req(addr, "/403")).await.unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Permanent, "server answered 403 Forbidden")
    );
    let e = s.fetch(req(addr, "/410")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    let e = s.fetch(req(addr, "/408")).await.unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Transient, "server answered 408 Request Timeout")
    );
}

#[tokio::test]
async fn server_error_is_transient_and_the_next_try_succeeds() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = Router::new().route(
        "/flaky",
        get(move || {
            let h = h.clone();
            async move {
                if h.fetch_add(1, Ordering::SeqCst) == 0 {
                    StatusCode::INTERNAL_SERVER_ERROR.into_response()
                } else {
                    html("<html><head><title>Back</title></head><body><p>Working again.</p></body></html>")
                }
            }
        }),
    );
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();
    let e = s.fetch(req(addr, "/flaky")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert_eq!(e.message, "server answered 500 Internal Server Error");
    let p = page(&s, req(addr, "/flaky")).await;
    assert_eq!(p.text, "Working again.");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn too_many_requests_with_retry_after() {
    let app = Router::new()
        .route(
            "/busy",
            get(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "2")],
                    "slow down",
                )
            }),
        )
        .route(
            "/maint",
            get(|| async {
                let at =
                    httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(90));
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, at)],
                    "maintenance",
                )
            }),
        )
        .route(
            "/busy-plain",
            get(|| async { StatusCode::TOO_MANY_REQUESTS }),
        );
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();
    let e = s.fetch(req(addr, "/busy")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RetryAfter(Duration::from_secs(2)));
    assert_eq!(
        e.message,
        "server answered 429 Too Many Requests and asked to wait 2 s"
    );
    let e = s.fetch(req(addr, "/maint")).await.unwrap_err();
    match e.kind {
        ErrorKind::RetryAfter(d) => assert!(
            d > Duration::from_secs(80) && d <= Duration::from_secs(90),
            "{d:?}"
        ),
        k => panic!("expected RetryAfter, got {k:?}"),
    }
    let e = s.fetch(req(addr, "/busy-plain")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
}

#[tokio::test]
async fn silent_server_times_out_with_a_readable_message() {
    // Accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let h = held.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            h.lock().unwrap().push(sock);
        }
    });
    let s = Scraper::new(ScrapeConfig {
        total_timeout: Duration::from_secs(1),
        ..cfg()
    })
    .unwrap();
    let t = Instant::now();
    let e = s.fetch(req(addr, "/")).await.unwrap_err();
    let took = t.elapsed();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert_eq!(e.message, "the server did not answer within 1 s");
    assert!(took >= Duration::from_millis(900), "gave up after {took:?}");
    // Guard against hanging for the default 30 s instead of the configured 1 s.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(!held.lock().unwrap().is_empty());
}

#[tokio::test]
async fn connection_refused_is_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let e = Scraper::new(cfg())
        .unwrap()
        .fetch(req(addr, "/"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert_eq!(
        e.message,
        "could not connect to 127.0.0.1 (connection refused)"
    );
}

#[tokio::test]
async fn redirects_are_followed_limited_and_loops_detected() {
    let app = Router::new()
        .route("/old", get(|| async { Redirect::permanent("/new") }))
        .route(
            "/new",
            get(|| async { html("<title>New</title><p>Moved here.</p>") }),
        )
        .route("/a", get(|| async { Redirect::temporary("/b") }))
        .route("/b", get(|| async { Redirect::to("/a") }))
        .route(
            "/chain/{n}",
            get(
                |axum::extract::Path(n): axum::extract::Path<u32>| async move {
                    Redirect::to(&format!("/chain/{}", n + 1))
                },
            ),
        )
        .route(
            "/to-ftp",
            get(|| async { Redirect::to("ftp://example.com/x") }),
        );
    let addr = serve(app).await;
    let s = Scraper::new(ScrapeConfig {
        max_redirects: 3,
        ..cfg()
    })
    .unwrap();

    let p = page(&s, req(addr, "/old")).await;
    assert_eq!(p.final_url, url(addr, "/new"));
    assert_eq!(p.text, "Moved here.");

    let e = s.fetch(req(addr, "/a")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert_eq!(e.message, format!("redirect loop at {}", url(addr, "/a")));

    let e = s.fetch(req(addr, "/chain/0")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert_eq!(e.message, "too many redirects (more than 3)");

    let e = s.fetch(req(addr, "/to-ftp")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(e.message.contains("not http or https"), "{}", e.message);
}

#[tokio::test]
async fn oversized_bodies_are_cut_off() {
    let sent = Arc::new(AtomicUsize::new(0));
    let sent2 = sent.clone();
    let app = Router::new()
        .route(
            "/big",
            get(|| async { ([(header::CONTENT_TYPE, "text/plain")], "x".repeat(10_000)) }),
        )
        .route(
            "/stream",
            // No Content-Length: 1000 chunks of 1 KiB, counted as they are produced.
            get(move || {
                let sent = sent2.clone();
                async move {
                    let chunks = futures_stream(sent);
                    (
                        [(header::CONTENT_TYPE, "text/html")],
                        AxBody::from_stream(chunks),
                    )
                }
            }),
        );
    let addr = serve(app).await;
    let s = Scraper::new(ScrapeConfig {
        max_body_bytes: 1024,
        ..cfg()
    })
    .unwrap();
    let e = s.fetch(req(addr, "/big")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert_eq!(e.message, "page is larger than 1 KB; stopped reading");

    let e = s.fetch(req(addr, "/stream")).await.unwrap_err();
    assert_eq!(e.message, "page is larger than 1 KB; stopped reading");
    // Reading stopped long before the server produced the whole 1000 KiB.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let produced = sent.load(Ordering::SeqCst);
    assert!(produced < 500, "server produced {produced} chunks");

    let e = Scraper::new(cfg()).unwrap();
    let p = page(&e, req(addr, "/big")).await;
    assert_eq!(p.text.len(), 10_000);
}

/// A body stream of 1000 × 1 KiB that yields between chunks so the client's
/// early hang-up is observable.
fn futures_stream(
    sent: Arc<AtomicUsize>,
) -> impl futures::stream::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::unfold(0usize, move |i| {
        let sent = sent.clone();
        async move {
            if i >= 1000 {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            sent.fetch_add(1, Ordering::SeqCst);
            Some((Ok(vec![b'a'; 1024]), i + 1))
        }
    })
}

#[tokio::test]
async fn unsupported_content_type_is_refused() {
    let app = Router::new().route(
        "/logo.png",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "image/png")],
                vec![0x89u8, b'P', b'N', b'G'],
            )
        }),
    );
    let addr = serve(app).await;
    let e = Scraper::new(cfg())
        .unwrap()
        .fetch(req(addr, "/logo.png"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert_eq!(e.message, "unsupported content type: image/png");
}

#[tokio::test]
async fn pdf_bytes_are_handed_over_untouched() {
    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let app = Router::new()
        .route(
            "/doc.pdf",
            get(|| async { ([(header::CONTENT_TYPE, "application/pdf")], PDF) }),
        )
        .route(
            "/download",
            get(|| async { ([(header::CONTENT_TYPE, "application/octet-stream")], PDF) }),
        );
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();
    for path in ["/doc.pdf", "/download"] {
        let p = page(&s, req(addr, path)).await;
        assert_eq!(p.content_type, "application/pdf");
        assert_eq!(p.body, Body::Pdf(PDF.to_vec()));
        assert!(p.text.is_empty() && p.title.is_none());
        assert_eq!(p.content_sha256, hex::encode(Sha256::digest(PDF)));
    }
}

#[tokio::test]
async fn plain_text_and_markdown() {
    let app = Router::new()
        .route(
            "/notes.txt",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/plain")],
                    "line one\nline two\n",
                )
            }),
        )
        .route(
            "/readme.md",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
                    "# Read me\n\nSome *text*.\n",
                )
            }),
        );
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();
    let p = page(&s, req(addr, "/notes.txt")).await;
    assert_eq!(
        (p.content_type.as_str(), p.text.as_str()),
        ("text/plain", "line one\nline two")
    );
    assert!(p.title.is_none());
    let p = page(&s, req(addr, "/readme.md")).await;
    assert_eq!(p.title.as_deref(), Some("Read me"));
    assert_eq!(p.text, "# Read me\n\nSome *text*.");
}

#[tokio::test]
async fn charsets_from_header_meta_and_default() {
    fn latin1_page() -> Vec<u8> {
        b"<html><head><title>Caf\xe9 cr\xe8me</title></head><body><p>Le caf\xe9 est pr\xeat.</p></body></html>".to_vec()
    }
    let app = Router::new()
        .route(
            "/latin1",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=iso-8859-1")],
                    latin1_page(),
                )
            }),
        )
        .route(
            "/meta",
            get(|| async {
                let mut b = b"<html><head><meta charset=\"iso-8859-1\">".to_vec();
                b.extend_from_slice(&latin1_page()[12..]);
                ([(header::CONTENT_TYPE, "text/html")], b)
            }),
        )
        .route(
            "/utf8",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    "<title>Ünïcödé ✓</title><p>Grüße, 日本語.</p>",
                )
            }),
        );
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();
    for path in ["/latin1", "/meta"] {
        let p = page(&s, req(addr, path)).await;
        assert_eq!(p.title.as_deref(), Some("Café crème"), "{path}");
        assert_eq!(p.text, "Le café est prêt.", "{path}");
    }
    let p = page(&s, req(addr, "/utf8")).await;
    assert_eq!(p.title.as_deref(), Some("Ünïcödé ✓"));
    assert_eq!(p.text, "Grüße, 日本語.");
}

/// A Latin-1 page that declares no charset anywhere (header or meta) is guessed
/// like a file would be (chardetng), not read as UTF-8 full of U+FFFD.
#[tokio::test]
async fn latin1_without_any_charset_is_detected() {
    let body: &[u8] = b"<html><head><title>Desserts</title></head><body>\
        <p>caf\xe9 cr\xe8me br\xfbl\xe9e</p></body></html>";
    let app = Router::new()
        .route(
            "/page",
            get(move || async move { ([(header::CONTENT_TYPE, "text/html")], body) }),
        )
        .route(
            "/sniffed",
            get(move || async move {
                let mut b = b"<!DOCTYPE html>".to_vec();
                b.extend_from_slice(body);
                ([(header::CONTENT_TYPE, "application/octet-stream")], b)
            }),
        )
        .route(
            "/plain",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/plain")],
                    &b"caf\xe9 cr\xe8me br\xfbl\xe9e"[..],
                )
            }),
        );
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();
    for path in ["/page", "/sniffed", "/plain"] {
        let p = page(&s, req(addr, path)).await;
        assert!(p.text.contains("café"), "{path}: {:?}", p.text);
        assert!(!p.text.contains('\u{fffd}'), "{path}: {:?}", p.text);
        assert_eq!(p.text, "café crème brûlée", "{path}");
    }
}

#[tokio::test]
async fn validate_url_refuses_local_files() {
    let e = trove_scrape::validate_url("file:///etc/passwd").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert_eq!(
        e.message,
        "only http and https links can be added (got file:)"
    );
    // fetch() re-checks, so a hand-built request cannot read files either.
    let r = FetchRequest::new(url::Url::parse("file:///etc/passwd").unwrap());
    let e = Scraper::new(cfg()).unwrap().fetch(r).await.unwrap_err();
    assert_eq!(
        e.message,
        "only http and https links can be added (got file:)"
    );
}

/// Records when each page request arrived.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<(String, Instant)>>>);

fn logging_app(log: Log) -> Router {
    Router::new().route(
        "/p/{n}",
        get(move |axum::extract::Path(n): axum::extract::Path<String>| {
            let log = log.clone();
            async move {
                log.0.lock().unwrap().push((n, Instant::now()));
                html("<title>p</title><p>page</p>")
            }
        }),
    )
}

#[tokio::test]
async fn rate_limit_is_per_host_and_measured_by_the_server() {
    let (log_a, log_b) = (Log::default(), Log::default());
    let a = serve(logging_app(log_a.clone())).await;
    let b = serve(logging_app(log_b.clone())).await;
    let s = Scraper::new(ScrapeConfig {
        per_host_per_second: 1.0,
        ..cfg()
    })
    .unwrap();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..3 {
        // Host A is "127.0.0.1", host B is "localhost": two rate-limit keys.
        let ra = FetchRequest::new(
            url::Url::parse(&format!("http://127.0.0.1:{}/p/{i}", a.port())).unwrap(),
        );
        let rb = FetchRequest::new(
            url::Url::parse(&format!("http://localhost:{}/p/{i}", b.port())).unwrap(),
        );
        let (s1, s2) = (s.clone(), s.clone());
        tasks.spawn(async move { s1.fetch(ra).await });
        tasks.spawn(async move { s2.fetch(rb).await });
    }
    while let Some(r) = tasks.join_next().await {
        assert!(matches!(r.unwrap(), Ok(Fetched::Page(_))));
    }
    let times = |log: &Log| {
        let mut t: Vec<Instant> = log.0.lock().unwrap().iter().map(|(_, t)| *t).collect();
        t.sort();
        t
    };
    let (ta, tb) = (times(&log_a), times(&log_b));
    assert_eq!((ta.len(), tb.len()), (3, 3));
    for t in [&ta, &tb] {
        for w in t.windows(2) {
            let gap = w[1] - w[0];
            assert!(
                gap >= Duration::from_millis(900),
                "requests to one host {gap:?} apart"
            );
        }
    }
    // B was not queued behind A: each host's n-th request came at about the same time.
    for (x, y) in ta.iter().zip(&tb) {
        let skew = if x > y { *x - *y } else { *y - *x };
        assert!(
            skew < Duration::from_millis(700),
            "hosts waited for each other ({skew:?})"
        );
    }
    // Three requests per host at 1/s (plus robots.txt first) took at least 2 s.
    assert!(start.elapsed() >= Duration::from_millis(1800));
}

#[tokio::test]
async fn conditional_get_returns_not_modified() {
    type Seen = Vec<(Option<String>, Option<String>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let s2 = seen.clone();
    const LM: &str = "Wed, 21 Oct 2015 07:28:00 GMT";
    let app = Router::new().route(
        "/doc",
        get(move |headers: HeaderMap| {
            let seen = s2.clone();
            async move {
                let get =
                    |h: header::HeaderName| headers.get(h).map(|v| v.to_str().unwrap().to_string());
                let (inm, ims) = (get(header::IF_NONE_MATCH), get(header::IF_MODIFIED_SINCE));
                seen.lock().unwrap().push((inm.clone(), ims.clone()));
                if inm.as_deref() == Some("\"v1\"") {
                    return StatusCode::NOT_MODIFIED.into_response();
                }
                (
                    [
                        (header::CONTENT_TYPE, "text/html"),
                        (header::ETAG, "\"v1\""),
                        (header::LAST_MODIFIED, LM),
                    ],
                    "<title>Doc</title><p>Version one.</p>",
                )
                    .into_response()
            }
        }),
    );
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();
    let p = page(&s, req(addr, "/doc")).await;
    assert_eq!(p.etag.as_deref(), Some("\"v1\""));
    assert_eq!(p.last_modified.as_deref(), Some(LM));
    let again = FetchRequest {
        etag: p.etag.clone(),
        last_modified: p.last_modified.clone(),
        ..req(addr, "/doc")
    };
    match s.fetch(again).await.unwrap() {
        Fetched::NotModified { final_url } => assert_eq!(final_url, url(addr, "/doc")),
        other => panic!("expected NotModified, got {other:?}"),
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0], (None, None));
    assert_eq!(seen[1], (Some("\"v1\"".into()), Some(LM.into())));
}

#[tokio::test]
async fn robots_txt_is_honoured_cached_and_can_be_ignored() {
    let robots_hits = Arc::new(AtomicUsize::new(0));
    let rh = robots_hits.clone();
    let app = Router::new()
        .route(
            "/robots.txt",
            get(move || {
                let rh = rh.clone();
                async move {
                    rh.fetch_add(1, Ordering::SeqCst);
                    "User-agent: *\nDisallow: /private/\n\nUser-agent: EvilBot\nDisallow: /\n"
                }
            }),
        )
        .route(
            "/private/notes",
            get(|| async { html("<title>Secret</title><p>Private notes.</p>") }),
        )
        .route(
            "/public",
            get(|| async { html("<title>Hi</title><p>Public page.</p>") }),
        );
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();
    let e = s.fetch(req(addr, "/private/notes")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert_eq!(e.message, "blocked by robots.txt");
    assert_eq!(page(&s, req(addr, "/public")).await.text, "Public page.");
    let forced = FetchRequest {
        ignore_robots: true,
        ..req(addr, "/private/notes")
    };
    assert_eq!(page(&s, forced).await.text, "Private notes.");
    assert_eq!(
        robots_hits.load(Ordering::SeqCst),
        1,
        "robots.txt fetched once"
    );

    // A scraper configured not to respect robots never asks.
    let s = Scraper::new(ScrapeConfig {
        respect_robots: false,
        ..cfg()
    })
    .unwrap();
    assert_eq!(
        page(&s, req(addr, "/private/notes")).await.text,
        "Private notes."
    );
    assert_eq!(robots_hits.load(Ordering::SeqCst), 1);

    // The product token is what robots.txt groups match.
    let s = Scraper::new(ScrapeConfig {
        user_agent: "EvilBot/1.0".into(),
        ..cfg()
    })
    .unwrap();
    assert_eq!(
        s.fetch(req(addr, "/public")).await.unwrap_err().message,
        "blocked by robots.txt"
    );
}

#[tokio::test]
async fn broken_robots_txt_allows_everything_for_now() {
    let app = Router::new()
        .route(
            "/robots.txt",
            get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route(
            "/page",
            get(|| async { html("<title>T</title><p>Reachable.</p>") }),
        );
    let addr = serve(app).await;
    let p = page(&Scraper::new(cfg()).unwrap(), req(addr, "/page")).await;
    assert_eq!(p.text, "Reachable.");
}

#[tokio::test]
async fn retry_after_longer_than_the_cap_is_permanent() {
    let app = Router::new()
        .route(
            "/year",
            get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, (365 * 24 * 3600).to_string())],
                    "closed for a year",
                )
            }),
        )
        .route(
            "/minute",
            get(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "60")],
                    "slow down",
                )
            }),
        );
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();
    assert_eq!(cfg().max_retry_after, Duration::from_secs(3600));
    let e = s.fetch(req(addr, "/year")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert_eq!(
        e.message,
        "server answered 503 Service Unavailable and asked to retry in 365 days, which is longer than Trove will wait"
    );
    let e = s.fetch(req(addr, "/minute")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RetryAfter(Duration::from_secs(60)));

    // The cap is a setting.
    let s = Scraper::new(ScrapeConfig {
        max_retry_after: Duration::from_secs(30),
        ..cfg()
    })
    .unwrap();
    let e = s.fetch(req(addr, "/minute")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert_eq!(
        e.message,
        "server answered 429 Too Many Requests and asked to retry in 1 min, which is longer than Trove will wait"
    );
}

#[tokio::test]
async fn robots_txt_that_crashes_the_parser_allows_everything() {
    // robotstxt 0.3 panics on a line over ~16 KB of multi-byte characters
    // (upstream issue #5).
    let robots_hits = Arc::new(AtomicUsize::new(0));
    let rh = robots_hits.clone();
    let app = Router::new()
        .route(
            "/robots.txt",
            get(move || {
                let rh = rh.clone();
                async move {
                    rh.fetch_add(1, Ordering::SeqCst);
                    format!(
                        "User-agent: *\nDisallow: /{}\nAllow: /\n",
                        "\u{e9}".repeat(10_000)
                    )
                }
            }),
        )
        .route(
            "/one",
            get(|| async { html("<title>1</title><p>First.</p>") }),
        )
        .route(
            "/two",
            get(|| async { html("<title>2</title><p>Second.</p>") }),
        );
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();
    assert_eq!(page(&s, req(addr, "/one")).await.text, "First.");
    // The cached entry stays usable (no poisoned lock, no refetch, no error).
    let (a, b) = tokio::join!(s.fetch(req(addr, "/two")), s.fetch(req(addr, "/one")));
    assert!(matches!(a, Ok(Fetched::Page(_))), "{a:?}");
    assert!(matches!(b, Ok(Fetched::Page(_))), "{b:?}");
    assert_eq!(robots_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_page_of_400000_nested_divs_is_read_in_seconds() {
    let n = 400_000;
    let body = format!(
        "<html><head><title>Deep</title></head><body><p>Before the pit.</p>{}deep text{}<p>After the pit.</p></body></html>",
        "<div>".repeat(n),
        "</div>".repeat(n)
    );
    let bytes = body.len();
    let app = Router::new().route("/deep", get(move || async move { html(body.clone()) }));
    let addr = serve(app).await;
    let s = Scraper::new(cfg()).unwrap();
    let t = Instant::now();
    // Hang guard only: the unguarded extraction took hours.
    let r = tokio::time::timeout(Duration::from_secs(60), s.fetch(req(addr, "/deep")))
        .await
        .expect("the deep page was still being read after 60 s");
    let took = t.elapsed();
    println!("400,000 nested <div>s ({bytes} bytes): fetched and extracted in {took:?}");
    let p = match r {
        Ok(Fetched::Page(p)) => p,
        other => panic!("expected a page, got {other:?}"),
    };
    assert_eq!(p.title.as_deref(), Some("Deep"));
    for t in ["Before the pit.", "deep text", "After the pit."] {
        assert!(p.text.contains(t), "{t:?} missing from {:?}", p.text);
    }
}
