//! The worker pool: claims jobs up to the concurrency setting, runs each on a blocking
//! thread (extraction and embedding are CPU work), renews its lease while it runs, and
//! records the outcome. Stops gracefully: in-flight jobs get a grace period to finish, the
//! rest are released back to the queue (not lost, and the attempt does not count).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::EngineConfig;
use crate::error::{Error, JobError, Result};
use crate::ingest::{JobCtx, JobDeadline, RunError};
use crate::library::{changes, settings};
use crate::ports::Ports;
use crate::stats::Stats;
use crate::store::events::{self, EventKind, NewEvent};
use crate::store::jobs::{self as queue, Claimed, FailOutcome};
use crate::store::{vectors, Store};
use trove_common::duration::human_duration;

/// Vectors no chunk uses are kept this long before they are deleted (see
/// [`vectors::gc_unreferenced`]). Long, because a job that found such a vector in the
/// cache stores its chunks a little later: a vector unused for a day and found again in
/// the minute before a collection is the (rare) case this does not cover.
const VECTOR_GRACE_MS: i64 = 24 * 3600 * 1000;

/// Chunk texts given their windows per idle round (an older library's upgrade): at most 16
/// windows to embed (about 0.4 s at the 38 vectors/s measured for the Python docs), so a new
/// item, or a search's query (the model embeds one batch at a time), waits at most that long.
const WINDOWS_PER_ROUND: usize = 16;

/// What the pool works with (shared with the engine that started it).
#[derive(Clone)]
pub struct Deps {
    pub store: Arc<Store>,
    pub ports: Arc<Ports>,
    pub config: Arc<EngineConfig>,
    pub stats: Arc<Stats>,
}

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Fixed concurrency; `None` follows the database setting (changeable while running).
    pub concurrency: Option<u32>,
    /// Stop when no job is waiting, delayed or active.
    pub until_idle: bool,
    /// How often to look for work written by other processes.
    pub poll: Duration,
    /// How often to requeue lapsed leases and prune the event log.
    pub sweep_every: Duration,
    /// How long in-flight jobs may take to finish on shutdown before they are released.
    pub shutdown_grace: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            concurrency: None,
            until_idle: false,
            poll: Duration::from_millis(500),
            sweep_every: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerSummary {
    pub completed: u64,
    pub failed: u64,
    pub retried: u64,
    pub released: u64,
    pub recovered: u64,
}

pub struct WorkerHandle {
    cancel: CancellationToken,
    join: tokio::task::JoinHandle<Result<WorkerSummary>>,
}

impl WorkerHandle {
    /// Ask the pool to stop and wait for it (bounded by the shutdown grace period).
    pub async fn shutdown(self) -> Result<WorkerSummary> {
        self.cancel.cancel();
        self.wait().await
    }

    /// Wait until the pool stops by itself (`until_idle`) or is shut down elsewhere.
    pub async fn wait(self) -> Result<WorkerSummary> {
        match self.join.await {
            Ok(r) => r,
            Err(e) => Err(Error::Internal(format!("worker pool crashed: {e}"))),
        }
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }
}

