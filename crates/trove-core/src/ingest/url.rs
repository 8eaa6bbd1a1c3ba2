//! Acquiring a link: fetch it through the [`Fetcher`](crate::ports::Fetcher) port
//! (conditionally when something is indexed to fall back on), keep the chunks when the
//! page did not change, extract a PDF body like a PDF file, then index it.

use super::{file, index, JobCtx, RunError, RunResult};
use crate::error::JobError;
use crate::ports::{FetchRequest, Fetched};
use crate::store::content::{Outcome, PageMeta};
use crate::store::{crawl, items};

pub(super) fn scrape(ctx: &JobCtx<'_>) -> RunResult<Outcome> {
    let id = ctx.job.item.id;
    let (src, crawl_scope) = ctx
        .store
        .read(|c| Ok((items::url_source(c, id)?, crawl::scope_for(c, id)?)))?;
    let fetcher = ctx.ports.fetcher().ok_or_else(|| {
        JobError::permanent("fetching web pages is not available in this build of Trove")
    })?;
    ctx.progress(10, "fetching", true)?;
    // Conditional request only when something is indexed to fall back on.
    let have_content = src.chunk_count > 0 && src.sha256.is_some();
    let req = FetchRequest {
        url: src.url.clone(),
        etag: src.etag.filter(|_| have_content),
        last_modified: src.last_modified.filter(|_| have_content),
        ignore_robots: src.ignore_robots,
        crawl_scope,
    };
    let cancel = ctx.cancel.clone();
    let fetched = tokio::runtime::Handle::try_current()
        .map_err(|_| JobError::permanent("internal error: no async runtime to fetch with"))?
        .block_on(async move {
            tokio::select! {
                r = fetcher.fetch(req) => Some(r),
                _ = cancel.cancelled() => None,
            }
        })
        .ok_or(RunError::LeaseLost)??;
    let page = match fetched {
        Fetched::NotModified { final_url } => {
            return Ok(Outcome {
                page: Some(PageMeta {
                    final_url,
                    title: None,
                    http_status: Some(304),
                    etag: None,
                    last_modified: None,
                    links: Vec::new(),
                }),
                ..Default::default()
            })
        }
        Fetched::Page(p) => p,
    };
    let meta = PageMeta {
        final_url: page.final_url.clone(),
        title: page.title.clone(),
        http_status: Some(page.http_status),
        etag: page.etag.clone(),
        last_modified: page.last_modified.clone(),
        links: page.links.clone(),
    };
    let mut outcome = Outcome {
        mime: Some(page.content_type.clone()),
        sha256: Some(page.sha256.clone()),
        size: Some(page.size as i64),
        page: Some(meta),
        ..Default::default()
    };
    if have_content && src.sha256.as_deref() == Some(page.sha256.as_str()) {
        // Same bytes as last time: keep the chunks and vectors, just record the visit.
        return Ok(outcome);
    }
    let (text, paged) = match page.pdf {
        Some(bytes) => {
            ctx.progress(20, "extracting", true)?;
            let pdf = file::pdf_bytes(ctx, bytes)?;
            outcome.extractor = pdf.extractor;
            (pdf.text, pdf.pages.is_some())
        }
        None => (page.text, false),
    };
    outcome.content = Some(index::index_text(ctx, text, paged)?);
    Ok(outcome)
}
