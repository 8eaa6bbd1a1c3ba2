//! The SSRF guard against real servers: a "public" site on 127.0.0.2 (listed
//! in `ScrapeConfig::treat_as_public`, the test-only exception list) and a
//! "private" one on 127.0.0.1 that counts what reaches it. Linux routes all of
//! 127/8 to the loopback interface; where 127.0.0.2 cannot be bound the tests
//! say so and skip.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use common::{cfg, url};
use trove_scrape::{ErrorKind, FetchRequest, Fetched, ScrapeConfig, ScrapeError, Scraper};

struct Sites {
    public: SocketAddr,
    private: SocketAddr,
    /// Paths requested from the private site, in order.
    private_log: Arc<Mutex<Vec<String>>>,
}

impl Sites {
    fn private_saw(&self, path: &str) -> bool {
        self.private_log.lock().unwrap().iter().any(|p| p == path)
    }

    /// The private site must not have received any request (robots.txt
    /// included): refusals happen before sending.
    fn assert_private_untouched(&self) {
        let log = self.private_log.lock().unwrap();
        assert!(log.is_empty(), "the private site was reached: {log:?}");
    }
}

fn html(text: &str) -> Response {
    (
        [("content-type", "text/html; charset=utf-8")],
        format!("<html><head><title>T</title></head><body><p>{text}</p></body></html>"),
    )
        .into_response()
}

