//! The HTTP side: politeness, redirects, status mapping, body limits.

use std::collections::HashSet;
use std::error::Error as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use reqwest::header::{self, HeaderMap};
use reqwest::{redirect, Response, StatusCode};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use trove_common::duration::human_duration;
use trove_common::size::human_size;
use trove_common::url::normalized;
use trove_extract::markdown_title;

use crate::extract::{decode, extract_html, tidy_text};
use crate::robots::{RobotsCache, RobotsRules};
use crate::{Body, FetchRequest, Fetched, Page, ScrapeConfig, ScrapeError};

const ACCEPT: &str =
    "text/html,application/xhtml+xml,application/pdf;q=0.9,text/plain;q=0.8,text/markdown;q=0.8,*/*;q=0.1";
/// robots.txt files larger than this are cut (Google reads 500 KiB).
const ROBOTS_MAX_BYTES: u64 = 512 * 1024;

/// Fetches pages. Cheap to clone; clones share the connection pool, the
/// per-host rate limiter, the concurrency cap and the robots.txt cache.
#[derive(Clone)]
pub struct Scraper {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ScrapeConfig,
    client: reqwest::Client,
    robots_client: reqwest::Client,
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    permits: Arc<Semaphore>,
    robots: RobotsCache,
    robots_token: String,
    fetches: AtomicU64,
}

impl std::fmt::Debug for Scraper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scraper")
            .field("cfg", &self.inner.cfg)
            .finish_non_exhaustive()
    }
}

enum Kind {
    Html,
    Pdf,
    Text {
        markdown: bool,
    },
    /// No usable Content-Type: decide from the first bytes.
    Sniff,
}

impl Scraper {
    pub fn new(cfg: ScrapeConfig) -> Result<Self, ScrapeError> {
        if !cfg.per_host_per_second.is_finite() || cfg.per_host_per_second < 0.0 {
            return Err(ScrapeError::permanent(format!(
                "invalid scraper setting: per_host_per_second must be 0 or more (got {})",
                cfg.per_host_per_second
            )));
        }
        let build = |policy: redirect::Policy| {
            reqwest::Client::builder()
                .user_agent(cfg.user_agent.clone())
                .connect_timeout(cfg.connect_timeout)
                .timeout(cfg.total_timeout)
                .redirect(policy)
                .gzip(true)
                .brotli(true)
                .deflate(true)
                .build()
                .map_err(|e| {
                    ScrapeError::permanent(format!("could not set up the HTTP client: {e}"))
                })
        };
        let client = build(redirect::Policy::none())?;
        let robots_client = build(redirect::Policy::limited(5))?;
        let limiter = if cfg.per_host_per_second > 0.0 {
            let period = Duration::from_secs_f64(1.0 / cfg.per_host_per_second);
            Quota::with_period(period).map(RateLimiter::keyed)
        } else {
            None
        };
        let robots_token = robots_token(&cfg.user_agent);
        Ok(Self {
            inner: Arc::new(Inner {
                permits: Arc::new(Semaphore::new(cfg.max_concurrent_fetches.max(1))),
                cfg,
                client,
                robots_client,
                limiter,
                robots: RobotsCache::default(),
                robots_token,
                fetches: AtomicU64::new(0),
            }),
        })
    }

