//! The composition root, shared by the CLI and the desktop app (neither depends on the
//! other for this): where the database lives, logging, and an engine wired to its ports —
//! sandboxed PDF extraction through this very executable, the web fetcher (trove-scrape)
//! and the embedding model (trove-embed) when available.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Result;
use trove_core::ports::{Embedder, FetchFuture, FetchRequest, Fetched, FetchedPage, Fetcher};
use trove_core::{Engine, EngineConfig, ExtractMode, JobError};

pub mod open;
pub mod settings;
pub mod watch;

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
    init_logging_at("warn");
}

/// Logs to stderr at `level` (`error`, `warn`, `info`, `debug`: the CLI's `-q`/`-v`), unless
/// `TROVE_LOG` says otherwise.
pub fn init_logging_at(level: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(env_filter(level))
        .with_writer(std::io::stderr)
        .try_init();
}

fn env_filter(default: &str) -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_env("TROVE_LOG").unwrap_or_else(|_| default.into())
}

/// Where the local embedding model is looked for (see `trove_embed::default_model_dir`).
pub fn model_dir() -> PathBuf {
    trove_embed::default_model_dir()
}

/// Where the app writes its log files: `$XDG_STATE_HOME/trove` (usually
/// `~/.local/state/trove`).
pub fn log_dir() -> Option<PathBuf> {
    // The same XDG lookup as the database's (`directories`), for the state directory.
    let dirs = directories::BaseDirs::new()?;
    Some(dirs.state_dir()?.join("trove"))
}

/// The window's logs: warnings to stderr (as [`init_logging`]), and everything from
/// `info` up to a file a day in [`log_dir`] (`trove.YYYY-MM-DD.log`, the last 7 kept),
/// since nobody sees the stderr of an app opened from the menu. Keep the guard while the
/// app runs: dropping it flushes the file.
pub fn init_app_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::prelude::*;
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(env_filter("warn"));
    let appender = log_dir().and_then(|dir| {
        std::fs::create_dir_all(&dir).ok()?;
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("trove")
            .filename_suffix("log")
            .max_log_files(7)
            .build(&dir)
            .ok()
    });
    let Some(appender) = appender else {
        let _ = tracing_subscriber::registry().with(stderr).try_init();
        return None;
    };
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let file = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(writer)
        .with_filter(env_filter("info"));
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
    Some(guard)
}

/// The engine's configuration for this executable with the default settings (and the
/// environment's overrides); see [`engine_config_with`].
pub fn engine_config() -> EngineConfig {
    engine_config_with(&HashMap::new())
}

/// The engine's configuration for this executable and the database's `stored` settings:
/// files are extracted in child processes of it (`<exe> __extract`), killed after a minute.
pub fn engine_config_with(stored: &HashMap<String, String>) -> EngineConfig {
    let mut cfg = EngineConfig::default();
    if let Ok(exe) = std::env::current_exe() {
        cfg.extract = ExtractMode::sandbox(exe, Duration::from_secs(60));
    }
    cfg.limits.ocr = ocr_config_with(stored);
    cfg.limits.ocr_off = settings::value(stored, "ocr") == "off";
    // `TROVE_JOB_DEADLINE`: seconds any job may take (plus 30 s per MiB of a file).
    if let Some(secs) = env_parse::<f64>("TROVE_JOB_DEADLINE") {
        cfg.queue.deadline_ms = (secs.max(0.1) * 1000.0) as i64;
    }
    cfg
}

/// OCR with the default settings; see [`ocr_config_with`].
pub fn ocr_config() -> Option<trove_extract::OcrConfig> {
    ocr_config_with(&HashMap::new())
}

/// OCR with Tesseract when it is installed and the `ocr` setting is on (`TROVE_OCR=off`):
/// the `ocr-languages` (`TROVE_OCR_LANG`, e.g. `eng+deu`) and the `ocr-budget` per
/// document in seconds (`TROVE_OCR_BUDGET`).
pub fn ocr_config_with(stored: &HashMap<String, String>) -> Option<trove_extract::OcrConfig> {
    if settings::value(stored, "ocr") == "off" {
        return None;
    }
    let mut cfg = trove_extract::OcrConfig::discover(&settings::value(stored, "ocr-languages"))?;
    if let Ok(secs) = settings::value(stored, "ocr-budget").parse() {
        cfg.budget_secs = secs;
    }
    Some(cfg)
}

