//! Search: FTS5 BM25 keyword search ([`keyword`]), exact-rescored k-NN over the stored
//! vectors of the active embedding model ([`vector`]), and both fused ([`fusion`]): hybrid
//! ranks documents by meaning, nudged by keyword rank. Results are grouped per document (its
//! best chunk), with a highlighted snippet and the source.

pub mod fusion;
pub mod kernels;
mod keyword;
pub mod query;
pub mod snapshot;
pub mod vector;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::model::{
    ItemRef, SearchHit, SearchMode, SearchResponse, QUERY_MAX_CHARS, QUERY_MAX_TERMS,
};
use crate::ports::Embedder;
use crate::store::{content, items, scope, vectors, Store};
pub use vector::VectorIndex;

/// What search keeps between queries: the loaded vector index and recent query vectors.
#[derive(Default)]
pub struct SearchCache {
    /// The index, and how many chunks the library had when it was loaded.
    index: Mutex<Option<(Arc<VectorIndex>, usize)>>,
    queries: Mutex<HashMap<(String, String), Vec<f32>>>,
    /// The thread writing the snapshot ([`snapshot`]; one at a time), waited for when the
    /// cache goes (a command-line search that wrote one finishes it before the process ends).
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for SearchCache {
    fn drop(&mut self) {
        let writer = self.writer.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = writer.take() {
            let _ = w.join();
        }
    }
}

impl SearchCache {
    /// Whether a snapshot of the index is being written in the background.
    pub fn writing_snapshot(&self) -> bool {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.as_ref().is_some_and(|w| !w.is_finished())
    }
}

/// What a search may use.
pub struct SearchCtx<'a> {
    pub store: &'a Store,
    pub embedder: Option<Arc<dyn Embedder>>,
    pub cache: &'a SearchCache,
}

impl SearchCtx<'_> {
    /// The vectors of `model`, and how many chunks there are: kept while the library does
    /// not change; after a change (or at start) mapped from the snapshot file when it is
    /// current, else read from the database (and the snapshot written again, in the
    /// background, for a large library).
    fn vector_index(&self, model: &str, dims: usize) -> Result<(Arc<VectorIndex>, usize)> {
        let stamp = self.store.read(vectors::stamp)?;
        let mut guard = self.cache.index.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((ix, chunks)) = guard.as_ref() {
            if ix.model == model && ix.stamp == stamp && ix.dims == dims {
                return Ok((ix.clone(), *chunks));
            }
        }
        let max_chunk = self.store.read(content::max_chunk_id)?;
        let id = snapshot::Identity {
            model: model.to_owned(),
            dims,
            stamp,
            max_chunk,
        };
        let file = snapshot::path_for(self.store.path());
        if let Some((ix, chunks)) = snapshot::open(&file, &id) {
            let ix = Arc::new(ix);
            *guard = Some((ix.clone(), chunks));
            return Ok((ix, chunks));
        }
        let (ids, data, chunks) = self.store.read(|c| {
            let (ids, data) = vectors::load(c, model, dims)?;
            Ok((ids, data, content::chunk_count(c)? as usize))
        })?;
        let ix = Arc::new(VectorIndex::new(model.to_owned(), stamp, dims, ids, data));
        *guard = Some((ix.clone(), chunks));
        let mut writer = self.cache.writer.lock().unwrap_or_else(|p| p.into_inner());
        let busy = writer.as_ref().is_some_and(|w| !w.is_finished());
        if ix.len() >= snapshot::MIN_VECTORS && !busy {
            let ix = ix.clone();
            let handle = std::thread::spawn(move || {
                background_priority();
                if let Err(e) = snapshot::write(&file, &ix, &id, chunks) {
                    tracing::warn!(
                        "could not write the vector snapshot {}: {e}",
                        file.display()
                    );
                }
            });
            if let Some(done) = writer.replace(handle) {
                let _ = done.join();
            }
        }
        Ok((ix, chunks))
    }

    fn query_vector(&self, emb: &dyn Embedder, query: &str) -> Result<Vec<f32>> {
        let key = (emb.model_id().to_owned(), query.to_owned());
        if let Some(v) = self
            .cache
            .queries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(v.clone());
        }
        let v = emb
            .embed(&[query])
            .map_err(|e| Error::Embed(format!("could not embed the query: {e}")))?
            .pop()
            .unwrap_or_default();
        let mut cache = self.cache.queries.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 512 {
            cache.clear();
        }
        cache.insert(key, v.clone());
        Ok(v)
    }
}

