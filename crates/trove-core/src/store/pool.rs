//! Opening the database: one place that sets the pragmas, in the order that matters.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::migrate;
use crate::error::{Error, Result};

/// Open (creating if needed) a connection with Trove's pragmas, without migrating.
pub fn open_raw(path: &Path) -> Result<Connection> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("cannot create the data directory {}: {e}", parent.display()),
                ))
            })?;
        }
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    Ok(conn)
}

/// The pragmas every connection gets. Order matters: busy_timeout first, so that even
/// switching to WAL waits for a concurrent writer instead of failing with SQLITE_BUSY.
fn configure(conn: &Connection) -> Result<()> {
    // Wait up to 10 s for another connection's write lock instead of failing at once.
    conn.busy_timeout(Duration::from_secs(10))?;
    // Write-ahead log: readers never block the writer and the writer never blocks readers.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // In WAL mode NORMAL is durable against application crashes (kill -9); only a power
    // loss may roll back the last transactions, never corrupt the file.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Enforce REFERENCES clauses.
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Keep temporary b-trees (sorting, GROUP BY) in memory.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// Open the database and bring its schema to the latest version this build knows.
/// Refuses a database written by a newer Trove.
pub fn open(path: &Path) -> Result<Connection> {
    let mut conn = open_raw(path)?;
    // SQLite quietly opens a file it may not write read-only, and a write-ahead log or
    // shared-memory file left behind by another user makes every write fail too: take the
    // write lock once to find out now rather than at the first job.
    let probe = conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;");
    let read_only = matches!(
        &probe,
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ReadOnly
    );
    if read_only || conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "the database {} can be read but not written",
                path.display()
            ),
        )));
    }
    migrate::up(&mut conn, None)?;
    Ok(conn)
}

/// A small pool of connections to one database file: SQLite connections are not `Sync`,
/// and opening one per operation costs more than the operation.
pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    /// Open the database (migrating it to the latest version) and keep the connection.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = open(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![conn]),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` with a connection from the pool.
    pub fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match taken {
            Some(c) => c,
            None => open_raw(&self.path)?,
        };
        let out = f(&mut conn);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < 8 {
            idle.push(conn);
        }
        out
    }
}
