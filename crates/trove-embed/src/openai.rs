//! OpenAI-compatible `/embeddings` endpoint (OpenAI, Ollama, llama.cpp server, vLLM, ...).
//!
//! Hardening:
//! * plain `http://` only to this computer (127.0.0.0/8, `::1`, `localhost`, reached
//!   directly, never through a proxy); anything else must be `https://`; no redirects;
//! * credentials (user:password in the URL, the API key, query-string values) never
//!   appear in an error, `Display` or `Debug`: messages name the endpoint without them,
//!   never include a `reqwest::Error`'s text (it carries the URL), and are scrubbed of
//!   every secret in case the server echoes one back;
//! * response bodies are read with a cap (64 MiB, less once the dimension is known;
//!   4 KiB of an error body), never whole whatever their size.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::ratelimit::{estimate_tokens, RateLimiter};
use crate::{l2_normalize, EmbedError, Embedder};

/// Texts per HTTP request.
const REQUEST_BATCH: usize = 32;
/// Largest successful response read (decompressed), whatever the batch: 32 texts of
/// 8192 dimensions in JSON take about 8 MiB.
const MAX_BODY: usize = 64 << 20;
/// Once the dimension is known: bytes allowed per number (`-0.012345678901234567, ` and
/// pretty-printing) ...
const BODY_BYTES_PER_NUMBER: usize = 64;
/// ... plus this much for the rest of the JSON (`usage`, `model`, ...).
const BODY_SLACK: usize = 1 << 20;
/// Bytes of an error body read for the message excerpt.
const MAX_ERROR_BODY: usize = 4 << 10;
/// Characters of the server's message kept in an error.
const MAX_DETAIL_CHARS: usize = 300;
/// Secrets shorter than this are not scrubbed from messages (they would mangle words).
const MIN_SECRET_LEN: usize = 4;
/// What a secret becomes in a message.
const HIDDEN: &str = "***";

/// Settings of an [`OpenAiCompatible`] provider.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// API root including the version, e.g. `http://127.0.0.1:11434/v1` or
    /// `https://api.openai.com/v1`; `/embeddings` is appended to the path (a query string
    /// is kept). Must be `https://` unless the host is this computer. `user:password@`
    /// in it is sent as basic authentication when there is no `api_key`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer <key>` when set.
    pub api_key: Option<String>,
    /// Model name sent in the request, e.g. `nomic-embed-text`, `text-embedding-3-small`.
    pub model: String,
    /// Client-side limit; 0 = unlimited. Requests are spaced evenly.
    pub requests_per_minute: u32,
    /// Client-side limit on estimated input tokens (bytes / 4); 0 = unlimited.
    pub tokens_per_minute: u32,
    /// Timeout of the request until the response headers (connect + send + wait), and
    /// again of reading the body.
    pub timeout: Duration,
}

impl std::fmt::Debug for OpenAiConfig {
    /// Without the API key, nor the URL's credentials and query string.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let base_url = Url::parse(self.base_url.trim())
            .map(|u| shown_url(&u))
            .unwrap_or_else(|_| "(not a valid URL)".into());
        f.debug_struct("OpenAiConfig")
            .field("base_url", &base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| HIDDEN))
            .field("model", &self.model)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("tokens_per_minute", &self.tokens_per_minute)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Embeddings from an HTTP server speaking the OpenAI embeddings API:
/// `POST {base_url}/embeddings` with `{"model": ..., "input": [...]}`, 32 texts per
/// request. Blocking: call it from a worker thread, never from inside an async runtime.
///
/// Errors: HTTP 429 → [`EmbedError::Transient`] with `retry_after` from `Retry-After`;
/// 408, 5xx, timeouts and connection failures → `Transient`; 401/403, 400 and other
/// 4xx, redirects, an oversized or malformed response → [`EmbedError::Permanent`] with the
/// server's message. None of them contains a credential (see the module documentation).
/// Vectors are L2-normalised here whatever the server returns.
pub struct OpenAiCompatible {
    config: OpenAiConfig,
    /// Where requests go: the query string kept, the user:password removed.
    endpoint: Url,
    /// `endpoint` as messages show it: no query string.
    shown: String,
    /// (user, password) from the URL, sent as basic auth when there is no API key.
    basic: Option<(String, Option<String>)>,
    /// Every credential, in every form it could be echoed in, longest first.
    secrets: Vec<String>,
    model_id: String,
    client: reqwest::blocking::Client,
    limiter: RateLimiter,
    /// 0 = not known yet; set by the first successful answer, never by a failure.
    dims: AtomicUsize,
}