/// This process's identity in the `jobs.worker` column: `pid:random`.
fn worker_id() -> String {
    format!(
        "{}:{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Is the process that owned a lease gone? (Crash or kill -9: requeue without waiting
/// for the lease to lapse.)
fn owner_is_dead(worker: &str, me: &str) -> bool {
    if worker == me {
        return false;
    }
    let Some(pid) = worker.split(':').next().and_then(|p| p.parse::<i32>().ok()) else {
        return false;
    };
    if pid == std::process::id() as i32 {
        // An earlier pool in this same process (e.g. restarted): its jobs are orphaned.
        return true;
    }
    #[allow(unsafe_code)]
    // SAFETY: kill with signal 0 only checks for existence; no signal is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Start the pool on the current tokio runtime (see `Engine::start_worker`).
pub fn spawn(engine: Deps, opts: WorkerOptions) -> WorkerHandle {
    let cancel = CancellationToken::new();
    let join = tokio::spawn(run(engine, opts, cancel.clone()));
    WorkerHandle { cancel, join }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(Error::Internal(format!("a database task crashed: {e}"))))
}

enum Done {
    Completed,
    Failed,
    Retrying,
    Lost,
}

async fn run(
    engine: Deps,
    opts: WorkerOptions,
    cancel: CancellationToken,
) -> Result<WorkerSummary> {
    let me = worker_id();
    let mut summary = WorkerSummary::default();
    // When unused vectors were last collected (never yet: the first sweep does it).
    let vector_gc_at = Arc::new(AtomicI64::new(i64::MIN / 2));
    let recover = |engine: Deps, me: String| {
        let last_vector_gc = vector_gc_at.clone();
        blocking(move || {
            let now = engine.store.now_ms();
            let cfg = engine.config.queue.clone();
            let r = engine
                .store
                .write_conn(|c| queue::recover_stalled(c, &cfg, now, |w| owner_is_dead(w, &me)))?;
            engine.store.write_quiet(|c| {
                events::prune(c, now, 24 * 3600 * 1000)?;
                queue::gc_finished(c)?;
                // Vectors: a full scan, so at most once an hour (see VECTOR_GRACE_MS).
                if now - last_vector_gc.load(Ordering::Relaxed) >= 3600 * 1000 {
                    vectors::gc_unreferenced(c, now, VECTOR_GRACE_MS)?;
                    last_vector_gc.store(now, Ordering::Relaxed);
                }
                Ok(())
            })?;
            Ok(r)
        })
    };

    let mut tasks: JoinSet<Done> = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, Claimed> = HashMap::new();
    let mut waker = engine.store.bus().waker();
    // None: sweep now (the first sweep recovers what a previous run left active).
    let mut last_sweep: Option<Instant> = None;
    let mut batch = (0u64, 0u64);
    let mut trouble = Trouble::default();
    // When to try older passages' windows again after a failure (None: now), and how many
    // texts got theirs in this run of the upgrade.
    let mut windows_due: Option<Instant> = None;
    let mut windows_done = 0usize;
    // Cancelled when in-flight jobs must stop (after the shutdown grace period).
    let stop_jobs = CancellationToken::new();

    loop {
        if cancel.is_cancelled() {
            break;
        }
        // One round of database work. No error ends the pool: it is reported, processing
        // pauses with backoff, and resumes by itself when the condition clears.
        let round = async {
            if last_sweep.is_none_or(|t| t.elapsed() >= opts.sweep_every) {
                let first = last_sweep.is_none();
                let (requeued, failed) = recover(engine.clone(), me.clone()).await?;
                last_sweep = Some(Instant::now());
                summary.recovered += requeued as u64;
                summary.failed += failed as u64;
                if first && requeued + failed > 0 {
                    tracing::info!(
                        requeued,
                        failed,
                        "recovered jobs left active by a previous run"
                    );
                }
                if first {
                    let e = engine.clone();
                    let unread = blocking(move || {
                        let now = e.store.now_ms();
                        let max = e.config.queue.max_attempts;
                        e.store.write_conn(|c| queue::requeue_unread(c, max, now))
                    })
                    .await?;
                    if unread > 0 {
                        tracing::info!(unread, "queued items that have no extracted text");
                    }
                }
                let e = engine.clone();
                let refreshed =
                    blocking(move || changes::refresh_due(&e.store, e.config.queue.max_attempts))
                        .await?;
                if refreshed > 0 {
                    tracing::info!(refreshed, "links queued for their periodic refresh");
                }
            }
            let (paused, conc) = {
                let e = engine.clone();
                let fixed = opts.concurrency;
                blocking(move || {
                    let conc = match fixed {
                        Some(n) => n,
                        None => settings::concurrency(&e.store, e.config.default_concurrency())?,
                    };
                    Ok((settings::paused(&e.store)?, conc))
                })
                .await?
            };
            if !paused {
                while (tasks.len() as u32) < conc {
                    let e = engine.clone();
                    let me2 = me.clone();
                    let claimed = blocking(move || {
                        let now = e.store.now_ms();
                        let cfg = e.config.queue.clone();
                        e.store.write_conn(|c| queue::claim(c, &me2, &cfg, now))
                    })
                    .await?;
                    let Some(job) = claimed else { break };
                    let handle = tasks.spawn(run_job(
                        engine.clone(),
                        job.clone(),
                        stop_jobs.child_token(),
                    ));
                    running.insert(handle.id(), job);
                }
            }
            engine.stats.set_running(tasks.len() as u32);

            if tasks.is_empty() {
                if batch != (0, 0) {
                    let (c, f) = batch;
                    let e = engine.clone();
                    blocking(move || {
                        let msg = format!("{c} completed, {f} failed");
                        e.store.write(|tx, now| {
                            events::record(
                                tx,
                                now,
                                EventKind::BatchFinished,
                                NewEvent {
                                    message: Some(&msg),
                                    ..Default::default()
                                },
                            )
                        })
                    })
                    .await?;
                    batch = (0, 0);
                }
                // Nothing to process: give older passages their windows, a batch a round.
                if !paused && windows_due.is_none_or(|t| Instant::now() >= t) {
                    if let Some(emb) = engine.ports.embedder() {
                        let e = engine.clone();
                        let done = blocking(move || {
                            crate::ingest::index::complete_windows(
                                &e.store,
                                emb.as_ref(),
                                &e.stats,
                                WINDOWS_PER_ROUND,
                            )
                        })
                        .await;
                        match done {
                            Ok(0) => {
                                if windows_done > 0 {
                                    tracing::info!(
                                        texts = windows_done,
                                        "older passages have their windows"
                                    );
                                    windows_done = 0;
                                }
                            }
                            // Its write wakes the next round at once.
                            Ok(n) => {
                                if windows_done == 0 {
                                    tracing::info!(
                                        "giving older passages a vector over their ends \
                                         (windows) while nothing else is processed"
                                    );
                                }
                                windows_done += n;
                                return Ok(false);
                            }
                            Err(err) => {
                                tracing::warn!(
                                    "could not embed the windows of older passages: {err}"
                                );
                                windows_due = Some(Instant::now() + Duration::from_secs(600));
                            }
                        }
                    }
                }
                if opts.until_idle {
                    let e = engine.clone();
                    let (due, later, active) = blocking(move || {
                        let now = e.store.now_ms();
                        e.store.read(|c| queue::backlog(c, now))
                    })
                    .await?;
                    if due + later + active == 0 || (paused && active == 0) {
                        return Ok(true);
                    }
                }
            }
            Ok::<bool, Error>(false)
        };
        match round.await {
            Ok(true) => break,
            Ok(false) => trouble.clear(&engine.stats),
            Err(e) => {
                let wait = trouble.record(&engine.stats, &e);
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(wait) => {}
                }
                continue;
            }
        }

        tokio::select! {
            _ = cancel.cancelled() => break,
            Some(res) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                let (id, done) = match res {
                    Ok((id, d)) => (id, d),
                    Err(e) => (e.id(), Done::Lost),
                };
                running.remove(&id);
                tally(&mut summary, &mut batch, done);
            }
            _ = events::wait_for_change(&mut waker, opts.poll) => {}
        }
    }

    // Graceful stop: let in-flight jobs finish for a while, then release the rest.
    let deadline = tokio::time::Instant::now() + opts.shutdown_grace;
    while !tasks.is_empty() {
        match tokio::time::timeout_at(deadline, tasks.join_next_with_id()).await {
            Ok(Some(Ok((id, done)))) => {
                running.remove(&id);
                tally(&mut summary, &mut batch, done);
            }
            Ok(Some(Err(e))) => {
                running.remove(&e.id());
            }
            Ok(None) => break,
            Err(_) => break,
        }
    }
    stop_jobs.cancel();
    for (_, job) in running.drain() {
        let e = engine.clone();
        let job_id = job.job_id.clone();
        let released = blocking(move || {
            let now = e.store.now_ms();
            e.store.write_conn(|c| queue::release(c, &job, now))
        })
        .await;
        match released {
            Ok(true) => summary.released += 1,
            Ok(false) => {}
            // Not lost: this process's pid is gone after exit, so the next start requeues it.
            Err(e) => tracing::warn!(job = %job_id, "could not release the job on shutdown: {e}"),
        }
    }
    tasks.abort_all();
    engine.stats.set_running(0);
    trouble.clear(&engine.stats);
    Ok(summary)
}