/// The calling thread yields the processor to searches (nice 19): the snapshot of a
/// million vectors takes seconds to write, and the searches made meanwhile should not wait
/// for it (at 1M chunks their p99 was 95 ms while it was written).
fn background_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority with PRIO_PROCESS and 0 changes the calling thread's nice
        // value only (Linux threads have their own); it reads and writes no memory.
        #[allow(unsafe_code)]
        let r = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
        if r != 0 {
            tracing::debug!(
                "could not lower the snapshot writer's priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// Below this cosine similarity a passage found by meaning is not a close match. Measured on
/// the evaluation set (`eval/floor.py`, BENCHMARKS.md "Search quality"): 93 of 94 answerable
/// questions' best passages are at 0.30 or more, 18 of 20 off-topic questions stay below
/// (0.35 would lose two answerable questions to save one off-topic one).
pub const SEMANTIC_FLOOR: f32 = 0.30;

/// When nothing is a close match, how many of the nearest are shown, as such.
const NEAREST_SHOWN: usize = 3;

/// Search everything. `mode` None = hybrid when a model is available, else keyword. The
/// query's syntax is [`query`]'s.
pub fn search(
    ctx: &SearchCtx<'_>,
    query: &str,
    mode: Option<SearchMode>,
    limit: u32,
) -> Result<SearchResponse> {
    let limit = limit.clamp(1, 200);
    let emb = ctx.embedder.clone();
    let mut notice = None;
    let (query, shortened) = keyword::cap(query);
    let q = query::parse(query);
    let mode = match (mode, &emb) {
        (Some(SearchMode::Keyword), _) => SearchMode::Keyword,
        (Some(m), Some(_)) => m,
        (None, Some(_)) => SearchMode::Hybrid,
        (_, None) => {
            notice = Some(
                "Semantic search is off: the embedding model is missing (reinstall Trove's package, \
                 or set an embedding service). Showing keyword results."
                    .to_owned(),
            );
            SearchMode::Keyword
        }
    };
    // The items the filters let through, read once (None: no filter, everything).
    let keys: Option<Vec<String>> = if q.filters.is_empty() {
        None
    } else {
        Some(ctx.store.read(|c| scope::items(c, &q.filters))?)
    };
    let mut response = SearchResponse {
        hits: Vec::new(),
        mode,
        notice: None,
        can_build_index: false,
        no_close_matches: false,
    };
    let Some(plan) = q.keyword_plan() else {
        // Only filters (or exclusions): what they let through, newest first.
        if !(q.filters.is_empty() && q.exclude.is_empty()) {
            response.hits = listing(ctx, &q, keys, limit)?;
        }
        response.notice = cut_notice(shortened, notice);
        return Ok(response);
    };
    let scope: Option<String> = keys.as_ref().map(|k| keys_json(k));
    let pool = (limit * 5).max(50);
    let sem_text = q.semantic_text();
    let mut can_build_index = false;
    // The keyword leg runs on its own thread (and connection) while this one embeds the
    // query and scans the vectors.
    let (kw, sem, scorer) = std::thread::scope(|s| -> Result<_> {
        let kw = (mode != SearchMode::Semantic).then(|| {
            s.spawn(|| {
                ctx.store
                    .read(|c| keyword::search(c, &plan, pool, scope.as_deref()))
            })
        });
        // The index and the query's vector, to score keyword hits by meaning too.
        let mut scorer = None;
        let sem: Vec<(i64, f32)> = match (&emb, mode) {
            (Some(e), SearchMode::Semantic | SearchMode::Hybrid) if !sem_text.is_empty() => {
                let (ix, chunks) = ctx.vector_index(e.model_id(), e.dims())?;
                if ix.is_empty() && chunks > 0 {
                    notice = Some("The semantic index is empty for this model: build it to search by meaning (`trove reindex`, or “Build semantic index”).".into());
                    can_build_index = true;
                } else if ix.len() < chunks {
                    // After a change of model: part of the library cannot be found by meaning.
                    notice = Some(format!(
                        "The semantic index covers {} of {} passages for this model: build the rest to search all of them by meaning (`trove reindex`, or “Build semantic index”).",
                        trove_common::thousands(ix.len() as u64),
                        trove_common::thousands(chunks as u64)
                    ));
                    can_build_index = true;
                }
                let allow = match &scope {
                    Some(items) => Some(ctx.store.read(|c| scope::chunk_ids(c, items))?),
                    None => None,
                };
                let v = ctx.query_vector(e.as_ref(), &sem_text)?;
                let found = ix.top_k_in(&v, pool as usize, allow.as_ref());
                scorer = Some((ix, v));
                constrain(ctx, plan.must.as_deref(), plan.exclude.as_deref(), found)?
            }
            _ => Vec::new(),
        };
        let kw = match kw {
            Some(h) => Some(
                h.join()
                    .map_err(|_| Error::Internal("keyword search crashed".into()))??,
            ),
            None => None,
        };
        Ok((kw, sem, scorer))
    })?;
    response.can_build_index = can_build_index;
    let kw = kw.unwrap_or_default();
    let kw_ids: Vec<i64> = kw.iter().map(|h| h.id).collect();
    let sem_ids: Vec<i64> = sem.iter().map(|(id, _)| *id).collect();
    let mut close: HashSet<i64> = kw.iter().filter(|h| h.close).map(|h| h.id).collect();
    close.extend(
        sem.iter()
            .filter(|(_, cos)| *cos >= SEMANTIC_FLOOR)
            .map(|(id, _)| *id),
    );
    let mut similarity: HashMap<i64, f32> = sem.into_iter().collect();
    let mut ranked = if mode == SearchMode::Hybrid {
        // Keyword hits the semantic leg did not reach get their similarity too.
        if let Some((ix, v)) = &scorer {
            for id in &kw_ids {
                if !similarity.contains_key(id) {
                    if let Some(s) = ix.similarity(*id, v) {
                        similarity.insert(*id, s);
                        if s >= SEMANTIC_FLOOR {
                            close.insert(*id);
                        }
                    }
                }
            }
        }
        let items = ctx
            .store
            .read(|c| content::chunk_items(c, kw_ids.iter().chain(&sem_ids).copied()))?;
        let found = |ids: &[i64]| -> Vec<fusion::Found<'_>> {
            ids.iter()
                .filter_map(|id| {
                    Some(fusion::Found {
                        chunk: *id,
                        item: items.get(id)?,
                        similarity: similarity.get(id).copied(),
                    })
                })
                .collect()
        };
        let ranked = fusion::hybrid(&found(&kw_ids), &found(&sem_ids));
        // A document is a close match when any of its chunks the legs found is one.
        let close_items: HashSet<&str> = close
            .iter()
            .filter_map(|id| items.get(id).map(String::as_str))
            .collect();
        close = ranked
            .iter()
            .filter(|(id, _)| {
                items
                    .get(id)
                    .is_some_and(|i| close_items.contains(i.as_str()))
            })
            .map(|(id, _)| *id)
            .collect();
        ranked
    } else {
        fusion::rrf([&kw_ids[..], &sem_ids[..]])
    };
    if ranked.iter().any(|(id, _)| close.contains(id)) {
        ranked.retain(|(id, _)| close.contains(id));
    } else {
        response.no_close_matches = !ranked.is_empty();
    }
    let shown = if response.no_close_matches {
        limit.min(NEAREST_SHOWN as u32)
    } else {
        limit
    };
    let terms = keyword::Terms::new(&plan.highlight, &q.prefixes);
    response.hits = ctx.store.read(|c| {
        let mut seen = HashSet::new();
        collect_hits(c, ranked, shown, &terms, &similarity, &mut seen)
    })?;
    response.notice = cut_notice(shortened, notice);
    Ok(response)
}

/// Results from ranked chunks, one per document (its best chunk), at most `shown`, each
/// with a snippet around `terms` ([`keyword::snippet`]).
fn collect_hits(
    c: &rusqlite::Connection,
    ranked: Vec<(i64, f64)>,
    shown: u32,
    terms: &keyword::Terms,
    similarity: &HashMap<i64, f32>,
    seen: &mut HashSet<String>,
) -> Result<Vec<SearchHit>> {
    let mut hits = Vec::new();
    for (id, score) in ranked {
        let Some(mut hit) = hit(c, id, score, terms, seen)? else {
            continue;
        };
        hit.similarity = similarity.get(&id).copied();
        hits.push(hit);
        if hits.len() as u32 >= shown {
            break;
        }
    }
    Ok(hits)
}

/// "More like this": the passages nearest in meaning to one passage (its stored vector as
/// the query), from other documents, one per document. `filters`: the search syntax's
/// filters and exclusions (`type:pdf in:Notes after:2026-01-01 -draft`) the results must
/// pass, as in a search; its plain words are ignored ("" for none).
pub fn similar(
    ctx: &SearchCtx<'_>,
    chunk: i64,
    limit: u32,
    filters: &str,
) -> Result<SearchResponse> {
    let limit = limit.clamp(1, 200);
    let Some(emb) = ctx.embedder.clone() else {
        return Err(Error::Invalid(
            "Finding similar passages needs the embedding model, and it is missing (reinstall \
             Trove's package, or set an embedding service)."
                .into(),
        ));
    };
    let (ix, _) = ctx.vector_index(emb.model_id(), emb.dims())?;
    let Some(item) = ctx
        .store
        .read(|c| content::chunk_text(c, chunk))?
        .map(|t| t.0)
    else {
        return Err(Error::NotFound(format!("passage {chunk}")));
    };
    let Some(v) = ix.vector_of(chunk) else {
        return Err(Error::Invalid(
            "This passage has no vector for the current model yet: build the semantic index \
             (`trove reindex`, or “Build semantic index”) first."
                .into(),
        ));
    };
    let v = v.to_vec();
    let (filters, _) = keyword::cap(filters);
    let q = query::parse(filters);
    let allow = if q.filters.is_empty() {
        None
    } else {
        Some(
            ctx.store
                .read(|c| scope::chunk_ids(c, &keys_json(&scope::items(c, &q.filters)?)))?,
        )
    };
    let found = ix.top_k_in(&v, ((limit * 5).max(50)) as usize, allow.as_ref());
    let found = constrain(ctx, None, q.keyword_exclusions().as_deref(), found)?;
    let similarity: HashMap<i64, f32> = found.iter().copied().collect();
    let mut ranked: Vec<(i64, f64)> = found
        .iter()
        .map(|(id, cos)| (*id, f64::from(*cos)))
        .collect();
    let any_close = found
        .iter()
        .any(|(id, cos)| *id != chunk && *cos >= SEMANTIC_FLOOR);
    if any_close {
        ranked.retain(|(id, _)| similarity[id] >= SEMANTIC_FLOOR);
    }
    let shown = if any_close {
        limit
    } else {
        limit.min(NEAREST_SHOWN as u32)
    };
    let none = keyword::Terms::new(&[], &[]);
    let hits = ctx.store.read(|c| {
        // The passage's own document is where the user already is.
        let mut seen = HashSet::from([item.clone()]);
        collect_hits(c, ranked, shown, &none, &similarity, &mut seen)
    })?;
    Ok(SearchResponse {
        no_close_matches: !any_close && !hits.is_empty(),
        hits,
        mode: SearchMode::Semantic,
        notice: None,
        can_build_index: false,
    })
}

/// Item keys as the JSON array the store's scoped queries take.
fn keys_json(keys: &[String]) -> String {
    serde_json::to_string(keys).unwrap_or_else(|_| "[]".into())
}

/// The notice, with a word on a query that was cut to length first.
fn cut_notice(shortened: bool, notice: Option<String>) -> Option<String> {
    if !shortened {
        return notice;
    }
    let cut = format!(
        "Only the first {QUERY_MAX_CHARS} characters or {QUERY_MAX_TERMS} words of the search were used."
    );
    Some(match notice {
        Some(n) => format!("{cut} {n}"),
        None => cut,
    })
}

/// Semantic hits that also match `must` (a query's phrases and prefixes) and not
/// `exclude` (its exclusions), both FTS5 expressions checked against the keyword index, so
/// stems count as they do there.
fn constrain(
    ctx: &SearchCtx<'_>,
    must: Option<&str>,
    exclude: Option<&str>,
    found: Vec<(i64, f32)>,
) -> Result<Vec<(i64, f32)>> {
    if must.is_none() && exclude.is_none() {
        return Ok(found);
    }
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    let (keep, drop) = ctx.store.read(|c| {
        let keep = match must {
            Some(m) => Some(scope::matching(c, m, &ids)?),
            None => None,
        };
        let drop = match exclude {
            Some(x) => scope::matching(c, x, &ids)?,
            None => HashSet::new(),
        };
        Ok((keep, drop))
    })?;
    Ok(found
        .into_iter()
        .filter(|(id, _)| keep.as_ref().is_none_or(|k| k.contains(id)) && !drop.contains(id))
        .collect())
}

/// One result from a chunk: None when its document already has a better one (`seen`) or is
/// gone. Its snippet: the stretch of the chunk with the most of `terms`, else its start.
fn hit(
    c: &rusqlite::Connection,
    id: i64,
    score: f64,
    terms: &keyword::Terms,
    seen: &mut HashSet<String>,
) -> Result<Option<SearchHit>> {
    let Some((item, text, page_start)) = content::chunk_text(c, id)? else {
        return Ok(None);
    };
    if !seen.insert(item.clone()) {
        return Ok(None);
    }
    let Ok(r) = item.parse::<ItemRef>() else {
        return Ok(None);
    };
    let Ok(it) = items::get(c, r) else {
        return Ok(None);
    };
    let (snippet, focus) = keyword::snippet(&text, terms);
    Ok(Some(SearchHit {
        item_id: item,
        name: it.name,
        location: it.location,
        chunk_id: id,
        page: page_start.map(|p| hit_page(&text, p, focus)),
        page_unit: page_start.map(|_| crate::model::page_unit(it.mime.as_deref()).to_owned()),
        snippet,
        score,
        similarity: None,
    }))
}

/// A query of filters (and exclusions) only: the documents they let through, newest first,
/// each with its opening passage.
/// `keys`: what the filters let through, if any were set (else every item).
fn listing(
    ctx: &SearchCtx<'_>,
    q: &query::Query,
    keys: Option<Vec<String>>,
    limit: u32,
) -> Result<Vec<SearchHit>> {
    let none = keyword::Terms::new(&[], &[]);
    ctx.store.read(|c| {
        let keys = match keys {
            Some(k) => k,
            None => scope::items(c, &q.filters)?,
        };
        let excluded = match q.keyword_exclusions() {
            Some(x) => scope::items_matching(c, &x)?,
            None => HashSet::new(),
        };
        let mut seen = HashSet::new();
        let mut hits = Vec::new();
        for key in keys.iter().filter(|k| !excluded.contains(*k)) {
            let Some(chunk) = scope::first_chunk(c, key)? else {
                continue;
            };
            if let Some(h) = hit(c, chunk, 0.0, &none, &mut seen)? {
                hits.push(h);
            }
            if hits.len() as u32 >= limit {
                break;
            }
        }
        Ok(hits)
    })
}

/// The page a hit is on: the chunk's first page, plus the page breaks before `focus`, the
/// first query word its snippet shows ([`keyword::snippet`]; none, as in a semantic hit
/// without those words: the chunk's first page).
fn hit_page(chunk: &str, first_page: u32, focus: Option<usize>) -> u32 {
    let Some(at) = focus else {
        return first_page;
    };
    // Breaks before the chunk's text starts belong to no page (see `chunk::page_spans`).
    let lead = chunk.len() - chunk.trim_start().len();
    first_page + chunk[lead..at.max(lead)].matches('\x0c').count() as u32
}

#[cfg(test)]
mod page_tests {
    #[test]
    fn a_hit_is_on_the_page_its_snippet_shows() {
        let chunk = "end of two\x0cthree has the Heron\x0cfour";
        let w = |s: &str| super::keyword::Terms::new(&[s.to_owned()], &[]);
        // Words are compared as the keyword index compares them ("art" is not in "start").
        let page = |text: &str, first: u32, term: &str| {
            super::hit_page(text, first, super::keyword::snippet(text, &w(term)).1)
        };
        assert_eq!(page(chunk, 2, "heron"), 3);
        assert_eq!(page(chunk, 2, "four"), 4);
        assert_eq!(page(chunk, 2, "end"), 2);
        assert_eq!(page(chunk, 2, "absent"), 2);
        assert_eq!(page("\x0cheron", 5, "heron"), 5);
        assert_eq!(page("start\x0cart", 1, "art"), 2);
        // A lone heron on page 1, a pair of them far on, on page 2: the snippet shows the
        // pair, and the hit opens where they are.
        let far = format!("heron {} \x0c the heron and the heron", "word ".repeat(40));
        assert_eq!(page(&far, 1, "heron"), 2);
        assert!(super::keyword::snippet(&far, &w("heron"))
            .0
            .starts_with('…'));
    }
}

#[cfg(test)]
mod snapshot_tests {
    use std::sync::Arc;

    use super::{snapshot, SearchCache, SearchCtx};
    use crate::clock::SystemClock;
    use crate::store::{vectors, Store};

    /// A large library's index is read from the database once, written beside it, and
    /// mapped from there by the next process — until the library changes.
    #[test]
    fn a_large_index_is_mapped_from_its_snapshot_until_the_library_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("trove.db"), Arc::new(SystemClock)).unwrap();
        let n = snapshot::MIN_VECTORS;
        store
            .write(|tx, now| {
                let mut chunk = tx.prepare(
                    "INSERT INTO chunks (item, seq, start, end, text, text_hash) VALUES ('f1', ?1, 0, 1, 'x', ?2)",
                )?;
                let mut texts = Vec::new();
                for i in 0..n {
                    let hash = format!("h{i}");
                    chunk.execute(rusqlite::params![i as i64, hash])?;
                    let a = i as f32 / n as f32;
                    texts.push((hash, vec![vec![a, (1.0 - a * a).sqrt(), 0.0, 0.0]]));
                }
                vectors::insert(
                    tx,
                    "m",
                    4,
                    texts.iter().map(|(h, v)| (h.as_str(), v.as_slice())),
                    now,
                )
            })
            .unwrap();
        let index = |cache: &SearchCache| {
            let ctx = SearchCtx {
                store: &store,
                embedder: None,
                cache,
            };
            ctx.vector_index("m", 4).unwrap()
        };
        let first = SearchCache::default();
        let (ix, chunks) = index(&first);
        assert!(!ix.is_mapped(), "read from the database");
        assert_eq!((ix.len(), chunks), (n, n));
        while first.writing_snapshot() {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let file = snapshot::path_for(store.path());
        assert!(file.is_file());

        // The next process (a new cache) maps it: the same index.
        let (mapped, chunks) = index(&SearchCache::default());
        assert!(mapped.is_mapped());
        assert_eq!((mapped.len(), chunks), (n, n));
        let q = [0.6, 0.8, 0.0, 0.0];
        assert_eq!(mapped.top_k(&q, 5), ix.top_k(&q, 5));

        // One more passage: the snapshot is stale, the database is read again.
        store
            .write(|tx, _| {
                tx.execute(
                    "INSERT INTO chunks (item, seq, start, end, text, text_hash) VALUES ('f2', 0, 0, 1, 'y', 'h0')",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        let (fresh, chunks) = index(&SearchCache::default());
        assert!(!fresh.is_mapped(), "a stale snapshot is not used");
        assert_eq!((fresh.len(), chunks), (n + 1, n + 1));
    }
}
