#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use trove_scrape::{FetchRequest, ScrapeConfig};
use url::Url;

/// Serves `router` on 127.0.0.1 with an OS-chosen port until the test ends.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    addr
}

/// Serves `router` on `ip` (e.g. "127.0.0.2") with an OS-chosen port, or
/// `None` when that address cannot be bound here.
pub async fn serve_at(ip: &str, router: Router) -> Option<SocketAddr> {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.ok()?;
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Some(addr)
}

/// Test settings: no rate limit unless a test asks, short timeouts.
pub fn cfg() -> ScrapeConfig {
    ScrapeConfig {
        per_host_per_second: 0.0,
        connect_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(10),
        ..ScrapeConfig::default()
    }
}

pub fn url(addr: SocketAddr, path: &str) -> Url {
    Url::parse(&format!("http://{addr}{path}")).unwrap()
}

pub fn req(addr: SocketAddr, path: &str) -> FetchRequest {
    FetchRequest::new(url(addr, path))
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}
