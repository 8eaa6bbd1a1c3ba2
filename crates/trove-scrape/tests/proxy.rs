//! The SSRF guard behind a proxy from the environment (`HTTP_PROXY`): the peer
//! address is then the proxy's, so the guard judges each hop by its URL (IP
//! literal, or the addresses its name resolves to). Its own test binary, with
//! one test, because it sets a process-wide environment variable.

mod common;

use std::sync::{Arc, Mutex};

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect};
use axum::Router;
use trove_scrape::{ErrorKind, FetchRequest, Fetched, ScrapeConfig, Scraper};
use url::Url;

#[tokio::test]
async fn redirects_through_a_proxy_are_guarded_by_their_urls() {
    // A fake forward proxy that answers every request itself, logging paths.
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let l = log.clone();
    let proxy = Router::new().fallback(move |uri: Uri| {
        let l = l.clone();
        async move {
            let path = uri.path().to_string();
            l.lock().unwrap().push(path.clone());
            match path.as_str() {
                "/to-literal" => Redirect::to("http://127.0.0.1:9/secret").into_response(),
                "/to-name" => Redirect::to("http://localhost:9/secret").into_response(),
                "/to-public" => Redirect::to("/page").into_response(),
                "/page" => (
                    [("content-type", "text/html")],
                    "<title>P</title><p>Via the proxy.</p>",
                )
                    .into_response(),
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    let proxy = common::serve(proxy).await;
    std::env::set_var("HTTP_PROXY", format!("http://{proxy}"));
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    let s = Scraper::new(ScrapeConfig {
        treat_as_public: vec!["127.0.0.2".parse().unwrap()],
        ..common::cfg()
    })
    .unwrap();
    // Nothing listens on 127.0.0.2:9: answers can only come from the proxy.
    let start = |p: &str| FetchRequest::new(Url::parse(&format!("http://127.0.0.2:9{p}")).unwrap());

    match s.fetch(start("/to-public")).await {
        Ok(Fetched::Page(p)) => assert_eq!(p.text, "Via the proxy."),
        other => panic!("expected a page, got {other:?}"),
    }
    let e = s.fetch(start("/to-literal")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert_eq!(
        e.message,
        "the page redirects to a local or private network address (127.0.0.1), which Trove does not follow from a public site"
    );
    let e = s.fetch(start("/to-name")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(
        e.message
            .starts_with("the page redirects to a local or private network address (localhost at "),
        "{}",
        e.message
    );
    let log = log.lock().unwrap();
    assert!(log.iter().any(|p| p == "/to-public"), "{log:?}");
    assert!(!log.iter().any(|p| p == "/secret"), "{log:?}");
}
