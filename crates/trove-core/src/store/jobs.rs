//! The durable job queue: Bull's semantics on a SQLite table.
//!
//! * A job is `waiting` (due now), `delayed` (due at `run_after`), `active` (claimed under a
//!   lease), or finished: `completed`, `failed`, `cancelled`.
//! * The item row mirrors it: waiting/delayed → `pending`, active → `processing`.
//! * Claiming is one IMMEDIATE transaction: pick the next due job, lease it, bump
//!   `attempts`, flip the item to `processing`, record the event.
//! * Every write by the job's runner is fenced by the lease token: a runner whose lease
//!   was taken away (expired, released on shutdown, item deleted) cannot complete.
//! * Lapsed leases go back to waiting; a job that stalls more than `max_stalls` times fails.

use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::events::{self, EventKind, NewEvent};
use crate::clock::db_ts;
pub use crate::config::QueueConfig;
use crate::error::{Error, JobError, Result, Retry};
use crate::model::{ItemKind, ItemRef, JobInfo, Status};

pub const KIND_FILE: &str = "ingest_file";
pub const KIND_URL: &str = "scrape_url";

/// A job this worker holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub job_id: String,
    pub kind: String,
    pub item: ItemRef,
    pub attempts: u32,
    pub max_attempts: u32,
    pub lease_token: String,
}

fn new_job_id() -> String {
    format!("job-{}", uuid::Uuid::now_v7().simple())
}

fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub fn job_kind_for(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::File => KIND_FILE,
        ItemKind::Url => KIND_URL,
    }
}

/// Set an item's status columns (and `updated_at`) and record the event. Used by every
/// transition so the row, its timestamp and the event log never disagree.
pub(crate) fn set_item_status(
    conn: &Connection,
    item: ItemRef,
    status: Status,
    error: Option<&str>,
    job_id: Option<&str>,
    now_ms: i64,
) -> Result<()> {
    let sql = format!(
        "UPDATE {} SET status = ?1, processing_error = ?2, job_id = COALESCE(?3, job_id), updated_at = ?4 WHERE id = ?5",
        item.kind.table()
    );
    conn.prepare_cached(&sql)?.execute(params![
        status.as_str(),
        error,
        job_id,
        db_ts(now_ms),
        item.id
    ])?;
    events::record(
        conn,
        now_ms,
        EventKind::Updated,
        NewEvent {
            item: Some(item),
            status: Some(status),
            progress: None,
            stage: None,
            message: error,
        },
    )?;
    Ok(())
}

/// Create a job for `item` (inside the caller's transaction), point the item at it and
/// mark the item pending. Returns the job id.
pub fn enqueue(conn: &Connection, item: ItemRef, max_attempts: u32, now_ms: i64) -> Result<String> {
    let id = new_job_id();
    conn.prepare_cached(
        "INSERT INTO jobs (id, kind, item_table, item_id, state, max_attempts, run_after, created_at)
         VALUES (?1, ?2, ?3, ?4, 'waiting', ?5, ?6, ?6)",
    )?
    .execute(params![id, job_kind_for(item.kind), item.kind.table(), item.id, max_attempts, now_ms])?;
    let sql = format!(
        "UPDATE {} SET status = 'pending', processing_error = NULL, job_id = ?1, updated_at = ?2 WHERE id = ?3",
        item.kind.table()
    );
    conn.prepare_cached(&sql)?
        .execute(params![id, db_ts(now_ms), item.id])?;
    Ok(id)
}

/// Claim the next due job, if any. One IMMEDIATE transaction.
pub fn claim(
    conn: &mut Connection,
    worker: &str,
    cfg: &QueueConfig,
    now_ms: i64,
) -> Result<Option<Claimed>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row = tx
        .prepare_cached(
            "SELECT id, kind, item_table, item_id, attempts, max_attempts FROM jobs
             WHERE state IN ('waiting', 'delayed') AND run_after <= ?1
             ORDER BY run_after, created_at LIMIT 1",
        )?
        .query_row([now_ms], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, u32>(4)?,
                r.get::<_, u32>(5)?,
            ))
        })
        .optional()?;
    let Some((job_id, kind, table, item_id, attempts, max_attempts)) = row else {
        return Ok(None);
    };
    let item_kind = ItemKind::from_table(&table)
        .ok_or_else(|| Error::Internal(format!("a job names an unknown item table {table}")))?;
    let item = ItemRef {
        kind: item_kind,
        id: item_id,
    };
    let token = new_token();
    tx.prepare_cached(
        "UPDATE jobs SET state = 'active', attempts = attempts + 1, locked_until = ?2, lease_token = ?3,
             worker = ?4, started_at = ?5, progress = 0, stage = NULL
         WHERE id = ?1",
    )?
    .execute(params![job_id, now_ms + cfg.lease_ms, token, worker, now_ms])?;
    set_item_status(&tx, item, Status::Processing, None, None, now_ms)?;
    tx.commit()?;
    Ok(Some(Claimed {
        job_id,
        kind,
        item,
        attempts: attempts + 1,
        max_attempts,
        lease_token: token,
    }))
}