/// Binds both sites first (the redirects need each other's ports), then serves.
async fn sites() -> Option<Sites> {
    let public_l = match tokio::net::TcpListener::bind("127.0.0.2:0").await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "SKIPPED: cannot bind 127.0.0.2 ({e}); these tests need a second loopback address"
            );
            return None;
        }
    };
    let private_l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = public_l.local_addr().unwrap();
    let private = private_l.local_addr().unwrap();
    let pp = private.port();
    let to = |target: String| move || async move { Redirect::to(&target) };
    let public_app = Router::new()
        .route("/page", get(|| async { html("Public page.") }))
        .route("/to-public", get(|| async { Redirect::to("/page") }))
        .route(
            "/to-private",
            get(to(format!("http://127.0.0.1:{pp}/secret"))),
        )
        .route(
            "/to-localhost",
            get(to(format!("http://localhost:{pp}/secret"))),
        )
        .route(
            "/to-decimal",
            get(to(format!("http://2130706433:{pp}/secret"))),
        )
        .route(
            "/to-mapped",
            get(to(format!("http://[::ffff:127.0.0.1]:{pp}/secret"))),
        )
        .route(
            "/to-metadata",
            get(to("http://169.254.169.254/latest/meta-data/".into())),
        )
        .route(
            "/back-to-private",
            get(to(format!("http://127.0.0.1:{pp}/secret"))),
        )
        // Would forbid everything, if it were followed.
        .route(
            "/robots.txt",
            get(to(format!("http://127.0.0.1:{pp}/strict-robots.txt"))),
        );
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let public_port = public.port();
    let private_app = Router::new().fallback(move |uri: Uri| {
        let l = l.clone();
        async move {
            let path = uri.path().to_string();
            l.lock().unwrap().push(path.clone());
            match path.as_str() {
                "/secret" => html("Secret admin page."),
                "/b" => html("Private page B."),
                "/a" => Redirect::to("/b").into_response(),
                "/to-localhost" => {
                    Redirect::to(&format!("http://localhost:{pp}/b")).into_response()
                }
                "/to-public-then-back" => {
                    Redirect::to(&format!("http://127.0.0.2:{public_port}/back-to-private"))
                        .into_response()
                }
                "/strict-robots.txt" => "User-agent: *\nDisallow: /\n".into_response(),
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    tokio::spawn(async move { axum::serve(public_l, public_app).await.unwrap() });
    tokio::spawn(async move { axum::serve(private_l, private_app).await.unwrap() });
    Some(Sites {
        public,
        private,
        private_log: log,
    })
}

fn scraper() -> Scraper {
    Scraper::new(ScrapeConfig {
        treat_as_public: vec!["127.0.0.2".parse().unwrap()],
        ..cfg()
    })
    .unwrap()
}

async fn text(s: &Scraper, r: FetchRequest) -> String {
    match s.fetch(r).await {
        Ok(Fetched::Page(p)) => p.text,
        other => panic!("expected a page, got {other:?}"),
    }
}

async fn refused(s: &Scraper, r: FetchRequest) -> ScrapeError {
    let e = s.fetch(r).await.expect_err("the guard should refuse this");
    assert_eq!(e.kind, ErrorKind::Permanent, "{e}");
    e
}

fn redirect_message(what: &str) -> String {
    format!("the page redirects to a local or private network address ({what}), which Trove does not follow from a public site")
}

#[tokio::test]
async fn typed_links_may_point_at_this_machine_and_redirect_within_it() {
    let Some(x) = sites().await else { return };
    let s = scraper();
    let r = |p| FetchRequest::new(url(x.private, p));
    assert_eq!(text(&s, r("/b")).await, "Private page B.");
    // private → private, by address and by name
    assert_eq!(text(&s, r("/a")).await, "Private page B.");
    assert_eq!(text(&s, r("/to-localhost")).await, "Private page B.");
}

#[tokio::test]
async fn a_public_site_cannot_redirect_to_a_private_address() {
    let Some(x) = sites().await else { return };
    let s = scraper();
    let e = refused(&s, FetchRequest::new(url(x.public, "/to-private"))).await;
    assert_eq!(e.message, redirect_message("127.0.0.1"));
    x.assert_private_untouched();
}

#[tokio::test]
async fn a_host_name_is_judged_by_the_address_it_resolves_to() {
    let Some(x) = sites().await else { return };
    let s = scraper();
    let e = refused(&s, FetchRequest::new(url(x.public, "/to-localhost"))).await;
    // localhost resolves to 127.0.0.1 and/or ::1; either is named.
    assert!(
        e.message
            .starts_with("the page redirects to a local or private network address (localhost at "),
        "{}",
        e.message
    );
    x.assert_private_untouched();
}

#[tokio::test]
async fn numeric_spellings_of_private_addresses_are_refused() {
    let Some(x) = sites().await else { return };
    let s = scraper();
    for (path, shown) in [
        ("/to-decimal", "127.0.0.1"),
        ("/to-mapped", "::ffff:127.0.0.1"),
        ("/to-metadata", "169.254.169.254"),
    ] {
        let e = refused(&s, FetchRequest::new(url(x.public, path))).await;
        assert_eq!(e.message, redirect_message(shown), "{path}");
    }
    x.assert_private_untouched();
}

#[tokio::test]
async fn public_to_public_redirects_still_work() {
    let Some(x) = sites().await else { return };
    let s = scraper();
    assert_eq!(
        text(&s, FetchRequest::new(url(x.public, "/to-public"))).await,
        "Public page."
    );
}

#[tokio::test]
async fn once_a_public_server_answered_later_hops_must_be_public() {
    let Some(x) = sites().await else { return };
    let s = scraper();
    // 127.0.0.1 → 127.0.0.2 (public) → 127.0.0.1: the last hop is refused.
    let e = refused(
        &s,
        FetchRequest::new(url(x.private, "/to-public-then-back")),
    )
    .await;
    assert_eq!(e.message, redirect_message("127.0.0.1"));
    // Its robots.txt (first hop, unguarded) and the first page, nothing after.
    assert_eq!(
        *x.private_log.lock().unwrap(),
        ["/robots.txt", "/to-public-then-back"]
    );
}

#[tokio::test]
async fn crawl_links_from_a_public_site_may_not_reach_private_addresses() {
    let Some(x) = sites().await else { return };
    let s = scraper();
    let seed = url(x.public, "/page");
    let r = FetchRequest::new(url(x.private, "/b")).in_crawl_of(seed.clone());
    assert_eq!(r.linked_from_seed, Some(seed.clone()));
    let e = refused(&s, r).await;
    assert_eq!(
        e.message,
        "the link leads to a local or private network address (127.0.0.1), which Trove does not follow from a public site"
    );
    x.assert_private_untouched();
    // Links within the public site are fine.
    let r = FetchRequest::new(url(x.public, "/to-public")).in_crawl_of(seed);
    assert_eq!(text(&s, r).await, "Public page.");
}

#[tokio::test]
async fn a_crawl_of_a_private_site_may_stay_private() {
    let Some(x) = sites().await else { return };
    let s = scraper();
    let r = FetchRequest::new(url(x.private, "/b")).in_crawl_of(url(x.private, "/"));
    assert_eq!(text(&s, r).await, "Private page B.");
    // A seed written as a name that resolves only to this machine counts too.
    let seed = url::Url::parse(&format!("http://localhost:{}/", x.private.port())).unwrap();
    let r = FetchRequest::new(url(x.private, "/a")).in_crawl_of(seed);
    assert_eq!(text(&s, r).await, "Private page B.");
}

#[tokio::test]
async fn the_seed_page_of_a_crawl_is_a_typed_link() {
    let Some(x) = sites().await else { return };
    let page = url(x.private, "/b");
    let r = FetchRequest::new(page.clone()).in_crawl_of(url(x.private, "/b#top"));
    assert_eq!(r.linked_from_seed, None);
    let r = FetchRequest::new(page).in_crawl_of(url(x.private, "/"));
    assert!(r.linked_from_seed.is_some());
}

#[tokio::test]
async fn robots_txt_redirects_obey_the_same_rule() {
    let Some(x) = sites().await else { return };
    let s = scraper();
    // The public site's robots.txt redirects to a private one that forbids
    // everything: not followed, so the page is fetched.
    assert_eq!(
        text(&s, FetchRequest::new(url(x.public, "/page"))).await,
        "Public page."
    );
    assert!(
        !x.private_saw("/strict-robots.txt"),
        "robots.txt redirect to a private address was followed"
    );

    // A site on this machine whose robots.txt redirects within it: followed
    // (so robots.txt redirects work at all), and it forbids the page.
    let pp = x.private.port();
    let wiki = Router::new()
        .route(
            "/robots.txt",
            get(move || async move {
                Redirect::to(&format!("http://127.0.0.1:{pp}/strict-robots.txt"))
            }),
        )
        .route("/page", get(|| async { html("Wiki page.") }));
    let wiki = common::serve(wiki).await;
    let e = s
        .fetch(FetchRequest::new(url(wiki, "/page")))
        .await
        .unwrap_err();
    assert_eq!(e.message, "blocked by robots.txt");
    assert!(x.private_saw("/strict-robots.txt"));
}
