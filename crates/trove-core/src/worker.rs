//! The worker pool: claims jobs up to the concurrency setting, runs each on a blocking
//! thread (extraction and embedding are CPU work), renews its lease while it runs, and
//! records the outcome. Stops gracefully: in-flight jobs get a grace period to finish, the
//! rest are released back to the queue (not lost, and the attempt does not count).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::error::{JobError, Result};
use crate::events::{self, EventKind, NewEvent};
use crate::pipeline::{RunError, Runner};
use crate::queue::{self, Claimed, FailOutcome};

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
            Err(e) => Err(crate::error::Error::Invalid(format!(
                "worker pool crashed: {e}"
            ))),
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

pub fn spawn(engine: Arc<Engine>, opts: WorkerOptions) -> WorkerHandle {
    let cancel = CancellationToken::new();
    let join = tokio::spawn(run(engine, opts, cancel.clone()));
    WorkerHandle { cancel, join }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(crate::error::Error::Invalid(format!("internal error: {e}"))))
}

enum Done {
    Completed,
    Failed,
    Retrying,
    Lost,
}

async fn run(
    engine: Arc<Engine>,
    opts: WorkerOptions,
    cancel: CancellationToken,
) -> Result<WorkerSummary> {
    let me = worker_id();
    let mut summary = WorkerSummary::default();
    let recover = |engine: Arc<Engine>, me: String| {
        blocking(move || {
            let now = engine.now_ms();
            let cfg = engine.config.queue.clone();
            let r = engine
                .with_conn(|c| queue::recover_stalled(c, &cfg, now, |w| owner_is_dead(w, &me)))?;
            engine.read(|c| events::prune(c, now, 24 * 3600 * 1000))?;
            Ok(r)
        })
    };
    let (requeued, failed) = recover(engine.clone(), me.clone()).await?;
    summary.recovered += requeued as u64;
    summary.failed += failed as u64;
    if requeued + failed > 0 {
        tracing::info!(
            requeued,
            failed,
            "recovered jobs left active by a previous run"
        );
    }

    let mut tasks: JoinSet<Done> = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, Claimed> = HashMap::new();
    let mut waker = engine.bus.waker();
    let mut last_sweep = Instant::now();
    let mut batch = (0u64, 0u64);
    // Cancelled when in-flight jobs must stop (after the shutdown grace period).
    let stop_jobs = CancellationToken::new();

    loop {
        if cancel.is_cancelled() {
            break;
        }
        if last_sweep.elapsed() >= opts.sweep_every {
            last_sweep = Instant::now();
            let (requeued, failed) = recover(engine.clone(), me.clone()).await?;
            summary.recovered += requeued as u64;
            summary.failed += failed as u64;
            let e = engine.clone();
            let refreshed = blocking(move || e.refresh_due()).await?;
            if refreshed > 0 {
                tracing::info!(refreshed, "links queued for their periodic refresh");
            }
        }
        let (paused, conc) = {
            let e = engine.clone();
            let fixed = opts.concurrency;
            blocking(move || Ok((e.paused()?, fixed.map_or_else(|| e.concurrency(), Ok)?))).await?
        };
        if !paused {
            while (tasks.len() as u32) < conc {
                let e = engine.clone();
                let me2 = me.clone();
                let claimed = blocking(move || {
                    let now = e.now_ms();
                    let cfg = e.config.queue.clone();
                    e.with_conn(|c| queue::claim(c, &me2, &cfg, now))
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
        engine.running.store(tasks.len() as u32, Ordering::Relaxed);

        if tasks.is_empty() {
            if batch != (0, 0) {
                let (c, f) = std::mem::take(&mut batch);
                let e = engine.clone();
                blocking(move || {
                    let msg = format!("{c} completed, {f} failed");
                    e.record_event(
                        EventKind::BatchFinished,
                        NewEvent {
                            message: Some(&msg),
                            ..Default::default()
                        },
                    )
                })
                .await?;
            }
            if opts.until_idle {
                let e = engine.clone();
                let (due, later, active) = blocking(move || {
                    let now = e.now_ms();
                    e.read(|c| queue::backlog(c, now))
                })
                .await?;
                if due + later + active == 0 || (paused && active == 0) {
                    break;
                }
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
        let released = blocking(move || {
            let now = e.now_ms();
            e.with_conn(|c| queue::release(c, &job, now))
        })
        .await?;
        if released {
            summary.released += 1;
        }
    }
    tasks.abort_all();
    engine.running.store(0, Ordering::Relaxed);
    Ok(summary)
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

async fn run_job(engine: Arc<Engine>, job: Claimed, cancel: CancellationToken) -> Done {
    // Renew the lease while the job runs; a lost lease stops the job.
    let hb = {
        let engine = engine.clone();
        let job = job.clone();
        let cancel = cancel.clone();
        let every = Duration::from_millis((engine.config.queue.lease_ms / 3).max(50) as u64);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let e = engine.clone();
                let j = job.clone();
                let alive = blocking(move || {
                    let now = e.now_ms();
                    let cfg = e.config.queue.clone();
                    e.read(|c| queue::heartbeat(c, &j, &cfg, now))
                })
                .await;
                if !matches!(alive, Ok(true)) {
                    if matches!(alive, Ok(false)) {
                        cancel.cancel();
                    }
                    break;
                }
            }
        })
    };
    let result = {
        let engine = engine.clone();
        let job = job.clone();
        tokio::task::spawn_blocking(move || Runner::new(&engine, &job, cancel).run()).await
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
    let e = engine.clone();
    let outcome = blocking(move || {
        let now = e.now_ms();
        let cfg = e.config.queue.clone();
        e.with_conn(|c| queue::fail(c, &job, &err, &cfg, now, &mut rand::rng()))
    })
    .await;
    match outcome {
        Ok(FailOutcome::Failed) => Done::Failed,
        Ok(FailOutcome::Retrying { .. }) => Done::Retrying,
        Ok(FailOutcome::LeaseLost) | Err(_) => Done::Lost,
    }
}
