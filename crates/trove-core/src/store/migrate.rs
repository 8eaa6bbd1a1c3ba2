//! Versioned up/down migrations, embedded in the binary from `migrations/`.
//!
//! Each migration runs in its own IMMEDIATE transaction together with its bookkeeping
//! (`schema_migrations` row and `PRAGMA user_version`), so a crash leaves the database at
//! a whole version. A database whose version is newer than this build knows is refused.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use crate::error::{Error, Result};

pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub up: &'static str,
    pub down: &'static str,
    /// A data step SQL cannot do well, run after `up` in the same transaction.
    pub then: Option<fn(&Connection) -> rusqlite::Result<()>>,
}

macro_rules! migration {
    ($v:expr, $name:literal) => {
        migration!($v, $name, None)
    };
    ($v:expr, $name:literal, $then:expr) => {
        Migration {
            version: $v,
            name: $name,
            up: include_str!(concat!("../../../../migrations/", $name, ".up.sql")),
            down: include_str!(concat!("../../../../migrations/", $name, ".down.sql")),
            then: $then,
        }
    };
}

pub static MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_initial"),
    migration!(2, "0002_status_fields"),
    migration!(3, "0003_jobs"),
    migration!(4, "0004_content"),
    migration!(5, "0005_embeddings"),
    migration!(6, "0006_fts_bulk"),
    migration!(7, "0007_path_bytes"),
    migration!(8, "0008_pages", Some(backfill_pages)),
    migration!(9, "0009_folders"),
    migration!(10, "0010_missing"),
    migration!(11, "0011_file_title"),
    migration!(12, "0012_stemmed_fts"),
    migration!(13, "0013_file_metadata"),
    migration!(14, "0014_windows"),
];

/// Pages of the PDF chunks indexed before version 8: one pass over each document's text
/// (SQL would rescan the text for every chunk).
fn backfill_pages(conn: &Connection) -> rusqlite::Result<()> {
    let mut docs = conn.prepare(
        "SELECT d.item, d.text FROM documents d
          WHERE d.item IN (SELECT 'f' || id FROM knowledge_files WHERE mime = 'application/pdf'
                           UNION ALL
                           SELECT 'u' || id FROM scraped_contents
                            WHERE mime LIKE 'application/pdf%')",
    )?;
    let mut chunks = conn.prepare("SELECT id, start, end FROM chunks WHERE item = ?1")?;
    let mut set = conn.prepare("UPDATE chunks SET page_start = ?2, page_end = ?3 WHERE id = ?1")?;
    let mut rows = docs.query([])?;
    while let Some(row) = rows.next()? {
        let item: String = row.get(0)?;
        let text: String = row.get(1)?;
        let found: Vec<(i64, std::ops::Range<usize>)> = chunks
            .query_map([&item], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as usize..r.get::<_, i64>(2)? as usize,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let valid = |r: &std::ops::Range<usize>| {
            r.start <= r.end
                && r.end <= text.len()
                && text.is_char_boundary(r.start)
                && text.is_char_boundary(r.end)
        };
        let (ids, ranges): (Vec<i64>, Vec<_>) = found.into_iter().filter(|(_, r)| valid(r)).unzip();
        for (id, (a, b)) in ids.iter().zip(crate::chunk::page_spans(&text, &ranges)) {
            set.execute(rusqlite::params![id, a, b])?;
        }
    }
    Ok(())
}

/// The newest schema version this build knows.
pub fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationState {
    pub version: u32,
    pub name: &'static str,
    pub applied_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub current: u32,
    pub latest: u32,
    pub migrations: Vec<MigrationState>,
}

fn ensure_bookkeeping(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
         );",
    )?;
    Ok(())
}

/// The schema version recorded in the file (`PRAGMA user_version`).
pub fn current(conn: &Connection) -> Result<u32> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(u32::try_from(v).unwrap_or(0))
}

fn refuse_newer(conn: &Connection) -> Result<u32> {
    let cur = current(conn)?;
    if cur > latest() {
        return Err(Error::NewerSchema {
            found: cur,
            known: latest(),
        });
    }
    Ok(cur)
}

