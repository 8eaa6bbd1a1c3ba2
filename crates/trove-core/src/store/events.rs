//! Change events. Every status/progress change is appended to the `events` table in the
//! same transaction as the change itself, so subscribers in this process (the app) and in
//! other processes (`trove watch` next to `trove work`) see exactly what was committed.
//! Subscribers in this process are woken at once; others poll cheaply.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::error::Result;
use crate::model::{ItemRef, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EventKind {
    Added,
    Updated,
    Progress,
    Deleted,
    Queue,
    BatchFinished,
}

impl EventKind {
    fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "added",
            EventKind::Updated => "updated",
            EventKind::Progress => "progress",
            EventKind::Deleted => "deleted",
            EventKind::Queue => "queue",
            EventKind::BatchFinished => "batchFinished",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "added" => EventKind::Added,
            "progress" => EventKind::Progress,
            "deleted" => EventKind::Deleted,
            "queue" => EventKind::Queue,
            "batchFinished" => EventKind::BatchFinished,
            _ => EventKind::Updated,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub seq: i64,
    pub at_ms: i64,
    pub kind: EventKind,
    pub item: Option<ItemRef>,
    pub status: Option<Status>,
    pub progress: Option<u8>,
    pub stage: Option<String>,
    pub message: Option<String>,
}

/// What a writer records; `seq` and time are filled in.
#[derive(Debug, Clone, Default)]
pub struct NewEvent<'a> {
    pub item: Option<ItemRef>,
    pub status: Option<Status>,
    pub progress: Option<u8>,
    pub stage: Option<&'a str>,
    pub message: Option<&'a str>,
}

pub fn record(conn: &Connection, now_ms: i64, kind: EventKind, e: NewEvent<'_>) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO events (at, kind, item, status, progress, stage, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    stmt.execute(params![
        now_ms,
        kind.as_str(),
        e.item.map(|i| i.to_string()),
        e.status.map(Status::as_str),
        e.progress,
        e.stage,
        e.message
    ])?;
    Ok(())
}

pub fn last_seq(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?)
}

/// Events after `after`, oldest first, at most `limit`.
pub fn since(conn: &Connection, after: i64, limit: u32) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, kind, item, status, progress, stage, message FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], |r| {
        let kind: String = r.get(2)?;
        let item: Option<String> = r.get(3)?;
        let status: Option<String> = r.get(4)?;
        Ok(Event {
            seq: r.get(0)?,
            at_ms: r.get(1)?,
            kind: EventKind::parse(&kind),
            item: item.and_then(|s| s.parse().ok()),
            status: status.map(|s| Status::from_db(Some(&s))),
            progress: r.get(5)?,
            stage: r.get(6)?,
            message: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Keep the log bounded: drop events older than `keep_ms`, but never the newest 10,000.
pub fn prune(conn: &Connection, now_ms: i64, keep_ms: i64) -> Result<usize> {
    let floor: Option<i64> = conn
        .query_row(
            "SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET 10000",
            [],
            |r| r.get(0),
        )
        .optional()?;
    match floor {
        Some(floor) => Ok(conn.execute(
            "DELETE FROM events WHERE seq <= ?1 AND at < ?2",
            params![floor, now_ms - keep_ms],
        )?),
        None => Ok(0),
    }
}

/// Wakes this process's subscribers after a commit.
#[derive(Clone)]
pub struct Bus {
    tx: Arc<watch::Sender<u64>>,
}

impl Default for Bus {
    fn default() -> Self {
        Self {
            tx: Arc::new(watch::channel(0).0),
        }
    }
}

impl Bus {
    /// Call after committing a transaction that recorded events.
    pub fn poke(&self) {
        self.tx.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub fn waker(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

/// Wait until this process pokes the bus or `fallback` passes (for changes made by other
/// processes on the same file).
pub async fn wait_for_change(rx: &mut watch::Receiver<u64>, fallback: Duration) {
    let _ = tokio::time::timeout(fallback, rx.changed()).await;
}