/// Opens the engine with the web fetcher and whichever embedder is configured.
pub fn open_engine(db: &Path) -> Result<Arc<Engine>> {
    let stored = settings::read_stored(db);
    let engine = Engine::open(db, engine_config_with(&stored)).map_err(|e| {
        let text = e.to_string().to_lowercase();
        let about_access = [
            "readonly",
            "read-only",
            "not written",
            "unable to open",
            "permission denied",
        ]
        .iter()
        .any(|w| text.contains(w));
        match read_only_reason(db).filter(|_| about_access) {
            Some(why) => anyhow::anyhow!("{why} ({e})"),
            None => e.into(),
        }
    })?;
    engine.set_fetcher(Arc::new(WebFetcher::new(scrape_config_with(&stored))?));
    engine.set_embedder(embedder_with(&stored)?);
    Ok(engine)
}

/// The chat endpoint Ask writes answers with, as the settings name it now (`chat-url`,
/// `chat-model`, `chat-key`); None when `chat-url` is empty.
pub fn chat_model(engine: &Engine) -> Result<Option<Arc<dyn trove_core::ChatModel>>> {
    let stored = settings::stored_in(engine)?;
    let url = settings::value(&stored, "chat-url");
    if url.trim().is_empty() {
        return Ok(None);
    }
    let chat = trove_embed::chat::OpenAiChat::new(trove_embed::chat::ChatConfig {
        base_url: url,
        model: settings::value(&stored, "chat-model"),
        api_key: settings::secret_of("chat-key", &stored),
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Some(Arc::new(Chat(chat))))
}

/// [`trove_embed::chat::OpenAiChat`] as the engine's [`trove_core::ChatModel`].
struct Chat(trove_embed::chat::OpenAiChat);

impl trove_core::ChatModel for Chat {
    fn endpoint(&self) -> String {
        self.0.shown().to_owned()
    }
    fn model(&self) -> String {
        self.0.model().to_owned()
    }
    fn answer(
        &self,
        messages: &[trove_core::ChatMessage],
        on_token: &mut dyn FnMut(&str),
    ) -> std::result::Result<String, trove_core::ChatError> {
        let m: Vec<(&str, &str)> = messages
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str()))
            .collect();
        self.0
            .answer(&m, on_token)
            .map_err(|e| trove_core::ChatError(e.0))
    }
}

/// Uses the embedder the settings now name (after `embedder`, `embed-model`, `embed-key`
/// or a limit changed): searches and new items use it at once; passages it has no
/// vectors for are embedded by `Engine::reindex` ("Build semantic index").
pub fn apply_embedder(engine: &Engine) -> Result<()> {
    let stored = settings::stored_in(engine)?;
    engine.set_embedder(embedder_with(&stored)?);
    Ok(())
}

/// Why the database cannot be written by this user, when that is the reason it did not
/// open: SQLite only says "unable to open database file" or "readonly database".
fn read_only_reason(db: &Path) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    // The errno of access(2) for writing, None when writable.
    let denied = |p: &Path| -> Option<i32> {
        let c = std::ffi::CString::new(p.as_os_str().as_bytes()).ok()?;
        // SAFETY: access(2) reads a valid NUL-terminated path.
        #[allow(unsafe_code)]
        let rc = unsafe { libc::access(c.as_ptr(), libc::W_OK) };
        (rc != 0).then(|| std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    };
    let why = |what: String, errno: i32| {
        if errno == libc::EROFS {
            format!("{what} is on a read-only file system: Trove needs to write to it")
        } else {
            format!(
                "{what} is read-only for you: Trove needs to write to it (check its owner \
                 and permissions)"
            )
        }
    };
    for suffix in ["", "-wal", "-shm"] {
        let mut f = db.as_os_str().to_owned();
        f.push(suffix);
        let f = Path::new(&f);
        if f.exists() {
            if let Some(errno) = denied(f) {
                return Some(why(format!("the database file {}", f.display()), errno));
            }
        }
    }
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if dir.exists() {
        if let Some(errno) = denied(dir) {
            return Some(why(
                format!("the folder {} (where its journal goes)", dir.display()),
                errno,
            ));
        }
    }
    None
}

/// The web fetcher's configuration with the default settings; see [`scrape_config_with`].
pub fn scrape_config_from_env() -> trove_scrape::ScrapeConfig {
    scrape_config_with(&HashMap::new())
}

/// The settings `rate-limit` (requests per second per host, 0 = off; `TROVE_RATE_LIMIT`),
/// `fetch-timeout` (seconds; `TROVE_FETCH_TIMEOUT`) and `robots` over the polite defaults.
///
/// TEST-ONLY: `TROVE_TEST_PUBLIC_IPS` (comma-separated addresses, e.g. `127.0.0.2`) lists
/// local addresses the web fetcher's SSRF guard treats as public sites
/// ([`trove_scrape::ScrapeConfig::treat_as_public`]), so end-to-end tests can play a
/// public site on loopback. Never set it otherwise: it weakens the guard.
pub fn scrape_config_with(stored: &HashMap<String, String>) -> trove_scrape::ScrapeConfig {
    let mut cfg = trove_scrape::ScrapeConfig::default();
    if let Ok(rate) = settings::value(stored, "rate-limit").parse::<f64>() {
        cfg.per_host_per_second = rate.max(0.0);
    }
    if let Ok(secs) = settings::value(stored, "fetch-timeout").parse::<f64>() {
        cfg.total_timeout = Duration::from_secs_f64(secs.max(0.1));
    }
    cfg.respect_robots = settings::value(stored, "robots") != "off";
    if let Ok(list) = std::env::var("TROVE_TEST_PUBLIC_IPS") {
        cfg.treat_as_public = parse_ip_list(&list);
    }
    cfg
}