impl std::fmt::Debug for OpenAiCompatible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No credentials in debug output.
        f.debug_struct("OpenAiCompatible")
            .field("endpoint", &self.shown)
            .field("model_id", &self.model_id)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: &'a [&'a str],
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Datum>,
}

#[derive(Deserialize)]
struct Datum {
    embedding: Vec<f32>,
    #[serde(default)]
    index: Option<usize>,
}

/// Why reading a body stopped early.
enum BodyError {
    TooLarge,
    TimedOut,
    Broken(String),
}

/// Checks an embedding service's address as [`OpenAiCompatible::new`] does, without building
/// a client: `https://`, or `http://` to this computer. Returns the parsed address and
/// whether it is on this computer.
pub fn check_base_url(raw: &str) -> Result<(Url, bool), EmbedError> {
    check_api_url(raw, "embedding service")
}

/// The same check for any OpenAI-compatible API, its messages naming it as `what`
/// ("chat endpoint").
pub fn check_api_url(raw: &str, what: &str) -> Result<(Url, bool), EmbedError> {
    let raw = raw.trim();
    let config_error = |message: String| EmbedError::Config { message };
    let not_an_address = || config_error(format!("The {what} address is not a valid web address."));
    let url = Url::parse(raw).map_err(|_| not_an_address())?;
    let loopback = match url.scheme() {
        "https" => false,
        "http" if is_loopback(&url) => true,
        "http" => {
            return Err(config_error(format!(
                "The {what} must use https unless it runs on this computer \
                     (http://localhost…), and {} does not.",
                shown_url(&url)
            )))
        }
        _ => {
            return Err(config_error(format!(
                "The {what} address must start with https:// \
                     (or http://localhost… for a service on this computer)."
            )))
        }
    };
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err(not_an_address());
    }
    Ok((url, loopback))
}

/// A client builder that, for a service on this computer (plain HTTP), uses no proxy and
/// resolves `localhost` to the loopback addresses only.
pub(crate) fn local_only(
    builder: reqwest::blocking::ClientBuilder,
    url: &Url,
    loopback: bool,
) -> reqwest::blocking::ClientBuilder {
    if !loopback {
        return builder;
    }
    let port = url.port_or_known_default().unwrap_or(80);
    builder.no_proxy().resolve_to_addrs(
        "localhost",
        &[
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
        ],
    )
}

/// `message` with every one of `secrets` replaced by `***`.
pub(crate) fn scrub(secrets: &[String], mut message: String) -> String {
    for secret in secrets {
        if message.contains(secret.as_str()) {
            message = message.replace(secret.as_str(), HIDDEN);
        }
    }
    message
}

impl OpenAiCompatible {
    /// Builds the client; does not contact the server. Fails with
    /// [`EmbedError::Config`] for an address that is not `https://` (or `http://` to this
    /// computer).
    pub fn new(config: OpenAiConfig) -> Result<Self, EmbedError> {
        let raw = config.base_url.trim();
        let (mut url, loopback) = check_base_url(raw)?;
        let secrets = collect_secrets(&url, config.api_key.as_deref());
        let basic = (!url.username().is_empty() || url.password().is_some()).then(|| {
            (
                percent_decode(url.username()),
                url.password().map(percent_decode),
            )
        });
        // Neither credentials nor a fragment travel in the URL itself.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_fragment(None);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push("embeddings");
        }
        let shown = shown_url(&url);
        let model_id = format!("openai:{}@{}", config.model, authority(raw));

