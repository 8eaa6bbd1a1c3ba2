//! The indexing step every item goes through: chunk the text, embed the chunks whose text
//! the embedding cache has no vector for yet. Also [`reindex`]: vectors for every chunk
//! the active model lacks (after a model appears or changes).

use std::collections::HashSet;
use std::ops::Range;

use super::{sha256_hex, JobCtx, RunResult};
use crate::chunk::chunk;
use crate::error::{Error, JobError, Result};
use crate::ports::{Embedder, Ports};
use crate::stats::Stats;
use crate::store::content::{Content, Vectors};
use crate::store::{vectors, Store};

/// Texts per embedder call.
const BATCH: usize = 32;

/// Chunk, and embed what the cache does not have yet. `paged`: the text's pages are
/// separated by form feeds (PDF), and each chunk records the pages it spans.
pub(super) fn index_text(ctx: &JobCtx<'_>, text: String, paged: bool) -> RunResult<Content> {
    ctx.progress(50, "chunking", true)?;
    let text = strip_markers(text);
    let ranges = chunk(&text, &ctx.config.chunk);
    if ranges.is_empty() {
        return Err(JobError::permanent("no text found in this file").into());
    }
    let hashes: Vec<String> = ranges
        .iter()
        .map(|r| sha256_hex(text[r.clone()].as_bytes()))
        .collect();
    let vectors = match ctx.ports.embedder() {
        Some(emb) => Some(embed_missing(ctx, emb.as_ref(), &text, &ranges, &hashes)?),
        None => None,
    };
    let pages = paged.then(|| crate::chunk::page_spans(&text, &ranges));
    Ok(Content {
        text,
        ranges,
        hashes,
        pages,
        vectors,
    })
}

fn embed_missing(
    ctx: &JobCtx<'_>,
    emb: &dyn Embedder,
    text: &str,
    ranges: &[Range<usize>],
    hashes: &[String],
) -> RunResult<Vectors> {
    let model = emb.model_id().to_owned();
    let cached = ctx.store.read(|c| vectors::cached(c, &model, hashes))?;
    let mut todo: Vec<(String, &str)> = Vec::new();
    let mut seen = HashSet::new();
    for (r, h) in ranges.iter().zip(hashes) {
        if !cached.contains(h) && seen.insert(h.clone()) {
            todo.push((h.clone(), &text[r.clone()]));
        }
    }
    let mut first = true;
    let out = embed_texts(emb, &todo, 0, ctx.stats, |done, total| {
        let pct = 60 + (35 * done / total.max(1)) as u8;
        let r = ctx.progress(pct, "embedding", first);
        first = false;
        r
    })?;
    ctx.progress(95, "indexing", true)?;
    Ok(Vectors {
        model,
        dims: emb.dims(),
        vectors: out,
    })
}

/// A chunk text's hash and its vectors: its own, then its windows'.
type TextVectors = (String, Vec<Vec<f32>>);

/// The vectors of each (hash, text): its own (unless `from` is 1: the text has it already)
/// and its windows' ([`Embedder::windows`]), embedded `BATCH` at a time; `progress(done,
/// total)` before each batch, in texts embedded.
fn embed_texts<E>(
    emb: &dyn Embedder,
    texts: &[(String, &str)],
    from: usize,
    stats: &Stats,
    mut progress: impl FnMut(usize, usize) -> std::result::Result<(), E>,
) -> std::result::Result<Vec<TextVectors>, E>
where
    E: From<JobError>,
{
    // Every piece to embed: (which text, the piece).
    let mut pieces: Vec<(usize, &str)> = Vec::new();
    for (i, (_, t)) in texts.iter().enumerate() {
        if from == 0 {
            pieces.push((i, t));
        }
        pieces.extend(emb.windows(t).into_iter().map(|w| (i, &t[w])));
    }
    let mut out: Vec<TextVectors> = texts.iter().map(|(h, _)| (h.clone(), Vec::new())).collect();
    for (n, batch) in pieces.chunks(BATCH).enumerate() {
        progress(n * BATCH, pieces.len())?;
        let strs: Vec<&str> = batch.iter().map(|(_, t)| *t).collect();
        let vecs = emb.embed(&strs)?;
        if vecs.len() != strs.len() {
            return Err(JobError::transient(
                "the embedding model returned the wrong number of vectors",
            )
            .into());
        }
        stats.add_embeddings(vecs.len());
        for ((i, _), v) in batch.iter().zip(vecs) {
            out[*i].1.push(v);
        }
    }
    Ok(out)
}

