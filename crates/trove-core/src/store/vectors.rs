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

/// Store the vectors of chunk texts (keyed by text hash): each text's own vector first,
/// then its windows' (migration 0014); every row of a text records how many it has. Existing
/// vectors are kept (a vector stored before windows existed learns its count).
pub fn insert<'a>(
    conn: &Connection,
    model: &str,
    dims: usize,
    texts: impl IntoIterator<Item = (&'a str, &'a [Vec<f32>])>,
    now_ms: i64,
) -> Result<()> {
    for (hash, parts) in texts {
        insert_parts(conn, model, dims, hash, 0, parts, parts.len(), now_ms)?;
    }
    Ok(())
}

/// Store `vectors` of one text as its parts `first`, `first + 1`, …, and mark every row of
/// the text as one of `total`. Existing vectors are kept.
#[allow(clippy::too_many_arguments)]
pub fn insert_parts(
    conn: &Connection,
    model: &str,
    dims: usize,
    hash: &str,
    first: usize,
    vectors: &[Vec<f32>],
    total: usize,
    now_ms: i64,
) -> Result<()> {
    let mut ins = conn.prepare_cached(
        "INSERT INTO embeddings (model, text_hash, part, dims, vector, created_at, windows)
              VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (model, text_hash, part) DO NOTHING",
    )?;
    for (i, v) in vectors.iter().enumerate() {
        ins.execute(params![
            model,
            hash,
            (first + i) as i64,
            dims as i64,
            encode(v),
            now_ms,
            total as i64
        ])?;
    }
    conn.prepare_cached(
        "UPDATE embeddings SET windows = ?3 WHERE model = ?1 AND text_hash = ?2 AND windows IS NULL",
    )?
    .execute(params![model, hash, total as i64])?;
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

/// Up to `limit` (text hash, text) of chunk texts whose vector of `model` was stored before
/// windows existed (their windows are not known yet).
pub fn unwindowed(conn: &Connection, model: &str, limit: usize) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.text_hash, (SELECT c.text FROM chunks c WHERE c.text_hash = e.text_hash LIMIT 1)
           FROM embeddings e WHERE e.model = ?1 AND e.windows IS NULL AND e.part = 0 LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![model, limit as i64], |r| {
        Ok((r.get(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (hash, text): (String, Option<String>) = row?;
        // No chunk has this text any more: nothing to find by it; its vector is collected.
        out.push((hash, text.unwrap_or_default()));
    }
    Ok(out)
}

/// How many chunk texts of `model` wait for their windows ([`unwindowed`]).
pub fn unwindowed_count(conn: &Connection, model: &str) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM embeddings WHERE model = ?1 AND windows IS NULL",
        [model],
        |r| r.get(0),
    )?)
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

/// Every vector of `model` (`dims` wide) of every chunk: chunk ids (a chunk with windows
/// once per vector, its own first), and the vectors concatenated, in chunk id order.
pub fn load(conn: &Connection, model: &str, dims: usize) -> Result<(Vec<i64>, Vec<f32>)> {
    let mut stmt = conn.prepare(
        "SELECT c.id, e.vector FROM chunks c JOIN embeddings e ON e.model = ?1 AND e.text_hash = c.text_hash
          WHERE e.dims = ?2 ORDER BY c.id, e.part",
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

    /// A fresh database with one chunk of `text` whose hash is `hash`.
    fn one_chunk(text: &str, hash: &str) -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::pool::open(&dir.path().join("v.db")).unwrap();
        conn.execute(
            "INSERT INTO chunks (item, seq, start, end, text, text_hash) VALUES ('f1', 0, 0, 4, ?1, ?2)",
            [text, hash],
        )
        .unwrap();
        (dir, conn)
    }

    #[test]
    fn only_old_vectors_no_chunk_uses_are_collected() {
        let (_dir, conn) = one_chunk("used", "h-used");
        let v = [vec![1.0f32, 0.0]];
        let two = [vec![1.0f32, 0.0], vec![0.0, 1.0]];
        let hour = 3600 * 1000;
        insert(
            &conn,
            "m",
            2,
            [("h-used", &two[..]), ("h-old", &two[..])],
            0,
        )
        .unwrap();
        insert(&conn, "m", 2, [("h-new", &v[..])], 2 * hour).unwrap();
        // At 2 h with a 1 h grace: "h-old" goes, windows included; "h-used" is used, and
        // its window too; "h-new" is too young.
        assert_eq!(gc_unreferenced(&conn, 2 * hour, hour).unwrap(), 2);
        let left: Vec<String> = conn
            .prepare("SELECT text_hash FROM embeddings ORDER BY text_hash")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        assert_eq!(left, ["h-new", "h-used", "h-used"]);
        let (ids, data) = load(&conn, "m", 2).unwrap();
        assert_eq!(ids, [1, 1], "one chunk, its own vector and its window's");
        assert_eq!(data, [1.0, 0.0, 0.0, 1.0], "its own first");
    }

    #[test]
    fn vectors_stored_before_windows_wait_for_them_and_learn_their_count() {
        let (_dir, conn) = one_chunk("long", "h1");
        // As version 13 stored it: one vector, no window count.
        conn.execute(
            "INSERT INTO embeddings (model, text_hash, dims, vector, created_at) VALUES ('m', 'h1', 2, ?1, 0)",
            [encode(&[1.0, 0.0])],
        )
        .unwrap();
        assert_eq!(
            unwindowed(&conn, "m", 10).unwrap(),
            [("h1".to_string(), "long".to_string())]
        );
        assert_eq!(unwindowed_count(&conn, "m").unwrap(), 1);
        assert!(unwindowed(&conn, "other", 10).unwrap().is_empty());
        insert_parts(&conn, "m", 2, "h1", 1, &[vec![0.0, 1.0]], 2, 5).unwrap();
        assert_eq!(unwindowed_count(&conn, "m").unwrap(), 0);
        let counts: Vec<(i64, i64)> = conn
            .prepare("SELECT part, windows FROM embeddings ORDER BY part")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        assert_eq!(counts, [(0, 2), (1, 2)]);
        // Storing the text again changes nothing.
        insert(&conn, "m", 2, [("h1", &[vec![0.5, 0.5]][..])], 9).unwrap();
        assert_eq!(load(&conn, "m", 2).unwrap().1, [1.0, 0.0, 0.0, 1.0]);
    }
}
