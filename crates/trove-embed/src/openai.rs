//! OpenAI-compatible `/embeddings` endpoint (OpenAI, Ollama, llama.cpp server, vLLM, ...).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::ratelimit::{estimate_tokens, RateLimiter};
use crate::{l2_normalize, EmbedError, Embedder};

/// Texts per HTTP request.
const REQUEST_BATCH: usize = 32;

/// Settings of an [`OpenAiCompatible`] provider.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// API root including the version, e.g. `http://127.0.0.1:11434/v1` or
    /// `https://api.openai.com/v1`; `/embeddings` is appended.
    pub base_url: String,
    /// Sent as `Authorization: Bearer <key>` when set.
    pub api_key: Option<String>,
    /// Model name sent in the request, e.g. `nomic-embed-text`, `text-embedding-3-small`.
    pub model: String,
    /// Client-side limit; 0 = unlimited. Requests are spaced evenly.
    pub requests_per_minute: u32,
    /// Client-side limit on estimated input tokens (bytes / 4); 0 = unlimited.
    pub tokens_per_minute: u32,
    /// Whole-request timeout (connect + send + response).
    pub timeout: Duration,
}

/// Embeddings from an HTTP server speaking the OpenAI embeddings API:
/// `POST {base_url}/embeddings` with `{"model": ..., "input": [...]}`, 32 texts per
/// request. Blocking: call it from a worker thread, never from inside an async runtime.
///
/// Errors: HTTP 429 → [`EmbedError::Transient`] with `retry_after` from `Retry-After`;
/// 408, 5xx, timeouts and connection failures → `Transient`; 401/403, 400 and other
/// 4xx, or a malformed response → [`EmbedError::Permanent`] with the server's message.
/// Vectors are L2-normalised here whatever the server returns.
pub struct OpenAiCompatible {
    config: OpenAiConfig,
    endpoint: String,
    model_id: String,
    client: reqwest::blocking::Client,
    limiter: RateLimiter,
    dims: AtomicUsize,
}

impl std::fmt::Debug for OpenAiCompatible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No api_key in debug output.
        f.debug_struct("OpenAiCompatible")
            .field("endpoint", &self.endpoint)
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