        // Plain HTTP stays on this computer: no proxy, and `localhost` is loopback.
        let builder = reqwest::blocking::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none());
        let client =
            local_only(builder, &url, loopback)
                .build()
                .map_err(|_| EmbedError::Config {
                    message: "Trove could not prepare its connection to the embedding service."
                        .into(),
                })?;
        let limiter = RateLimiter::new(config.requests_per_minute, config.tokens_per_minute);
        Ok(Self {
            config,
            endpoint: url,
            shown,
            basic,
            secrets,
            model_id,
            client,
            limiter,
            dims: AtomicUsize::new(0),
        })
    }

    /// Embeds a probe text to learn the model's dimension (what [`Embedder::dims`] returns
    /// afterwards; it returns 0 until some call has succeeded). A failure is returned,
    /// not remembered: the dimension stays unknown and the next call asks again.
    pub fn probe(&self) -> Result<usize, EmbedError> {
        self.embed(&["dimension probe"])?;
        Ok(self.dims())
    }

    /// The message with every credential replaced by `***`.
    fn scrub(&self, message: String) -> String {
        scrub(&self.secrets, message)
    }

    fn transient(&self, message: String, retry_after: Option<Duration>) -> EmbedError {
        EmbedError::Transient {
            message: self.scrub(message),
            retry_after,
        }
    }

    fn permanent(&self, message: String) -> EmbedError {
        EmbedError::Permanent {
            message: self.scrub(message),
        }
    }

    fn timeout_secs(&self) -> String {
        let secs = self.config.timeout.as_secs_f64();
        if secs.fract() == 0.0 {
            format!("{secs:.0}")
        } else {
            format!("{secs:.1}")
        }
    }

    /// The largest successful body accepted for `n` texts.
    fn body_cap(&self, n: usize) -> usize {
        match self.dims.load(Ordering::Relaxed) {
            0 => MAX_BODY,
            dims => n
                .saturating_mul(dims)
                .saturating_mul(BODY_BYTES_PER_NUMBER)
                .saturating_add(BODY_SLACK)
                .min(MAX_BODY),
        }
    }

    fn request(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let tokens: u64 = texts.iter().map(|t| estimate_tokens(t)).sum();
        self.limiter.acquire(tokens);
        let shown = &self.shown;
        let mut req = self.client.post(self.endpoint.clone()).json(&Request {
            model: &self.config.model,
            input: texts,
        });
        if let Some(key) = &self.config.api_key {
            req = req.bearer_auth(key);
        } else if let Some((user, password)) = &self.basic {
            req = req.basic_auth(user, password.as_ref());
        }
        let mut resp = req.send().map_err(|e| {
            let e = e.without_url();
            let message = if e.is_timeout() {
                format!(
                    "The embedding service at {shown} did not answer within {} seconds.",
                    self.timeout_secs()
                )
            } else if e.is_connect() {
                format!(
                    "Could not reach the embedding service at {shown} ({}).",
                    root_cause(&e)
                )
            } else {
                format!(
                    "Could not talk to the embedding service at {shown} ({}).",
                    root_cause(&e)
                )
            };
            self.transient(message, None)
        })?;
        let status = resp.status();
        let code = status.as_u16();
        if status.is_redirection() {
            return Err(self.permanent(format!(
                "The embedding service at {shown} sent Trove to another address (HTTP {code}), \
                 which it does not follow: check the address."
            )));
        }
        if !status.is_success() {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            // Scrubbed before it is cut to an excerpt: a cut through an echoed key would
            // leave a prefix the scrubber cannot recognise.
            let body = self.scrub(read_error_body(&mut resp));
            let detail = server_message(&body);
            let message = match code {
                401 | 403 => format!(
                    "The embedding service at {shown} refused the API key (HTTP {code}: {detail})."
                ),
                429 => format!(
                    "The embedding service at {shown} asked Trove to slow down (HTTP 429: {detail})."
                ),
                408 | 500..=599 => format!(
                    "The embedding service at {shown} had a problem (HTTP {code}: {detail})."
                ),
                _ => format!(
                    "The embedding service at {shown} rejected the request (HTTP {code}: {detail})."
                ),
            };
            return Err(if code == 429 || code == 408 || status.is_server_error() {
                self.transient(message, retry_after)
            } else {
                self.permanent(message)
            });
        }
        let cap = self.body_cap(texts.len());
        let bytes = read_body(&mut resp, cap, Instant::now() + self.config.timeout).map_err(
            |e| match e {
                BodyError::TooLarge => self.permanent(format!(
                    "The embedding service at {shown} sent an answer larger than {}, so Trove \
                     stopped reading it.",
                    human_size(cap)
                )),
                BodyError::TimedOut => self.transient(
                    format!(
                        "The embedding service at {shown} did not finish its answer within {} \
                         seconds.",
                        self.timeout_secs()
                    ),
                    None,
                ),
                BodyError::Broken(cause) => self.transient(
                    format!(
                        "The connection to the embedding service at {shown} broke while \
                         reading its answer ({cause})."
                    ),
                    None,
                ),
            },
        )?;
        drop(resp);
        let body: Response = serde_json::from_slice(&bytes).map_err(|e| {
            self.permanent(format!(
                "The embedding service at {shown} sent an answer Trove cannot read ({e})."
            ))
        })?;
        drop(bytes);
        if body.data.len() != texts.len() {
            return Err(self.permanent(format!(
                "The embedding service at {shown} sent {} embeddings for {} texts.",
                body.data.len(),
                texts.len()
            )));
        }
        let mut out: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for (pos, d) in body.data.into_iter().enumerate() {
            let i = d.index.unwrap_or(pos);
            let slot = out.get_mut(i).ok_or_else(|| {
                self.permanent(format!(
                    "The embedding service at {shown} numbered an embedding {i}, beyond the \
                     {} texts sent.",
                    texts.len()
                ))
            })?;
            *slot = Some(d.embedding);
        }
        let mut vectors = Vec::with_capacity(texts.len());
        for v in out {
            let mut v = v.ok_or_else(|| {
                self.permanent(format!(
                    "The embedding service at {shown} sent the same embedding number twice."
                ))
            })?;
            if v.is_empty() {
                return Err(self.permanent(format!(
                    "The embedding service at {shown} sent an empty embedding."
                )));
            }
            l2_normalize(&mut v);
            vectors.push(v);
        }
        let dims = vectors[0].len();
        if vectors.iter().any(|v| v.len() != dims) {
            return Err(self.permanent(format!(
                "The embedding service at {shown} sent embeddings of different lengths."
            )));
        }
        match self
            .dims
            .compare_exchange(0, dims, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => {}
            Err(known) if known == dims => {}
            Err(known) => {
                return Err(self.permanent(format!(
                    "The embedding model at {shown} changed its vector size from {known} to \
                     {dims}: use a new model name or restart Trove."
                )))
            }
        }
        Ok(vectors)
    }
}