/// The pool's trouble with the database: what the status shows, and how long to wait
/// before trying again (1 s doubling to 30 s).
#[derive(Default)]
struct Trouble {
    failures: u32,
}

impl Trouble {
    fn record(&mut self, stats: &Stats, e: &Error) -> Duration {
        self.failures += 1;
        let message = database_problem(e);
        tracing::warn!(failures = self.failures, "{message} ({e})");
        stats.set_problem(Some(message));
        Duration::from_secs(1u64 << self.failures.min(6).saturating_sub(1))
            .min(Duration::from_secs(30))
    }

    fn clear(&mut self, stats: &Stats) {
        if self.failures > 0 {
            tracing::info!("the database is usable again; processing resumes");
            self.failures = 0;
            stats.set_problem(None);
        }
    }
}

/// A sentence for the status banner.
fn database_problem(e: &Error) -> String {
    use rusqlite::ErrorCode as C;
    let reason = match e {
        Error::Sql(rusqlite::Error::SqliteFailure(f, _)) => match f.code {
            C::DatabaseBusy | C::DatabaseLocked => "another program is holding it locked".into(),
            C::DiskFull => "disk full".into(),
            C::ReadOnly => "the database file is read-only".into(),
            C::CannotOpen | C::PermissionDenied => "the database file cannot be opened".into(),
            C::SystemIoFailure => "an I/O error".into(),
            C::DatabaseCorrupt | C::NotADatabase => "the database file is damaged".into(),
            _ => e.to_string(),
        },
        Error::Io(io) => io.to_string(),
        other => other.to_string(),
    };
    format!("Trove can't write to its database: {reason} — processing paused, retrying")
}

