//! The engine: one database file, its queue, and every operation the CLI and the app offer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use crate::chunk::ChunkConfig;
use crate::clock::{db_ts, Clock, SystemClock};
use crate::db::Pool;
use crate::error::{Error, Result};
use crate::events::{self, Bus, Event, EventKind, NewEvent};
use crate::items;
use crate::model::*;
use crate::pipeline::{Embedder, Fetcher};
use crate::queue::{self, QueueConfig};

/// How extraction of risky formats (PDF) is isolated.
#[derive(Debug, Clone)]
pub enum ExtractMode {
    /// In this process, with panics caught. Hangs cannot be stopped.
    InProcess,
    /// In a child process (`exe __extract <path>`), killed after `timeout`.
    Sandbox {
        exe: PathBuf,
        timeout: std::time::Duration,
    },
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub queue: QueueConfig,
    pub chunk: ChunkConfig,
    pub extract: ExtractMode,
    pub limits: trove_extract::Limits,
    /// Worker concurrency when the database has no setting yet.
    pub default_concurrency: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            queue: QueueConfig::default(),
            chunk: ChunkConfig::default(),
            extract: ExtractMode::InProcess,
            limits: trove_extract::Limits::default(),
            default_concurrency: 2,
        }
    }
}

pub struct Engine {
    pub(crate) pool: Pool,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) bus: Bus,
    pub(crate) config: EngineConfig,
    pub(crate) fetcher: RwLock<Option<Arc<dyn Fetcher>>>,
    pub(crate) embedder: RwLock<Option<Arc<dyn Embedder>>>,
    pub(crate) running: std::sync::atomic::AtomicU32,
    pub(crate) search_cache: crate::search::SearchCache,
    /// Vectors computed by the embedder since start (the cache's hit rate shows in this).
    pub embeddings_computed: std::sync::atomic::AtomicU64,
}

const SETTING_PAUSED: &str = "queue.paused";
const SETTING_CONCURRENCY: &str = "queue.concurrency";
const SETTING_REFRESH_EVERY: &str = "scrape.refresh_every_ms";

impl Engine {
    pub fn open(path: &Path, config: EngineConfig) -> Result<Arc<Self>> {
        Self::open_with_clock(path, config, Arc::new(SystemClock))
    }

