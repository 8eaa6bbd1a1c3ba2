//! Engine events → the page. The engine appends every change to its `events` table (in the
//! same transaction as the change) and pokes an in-process bus; this pump reads what is
//! new, turns it into the UI's `EngineEvent`s (with full rows), and emits them BATCHED as
//! one array on `trove://events`: at most every [`COALESCE`], at most [`MAX_BATCH`] log
//! entries per emit. Changes written by other processes on the same database (`trove add`
//! in a terminal) are picked up by polling every [`POLL`].
//!
//! A window drop is added in Rust (`mod.rs`); its outcome goes to the page on
//! [`DROP_CHANNEL`] as one [`DropOutcome`], so skipped files are reported like the dialogs'.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tauri::{AppHandle, Emitter};
use trove_core::events::{Event, EventKind};
use trove_core::{AddReport, Engine, Item, ItemRef, QueueState};
use ts_rs::TS;

use super::commands::AppError;

pub const CHANNEL: &str = "trove://events";
/// The event carrying one [`DropOutcome`] per window drop.
pub const DROP_CHANNEL: &str = "trove://dropped";
const COALESCE: Duration = Duration::from_millis(50);
const POLL: Duration = Duration::from_millis(100);
const MAX_BATCH: u32 = 500;

/// One change, as the UI receives it (in arrays, on `trove://events`).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum EngineEvent {
    ItemAdded {
        item: Item,
    },
    /// Status/progress/error changes; the full row.
    ItemUpdated {
        item: Item,
    },
    ItemDeleted {
        id: String,
    },
    Queue {
        queue: QueueState,
    },
    /// The queue went idle after work; counts of that batch.
    BatchFinished {
        completed: u32,
        failed: u32,
    },
}

/// What a window drop added (on `trove://dropped`): the same report as the "Add" dialogs.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum DropOutcome {
    Added { report: AddReport },
    Failed { error: AppError },
}

/// Turns a slice of the event log into UI events. Repeated updates of one item within the
/// slice collapse into one (rows are read now, so the first already carries the latest
/// state); rows deleted meanwhile are dropped.
pub fn convert(
    engine: &Engine,
    log: &[Event],
    last_queue: &mut Option<QueueState>,
) -> trove_core::Result<Vec<EngineEvent>> {
    let wanted: Vec<ItemRef> = {
        let mut seen = HashSet::new();
        log.iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::Added | EventKind::Updated | EventKind::Progress
                )
            })
            .filter_map(|e| e.item)
            .filter(|r| seen.insert(*r))
            .collect()
    };
    let mut rows: HashMap<ItemRef, Item> = engine
        .items(&wanted)?
        .into_iter()
        .map(|it| (it.id, it))
        .collect();
    let mut out = Vec::new();
    let mut queue_changed = false;
    let mut status_changed = false;
    for e in log {
        match e.kind {
            EventKind::Added | EventKind::Updated | EventKind::Progress => {
                status_changed |= e.kind == EventKind::Updated;
                // `remove`: each row is sent once per slice, at its first mention.
                if let Some(item) = e.item.and_then(|r| rows.remove(&r)) {
                    out.push(if e.kind == EventKind::Added {
                        EngineEvent::ItemAdded { item }
                    } else {
                        EngineEvent::ItemUpdated { item }
                    });
                }
            }
            EventKind::Deleted => {
                if let Some(r) = e.item {
                    out.push(EngineEvent::ItemDeleted { id: r.to_string() });
                }
            }
            EventKind::Queue => queue_changed = true,
            EventKind::BatchFinished => {
                let (completed, failed) = parse_batch(e.message.as_deref().unwrap_or(""));
                out.push(EngineEvent::BatchFinished { completed, failed });
            }
        }
    }
    // The running count and the worker's database problem are not logged: refresh the
    // queue state whenever jobs changed state, and send it when the problem appears or
    // clears (checked on every poll; two setting reads).
    let q = engine.queue_state()?;
    let problem_changed = last_queue.as_ref().map(|l| &l.problem) != Some(&q.problem);
    if queue_changed || problem_changed || (status_changed && last_queue.as_ref() != Some(&q)) {
        *last_queue = Some(q.clone());
        out.push(EngineEvent::Queue { queue: q });
    }
    Ok(out)
}

