//! What a job does: files are read, sniffed, extracted, chunked, embedded and indexed;
//! URLs are fetched (through a [`Fetcher`]) and then go the same way. Results are written
//! in the job's completing transaction: an item's chunks are replaced all at once, so a
//! job that runs twice (at-least-once delivery) never duplicates them.

use std::future::Future;
use std::ops::Range;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::Ordering;

use rusqlite::{params, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};

use crate::chunk::chunk;
use crate::clock::db_ts;
use crate::engine::{Engine, ExtractMode};
use crate::error::{JobError, Result};
use crate::model::{ItemKind, ItemRef};
use crate::queue::{self, Claimed};

/// Turns text into vectors. Implemented outside the engine (local model, remote service).
pub trait Embedder: Send + Sync {
    /// Identifies the model; vectors of different models are never mixed.
    fn model_id(&self) -> &str;
    fn dims(&self) -> usize;
    /// L2-normalised vectors, one per text.
    fn embed(&self, texts: &[&str]) -> std::result::Result<Vec<Vec<f32>>, JobError>;
}

#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub ignore_robots: bool,
    /// Part of a crawl: (start URL, stay under its folder). The fetcher returns in
    /// [`FetchedPage::links`] only the links of the same site (and folder).
    pub crawl_scope: Option<(String, bool)>,
}

#[derive(Debug, Clone)]
pub struct FetchedPage {
    pub final_url: String,
    pub http_status: u16,
    pub content_type: String,
    pub title: Option<String>,
    pub text: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sha256: String,
    pub size: u64,
    pub links: Vec<String>,
    /// A PDF body: the engine extracts it like a PDF file (`text` is empty then).
    pub pdf: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub enum Fetched {
    NotModified { final_url: String },
    Page(Box<FetchedPage>),
}

pub type FetchFuture<'a> =
    Pin<Box<dyn Future<Output = std::result::Result<Fetched, JobError>> + Send + 'a>>;

/// Fetches web pages. Implemented outside the engine (HTTP, politeness, main content).
pub trait Fetcher: Send + Sync {
    fn fetch(&self, req: FetchRequest) -> FetchFuture<'_>;
}

/// Why a run stopped without a result.
pub(crate) enum RunError {
    Job(JobError),
    /// The lease was taken away (deleted item, expired lease): drop everything.
    LeaseLost,
}

impl From<JobError> for RunError {
    fn from(e: JobError) -> Self {
        RunError::Job(e)
    }
}

impl From<crate::error::Error> for RunError {
    fn from(e: crate::error::Error) -> Self {
        RunError::Job(e.into())
    }
}

pub(crate) struct Runner<'a> {
    pub engine: &'a Engine,
    pub job: &'a Claimed,
    /// Cancelled when the job must stop at once (shutdown past its grace, lease lost).
    cancel: tokio_util::sync::CancellationToken,
    last_progress_ms: std::cell::Cell<i64>,
}

/// What a successful run writes.
#[derive(Default)]
struct Outcome {
    mime: Option<String>,
    kind_label: Option<String>,
    sha256: Option<String>,
    size: Option<i64>,
    /// Replace the item's text and chunks (None: keep what is indexed).
    content: Option<Content>,
    duplicate_of: Option<String>,
    page: Option<PageMeta>,
}

/// (model id, dimensions, (chunk text hash, vector) pairs) of newly computed vectors.
type Vectors = (String, usize, Vec<(String, Vec<f32>)>);

struct Content {
    text: String,
    ranges: Vec<Range<usize>>,
    hashes: Vec<String>,
    /// (model, dims, new vectors by text hash) to add to the cache.
    vectors: Option<Vectors>,
}