    /// Fetches `req.url`, following redirects, and extracts its content.
    pub async fn fetch(&self, req: FetchRequest) -> Result<Fetched, ScrapeError> {
        let inner = &*self.inner;
        if inner.fetches.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            if let Some(l) = &inner.limiter {
                l.retain_recent();
            }
        }
        let mut url = crate::validate_url(req.url.as_str())?;
        let mut visited = HashSet::from([normalized(&url)]);
        let mut hops = 0usize;
        loop {
            if inner.cfg.respect_robots && !req.ignore_robots && !self.robots_allow(&url).await? {
                return Err(ScrapeError::permanent("blocked by robots.txt"));
            }
            let permit = self.polite_slot(&url).await;
            let mut rb = inner.client.get(url.clone()).header(header::ACCEPT, ACCEPT);
            if let Some(etag) = &req.etag {
                rb = rb.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &req.last_modified {
                rb = rb.header(header::IF_MODIFIED_SINCE, lm);
            }
            let resp = rb.send().await.map_err(|e| self.net_error(&e, &url))?;
            let status = resp.status();
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Fetched::NotModified { final_url: url });
            }
            if status.is_redirection() {
                let Some(next) = resp
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l.trim()).ok())
                else {
                    return Err(ScrapeError::permanent(format!(
                        "{} without saying where to",
                        status_words(status)
                    )));
                };
                drop(permit);
                if !matches!(next.scheme(), "http" | "https") {
                    return Err(ScrapeError::permanent(format!(
                        "the page redirects to a link that is not http or https ({}:)",
                        next.scheme()
                    )));
                }
                if !visited.insert(normalized(&next)) {
                    return Err(ScrapeError::permanent(format!("redirect loop at {next}")));
                }
                hops += 1;
                if hops > inner.cfg.max_redirects {
                    return Err(ScrapeError::permanent(format!(
                        "too many redirects (more than {})",
                        inner.cfg.max_redirects
                    )));
                }
                url = next;
                continue;
            }
            if !status.is_success() {
                return Err(status_error(status, resp.headers()));
            }
            let page = self.read_page(url, resp).await;
            drop(permit);
            return page.map(Fetched::Page);
        }
    }

    /// Waits for the host's rate limit, then for a global fetch slot.
    async fn polite_slot(&self, url: &Url) -> OwnedSemaphorePermit {
        if let Some(limiter) = &self.inner.limiter {
            let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
            limiter.until_key_ready(&host).await;
        }
        self.inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    async fn read_page(&self, final_url: Url, resp: Response) -> Result<Page, ScrapeError> {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let ct_header = header_str(&headers, header::CONTENT_TYPE).unwrap_or_default();
        let mime = ct_header
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let kind = match mime.as_str() {
            "text/html" | "application/xhtml+xml" => Kind::Html,
            "application/pdf" | "application/x-pdf" => Kind::Pdf,
            "text/plain" => Kind::Text { markdown: false },
            "text/markdown" | "text/x-markdown" => Kind::Text { markdown: true },
            "" | "application/octet-stream" | "binary/octet-stream" => Kind::Sniff,
            other => {
                return Err(ScrapeError::permanent(format!(
                    "unsupported content type: {other}"
                )))
            }
        };
        let body = self.read_body(resp, &final_url).await?;
        let content_sha256 = hex::encode(Sha256::digest(&body));
        let (kind, content_type) = match kind {
            Kind::Sniff => sniff(&body, &mime)?,
            k => (k, mime),
        };
        let (title, text, links, body) = match kind {
            Kind::Pdf => (None, String::new(), Vec::new(), Body::Pdf(body)),
            Kind::Text { markdown } => {
                let text = decode(&body, &ct_header, false);
                let title = if markdown {
                    markdown_title(&text)
                } else {
                    None
                };
                (title, tidy_text(&text), Vec::new(), Body::Text)
            }
            Kind::Html | Kind::Sniff => {
                let base = final_url.clone();
                let ex = tokio::task::spawn_blocking(move || {
                    let html = decode(&body, &ct_header, true);
                    extract_html(&html, &base)
                })
                .await
                .map_err(|_| {
                    ScrapeError::permanent("the page could not be read (the HTML parser failed)")
                })?;
                (ex.title, ex.text, ex.links, Body::Text)
            }
        };
        Ok(Page {
            final_url,
            http_status: status,
            content_type,
            title,
            text,
            etag: header_str(&headers, header::ETAG),
            last_modified: header_str(&headers, header::LAST_MODIFIED),
            content_sha256,
            links,
            body,
        })
    }

    /// Streams the body, stopping as soon as it exceeds the size limit.
    async fn read_body(&self, resp: Response, url: &Url) -> Result<Vec<u8>, ScrapeError> {
        let limit = self.inner.cfg.max_body_bytes;
        read_limited(resp, limit, url, |e| self.net_error(e, url))
            .await?
            .ok_or_else(|| {
                ScrapeError::permanent(format!(
                    "page is larger than {}; stopped reading",
                    human_size(limit)
                ))
            })
    }

    /// Whether robots.txt of `url`'s origin lets us fetch it. Fetched once per
    /// origin and cached; see [`RobotsCache`] for what happens on errors.
    async fn robots_allow(&self, url: &Url) -> Result<bool, ScrapeError> {
        let inner = &*self.inner;
        let cell = inner.robots.cell(url);
        let mut guard = cell.lock().await;
        let rules = match guard.as_ref().filter(|e| e.is_fresh()) {
            Some(e) => e.rules.clone(),
            None => {
                let entry = self.fetch_robots(url).await?;
                let rules = entry.rules.clone();
                *guard = Some(entry);
                rules
            }
        };
        drop(guard);
        Ok(rules.allows(&inner.robots_token, url))
    }

    async fn fetch_robots(&self, url: &Url) -> Result<crate::robots::Entry, ScrapeError> {
        use crate::robots::Entry;
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let _permit = self.polite_slot(&robots_url).await;
        let resp = self
            .inner
            .robots_client
            .get(robots_url.clone())
            .send()
            .await
            .map_err(|e| self.net_error(&e, &robots_url))?;
        let status = resp.status();
        if status.is_success() {
            let body = read_limited(resp, ROBOTS_MAX_BYTES, &robots_url, |e| {
                self.net_error(e, &robots_url)
            })
            .await?;
            // `None` = over the cap: Google parses the first 500 KiB; we
            // cannot, since the stream is gone, so treat it as allow-all.
            Ok(match body {
                Some(b) => Entry::ok(RobotsRules::Rules(
                    String::from_utf8_lossy(&b).into_owned().into(),
                )),
                None => Entry::ok(RobotsRules::AllowAll),
            })
        } else if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS {
            // 404 and other 4xx: no robots.txt, everything allowed (RFC 9309).
            Ok(Entry::ok(RobotsRules::AllowAll))
        } else {
            // 5xx / 429: RFC 9309 says assume "disallow all" for a while; we
            // allow for now and ask again sooner.
            tracing::debug!(%robots_url, %status, "robots.txt unavailable; allowing");
            Ok(Entry::unavailable())
        }
    }

    fn net_error(&self, e: &reqwest::Error, url: &Url) -> ScrapeError {
        let cfg = &self.inner.cfg;
        let host = url.host_str().unwrap_or("the server");
        let chain = error_chain(e);
        if e.is_timeout() {
            if e.is_connect() {
                return ScrapeError::transient(format!(
                    "could not connect to {host} within {}",
                    human_duration(cfg.connect_timeout)
                ));
            }
            return ScrapeError::transient(format!(
                "the server did not answer within {}",
                human_duration(cfg.total_timeout)
            ));
        }
        if e.is_builder() {
            return ScrapeError::permanent(format!("{url} is not a link that can be fetched"));
        }
        let lower = chain.to_ascii_lowercase();
        if e.is_connect() {
            if lower.contains("dns error") || lower.contains("failed to lookup address") {
                return ScrapeError::transient(format!(
                    "could not find the server {host} (DNS lookup failed)"
                ));
            }
            if lower.contains("connection refused") {
                return ScrapeError::transient(format!(
                    "could not connect to {host} (connection refused)"
                ));
            }
            if lower.contains("certificate") || lower.contains("tls") {
                return ScrapeError::transient(format!(
                    "could not set up a secure connection to {host} ({})",
                    last_cause(e)
                ));
            }
            return ScrapeError::transient(format!(
                "could not connect to {host} ({})",
                last_cause(e)
            ));
        }
        if lower.contains("reset") {
            return ScrapeError::transient(format!(
                "{host} closed the connection (connection reset)"
            ));
        }
        if e.is_body() || e.is_decode() {
            return ScrapeError::transient(format!(
                "the connection to {host} broke while reading the page ({})",
                last_cause(e)
            ));
        }
        ScrapeError::transient(format!("the request to {host} failed ({})", last_cause(e)))
    }
}

