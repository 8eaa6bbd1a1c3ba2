//! The store: every SQL string of trove-core lives under this module (migrations aside,
//! which are SQL files). One module per table or concern; each is free functions over a
//! `&Connection` / `&Transaction`, called through the [`Store`]'s handles:
//!
//! * [`Store::read`]: a pooled connection, no transaction, wakes nobody.
//! * [`Store::write`]: one IMMEDIATE transaction; on commit, subscribers are woken.
//! * [`Store::write_conn`]: a connection for operations that run their own transactions
//!   (the queue's claim/complete/fail), subscribers woken afterwards.
//! * [`Store::write_quiet`]: a write nobody needs to hear about (a lease renewal).

pub mod content;
pub mod crawl;
pub mod events;
pub mod folders;
pub mod items;
pub mod jobs;
pub mod migrate;
pub mod pool;
pub mod scope;
pub mod settings;
pub mod vectors;

use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::clock::Clock;
use crate::error::Result;
use events::Bus;
use pool::Pool;

/// One database file: its connection pool, its clock and the bus that wakes this process's
/// subscribers after a write.
pub struct Store {
    pool: Pool,
    clock: Arc<dyn Clock>,
    bus: Bus,
}

impl Store {
    /// Open (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self> {
        Ok(Self {
            pool: Pool::open(path)?,
            clock,
            bus: Bus::default(),
        })
    }

    pub fn path(&self) -> &Path {
        self.pool.path()
    }
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Read through a pooled connection.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.pool.with(|c| f(c))
    }

    /// Run `f` in one IMMEDIATE transaction (given the time it started), commit, then wake
    /// event subscribers.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>, i64) -> Result<T>) -> Result<T> {
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

    /// A connection for an operation that manages its own transaction; subscribers are
    /// woken afterwards (whether or not it succeeded: it may have written something).
    pub fn write_conn<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let out = self.pool.with(f);
        self.bus.poke();
        out
    }

    /// A single-statement write that no subscriber needs to see (lease renewal).
    pub fn write_quiet<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.pool.with(|c| f(c))
    }
}

/// Hex of the SHA-256 of `bytes`: the digest stored as an item's `sha256` and a chunk's
/// `text_hash` (processing records it; a folder scan compares against it to recognise a
/// moved file).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