fn holds_lease(conn: &Connection, job: &Claimed) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM jobs WHERE id = ?1 AND state = 'active' AND lease_token = ?2",
        )?
        .query_row(params![job.job_id, job.lease_token], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Extend the lease. `false` means the lease is gone (cancelled, expired and requeued):
/// the runner should stop.
pub fn heartbeat(conn: &Connection, job: &Claimed, cfg: &QueueConfig, now_ms: i64) -> Result<bool> {
    let n = conn
        .prepare_cached("UPDATE jobs SET locked_until = ?3 WHERE id = ?1 AND state = 'active' AND lease_token = ?2")?
        .execute(params![job.job_id, job.lease_token, now_ms + cfg.lease_ms])?;
    Ok(n == 1)
}

/// Report progress (0–100) and the current stage. `false` means the lease is gone.
pub fn progress(
    conn: &mut Connection,
    job: &Claimed,
    pct: u8,
    stage: &str,
    now_ms: i64,
) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = tx
        .prepare_cached("UPDATE jobs SET progress = ?3, stage = ?4 WHERE id = ?1 AND state = 'active' AND lease_token = ?2")?
        .execute(params![job.job_id, job.lease_token, pct.min(100), stage])?;
    if n == 1 {
        events::record(
            &tx,
            now_ms,
            EventKind::Progress,
            NewEvent {
                item: Some(job.item),
                status: Some(Status::Processing),
                progress: Some(pct.min(100)),
                stage: Some(stage),
                message: None,
            },
        )?;
    }
    tx.commit()?;
    Ok(n == 1)
}

/// Finish a job successfully. `store` runs inside the same transaction, after the lease is
/// verified: it writes the job's results (chunks, metadata) so they land atomically with
/// the status change, or not at all. Returns `false` if the lease was lost (nothing written).
pub fn complete(
    conn: &mut Connection,
    job: &Claimed,
    now_ms: i64,
    store: impl FnOnce(&Transaction<'_>) -> Result<()>,
) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !holds_lease(&tx, job)? {
        return Ok(false);
    }
    store(&tx)?;
    tx.prepare_cached(
        "UPDATE jobs SET state = 'completed', progress = 100, stage = NULL, locked_until = NULL, lease_token = NULL,
             last_error = NULL, finished_at = ?2 WHERE id = ?1",
    )?
    .execute(params![job.job_id, now_ms])?;
    set_item_status(&tx, job.item, Status::Completed, None, None, now_ms)?;
    tx.commit()?;
    Ok(true)
}

/// Exponential backoff with ±25 % jitter: base · 2^(attempt−1), capped.
pub fn backoff_ms(cfg: &QueueConfig, attempt: u32, rng: &mut impl Rng) -> i64 {
    let exp = attempt.saturating_sub(1).min(30);
    let raw = cfg
        .backoff_base_ms
        .saturating_mul(1_i64 << exp)
        .min(cfg.backoff_cap_ms);
    let jitter = rng.random_range(0.75..=1.25);
    ((raw as f64) * jitter) as i64
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Will run again at this time.
    Retrying {
        run_after_ms: i64,
    },
    Failed,
    /// The lease was lost; nothing was written.
    LeaseLost,
}