/// Reads at most `limit` bytes; `Ok(None)` when the body is larger.
async fn read_limited(
    mut resp: Response,
    limit: u64,
    _url: &Url,
    net_error: impl Fn(&reqwest::Error) -> ScrapeError,
) -> Result<Option<Vec<u8>>, ScrapeError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Ok(None);
    }
    let initial = resp
        .content_length()
        .unwrap_or(16 * 1024)
        .min(limit)
        .min(4 << 20);
    let mut buf = Vec::with_capacity(initial as usize);
    while let Some(chunk) = resp.chunk().await.map_err(|e| net_error(&e))? {
        if (buf.len() + chunk.len()) as u64 > limit {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Some(buf))
}

fn sniff(body: &[u8], mime: &str) -> Result<(Kind, String), ScrapeError> {
    if body.starts_with(b"%PDF-") {
        return Ok((Kind::Pdf, "application/pdf".into()));
    }
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let head: Vec<u8> = body[start..body.len().min(start + 64)]
        .iter()
        .map(u8::to_ascii_lowercase)
        .collect();
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&head);
    if head.starts_with(b"<!doctype html") || head.starts_with(b"<html") {
        return Ok((Kind::Html, "text/html".into()));
    }
    Err(ScrapeError::permanent(if mime.is_empty() {
        "the server did not say what kind of file this is, and it is not a web page or a PDF"
            .to_string()
    } else {
        format!("unsupported content type: {mime}")
    }))
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn status_words(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("server answered {} {reason}", status.as_u16()),
        None => format!("server answered {}", status.as_u16()),
    }
}

