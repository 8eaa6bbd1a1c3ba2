//! Adding files, folders and links: rows are inserted `pending` with their jobs in ONE
//! transaction and the call returns; nothing is read or processed here.

use std::path::{Path, PathBuf};

use crate::clock::{db_ts, rfc3339};
use crate::error::{Error, Result};
use crate::model::{AddReport, CrawlOptions, Item, ItemKind, ItemRef, Skipped, Status};
use crate::store::events::{self, EventKind, NewEvent};
use crate::store::{crawl, items, jobs, Store};
use crate::url::normalize_url;

/// Add files and directories (recursively; hidden entries skipped).
pub fn paths(store: &Store, inputs: &[PathBuf], max_attempts: u32) -> Result<AddReport> {
    let mut report = AddReport::default();
    let mut files: Vec<(PathBuf, String, i64)> = Vec::new();
    for input in inputs {
        let abs = if input.is_absolute() {
            input.clone()
        } else {
            std::env::current_dir()?.join(input)
        };
        let meta = match std::fs::metadata(&abs) {
            Ok(m) => m,
            Err(e) => {
                report.skipped.push(Skipped {
                    input: input.display().to_string(),
                    reason: io_reason(&e),
                });
                continue;
            }
        };
        if meta.is_dir() {
            let walker = walkdir::WalkDir::new(&abs)
                .follow_links(false)
                .sort_by_file_name()
                .into_iter();
            for entry in walker.filter_entry(|e| {
                e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
            }) {
                match entry {
                    Ok(e) if e.file_type().is_file() => {
                        let size = e.metadata().map(|m| m.len() as i64).unwrap_or(0);
                        files.push((e.path().to_path_buf(), name_of(e.path()), size));
                    }
                    Ok(_) => {}
                    Err(e) => report.skipped.push(Skipped {
                        input: e
                            .path()
                            .map_or_else(|| abs.display().to_string(), |p| p.display().to_string()),
                        reason: e.io_error().map_or_else(|| e.to_string(), io_reason),
                    }),
                }
            }
        } else if meta.is_file() {
            files.push((abs.clone(), name_of(&abs), meta.len() as i64));
        } else {
            report.skipped.push(Skipped {
                input: input.display().to_string(),
                reason: "not a regular file or folder".into(),
            });
        }
    }
    report.added = store.write(|tx, now| {
        let ts = db_ts(now);
        let mut added = Vec::with_capacity(files.len());
        for (path, name, size) in &files {
            let path_s = path.to_string_lossy();
            if let Some(id) = items::file_by_path(tx, path)? {
                report.skipped.push(Skipped {
                    input: path_s.into_owned(),
                    reason: format!("already in the library as {}", ItemRef::file(id)),
                });
                continue;
            }
            let mime = mime_from_name(name);
            let item = items::insert_file(tx, name, path, mime, *size, now)?;
            let job_id = enqueue(tx, item, max_attempts, now)?;
            added.push(Item {
                id: item,
                kind: ItemKind::File,
                name: name.clone(),
                location: path_s.into_owned(),
                mime: mime.map(str::to_owned),
                size: Some(*size),
                status: Status::Pending,
                progress: 0,
                stage: None,
                error: None,
                job_id: Some(job_id),
                attempts: 0,
                max_attempts,
                chunk_count: 0,
                duplicate_of: None,
                added_at: rfc3339(&ts),
                updated_at: rfc3339(&ts),
                extractor: None,
                missing_since: None,
                metadata: Vec::new(),
            });
        }
        Ok(added)
    })?;
    Ok(report)
}

/// Add links to scrape (http(s) only; duplicates after normalisation are reported). With
/// `crawl`, each is the start of a same-site crawl.
pub fn urls(
    store: &Store,
    inputs: &[String],
    ignore_robots: bool,
    crawl: Option<CrawlOptions>,
    max_attempts: u32,
) -> Result<AddReport> {
    if crawl.is_some_and(|o| o.max_pages == 0) {
        return Err(Error::Invalid("a crawl needs at least one page".into()));
    }
    let mut report = AddReport::default();
    let mut urls = Vec::new();
    for input in inputs.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match normalize_url(input) {
            Ok(u) => urls.push(u),
            Err(reason) => report.skipped.push(Skipped {
                input: input.to_owned(),
                reason,
            }),
        }
    }
    report.added = store.write(|tx, now| {
        let mut refs = Vec::new();
        for url in &urls {
            if let Some(id) = items::url_by_address(tx, url)? {
                report.skipped.push(Skipped {
                    input: url.clone(),
                    reason: format!("already in the library as {}", ItemRef::url(id)),
                });
                continue;
            }
            let item = items::insert_url(tx, url, ignore_robots, now)?;
            if let Some(opts) = &crawl {
                crawl::start(tx, item.id, opts)?;
            }
            enqueue(tx, item, max_attempts, now)?;
            refs.push(item);
        }
        items::get_many(tx, &refs)
    })?;
    Ok(report)
}

/// Queue a just-inserted item's job and record its `added` event; returns the job id.
pub(crate) fn enqueue(
    tx: &rusqlite::Transaction<'_>,
    item: ItemRef,
    max_attempts: u32,
    now: i64,
) -> Result<String> {
    let job_id = jobs::enqueue(tx, item, max_attempts, now)?;
    events::record(
        tx,
        now,
        EventKind::Added,
        NewEvent {
            item: Some(item),
            status: Some(Status::Pending),
            ..Default::default()
        },
    )?;
    Ok(job_id)
}

pub(crate) fn name_of(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// A first guess from the name, shown while the item waits; processing sniffs the content.
pub(crate) fn mime_from_name(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "txt" | "log" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "html" | "htm" => "text/html",
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "csv" => "text/csv",
        "json" => "application/json",
        "odt" => "application/vnd.oasis.opendocument.text",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xls" => "application/vnd.ms-excel",
        "doc" => "application/msword",
        "ppt" => "application/vnd.ms-powerpoint",
        "epub" => "application/epub+zip",
        "rtf" => "application/rtf",
        "eml" => "message/rfc822",
        "mbox" => "application/mbox",
        _ => return None,
    })
}
