//! Search: FTS5 BM25 keyword search, exact k-NN over the stored vectors of the active
//! embedding model, and both fused by reciprocal rank fusion. Results are grouped per
//! document (its best chunk), with a highlighted snippet and the source.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use rusqlite::{params, Connection};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::items;
use crate::model::{ItemRef, SearchHit, SearchMode, SearchResponse};

/// Terms of a user query, for an FTS5 MATCH that cannot be a syntax error.
fn terms(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{}\"", t.replace('"', "")))
        .collect()
}

/// Keyword search: every term must match; if nothing does, any term may. Chunk ids with
/// their snippet, best first.
fn keyword(conn: &Connection, query: &str, limit: u32) -> Result<Vec<(i64, String, f64)>> {
    let t = terms(query);
    if t.is_empty() {
        return Ok(Vec::new());
    }
    // Rank first, then make snippets for the few rows kept: a snippet in the ranking query
    // would be computed for every match before the sort (100k matches → 100k snippets).
    let mut rank = conn.prepare_cached(
        "SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ?1
          ORDER BY bm25(chunks_fts) LIMIT ?2",
    )?;
    let mut snip = conn.prepare_cached(
        "SELECT snippet(chunks_fts, 0, char(2), char(3), '…', 24) FROM chunks_fts
          WHERE chunks_fts MATCH ?1 AND rowid = ?2",
    )?;
    for expr in [t.join(" "), t.join(" OR ")] {
        let ranked: Vec<(i64, f64)> = rank
            .query_map(params![expr, limit], |r| {
                Ok((r.get(0)?, -r.get::<_, f64>(1)?))
            })?
            .collect::<std::result::Result<_, _>>()?;
        if !ranked.is_empty() || t.len() == 1 {
            let mut rows = Vec::with_capacity(ranked.len());
            for (id, score) in ranked {
                let s: String = snip.query_row(params![expr, id], |r| r.get(0))?;
                rows.push((id, s, score));
            }
            return Ok(rows);
        }
    }
    Ok(Vec::new())
}

/// Vectors of one model for all chunks, in memory: the f32 vectors, and an int8 copy
/// (one scale per vector) that the scan reads — a quarter of the memory traffic — before the
/// best candidates are scored again exactly.
pub struct VectorIndex {
    model: String,
    /// `index_version` when loaded.
    stamp: i64,
    dims: usize,
    ids: Vec<i64>,
    data: Vec<f32>,
    codes: Vec<i8>,
    scales: Vec<f32>,
}

#[derive(Default)]
pub struct SearchCache {
    index: Mutex<Option<std::sync::Arc<VectorIndex>>>,
    queries: Mutex<HashMap<(String, String), Vec<f32>>>,
}

/// Moves with every chunk or vector written or deleted (migration 0006): O(1).
fn stamp(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT v FROM index_version WHERE id = 1", [], |r| r.get(0))?)
}

fn load_index(conn: &Connection, model: &str, dims: usize) -> Result<VectorIndex> {
    let st = stamp(conn)?;
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
    Ok(VectorIndex::new(model.to_owned(), st, dims, ids, data))
}

/// Symmetric int8 code of one vector and its scale (`v ≈ code · scale`).
fn quantize(v: &[f32], out: &mut Vec<i8>) -> f32 {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    out.extend(
        v.iter()
            .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8),
    );
    scale
}

#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent accumulators so the compiler vectorises the loop.
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    // Products of int8 codes fit in i16 (127² < 2¹⁵); pairs are summed into i32 lanes, the
    // shape LLVM turns into `pmaddwd` (a 32-bit multiply per lane would be several times
    // slower).
    let mut acc = [0i32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: i32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            acc[i] += i32::from(i16::from(x[i]) * i16::from(y[i]));
        }
    }
    acc.iter().sum::<i32>() + tail
}

