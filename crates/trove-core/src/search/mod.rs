//! Search: FTS5 BM25 keyword search ([`keyword`]), exact-rescored k-NN over the stored
//! vectors of the active embedding model ([`vector`]), and both fused by reciprocal rank
//! fusion ([`fusion`]). Results are grouped per document (its best chunk), with a
//! highlighted snippet and the source.

pub mod fusion;
mod keyword;
pub mod query;
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

/// Below this cosine similarity a passage found by meaning is not a close match. Measured on
/// the evaluation set (`eval/floor.py`, BENCHMARKS.md "Search quality"): every answerable
/// question's best passage is at 0.32 or more, 19 of 20 off-topic questions stay below.
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
    let scope: Option<String> = keys
        .as_ref()
        .map(|k| serde_json::to_string(k).unwrap_or_else(|_| "[]".into()));
    let pool = (limit * 5).max(50);
    let sem_text = q.semantic_text();
    let mut can_build_index = false;
    // The keyword leg runs on its own thread (and connection) while this one embeds the
    // query and scans the vectors.
    let (kw, sem) = std::thread::scope(|s| -> Result<_> {
        let kw = (mode != SearchMode::Semantic).then(|| {
            s.spawn(|| {
                ctx.store
                    .read(|c| keyword::search(c, &plan, pool, scope.as_deref()))
            })
        });
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
                constrain(ctx, &plan, found)?
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
    response.can_build_index = can_build_index;
    let kw_ids: Vec<i64> = kw.iter().map(|h| h.id).collect();
    let sem_ids: Vec<i64> = sem.iter().map(|(id, _)| *id).collect();
    let mut close: HashSet<i64> = kw.iter().filter(|h| h.close).map(|h| h.id).collect();
    close.extend(
        sem.iter()
            .filter(|(_, cos)| *cos >= SEMANTIC_FLOOR)
            .map(|(id, _)| *id),
    );
    let similarity: HashMap<i64, f32> = sem.into_iter().collect();
    let mut ranked =
        fusion::rrf_weighted([(&kw_ids[..], fusion::KEYWORD_WEIGHT), (&sem_ids[..], 1.0)]);
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
    let snippets: HashMap<i64, String> = kw.into_iter().map(|h| (h.id, h.snippet)).collect();
    let terms = keyword::Terms::new(&plan.highlight, &q.prefixes);
    response.hits = ctx.store.read(|c| {
        let mut seen = HashSet::new();
        collect_hits(c, ranked, shown, &terms, snippets, &similarity, &mut seen)
    })?;
    response.notice = cut_notice(shortened, notice);
    Ok(response)
}

/// Results from ranked chunks, one per document (its best chunk), at most `shown`:
/// keyword snippets where the index made one, else the chunk's start with `terms` marked.
fn collect_hits(
    c: &rusqlite::Connection,
    ranked: Vec<(i64, f64)>,
    shown: u32,
    terms: &keyword::Terms,
    mut snippets: HashMap<i64, String>,
    similarity: &HashMap<i64, f32>,
    seen: &mut HashSet<String>,
) -> Result<Vec<SearchHit>> {
    let mut hits = Vec::new();
    for (id, score) in ranked {
        let Some(mut hit) = hit(c, id, score, terms, snippets.remove(&id), seen)? else {
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
/// the query), from other documents, one per document.
pub fn similar(ctx: &SearchCtx<'_>, chunk: i64, limit: u32) -> Result<SearchResponse> {
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
    let found = ix.top_k(&v, ((limit * 5).max(50)) as usize);
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
        collect_hits(
            c,
            ranked,
            shown,
            &none,
            HashMap::new(),
            &similarity,
            &mut seen,
        )
    })?;
    Ok(SearchResponse {
        no_close_matches: !any_close && !hits.is_empty(),
        hits,
        mode: SearchMode::Semantic,
        notice: None,
        can_build_index: false,
    })
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

/// Semantic hits that also satisfy the query's phrases and prefixes and none of its
/// exclusions (checked against the keyword index, so stems count as they do there).
fn constrain(
    ctx: &SearchCtx<'_>,
    plan: &query::KeywordPlan,
    found: Vec<(i64, f32)>,
) -> Result<Vec<(i64, f32)>> {
    if plan.must.is_none() && plan.exclude.is_none() {
        return Ok(found);
    }
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    let (keep, drop) = ctx.store.read(|c| {
        let keep = match &plan.must {
            Some(m) => Some(scope::matching(c, m, &ids)?),
            None => None,
        };
        let drop = match &plan.exclude {
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
/// gone. `snippet`: the keyword index's, if it made one; else the chunk's start with `terms`
/// marked.
fn hit(
    c: &rusqlite::Connection,
    id: i64,
    score: f64,
    terms: &keyword::Terms,
    snippet: Option<String>,
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
    Ok(Some(SearchHit {
        item_id: item,
        name: it.name,
        location: it.location,
        chunk_id: id,
        page: page_start.map(|p| hit_page(&text, p, terms)),
        page_unit: page_start.map(|_| crate::model::page_unit(it.mime.as_deref()).to_owned()),
        snippet: snippet.unwrap_or_else(|| keyword::highlight(&text, terms)),
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
            if let Some(h) = hit(c, chunk, 0.0, &none, None, &mut seen)? {
                hits.push(h);
            }
            if hits.len() as u32 >= limit {
                break;
            }
        }
        Ok(hits)
    })
}

/// The page a hit is on: the chunk's first page, plus the page breaks before the first
/// query word in it (a semantic hit without those words: the chunk's first page).
fn hit_page(chunk: &str, first_page: u32, terms: &keyword::Terms) -> u32 {
    // Whole words, compared as the keyword index compares them ("art" is not in "start").
    let Some(at) = keyword::words_at(chunk)
        .into_iter()
        .find(|(_, w)| terms.matches(w))
        .map(|(at, _)| at)
    else {
        return first_page;
    };
    // Breaks before the chunk's text starts belong to no page (see `chunk::page_spans`).
    let lead = chunk.len() - chunk.trim_start().len();
    first_page + chunk[lead..at.max(lead)].matches('\x0c').count() as u32
}

#[cfg(test)]
mod page_tests {
    #[test]
    fn a_hit_is_on_the_page_of_its_first_word() {
        let chunk = "end of two\x0cthree has the Heron\x0cfour";
        let w = |s: &str| super::keyword::Terms::new(&[s.to_owned()], &[]);
        assert_eq!(super::hit_page(chunk, 2, &w("heron")), 3);
        assert_eq!(super::hit_page(chunk, 2, &w("four")), 4);
        assert_eq!(super::hit_page(chunk, 2, &w("end")), 2);
        assert_eq!(super::hit_page(chunk, 2, &w("absent")), 2);
        assert_eq!(super::hit_page("\x0cheron", 5, &w("heron")), 5);
        assert_eq!(super::hit_page("start\x0cart", 1, &w("art")), 2);
    }
}
