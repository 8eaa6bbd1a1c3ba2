//! Search: FTS5 BM25 keyword search ([`keyword`]), exact-rescored k-NN over the stored
//! vectors of the active embedding model ([`vector`]), and both fused by reciprocal rank
//! fusion ([`fusion`]). Results are grouped per document (its best chunk), with a
//! highlighted snippet and the source.

pub mod fusion;
mod keyword;
pub mod vector;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::model::{
    ItemRef, SearchHit, SearchMode, SearchResponse, QUERY_MAX_CHARS, QUERY_MAX_TERMS,
};
use crate::ports::Embedder;
use crate::store::{content, items, vectors, Store};
pub use vector::VectorIndex;

/// What search keeps between queries: the loaded vector index and recent query vectors.
#[derive(Default)]
pub struct SearchCache {
    /// The index, and how many chunks the library had when it was loaded.
    index: Mutex<Option<(Arc<VectorIndex>, usize)>>,
    queries: Mutex<HashMap<(String, String), Vec<f32>>>,
}

/// What a search may use.
pub struct SearchCtx<'a> {
    pub store: &'a Store,
    pub embedder: Option<Arc<dyn Embedder>>,
    pub cache: &'a SearchCache,
}

impl SearchCtx<'_> {
    /// The vectors of `model`, and how many chunks there are (loaded once per change).
    fn vector_index(&self, model: &str, dims: usize) -> Result<(Arc<VectorIndex>, usize)> {
        let current = self.store.read(vectors::stamp)?;
        let mut guard = self.cache.index.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((ix, chunks)) = guard.as_ref() {
            if ix.model == model && ix.stamp == current && ix.dims == dims {
                return Ok((ix.clone(), *chunks));
            }
        }
        let (ids, data, chunks) = self.store.read(|c| {
            let (ids, data) = vectors::load(c, model, dims)?;
            Ok((ids, data, content::chunk_count(c)? as usize))
        })?;
        let ix = Arc::new(VectorIndex::new(model.to_owned(), current, dims, ids, data));
        *guard = Some((ix.clone(), chunks));
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

/// Search everything. `mode` None = hybrid when a model is available, else keyword.
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
    let pool = (limit * 5).max(50);
    let mut can_build_index = false;
    // The keyword leg runs on its own thread (and connection) while this one embeds the
    // query and scans the vectors.
    let (kw, sem) = std::thread::scope(|s| -> Result<_> {
        let kw = (mode != SearchMode::Semantic)
            .then(|| s.spawn(|| ctx.store.read(|c| keyword::search(c, query, pool))));
        let sem: Vec<(i64, f32)> = match (&emb, mode) {
            (Some(e), SearchMode::Semantic | SearchMode::Hybrid) if !query.trim().is_empty() => {
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
                let q = ctx.query_vector(e.as_ref(), query)?;
                ix.top_k(&q, pool as usize)
            }
            _ => Vec::new(),
        };
        let kw = match kw {
            Some(h) => h
                .join()
                .map_err(|_| Error::Internal("keyword search crashed".into()))??,
            None => Vec::new(),
        };
        Ok((kw, sem))
    })?;
    let kw_ids: Vec<i64> = kw.iter().map(|(id, _, _)| *id).collect();
    let sem_ids: Vec<i64> = sem.iter().map(|(id, _)| *id).collect();
    let ranked = fusion::rrf([&kw_ids[..], &sem_ids[..]]);
    let mut snippets: HashMap<i64, String> =
        kw.into_iter().map(|(id, snip, _)| (id, snip)).collect();
    let words: Vec<String> = keyword::terms(query)
        .iter()
        .map(|t| t.trim_matches('"').to_lowercase())
        .collect();
    let hits = ctx.store.read(|c| {
        let mut seen = HashSet::new();
        let mut hits = Vec::new();
        for (id, score) in ranked {
            let Some((item, text, page_start)) = content::chunk_text(c, id)? else {
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
                .unwrap_or_else(|| keyword::highlight(&text, &words));
            hits.push(SearchHit {
                item_id: item,
                name: it.name,
                location: it.location,
                chunk_id: id,
                page: page_start.map(|p| hit_page(&text, p, &words)),
                page_unit: page_start
                    .map(|_| crate::model::page_unit(it.mime.as_deref()).to_owned()),
                snippet,
                score,
            });
            if hits.len() as u32 >= limit {
                break;
            }
        }
        Ok(hits)
    })?;
    if shortened {
        let cut = format!(
            "Only the first {QUERY_MAX_CHARS} characters or {QUERY_MAX_TERMS} words of the search were used."
        );
        notice = Some(match notice {
            Some(n) => format!("{cut} {n}"),
            None => cut,
        });
    }
    Ok(SearchResponse {
        hits,
        mode,
        notice,
        can_build_index,
    })
}

/// The page a hit is on: the chunk's first page, plus the page breaks before the first
/// query word in it (a semantic hit without those words: the chunk's first page).
fn hit_page(chunk: &str, first_page: u32, words: &[String]) -> u32 {
    let lower = chunk.to_lowercase();
    let at = words
        .iter()
        .filter(|w| !w.is_empty())
        .filter_map(|w| {
            // Whole words only, as the keyword index matches ("art" is not in "start").
            lower.match_indices(w.as_str()).map(|(i, _)| i).find(|&i| {
                !lower[..i]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric)
            })
        })
        .min();
    let Some(at) = at else {
        return first_page;
    };
    // Breaks before the chunk's text starts belong to no page (see `chunk::page_spans`).
    let lead = lower.len() - lower.trim_start().len();
    first_page + lower[lead..at.max(lead)].matches('\x0c').count() as u32
}

#[cfg(test)]
mod page_tests {
    #[test]
    fn a_hit_is_on_the_page_of_its_first_word() {
        let chunk = "end of two\x0cthree has the Heron\x0cfour";
        let w = |s: &str| vec![s.to_owned()];
        assert_eq!(super::hit_page(chunk, 2, &w("heron")), 3);
        assert_eq!(super::hit_page(chunk, 2, &w("four")), 4);
        assert_eq!(super::hit_page(chunk, 2, &w("end")), 2);
        assert_eq!(super::hit_page(chunk, 2, &w("absent")), 2);
        assert_eq!(super::hit_page("\x0cheron", 5, &w("heron")), 5);
        assert_eq!(super::hit_page("start\x0cart", 1, &w("art")), 2);
    }
}