/// Approximate scores (int8) of every vector of a part; the best `k` positions (into the
/// part), unordered. Only scores above the running threshold are kept, and the buffer is
/// cut back to `k` whenever it doubles: no vector of all the scores, no full selection.
fn scan_i8(codes: &[i8], scales: &[f32], dims: usize, q: &[i8], k: usize) -> Vec<(usize, f32)> {
    if k == 0 {
        return Vec::new();
    }
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(2 * k);
    let mut threshold = f32::NEG_INFINITY;
    let cut = |best: &mut Vec<(usize, f32)>| {
        best.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
        best.truncate(k);
        best.iter().fold(f32::INFINITY, |m, x| m.min(x.1))
    };
    for (i, (v, s)) in codes.chunks_exact(dims).zip(scales).enumerate() {
        let score = dot_i8(v, q) as f32 * s;
        if score > threshold || best.len() < k {
            best.push((i, score));
            if best.len() == 2 * k {
                threshold = cut(&mut best);
            }
        }
    }
    if best.len() > k {
        cut(&mut best);
    }
    best
}

impl VectorIndex {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    pub fn new(model: String, stamp: i64, dims: usize, ids: Vec<i64>, data: Vec<f32>) -> Self {
        let mut codes = Vec::with_capacity(data.len());
        let scales = data
            .chunks_exact(dims.max(1))
            .map(|v| quantize(v, &mut codes))
            .collect();
        Self {
            model,
            stamp,
            dims,
            ids,
            data,
            codes,
            scales,
        }
    }

    /// Exact cosine scores of every vector (vectors are normalised), best `k`, best first.
    /// The reference `top_k` is measured against.
    pub fn top_k_exact(&self, q: &[f32], k: usize) -> Vec<(i64, f32)> {
        if q.len() != self.dims || self.dims == 0 {
            return Vec::new();
        }
        let mut all: Vec<(i64, f32)> = self
            .data
            .chunks_exact(self.dims)
            .zip(&self.ids)
            .map(|(v, id)| (*id, dot(v, q)))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        all
    }