/// Record a failed attempt: retry later (transient, attempts left) or fail for good.
pub fn fail(
    conn: &mut Connection,
    job: &Claimed,
    err: &JobError,
    cfg: &QueueConfig,
    now_ms: i64,
    rng: &mut impl Rng,
) -> Result<FailOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !holds_lease(&tx, job)? {
        return Ok(FailOutcome::LeaseLost);
    }
    // Trouble around the database (disk full, read-only, I/O) is not the item's fault:
    // try again shortly without counting the attempt.
    let postpone = matches!(err.retry, Retry::Postpone);
    let delay = match err.retry {
        Retry::Never => None,
        Retry::Postpone => Some(backoff_ms(cfg, 1, rng)),
        _ if job.attempts >= job.max_attempts => None,
        Retry::Backoff => Some(backoff_ms(cfg, job.attempts, rng)),
        Retry::After(ms) => Some(
            i64::try_from(ms)
                .unwrap_or(i64::MAX)
                .min(cfg.retry_after_cap_ms.max(0)),
        ),
    };
    let outcome = match delay {
        Some(d) => {
            let at = now_ms.saturating_add(d);
            tx.prepare_cached(
                "UPDATE jobs SET state = 'delayed', run_after = ?2, locked_until = NULL, lease_token = NULL,
                     last_error = ?3, stage = NULL, attempts = attempts - ?4 WHERE id = ?1",
            )?
            .execute(params![job.job_id, at, err.message, i64::from(postpone)])?;
            set_item_status(&tx, job.item, Status::Pending, None, None, now_ms)?;
            FailOutcome::Retrying { run_after_ms: at }
        }
        None => {
            let message = if matches!(err.retry, Retry::Never) || job.attempts <= 1 {
                err.message.clone()
            } else {
                format!("{} (gave up after {} attempts)", err.message, job.attempts)
            };
            tx.prepare_cached(
                "UPDATE jobs SET state = 'failed', locked_until = NULL, lease_token = NULL, last_error = ?2,
                     stage = NULL, finished_at = ?3 WHERE id = ?1",
            )?
            .execute(params![job.job_id, message, now_ms])?;
            set_item_status(&tx, job.item, Status::Failed, Some(&message), None, now_ms)?;
            FailOutcome::Failed
        }
    };
    tx.commit()?;
    Ok(outcome)
}

/// Give an active job back (graceful shutdown): it runs again from the start, and the
/// interrupted attempt does not count.
pub fn release(conn: &mut Connection, job: &Claimed, now_ms: i64) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = tx
        .prepare_cached(
            "UPDATE jobs SET state = 'waiting', attempts = MAX(attempts - 1, 0), locked_until = NULL,
                 lease_token = NULL, worker = NULL, progress = 0, stage = NULL, run_after = ?3
             WHERE id = ?1 AND state = 'active' AND lease_token = ?2",
        )?
        .execute(params![job.job_id, job.lease_token, now_ms])?;
    if n == 1 {
        set_item_status(&tx, job.item, Status::Pending, None, None, now_ms)?;
    }
    tx.commit()?;
    Ok(n == 1)
}

/// Delete finished jobs that are no longer their item's current job (each refresh of a
/// link, each retry makes a new one): the `jobs` table stays as large as the library,
/// however long Trove runs. The item's current job, with its timings and error, stays.
pub fn gc_finished(conn: &Connection) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM jobs WHERE state IN ('completed', 'failed', 'cancelled')
            AND id NOT IN (SELECT job_id FROM knowledge_files WHERE job_id IS NOT NULL)
            AND id NOT IN (SELECT job_id FROM scraped_contents WHERE job_id IS NOT NULL)",
        [],
    )?)
}

/// Queue items marked completed that Trove never read: rows brought forward from the old
/// schema (the seed's migration marks them completed) and items whose extracted text a
/// rollback dropped. They have no stored text and are not duplicates; searching them would
/// find nothing. Returns how many were queued.
pub fn requeue_unread(conn: &mut Connection, max_attempts: u32, now_ms: i64) -> Result<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut n = 0;
    for kind in [ItemKind::File, ItemKind::Url] {
        let sql = format!(
            "SELECT id FROM {table} t WHERE COALESCE(status, 'completed') = 'completed'
                 AND duplicate_of IS NULL
                 AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.item = '{prefix}' || t.id)",
            table = kind.table(),
            prefix = match kind {
                ItemKind::File => "f",
                ItemKind::Url => "u",
            },
        );
        let ids: Vec<i64> = tx
            .prepare(&sql)?
            .query_map([], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        for id in ids {
            enqueue(&tx, ItemRef { kind, id }, max_attempts, now_ms)?;
            n += 1;
        }
    }
    tx.commit()?;
    Ok(n)
}

