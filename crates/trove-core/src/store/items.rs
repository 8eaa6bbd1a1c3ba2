//! Reading items (both tables, one shape) and the seed's monitoring queries.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::clock::{db_ts, rfc3339};
use crate::error::{Error, Result};
use crate::model::{
    Counts, DurationBucket, FailedRow, Item, ItemKind, ItemRef, MetaField, Status, StuckRow,
};

/// Both tables as one row shape. `{w}` is replaced by a per-table filter on alias `t`.
const ITEM_SELECT: &str = "
SELECT 'f', t.id, COALESCE(t.title, t.filename), t.path, t.mime, t.size, t.status, t.processing_error, t.job_id,
       t.chunk_count, t.duplicate_of, t.uploaded_at, t.updated_at, j.progress, j.stage, j.attempts, j.max_attempts,
       t.extractor, t.missing_since, t.metadata
  FROM knowledge_files t LEFT JOIN jobs j ON j.id = t.job_id WHERE {wf}
UNION ALL
SELECT 'u', t.id, COALESCE(t.title, t.url), COALESCE(t.final_url, t.url), t.mime, t.size, t.status, t.processing_error,
       t.job_id, t.chunk_count, t.duplicate_of, t.created_at, t.updated_at, j.progress, j.stage, j.attempts, j.max_attempts,
       t.extractor, NULL, NULL
  FROM scraped_contents t LEFT JOIN jobs j ON j.id = t.job_id WHERE {wu}";

fn map_item(r: &Row<'_>) -> rusqlite::Result<Item> {
    let k: String = r.get(0)?;
    let kind = if k == "f" {
        ItemKind::File
    } else {
        ItemKind::Url
    };
    let status = Status::from_db(r.get::<_, Option<String>>(6)?.as_deref());
    let progress: Option<i64> = r.get(13)?;
    let progress = match status {
        Status::Completed => 100,
        Status::Processing => progress.unwrap_or(0).clamp(0, 100) as u8,
        _ => 0,
    };
    Ok(Item {
        id: ItemRef {
            kind,
            id: r.get(1)?,
        },
        kind,
        name: r.get(2)?,
        location: r.get(3)?,
        mime: r.get(4)?,
        size: r.get(5)?,
        status,
        progress,
        stage: if status == Status::Processing {
            r.get(14)?
        } else {
            None
        },
        error: if status == Status::Failed {
            r.get(7)?
        } else {
            None
        },
        job_id: r.get(8)?,
        attempts: r.get::<_, Option<u32>>(15)?.unwrap_or(0),
        max_attempts: r.get::<_, Option<u32>>(16)?.unwrap_or(0),
        chunk_count: r.get(9)?,
        duplicate_of: r.get(10)?,
        added_at: rfc3339(&r.get::<_, String>(11)?),
        updated_at: rfc3339(&r.get::<_, String>(12)?),
        extractor: r.get(17)?,
        missing_since: r.get::<_, Option<i64>>(18)?.map(|ms| rfc3339(&db_ts(ms))),
        metadata: r
            .get::<_, Option<String>>(19)?
            .and_then(|j| serde_json::from_str::<Vec<(String, String)>>(&j).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|(label, value)| MetaField { label, value })
            .collect(),
    })
}

fn select(wf: &str, wu: &str) -> String {
    ITEM_SELECT.replace("{wf}", wf).replace("{wu}", wu)
}

pub fn get(conn: &Connection, item: ItemRef) -> Result<Item> {
    let (wf, wu) = match item.kind {
        ItemKind::File => ("t.id = ?1", "0"),
        ItemKind::Url => ("0", "t.id = ?1"),
    };
    conn.prepare_cached(&select(wf, wu))?
        .query_row([item.id], map_item)
        .optional()?
        .ok_or_else(|| Error::NotFound(item.to_string()))
}

pub fn get_many(conn: &Connection, items: &[ItemRef]) -> Result<Vec<Item>> {
    items
        .iter()
        .filter_map(|i| match get(conn, *i) {
            Err(Error::NotFound(_)) => None,
            other => Some(other),
        })
        .collect()
}