fn tally(summary: &mut WorkerSummary, batch: &mut (u64, u64), done: Done) {
    match done {
        Done::Completed => {
            summary.completed += 1;
            batch.0 += 1;
        }
        Done::Failed => {
            summary.failed += 1;
            batch.1 += 1;
        }
        Done::Retrying => summary.retried += 1,
        Done::Lost => {}
    }
}

async fn run_job(engine: Deps, job: Claimed, cancel: CancellationToken) -> Done {
    // Renew the lease while the job runs; a lost lease stops the job.
    let hb = {
        let engine = engine.clone();
        let job = job.clone();
        let cancel = cancel.clone();
        let every = Duration::from_millis((engine.config.queue.lease_ms / 3).max(50) as u64);
        let lease = Duration::from_millis(engine.config.queue.lease_ms.max(0) as u64);
        tokio::spawn(async move {
            let mut last_ok = Instant::now();
            loop {
                tokio::time::sleep(every).await;
                let e = engine.clone();
                let j = job.clone();
                let alive = blocking(move || {
                    let now = e.store.now_ms();
                    let cfg = e.config.queue.clone();
                    e.store.write_quiet(|c| queue::heartbeat(c, &j, &cfg, now))
                })
                .await;
                match alive {
                    Ok(true) => last_ok = Instant::now(),
                    // The lease was taken away (item deleted, lease expired): stop the run.
                    Ok(false) => {
                        cancel.cancel();
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(job = %job.job_id, "could not renew the job's lease: {e}");
                        if last_ok.elapsed() >= lease {
                            // Another worker may take the job now: stop this run rather
                            // than let the same job run twice.
                            cancel.cancel();
                            break;
                        }
                    }
                }
            }
        })
    };
    let deadline = JobDeadline::new(&engine.config.queue);
    let mut run = {
        let engine = engine.clone();
        let job = job.clone();
        let (cancel, deadline) = (cancel.clone(), deadline.clone());
        tokio::task::spawn_blocking(move || {
            JobCtx::new(
                &engine.store,
                &engine.ports,
                &engine.config,
                &engine.stats,
                &job,
                cancel,
                deadline,
            )
            .run()
        })
    };
    // The hard deadline, watched from outside the run: a blocking parse cannot be
    // interrupted, but its slot is freed and the job failed (the lease fences out whatever
    // the abandoned run writes later).
    let result = loop {
        match tokio::time::timeout(deadline.remaining(), &mut run).await {
            Ok(r) => break Some(r),
            Err(_) if deadline.remaining().is_zero() => break None,
            Err(_) => {} // extended meanwhile
        }
    };
    let result = match result {
        Some(r) => r,
        None => {
            cancel.cancel();
            tracing::warn!(job = %job.job_id, "job passed its deadline; stopped");
            Ok(Err(RunError::Job(JobError::permanent(format!(
                "took longer than {} to process, so Trove stopped it",
                human_duration(deadline.limit())
            )))))
        }
    };
    hb.abort();
    let err = match result {
        Ok(Ok(())) => return Done::Completed,
        Ok(Err(RunError::LeaseLost)) => return Done::Lost,
        Ok(Err(RunError::Job(e))) => e,
        Err(join) => {
            let what = join
                .try_into_panic()
                .ok()
                .and_then(|p| {
                    p.downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                })
                .unwrap_or_else(|| "unknown cause".into());
            tracing::error!(job = %job.job_id, "job panicked: {what}");
            JobError::permanent(format!(
                "Trove hit an internal error while processing this item ({what})"
            ))
        }
    };
    // Recording the failure may meet a locked or full database: try a few times before
    // leaving the job to lapse (a sweep then requeues it).
    let mut outcome = None;
    for attempt in 0..5u32 {
        let e = engine.clone();
        let (j, er) = (job.clone(), err.clone());
        match blocking(move || {
            let now = e.store.now_ms();
            let cfg = e.config.queue.clone();
            e.store
                .write_conn(|c| queue::fail(c, &j, &er, &cfg, now, &mut rand::rng()))
        })
        .await
        {
            Ok(o) => {
                outcome = Some(o);
                break;
            }
            Err(e) => {
                tracing::warn!(job = %job.job_id, attempt, "could not record the job's failure: {e}");
                tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
            }
        }
    }
    match outcome {
        Some(FailOutcome::Failed) => Done::Failed,
        Some(FailOutcome::Retrying { .. }) => Done::Retrying,
        Some(FailOutcome::LeaseLost) | None => Done::Lost,
    }
}
