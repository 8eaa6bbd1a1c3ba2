//! Queue settings kept in the database, so every process on it (the app, `trove work`)
//! follows the same ones: paused, concurrency, link refresh interval.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::{CONCURRENCY_MAX, CONCURRENCY_MIN};
use crate::store::events::{self, EventKind, NewEvent};
use crate::store::{settings as keys, Store};

fn get(store: &Store, key: &str) -> Result<Option<String>> {
    store.read(|c| keys::get(c, key))
}

fn set(store: &Store, key: &str, value: &str) -> Result<()> {
    store.write(|tx, now| {
        keys::set(tx, key, value)?;
        events::record(tx, now, EventKind::Queue, NewEvent::default())
    })
}

/// A setting kept for the layers above the engine (scraping, OCR…): the raw stored text.
pub fn setting(store: &Store, key: &str) -> Result<Option<String>> {
    get(store, key)
}

/// Store a setting for the layers above (`None` removes it: back to its default).
pub fn set_setting(store: &Store, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) => set(store, key, v),
        None => store.write(|tx, now| {
            keys::remove(tx, key)?;
            events::record(tx, now, EventKind::Queue, NewEvent::default())
        }),
    }
}

pub fn paused(store: &Store) -> Result<bool> {
    Ok(get(store, keys::PAUSED)?.as_deref() == Some("1"))
}

pub fn set_paused(store: &Store, paused: bool) -> Result<()> {
    set(store, keys::PAUSED, if paused { "1" } else { "0" })
}

/// The concurrency setting, or `default` when none is stored; always within the limits.
pub fn concurrency(store: &Store, default: u32) -> Result<u32> {
    Ok(get(store, keys::CONCURRENCY)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .clamp(CONCURRENCY_MIN, CONCURRENCY_MAX))
}

pub fn set_concurrency(store: &Store, n: u32) -> Result<()> {
    if !(CONCURRENCY_MIN..=CONCURRENCY_MAX).contains(&n) {
        return Err(Error::Invalid(format!(
            "concurrency must be between {CONCURRENCY_MIN} and {CONCURRENCY_MAX} (got {n})"
        )));
    }
    set(store, keys::CONCURRENCY, &n.to_string())
}

/// How often completed links are fetched again by the worker (None: never).
pub fn refresh_every(store: &Store) -> Result<Option<Duration>> {
    Ok(get(store, keys::REFRESH_EVERY)?
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis))
}

pub fn set_refresh_every(store: &Store, every: Option<Duration>) -> Result<()> {
    let ms = every.map_or(0, |d| d.as_millis() as u64);
    if ms != 0 && ms < 60_000 {
        return Err(Error::Invalid(
            "refreshing links more often than once a minute is not allowed".into(),
        ));
    }
    set(store, keys::REFRESH_EVERY, &ms.to_string())
}