struct PageMeta {
    final_url: String,
    title: Option<String>,
    http_status: Option<u16>,
    etag: Option<String>,
    last_modified: Option<String>,
    /// Links found on the page (absolute http(s)), for crawls.
    links: Vec<String>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl<'a> Runner<'a> {
    pub fn new(
        engine: &'a Engine,
        job: &'a Claimed,
        cancel: tokio_util::sync::CancellationToken,
    ) -> Self {
        Self {
            engine,
            job,
            cancel,
            last_progress_ms: std::cell::Cell::new(0),
        }
    }

    /// Report progress; throttled to 5 updates a second except for stage changes.
    fn progress(&self, pct: u8, stage: &str, force: bool) -> std::result::Result<(), RunError> {
        let now = self.engine.now_ms();
        if !force && now - self.last_progress_ms.get() < 200 {
            return Ok(());
        }
        self.last_progress_ms.set(now);
        let ok = self
            .engine
            .with_conn(|c| queue::progress(c, self.job, pct, stage, now))?;
        if ok {
            Ok(())
        } else {
            Err(RunError::LeaseLost)
        }
    }

    /// Run the job to its end: complete or fail it in the queue.
    pub fn run(&self) -> std::result::Result<(), RunError> {
        let outcome = match self.job.item.kind {
            ItemKind::File => self.ingest_file()?,
            ItemKind::Url => self.scrape_url()?,
        };
        let item = self.job.item;
        let now = self.engine.now_ms();
        let stored = self
            .engine
            .with_conn(|c| queue::complete(c, self.job, now, |tx| store(tx, item, outcome, now)))?;
        if stored {
            Ok(())
        } else {
            Err(RunError::LeaseLost)
        }
    }

    fn ingest_file(&self) -> std::result::Result<Outcome, RunError> {
        let (path, name): (String, String) = self.engine.read(|c| {
            Ok(c.query_row(
                "SELECT path, filename FROM knowledge_files WHERE id = ?1",
                [self.job.item.id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })?;
        self.progress(5, "reading", true)?;
        let p = Path::new(&path);
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(JobError::permanent(format!("file no longer exists at {path}")).into())
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(JobError::permanent(format!("permission denied reading {path}")).into())
            }
            Err(e) => return Err(JobError::transient(format!("could not read {path}: {e}")).into()),
        };
        if meta.is_dir() {
            return Err(JobError::permanent(format!("{path} is a folder, not a file")).into());
        }
        let limits = &self.engine.config.limits;
        if meta.len() > limits.max_input_bytes {
            return Err(JobError::permanent(format!(
                "file is too large ({} MB; the limit is {} MB)",
                meta.len() / 1_000_000,
                limits.max_input_bytes / 1_000_000
            ))
            .into());
        }
        let bytes = std::fs::read(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                JobError::permanent(format!("file no longer exists at {path}"))
            }
            std::io::ErrorKind::PermissionDenied => {
                JobError::permanent(format!("permission denied reading {path}"))
            }
            _ => JobError::transient(format!("could not read {path}: {e}")),
        })?;
        let sha = sha256_hex(&bytes);
        let size = Some(bytes.len() as i64);
        if let Some(original) = self.find_duplicate(&sha)? {
            return Ok(Outcome {
                sha256: Some(sha),
                size,
                duplicate_of: Some(original),
                ..Default::default()
            });
        }
        self.progress(10, "extracting", true)?;
        let kind = trove_extract::detect(&bytes, Some(&name)).map_err(extract_error)?;
        let extracted = match (&self.engine.config.extract, kind) {
            (ExtractMode::Sandbox { exe, timeout }, trove_extract::DocKind::Pdf) => {
                let cfg = trove_extract::sandbox::SandboxConfig {
                    exe: exe.clone(),
                    timeout: *timeout,
                    limits: limits.clone(),
                };
                drop(bytes);
                trove_extract::sandbox::extract_file_sandboxed(&cfg, p)
            }
            _ => trove_extract::extract(&bytes, Some(&name), limits),
        }
        .map_err(extract_error)?;
        let content = self.index_text(extracted.text)?;
        Ok(Outcome {
            mime: Some(extracted.kind.mime().to_owned()),
            kind_label: Some(extracted.kind.label().to_owned()),
            sha256: Some(sha),
            size,
            content: Some(content),
            ..Default::default()
        })
    }

