//! Which documents a query's filters let through (`type:`, `in:`, `after:`, `before:`), and
//! the reads that keep both legs inside them.

use std::collections::HashSet;

use rusqlite::{params_from_iter, Connection};

use crate::error::Result;
use crate::model::{Filters, SOURCE_FILES, SOURCE_LINKS, TYPE_GROUPS};

/// Every item as the filters see it: its key, file or link, where it is (lowercased path or
/// address), its file name, MIME type and when it was added.
const ITEMS: &str = "SELECT 'f' || id AS key, 'file' AS src, lower(path) AS loc,
        lower(filename) AS name, lower(COALESCE(mime, '')) AS mime, uploaded_at AS added
   FROM knowledge_files
 UNION ALL
 SELECT 'u' || id, 'link', lower(url), lower(url), lower(COALESCE(mime, '')), created_at
   FROM scraped_contents";

/// The SQL condition for one `type:` value, with its parameters.
fn type_condition(t: &str, params: &mut Vec<String>) -> String {
    if SOURCE_LINKS.contains(&t) {
        return "src = 'link'".into();
    }
    if SOURCE_FILES.contains(&t) {
        return "src = 'file'".into();
    }
    let (exts, mimes): (&[&str], &[&str]) = TYPE_GROUPS
        .iter()
        .find(|(names, _, _)| names.contains(&t))
        .map_or((&[][..], &[][..]), |(_, e, m)| (*e, *m));
    let mut any = Vec::new();
    let single = [t];
    // Not a known kind: a file extension (`type:py`). Values are letters and digits only.
    let exts: &[&str] = if exts.is_empty() && mimes.is_empty() {
        &single
    } else {
        exts
    };
    for e in exts {
        params.push(format!("%.{e}"));
        any.push(format!("(src = 'file' AND name LIKE ?{})", params.len()));
    }
    for m in mimes {
        params.push((*m).to_owned());
        any.push(format!("(src = 'link' AND mime = ?{})", params.len()));
    }
    format!("({})", any.join(" OR "))
}

/// Keys of the items the filters let through, newest first.
pub fn items(conn: &Connection, f: &Filters) -> Result<Vec<String>> {
    let mut params: Vec<String> = Vec::new();
    let mut conds: Vec<String> = Vec::new();
    // Kinds are alternatives, and so are sources; a kind and a source both apply
    // (`type:pdf type:link`: PDFs added as links).
    let (sources, kinds): (Vec<&String>, Vec<&String>) = f
        .types
        .iter()
        .partition(|t| SOURCE_LINKS.contains(&t.as_str()) || SOURCE_FILES.contains(&t.as_str()));
    for group in [sources, kinds] {
        if !group.is_empty() {
            let any: Vec<String> = group
                .iter()
                .map(|t| type_condition(t, &mut params))
                .collect();
            conds.push(format!("({})", any.join(" OR ")));
        }
    }
    if !f.within.is_empty() {
        let any: Vec<String> = f
            .within
            .iter()
            .map(|w| {
                params.push(w.to_lowercase());
                format!("instr(loc, ?{}) > 0", params.len())
            })
            .collect();
        conds.push(format!("({})", any.join(" OR ")));
    }
    if let Some(d) = &f.after {
        params.push(d.clone());
        conds.push(format!("added >= ?{}", params.len()));
    }
    if let Some(d) = &f.before {
        params.push(d.clone());
        conds.push(format!("added < ?{}", params.len()));
    }
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    let sql = format!("SELECT key FROM ({ITEMS}) {filter} ORDER BY added DESC, key");
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(params_from_iter(params.iter()), |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The chunk ids of these items.
pub fn chunk_ids(conn: &Connection, items_json: &str) -> Result<HashSet<i64>> {
    let mut st = conn
        .prepare_cached("SELECT id FROM chunks WHERE item IN (SELECT value FROM json_each(?1))")?;
    let rows = st.query_map([items_json], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Which of these chunks match an FTS5 expression.
pub fn matching(conn: &Connection, expr: &str, chunks: &[i64]) -> Result<HashSet<i64>> {
    if chunks.is_empty() {
        return Ok(HashSet::new());
    }
    let ids = serde_json::to_string(chunks).unwrap_or_else(|_| "[]".into());
    let mut st = conn.prepare_cached(
        "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?1
            AND rowid IN (SELECT value FROM json_each(?2))",
    )?;
    let rows = st.query_map(rusqlite::params![expr, ids], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Items with a chunk that matches an FTS5 expression.
pub fn items_matching(conn: &Connection, expr: &str) -> Result<HashSet<String>> {
    let mut st = conn.prepare_cached(
        "SELECT DISTINCT c.item FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid
          WHERE chunks_fts MATCH ?1",
    )?;
    let rows = st.query_map([expr], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The first chunk of an item, if it has any.
pub fn first_chunk(conn: &Connection, item: &str) -> Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT id FROM chunks WHERE item = ?1 ORDER BY seq LIMIT 1")?
        .query_row([item], |r| r.get(0))
        .optional()?)
}
