//! The composition root, shared by the CLI and the desktop app (neither depends on the
//! other for this): where the database lives, logging, and an engine wired to its ports —
//! sandboxed PDF extraction through this very executable, the web fetcher (trove-scrape)
//! and the embedding model (trove-embed) when available.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Result;
use trove_core::ports::{Embedder, FetchFuture, FetchRequest, Fetched, FetchedPage, Fetcher};
use trove_core::{Engine, EngineConfig, ExtractMode, JobError};

/// Where Trove keeps its database when neither `--db` nor `TROVE_DB` says otherwise:
/// `$XDG_DATA_HOME/trove/trove.db` (usually `~/.local/share/trove/trove.db`).
pub fn default_db_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("TROVE_DB") {
        return Ok(PathBuf::from(p));
    }
    let dirs = directories::BaseDirs::new().ok_or_else(|| {
        trove_core::Error::Invalid("cannot find the home directory to store the database".into())
    })?;
    Ok(dirs.data_dir().join("trove").join("trove.db"))
}

/// Logs to stderr, filtered by `TROVE_LOG` (default: warnings). Used by the CLI and the app.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TROVE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
}

/// The engine's configuration for this executable: PDFs are extracted in a child process
/// of it (`<exe> __extract <path>`), killed after a minute.
pub fn engine_config() -> EngineConfig {
    let mut cfg = EngineConfig::default();
    if let Ok(exe) = std::env::current_exe() {
        cfg.extract = ExtractMode::Sandbox {
            exe,
            timeout: Duration::from_secs(60),
        };
    }
    // `TROVE_JOB_DEADLINE`: seconds any job may take (plus 30 s per MiB of a file).
    if let Some(secs) = env_parse::<f64>("TROVE_JOB_DEADLINE") {
        cfg.queue.deadline_ms = (secs.max(0.1) * 1000.0) as i64;
    }
    cfg
}

/// Opens the engine with the web fetcher and whichever embedder is configured.
pub fn open_engine(db: &Path) -> Result<Arc<Engine>> {
    let engine = Engine::open(db, engine_config())?;
    engine.set_fetcher(Arc::new(WebFetcher::new(scrape_config_from_env())?));
    engine.set_embedder(embedder_from_env()?);
    Ok(engine)
}

/// `TROVE_RATE_LIMIT` (requests per second per host, 0 = off) and `TROVE_FETCH_TIMEOUT`
/// (seconds) override the polite defaults.
pub fn scrape_config_from_env() -> trove_scrape::ScrapeConfig {
    let mut cfg = trove_scrape::ScrapeConfig::default();
    if let Some(rate) = env_parse::<f64>("TROVE_RATE_LIMIT") {
        cfg.per_host_per_second = rate.max(0.0);
    }
    if let Some(secs) = env_parse::<f64>("TROVE_FETCH_TIMEOUT") {
        cfg.total_timeout = Duration::from_secs_f64(secs.max(0.1));
    }
    cfg
}

fn env_parse<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// The embedder: an OpenAI-compatible service when `TROVE_EMBED_URL` is set
/// (`TROVE_EMBED_MODEL`, `TROVE_EMBED_KEY`, `TROVE_EMBED_RPM`, `TROVE_EMBED_TPM`), else the
/// local MiniLM model when its files are present, else none (keyword search only).
pub fn embedder_from_env() -> Result<Option<Arc<dyn Embedder>>> {
    if let Some(url) = std::env::var("TROVE_EMBED_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        let cfg = trove_embed::OpenAiConfig {
            base_url: url,
            api_key: std::env::var("TROVE_EMBED_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
            model: std::env::var("TROVE_EMBED_MODEL")
                .unwrap_or_else(|_| "text-embedding-3-small".into()),
            requests_per_minute: env_parse("TROVE_EMBED_RPM").unwrap_or(0),
            tokens_per_minute: env_parse("TROVE_EMBED_TPM").unwrap_or(0),
            timeout: Duration::from_secs(60),
        };
        let remote = trove_embed::OpenAiCompatible::new(cfg)?;
        return Ok(Some(Arc::new(RemoteEmbedder {
            inner: remote,
            dims: OnceLock::new(),
        })));
    }
    let dir = trove_embed::default_model_dir();
    if trove_embed::model_present(&dir) {
        Ok(Some(Arc::new(LazyLocal {
            dir,
            model: OnceLock::new(),
        })))
    } else {
        Ok(None)
    }
}

fn embed_error(e: trove_embed::EmbedError) -> JobError {
    match e.retry_after() {
        Some(after) => JobError::retry_after(e.to_string(), after.as_millis() as u64),
        None if e.is_transient() => JobError::transient(e.to_string()),
        None => JobError::permanent(e.to_string()),
    }
}

