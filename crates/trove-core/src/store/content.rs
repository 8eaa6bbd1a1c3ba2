//! Documents, chunks and their FTS5 index: what a finished job writes (in its completing
//! transaction, replacing an item's chunks all at once so a job that runs twice never
//! duplicates them) and what keyword search and "open this passage" read.

use std::ops::Range;

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::clock::db_ts;
use crate::error::Result;
use crate::model::{ItemKind, ItemRef};

/// What a successful run writes.
#[derive(Default)]
pub struct Outcome {
    pub mime: Option<String>,
    pub kind_label: Option<String>,
    pub sha256: Option<String>,
    pub size: Option<i64>,
    /// Replace the item's text and chunks (None: keep what is indexed).
    pub content: Option<Content>,
    /// The item has the same bytes as this (earlier) item: it keeps no chunks of its own.
    pub duplicate_of: Option<String>,
    pub page: Option<PageMeta>,
    /// Which reader produced the text, and what it could not read (PDF).
    pub extractor: Option<String>,
    /// A file's own title, shown as its name (an email's subject); written with `content`.
    pub title: Option<String>,
    /// What the format says about the file (an email's From, To, Date); written with
    /// `content`.
    pub metadata: Vec<(String, String)>,
}

/// Newly computed vectors: model id, dimensions, and per chunk text hash its vectors (its
/// own, then its windows').
pub struct Vectors {
    pub model: String,
    pub dims: usize,
    pub vectors: Vec<(String, Vec<Vec<f32>>)>,
}

impl Vectors {
    /// Into the embedding cache (`embeddings`, keyed by text hash), where any item with
    /// the same passage finds them.
    pub fn store(&self, conn: &Connection, now_ms: i64) -> Result<()> {
        super::vectors::insert(
            conn,
            &self.model,
            self.dims,
            self.vectors.iter().map(|(h, v)| (h.as_str(), v.as_slice())),
            now_ms,
        )
    }
}

/// An item's extracted text cut into chunks.
pub struct Content {
    pub text: String,
    pub ranges: Vec<Range<usize>>,
    pub hashes: Vec<String>,
    /// First and last page of each chunk (paged documents: PDF).
    pub pages: Option<Vec<(u32, u32)>>,
    /// Vectors to add to the cache.
    pub vectors: Option<Vectors>,
}

/// What a fetch learnt about a link.
pub struct PageMeta {
    pub final_url: String,
    pub title: Option<String>,
    pub http_status: Option<u16>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Links found on the page (absolute http(s)), for crawls.
    pub links: Vec<String>,
}

/// Write a run's outcome for `item` (inside the queue's completing transaction).
pub fn store_outcome(tx: &Transaction<'_>, item: ItemRef, o: Outcome, now: i64) -> Result<()> {
    let key = item.to_string();
    let table = item.kind.table();
    tx.execute(
        &format!(
            "UPDATE {table} SET mime = COALESCE(?2, mime), sha256 = COALESCE(?3, sha256), size = COALESCE(?4, size),
                 duplicate_of = ?5 WHERE id = ?1"
        ),
        params![item.id, o.mime, o.sha256, o.size, o.duplicate_of],
    )?;
    if o.content.is_some() {
        tx.execute(
            &format!("UPDATE {table} SET extractor = ?2 WHERE id = ?1"),
            params![item.id, o.extractor],
        )?;
    }
    if item.kind == ItemKind::File {
        tx.execute(
            "UPDATE knowledge_files SET kind = COALESCE(?2, kind) WHERE id = ?1",
            params![item.id, o.kind_label],
        )?;
        if o.content.is_some() {
            let metadata = (!o.metadata.is_empty())
                .then(|| serde_json::to_string(&o.metadata))
                .transpose()
                .map_err(|e| crate::Error::Invalid(format!("metadata: {e}")))?;
            tx.execute(
                "UPDATE knowledge_files SET title = ?2, metadata = ?3 WHERE id = ?1",
                params![item.id, o.title, metadata],
            )?;
        }
    }
    if let Some(p) = &o.page {
        tx.execute(
            "UPDATE scraped_contents SET final_url = ?2, title = COALESCE(?3, title), http_status = ?4,
                 etag = COALESCE(?5, etag), last_modified = COALESCE(?6, last_modified), scraped_at = ?7
             WHERE id = ?1",
            params![item.id, p.final_url, p.title, p.http_status, p.etag, p.last_modified, db_ts(now)],
        )?;
        if !p.links.is_empty() {
            super::crawl::discover(tx, item.id, &p.links, now)?;
        }
    }
    if o.duplicate_of.is_some() {
        tx.execute("DELETE FROM chunks WHERE item = ?1", [&key])?;
        tx.execute("DELETE FROM documents WHERE item = ?1", [&key])?;
        tx.execute(
            &format!("UPDATE {table} SET chunk_count = 0 WHERE id = ?1"),
            [item.id],
        )?;
    }
    if let Some(c) = o.content {
        tx.execute("DELETE FROM chunks WHERE item = ?1", [&key])?;
        tx.execute(
            "INSERT INTO documents (item, text) VALUES (?1, ?2) ON CONFLICT (item) DO UPDATE SET text = excluded.text",
            params![key, c.text],
        )?;
        let mut ins = tx.prepare_cached(
            "INSERT INTO chunks (item, seq, start, end, text, text_hash, page_start, page_end)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (seq, (r, h)) in c.ranges.iter().zip(&c.hashes).enumerate() {
            let pages = c.pages.as_ref().and_then(|p| p.get(seq).copied());
            ins.execute(params![
                key,
                seq as i64,
                r.start as i64,
                r.end as i64,
                &c.text[r.clone()],
                h,
                pages.map(|p| p.0),
                pages.map(|p| p.1),
            ])?;
        }
        // One statement for the whole document (see migrations/0006_fts_bulk.up.sql).
        tx.execute(
            "INSERT INTO chunks_fts (rowid, text) SELECT id, text FROM chunks WHERE item = ?1",
            [&key],
        )?;
        tx.execute(
            &format!("UPDATE {table} SET chunk_count = ?2 WHERE id = ?1"),
            params![item.id, c.ranges.len() as i64],
        )?;
        if let Some(v) = c.vectors {
            v.store(tx, now)?;
        }
    }
    Ok(())
}