/// `127.0.0.2, ::1` → the addresses; entries that are not an IP address are skipped.
fn parse_ip_list(list: &str) -> Vec<std::net::IpAddr> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

fn env_parse<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// The embedder with the default settings and the environment's overrides; see
/// [`embedder_with`].
pub fn embedder_from_env() -> Result<Option<Arc<dyn Embedder>>> {
    embedder_with(&HashMap::new())
}

/// The embedder the settings name: an OpenAI-compatible service when `embedder` is its
/// address (`TROVE_EMBED_URL`; with `embed-model`, `embed-key`, `embed-rpm`, `embed-tpm`
/// and their variables), else the local MiniLM model when its files are present, else none
/// (keyword search only). The address must be `https://` unless the service runs on this
/// computer (`http://localhost…`, `http://127.0.0.1…`, `http://[::1]…`): anything else,
/// also in `TROVE_EMBED_URL`, is an error, before anything is sent.
pub fn embedder_with(stored: &HashMap<String, String>) -> Result<Option<Arc<dyn Embedder>>> {
    if let Some(raw) = std::env::var("TROVE_EMBED_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        // An unacceptable variable is an error here (the settings would just ignore it).
        if !raw.trim().eq_ignore_ascii_case("local") {
            trove_embed::check_base_url(&raw)
                .map_err(|e| anyhow::anyhow!("{e} (TROVE_EMBED_URL)"))?;
        }
    }
    let url = settings::value(stored, "embedder");
    if url != "local" {
        let cfg = trove_embed::OpenAiConfig {
            base_url: url,
            api_key: settings::secret(stored),
            model: settings::value(stored, "embed-model"),
            requests_per_minute: settings::value(stored, "embed-rpm").parse().unwrap_or(0),
            tokens_per_minute: settings::value(stored, "embed-tpm").parse().unwrap_or(0),
            timeout: Duration::from_secs(60),
        };
        let remote = trove_embed::OpenAiCompatible::new(cfg)?;
        return Ok(Some(Arc::new(RemoteEmbedder { inner: remote })));
    }
    let dir = trove_embed::default_model_dir();
    if trove_embed::model_present(&dir) {
        Ok(Some(Arc::new(LazyLocal {
            dir,
            model: OnceLock::new(),
            tokens: OnceLock::new(),
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
    /// The model's tokenizer, to find the windows of long chunks (None: it did not load,
    /// and embedding reports why).
    tokens: OnceLock<Option<trove_embed::TokenCounter>>,
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
    fn windows(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        let tokens = self
            .tokens
            .get_or_init(|| trove_embed::TokenCounter::load(&self.dir).ok());
        match tokens {
            Some(t) => trove_core::chunk::windows(text, t.max_tokens(), &|s| t.count(s)),
            None => Vec::new(),
        }
    }
}

/// An OpenAI-compatible service; its dimension is learnt from its first answer and
/// never guessed.
struct RemoteEmbedder {
    inner: trove_embed::OpenAiCompatible,
}

impl Embedder for RemoteEmbedder {
    fn model_id(&self) -> &str {
        trove_embed::Embedder::model_id(&self.inner)
    }
    /// The service's dimension, asking it (a probe) while unknown. 0 = the service has not
    /// answered yet: not remembered (the next call asks again), and never paired with
    /// vectors — every vector `embed` returns has the dimension `dims` reports after it.
    fn dims(&self) -> usize {
        match trove_embed::Embedder::dims(&self.inner) {
            0 => self.inner.probe().unwrap_or(0),
            known => known,
        }
    }
    fn embed(&self, texts: &[&str]) -> std::result::Result<Vec<Vec<f32>>, JobError> {
        let v = trove_embed::Embedder::embed(&self.inner, texts).map_err(embed_error)?;
        let dims = trove_embed::Embedder::dims(&self.inner);
        if v.iter().any(|v| v.len() != dims || dims == 0) {
            return Err(JobError::transient(
                "The embedding service sent vectors of an unexpected size.",
            ));
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
            let mut r = trove_scrape::FetchRequest {
                url,
                etag: req.etag,
                last_modified: req.last_modified,
                ignore_robots: req.ignore_robots,
                linked_from_seed: None,
            };
            // A page of a crawl other than its start was found through links: the
            // fetcher's SSRF guard treats it as such (the start page is a typed link).
            if let Some(scope) = &scope {
                r = r.in_crawl_of(scope.start.clone());
            }
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

#[cfg(test)]
mod scrape_tests {
    use super::*;

    #[test]
    fn test_public_ips_are_parsed_leniently() {
        let ips = parse_ip_list(" 127.0.0.2, ::1,,not-an-ip , 10.0.0.7");
        let want: Vec<std::net::IpAddr> = ["127.0.0.2", "::1", "10.0.0.7"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(ips, want);
        assert!(parse_ip_list("").is_empty());
    }

    /// The crawl scope reaches the fetcher's guard: a crawl page on a private address,
    /// linked from a public start page, is refused before anything is sent (so one
    /// poll settles it; no server and no async runtime needed).
    #[test]
    fn crawl_links_from_a_public_start_are_guarded() {
        let fetcher = WebFetcher::new(trove_scrape::ScrapeConfig {
            treat_as_public: vec!["127.0.0.2".parse().unwrap()],
            ..Default::default()
        })
        .unwrap();
        let req = |url: &str| FetchRequest {
            url: url.into(),
            etag: None,
            last_modified: None,
            ignore_robots: false,
            crawl_scope: Some(("http://127.0.0.2:9/".into(), false)),
        };
        let mut fut = fetcher.fetch(req("http://127.0.0.1:9/secret"));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(Err(e)) => {
                assert_eq!(e.retry, trove_core::Retry::Never);
                assert_eq!(
                    e.message,
                    "the link leads to a local or private network address (127.0.0.1), which Trove does not follow from a public site"
                );
            }
            std::task::Poll::Ready(Ok(_)) => panic!("fetched a private page"),
            std::task::Poll::Pending => panic!("the request was not refused up front"),
        }
    }

    #[test]
    fn crawl_pages_other_than_the_start_are_marked_as_linked() {
        let start = url::Url::parse("http://example.com/docs/").unwrap();
        let page = |u: &str| {
            trove_scrape::FetchRequest::new(url::Url::parse(u).unwrap()).in_crawl_of(start.clone())
        };
        assert_eq!(
            page("http://example.com/docs/a").linked_from_seed,
            Some(start.clone())
        );
        assert_eq!(page("http://EXAMPLE.com:80/docs/#x").linked_from_seed, None);
    }
}

#[cfg(test)]
mod embedder_tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A bare HTTP/1.1 embeddings server on `listener`: 503 to the first `down` requests,
    /// then one 3-dimensional vector (the tests send one text at a time). Counts requests.
    fn serve(listener: TcpListener, down: usize) -> Arc<AtomicUsize> {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let (status, body) = if n < down {
                    ("503 Service Unavailable", r#"{"error":"loading"}"#)
                } else {
                    ("200 OK", r#"{"data":[{"index":0,"embedding":[3,0,4]}]}"#)
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        hits
    }

    fn remote(port: u16) -> RemoteEmbedder {
        let cfg = trove_embed::OpenAiConfig {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            api_key: Some("sk-runtime-secret".into()),
            model: "m".into(),
            requests_per_minute: 0,
            tokens_per_minute: 0,
            timeout: Duration::from_secs(10),
        };
        RemoteEmbedder {
            inner: trove_embed::OpenAiCompatible::new(cfg).unwrap(),
        }
    }

    #[test]
    fn a_failed_probe_is_not_remembered() {
        // Down: nothing listens on the port.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = remote(port);
        assert_eq!(e.dims(), 0, "unknown while unreachable");
        let err = e.embed(&["a"]).unwrap_err();
        assert_ne!(err.retry, trove_core::error::Retry::Never, "{err:?}");
        assert!(!err.message.contains("sk-runtime-secret"), "{err:?}");

        // Up, but answering 503 once.
        let hits = serve(TcpListener::bind(("127.0.0.1", port)).unwrap(), 1);
        assert_eq!(e.dims(), 0, "a 503 is not a dimension");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(e.dims(), 3);
        let v = e.embed(&["b"]).unwrap();
        assert_eq!(v, vec![vec![0.6, 0.0, 0.8]]);
        assert_eq!(e.dims(), 3);
        // Known now: no more probes.
        assert_eq!(hits.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn plain_http_to_another_computer_is_refused() {
        // The only test reading TROVE_EMBED_*.
        std::env::set_var("TROVE_EMBED_URL", "http://ollama.lan:11434/v1");
        let res = embedder_from_env();
        std::env::remove_var("TROVE_EMBED_URL");
        let err = res
            .err()
            .expect("an http URL of another computer is refused");
        assert!(
            err.to_string().starts_with(
                "The embedding service must use https unless it runs on this computer"
            ),
            "{err}"
        );
    }
}