pub fn status(conn: &Connection) -> Result<Status> {
    let cur = current(conn)?;
    let has_table: bool = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'",
            [],
            |_| Ok(true),
        )
        .optional()?
        .unwrap_or(false);
    let mut migrations = Vec::new();
    for m in MIGRATIONS {
        let applied_at = if has_table && m.version <= cur {
            conn.query_row(
                "SELECT applied_at FROM schema_migrations WHERE version = ?1",
                [m.version],
                |r| r.get(0),
            )
            .optional()?
        } else {
            None
        };
        migrations.push(MigrationState {
            version: m.version,
            name: m.name,
            applied_at,
        });
    }
    Ok(Status {
        current: cur,
        latest: latest(),
        migrations,
    })
}

/// Apply migrations up to `to` (default: latest). Returns the versions applied.
pub fn up(conn: &mut Connection, to: Option<u32>) -> Result<Vec<u32>> {
    let cur = refuse_newer(conn)?;
    let target = to.unwrap_or_else(latest);
    if target > latest() {
        return Err(Error::Invalid(format!(
            "there is no migration {target}; the latest is {}",
            latest()
        )));
    }
    let mut applied = Vec::new();
    if cur >= target {
        return Ok(applied);
    }
    ensure_bookkeeping(conn)?;
    for m in MIGRATIONS
        .iter()
        .filter(|m| m.version > cur && m.version <= target)
    {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Re-check inside the write lock: another process may have migrated meanwhile.
        let now = current(&tx)?;
        if now >= m.version {
            continue;
        }
        tx.execute_batch(m.up)
            .and_then(|()| m.then.map_or(Ok(()), |then| then(&tx)))
            .map_err(|e| Error::Migration {
                version: m.version,
                name: m.name,
                source: e,
            })?;
        tx.execute(
            "INSERT OR REPLACE INTO schema_migrations (version, name) VALUES (?1, ?2)",
            (m.version, m.name),
        )?;
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
        applied.push(m.version);
    }
    Ok(applied)
}

/// A complete copy of the database next to it (`VACUUM INTO`: consistent even while
/// others write), named with its schema version and the time:
/// `trove.db.backup-v7-20261203-101500.db`. Returns its path. Taken before a rollback,
/// which drops columns and tables.
pub fn backup(conn: &Connection, db_path: &std::path::Path) -> Result<std::path::PathBuf> {
    let version = current(conn)?;
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_default();
    let name = db_path
        .file_name()
        .map_or_else(|| "trove.db".into(), |n| n.to_string_lossy().into_owned());
    let mut target = db_path.with_file_name(format!("{name}.backup-v{version}-{stamp}.db"));
    let mut n = 1;
    while target.exists() {
        n += 1;
        target = db_path.with_file_name(format!("{name}.backup-v{version}-{stamp}-{n}.db"));
    }
    let target_s = target
        .to_str()
        .ok_or_else(|| Error::Invalid(format!("cannot back up to {}", target.display())))?;
    conn.execute("VACUUM INTO ?1", [target_s])?;
    Ok(target)
}

/// Roll back down to version `to` (default: one step). Returns the versions rolled back.
pub fn down(conn: &mut Connection, to: Option<u32>) -> Result<Vec<u32>> {
    let cur = refuse_newer(conn)?;
    let target = to.unwrap_or(cur.saturating_sub(1));
    let mut rolled = Vec::new();
    if target >= cur {
        return Ok(rolled);
    }
    ensure_bookkeeping(conn)?;
    for m in MIGRATIONS
        .iter()
        .rev()
        .filter(|m| m.version <= cur && m.version > target)
    {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if current(&tx)? != m.version {
            continue;
        }
        tx.execute_batch(m.down).map_err(|e| Error::Migration {
            version: m.version,
            name: m.name,
            source: e,
        })?;
        tx.execute(
            "DELETE FROM schema_migrations WHERE version = ?1",
            [m.version],
        )?;
        tx.pragma_update(None, "user_version", m.version - 1)?;
        tx.commit()?;
        rolled.push(m.version);
    }
    Ok(rolled)
}