/// Requeue active jobs whose lease lapsed, or whose worker process is gone (`is_dead`),
/// counting a stall; fail those that stalled too often. Returns (requeued, failed).
pub fn recover_stalled(
    conn: &mut Connection,
    cfg: &QueueConfig,
    now_ms: i64,
    is_dead: impl Fn(&str) -> bool,
) -> Result<(usize, usize)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    type Row = (String, String, i64, u32, Option<i64>, Option<String>);
    let all: Vec<Row> = tx
        .prepare_cached("SELECT id, item_table, item_id, stalls, locked_until, worker FROM jobs WHERE state = 'active'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let stalled: Vec<Row> = all
        .into_iter()
        .filter(|(_, _, _, _, until, worker)| {
            until.is_none_or(|u| u < now_ms) || worker.as_deref().is_some_and(&is_dead)
        })
        .collect();
    let (mut requeued, mut failed) = (0, 0);
    for (id, table, item_id, stalls, _, _) in stalled {
        let Some(kind) = ItemKind::from_table(&table) else {
            continue;
        };
        let item = ItemRef { kind, id: item_id };
        if stalls + 1 > cfg.max_stalls {
            let msg = format!(
                "processing was interrupted {} times (Trove stopped or crashed while working on this item); \
                 it may be too large or trigger a crash — retry to try again",
                stalls + 1
            );
            tx.execute(
                "UPDATE jobs SET state = 'failed', stalls = stalls + 1, locked_until = NULL, lease_token = NULL,
                     last_error = ?2, finished_at = ?3 WHERE id = ?1",
                params![id, msg, now_ms],
            )?;
            set_item_status(&tx, item, Status::Failed, Some(&msg), None, now_ms)?;
            failed += 1;
        } else {
            tx.execute(
                "UPDATE jobs SET state = 'waiting', stalls = stalls + 1, attempts = MAX(attempts - 1, 0),
                     locked_until = NULL, lease_token = NULL, worker = NULL, progress = 0, stage = NULL,
                     run_after = ?2 WHERE id = ?1",
                params![id, now_ms],
            )?;
            set_item_status(&tx, item, Status::Pending, None, None, now_ms)?;
            requeued += 1;
        }
    }
    tx.commit()?;
    Ok((requeued, failed))
}

/// Cancel the unfinished jobs of an item (inside the caller's transaction).
pub fn cancel_for_item(conn: &Connection, item: ItemRef, now_ms: i64) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE jobs SET state = 'cancelled', locked_until = NULL, lease_token = NULL, finished_at = ?3
             WHERE item_table = ?1 AND item_id = ?2 AND state IN ('waiting', 'delayed', 'active')",
        )?
        .execute(params![item.kind.table(), item.id, now_ms])?)
}

/// A fresh job with a fresh attempt budget for one item (inside the caller's transaction).
/// The item gets the new job id; older unfinished jobs are cancelled.
pub fn retry_item(
    conn: &Connection,
    item: ItemRef,
    max_attempts: u32,
    now_ms: i64,
) -> Result<String> {
    cancel_for_item(conn, item, now_ms)?;
    let id = enqueue(conn, item, max_attempts, now_ms)?;
    events::record(
        conn,
        now_ms,
        EventKind::Updated,
        NewEvent {
            item: Some(item),
            status: Some(Status::Pending),
            ..Default::default()
        },
    )?;
    Ok(id)
}

pub fn job_info(conn: &Connection, job_id: &str) -> Result<Option<JobInfo>> {
    Ok(conn
        .query_row(
            "SELECT id, kind, state, attempts, max_attempts, stalls, progress, stage, last_error, run_after,
                    created_at, started_at, finished_at FROM jobs WHERE id = ?1",
            [job_id],
            |r| {
                Ok(JobInfo {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    state: r.get(2)?,
                    attempts: r.get(3)?,
                    max_attempts: r.get(4)?,
                    stalls: r.get(5)?,
                    progress: r.get(6)?,
                    stage: r.get(7)?,
                    last_error: r.get(8)?,
                    run_after_ms: r.get(9)?,
                    created_ms: r.get(10)?,
                    started_ms: r.get(11)?,
                    finished_ms: r.get(12)?,
                })
            },
        )
        .optional()?)
}

/// Jobs not finished yet: (due now, later, active).
pub fn backlog(conn: &Connection, now_ms: i64) -> Result<(i64, i64, i64)> {
    Ok(conn.query_row(
        "SELECT
            COALESCE(SUM(state IN ('waiting','delayed') AND run_after <= ?1), 0),
            COALESCE(SUM(state IN ('waiting','delayed') AND run_after > ?1), 0),
            COALESCE(SUM(state = 'active'), 0)
         FROM jobs WHERE state IN ('waiting', 'delayed', 'active')",
        [now_ms],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}