/// Newest first, optionally one status and/or one kind.
pub fn list(
    conn: &Connection,
    status: Option<Status>,
    kind: Option<ItemKind>,
    limit: u32,
) -> Result<Vec<Item>> {
    let f = status.map_or("1", Status::sql_filter);
    let wf = if kind == Some(ItemKind::Url) { "0" } else { f };
    let wu = if kind == Some(ItemKind::File) { "0" } else { f };
    let sql = format!("{} ORDER BY 12 DESC, 2 DESC LIMIT ?1", select(wf, wu));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([limit], map_item)?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Counts by status (the seed's "Files by status"), NULL counted as completed.
pub fn counts(conn: &Connection, kind: Option<ItemKind>) -> Result<Counts> {
    let mut c = Counts::default();
    for k in [ItemKind::File, ItemKind::Url] {
        if kind.is_some_and(|x| x != k) {
            continue;
        }
        let sql = format!("SELECT status, COUNT(*) FROM {} GROUP BY status", k.table());
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (s, n) = row?;
            match Status::from_db(s.as_deref()) {
                Status::Pending => c.pending += n,
                Status::Processing => c.processing += n,
                Status::Completed => c.completed += n,
                Status::Failed => c.failed += n,
            }
            c.total += n;
        }
    }
    Ok(c)
}

/// The seed's "Failed files with errors", newest first, both tables.
pub fn failed(conn: &Connection, limit: u32) -> Result<Vec<FailedRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT 'f' || id, filename, processing_error, uploaded_at FROM knowledge_files WHERE status = 'failed'
         UNION ALL
         SELECT 'u' || id, COALESCE(title, url), processing_error, created_at FROM scraped_contents WHERE status = 'failed'
         ORDER BY 4 DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(FailedRow {
            id: r.get(0)?,
            name: r.get(1)?,
            error: r
                .get::<_, Option<String>>(2)?
                .unwrap_or_else(|| "unknown error".into()),
            added_at: rfc3339(&r.get::<_, String>(3)?),
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The seed's "Pending jobs older than 10 minutes (stuck?)", generalised to any age.
pub fn stuck(conn: &Connection, now_ms: i64, older_than_ms: i64) -> Result<Vec<StuckRow>> {
    let now = db_ts(now_ms);
    let cutoff = db_ts(now_ms - older_than_ms);
    let mut stmt = conn.prepare_cached(
        "SELECT 'f' || id, filename, uploaded_at, CAST((julianday(?1) - julianday(uploaded_at)) * 1440 AS INTEGER)
           FROM knowledge_files WHERE status = 'pending' AND uploaded_at < ?2
         UNION ALL
         SELECT 'u' || id, COALESCE(title, url), created_at, CAST((julianday(?1) - julianday(created_at)) * 1440 AS INTEGER)
           FROM scraped_contents WHERE status = 'pending' AND created_at < ?2
         ORDER BY 3",
    )?;
    let rows = stmt.query_map(params![now, cutoff], |r| {
        Ok(StuckRow {
            id: r.get(0)?,
            name: r.get(1)?,
            added_at: rfc3339(&r.get::<_, String>(2)?),
            minutes_pending: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The seed's "Processing time distribution": seconds from upload to the last update of
/// completed items → count (both tables).
pub fn distribution(conn: &Connection) -> Result<Vec<DurationBucket>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s, COUNT(*) FROM (
             SELECT CAST(ROUND((julianday(updated_at) - julianday(uploaded_at)) * 86400) AS INTEGER) AS s
               FROM knowledge_files WHERE status = 'completed'
             UNION ALL
             SELECT CAST(ROUND((julianday(updated_at) - julianday(created_at)) * 86400) AS INTEGER)
               FROM scraped_contents WHERE status = 'completed')
         GROUP BY s ORDER BY s",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(DurationBucket {
            seconds: r.get(0)?,
            count: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

// ----- writing ----------------------------------------------------------------------------

/// The id of the file item at `path`, if any.
pub fn file_by_path(conn: &Connection, path: &Path) -> Result<Option<i64>> {
    let (text, bytes) = path_columns(path);
    Ok(conn
        .prepare_cached(
            "SELECT id FROM knowledge_files WHERE path = ?1 AND path_bytes IS ?2 LIMIT 1",
        )?
        .query_row(params![text, bytes], |r| r.get(0))
        .optional()?)
}

/// How a path is stored: its text (lossy for names that are not valid UTF-8) and, only
/// for those, its exact bytes.
pub(crate) fn path_columns(path: &Path) -> (std::borrow::Cow<'_, str>, Option<&[u8]>) {
    use std::os::unix::ffi::OsStrExt;
    match path.to_str() {
        Some(s) => (s.into(), None),
        None => (path.to_string_lossy(), Some(path.as_os_str().as_bytes())),
    }
}

/// The id of the link item for `url` (normalised), if any.
pub fn url_by_address(conn: &Connection, url: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM scraped_contents WHERE url = ?1 LIMIT 1")?
        .query_row([url], |r| r.get(0))
        .optional()?)
}

/// A new pending file row; its job is enqueued by the caller in the same transaction.
pub fn insert_file(
    conn: &Connection,
    name: &str,
    path: &Path,
    mime: Option<&str>,
    size: i64,
    now_ms: i64,
) -> Result<ItemRef> {
    let (text, bytes) = path_columns(path);
    conn.prepare_cached(
        "INSERT INTO knowledge_files (filename, path, path_bytes, mime, size, status, uploaded_at, updated_at)
         VALUES (?1, ?2, ?6, ?3, ?4, 'pending', ?5, ?5)",
    )?
    .execute(params![name, text, mime, size, db_ts(now_ms), bytes])?;
    Ok(ItemRef::file(conn.last_insert_rowid()))
}

/// A new pending link row.
pub fn insert_url(
    conn: &Connection,
    url: &str,
    ignore_robots: bool,
    now_ms: i64,
) -> Result<ItemRef> {
    conn.prepare_cached(
        "INSERT INTO scraped_contents (url, status, ignore_robots, created_at, updated_at)
         VALUES (?1, 'pending', ?2, ?3, ?3)",
    )?
    .execute(params![url, ignore_robots, db_ts(now_ms)])?;
    Ok(ItemRef::url(conn.last_insert_rowid()))
}

fn ids(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<i64>> {
    Ok(conn
        .prepare(sql)?
        .query_map(p, |r| r.get::<_, i64>(0))?
        .collect::<std::result::Result<Vec<_>, _>>()?)
}

/// Every failed item of both tables.
pub fn failed_refs(conn: &Connection) -> Result<Vec<ItemRef>> {
    let mut refs = Vec::new();
    for kind in [ItemKind::File, ItemKind::Url] {
        let sql = format!("SELECT id FROM {} WHERE status = 'failed'", kind.table());
        refs.extend(
            ids(conn, &sql, [])?
                .into_iter()
                .map(|id| ItemRef { kind, id }),
        );
    }
    Ok(refs)
}

/// Links not being processed right now (completed or failed).
pub fn settled_urls(conn: &Connection) -> Result<Vec<i64>> {
    ids(
        conn,
        "SELECT id FROM scraped_contents WHERE COALESCE(status, 'completed') IN ('completed', 'failed')",
        [],
    )
}

/// Completed links last fetched before `before_ms`.
pub fn urls_fetched_before(conn: &Connection, before_ms: i64) -> Result<Vec<i64>> {
    ids(
        conn,
        "SELECT id FROM scraped_contents
          WHERE COALESCE(status, 'completed') = 'completed'
            AND COALESCE(scraped_at, created_at) < ?1",
        [db_ts(before_ms)],
    )
}

/// Delete an item's row with its text and chunks (vectors stay in the cache, keyed by text).
pub fn delete(conn: &Connection, item: ItemRef) -> Result<()> {
    let key = item.to_string();
    conn.execute("DELETE FROM chunks WHERE item = ?1", [&key])?;
    conn.execute("DELETE FROM documents WHERE item = ?1", [&key])?;
    conn.execute(
        &format!("DELETE FROM {} WHERE id = ?1", item.kind.table()),
        [item.id],
    )?;
    Ok(())
}

/// Items recorded as duplicates of `original`, unmarked (they become originals again).
pub fn take_duplicates_of(conn: &Connection, original: ItemRef) -> Result<Vec<ItemRef>> {
    let key = original.to_string();
    let mut out = Vec::new();
    for kind in [ItemKind::File, ItemKind::Url] {
        let sql = format!("SELECT id FROM {} WHERE duplicate_of = ?1", kind.table());
        for id in ids(conn, &sql, [&key])? {
            conn.execute(
                &format!(
                    "UPDATE {} SET duplicate_of = NULL WHERE id = ?1",
                    kind.table()
                ),
                [id],
            )?;
            out.push(ItemRef { kind, id });
        }
    }
    Ok(out)
}

/// Where a file item lives and its name.
/// The path to open (exact bytes when the name is not UTF-8) and the file's name.
pub fn file_source(conn: &Connection, id: i64) -> Result<(PathBuf, String)> {
    use std::os::unix::ffi::OsStringExt;
    Ok(conn.query_row(
        "SELECT path, path_bytes, filename FROM knowledge_files WHERE id = ?1",
        [id],
        |r| {
            let exact: Option<Vec<u8>> = r.get(1)?;
            let path = match exact {
                Some(b) => PathBuf::from(std::ffi::OsString::from_vec(b)),
                None => PathBuf::from(r.get::<_, String>(0)?),
            };
            Ok((path, r.get(2)?))
        },
    )?)
}

/// What a link job needs to fetch conditionally.
pub struct UrlSource {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub ignore_robots: bool,
    pub sha256: Option<String>,
    pub chunk_count: i64,
}

pub fn url_source(conn: &Connection, id: i64) -> Result<UrlSource> {
    Ok(conn.query_row(
        "SELECT url, etag, last_modified, ignore_robots, sha256, chunk_count FROM scraped_contents WHERE id = ?1",
        [id],
        |r| {
            Ok(UrlSource {
                url: r.get(0)?,
                etag: r.get(1)?,
                last_modified: r.get(2)?,
                ignore_robots: r.get(3)?,
                sha256: r.get(4)?,
                chunk_count: r.get(5)?,
            })
        },
    )?)
}

/// The oldest completed original (not itself a duplicate) with these bytes, other than `me`.
pub fn find_duplicate(conn: &Connection, sha: &str, me: ItemRef) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT r FROM (
                 SELECT 'f' || id AS r, uploaded_at AS t FROM knowledge_files
                  WHERE sha256 = ?1 AND status = 'completed' AND duplicate_of IS NULL
                 UNION ALL
                 SELECT 'u' || id, created_at FROM scraped_contents
                  WHERE sha256 = ?1 AND status = 'completed' AND duplicate_of IS NULL)
             WHERE r != ?2 ORDER BY t LIMIT 1",
            params![sha, me.to_string()],
            |r| r.get(0),
        )
        .optional()?)
}
