//! Same-site crawls. A crawl starts from one link with a depth and a page budget; every page
//! is its own `scraped_contents` row (`crawl_root` = the start row, `crawl_depth` = clicks
//! from it). When a crawled page's job completes, the links found on it are added — in
//! scope, normalised, de-duplicated against everything already in the library, within the
//! budget — in the same transaction that stores the page, so a crash never half-adds them.

use rusqlite::{params, OptionalExtension, Transaction};

use super::events::{self, EventKind, NewEvent};
use super::jobs as queue;
use crate::url::normalize_url;
use crate::{CrawlOptions, ItemRef, Result, Status};

fn key(root: i64) -> String {
    format!("crawl:{root}")
}

/// Mark `root` (just inserted) as the start of a crawl.
pub fn start(tx: &Transaction<'_>, root: i64, opts: &CrawlOptions) -> Result<()> {
    tx.execute(
        "UPDATE scraped_contents SET crawl_root = ?1, crawl_depth = 0 WHERE id = ?1",
        [root],
    )?;
    tx.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![
            key(root),
            serde_json::to_string(opts).expect("plain struct")
        ],
    )?;
    Ok(())
}

/// The crawl a page belongs to, if its links should be followed: (start URL, stay under
/// the start's folder). None when the page is not part of a crawl or is at the depth limit.
/// Which links are on the same site is the fetcher's call (`FetchRequest::crawl_scope`).
pub fn scope_for(conn: &rusqlite::Connection, item: i64) -> Result<Option<(String, bool)>> {
    let Some((root, depth, opts)) = crawl_of(conn, item)? else {
        return Ok(None);
    };
    if depth >= i64::from(opts.max_depth) {
        return Ok(None);
    }
    let start: Option<String> = conn
        .query_row(
            "SELECT url FROM scraped_contents WHERE id = ?1",
            [root],
            |r| r.get(0),
        )
        .optional()?;
    Ok(start.map(|s| (s, opts.same_prefix)))
}

/// (root, depth, options) of a page that is part of a crawl.
fn crawl_of(conn: &rusqlite::Connection, item: i64) -> Result<Option<(i64, i64, CrawlOptions)>> {
    let row: Option<(Option<i64>, Option<i64>)> = conn
        .query_row(
            "SELECT crawl_root, crawl_depth FROM scraped_contents WHERE id = ?1",
            [item],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((Some(root), Some(depth))) = row else {
        return Ok(None);
    };
    let opts: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [key(root)],
            |r| r.get(0),
        )
        .optional()?;
    Ok(opts
        .and_then(|o| serde_json::from_str::<CrawlOptions>(&o).ok())
        .map(|o| (root, depth, o)))
}

/// Add the links of page `item` (part of a crawl; the fetcher kept only those in scope) as
/// new pages, within the depth and page budget. Returns how many.
pub fn discover(tx: &Transaction<'_>, item: i64, links: &[String], now: i64) -> Result<usize> {
    let Some((root, depth, opts)) = crawl_of(tx, item)? else {
        return Ok(0);
    };
    if depth >= i64::from(opts.max_depth) {
        return Ok(0);
    }
    let ignore_robots: bool = tx.query_row(
        "SELECT ignore_robots FROM scraped_contents WHERE id = ?1",
        [item],
        |r| r.get(0),
    )?;
    let mut pages: i64 = tx.query_row(
        "SELECT COUNT(*) FROM scraped_contents WHERE crawl_root = ?1",
        [root],
        |r| r.get(0),
    )?;
    let mut added = 0;
    let ts = crate::clock::db_ts(now);
    for link in links {
        if pages >= i64::from(opts.max_pages) {
            break;
        }
        let Ok(norm) = normalize_url(link) else {
            continue;
        };
        let exists = tx
            .prepare_cached(
                "SELECT 1 FROM scraped_contents WHERE url = ?1 OR final_url = ?1 LIMIT 1",
            )?
            .exists([&norm])?;
        if exists {
            continue;
        }
        tx.prepare_cached(
            "INSERT INTO scraped_contents (url, status, ignore_robots, crawl_root, crawl_depth, created_at, updated_at)
             VALUES (?1, 'pending', ?2, ?3, ?4, ?5, ?5)",
        )?
        .execute(params![norm, ignore_robots, root, depth + 1, ts])?;
        let new = ItemRef::url(tx.last_insert_rowid());
        let max_attempts: u32 = tx.query_row(
            "SELECT max_attempts FROM jobs WHERE item_table = 'scraped_contents' AND item_id = ?1
             ORDER BY created_at DESC LIMIT 1",
            [item],
            |r| r.get(0),
        )?;
        queue::enqueue(tx, new, max_attempts, now)?;
        events::record(
            tx,
            now,
            EventKind::Added,
            NewEvent {
                item: Some(new),
                status: Some(Status::Pending),
                ..Default::default()
            },
        )?;
        pages += 1;
        added += 1;
    }
    Ok(added)
}
