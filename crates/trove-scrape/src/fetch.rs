//! The HTTP side: politeness, redirects, status mapping, body limits.

use std::collections::HashSet;
use std::error::Error as _;
use std::net::SocketAddr;
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
use crate::guard::{blocked_message, find_blocked, Guard, GuardedResolver, Via};
use crate::robots::{Entry, RobotsCache, RobotsRules};
use crate::{Body, FetchRequest, Fetched, Page, ScrapeConfig, ScrapeError};

const ACCEPT: &str =
    "text/html,application/xhtml+xml,application/pdf;q=0.9,text/plain;q=0.8,text/markdown;q=0.8,*/*;q=0.1";
/// robots.txt files larger than this are cut (Google reads 500 KiB).
const ROBOTS_MAX_BYTES: u64 = 512 * 1024;
/// Redirects followed for robots.txt (RFC 9309: at least five).
const ROBOTS_MAX_REDIRECTS: usize = 5;

/// Fetches pages. Cheap to clone; clones share the connection pool, the
/// per-host rate limiter, the concurrency cap and the robots.txt cache.
#[derive(Clone)]
pub struct Scraper {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ScrapeConfig,
    /// Connects wherever DNS says.
    client: reqwest::Client,
    /// Connects only to public addresses ([`GuardedResolver`]); for hops that
    /// must not reach the user's machine or network.
    guarded_client: reqwest::Client,
    guard: Guard,
    /// A system proxy (`HTTP_PROXY`, …) is configured: the resolver and the
    /// peer address then belong to the proxy, so the guard looks the target
    /// name up itself instead.
    proxied: bool,
    /// Host names seen answering from a public address (bounded): a crawl
    /// seed among them is a public site even if its name resolves to a
    /// private address later (DNS rebinding).
    public_hosts: std::sync::Mutex<HashSet<String>>,
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
        let guard = Guard::new(&cfg.treat_as_public);
        let proxied = system_proxy_configured();
        let build = |resolver: Option<GuardedResolver>| {
            let mut b = reqwest::Client::builder()
                .user_agent(cfg.user_agent.clone())
                .connect_timeout(cfg.connect_timeout)
                .timeout(cfg.total_timeout)
                .redirect(redirect::Policy::none())
                .gzip(true)
                .brotli(true)
                .deflate(true);
            if let Some(r) = resolver {
                b = b.dns_resolver(Arc::new(r));
            }
            b.build().map_err(|e| {
                ScrapeError::permanent(format!("could not set up the HTTP client: {e}"))
            })
        };
        let client = build(None)?;
        let guarded_client = if proxied {
            client.clone()
        } else {
            build(Some(GuardedResolver {
                guard: guard.clone(),
            }))?
        };
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
                guarded_client,
                guard,
                proxied,
                public_hosts: Default::default(),
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
        // A page found by a crawl is guarded from the start, unless the crawl
        // is of a site on the user's own network.
        let mut guarded = match &req.linked_from_seed {
            Some(seed) => !self.seed_is_private(seed).await,
            None => false,
        };
        loop {
            let via = if hops == 0 && req.linked_from_seed.is_some() {
                Via::Link
            } else {
                Via::Redirect
            };
            self.precheck(&url, guarded, via).await?;
            if inner.cfg.respect_robots
                && !req.ignore_robots
                && !self.robots_allow(&url, guarded, via).await?
            {
                return Err(ScrapeError::permanent("blocked by robots.txt"));
            }
            let permit = self.polite_slot(&url).await;
            let mut rb = self
                .client_for(guarded)
                .get(url.clone())
                .header(header::ACCEPT, ACCEPT);
            if let Some(etag) = &req.etag {
                rb = rb.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &req.last_modified {
                rb = rb.header(header::IF_MODIFIED_SINCE, lm);
            }
            let resp = rb
                .send()
                .await
                .map_err(|e| self.send_error(&e, &url, via))?;
            // Once a public server has answered, every later hop must be
            // public too.
            if self
                .postcheck(&url, resp.remote_addr(), guarded, via)
                .await?
            {
                guarded = true;
            }
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
                return Err(status_error(
                    status,
                    resp.headers(),
                    inner.cfg.max_retry_after,
                ));
            }
            let page = self.read_page(url, resp).await;
            drop(permit);
            return page.map(Fetched::Page);
        }
    }

    /// Whether a crawl from `seed` is a crawl of the user's own machine or
    /// network: its host resolves only to special addresses and has not been
    /// seen answering from a public one.
    async fn seed_is_private(&self, seed: &Url) -> bool {
        let host = seed.host_str().unwrap_or_default().to_ascii_lowercase();
        let seen_public = self
            .inner
            .public_hosts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&host);
        !seen_public && self.inner.guard.host_is_private(seed).await
    }

    fn remember_public(&self, url: &Url) {
        const MAX_HOSTS: usize = 4096;
        let Some(host) = url.host_str() else { return };
        let mut hosts = self
            .inner
            .public_hosts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if hosts.len() >= MAX_HOSTS {
            hosts.clear();
        }
        hosts.insert(host.to_ascii_lowercase());
    }

    fn client_for(&self, guarded: bool) -> &reqwest::Client {
        if guarded {
            &self.inner.guarded_client
        } else {
            &self.inner.client
        }
    }

    /// Before a guarded hop: refuses a special IP literal (these never reach
    /// the resolver) and, behind a proxy, a name that resolves to a special
    /// address.
    async fn precheck(&self, url: &Url, guarded: bool, via: Via) -> Result<(), ScrapeError> {
        if !guarded {
            return Ok(());
        }
        let g = &self.inner.guard;
        if let Some(ip) = g.special_literal(url) {
            return Err(ScrapeError::permanent(blocked_message(
                via,
                &ip.to_string(),
            )));
        }
        if self.inner.proxied {
            if let Some(ip) = g.special_resolution(url).await {
                let host = url.host_str().unwrap_or_default();
                return Err(ScrapeError::permanent(blocked_message(
                    via,
                    &format!("{host} at {ip}"),
                )));
            }
        }
        Ok(())
    }

    /// After a response: whether it came from a public address. On a guarded
    /// hop a response from a special address is refused (the resolver should
    /// have made that impossible; this is the second line of defence).
    async fn postcheck(
        &self,
        url: &Url,
        remote: Option<SocketAddr>,
        guarded: bool,
        via: Via,
    ) -> Result<bool, ScrapeError> {
        let g = &self.inner.guard;
        if self.inner.proxied {
            // The peer is the proxy; judge the target by its name instead.
            if guarded {
                return Ok(true); // `precheck` passed
            }
            return Ok(
                g.special_literal(url).is_none() && g.special_resolution(url).await.is_none()
            );
        }
        let Some(remote) = remote else {
            // Unknown: assume public, which keeps the guard on.
            return Ok(true);
        };
        let public = g.is_public(remote.ip());
        if guarded && !public {
            return Err(ScrapeError::permanent(blocked_message(
                via,
                &remote.ip().to_string(),
            )));
        }
        if public {
            self.remember_public(url);
        }
        Ok(public)
    }

    /// A failed send: refused by the guarded resolver, or a network error.
    fn send_error(&self, e: &reqwest::Error, url: &Url, via: Via) -> ScrapeError {
        match find_blocked(e) {
            Some(b) => {
                ScrapeError::permanent(blocked_message(via, &format!("{} at {}", b.host, b.ip)))
            }
            None => self.net_error(e, url),
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
    /// `guarded` / `via`: the guard state of the page's hop, which the
    /// robots.txt request shares.
    async fn robots_allow(&self, url: &Url, guarded: bool, via: Via) -> Result<bool, ScrapeError> {
        let inner = &*self.inner;
        let cell = inner.robots.cell(url);
        let mut guard = cell.lock().await;
        let rules = match guard.as_ref().filter(|e| e.is_fresh()) {
            Some(e) => e.rules.clone(),
            None => {
                let entry = self.fetch_robots(url, guarded, via).await?;
                let rules = entry.rules.clone();
                *guard = Some(entry);
                rules
            }
        };
        drop(guard);
        match rules.allows(&inner.robots_token, url) {
            Ok(allowed) => Ok(allowed),
            Err(crate::robots::Unparseable) => {
                // The parser panicked (caught): a file we cannot read
                // restricts nothing. Remember that for this origin so the
                // parser is not run (and does not fail) for every page.
                let mut guard = cell.lock().await;
                if guard.as_mut().is_some_and(|e| e.give_up_on(&rules)) {
                    tracing::warn!(
                        origin = %url.origin().ascii_serialization(),
                        "robots.txt could not be parsed; treating it as allowing everything"
                    );
                }
                Ok(true)
            }
        }
    }

    /// Fetches robots.txt for `url`'s origin, following up to
    /// [`ROBOTS_MAX_REDIRECTS`] redirects under the same guard rule as pages:
    /// a redirect the guard refuses is not followed and counts as "no
    /// robots.txt" for now.
    async fn fetch_robots(&self, url: &Url, guarded: bool, via: Via) -> Result<Entry, ScrapeError> {
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let mut guarded = guarded;
        let mut visited = HashSet::from([normalized(&robots_url)]);
        let mut hops = 0usize;
        loop {
            let hop_via = if hops == 0 { via } else { Via::Redirect };
            // Hop 0 has the page's host, which the caller checked already.
            if hops > 0 {
                if let Err(e) = self.precheck(&robots_url, guarded, hop_via).await {
                    return Ok(robots_refused(&robots_url, &e));
                }
            }
            let permit = self.polite_slot(&robots_url).await;
            let resp = match self
                .client_for(guarded)
                .get(robots_url.clone())
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    let err = self.send_error(&e, &robots_url, hop_via);
                    if hops > 0 && find_blocked(&e).is_some() {
                        return Ok(robots_refused(&robots_url, &err));
                    }
                    return Err(err);
                }
            };
            match self
                .postcheck(&robots_url, resp.remote_addr(), guarded, hop_via)
                .await
            {
                Ok(true) => guarded = true,
                Ok(false) => {}
                Err(e) if hops > 0 => return Ok(robots_refused(&robots_url, &e)),
                Err(e) => return Err(e),
            }
            let status = resp.status();
            if status.is_redirection() {
                drop(permit);
                let next = resp
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| robots_url.join(l.trim()).ok())
                    .filter(|n| matches!(n.scheme(), "http" | "https"));
                hops += 1;
                match next {
                    Some(next)
                        if hops <= ROBOTS_MAX_REDIRECTS && visited.insert(normalized(&next)) =>
                    {
                        robots_url = next;
                        continue;
                    }
                    // RFC 9309: a redirect that cannot be followed means
                    // "no robots.txt".
                    _ => return Ok(Entry::ok(RobotsRules::AllowAll)),
                }
            }
            if status.is_success() {
                let body = read_limited(resp, ROBOTS_MAX_BYTES, &robots_url, |e| {
                    self.net_error(e, &robots_url)
                })
                .await?;
                // `None` = over the cap: Google parses the first 500 KiB; we
                // cannot, since the stream is gone, so treat it as allow-all.
                return Ok(match body {
                    Some(b) => Entry::ok(RobotsRules::Rules(
                        String::from_utf8_lossy(&b).into_owned().into(),
                    )),
                    None => Entry::ok(RobotsRules::AllowAll),
                });
            }
            if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS {
                // 404 and other 4xx: no robots.txt, everything allowed (RFC 9309).
                return Ok(Entry::ok(RobotsRules::AllowAll));
            }
            // 5xx / 429: RFC 9309 says assume "disallow all" for a while; we
            // allow for now and ask again sooner.
            tracing::debug!(%robots_url, %status, "robots.txt unavailable; allowing");
            return Ok(Entry::unavailable());
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

/// A robots.txt redirect the guard refused: not followed, no restrictions
/// for now (asked again after the short error lifetime).
fn robots_refused(robots_url: &Url, why: &ScrapeError) -> Entry {
    tracing::info!(%robots_url, reason = %why, "robots.txt redirect not followed");
    Entry::unavailable()
}

/// Whether reqwest will send requests through a proxy from the environment.
fn system_proxy_configured() -> bool {
    [
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
    ]
    .iter()
    .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
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

fn status_error(status: StatusCode, headers: &HeaderMap, max_retry_after: Duration) -> ScrapeError {
    let words = status_words(status);
    let code = status.as_u16();
    if matches!(code, 429 | 503) {
        if let Some(after) =
            header_str(headers, header::RETRY_AFTER).and_then(|v| parse_retry_after(&v))
        {
            if after > max_retry_after {
                return ScrapeError::permanent(format!(
                    "{words} and asked to retry in {}, which is longer than Trove will wait",
                    wait_words(after)
                ));
            }
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

/// A wait for a sentence: whole days from two days on ("365 days", where
/// [`human_duration`] would say "11 months 30 days"), else [`human_duration`].
fn wait_words(d: Duration) -> String {
    const DAY: u64 = 24 * 60 * 60;
    let secs = d.as_secs();
    if secs >= 2 * DAY {
        format!("{} days", secs / DAY + u64::from(secs % DAY >= DAY / 2))
    } else {
        human_duration(d)
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

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn status_mapping() {
        let h = HeaderMap::new();
        let e = status_error(StatusCode::NOT_FOUND, &h, HOUR);
        assert_eq!(e.message, "server answered 404 Not Found");
        assert_eq!(e.kind, crate::ErrorKind::Permanent);
        assert_eq!(
            status_error(StatusCode::FORBIDDEN, &h, HOUR).kind,
            crate::ErrorKind::Permanent
        );
        assert_eq!(
            status_error(StatusCode::REQUEST_TIMEOUT, &h, HOUR).kind,
            crate::ErrorKind::Transient
        );
        assert_eq!(
            status_error(StatusCode::TOO_MANY_REQUESTS, &h, HOUR).kind,
            crate::ErrorKind::Transient
        );
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, &h, HOUR).kind,
            crate::ErrorKind::Transient
        );
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, "7".parse().unwrap());
        let e = status_error(StatusCode::SERVICE_UNAVAILABLE, &h, HOUR);
        assert_eq!(e.kind, crate::ErrorKind::RetryAfter(Duration::from_secs(7)));
        assert_eq!(
            e.message,
            "server answered 503 Service Unavailable and asked to wait 7 s"
        );
    }

    #[test]
    fn retry_after_beyond_the_cap_is_permanent() {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, "3600".parse().unwrap());
        let e = status_error(StatusCode::TOO_MANY_REQUESTS, &h, HOUR);
        assert_eq!(
            e.kind,
            crate::ErrorKind::RetryAfter(HOUR),
            "the cap itself is fine"
        );
        h.insert(header::RETRY_AFTER, "3601".parse().unwrap());
        let e = status_error(StatusCode::TOO_MANY_REQUESTS, &h, HOUR);
        assert_eq!(e.kind, crate::ErrorKind::Permanent);
        h.insert(header::RETRY_AFTER, "7200".parse().unwrap());
        let e = status_error(StatusCode::TOO_MANY_REQUESTS, &h, HOUR);
        assert_eq!(
            e.message,
            "server answered 429 Too Many Requests and asked to retry in 2 h, which is longer than Trove will wait"
        );
        h.insert(
            header::RETRY_AFTER,
            (365 * 86_400).to_string().parse().unwrap(),
        );
        let e = status_error(StatusCode::SERVICE_UNAVAILABLE, &h, HOUR);
        assert_eq!(
            e.message,
            "server answered 503 Service Unavailable and asked to retry in 365 days, which is longer than Trove will wait"
        );
    }

    #[test]
    fn waits_in_words() {
        assert_eq!(wait_words(Duration::from_secs(90)), "1 min 30 s");
        assert_eq!(wait_words(Duration::from_secs(86_400 + 3600)), "1 day 1 h");
        assert_eq!(wait_words(Duration::from_secs(2 * 86_400)), "2 days");
        assert_eq!(wait_words(Duration::from_secs(365 * 86_400)), "365 days");
        assert_eq!(
            wait_words(Duration::from_secs(365 * 86_400 + 43_199)),
            "365 days"
        );
        assert_eq!(
            wait_words(Duration::from_secs(u64::MAX)),
            "213503982334601 days"
        );
    }

    /// The check after a response, on its own: the resolver and the literal
    /// check make it unreachable against real servers.
    #[tokio::test]
    async fn peer_address_check_after_a_response() {
        let s = Scraper::new(ScrapeConfig {
            treat_as_public: vec!["127.0.0.2".parse().unwrap()],
            ..ScrapeConfig::default()
        })
        .unwrap();
        if s.inner.proxied {
            eprintln!("SKIPPED: a proxy is configured in the environment");
            return;
        }
        let url = Url::parse("http://example.com/").unwrap();
        let private: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let public: SocketAddr = "127.0.0.2:80".parse().unwrap();
        let e = s
            .postcheck(&url, Some(private), true, Via::Redirect)
            .await
            .unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Permanent);
        assert_eq!(
            e.message,
            "the page redirects to a local or private network address (127.0.0.1), which Trove does not follow from a public site"
        );
        assert_eq!(
            s.postcheck(&url, Some(private), false, Via::Redirect).await,
            Ok(false)
        );
        assert_eq!(
            s.postcheck(&url, Some(public), true, Via::Link).await,
            Ok(true)
        );
        assert_eq!(s.postcheck(&url, None, false, Via::Link).await, Ok(true));
    }

    /// A crawl seed whose name resolves only to this machine is a private
    /// crawl, unless that host was seen answering from a public address
    /// (its DNS answer changed: rebinding).
    #[tokio::test]
    async fn a_seed_seen_answering_publicly_stays_public() {
        let s = Scraper::new(ScrapeConfig::default()).unwrap();
        let seed = Url::parse("http://localhost:8080/wiki/").unwrap();
        assert!(s.seed_is_private(&seed).await);
        if !s.inner.proxied {
            let public: SocketAddr = "93.184.216.34:80".parse().unwrap();
            let page = Url::parse("http://LOCALHOST:8080/other").unwrap();
            assert_eq!(
                s.postcheck(&page, Some(public), false, Via::Redirect).await,
                Ok(true)
            );
            assert!(!s.seed_is_private(&seed).await);
        }
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