    /// Top-k by cosine: an int8 scan keeps the best `4k` (at least 100) candidates, which
    /// are scored again exactly. Large indexes are scanned by one thread per core.
    pub fn top_k(&self, q: &[f32], k: usize) -> Vec<(i64, f32)> {
        if q.len() != self.dims || k == 0 || self.ids.is_empty() {
            return Vec::new();
        }
        let mut qc = Vec::with_capacity(self.dims);
        quantize(q, &mut qc);
        let keep = (4 * k).max(100);
        let threads = if self.ids.len() < 20_000 {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
        };
        let per = self.ids.len().div_ceil(threads);
        let candidates: Vec<usize> = std::thread::scope(|s| {
            let parts: Vec<_> = self
                .codes
                .chunks(per * self.dims)
                .zip(self.scales.chunks(per))
                .enumerate()
                .map(|(p, (codes, scales))| {
                    let qc = &qc;
                    s.spawn(move || {
                        scan_i8(codes, scales, self.dims, qc, keep)
                            .into_iter()
                            .map(move |(i, _)| p * per + i)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut scored: Vec<(i64, f32)> = candidates
            .into_iter()
            .map(|i| {
                let v = &self.data[i * self.dims..(i + 1) * self.dims];
                (self.ids[i], dot(v, q))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(k);
        scored
    }
}

impl Engine {
    fn vector_index(&self, model: &str, dims: usize) -> Result<std::sync::Arc<VectorIndex>> {
        let current = self.read(stamp)?;
        let mut guard = self
            .search_cache
            .index
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(ix) = guard.as_ref() {
            if ix.model == model && ix.stamp == current && ix.dims == dims {
                return Ok(ix.clone());
            }
        }
        let ix = std::sync::Arc::new(self.read(|c| load_index(c, model, dims))?);
        *guard = Some(ix.clone());
        Ok(ix)
    }

    fn query_vector(&self, emb: &dyn crate::pipeline::Embedder, query: &str) -> Result<Vec<f32>> {
        let key = (emb.model_id().to_owned(), query.to_owned());
        if let Some(v) = self
            .search_cache
            .queries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(v.clone());
        }
        let v = emb
            .embed(&[query])
            .map_err(|e| Error::Invalid(format!("could not embed the query: {e}")))?
            .pop()
            .unwrap_or_default();
        let mut cache = self
            .search_cache
            .queries
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if cache.len() > 512 {
            cache.clear();
        }
        cache.insert(key, v.clone());
        Ok(v)
    }

    /// Search everything. `mode` None = hybrid when a model is available, else keyword.
    pub fn search(
        &self,
        query: &str,
        mode: Option<SearchMode>,
        limit: u32,
    ) -> Result<SearchResponse> {
        let limit = limit.clamp(1, 200);
        let emb = self.embedder();
        let mut notice = None;
        let mode = match (mode, &emb) {
            (Some(SearchMode::Keyword), _) => SearchMode::Keyword,
            (Some(m), Some(_)) => m,
            (None, Some(_)) => SearchMode::Hybrid,
            (_, None) => {
                notice = Some(
                    "Semantic search is off: no embedding model is installed (see the README: scripts/fetch-model.sh). \
                     Showing keyword results."
                        .to_owned(),
                );
                SearchMode::Keyword
            }
        };
        let pool = (limit * 5).max(50);
        let mut can_build_index = false;
        // The keyword leg runs on its own thread (and connection) while this one embeds the
        // query and scans the vectors.
        let (kw, sem) = std::thread::scope(|s| -> Result<_> {
            let kw = (mode != SearchMode::Semantic)
                .then(|| s.spawn(|| self.read(|c| keyword(c, query, pool))));
            let sem: Vec<(i64, f32)> = match (&emb, mode) {
                (Some(e), SearchMode::Semantic | SearchMode::Hybrid)
                    if !query.trim().is_empty() =>
                {
                    let ix = self.vector_index(e.model_id(), e.dims())?;
                    if ix.is_empty()
                        && self.read(|c| {
                            Ok(c.query_row("SELECT COUNT(*) FROM chunks", [], |r| {
                                r.get::<_, i64>(0)
                            })?)
                        })? > 0
                    {
                        notice = Some("The semantic index is empty for this model: build it to search by meaning (`trove reindex`, or “Build semantic index”).".into());
                        can_build_index = true;
                    }
                    let q = self.query_vector(e.as_ref(), query)?;
                    ix.top_k(&q, pool as usize)
                }
                _ => Vec::new(),
            };
            let kw = match kw {
                Some(h) => h
                    .join()
                    .map_err(|_| Error::Invalid("keyword search crashed".into()))??,
                None => Vec::new(),
            };
            Ok((kw, sem))
        })?;
        // Reciprocal rank fusion (k = 60).
        let mut fused: HashMap<i64, f64> = HashMap::new();
        let mut snippets: HashMap<i64, String> = HashMap::new();
        for (rank, (id, snip, _)) in kw.iter().enumerate() {
            *fused.entry(*id).or_default() += 1.0 / (60.0 + rank as f64 + 1.0);
            snippets.insert(*id, snip.clone());
        }
        for (rank, (id, _)) in sem.iter().enumerate() {
            *fused.entry(*id).or_default() += 1.0 / (60.0 + rank as f64 + 1.0);
        }
        let mut ranked: Vec<(i64, f64)> = fused.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let words: Vec<String> = terms(query)
            .iter()
            .map(|t| t.trim_matches('"').to_lowercase())
            .collect();
        let hits = self.read(|c| {
            let mut seen = HashSet::new();
            let mut hits = Vec::new();
            let mut chunk_stmt = c.prepare_cached("SELECT item, text FROM chunks WHERE id = ?1")?;
            for (id, score) in ranked {
                let Ok((item, text)) = chunk_stmt.query_row([id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                }) else {
                    continue;
                };
                if !seen.insert(item.clone()) {
                    continue;
                }
                let Ok(r) = item.parse::<ItemRef>() else {
                    continue;
                };
                let Ok(it) = items::get(c, r) else { continue };
                let snippet = snippets
                    .remove(&id)
                    .unwrap_or_else(|| highlight(&text, &words));
                hits.push(SearchHit {
                    item_id: item,
                    name: it.name,
                    location: it.location,
                    chunk_id: id,
                    snippet,
                    score,
                });
                if hits.len() as u32 >= limit {
                    break;
                }
            }
            Ok(hits)
        })?;
        Ok(SearchResponse {
            hits,
            mode,
            notice,
            can_build_index,
        })
    }

    /// Embed every chunk the active model has no vector for (after a model appears or
    /// changes). Returns how many vectors were computed.
    pub fn reindex(&self, progress: impl Fn(usize, usize)) -> Result<usize> {
        let emb = self
            .embedder()
            .ok_or_else(|| Error::Invalid("no embedding model is installed".into()))?;
        let model = emb.model_id().to_owned();
        let todo: Vec<(String, String)> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT text_hash, MIN(text) FROM chunks
                  WHERE text_hash NOT IN (SELECT text_hash FROM embeddings WHERE model = ?1) GROUP BY text_hash",
            )?;
            let rows = stmt.query_map([&model], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<std::result::Result<_, _>>()?)
        })?;
        let total = todo.len();
        for (done, batch) in todo.chunks(32).enumerate() {
            progress(done * 32, total);
            let texts: Vec<&str> = batch.iter().map(|(_, t)| t.as_str()).collect();
            let vecs = emb
                .embed(&texts)
                .map_err(|e| Error::Invalid(e.to_string()))?;
            self.embeddings_computed
                .fetch_add(vecs.len() as u64, std::sync::atomic::Ordering::Relaxed);
            let now = self.now_ms();
            self.write(|tx, _| {
                let mut ins = tx.prepare_cached(
                    "INSERT OR IGNORE INTO embeddings (model, text_hash, dims, vector, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for ((h, _), v) in batch.iter().zip(&vecs) {
                    let blob: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                    ins.execute(params![model, h, emb.dims() as i64, blob, now])?;
                }
                Ok(())
            })?;
        }
        progress(total, total);
        Ok(total)
    }
}

/// A snippet for a hit found by meaning: the start of the chunk, query words marked.
fn highlight(text: &str, words: &[String]) -> String {
    let mut end = text.len().min(240);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::new();
    for (i, w) in text[..end].split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = w
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if !core.is_empty() && words.contains(&core) {
            out.push('\u{2}');
            out.push_str(w);
            out.push('\u{3}');
        } else {
            out.push_str(w);
        }
    }
    if end < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod recall_tests {
    use super::VectorIndex;

    /// Random unit vectors are the hard case for int8 codes (scores crowd around 0).
    #[test]
    fn quantized_top_k_recalls_at_least_95_percent_of_exact() {
        let (n, dims) = (30_000, 384);
        let mut state = 0x2545F4914F6CDD1Du64;
        let mut unit = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f32 / (1u64 << 53) as f32 - 0.5
        };
        let mut normalised = |len: usize| {
            let mut v: Vec<f32> = (0..len).map(|_| unit()).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            v
        };
        let mut data = Vec::with_capacity(n * dims);
        for _ in 0..n {
            data.extend(normalised(dims));
        }
        let ix = VectorIndex::new("m".into(), 0, dims, (0..n as i64).collect(), data);
        let (mut found, mut total) = (0, 0);
        for _ in 0..30 {
            let q = normalised(dims);
            let exact: Vec<i64> = ix.top_k_exact(&q, 10).iter().map(|h| h.0).collect();
            let approx: Vec<i64> = ix.top_k(&q, 10).iter().map(|h| h.0).collect();
            found += exact.iter().filter(|id| approx.contains(id)).count();
            total += exact.len();
            // Scores of what is returned are exact, not approximations.
            for (id, score) in ix.top_k(&q, 3) {
                let v = &ix.data[id as usize * dims..(id as usize + 1) * dims];
                assert_eq!(score, super::dot(v, &q));
            }
        }
        let recall = found as f64 / total as f64;
        assert!(recall >= 0.95, "recall@10 = {recall}");
    }
}
