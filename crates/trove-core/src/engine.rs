//! The engine: a thin facade over one database file. It owns the store, the ports, the
//! configuration and the search cache, and offers every operation the CLI and the app need
//! by delegating to the layer that does it (`library`, `ingest`, `search`, `worker`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::config::EngineConfig;
use crate::error::Result;
use crate::library::{self, changes, settings};
use crate::model::*;
use crate::ports::{Embedder, Fetcher, Ports};
use crate::search::{self, SearchCache, SearchCtx};
use crate::stats::Stats;
use crate::store::events::{self, Bus, Event};
use crate::store::{items, jobs, Store};
use crate::worker::{self, WorkerHandle, WorkerOptions};

pub struct Engine {
    store: Arc<Store>,
    ports: Arc<Ports>,
    config: Arc<EngineConfig>,
    stats: Arc<Stats>,
    search_cache: SearchCache,
}

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
            store: Arc::new(Store::open(path, clock)?),
            ports: Arc::default(),
            config: Arc::new(config),
            stats: Arc::default(),
            search_cache: SearchCache::default(),
        }))
    }

    pub fn db_path(&self) -> &Path {
        self.store.path()
    }
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }
    pub fn now_ms(&self) -> i64 {
        self.store.now_ms()
    }
    pub fn bus(&self) -> &Bus {
        self.store.bus()
    }
    /// Vectors computed by the embedder since start (the cache's hit rate shows in this).
    pub fn embeddings_computed(&self) -> u64 {
        self.stats.embeddings_computed()
    }

    pub fn set_fetcher(&self, f: Arc<dyn Fetcher>) {
        self.ports.set_fetcher(Some(f));
    }
    pub fn set_embedder(&self, e: Option<Arc<dyn Embedder>>) {
        self.ports.set_embedder(e);
    }
    pub fn embedder(&self) -> Option<Arc<dyn Embedder>> {
        self.ports.embedder()
    }
    pub fn fetcher(&self) -> Option<Arc<dyn Fetcher>> {
        self.ports.fetcher()
    }

    /// Start the worker pool on the current tokio runtime.
    pub fn start_worker(&self, opts: WorkerOptions) -> WorkerHandle {
        worker::spawn(
            worker::Deps {
                store: self.store.clone(),
                ports: self.ports.clone(),
                config: self.config.clone(),
                stats: self.stats.clone(),
            },
            opts,
        )
    }

    fn max_attempts(&self) -> u32 {
        self.config.queue.max_attempts
    }

    // ----- adding -----------------------------------------------------------------------

    /// Add files and directories (recursively; hidden entries skipped). Inserts `pending`
    /// rows and their jobs in ONE transaction and returns; nothing is read or processed.
    pub fn add_paths(&self, inputs: &[PathBuf]) -> Result<AddReport> {
        library::add::paths(&self.store, inputs, self.max_attempts())
    }
    /// Add URLs to scrape. Only http(s); duplicates (after normalisation) are reported.
    pub fn add_urls(&self, inputs: &[String], ignore_robots: bool) -> Result<AddReport> {
        library::add::urls(
            &self.store,
            inputs,
            ignore_robots,
            None,
            self.max_attempts(),
        )
    }
    /// Add start links of same-site crawls: each page found (within `opts`) becomes its own
    /// item as the crawl proceeds.
    pub fn add_crawl(
        &self,
        inputs: &[String],
        ignore_robots: bool,
        opts: CrawlOptions,
    ) -> Result<AddReport> {
        library::add::urls(
            &self.store,
            inputs,
            ignore_robots,
            Some(opts),
            self.max_attempts(),
        )
    }

    // ----- watched folders ---------------------------------------------------------------

    fn scan_env(&self) -> library::folders::ScanEnv<'_> {
        library::folders::ScanEnv {
            data_dir: self.db_path().parent(),
            max_attempts: self.max_attempts(),
            keep_missing: self
                .setting(crate::store::settings::KEEP_MISSING)
                .ok()
                .flatten()
                .as_deref()
                == Some("on"),
        }
    }
    /// Watch a folder (kept in sync while a worker runs) and scan it once now.
    pub fn add_folder(
        &self,
        dir: &Path,
        include: &[String],
        exclude: &[String],
    ) -> Result<(crate::model::Folder, crate::model::ScanReport)> {
        library::folders::add(&self.store, &self.scan_env(), dir, include, exclude)
    }
    /// Bring a watched folder's items in line with its files (see `library::folders`).
    pub fn scan_folder(&self, id: i64) -> Result<crate::model::ScanReport> {
        library::folders::scan(&self.store, &self.scan_env(), id)
    }
    /// Stop watching; its items go too unless `keep_items`.
    pub fn remove_folder(&self, id: i64, keep_items: bool) -> Result<()> {
        library::folders::remove(&self.store, id, keep_items, self.max_attempts())
    }
    pub fn folders(&self) -> Result<Vec<crate::model::Folder>> {
        library::folders::list(&self.store)
    }
    /// The folders with their exact roots (for the watcher).
    pub fn folder_roots(&self) -> Result<Vec<(crate::model::Folder, PathBuf)>> {
        library::folders::roots(&self.store)
    }
    /// New include/exclude globs; the folder is rescanned with them.
    pub fn set_folder_rules(
        &self,
        id: i64,
        include: &[String],
        exclude: &[String],
    ) -> Result<(crate::model::Folder, crate::model::ScanReport)> {
        library::folders::set_rules(&self.store, &self.scan_env(), id, include, exclude)
    }
    /// Pause (false) or resume following a folder's changes.
    pub fn set_folder_watching(&self, id: i64, watching: bool) -> Result<crate::model::Folder> {
        library::folders::set_watching(&self.store, id, watching)
    }
    /// `ok`, `unavailable` or `polling`, and why (the watcher reports what it can do).
    pub fn set_folder_state(&self, id: i64, state: &str, message: Option<&str>) -> Result<()> {
        library::folders::set_state(&self.store, id, state, message)
    }

    // ----- reading ----------------------------------------------------------------------

    pub fn item(&self, item: ItemRef) -> Result<Item> {
        self.store.read(|c| items::get(c, item))
    }
    pub fn items(&self, refs: &[ItemRef]) -> Result<Vec<Item>> {
        self.store.read(|c| items::get_many(c, refs))
    }
    pub fn list(
        &self,
        status: Option<Status>,
        kind: Option<ItemKind>,
        limit: u32,
    ) -> Result<Vec<Item>> {
        self.store.read(|c| items::list(c, status, kind, limit))
    }
    pub fn show(&self, item: ItemRef) -> Result<(Item, Option<JobInfo>)> {
        self.store.read(|c| {
            let it = items::get(c, item)?;
            let job = match &it.job_id {
                Some(j) => jobs::job_info(c, j)?,
                None => None,
            };
            Ok((it, job))
        })
    }
    pub fn counts(&self, kind: Option<ItemKind>) -> Result<Counts> {
        self.store.read(|c| items::counts(c, kind))
    }
    pub fn failed(&self, limit: u32) -> Result<Vec<FailedRow>> {
        self.store.read(|c| items::failed(c, limit))
    }
    pub fn stuck(&self, older_than_ms: i64) -> Result<Vec<StuckRow>> {
        let now = self.now_ms();
        self.store.read(|c| items::stuck(c, now, older_than_ms))
    }
    pub fn distribution(&self) -> Result<Vec<DurationBucket>> {
        self.store.read(items::distribution)
    }
    /// The seed's monitoring queries in one answer.
    pub fn overview(&self) -> Result<Overview> {
        let now = self.now_ms();
        let queue = self.queue_state()?;
        self.store.read(|c| {
            Ok(Overview {
                counts: items::counts(c, None)?,
                failed: items::failed(c, 100)?,
                stuck: items::stuck(c, now, 10 * 60_000)?,
                distribution: items::distribution(c)?,
                queue,
            })
        })
    }
    pub fn open_chunk(&self, chunk_id: i64) -> Result<ChunkView> {
        library::open_chunk(&self.store, chunk_id)
    }
    /// An item's extracted text as stored ("" before it is processed). Pages of a PDF are
    /// separated by form feeds.
    pub fn document_text(&self, item: ItemRef) -> Result<String> {
        self.store.read(|c| {
            items::get(c, item)?;
            crate::store::content::document_text(c, &item.to_string())
        })
    }

    // ----- changing ---------------------------------------------------------------------

    /// Process an item again with a new job id and a fresh attempt budget.
    pub fn retry(&self, item: ItemRef) -> Result<Item> {
        changes::retry(&self.store, item, self.max_attempts())
    }
    /// Retry every failed item. Returns how many.
    pub fn retry_all_failed(&self) -> Result<usize> {
        changes::retry_all_failed(&self.store, self.max_attempts())
    }
    /// Fetch every link again; unchanged pages keep their chunks. Returns how many.
    pub fn refresh_all_urls(&self) -> Result<usize> {
        changes::refresh_all_urls(&self.store, self.max_attempts())
    }
    /// Queue the links due for their periodic refresh. Returns how many.
    pub fn refresh_due(&self) -> Result<usize> {
        changes::refresh_due(&self.store, self.max_attempts())
    }
    /// Delete an item, its chunks and text, and cancel its job.
    pub fn delete(&self, item: ItemRef) -> Result<()> {
        changes::delete(&self.store, item, self.max_attempts())
    }

    // ----- queue settings ---------------------------------------------------------------

    pub fn paused(&self) -> Result<bool> {
        settings::paused(&self.store)
    }
    pub fn set_paused(&self, paused: bool) -> Result<QueueState> {
        settings::set_paused(&self.store, paused)?;
        self.queue_state()
    }
    pub fn concurrency(&self) -> Result<u32> {
        settings::concurrency(&self.store, self.config.default_concurrency())
    }
    pub fn set_concurrency(&self, n: u32) -> Result<QueueState> {
        settings::set_concurrency(&self.store, n)?;
        self.queue_state()
    }
    /// How often completed links are fetched again by the worker (None: never).
    pub fn refresh_every(&self) -> Result<Option<Duration>> {
        settings::refresh_every(&self.store)
    }
    pub fn set_refresh_every(&self, every: Option<Duration>) -> Result<()> {
        settings::set_refresh_every(&self.store, every)
    }
    /// A stored setting of the layers above the engine (see `trove_runtime::settings`).
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        settings::setting(&self.store, key)
    }
    pub fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        settings::set_setting(&self.store, key, value)
    }
    pub fn queue_state(&self) -> Result<QueueState> {
        Ok(QueueState {
            paused: self.paused()?,
            concurrency: self.concurrency()?,
            running: self.stats.running(),
            problem: self.stats.problem(),
        })
    }

    // ----- events -----------------------------------------------------------------------

    pub fn last_event_seq(&self) -> Result<i64> {
        self.store.read(events::last_seq)
    }
    pub fn events_since(&self, after: i64, limit: u32) -> Result<Vec<Event>> {
        self.store.read(|c| events::since(c, after, limit))
    }

    // ----- search -----------------------------------------------------------------------

    /// Search everything. `mode` None = hybrid when a model is available, else keyword.
    pub fn search(
        &self,
        query: &str,
        mode: Option<SearchMode>,
        limit: u32,
    ) -> Result<SearchResponse> {
        let ctx = SearchCtx {
            store: &self.store,
            embedder: self.ports.embedder(),
            cache: &self.search_cache,
        };
        search::search(&ctx, query, mode, limit)
    }

    /// Ask the library (see [`crate::ask`]): the passages nearest the question, streamed
    /// first, then `chat`'s answer citing them, streamed as it is written.
    pub fn ask(
        &self,
        question: &str,
        history: &[crate::model::AskTurn],
        chat: Option<&dyn crate::ports::ChatModel>,
        on_event: &mut dyn FnMut(crate::model::AskEvent),
    ) -> Result<crate::model::AskAnswer> {
        let search = |q: &str| {
            let r = self.search(q, None, crate::ask::ASK_PASSAGES)?;
            Ok((r.hits, r.no_close_matches))
        };
        crate::ask::ask(&self.store, question, history, search, chat, on_event)
    }

    /// "More like this": passages of other documents nearest in meaning to one passage,
    /// among what `filters` (the search syntax's `type:`, `in:`, `after:`, `before:`,
    /// `-word`; "" for none) lets through.
    pub fn similar(&self, chunk: i64, limit: u32, filters: &str) -> Result<SearchResponse> {
        let ctx = SearchCtx {
            store: &self.store,
            embedder: self.ports.embedder(),
            cache: &self.search_cache,
        };
        search::similar(&ctx, chunk, limit, filters)
    }

    /// How many passages the active embedding model has vectors for (None: no model).
    pub fn semantic_coverage(&self) -> Result<Option<crate::model::Coverage>> {
        let Some(emb) = self.ports.embedder() else {
            return Ok(None);
        };
        let model = emb.model_id().to_owned();
        let (embedded, total) = self.store.read(|c| {
            Ok((
                crate::store::vectors::covered(c, &model)?,
                crate::store::content::chunk_count(c)?,
            ))
        })?;
        Ok(Some(crate::model::Coverage {
            model,
            embedded: embedded as u64,
            total: total as u64,
        }))
    }

    /// Embed every chunk the active model has no vector for (after a model appears or
    /// changes). Returns how many vectors were computed.
    pub fn reindex(&self, progress: impl Fn(usize, usize)) -> Result<usize> {
        crate::ingest::index::reindex(&self.store, &self.ports, &self.stats, progress)
    }
}
