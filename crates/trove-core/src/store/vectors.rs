//! The `embeddings` table: one vector per (model, chunk text hash), shared by every chunk
//! with that text — the cache that spares re-embedding unchanged passages — and the
//! `index_version` stamp that tells the in-memory vector index when to reload.

use std::collections::HashSet;

use rusqlite::{params, Connection};

use crate::error::Result;

/// Little-endian f32s: the blob format of `embeddings.vector`.
pub fn encode(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Store vectors (keyed by chunk text hash); existing ones are kept.
pub fn insert<'a>(
    conn: &Connection,
    model: &str,
    dims: usize,
    vectors: impl IntoIterator<Item = (&'a str, &'a [f32])>,
    now_ms: i64,
) -> Result<()> {
    let mut ins = conn.prepare_cached(
        "INSERT OR IGNORE INTO embeddings (model, text_hash, dims, vector, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (hash, v) in vectors {
        ins.execute(params![model, hash, dims as i64, encode(v), now_ms])?;
    }
    Ok(())
}

/// Delete vectors no chunk uses any more (deleted items, changed pages), once they are
/// older than `grace_ms`: a job embeds before it stores its chunks, and a re-processed
/// item's unchanged passages find their vectors again within that time.
pub fn gc_unreferenced(conn: &Connection, now_ms: i64, grace_ms: i64) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM embeddings WHERE created_at < ?1
            AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.text_hash = embeddings.text_hash)",
        [now_ms - grace_ms],
    )?)
}

/// Which of `hashes` already have a vector of `model`.
pub fn cached(conn: &Connection, model: &str, hashes: &[String]) -> Result<HashSet<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT 1 FROM embeddings WHERE model = ?1 AND text_hash = ?2")?;
    let mut have = HashSet::new();
    for h in hashes {
        if stmt.exists(params![model, h])? {
            have.insert(h.clone());
        }
    }
    Ok(have)
}

/// (text hash, text) of every distinct chunk text with no vector of `model`.
pub fn missing(conn: &Connection, model: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT text_hash, MIN(text) FROM chunks
          WHERE text_hash NOT IN (SELECT text_hash FROM embeddings WHERE model = ?1) GROUP BY text_hash",
    )?;
    let rows = stmt.query_map([model], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// How many chunks have a vector of `model`.
pub fn covered(conn: &Connection, model: &str) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM chunks c
          WHERE EXISTS (SELECT 1 FROM embeddings e WHERE e.model = ?1 AND e.text_hash = c.text_hash)",
        [model],
        |r| r.get(0),
    )?)
}

/// Moves with every chunk or vector written or deleted (migration 0006): O(1).
pub fn stamp(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT v FROM index_version WHERE id = 1", [], |r| r.get(0))?)
}

/// Every chunk with a vector of `model` (`dims` wide): chunk ids, and their vectors
/// concatenated, in chunk id order.
pub fn load(conn: &Connection, model: &str, dims: usize) -> Result<(Vec<i64>, Vec<f32>)> {
    let mut stmt = conn.prepare(
        "SELECT c.id, e.vector FROM chunks c JOIN embeddings e ON e.model = ?1 AND e.text_hash = c.text_hash
          WHERE e.dims = ?2 ORDER BY c.id",
    )?;
    let mut ids = Vec::new();
    let mut data = Vec::new();
    let mut rows = stmt.query(params![model, dims as i64])?;
    while let Some(r) = rows.next()? {
        let blob: Vec<u8> = r.get(1)?;
        if blob.len() != dims * 4 {
            continue;
        }
        ids.push(r.get(0)?);
        data.extend(
            blob.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
    }
    Ok((ids, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_vectors_no_chunk_uses_are_collected() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::pool::open(&dir.path().join("v.db")).unwrap();
        conn.execute(
            "INSERT INTO chunks (item, seq, start, end, text, text_hash) VALUES ('f1', 0, 0, 4, 'used', 'h-used')",
            [],
        )
        .unwrap();
        let v = [1.0f32, 0.0];
        let hour = 3600 * 1000;
        insert(&conn, "m", 2, [("h-used", &v[..]), ("h-old", &v[..])], 0).unwrap();
        insert(&conn, "m", 2, [("h-new", &v[..])], 2 * hour).unwrap();
        // At 2 h with a 1 h grace: "h-old" goes; "h-used" is used; "h-new" is too young.
        assert_eq!(gc_unreferenced(&conn, 2 * hour, hour).unwrap(), 1);
        let left: Vec<String> = conn
            .prepare("SELECT text_hash FROM embeddings ORDER BY text_hash")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        assert_eq!(left, ["h-new", "h-used"]);
    }
}