impl OpenAiCompatible {
    /// Builds the client; does not contact the server.
    pub fn new(config: OpenAiConfig) -> Result<Self, EmbedError> {
        let base = config.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(EmbedError::Permanent {
                message: format!(
                    "base_url must start with http:// or https://: {:?}",
                    config.base_url
                ),
            });
        }
        let endpoint = format!("{base}/embeddings");
        let host = base
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(base)
            .split('/')
            .next()
            .unwrap_or_default();
        let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
        let model_id = format!("openai:{}@{}", config.model, host);
        let client = reqwest::blocking::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| EmbedError::Permanent {
                message: format!("cannot build HTTP client: {e}"),
            })?;
        let limiter = RateLimiter::new(config.requests_per_minute, config.tokens_per_minute);
        Ok(Self {
            config,
            endpoint,
            model_id,
            client,
            limiter,
            dims: AtomicUsize::new(0),
        })
    }

    /// Embeds a probe text to learn the model's dimension (what [`Embedder::dims`] returns
    /// afterwards; it returns 0 until some call has succeeded).
    pub fn probe(&self) -> Result<usize, EmbedError> {
        self.embed(&["dimension probe"])?;
        Ok(self.dims())
    }

    fn request(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let tokens: u64 = texts.iter().map(|t| estimate_tokens(t)).sum();
        self.limiter.acquire(tokens);
        let mut req = self.client.post(&self.endpoint).json(&Request {
            model: &self.config.model,
            input: texts,
        });
        if let Some(key) = &self.config.api_key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().map_err(|e| EmbedError::Transient {
            message: format!("{}: {}", self.endpoint, describe_reqwest(&e)),
            retry_after: None,
        })?;
        let status = resp.status();
        if !status.is_success() {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let body = resp.text().unwrap_or_default();
            let detail = server_message(&body);
            let code = status.as_u16();
            let message = match code {
                401 | 403 => format!(
                    "{} refused the credentials (HTTP {code}): check the API key — {detail}",
                    self.endpoint
                ),
                _ => format!("{} answered HTTP {code}: {detail}", self.endpoint),
            };
            return Err(if code == 429 || code == 408 || status.is_server_error() {
                EmbedError::Transient {
                    message,
                    retry_after,
                }
            } else {
                EmbedError::Permanent { message }
            });
        }
        let body: Response = resp.json().map_err(|e| {
            if e.is_timeout() {
                EmbedError::Transient {
                    message: format!("{}: timed out reading the response", self.endpoint),
                    retry_after: None,
                }
            } else {
                EmbedError::Permanent {
                    message: format!("{}: unexpected response: {e}", self.endpoint),
                }
            }
        })?;
        if body.data.len() != texts.len() {
            return Err(EmbedError::Permanent {
                message: format!(
                    "{}: asked for {} embeddings, got {}",
                    self.endpoint,
                    texts.len(),
                    body.data.len()
                ),
            });
        }
        let mut out: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for (pos, d) in body.data.into_iter().enumerate() {
            let i = d.index.unwrap_or(pos);
            let slot = out.get_mut(i).ok_or_else(|| EmbedError::Permanent {
                message: format!("{}: embedding index {i} out of range", self.endpoint),
            })?;
            *slot = Some(d.embedding);
        }
        let mut vectors = Vec::with_capacity(texts.len());
        for v in out {
            let mut v = v.ok_or_else(|| EmbedError::Permanent {
                message: format!("{}: duplicate embedding index in response", self.endpoint),
            })?;
            if v.is_empty() {
                return Err(EmbedError::Permanent {
                    message: format!("{}: empty embedding in response", self.endpoint),
                });
            }
            l2_normalize(&mut v);
            vectors.push(v);
        }
        let dims = vectors[0].len();
        if vectors.iter().any(|v| v.len() != dims) {
            return Err(EmbedError::Permanent {
                message: format!("{}: embeddings of different lengths", self.endpoint),
            });
        }
        let known = self.dims.load(Ordering::Relaxed);
        if known != 0 && known != dims {
            return Err(EmbedError::Permanent {
                message: format!(
                    "{}: model dimension changed from {known} to {dims}",
                    self.endpoint
                ),
            });
        }
        self.dims.store(dims, Ordering::Relaxed);
        Ok(vectors)
    }
}

impl Embedder for OpenAiCompatible {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    /// 0 until a call has succeeded (see [`OpenAiCompatible::probe`]).
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

fn describe_reqwest(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("timed out ({e})")
    } else if e.is_connect() {
        format!("cannot connect ({e})")
    } else {
        e.to_string()
    }
}

/// `Retry-After`: delay in seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
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
/// `{"error":"..."}`, or the first 300 characters of the text.
fn server_message(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        let err = &v["error"];
        if let Some(m) = err["message"].as_str().or_else(|| err.as_str()) {
            return m.to_string();
        }
    }
    let text: String = body.trim().chars().take(300).collect();
    if text.is_empty() {
        "(empty body)".to_string()
    } else {
        text
    }
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
        assert_eq!(server_message(""), "(empty body)");
        assert_eq!(server_message("oops"), "oops");
    }

    #[test]
    fn model_id_and_url_check() {
        let cfg = |url: &str| OpenAiConfig {
            base_url: url.into(),
            api_key: None,
            model: "nomic-embed-text".into(),
            requests_per_minute: 0,
            tokens_per_minute: 0,
            timeout: Duration::from_secs(5),
        };
        let p = OpenAiCompatible::new(cfg("http://127.0.0.1:11434/v1/")).unwrap();
        assert_eq!(p.model_id(), "openai:nomic-embed-text@127.0.0.1:11434");
        assert_eq!(p.endpoint, "http://127.0.0.1:11434/v1/embeddings");
        assert_eq!(p.dims(), 0);
        assert!(OpenAiCompatible::new(cfg("ftp://x")).is_err());
    }
}