/// The worker writes "3 completed, 1 failed".
fn parse_batch(msg: &str) -> (u32, u32) {
    let mut completed = 0;
    let mut failed = 0;
    for part in msg.split(',') {
        let mut w = part.split_whitespace();
        if let (Some(n), Some(what)) = (w.next().and_then(|n| n.parse().ok()), w.next()) {
            match what {
                "completed" => completed = n,
                "failed" => failed = n,
                _ => {}
            }
        }
    }
    (completed, failed)
}

/// Runs until the app exits.
pub async fn pump(app: AppHandle, engine: Arc<Engine>) {
    let mut last = {
        let e = engine.clone();
        tauri::async_runtime::spawn_blocking(move || e.last_event_seq())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(0)
    };
    let mut waker = engine.bus().waker();
    let mut last_queue: Option<QueueState> = None;
    loop {
        trove_core::events::wait_for_change(&mut waker, POLL).await;
        loop {
            let e = engine.clone();
            let mut lq = last_queue.clone();
            let res = tauri::async_runtime::spawn_blocking(move || {
                let log = e.events_since(last, MAX_BATCH)?;
                let ui = convert(&e, &log, &mut lq)?;
                Ok::<_, trove_core::Error>((log.len(), log.last().map(|l| l.seq), ui, lq))
            })
            .await;
            let (n, seq, batch, lq) = match res {
                Ok(Ok(v)) => v,
                Ok(Err(e)) => {
                    tracing::warn!("reading engine events: {e}");
                    break;
                }
                Err(e) => {
                    tracing::warn!("reading engine events crashed: {e}");
                    break;
                }
            };
            last_queue = lq;
            if let Some(seq) = seq {
                last = seq;
            }
            if !batch.is_empty() {
                for ev in &batch {
                    if let EngineEvent::BatchFinished { completed, failed } = ev {
                        super::notify_batch(&app, *completed, *failed);
                    }
                }
                if let Err(e) = app.emit(CHANNEL, &batch) {
                    tracing::warn!("emitting engine events: {e}");
                }
            }
            if n < MAX_BATCH as usize {
                break;
            }
        }
        // Coalesce bursts (progress ticks, a 1,000-file drop) into few emits.
        tokio::time::sleep(COALESCE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_message() {
        assert_eq!(parse_batch("3 completed, 1 failed"), (3, 1));
        assert_eq!(parse_batch(""), (0, 0));
    }

    #[test]
    fn events_convert_with_rows_and_collapse() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(&dir.path().join("t.db"), Default::default()).unwrap();
        let f = dir.path().join("a.txt");
        std::fs::write(&f, "hello").unwrap();
        let start = engine.last_event_seq().unwrap();
        let added = engine.add_paths(&[f]).unwrap().added;
        let id = added[0].id;
        engine.set_paused(true).unwrap();
        let log = engine.events_since(start, 100).unwrap();
        let mut lq = None;
        let ui = convert(&engine, &log, &mut lq).unwrap();
        assert!(matches!(&ui[0], EngineEvent::ItemAdded { item } if item.id == id));
        assert!(matches!(ui.last(), Some(EngineEvent::Queue { queue }) if queue.paused));
        let json = serde_json::to_value(&ui[0]).unwrap();
        assert_eq!(json["type"], "itemAdded");
        assert_eq!(json["item"]["id"], id.to_string());

        engine.delete(id).unwrap();
        let log = engine.events_since(start, 100).unwrap();
        let ui = convert(&engine, &log, &mut lq).unwrap();
        // The row is gone: the add is dropped, the delete remains.
        assert!(!ui
            .iter()
            .any(|e| matches!(e, EngineEvent::ItemAdded { .. })));
        assert!(ui
            .iter()
            .any(|e| matches!(e, EngineEvent::ItemDeleted { id: d } if *d == id.to_string())));
    }
}
