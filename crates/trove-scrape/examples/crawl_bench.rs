//! Throughput benchmark: fetch + extract a local site of generated article
//! pages (rate limiting off), then time main-text extraction alone.
//!
//! cargo run --release -p trove-scrape --example crawl_bench [PAGES] [ROUNDS]
//!
//! The axum server runs in the same process, so the peak RSS printed covers
//! server + scraper together (an upper bound for the scraper).

use std::time::{Duration, Instant};

use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use trove_scrape::{extract_html, FetchRequest, Fetched, ScrapeConfig, Scraper};

const WORDS: &[&str] = &[
    "cache",
    "runner",
    "latency",
    "storage",
    "network",
    "build",
    "artifact",
    "disk",
    "pipeline",
    "median",
    "percentile",
    "lookup",
    "design",
    "rollout",
    "policy",
    "eviction",
    "throughput",
    "server",
    "client",
    "metric",
    "the",
    "and",
    "of",
    "to",
    "a",
    "in",
    "is",
    "that",
    "for",
    "with",
];

fn paragraph(seed: usize, words: usize) -> String {
    let mut s = String::new();
    let mut x = seed.wrapping_mul(2654435761) | 1;
    for i in 0..words {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[x % WORDS.len()]);
    }
    s.push('.');
    s
}

fn page(n: usize, total: usize) -> String {
    let mut body = String::new();
    for p in 0..10 {
        body.push_str(&format!("<p>{}</p>\n", paragraph(n * 31 + p, 90)));
        if p == 4 {
            body.push_str(&format!("<h2>Section {n}.{p}</h2>\n"));
        }
    }
    let links: String = (1..=5)
        .map(|k| {
            format!(
                "<li><a href=\"/p/{}\">Related {k}</a></li>",
                (n + k * 7) % total
            )
        })
        .collect();
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Article {n} | Bench Site</title>
<script>var analytics = 1;</script></head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/about">About</a></li><li><a href="/blog">Blog</a></li></ul></nav></header>
<div class="layout"><main><article><h1>Article {n}</h1><p class="byline">By Bench Author</p>
{body}</article><section class="related"><h3>Related</h3><ul>{links}</ul></section></main>
<aside class="sidebar"><div class="widget ad">Buy things now!</div><div class="widget">Newsletter signup</div></aside></div>
<footer><p>© 2025 Bench Site</p><a href="/privacy">Privacy</a></footer></body></html>"#
    )
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);

    let pages: std::sync::Arc<Vec<String>> =
        std::sync::Arc::new((0..total).map(|n| page(n, total)).collect());
    let avg_kib = pages.iter().map(String::len).sum::<usize>() as f64 / total as f64 / 1024.0;
    let served = pages.clone();
    let app = Router::new().route(
        "/p/{n}",
        get(move |Path(n): Path<usize>| {
            let served = served.clone();
            async move {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    served[n % served.len()].clone(),
                )
                    .into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    println!("site: {total} pages, {avg_kib:.1} KiB of HTML each");
    let mut rates = Vec::new();
    for round in 0..rounds {
        // A fresh scraper per round: robots.txt (404 here) is fetched each time.
        let scraper = Scraper::new(ScrapeConfig {
            per_host_per_second: 0.0,
            ..ScrapeConfig::default()
        })
        .unwrap();
        let start = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for n in 0..total {
            let s = scraper.clone();
            let url = url::Url::parse(&format!("http://{addr}/p/{n}")).unwrap();
            set.spawn(async move { s.fetch(FetchRequest::new(url)).await });
        }
        let mut chars = 0usize;
        while let Some(r) = set.join_next().await {
            match r.unwrap() {
                Ok(Fetched::Page(p)) => {
                    assert!(!p.text.contains("Newsletter signup"));
                    chars += p.text.len();
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        let took = start.elapsed();
        let rate = total as f64 / took.as_secs_f64();
        rates.push(rate);
        println!(
            "round {round}: {total} pages in {:.3} s = {rate:.0} pages/s ({} chars of text each)",
            took.as_secs_f64(),
            chars / total
        );
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "fetch+extract: median {:.0} pages/s (8 concurrent fetches, rate limit off)",
        rates[rates.len() / 2]
    );

    // Extraction alone, single thread, on the realistic fixtures.
    let base = url::Url::parse("https://example.com/a/b.html").unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    for name in ["blog_article.html", "news_article.html", "docs_page.html"] {
        let html = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        let iters = 300;
        let _ = extract_html(&html, &base);
        let start = Instant::now();
        for _ in 0..iters {
            std::hint::black_box(extract_html(std::hint::black_box(&html), &base));
        }
        let per: Duration = start.elapsed() / iters;
        println!(
            "extract_html {name} ({:.1} KiB): {:.0} µs/page",
            html.len() as f64 / 1024.0,
            per.as_secs_f64() * 1e6
        );
    }
    let html = &pages[0];
    let start = Instant::now();
    for _ in 0..300 {
        std::hint::black_box(extract_html(std::hint::black_box(html), &base));
    }
    println!(
        "extract_html generated page ({:.1} KiB): {:.0} µs/page",
        html.len() as f64 / 1024.0,
        (start.elapsed() / 300).as_secs_f64() * 1e6
    );
    println!("peak RSS (server + scraper): {:.1} MiB", peak_rss_mib());
}