impl Embedder for OpenAiCompatible {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    /// 0 until a call has succeeded (see [`OpenAiCompatible::probe`]): 0 means "not known
    /// yet", never a dimension; every vector returned has the dimension reported after it.
    fn dims(&self) -> usize {
        self.dims.load(Ordering::Relaxed)
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(REQUEST_BATCH) {
            out.extend(self.request(chunk)?);
        }
        Ok(out)
    }
}

/// Reads a successful body: at most `cap` bytes (decompressed), giving up at `deadline`
/// (checked between reads; each read has the client's timeout).
fn read_body(
    resp: &mut reqwest::blocking::Response,
    cap: usize,
    deadline: Instant,
) -> Result<Vec<u8>, BodyError> {
    if resp
        .content_length()
        .is_some_and(|n| n > u64::try_from(cap).unwrap_or(u64::MAX))
    {
        return Err(BodyError::TooLarge);
    }
    let expected = resp.content_length().unwrap_or(0).min(cap as u64) as usize;
    let mut buf = Vec::with_capacity(expected);
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = match resp.read(&mut chunk) {
            Ok(0) => return Ok(buf),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if is_timeout(&e) => return Err(BodyError::TimedOut),
            Err(e) => return Err(BodyError::Broken(root_cause(&e))),
        };
        if buf.len() + n > cap {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk[..n]);
        if Instant::now() > deadline {
            return Err(BodyError::TimedOut);
        }
    }
}

/// The first [`MAX_ERROR_BODY`] bytes of an error body (whatever could be read).
pub(crate) fn read_error_body(resp: &mut reqwest::blocking::Response) -> String {
    let mut buf = Vec::with_capacity(MAX_ERROR_BODY);
    let _ = resp.take(MAX_ERROR_BODY as u64).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

fn is_timeout(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout)
}

