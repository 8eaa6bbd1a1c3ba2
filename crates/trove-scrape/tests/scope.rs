//! CrawlScope rules.

use trove_scrape::CrawlScope;
use url::Url;

fn scope(start: &str, same_path_prefix: bool) -> CrawlScope {
    CrawlScope {
        start: Url::parse(start).unwrap(),
        max_depth: 2,
        max_pages: 50,
        same_path_prefix,
    }
}

fn allows(s: &CrawlScope, u: &str) -> bool {
    s.allows(&Url::parse(u).unwrap())
}

#[test]
fn same_host_only() {
    let s = scope("https://docs.example.com/guide/", false);
    assert!(allows(&s, "https://docs.example.com/other/page"));
    assert!(
        allows(&s, "http://DOCS.example.com/x"),
        "http/https and host case do not matter"
    );
    assert!(!allows(&s, "https://example.com/guide/"));
    assert!(!allows(&s, "https://www.docs.example.com/guide/"));
    assert!(
        !allows(&s, "https://docs.example.com:8443/guide/"),
        "different port"
    );
    assert!(!allows(&s, "ftp://docs.example.com/guide/"));
    assert!(!allows(&s, "mailto:someone@docs.example.com"));
}

#[test]
fn non_default_port_must_match() {
    let s = scope("http://127.0.0.1:8080/", false);
    assert!(allows(&s, "http://127.0.0.1:8080/a"));
    assert!(!allows(&s, "http://127.0.0.1:8081/a"));
    assert!(!allows(&s, "http://127.0.0.1/a"));
}

#[test]
fn path_prefix_when_asked() {
    let s = scope("https://h.example/docs/guide/", true);
    assert!(allows(&s, "https://h.example/docs/guide/"));
    assert!(allows(&s, "https://h.example/docs/guide/ch1.html?x=1"));
    assert!(!allows(&s, "https://h.example/docs/"));
    assert!(!allows(&s, "https://h.example/docs/guidebook"));

    let s = scope("https://h.example/docs/guide", true);
    assert!(allows(&s, "https://h.example/docs/guide"));
    assert!(allows(&s, "https://h.example/docs/guide/ch1"));
    assert!(!allows(&s, "https://h.example/docs/guidebook"));

    let s = scope("https://h.example/docs/intro.html", true);
    assert!(allows(&s, "https://h.example/docs/setup.html"));
    assert!(allows(&s, "https://h.example/docs/api/x"));
    assert!(!allows(&s, "https://h.example/blog/"));

    let s = scope("https://h.example/docs/intro.html", false);
    assert!(allows(&s, "https://h.example/blog/"));
}