fn status_error(status: StatusCode, headers: &HeaderMap) -> ScrapeError {
    let words = status_words(status);
    let code = status.as_u16();
    if matches!(code, 429 | 503) {
        if let Some(after) =
            header_str(headers, header::RETRY_AFTER).and_then(|v| parse_retry_after(&v))
        {
            return ScrapeError::retry_after(
                after,
                format!("{words} and asked to wait {}", human_duration(after)),
            );
        }
        return ScrapeError::transient(words);
    }
    match code {
        408 => ScrapeError::transient(words),
        400..=499 => ScrapeError::permanent(words),
        _ => ScrapeError::transient(words),
    }
}

/// `Retry-After`: delay in seconds or an HTTP date (past dates → zero).
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The robots.txt product token of a User-Agent: `Trove/0.1` → `Trove`.
fn robots_token(user_agent: &str) -> String {
    let token: String = user_agent
        .split(['/', ' '])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphabetic() || *c == '_' || *c == '-')
        .collect();
    if token.is_empty() {
        "Trove".into()
    } else {
        token
    }
}

fn error_chain(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn last_cause(e: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = e;
    while let Some(inner) = last.source() {
        last = inner;
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let d = parse_retry_after(&future).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn status_mapping() {
        let h = HeaderMap::new();
        let e = status_error(StatusCode::NOT_FOUND, &h);
        assert_eq!(e.message, "server answered 404 Not Found");
        assert_eq!(e.kind, crate::ErrorKind::Permanent);
        assert_eq!(
            status_error(StatusCode::FORBIDDEN, &h).kind,
            crate::ErrorKind::Permanent
        );
        assert_eq!(
            status_error(StatusCode::REQUEST_TIMEOUT, &h).kind,
            crate::ErrorKind::Transient
        );
        assert_eq!(
            status_error(StatusCode::TOO_MANY_REQUESTS, &h).kind,
            crate::ErrorKind::Transient
        );
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, &h).kind,
            crate::ErrorKind::Transient
        );
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, "7".parse().unwrap());
        let e = status_error(StatusCode::SERVICE_UNAVAILABLE, &h);
        assert_eq!(e.kind, crate::ErrorKind::RetryAfter(Duration::from_secs(7)));
        assert_eq!(
            e.message,
            "server answered 503 Service Unavailable and asked to wait 7 s"
        );
    }

    #[test]
    fn robots_token_is_the_product_name() {
        assert_eq!(robots_token("Trove/0.1.0"), "Trove");
        assert_eq!(robots_token("My-Bot 2"), "My-Bot");
        assert_eq!(robots_token("/"), "Trove");
    }

    #[test]
    fn sniffing() {
        assert!(matches!(sniff(b"%PDF-1.7 ...", ""), Ok((Kind::Pdf, _))));
        assert!(matches!(
            sniff(b"\n <!DOCTYPE html><p>x", ""),
            Ok((Kind::Html, _))
        ));
        assert!(sniff(b"\x89PNG", "application/octet-stream").is_err());
        assert_eq!(markdown_title("\n# Hello  \ntext"), Some("Hello".into()));
    }
}
