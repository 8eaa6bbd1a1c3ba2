//! The `settings` table: small key/value pairs shared by every process on the database
//! (queue paused, concurrency, link refresh interval, crawl options).

use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;

pub const PAUSED: &str = "queue.paused";
pub const CONCURRENCY: &str = "queue.concurrency";
pub const REFRESH_EVERY: &str = "scrape.refresh_every_ms";
/// `on`: a watched folder's deleted file keeps its item, marked missing.
pub const KEEP_MISSING: &str = "folders.keep_missing";
/// `off`: folders dropped on the window or picked are added once, not watched.
pub const FOLDER_SYNC: &str = "folders.sync";

pub fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

pub fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

pub fn remove(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM settings WHERE key = ?1", [key])?;
    Ok(())
}