    fn scrape_url(&self) -> std::result::Result<Outcome, RunError> {
        type Row = (
            String,
            Option<String>,
            Option<String>,
            bool,
            Option<String>,
            i64,
        );
        let (url, etag, last_modified, ignore_robots, old_sha, chunk_count): Row = self.engine.read(|c| {
            Ok(c.query_row(
                "SELECT url, etag, last_modified, ignore_robots, sha256, chunk_count FROM scraped_contents WHERE id = ?1",
                [self.job.item.id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )?)
        })?;
        let fetcher = self.engine.fetcher().ok_or_else(|| {
            JobError::permanent("fetching web pages is not available in this build of Trove")
        })?;
        self.progress(10, "fetching", true)?;
        // Conditional request only when something is indexed to fall back on.
        let have_content = chunk_count > 0 && old_sha.is_some();
        let req = FetchRequest {
            url: url.clone(),
            etag: etag.filter(|_| have_content),
            last_modified: last_modified.filter(|_| have_content),
            ignore_robots,
            crawl_scope: self
                .engine
                .read(|c| crate::crawl::scope_for(c, self.job.item.id))?,
        };
        let cancel = self.cancel.clone();
        let fetched = tokio::runtime::Handle::try_current()
            .map_err(|_| JobError::permanent("internal error: no async runtime to fetch with"))?
            .block_on(async move {
                tokio::select! {
                    r = fetcher.fetch(req) => Some(r),
                    _ = cancel.cancelled() => None,
                }
            })
            .ok_or(RunError::LeaseLost)??;
        let page = match fetched {
            Fetched::NotModified { final_url } => {
                return Ok(Outcome {
                    page: Some(PageMeta {
                        final_url,
                        title: None,
                        http_status: Some(304),
                        etag: None,
                        last_modified: None,
                        links: Vec::new(),
                    }),
                    ..Default::default()
                })
            }
            Fetched::Page(p) => p,
        };
        let meta = PageMeta {
            final_url: page.final_url.clone(),
            title: page.title.clone(),
            http_status: Some(page.http_status),
            etag: page.etag.clone(),
            last_modified: page.last_modified.clone(),
            links: page.links.clone(),
        };
        let mut outcome = Outcome {
            mime: Some(page.content_type.clone()),
            sha256: Some(page.sha256.clone()),
            size: Some(page.size as i64),
            page: Some(meta),
            ..Default::default()
        };
        if have_content && old_sha.as_deref() == Some(page.sha256.as_str()) {
            // Same bytes as last time: keep the chunks and vectors, just record the visit.
            return Ok(outcome);
        }
        let text = match page.pdf {
            Some(bytes) => {
                self.progress(20, "extracting", true)?;
                self.extract_pdf_bytes(bytes)?
            }
            None => page.text,
        };
        outcome.content = Some(self.index_text(text)?);
        Ok(outcome)
    }

    /// A PDF that came from the web: in the sandbox when extraction is sandboxed (the
    /// parser may panic or hang on hostile input), through a private temporary file.
    fn extract_pdf_bytes(&self, bytes: Vec<u8>) -> std::result::Result<String, RunError> {
        let limits = &self.engine.config.limits;
        let extracted = match &self.engine.config.extract {
            ExtractMode::Sandbox { exe, timeout } => {
                let mut tmp = tempfile::Builder::new()
                    .prefix("trove-page-")
                    .suffix(".pdf")
                    .tempfile()
                    .map_err(|e| {
                        JobError::transient(format!("cannot write a temporary file: {e}"))
                    })?;
                std::io::Write::write_all(&mut tmp, &bytes).map_err(|e| {
                    JobError::transient(format!("cannot write a temporary file: {e}"))
                })?;
                drop(bytes);
                let cfg = trove_extract::sandbox::SandboxConfig {
                    exe: exe.clone(),
                    timeout: *timeout,
                    limits: limits.clone(),
                };
                trove_extract::sandbox::extract_file_sandboxed(&cfg, tmp.path())
            }
            ExtractMode::InProcess => trove_extract::extract(&bytes, Some("page.pdf"), limits),
        };
        Ok(extracted.map_err(extract_error)?.text)
    }

    fn find_duplicate(&self, sha: &str) -> Result<Option<String>> {
        let me = self.job.item.to_string();
        self.engine.read(|c| {
            Ok(c.query_row(
                "SELECT r FROM (
                     SELECT 'f' || id AS r, uploaded_at AS t FROM knowledge_files
                      WHERE sha256 = ?1 AND status = 'completed' AND duplicate_of IS NULL
                     UNION ALL
                     SELECT 'u' || id, created_at FROM scraped_contents
                      WHERE sha256 = ?1 AND status = 'completed' AND duplicate_of IS NULL)
                 WHERE r != ?2 ORDER BY t LIMIT 1",
                params![sha, me],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// Chunk, and embed what the cache does not have yet.
    fn index_text(&self, text: String) -> std::result::Result<Content, RunError> {
        self.progress(50, "chunking", true)?;
        let ranges = chunk(&text, &self.engine.config.chunk);
        if ranges.is_empty() {
            return Err(JobError::permanent("no text found in this file").into());
        }
        let hashes: Vec<String> = ranges
            .iter()
            .map(|r| sha256_hex(text[r.clone()].as_bytes()))
            .collect();
        let vectors = match self.engine.embedder() {
            Some(emb) => Some(self.embed_missing(emb.as_ref(), &text, &ranges, &hashes)?),
            None => None,
        };
        Ok(Content {
            text,
            ranges,
            hashes,
            vectors,
        })
    }

    fn embed_missing(
        &self,
        emb: &dyn crate::pipeline::Embedder,
        text: &str,
        ranges: &[Range<usize>],
        hashes: &[String],
    ) -> std::result::Result<Vectors, RunError> {
        let model = emb.model_id().to_owned();
        let cached: std::collections::HashSet<String> = self.engine.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT 1 FROM embeddings WHERE model = ?1 AND text_hash = ?2")?;
            let mut have = std::collections::HashSet::new();
            for h in hashes {
                if stmt.exists(params![model, h])? {
                    have.insert(h.clone());
                }
            }
            Ok(have)
        })?;
        let mut todo: Vec<(String, &str)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (r, h) in ranges.iter().zip(hashes) {
            if !cached.contains(h) && seen.insert(h.clone()) {
                todo.push((h.clone(), &text[r.clone()]));
            }
        }
        let mut out = Vec::with_capacity(todo.len());
        const BATCH: usize = 32;
        let total = todo.len().max(1);
        for (i, batch) in todo.chunks(BATCH).enumerate() {
            let done = i * BATCH;
            self.progress(60 + (35 * done / total) as u8, "embedding", i == 0)?;
            let texts: Vec<&str> = batch.iter().map(|(_, t)| *t).collect();
            let vecs = emb.embed(&texts)?;
            if vecs.len() != texts.len() {
                return Err(JobError::transient(
                    "the embedding model returned the wrong number of vectors",
                )
                .into());
            }
            self.engine
                .embeddings_computed
                .fetch_add(vecs.len() as u64, Ordering::Relaxed);
            out.extend(batch.iter().map(|(h, _)| h.clone()).zip(vecs));
        }
        self.progress(95, "indexing", true)?;
        Ok((model, emb.dims(), out))
    }
}

fn extract_error(e: trove_extract::ExtractError) -> JobError {
    if e.is_permanent() {
        JobError::permanent(e.to_string())
    } else {
        JobError::transient(e.to_string())
    }
}

fn store(tx: &Transaction<'_>, item: ItemRef, o: Outcome, now: i64) -> Result<()> {
    let key = item.to_string();
    let table = item.kind.table();
    tx.execute(
        &format!(
            "UPDATE {table} SET mime = COALESCE(?2, mime), sha256 = COALESCE(?3, sha256), size = COALESCE(?4, size),
                 duplicate_of = ?5 WHERE id = ?1"
        ),
        params![item.id, o.mime, o.sha256, o.size, o.duplicate_of],
    )?;
    if item.kind == ItemKind::File {
        tx.execute(
            "UPDATE knowledge_files SET kind = COALESCE(?2, kind) WHERE id = ?1",
            params![item.id, o.kind_label],
        )?;
    }
    if let Some(p) = &o.page {
        tx.execute(
            "UPDATE scraped_contents SET final_url = ?2, title = COALESCE(?3, title), http_status = ?4,
                 etag = COALESCE(?5, etag), last_modified = COALESCE(?6, last_modified), scraped_at = ?7
             WHERE id = ?1",
            params![item.id, p.final_url, p.title, p.http_status, p.etag, p.last_modified, db_ts(now)],
        )?;
        if !p.links.is_empty() {
            crate::crawl::discover(tx, item.id, &p.links, now)?;
        }
    }
    if o.duplicate_of.is_some() {
        tx.execute("DELETE FROM chunks WHERE item = ?1", [&key])?;
        tx.execute("DELETE FROM documents WHERE item = ?1", [&key])?;
        tx.execute(
            &format!("UPDATE {table} SET chunk_count = 0 WHERE id = ?1"),
            [item.id],
        )?;
    }
    if let Some(c) = o.content {
        tx.execute("DELETE FROM chunks WHERE item = ?1", [&key])?;
        tx.execute(
            "INSERT INTO documents (item, text) VALUES (?1, ?2) ON CONFLICT (item) DO UPDATE SET text = excluded.text",
            params![key, c.text],
        )?;
        let mut ins = tx.prepare_cached(
            "INSERT INTO chunks (item, seq, start, end, text, text_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (seq, (r, h)) in c.ranges.iter().zip(&c.hashes).enumerate() {
            ins.execute(params![
                key,
                seq as i64,
                r.start as i64,
                r.end as i64,
                &c.text[r.clone()],
                h
            ])?;
        }
        // One statement for the whole document (see migrations/0006_fts_bulk.up.sql).
        tx.execute(
            "INSERT INTO chunks_fts (rowid, text) SELECT id, text FROM chunks WHERE item = ?1",
            [&key],
        )?;
        tx.execute(
            &format!("UPDATE {table} SET chunk_count = ?2 WHERE id = ?1"),
            params![item.id, c.ranges.len() as i64],
        )?;
        if let Some((model, dims, vectors)) = c.vectors {
            let mut ins = tx.prepare_cached(
                "INSERT OR IGNORE INTO embeddings (model, text_hash, dims, vector, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (h, v) in vectors {
                let blob: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                ins.execute(params![model, h, dims as i64, blob, now])?;
            }
        }
    }
    Ok(())
}