/// The innermost cause's text ("Connection refused"), skipping reqwest's own errors
/// (their text carries the URL); "unknown cause" when there is none.
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = None;
    let mut cur = Some(e);
    while let Some(err) = cur {
        if !err.is::<reqwest::Error>() {
            let t = err.to_string();
            if !t.is_empty() {
                text = Some(t);
            }
        }
        cur = err.source();
    }
    let text = text.unwrap_or_else(|| "unknown cause".into());
    // "Connection refused (os error 111)" → "connection refused".
    let text = match text.find(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// Host and port as written in `raw` (for the model id, unchanged from earlier versions):
/// what follows `scheme://` up to the path, query or fragment, without `user:password@`.
fn authority(raw: &str) -> &str {
    let rest = raw.split_once("://").map_or(raw, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

/// `scheme://host[:port]/path`: no credentials, query string or fragment.
pub(crate) fn shown_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// 127.0.0.0/8, `::1` (also as `::ffff:127.x.y.z`) or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

/// Every credential of the configuration as it could show up in a message: the API key,
/// the URL's user and password (raw, decoded, and as the basic-auth token), and every
/// query-string value (raw and decoded). Longest first, so that a secret containing
/// another is replaced whole.
pub(crate) fn collect_secrets(url: &Url, api_key: Option<&str>) -> Vec<String> {
    let mut secrets: Vec<String> = Vec::new();
    if let Some(key) = api_key {
        secrets.push(key.to_string());
        secrets.push(key.trim().to_string());
    }
    let user = url.username();
    let password = url.password();
    if !user.is_empty() || password.is_some() {
        secrets.push(user.to_string());
        secrets.push(percent_decode(user));
        if let Some(p) = password {
            secrets.push(p.to_string());
            secrets.push(percent_decode(p));
        }
        let token = format!(
            "{}:{}",
            percent_decode(user),
            password.map(percent_decode).unwrap_or_default()
        );
        secrets.push(base64(token.as_bytes()));
    }
    if let Some(query) = url.query() {
        secrets.push(query.to_string());
        for part in query.split('&') {
            let value = part.split_once('=').map_or(part, |(_, v)| v);
            secrets.push(value.to_string());
            secrets.push(percent_decode(&value.replace('+', " ")));
        }
    }
    secrets.retain(|s| s.chars().count() >= MIN_SECRET_LEN);
    secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    secrets.dedup();
    secrets
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64 with padding (the form of a basic-auth token).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for group in data.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= group.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// "64 MB", "1.2 MB", "900 KB".
fn human_size(bytes: usize) -> String {
    let mb = bytes as f64 / f64::from(1u32 << 20);
    if mb >= 10.0 {
        format!("{mb:.0} MB")
    } else if mb >= 1.0 {
        format!("{mb:.1} MB")
    } else {
        format!("{} KB", bytes.div_ceil(1 << 10))
    }
}

/// `Retry-After`: delay in seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The readable part of an error body: OpenAI's `{"error":{"message":...}}`, Ollama's
/// `{"error":"..."}`, or the text; on one line, at most 300 characters.
pub(crate) fn server_message(body: &str) -> String {
    let mut text = body.to_string();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        let err = &v["error"];
        if let Some(m) = err["message"].as_str().or_else(|| err.as_str()) {
            text = m.to_string();
        }
    }
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut excerpt: String = one_line
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_DETAIL_CHARS)
        .collect();
    if excerpt.is_empty() {
        return "no explanation given".to_string();
    }
    if one_line.chars().count() > MAX_DETAIL_CHARS {
        excerpt.push('…');
    }
    excerpt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_formats() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("garbage"), None);
        let later = SystemTime::now() + Duration::from_secs(120);
        let d = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            server_message(r#"{"error":{"message":"bad key","type":"x"}}"#),
            "bad key"
        );
        assert_eq!(
            server_message(r#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(server_message(""), "no explanation given");
        assert_eq!(server_message("oops\n  again"), "oops again");
        let long = server_message(&"x".repeat(5000));
        assert_eq!(long.chars().count(), MAX_DETAIL_CHARS + 1);
    }

    fn cfg(url: &str) -> OpenAiConfig {
        OpenAiConfig {
            base_url: url.into(),
            api_key: None,
            model: "nomic-embed-text".into(),
            requests_per_minute: 0,
            tokens_per_minute: 0,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn model_id_and_url_check() {
        let p = OpenAiCompatible::new(cfg("http://127.0.0.1:11434/v1/")).unwrap();
        assert_eq!(p.model_id(), "openai:nomic-embed-text@127.0.0.1:11434");
        assert_eq!(p.endpoint.as_str(), "http://127.0.0.1:11434/v1/embeddings");
        assert_eq!(p.dims(), 0);
        let p = OpenAiCompatible::new(cfg("https://u:p4ss@api.example.com")).unwrap();
        assert_eq!(p.model_id(), "openai:nomic-embed-text@api.example.com");
        assert_eq!(p.endpoint.as_str(), "https://api.example.com/embeddings");
        let p = OpenAiCompatible::new(cfg(
            "https://x.example.com/openai/deployments/d?api-version=2024-02-01",
        ))
        .unwrap();
        assert_eq!(p.model_id(), "openai:nomic-embed-text@x.example.com");
        assert_eq!(
            p.endpoint.as_str(),
            "https://x.example.com/openai/deployments/d/embeddings?api-version=2024-02-01"
        );
        assert_eq!(
            p.shown,
            "https://x.example.com/openai/deployments/d/embeddings"
        );
        for bad in ["ftp://x", "not a url", "", "file:///etc/passwd"] {
            let err = OpenAiCompatible::new(cfg(bad)).unwrap_err();
            assert!(matches!(err, EmbedError::Config { .. }), "{bad}: {err:?}");
        }
    }

    #[test]
    fn plain_http_only_to_this_computer() {
        for ok in [
            "http://localhost:11434/v1",
            "http://LOCALHOST/v1",
            "http://127.0.0.1:8080/v1",
            "http://127.1.2.3/v1",
            "http://[::1]:8080/v1",
            "http://[::ffff:127.0.0.1]/v1",
            "https://api.openai.com/v1",
            "https://10.0.0.5/v1",
        ] {
            assert!(OpenAiCompatible::new(cfg(ok)).is_ok(), "{ok}");
        }
        for refused in [
            "http://api.openai.com/v1",
            "http://10.0.0.5:11434/v1",
            "http://192.168.1.2/v1",
            "http://0.0.0.0:11434/v1",
            "http://[::]/v1",
            "http://localhost.evil.example/v1",
            "http://127.0.0.1.nip.io/v1",
            "http://user:hunter2pw@ollama.lan/v1?api-key=qsecret1",
        ] {
            let err = OpenAiCompatible::new(cfg(refused)).unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(err, EmbedError::Config { .. }),
                "{refused}: {err:?}"
            );
            assert!(
                msg.starts_with(
                    "The embedding service must use https unless it runs on this computer \
                     (http://localhost…)"
                ),
                "{msg}"
            );
            assert!(
                !msg.contains("hunter2pw") && !msg.contains("qsecret1"),
                "{msg}"
            );
        }
    }

    #[test]
    fn debug_output_has_no_credentials() {
        let mut c = cfg("https://bob:hunter2pw@api.example.com/v1?api-key=qsecret1&x=y");
        c.api_key = Some("sk-supersecret".into());
        let p = OpenAiCompatible::new(c.clone()).unwrap();
        for text in [format!("{c:?}"), format!("{p:?}")] {
            for secret in ["hunter2pw", "qsecret1", "sk-supersecret", "bob"] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
            assert!(text.contains("api.example.com"), "{text}");
        }
    }

    #[test]
    fn scrubbing_covers_every_form() {
        let mut c =
            cfg("https://bob%40corp:p%2Fss%20word@api.example.com/v1?api-key=q%2Bsecret&v=1");
        c.api_key = Some("sk-supersecret".into());
        let p = OpenAiCompatible::new(c).unwrap();
        let echoed = format!(
            "key sk-supersecret user bob@corp pass p/ss word raw p%2Fss%20word query q+secret \
             q%2Bsecret token {}",
            base64(b"bob@corp:p/ss word")
        );
        let scrubbed = p.scrub(echoed);
        for secret in [
            "sk-supersecret",
            "bob@corp",
            "p/ss word",
            "p%2Fss",
            "q+secret",
            "q%2Bsecret",
        ] {
            assert!(!scrubbed.contains(secret), "{secret} in {scrubbed}");
        }
        assert!(
            !scrubbed.contains(&base64(b"bob@corp:p/ss word")),
            "{scrubbed}"
        );
        assert_eq!(
            p.basic,
            Some(("bob@corp".to_string(), Some("p/ss word".to_string())))
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(percent_decode("a%20b%2"), "a b%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(authority("https://u:p@h:1/x?y"), "h:1");
        assert_eq!(authority("https://h?api-key=s"), "h");
        assert_eq!(human_size(64 << 20), "64 MB");
        assert_eq!(human_size((1 << 20) + 3 * 384 * 64), "1.1 MB");
        assert_eq!(human_size(4 << 10), "4 KB");
    }
}