/// The local model, loaded on first use (commands that never embed stay fast).
struct LazyLocal {
    dir: PathBuf,
    model: OnceLock<std::result::Result<trove_embed::LocalMiniLm, String>>,
}

const LOCAL_ID: &str = "local:all-MiniLM-L6-v2";

impl Embedder for LazyLocal {
    fn model_id(&self) -> &str {
        LOCAL_ID
    }
    fn dims(&self) -> usize {
        384
    }
    fn embed(&self, texts: &[&str]) -> std::result::Result<Vec<Vec<f32>>, JobError> {
        let model = self
            .model
            .get_or_init(|| trove_embed::LocalMiniLm::load(&self.dir).map_err(|e| e.to_string()));
        match model {
            Ok(m) => trove_embed::Embedder::embed(m, texts).map_err(embed_error),
            Err(e) => Err(JobError::permanent(e.clone())),
        }
    }
}

/// An OpenAI-compatible service; its dimension is learnt from the first answer.
struct RemoteEmbedder {
    inner: trove_embed::OpenAiCompatible,
    dims: OnceLock<usize>,
}

impl Embedder for RemoteEmbedder {
    fn model_id(&self) -> &str {
        trove_embed::Embedder::model_id(&self.inner)
    }
    fn dims(&self) -> usize {
        *self.dims.get_or_init(|| self.inner.probe().unwrap_or(0))
    }
    fn embed(&self, texts: &[&str]) -> std::result::Result<Vec<Vec<f32>>, JobError> {
        let v = trove_embed::Embedder::embed(&self.inner, texts).map_err(embed_error)?;
        if let Some(first) = v.first() {
            let _ = self.dims.set(first.len());
        }
        Ok(v)
    }
}

/// trove-scrape behind the engine's [`Fetcher`] trait.
pub struct WebFetcher {
    scraper: trove_scrape::Scraper,
}

impl WebFetcher {
    pub fn new(cfg: trove_scrape::ScrapeConfig) -> Result<Self> {
        Ok(Self {
            scraper: trove_scrape::Scraper::new(cfg).map_err(|e| anyhow::anyhow!(e.message))?,
        })
    }
}

fn scrape_error(e: trove_scrape::ScrapeError) -> JobError {
    match e.kind {
        trove_scrape::ErrorKind::Permanent => JobError::permanent(e.message),
        trove_scrape::ErrorKind::Transient => JobError::transient(e.message),
        trove_scrape::ErrorKind::RetryAfter(d) => {
            JobError::retry_after(e.message, d.as_millis() as u64)
        }
    }
}

impl Fetcher for WebFetcher {
    fn fetch(&self, req: FetchRequest) -> FetchFuture<'_> {
        Box::pin(async move {
            let url = url::Url::parse(&req.url)
                .map_err(|e| JobError::permanent(format!("not a valid URL: {e}")))?;
            // Links are only needed (and only kept) for pages of a crawl, in its scope.
            let scope = match &req.crawl_scope {
                Some((start, same_prefix)) => Some(trove_scrape::CrawlScope {
                    start: url::Url::parse(start)
                        .map_err(|e| JobError::permanent(format!("not a valid URL: {e}")))?,
                    max_depth: 0,
                    max_pages: 0,
                    same_path_prefix: *same_prefix,
                }),
                None => None,
            };
            let r = trove_scrape::FetchRequest {
                url,
                etag: req.etag,
                last_modified: req.last_modified,
                ignore_robots: req.ignore_robots,
            };
            match self.scraper.fetch(r).await.map_err(scrape_error)? {
                trove_scrape::Fetched::NotModified { final_url } => Ok(Fetched::NotModified {
                    final_url: final_url.to_string(),
                }),
                trove_scrape::Fetched::Page(p) => {
                    let (pdf, size) = match p.body {
                        trove_scrape::Body::Pdf(bytes) => {
                            let n = bytes.len() as u64;
                            (Some(bytes), n)
                        }
                        trove_scrape::Body::Text => (None, p.text.len() as u64),
                    };
                    Ok(Fetched::Page(Box::new(FetchedPage {
                        final_url: p.final_url.to_string(),
                        http_status: p.http_status,
                        content_type: p.content_type,
                        title: p.title,
                        text: p.text,
                        etag: p.etag,
                        last_modified: p.last_modified,
                        sha256: p.content_sha256,
                        size,
                        links: match &scope {
                            Some(scope) => p
                                .links
                                .into_iter()
                                .filter(|u| scope.allows(u))
                                .map(|u| u.to_string())
                                .collect(),
                            None => Vec::new(),
                        },
                        pdf,
                    })))
                }
            }
        })
    }
}
