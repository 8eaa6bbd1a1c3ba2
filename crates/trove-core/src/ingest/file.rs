//! Acquiring a file: read it (bounded), recognise a duplicate by its bytes, sniff and
//! extract its text (risky formats in the sandbox), then index it.

use std::path::Path;

use trove_extract::file::Version;

use super::{extract_error, index, sha256_hex, JobCtx, RunResult};
use crate::config::ExtractMode;
use crate::error::JobError;
use crate::store::content::Outcome;
use crate::store::items;

pub(super) fn ingest(ctx: &JobCtx<'_>) -> RunResult<Outcome> {
    let (p, name) = ctx.store.read(|c| items::file_source(c, ctx.job.item.id))?;
    ctx.progress(5, "reading", true)?;
    // Regular files only (a path swapped for a FIFO or a device fails at once), every
    // read capped: the file is not necessarily what it was when it was added.
    let (file, meta) = trove_extract::file::open_regular(&p).map_err(extract_error)?;
    let before = Version::of(&meta);
    let limits = &ctx.config.limits;
    ctx.deadline.extend_for(meta.len());
    let bytes = trove_extract::file::read_capped(file, meta.len(), limits.max_input_bytes)
        .map_err(extract_error)?;
    unchanged(&p, before)?;
    let sha = sha256_hex(&bytes);
    let size = Some(bytes.len() as i64);
    let duplicate = ctx
        .store
        .read(|c| items::find_duplicate(c, &sha, ctx.job.item))?;
    if let Some(original) = duplicate {
        return Ok(Outcome {
            sha256: Some(sha),
            size,
            duplicate_of: Some(original),
            ..Default::default()
        });
    }
    ctx.progress(10, "extracting", true)?;
    let kind = trove_extract::detect(&bytes, Some(&name)).map_err(extract_error)?;
    let extracted = match sandbox(ctx) {
        Some(pool) if kind.is_risky() => {
            drop(bytes);
            pool.extract(&p, limits, &mut |pr| ocr_progress(ctx, pr))
        }
        _ => {
            trove_extract::extract_with_progress(&bytes, Some(&name), Some(&p), limits, &mut |pr| {
                ocr_progress(ctx, pr)
            })
        }
    }
    .map_err(extract_error)?;
    // The sandbox child reads the file again: it must still be the version hashed above.
    unchanged(&p, before)?;
    let paged = extracted.pages.is_some();
    // Formats whose title names the document better than its file name does (a PDF's or
    // a Word file's metadata title is often stale: "Microsoft Word - Document1").
    let title = match extracted.kind {
        trove_extract::DocKind::Eml
        | trove_extract::DocKind::Mbox
        | trove_extract::DocKind::Epub => extracted.title.filter(|t| !t.trim().is_empty()),
        _ => None,
    };
    let content = index::index_text(ctx, extracted.text, paged)?;
    // And once more before it is stored: a change while it was chunked and embedded would
    // otherwise leave an older version in the library, with nothing to read it again. What
    // was embedded still fits its passages: kept in the embedding cache, the next attempt
    // embeds only the passages that changed.
    if let Err(changed) = unchanged(&p, before) {
        if let Some(v) = &content.vectors {
            ctx.store.write(|tx, now| v.store(tx, now))?;
        }
        return Err(changed);
    }
    Ok(Outcome {
        title,
        mime: Some(extracted.kind.mime().to_owned()),
        kind_label: Some(extracted.kind.label().to_owned()),
        sha256: Some(sha),
        size,
        content: Some(content),
        extractor: extracted.extractor,
        metadata: extracted.metadata,
        ..Default::default()
    })
}

/// Fails the attempt (to be retried shortly) when the file was written while it was read,
/// so what is stored always matches one version of it.
fn unchanged(p: &Path, before: Version) -> RunResult<()> {
    let now = Version::now(p).map_err(extract_error)?;
    if now == before {
        Ok(())
    } else {
        Err(JobError::retry_after(
            "the file changed while Trove was reading it",
            CHANGED_RETRY_MS,
        )
        .into())
    }
}

/// How soon a file that changed while read is read again.
const CHANGED_RETRY_MS: u64 = 2_000;

/// The sandbox children, when extraction is sandboxed.
fn sandbox<'c>(ctx: &JobCtx<'c>) -> Option<&'c trove_extract::sandbox::SandboxPool> {
    match &ctx.config.extract {
        ExtractMode::Sandbox(pool) => Some(pool),
        ExtractMode::InProcess => None,
    }
}

/// OCR pages as the job's progress ("OCR page 3 of 12"), between 10 % and 80 %; each page
/// also moves the job's deadline, so a long scan is not stopped while it advances.
fn ocr_progress(ctx: &JobCtx<'_>, p: trove_extract::Progress) {
    let page_time = ctx
        .config
        .limits
        .ocr
        .as_ref()
        .map_or(std::time::Duration::from_secs(60), |o| o.page_timeout());
    ctx.deadline
        .at_least(page_time + std::time::Duration::from_secs(60));
    let total = p.total.max(1);
    let pct = 10 + (70 * p.done.min(total) / total) as u8;
    let stage = format!("OCR page {} of {}", (p.done + 1).min(p.total), p.total);
    // A lost lease shows at the next stage; progress is only a report.
    let _ = ctx.progress(pct, &stage, p.done == 0);
}

/// A PDF that came from the web: in the sandbox when extraction is sandboxed (the parser
/// may panic or hang on hostile input), through a private temporary file.
pub(super) fn pdf_bytes(ctx: &JobCtx<'_>, bytes: Vec<u8>) -> RunResult<trove_extract::Extracted> {
    ctx.deadline.extend_for(bytes.len() as u64);
    let extracted = match sandbox(ctx) {
        Some(pool) => {
            let tmp_err = |e: std::io::Error| {
                JobError::transient(format!("cannot write a temporary file: {e}"))
            };
            let mut tmp = tempfile::Builder::new()
                .prefix("trove-page-")
                .suffix(".pdf")
                .tempfile()
                .map_err(tmp_err)?;
            std::io::Write::write_all(&mut tmp, &bytes).map_err(tmp_err)?;
            drop(bytes);
            pool.extract(tmp.path(), &ctx.config.limits, &mut |pr| {
                ocr_progress(ctx, pr)
            })
        }
        None => trove_extract::extract_with_progress(
            &bytes,
            Some("page.pdf"),
            None,
            &ctx.config.limits,
            &mut |pr| ocr_progress(ctx, pr),
        ),
    };
    Ok(extracted.map_err(extract_error)?)
}
