//! Changing what is in the library: retry, refresh links, delete.

use crate::error::{Error, Result};
use crate::model::{Item, ItemRef, Status};
use crate::store::events::{self, EventKind, NewEvent};
use crate::store::{items, jobs, Store};

/// Process an item again with a new job id and a fresh attempt budget.
pub fn retry(store: &Store, item: ItemRef, max_attempts: u32) -> Result<Item> {
    store.write(|tx, now| {
        let it = items::get(tx, item)?;
        if it.status == Status::Processing {
            return Err(Error::Conflict(format!(
                "{item} is being processed right now"
            )));
        }
        jobs::retry_item(tx, item, max_attempts, now)?;
        items::get(tx, item)
    })
}

/// Retry every failed item. Returns how many.
pub fn retry_all_failed(store: &Store, max_attempts: u32) -> Result<usize> {
    store.write(|tx, now| {
        let refs = items::failed_refs(tx)?;
        for r in &refs {
            jobs::retry_item(tx, *r, max_attempts, now)?;
        }
        Ok(refs.len())
    })
}

/// Fetch every link again (those not being processed right now). Pages that did not
/// change (304, or the same content hash) keep their chunks and vectors; only
/// `scraped_at` moves. Returns how many were queued.
pub fn refresh_all_urls(store: &Store, max_attempts: u32) -> Result<usize> {
    store.write(|tx, now| {
        let ids = items::settled_urls(tx)?;
        for id in &ids {
            jobs::retry_item(tx, ItemRef::url(*id), max_attempts, now)?;
        }
        Ok(ids.len())
    })
}

/// Queue a refresh of every completed link last fetched longer ago than the refresh
/// setting (the worker calls this on its periodic sweep). Returns how many.
pub fn refresh_due(store: &Store, max_attempts: u32) -> Result<usize> {
    let Some(every) = super::settings::refresh_every(store)? else {
        return Ok(0);
    };
    store.write(|tx, now| {
        let ids = items::urls_fetched_before(tx, now - every.as_millis() as i64)?;
        for id in &ids {
            jobs::retry_item(tx, ItemRef::url(*id), max_attempts, now)?;
        }
        Ok(ids.len())
    })
}

/// Delete an item, its chunks and text, and cancel its job. Items that were recognised
/// as duplicates of it are processed again (one of them becomes the original).
pub fn delete(store: &Store, item: ItemRef, max_attempts: u32) -> Result<()> {
    store.write(|tx, now| delete_in(tx, item, max_attempts, now))
}

/// [`delete`] inside the caller's transaction.
pub(crate) fn delete_in(
    tx: &rusqlite::Transaction<'_>,
    item: ItemRef,
    max_attempts: u32,
    now: i64,
) -> Result<()> {
    {
        items::get(tx, item)?;
        jobs::cancel_for_item(tx, item, now)?;
        items::delete(tx, item)?;
        events::record(
            tx,
            now,
            EventKind::Deleted,
            NewEvent {
                item: Some(item),
                ..Default::default()
            },
        )?;
        for dup in items::take_duplicates_of(tx, item)? {
            jobs::retry_item(tx, dup, max_attempts, now)?;
        }
        Ok(())
    }
}