    pub fn open_with_clock(
        path: &Path,
        config: EngineConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>> {
        Ok(Arc::new(Self {
            pool: Pool::open(path)?,
            clock,
            bus: Bus::default(),
            config,
            fetcher: RwLock::new(None),
            embedder: RwLock::new(None),
            running: std::sync::atomic::AtomicU32::new(0),
            search_cache: Default::default(),
            embeddings_computed: std::sync::atomic::AtomicU64::new(0),
        }))
    }

    pub fn db_path(&self) -> &Path {
        self.pool.path()
    }
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    pub fn set_fetcher(&self, f: Arc<dyn Fetcher>) {
        *self.fetcher.write().unwrap_or_else(|p| p.into_inner()) = Some(f);
    }
    pub fn set_embedder(&self, e: Option<Arc<dyn Embedder>>) {
        *self.embedder.write().unwrap_or_else(|p| p.into_inner()) = e;
    }
    pub fn embedder(&self) -> Option<Arc<dyn Embedder>> {
        self.embedder
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
    pub fn fetcher(&self) -> Option<Arc<dyn Fetcher>> {
        self.fetcher
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Run `f` in one IMMEDIATE transaction, then wake event subscribers.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>, i64) -> Result<T>,
    ) -> Result<T> {
        let now = self.now_ms();
        let out = self.pool.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx, now)?;
            tx.commit()?;
            Ok(out)
        })?;
        self.bus.poke();
        Ok(out)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> Result<T>) -> Result<T> {
        self.pool.with(|c| f(c))
    }

    pub(crate) fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<T>,
    ) -> Result<T> {
        let out = self.pool.with(f);
        self.bus.poke();
        out
    }

    // ----- adding -----------------------------------------------------------------------

    /// Add files and directories (recursively; hidden entries skipped). Inserts `pending`
    /// rows and their jobs in ONE transaction and returns; nothing is read or processed.
    pub fn add_paths(&self, inputs: &[PathBuf]) -> Result<AddReport> {
        let mut report = AddReport::default();
        let mut files: Vec<(PathBuf, String, i64)> = Vec::new();
        for input in inputs {
            let abs = if input.is_absolute() {
                input.clone()
            } else {
                std::env::current_dir()?.join(input)
            };
            let meta = match std::fs::metadata(&abs) {
                Ok(m) => m,
                Err(e) => {
                    report.skipped.push(Skipped {
                        input: input.display().to_string(),
                        reason: io_reason(&e),
                    });
                    continue;
                }
            };
            if meta.is_dir() {
                let walker = walkdir::WalkDir::new(&abs)
                    .follow_links(false)
                    .sort_by_file_name()
                    .into_iter();
                for entry in walker.filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                }) {
                    match entry {
                        Ok(e) if e.file_type().is_file() => {
                            let size = e.metadata().map(|m| m.len() as i64).unwrap_or(0);
                            files.push((e.path().to_path_buf(), name_of(e.path()), size));
                        }
                        Ok(_) => {}
                        Err(e) => report.skipped.push(Skipped {
                            input: e.path().map_or_else(
                                || abs.display().to_string(),
                                |p| p.display().to_string(),
                            ),
                            reason: e.io_error().map_or_else(|| e.to_string(), io_reason),
                        }),
                    }
                }
            } else if meta.is_file() {
                files.push((abs.clone(), name_of(&abs), meta.len() as i64));
            } else {
                report.skipped.push(Skipped {
                    input: input.display().to_string(),
                    reason: "not a regular file or folder".into(),
                });
            }
        }
        let max_attempts = self.config.queue.max_attempts;
        let added = self.write(|tx, now| {
            let ts = db_ts(now);
            let mut added = Vec::with_capacity(files.len());
            let mut find = tx.prepare_cached("SELECT id FROM knowledge_files WHERE path = ?1 LIMIT 1")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO knowledge_files (filename, path, mime, size, status, uploaded_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
            )?;
            for (path, name, size) in &files {
                let path_s = path.to_string_lossy();
                if let Some(id) = find.query_row([path_s.as_ref()], |r| r.get::<_, i64>(0)).optional()? {
                    report.skipped.push(Skipped {
                        input: path_s.into_owned(),
                        reason: format!("already in the library as {}", ItemRef::file(id)),
                    });
                    continue;
                }
                let mime = mime_from_name(name);
                insert.execute(params![name, path_s, mime, size, ts])?;
                let item = ItemRef::file(tx.last_insert_rowid());
                let job_id = queue::enqueue(tx, item, max_attempts, now)?;
                events::record(
                    tx,
                    now,
                    EventKind::Added,
                    NewEvent { item: Some(item), status: Some(Status::Pending), ..Default::default() },
                )?;
                added.push(Item {
                    id: item,
                    kind: ItemKind::File,
                    name: name.clone(),
                    location: path_s.into_owned(),
                    mime: mime.map(str::to_owned),
                    size: Some(*size),
                    status: Status::Pending,
                    progress: 0,
                    stage: None,
                    error: None,
                    job_id: Some(job_id),
                    attempts: 0,
                    max_attempts,
                    chunk_count: 0,
                    duplicate_of: None,
                    added_at: crate::clock::rfc3339(&ts),
                    updated_at: crate::clock::rfc3339(&ts),
                });
            }
            Ok(added)
        })?;
        report.added = added;
        Ok(report)
    }

    /// Add URLs to scrape. Only http(s); duplicates (after normalisation) are reported.
    pub fn add_urls(&self, inputs: &[String], ignore_robots: bool) -> Result<AddReport> {
        self.add_urls_with(inputs, ignore_robots, None)
    }

    /// Add start links of same-site crawls: each page found (within `opts`) becomes its own
    /// item as the crawl proceeds.
    pub fn add_crawl(
        &self,
        inputs: &[String],
        ignore_robots: bool,
        opts: crate::crawl::CrawlOptions,
    ) -> Result<AddReport> {
        if opts.max_pages == 0 {
            return Err(Error::Invalid("a crawl needs at least one page".into()));
        }
        self.add_urls_with(inputs, ignore_robots, Some(opts))
    }

    fn add_urls_with(
        &self,
        inputs: &[String],
        ignore_robots: bool,
        crawl: Option<crate::crawl::CrawlOptions>,
    ) -> Result<AddReport> {
        let mut report = AddReport::default();
        let mut urls = Vec::new();
        for input in inputs.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            match normalize_url(input) {
                Ok(u) => urls.push(u),
                Err(reason) => report.skipped.push(Skipped {
                    input: input.to_owned(),
                    reason,
                }),
            }
        }
        let max_attempts = self.config.queue.max_attempts;
        let added = self.write(|tx, now| {
            let ts = db_ts(now);
            let mut refs = Vec::new();
            for url in &urls {
                let existing: Option<i64> = tx
                    .prepare_cached("SELECT id FROM scraped_contents WHERE url = ?1 LIMIT 1")?
                    .query_row([url], |r| r.get(0))
                    .optional()?;
                if let Some(id) = existing {
                    report.skipped.push(Skipped {
                        input: url.clone(),
                        reason: format!("already in the library as {}", ItemRef::url(id)),
                    });
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO scraped_contents (url, status, ignore_robots, created_at, updated_at)
                     VALUES (?1, 'pending', ?2, ?3, ?3)",
                )?
                .execute(params![url, ignore_robots, ts])?;
                let item = ItemRef::url(tx.last_insert_rowid());
                if let Some(opts) = &crawl {
                    crate::crawl::start(tx, item.id, opts)?;
                }
                queue::enqueue(tx, item, max_attempts, now)?;
                events::record(
                    tx,
                    now,
                    EventKind::Added,
                    NewEvent { item: Some(item), status: Some(Status::Pending), ..Default::default() },
                )?;
                refs.push(item);
            }
            items::get_many(tx, &refs)
        })?;
        report.added = added;
        Ok(report)
    }

    // ----- reading ----------------------------------------------------------------------

    pub fn item(&self, item: ItemRef) -> Result<Item> {
        self.read(|c| items::get(c, item))
    }
    pub fn items(&self, refs: &[ItemRef]) -> Result<Vec<Item>> {
        self.read(|c| items::get_many(c, refs))
    }
    pub fn list(
        &self,
        status: Option<Status>,
        kind: Option<ItemKind>,
        limit: u32,
    ) -> Result<Vec<Item>> {
        self.read(|c| items::list(c, status, kind, limit))
    }
    pub fn show(&self, item: ItemRef) -> Result<(Item, Option<JobInfo>)> {
        self.read(|c| {
            let it = items::get(c, item)?;
            let job = match &it.job_id {
                Some(j) => queue::job_info(c, j)?,
                None => None,
            };
            Ok((it, job))
        })
    }
    pub fn counts(&self, kind: Option<ItemKind>) -> Result<Counts> {
        self.read(|c| items::counts(c, kind))
    }
    pub fn failed(&self, limit: u32) -> Result<Vec<FailedRow>> {
        self.read(|c| items::failed(c, limit))
    }
    pub fn stuck(&self, older_than_ms: i64) -> Result<Vec<StuckRow>> {
        let now = self.now_ms();
        self.read(|c| items::stuck(c, now, older_than_ms))
    }
    pub fn distribution(&self) -> Result<Vec<DurationBucket>> {
        self.read(items::distribution)
    }
    pub fn overview(&self) -> Result<Overview> {
        let now = self.now_ms();
        let queue = self.queue_state()?;
        self.read(|c| {
            Ok(Overview {
                counts: items::counts(c, None)?,
                failed: items::failed(c, 100)?,
                stuck: items::stuck(c, now, 10 * 60_000)?,
                distribution: items::distribution(c)?,
                queue,
            })
        })
    }

    // ----- changing ---------------------------------------------------------------------

    /// Process an item again with a new job id and a fresh attempt budget.
    pub fn retry(&self, item: ItemRef) -> Result<Item> {
        let max = self.config.queue.max_attempts;
        self.write(|tx, now| {
            let it = items::get(tx, item)?;
            if it.status == Status::Processing {
                return Err(Error::Conflict(format!(
                    "{item} is being processed right now"
                )));
            }
            queue::retry_item(tx, item, max, now)?;
            items::get(tx, item)
        })
    }

    /// Retry every failed item. Returns how many.
    pub fn retry_all_failed(&self) -> Result<usize> {
        let max = self.config.queue.max_attempts;
        self.write(|tx, now| {
            let mut refs = Vec::new();
            for kind in [ItemKind::File, ItemKind::Url] {
                let sql = format!("SELECT id FROM {} WHERE status = 'failed'", kind.table());
                let ids = tx
                    .prepare(&sql)?
                    .query_map([], |r| r.get::<_, i64>(0))?
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                refs.extend(ids.into_iter().map(|id| ItemRef { kind, id }));
            }
            for r in &refs {
                queue::retry_item(tx, *r, max, now)?;
            }
            Ok(refs.len())
        })
    }

    /// Fetch every link again (those not being processed right now). Pages that did not
    /// change (304, or the same content hash) keep their chunks and vectors; only
    /// `scraped_at` moves. Returns how many were queued.
    pub fn refresh_all_urls(&self) -> Result<usize> {
        let max = self.config.queue.max_attempts;
        self.write(|tx, now| {
            let ids = tx
                .prepare("SELECT id FROM scraped_contents WHERE COALESCE(status, 'completed') IN ('completed', 'failed')")?
                .query_map([], |r| r.get::<_, i64>(0))?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            for id in &ids {
                queue::retry_item(tx, ItemRef { kind: ItemKind::Url, id: *id }, max, now)?;
            }
            Ok(ids.len())
        })
    }

    /// Delete an item, its chunks and text, and cancel its job. Items that were recognised
    /// as duplicates of it are processed again (one of them becomes the original).
    pub fn delete(&self, item: ItemRef) -> Result<()> {
        let max = self.config.queue.max_attempts;
        self.write(|tx, now| {
            items::get(tx, item)?;
            queue::cancel_for_item(tx, item, now)?;
            let key = item.to_string();
            tx.execute("DELETE FROM chunks WHERE item = ?1", [&key])?;
            tx.execute("DELETE FROM documents WHERE item = ?1", [&key])?;
            tx.execute(
                &format!("DELETE FROM {} WHERE id = ?1", item.kind.table()),
                [item.id],
            )?;
            events::record(
                tx,
                now,
                EventKind::Deleted,
                NewEvent {
                    item: Some(item),
                    ..Default::default()
                },
            )?;
            for kind in [ItemKind::File, ItemKind::Url] {
                let sql = format!("SELECT id FROM {} WHERE duplicate_of = ?1", kind.table());
                let ids = tx
                    .prepare(&sql)?
                    .query_map([&key], |r| r.get::<_, i64>(0))?
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                for id in ids {
                    let dup = ItemRef { kind, id };
                    tx.execute(
                        &format!(
                            "UPDATE {} SET duplicate_of = NULL WHERE id = ?1",
                            kind.table()
                        ),
                        [id],
                    )?;
                    queue::retry_item(tx, dup, max, now)?;
                }
            }
            Ok(())
        })
    }

    // ----- queue settings ---------------------------------------------------------------

    fn setting(&self, key: &str) -> Result<Option<String>> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                    r.get(0)
                })
                .optional()?,
            )
        })
    }

    fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.write(|tx, now| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )?;
            events::record(tx, now, EventKind::Queue, NewEvent::default())?;
            Ok(())
        })
    }

    pub fn paused(&self) -> Result<bool> {
        Ok(self.setting(SETTING_PAUSED)?.as_deref() == Some("1"))
    }
    pub fn set_paused(&self, paused: bool) -> Result<QueueState> {
        self.set_setting(SETTING_PAUSED, if paused { "1" } else { "0" })?;
        self.queue_state()
    }
    pub fn concurrency(&self) -> Result<u32> {
        Ok(self
            .setting(SETTING_CONCURRENCY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(self.config.default_concurrency)
            .clamp(1, 16))
    }
    /// How often completed links are fetched again by the worker (None: never).
    pub fn refresh_every(&self) -> Result<Option<std::time::Duration>> {
        Ok(self
            .setting(SETTING_REFRESH_EVERY)?
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map(std::time::Duration::from_millis))
    }

    pub fn set_refresh_every(&self, every: Option<std::time::Duration>) -> Result<()> {
        let ms = every.map_or(0, |d| d.as_millis() as u64);
        if ms != 0 && ms < 60_000 {
            return Err(Error::Invalid(
                "refreshing links more often than once a minute is not allowed".into(),
            ));
        }
        self.set_setting(SETTING_REFRESH_EVERY, &ms.to_string())
    }

    /// Queue a refresh of every completed link last fetched longer ago than the refresh
    /// setting (the worker calls this on its periodic sweep). Returns how many.
    pub fn refresh_due(&self) -> Result<usize> {
        let Some(every) = self.refresh_every()? else {
            return Ok(0);
        };
        let max = self.config.queue.max_attempts;
        self.write(|tx, now| {
            let before = db_ts(now - every.as_millis() as i64);
            let ids = tx
                .prepare(
                    "SELECT id FROM scraped_contents
                      WHERE COALESCE(status, 'completed') = 'completed'
                        AND COALESCE(scraped_at, created_at) < ?1",
                )?
                .query_map([before], |r| r.get::<_, i64>(0))?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            for id in &ids {
                queue::retry_item(tx, ItemRef::url(*id), max, now)?;
            }
            Ok(ids.len())
        })
    }

    pub fn set_concurrency(&self, n: u32) -> Result<QueueState> {
        if !(1..=16).contains(&n) {
            return Err(Error::Invalid(format!(
                "concurrency must be between 1 and 16 (got {n})"
            )));
        }
        self.set_setting(SETTING_CONCURRENCY, &n.to_string())?;
        self.queue_state()
    }
    pub fn queue_state(&self) -> Result<QueueState> {
        Ok(QueueState {
            paused: self.paused()?,
            concurrency: self.concurrency()?,
            running: self.running.load(std::sync::atomic::Ordering::Relaxed),
        })
    }

    // ----- events -----------------------------------------------------------------------

    pub fn last_event_seq(&self) -> Result<i64> {
        self.read(events::last_seq)
    }
    pub fn events_since(&self, after: i64, limit: u32) -> Result<Vec<Event>> {
        self.read(|c| events::since(c, after, limit))
    }
    pub(crate) fn record_event(&self, kind: EventKind, e: NewEvent<'_>) -> Result<()> {
        self.write(|tx, now| events::record(tx, now, kind, e))
    }

    // ----- documents --------------------------------------------------------------------

    pub fn open_chunk(&self, chunk_id: i64) -> Result<ChunkView> {
        self.read(|c| {
            let (item, start, end): (String, i64, i64) = c
                .query_row(
                    "SELECT item, start, end FROM chunks WHERE id = ?1",
                    [chunk_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?
                .ok_or_else(|| Error::NotFound(format!("chunk {chunk_id}")))?;
            let text: String = c
                .query_row("SELECT text FROM documents WHERE item = ?1", [&item], |r| {
                    r.get(0)
                })
                .optional()?
                .unwrap_or_default();
            let it = items::get(c, item.parse()?)?;
            let utf16 = |byte: i64| -> u32 {
                let b = usize::try_from(byte).unwrap_or(0).min(text.len());
                let b = (0..=b)
                    .rev()
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(0);
                text[..b].encode_utf16().count() as u32
            };
            Ok(ChunkView {
                item_id: item.clone(),
                name: it.name,
                location: it.location,
                start: utf16(start),
                end: utf16(end),
                text: text.clone(),
            })
        })
    }
}

fn name_of(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// A first guess from the name, shown while the item waits; processing sniffs the content.
fn mime_from_name(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "txt" | "log" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "html" | "htm" => "text/html",
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "csv" => "text/csv",
        "json" => "application/json",
        _ => return None,
    })
}

/// http(s) only; lower-case host, no fragment, no default port (what `url` does).
pub fn normalize_url(input: &str) -> std::result::Result<String, String> {
    let mut u = url::Url::parse(input).map_err(|e| format!("not a valid link ({e})"))?;
    match u.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "only http and https links can be added (got {other}:)"
            ))
        }
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("the link has no host".into());
    }
    u.set_fragment(None);
    if u.query() == Some("") {
        u.set_query(None);
    }
    Ok(u.to_string())
}
