//! Watched folders (migration 0009) and the files each one holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::clock::{db_ts, rfc3339};
use crate::error::{Error, Result};
use crate::model::Folder;

const SELECT: &str = "SELECT id, path, path_bytes, include_globs, exclude_globs, watching, state,
        message, (SELECT COUNT(*) FROM knowledge_files k WHERE k.folder_id = f.id), skipped,
        last_scan_at, last_scan_ms FROM watched_folders f";

/// A folder row, with its exact path.
pub struct FolderRow {
    pub folder: Folder,
    pub root: PathBuf,
}

fn map(r: &Row<'_>) -> rusqlite::Result<FolderRow> {
    let root = path_of(r.get(1)?, r.get(2)?);
    let list = |s: String| serde_json::from_str::<Vec<String>>(&s).unwrap_or_default();
    let last_scan: Option<i64> = r.get(10)?;
    Ok(FolderRow {
        folder: Folder {
            id: r.get(0)?,
            path: r.get(1)?,
            include: list(r.get(3)?),
            exclude: list(r.get(4)?),
            watching: r.get::<_, i64>(5)? != 0,
            state: r.get(6)?,
            message: r.get(7)?,
            files: r.get(8)?,
            skipped: serde_json::from_str::<BTreeMap<String, u64>>(&r.get::<_, String>(9)?)
                .unwrap_or_default(),
            last_scan: last_scan.map(|ms| rfc3339(&db_ts(ms))),
            last_scan_ms: r.get(11)?,
        },
        root,
    })
}

fn path_of(text: String, bytes: Option<Vec<u8>>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    match bytes {
        Some(b) => PathBuf::from(std::ffi::OsString::from_vec(b)),
        None => PathBuf::from(text),
    }
}

pub fn list(conn: &Connection) -> Result<Vec<FolderRow>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} ORDER BY f.id"))?;
    let rows = stmt.query_map([], map)?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<FolderRow> {
    conn.prepare_cached(&format!("{SELECT} WHERE f.id = ?1"))?
        .query_row([id], map)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no watched folder {id}")))
}

/// The folder whose root is exactly `root`, if any.
pub fn by_root(conn: &Connection, root: &Path) -> Result<Option<i64>> {
    let (text, bytes) = super::items::path_columns(root);
    Ok(conn
        .prepare_cached(
            "SELECT id FROM watched_folders WHERE path = ?1 AND COALESCE(path_bytes, x'') = COALESCE(?2, x'')",
        )?
        .query_row(params![text, bytes], |r| r.get(0))
        .optional()?)
}