/// Embed every chunk the active model has no vector for, and the windows of chunks whose
/// vectors were stored before windows existed. Returns how many texts were embedded.
pub fn reindex(
    store: &Store,
    ports: &Ports,
    stats: &Stats,
    progress: impl Fn(usize, usize),
) -> Result<usize> {
    let emb = ports
        .embedder()
        .ok_or_else(|| Error::Invalid("no embedding model is installed".into()))?;
    let model = emb.model_id().to_owned();
    let todo = store.read(|c| vectors::missing(c, &model))?;
    let older = store.read(|c| vectors::unwindowed_count(c, &model))? as usize;
    let total = todo.len() + older;
    let mut done = 0;
    for batch in todo.chunks(BATCH) {
        progress(done, total);
        let texts: Vec<(String, &str)> =
            batch.iter().map(|(h, t)| (h.clone(), t.as_str())).collect();
        let vecs = embed_texts(emb.as_ref(), &texts, 0, stats, |_, _| Ok(()))
            .map_err(|e: JobError| Error::Embed(e.to_string()))?;
        store.write(|tx, now| {
            vectors::insert(
                tx,
                &model,
                emb.dims(),
                vecs.iter().map(|(h, v)| (h.as_str(), v.as_slice())),
                now,
            )
        })?;
        done += batch.len();
    }
    loop {
        progress(done.min(total), total);
        let n = complete_windows(store, emb.as_ref(), stats, BATCH)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    progress(total, total);
    Ok(done)
}

/// Windows for up to `limit` chunk texts whose vector of the active model was stored
/// before windows existed (migration 0014): the upgrade of an older library, done by the
/// worker when it has nothing else to do, and by [`reindex`]. Returns how many texts it
/// completed (0: none left).
pub fn complete_windows(
    store: &Store,
    emb: &dyn Embedder,
    stats: &Stats,
    limit: usize,
) -> Result<usize> {
    let model = emb.model_id().to_owned();
    let todo = store.read(|c| vectors::unwindowed(c, &model, limit))?;
    if todo.is_empty() {
        return Ok(0);
    }
    let texts: Vec<(String, &str)> = todo.iter().map(|(h, t)| (h.clone(), t.as_str())).collect();
    let vecs = embed_texts(emb, &texts, 1, stats, |_, _| Ok(()))
        .map_err(|e: JobError| Error::Embed(e.to_string()))?;
    store.write(|tx, now| {
        for (hash, windows) in &vecs {
            vectors::insert_parts(
                tx,
                &model,
                emb.dims(),
                hash,
                1,
                windows,
                1 + windows.len(),
                now,
            )?;
        }
        Ok(())
    })?;
    Ok(todo.len())
}

/// U+0002 and U+0003 mark highlighted words in search snippets: a document containing them
/// could forge highlights, so they are dropped from the text before it is stored.
pub(crate) fn strip_markers(text: String) -> String {
    if text.contains(['\u{2}', '\u{3}']) {
        text.replace(['\u{2}', '\u{3}'], "")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn highlight_markers_are_stripped() {
        let forged = "plain \u{2}fake highlight\u{3} text".to_owned();
        assert_eq!(super::strip_markers(forged), "plain fake highlight text");
        assert_eq!(super::strip_markers("as is".into()), "as is");
    }
}