/// Chunk ids matching an FTS5 expression with their BM25 score (higher is better), best
/// first. No snippets here: a snippet in the ranking query would be computed for every match
/// before the sort (100k matches → 100k snippets).
///
/// `scope`: a JSON array of item keys the chunks must belong to (a search's filters).
pub fn fts_rank(
    conn: &Connection,
    expr: &str,
    limit: u32,
    scope: Option<&str>,
) -> Result<Vec<(i64, f64)>> {
    let map = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, -r.get::<_, f64>(1)?));
    let rows = match scope {
        None => conn
            .prepare_cached(
                "SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ?1
                  ORDER BY bm25(chunks_fts) LIMIT ?2",
            )?
            .query_map(params![expr, limit], map)?
            .collect::<std::result::Result<_, _>>()?,
        Some(items) => conn
            .prepare_cached(
                "SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ?1
                    AND rowid IN (SELECT id FROM chunks
                                   WHERE item IN (SELECT value FROM json_each(?3)))
                  ORDER BY bm25(chunks_fts) LIMIT ?2",
            )?
            .query_map(params![expr, limit, items], map)?
            .collect::<std::result::Result<_, _>>()?,
    };
    Ok(rows)
}

/// A chunk's item key, text and first page (paged documents).
pub fn chunk_text(conn: &Connection, chunk: i64) -> Result<Option<(String, String, Option<u32>)>> {
    Ok(conn
        .prepare_cached("SELECT item, text, page_start FROM chunks WHERE id = ?1")?
        .query_row([chunk], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// The highest chunk id ever used so far in this library's live rows (0: none).
pub fn max_chunk_id(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COALESCE(MAX(id), 0) FROM chunks", [], |r| r.get(0))?)
}

/// The item key of each of `chunks` that exists.
pub fn chunk_items(
    conn: &Connection,
    chunks: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    // One statement for all of them (a search asks for ~100): a query per chunk cost
    // ~4 µs each.
    let ids = serde_json::to_string(&chunks.into_iter().collect::<Vec<i64>>())
        .map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.item FROM json_each(?1) j JOIN chunks c ON c.id = j.value",
    )?;
    let rows = stmt.query_map([ids], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// A chunk's item key and byte range in its document.
pub fn chunk_span(conn: &Connection, chunk: i64) -> Result<Option<(String, i64, i64)>> {
    Ok(conn
        .query_row(
            "SELECT item, start, end FROM chunks WHERE id = ?1",
            [chunk],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?)
}

/// A chunk in its neighbourhood: its item, its byte range in the document, and the range
/// of it with its neighbours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbourhood {
    pub item: String,
    pub start: i64,
    pub end: i64,
    pub from: i64,
    pub to: i64,
}

/// A chunk with `around` chunks on each side.
pub fn chunk_neighbourhood(
    conn: &Connection,
    chunk: i64,
    around: i64,
) -> Result<Option<Neighbourhood>> {
    Ok(conn
        .query_row(
            "SELECT c.item, c.start, c.end, min(n.start), max(n.end)
             FROM chunks c JOIN chunks n ON n.item = c.item AND n.seq BETWEEN c.seq - ?2 AND c.seq + ?2
             WHERE c.id = ?1 GROUP BY c.id",
            params![chunk, around],
            |r| {
                Ok(Neighbourhood {
                    item: r.get(0)?,
                    start: r.get(1)?,
                    end: r.get(2)?,
                    from: r.get(3)?,
                    to: r.get(4)?,
                })
            },
        )
        .optional()?)
}

/// An item's whole extracted text ("" when it has none).
pub fn document_text(conn: &Connection, item: &str) -> Result<String> {
    Ok(conn
        .query_row("SELECT text FROM documents WHERE item = ?1", [item], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or_default())
}

pub fn chunk_count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM chunks", [], |r| r.get(0))?)
}