pub fn insert(
    conn: &Connection,
    root: &Path,
    include: &[String],
    exclude: &[String],
    now_ms: i64,
) -> Result<i64> {
    let (text, bytes) = super::items::path_columns(root);
    conn.execute(
        "INSERT INTO watched_folders (path, path_bytes, include_globs, exclude_globs, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            text,
            bytes,
            serde_json::to_string(include).unwrap_or_else(|_| "[]".into()),
            serde_json::to_string(exclude).unwrap_or_else(|_| "[]".into()),
            now_ms
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn delete(conn: &Connection, id: i64) -> Result<()> {
    conn.execute(
        "UPDATE knowledge_files SET folder_id = NULL WHERE folder_id = ?1",
        [id],
    )?;
    conn.execute("DELETE FROM watched_folders WHERE id = ?1", [id])?;
    Ok(())
}

/// New include/exclude globs (checked by the caller).
pub fn set_rules(conn: &Connection, id: i64, include: &[String], exclude: &[String]) -> Result<()> {
    let n = conn.execute(
        "UPDATE watched_folders SET include_globs = ?2, exclude_globs = ?3 WHERE id = ?1",
        params![
            id,
            serde_json::to_string(include).unwrap_or_else(|_| "[]".into()),
            serde_json::to_string(exclude).unwrap_or_else(|_| "[]".into())
        ],
    )?;
    if n == 0 {
        return Err(Error::NotFound(format!("no watched folder {id}")));
    }
    Ok(())
}

pub fn set_watching(conn: &Connection, id: i64, watching: bool) -> Result<()> {
    let n = conn.execute(
        "UPDATE watched_folders SET watching = ?2 WHERE id = ?1",
        params![id, watching as i64],
    )?;
    if n == 0 {
        return Err(Error::NotFound(format!("no watched folder {id}")));
    }
    Ok(())
}

/// `ok`, `unavailable` or `polling`, and why.
pub fn set_state(conn: &Connection, id: i64, state: &str, message: Option<&str>) -> Result<()> {
    conn.execute(
        "UPDATE watched_folders SET state = ?2, message = ?3 WHERE id = ?1",
        params![id, state, message],
    )?;
    Ok(())
}

pub fn record_scan(
    conn: &Connection,
    id: i64,
    skipped: &BTreeMap<String, u64>,
    message: Option<&str>,
    took_ms: i64,
    now_ms: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE watched_folders SET skipped = ?2, last_scan_at = ?4, last_scan_ms = ?5,
                message = CASE WHEN state = 'polling' THEN message ELSE ?3 END,
                state = CASE WHEN state = 'unavailable' THEN 'ok' ELSE state END
          WHERE id = ?1",
        params![
            id,
            serde_json::to_string(skipped).unwrap_or_else(|_| "{}".into()),
            message,
            now_ms,
            took_ms
        ],
    )?;
    Ok(())
}

/// A file of a folder as the last scan saw it.
pub struct FolderFile {
    pub id: i64,
    pub path: PathBuf,
    pub size: Option<i64>,
    pub mtime_ms: Option<i64>,
    pub sha256: Option<String>,
    pub processing: bool,
    /// Gone from disk and kept (the keep-missing setting).
    pub missing: bool,
}

pub fn files(conn: &Connection, folder: i64) -> Result<Vec<FolderFile>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, path, path_bytes, size, mtime_ms, sha256, status, missing_since IS NOT NULL
           FROM knowledge_files WHERE folder_id = ?1",
    )?;
    let rows = stmt.query_map([folder], |r| {
        Ok(FolderFile {
            id: r.get(0)?,
            path: path_of(r.get(1)?, r.get(2)?),
            size: r.get(3)?,
            mtime_ms: r.get(4)?,
            sha256: r.get(5)?,
            processing: r.get::<_, Option<String>>(6)?.as_deref() == Some("processing"),
            missing: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The size and time last recorded for a file item.
pub fn file_version(conn: &Connection, item: i64) -> Result<(Option<i64>, Option<i64>)> {
    Ok(conn.query_row(
        "SELECT size, mtime_ms FROM knowledge_files WHERE id = ?1",
        [item],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// The version of a file a scan saw (and, for a new or adopted file, its folder). A file a
/// scan sees is not missing.
pub fn set_file_version(
    conn: &Connection,
    item: i64,
    folder: i64,
    size: i64,
    mtime_ms: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE knowledge_files SET folder_id = ?2, size = ?3, mtime_ms = ?4, missing_since = NULL
          WHERE id = ?1",
    )?
    .execute(params![item, folder, size, mtime_ms])?;
    Ok(())
}

/// A file moved inside its folder: the same item under its new path and name.
pub fn move_file(conn: &Connection, item: i64, to: &Path, name: &str, mtime_ms: i64) -> Result<()> {
    let (text, bytes) = super::items::path_columns(to);
    conn.prepare_cached(
        "UPDATE knowledge_files SET path = ?2, path_bytes = ?3, filename = ?4, mtime_ms = ?5,
                missing_since = NULL WHERE id = ?1",
    )?
    .execute(params![item, text, bytes, name, mtime_ms])?;
    Ok(())
}

/// A file gone from disk whose item is kept: missing since `now_ms`.
pub fn set_missing(conn: &Connection, item: i64, now_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE knowledge_files SET missing_since = ?2 WHERE id = ?1 AND missing_since IS NULL",
    )?
    .execute(params![item, now_ms])?;
    Ok(())
}
