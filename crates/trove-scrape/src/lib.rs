//! Trove's web fetcher.
//!
//! Fetches user-given http(s) links politely (per-host rate limit, a global
//! cap on concurrent fetches, robots.txt), with timeouts, a body size cap,
//! manual redirect handling and conditional GET, and turns the response into
//! readable text (HTML main content via `dom_smoothie`, plain text, or the raw
//! bytes of a PDF for the engine's PDF pipeline).
//!
//! Web pages are untrusted: redirects and crawl links may not lead from a
//! public site into the user's machine or network (the SSRF guard, checked on
//! the resolved address at connect time; see [`FetchRequest::linked_from_seed`]
//! and [`ScrapeConfig::treat_as_public`]), a `Retry-After` beyond
//! [`ScrapeConfig::max_retry_after`] is not waited for, a robots.txt that
//! crashes its parser restricts nothing, and HTML is flattened and capped
//! before parsing so absurd nesting cannot stall extraction.
//!
//! No database and no retry loop live here: every error carries an
//! [`ErrorKind`] that tells the engine's durable job queue whether (and when)
//! to try again.

mod error;
mod extract;
mod fetch;
mod guard;
mod html_limits;
mod robots;
mod urls;

use std::net::IpAddr;
use std::time::Duration;

pub use error::{ErrorKind, ScrapeError};
pub use extract::{extract_html, Extracted};
pub use fetch::Scraper;
pub use urls::{validate_url, CrawlScope};

/// Settings for a [`Scraper`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeConfig {
    /// Sent as `User-Agent`; its product token (the part before `/`) is the
    /// name matched against robots.txt groups.
    pub user_agent: String,
    /// Time allowed to open the TCP (+TLS) connection.
    pub connect_timeout: Duration,
    /// Time allowed for one request, from connecting until the whole body has
    /// been read. Each redirect hop gets this budget anew.
    pub total_timeout: Duration,
    /// The body is streamed and reading stops once it grows past this many
    /// (decompressed) bytes.
    pub max_body_bytes: u64,
    /// Redirect hops followed before giving up.
    pub max_redirects: usize,
    /// Requests per second per host name; `0` turns rate limiting off.
    pub per_host_per_second: f64,
    /// Fetches in flight at once across all hosts (`0` is treated as 1).
    pub max_concurrent_fetches: usize,
    /// Honour robots.txt (unless a request sets `ignore_robots`).
    pub respect_robots: bool,
    /// Longest `Retry-After` (on 429 / 503) taken as "try again later"; a
    /// server asking for a longer wait gets a permanent error instead.
    pub max_retry_after: Duration,
    /// **TEST-ONLY.** Addresses the SSRF guard treats as public although they
    /// are loopback / private (so tests can play a "public" site on
    /// 127.0.0.2). Empty in production; set from `TROVE_TEST_PUBLIC_IPS` by
    /// trove-runtime.
    ///
    /// The guard: a redirect, or a page reached through a crawl link, may not
    /// lead from a public site to a loopback, private, link-local or other
    /// special address. A link the user typed may point anywhere (their own
    /// wiki on the LAN), and so may redirects as long as every response so
    /// far came from such a local address.
    pub treat_as_public: Vec<IpAddr>,
}

impl Default for ScrapeConfig {
    fn default() -> Self {
        Self {
            user_agent: concat!("Trove/", env!("CARGO_PKG_VERSION")).to_string(),
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(30),
            max_body_bytes: 20 * 1024 * 1024,
            max_redirects: 10,
            per_host_per_second: 1.0,
            max_concurrent_fetches: 8,
            respect_robots: true,
            max_retry_after: Duration::from_secs(60 * 60),
            treat_as_public: Vec::new(),
        }
    }
}

/// One fetch to perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    pub url: url::Url,
    /// `ETag` from the previous successful fetch; sent as `If-None-Match`.
    pub etag: Option<String>,
    /// `Last-Modified` from the previous successful fetch; sent as
    /// `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// Skip the robots.txt check for this request (the user insisted).
    pub ignore_robots: bool,
    /// `None`: the user typed or pasted this link, so it may point at their
    /// own machine or network. `Some(seed)`: a page found by following links
    /// of a crawl that started at `seed`; it may not be on a local or private
    /// network address unless `seed` itself is (a crawl of the user's LAN
    /// wiki). See [`ScrapeConfig::treat_as_public`] for the whole rule.
    pub linked_from_seed: Option<url::Url>,
}

impl FetchRequest {
    /// A plain GET of `url` the user asked for: no validators, robots.txt
    /// honoured, not part of a crawl.
    pub fn new(url: url::Url) -> Self {
        Self {
            url,
            etag: None,
            last_modified: None,
            ignore_robots: false,
            linked_from_seed: None,
        }
    }

    /// Marks the request as a page of the crawl started at `seed`. The seed
    /// page itself (the same link once normalised) stays a typed link.
    pub fn in_crawl_of(mut self, seed: url::Url) -> Self {
        self.linked_from_seed = (trove_common::url::normalized(&seed)
            != trove_common::url::normalized(&self.url))
        .then_some(seed);
        self
    }
}

/// What a successful fetch produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The server answered 304: the stored copy is still current.
    NotModified {
        final_url: url::Url,
    },
    Page(Page),
}

/// A fetched document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// URL after redirects.
    pub final_url: url::Url,
    pub http_status: u16,
    /// MIME type without parameters, lower case (`text/html`).
    pub content_type: String,
    pub title: Option<String>,
    /// Main readable content (empty for PDFs).
    pub text: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Lower-case hex SHA-256 of the (decompressed) body bytes.
    pub content_sha256: String,
    /// Absolute http(s) links found in HTML (fragment removed, de-duplicated,
    /// in document order), for crawling.
    pub links: Vec<url::Url>,
    pub body: Body,
}

/// Where the content is.
#[derive(Clone, PartialEq, Eq)]
pub enum Body {
    /// The text is already in [`Page::text`].
    Text,
    /// A PDF: the engine runs its PDF pipeline on these bytes.
    Pdf(Vec<u8>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Text => f.write_str("Text"),
            Body::Pdf(b) => write!(f, "Pdf({} bytes)", b.len()),
        }
    }
}
