//! What a job does: files are read, sniffed and extracted ([`file`]); links are fetched
//! through the [`Fetcher`](crate::ports::Fetcher) port ([`url`]); both then go through one
//! indexing step ([`index`]: chunk, embed what the cache lacks). Results are written in the
//! job's completing transaction, so a job that runs twice (at-least-once delivery) never
//! duplicates them.

mod file;
pub mod index;
mod url;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::config::QueueConfig;

use crate::config::EngineConfig;
use crate::error::JobError;
use crate::model::ItemKind;
use crate::ports::Ports;
use crate::stats::Stats;
use crate::store::jobs::{self, Claimed};
use crate::store::Store;

/// Why a run stopped without a result.
pub enum RunError {
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

pub type RunResult<T> = std::result::Result<T, RunError>;

/// A job's hard deadline: a base for any job, extended once the job knows how large its
/// input is. The worker watches it from outside the (possibly blocking) run.
#[derive(Debug)]
pub struct JobDeadline {
    started: Instant,
    /// Milliseconds after `started`.
    limit_ms: AtomicU64,
    per_mib_ms: u64,
}

impl JobDeadline {
    pub fn new(cfg: &QueueConfig) -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            limit_ms: AtomicU64::new(cfg.deadline_ms.max(0) as u64),
            per_mib_ms: cfg.deadline_per_mib_ms.max(0) as u64,
        })
    }

    /// Allow more time for an input of `bytes` (scaled by the per-MiB allowance).
    pub fn extend_for(&self, bytes: u64) {
        let extra = (bytes.saturating_mul(self.per_mib_ms)) >> 20;
        self.limit_ms.fetch_add(extra, Ordering::Relaxed);
    }

    /// Make sure at least `left` remains before the deadline (long work that shows
    /// progress, like OCR page by page).
    pub fn at_least(&self, left: Duration) {
        let want = (self.started.elapsed() + left).as_millis() as u64;
        self.limit_ms.fetch_max(want, Ordering::Relaxed);
    }

    /// The limit as it stands.
    pub fn limit(&self) -> Duration {
        Duration::from_millis(self.limit_ms.load(Ordering::Relaxed))
    }

    /// Time left before the deadline (zero once it has passed).
    pub fn remaining(&self) -> Duration {
        self.limit().saturating_sub(self.started.elapsed())
    }
}

/// What a job may use: the store, the ports, the configuration, and its own claim.
pub struct JobCtx<'a> {
    pub store: &'a Store,
    pub ports: &'a Ports,
    pub config: &'a EngineConfig,
    pub stats: &'a Stats,
    pub job: &'a Claimed,
    /// Cancelled when the job must stop at once (shutdown past its grace, lease lost).
    pub cancel: CancellationToken,
    pub deadline: Arc<JobDeadline>,
    last_progress_ms: std::cell::Cell<i64>,
}

pub use crate::store::sha256_hex;

impl<'a> JobCtx<'a> {
    pub fn new(
        store: &'a Store,
        ports: &'a Ports,
        config: &'a EngineConfig,
        stats: &'a Stats,
        job: &'a Claimed,
        cancel: CancellationToken,
        deadline: Arc<JobDeadline>,
    ) -> Self {
        Self {
            store,
            ports,
            config,
            stats,
            job,
            cancel,
            deadline,
            last_progress_ms: std::cell::Cell::new(0),
        }
    }

    /// Report progress; throttled to 5 updates a second except for stage changes.
    fn progress(&self, pct: u8, stage: &str, force: bool) -> RunResult<()> {
        let now = self.store.now_ms();
        if !force && now - self.last_progress_ms.get() < 200 {
            return Ok(());
        }
        self.last_progress_ms.set(now);
        let ok = self
            .store
            .write_conn(|c| jobs::progress(c, self.job, pct, stage, now))?;
        if ok {
            Ok(())
        } else {
            Err(RunError::LeaseLost)
        }
    }

    /// Run the job to its end: complete it in the queue with its outcome (failing is the
    /// worker's part, from the returned error).
    pub fn run(&self) -> RunResult<()> {
        let outcome = match self.job.item.kind {
            ItemKind::File => file::ingest(self)?,
            ItemKind::Url => url::scrape(self)?,
        };
        let item = self.job.item;
        let now = self.store.now_ms();
        let stored = self.store.write_conn(|c| {
            jobs::complete(c, self.job, now, |tx| {
                crate::store::content::store_outcome(tx, item, outcome, now)
            })
        })?;
        if stored {
            Ok(())
        } else {
            Err(RunError::LeaseLost)
        }
    }
}

fn extract_error(e: trove_extract::ExtractError) -> JobError {
    if e.is_permanent() {
        JobError::permanent(e.to_string())
    } else {
        JobError::transient(e.to_string())
    }
}
