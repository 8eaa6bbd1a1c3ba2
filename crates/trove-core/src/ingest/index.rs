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
    let mut out = Vec::with_capacity(todo.len());
    let total = todo.len().max(1);
    for (i, batch) in todo.chunks(BATCH).enumerate() {
        let done = i * BATCH;
        ctx.progress(60 + (35 * done / total) as u8, "embedding", i == 0)?;
        let texts: Vec<&str> = batch.iter().map(|(_, t)| *t).collect();
        let vecs = emb.embed(&texts)?;
        if vecs.len() != texts.len() {
            return Err(JobError::transient(
                "the embedding model returned the wrong number of vectors",
            )
            .into());
        }
        ctx.stats.add_embeddings(vecs.len());
        out.extend(batch.iter().map(|(h, _)| h.clone()).zip(vecs));
    }
    ctx.progress(95, "indexing", true)?;
    Ok(Vectors {
        model,
        dims: emb.dims(),
        vectors: out,
    })
}

/// Embed every chunk the active model has no vector for. Returns how many vectors were
/// computed.
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
    let total = todo.len();
    for (done, batch) in todo.chunks(BATCH).enumerate() {
        progress(done * BATCH, total);
        let texts: Vec<&str> = batch.iter().map(|(_, t)| t.as_str()).collect();
        let vecs = emb.embed(&texts).map_err(|e| Error::Embed(e.to_string()))?;
        stats.add_embeddings(vecs.len());
        store.write(|tx, now| {
            vectors::insert(
                tx,
                &model,
                emb.dims(),
                batch
                    .iter()
                    .zip(&vecs)
                    .map(|((h, _), v)| (h.as_str(), v.as_slice())),
                now,
            )
        })?;
    }
    progress(total, total);
    Ok(total)
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
