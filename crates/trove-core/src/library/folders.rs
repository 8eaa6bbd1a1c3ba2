//! Watched folders: a folder whose files are kept in sync with the library. A scan walks
//! it (`.gitignore`, `.ignore`, hidden files and the folder's own globs honoured; symlinks
//! not followed; the library's own folder never), compares each file's size and time with
//! what the last scan saw, and in ONE transaction queues new and changed files, moves
//! renamed ones, and removes the items of files that are gone. A rescan of unchanged
//! files reads no file contents; only new files are opened (their first bytes, to know
//! their type) and candidates for a move (hashed, to recognise them).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::add;
use crate::error::{Error, Result};
use crate::model::{Folder, ItemRef, ScanReport};
use crate::store::events::{self, EventKind, NewEvent};
use crate::store::folders::{self, FolderFile};
use crate::store::{items, jobs, Store};

/// What a scan needs besides the folder: where the library lives (never indexed) and
/// whether images can be read (OCR).
pub struct ScanEnv<'a> {
    pub data_dir: Option<&'a Path>,
    pub max_attempts: u32,
    /// Keep the items of deleted files, marked missing (the keep-missing setting), instead
    /// of removing them.
    pub keep_missing: bool,
}

/// Start watching `dir`, and scan it once. Globs are checked here.
pub fn add(
    store: &Store,
    env: &ScanEnv<'_>,
    dir: &Path,
    include: &[String],
    exclude: &[String],
) -> Result<(Folder, ScanReport)> {
    let abs = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir()?.join(dir)
    };
    let root = std::fs::canonicalize(&abs).map_err(|e| {
        Error::Invalid(format!(
            "cannot watch {}: {}",
            abs.display(),
            add::io_reason(&e)
        ))
    })?;
    if !root.is_dir() {
        return Err(Error::Invalid(format!(
            "{} is not a folder (add files with `trove add`)",
            root.display()
        )));
    }
    if let Some(data) = env.data_dir.and_then(|d| std::fs::canonicalize(d).ok()) {
        // (A folder that contains the library, such as the home folder, is fine: the walk
        // leaves the library's folder out.)
        if root.starts_with(&data) {
            return Err(Error::Invalid(format!(
                "{} is inside Trove's own library folder ({}); choose a folder outside it",
                root.display(),
                data.display()
            )));
        }
    }
    overrides(&root, include, exclude)?;
    let id = store.write(|tx, now| {
        if let Some(id) = folders::by_root(tx, &root)? {
            return Err(Error::Conflict(format!(
                "{} is already watched (folder {id})",
                root.display()
            )));
        }
        folders::insert(tx, &root, include, exclude, now)
    })?;
    let report = scan(store, env, id)?;
    let folder = store.read(|c| folders::get(c, id))?.folder;
    Ok((folder, report))
}

/// Stop watching a folder. Its items are removed too unless `keep_items` (then they stay
/// as ordinary files).
pub fn remove(store: &Store, id: i64, keep_items: bool, max_attempts: u32) -> Result<()> {
    store.write(|tx, now| {
        folders::get(tx, id)?;
        if !keep_items {
            for f in folders::files(tx, id)? {
                super::changes::delete_in(tx, ItemRef::file(f.id), max_attempts, now)?;
            }
        }
        folders::delete(tx, id)
    })
}

/// A file found on disk.
struct Seen {
    path: PathBuf,
    size: i64,
    mtime_ms: i64,
}

/// Walk the folder and bring its items in line with the files. See the module docs.
pub fn scan(store: &Store, env: &ScanEnv<'_>, id: i64) -> Result<ScanReport> {
    let started = std::time::Instant::now();
    let row = store.read(|c| folders::get(c, id))?;
    let root = row.root.clone();
    let mut report = ScanReport {
        folder: id,
        ..Default::default()
    };
    if !root.is_dir() {
        // Unplugged or deleted: its items stay (and stay searchable) until it is back.
        let why = format!(
            "{} is not there (an unplugged drive, or moved or deleted?); its items are kept until it is back",
            root.display()
        );
        store.write(|tx, _| folders::set_state(tx, id, "unavailable", Some(&why)))?;
        report.unavailable = true;
        return Ok(report);
    }

    // ---- the walk (no transaction open)
    let data_dir = env.data_dir.and_then(|d| std::fs::canonicalize(d).ok());
    let mut seen: Vec<Seen> = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    let walker = ignore::WalkBuilder::new(&root)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .ignore(true)
        .parents(false)
        .follow_links(false)
        .overrides(overrides(&root, &row.folder.include, &row.folder.exclude)?)
        .filter_entry(move |e| data_dir.as_deref().is_none_or(|d| !e.path().starts_with(d)))
        .build();
    for entry in walker {
        match entry {
            Ok(e) => {
                let Some(ft) = e.file_type() else { continue };
                if !ft.is_file() {
                    continue;
                }
                match e.metadata() {
                    Ok(m) => seen.push(Seen {
                        path: e.into_path(),
                        size: m.len() as i64,
                        mtime_ms: mtime_ms(&m),
                    }),
                    Err(err) => unreadable.push(err.to_string()),
                }
            }
            Err(err) => unreadable.push(walk_error(&err)),
        }
    }

    // ---- compare with what the library has
    let known = store.read(|c| folders::files(c, id))?;
    let mut by_path: HashMap<PathBuf, FolderFile> =
        known.into_iter().map(|f| (f.path.clone(), f)).collect();
    let mut new: Vec<Seen> = Vec::new();
    let mut changed: Vec<(i64, Seen)> = Vec::new();
    // Missing files that are back as they were.
    let mut back: Vec<(i64, Seen)> = Vec::new();
    for s in seen {
        match by_path.remove(&s.path) {
            Some(k) if k.size == Some(s.size) && k.mtime_ms == Some(s.mtime_ms) => {
                report.unchanged += 1;
                if k.missing {
                    back.push((k.id, s));
                }
            }
            Some(k) if k.processing => report.busy += 1,
            Some(k) => changed.push((k.id, s)),
            None => new.push(s),
        }
    }
    // What is left of the library's files is gone from disk, or moved: a new file with the
    // same size and the same bytes as a gone one is that one, moved.
    let mut gone: Vec<FolderFile> = by_path.into_values().collect();
    let mut moves: Vec<(i64, Seen)> = Vec::new();
    if !gone.is_empty() {
        let mut rest = Vec::with_capacity(new.len());
        for s in new {
            let candidates: Vec<usize> = gone
                .iter()
                .enumerate()
                .filter(|(_, g)| g.size == Some(s.size) && g.sha256.is_some())
                .map(|(i, _)| i)
                .collect();
            if candidates.is_empty() {
                rest.push(s);
                continue;
            }
            report.reads += 1;
            let sha = std::fs::read(&s.path)
                .ok()
                .map(|b| crate::store::sha256_hex(&b));
            match candidates
                .into_iter()
                .find(|&i| sha.is_some() && gone[i].sha256 == sha)
            {
                Some(i) => moves.push((gone.swap_remove(i).id, s)),
                None => rest.push(s),
            }
        }
        new = rest;
    }
    // New files: their first bytes say whether Trove can read them.
    let mut to_add: Vec<(Seen, Option<i64>)> = Vec::new();
    for s in new {
        report.reads += 1;
        match classify(&s.path, &row.folder.include) {
            Ok(()) => to_add.push((s, None)),
            Err(kind) => *report.skipped.entry(kind).or_default() += 1,
        }
    }

    // What is still gone: deleted (removed, or kept as missing), or still on disk but no
    // longer walked (now excluded or ignored: removed), or behind a folder that could not
    // be read this time (left as it is: nothing is removed on a doubt).
    let mut remove: Vec<i64> = Vec::new();
    let mut mark_missing: Vec<i64> = Vec::new();
    for g in &gone {
        match std::fs::symlink_metadata(&g.path) {
            Ok(_) => remove.push(g.id),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if g.missing {
                    report.missing += 1;
                } else if env.keep_missing {
                    mark_missing.push(g.id);
                } else {
                    remove.push(g.id);
                }
            }
            Err(_) => {}
        }
    }

    // ---- one transaction
    store.write(|tx, now| {
        for (item, s) in &back {
            folders::set_file_version(tx, *item, id, s.size, s.mtime_ms)?;
        }
        for (item, s) in &changed {
            folders::set_file_version(tx, *item, id, s.size, s.mtime_ms)?;
            jobs::retry_item(tx, ItemRef::file(*item), env.max_attempts, now)?;
        }
        report.changed = changed.len() as u32;
        for (item, s) in &moves {
            folders::move_file(tx, *item, &s.path, &add::name_of(&s.path), s.mtime_ms)?;
            updated(tx, *item, now)?;
        }
        report.renamed = moves.len() as u32;
        for (s, _) in &mut to_add {
            // A file added on its own before the folder was: it joins the folder.
            if let Some(item) = items::file_by_path(tx, &s.path)? {
                let (size, mtime) = folders::file_version(tx, item)?;
                folders::set_file_version(tx, item, id, s.size, s.mtime_ms)?;
                if size != Some(s.size) || mtime.is_some_and(|m| m != s.mtime_ms) {
                    jobs::retry_item(tx, ItemRef::file(item), env.max_attempts, now)?;
                }
                continue;
            }
            let name = add::name_of(&s.path);
            let item =
                items::insert_file(tx, &name, &s.path, add::mime_from_name(&name), s.size, now)?;
            folders::set_file_version(tx, item.id, id, s.size, s.mtime_ms)?;
            add::enqueue(tx, item, env.max_attempts, now)?;
            report.new_items.push(item);
            report.added += 1;
        }
        for item in &remove {
            super::changes::delete_in(tx, ItemRef::file(*item), env.max_attempts, now)?;
        }
        report.removed = remove.len() as u32;
        for item in &mark_missing {
            folders::set_missing(tx, *item, now)?;
            updated(tx, *item, now)?;
        }
        report.missing += mark_missing.len() as u32;
        let message = (!unreadable.is_empty()).then(|| unreadable_message(&unreadable));
        folders::record_scan(
            tx,
            id,
            &report.skipped,
            message.as_deref(),
            started.elapsed().as_millis() as i64,
            now,
        )
    })?;
    Ok(report)
}

/// Tell watchers (the window) that a file item changed without being processed again.
fn updated(tx: &rusqlite::Transaction<'_>, item: i64, now: i64) -> Result<()> {
    events::record(
        tx,
        now,
        EventKind::Updated,
        NewEvent {
            item: Some(ItemRef::file(item)),
            ..Default::default()
        },
    )
}

/// Modification time in ms since the epoch (0 when the file system has none).
fn mtime_ms(m: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    m.mtime() * 1000 + m.mtime_nsec() / 1_000_000
}

/// The folder's include/exclude globs, relative to its root.
fn overrides(
    root: &Path,
    include: &[String],
    exclude: &[String],
) -> Result<ignore::overrides::Override> {
    let mut b = ignore::overrides::OverrideBuilder::new(root);
    for g in include {
        b.add(g)
            .map_err(|e| Error::Invalid(format!("not a valid pattern: {g:?} ({e})")))?;
    }
    for g in exclude {
        b.add(&format!("!{}", g.trim_start_matches('!')))
            .map_err(|e| Error::Invalid(format!("not a valid pattern: {g:?} ({e})")))?;
    }
    b.build()
        .map_err(|e| Error::Invalid(format!("the folder's patterns: {e}")))
}

/// Ok when Trove reads this kind of file; else the kind it is counted under when skipped
/// ("images", "videos", "archives", …). Images are left out unless the folder's include
/// patterns ask for them (OCR of a photo folder is rarely what anyone wants).
fn classify(path: &Path, include: &[String]) -> std::result::Result<(), String> {
    use std::io::Read;
    let mut head = Vec::with_capacity(8192);
    let read = std::fs::File::open(path).and_then(|f| f.take(8192).read_to_end(&mut head));
    if let Err(e) = read {
        return Err(match e.kind() {
            std::io::ErrorKind::PermissionDenied => "unreadable".into(),
            _ => "other".into(),
        });
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    match trove_extract::detect(&head, name.as_deref()) {
        Ok(kind) if kind.is_image() && include.is_empty() => Err("images".into()),
        Ok(_) => Ok(()),
        Err(trove_extract::ExtractError::Empty) => Err("empty".into()),
        Err(trove_extract::ExtractError::Unsupported { mime, .. }) => Err(category(&mime).into()),
        Err(_) => Err("other".into()),
    }
}

fn category(mime: &str) -> &'static str {
    match mime.split('/').next().unwrap_or("") {
        "image" => "images",
        "video" => "videos",
        "audio" => "audio",
        _ if mime.contains("zip")
            || mime.contains("tar")
            || mime.contains("compressed")
            || mime.contains("x-7z")
            || mime.contains("rar") =>
        {
            "archives"
        }
        _ => "other",
    }
}

fn walk_error(e: &ignore::Error) -> String {
    match e {
        ignore::Error::WithPath { path, err } => {
            format!("{} ({})", path.display(), walk_error(err))
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(err)
        }
        ignore::Error::Io(io) => add::io_reason(io),
        other => other.to_string(),
    }
}

/// "Could not read 2 folders: /a/b (permission denied), /a/c (permission denied)".
fn unreadable_message(errors: &[String]) -> String {
    let shown: Vec<&str> = errors.iter().take(3).map(String::as_str).collect();
    let more = errors.len().saturating_sub(shown.len());
    let mut s = format!(
        "Could not read {} {}: {}",
        errors.len(),
        if errors.len() == 1 {
            "entry"
        } else {
            "entries"
        },
        shown.join(", ")
    );
    if more > 0 {
        s.push_str(&format!(", and {more} more"));
    }
    s
}

/// Every folder, with its counts.
pub fn list(store: &Store) -> Result<Vec<Folder>> {
    Ok(store
        .read(folders::list)?
        .into_iter()
        .map(|r| r.folder)
        .collect())
}

/// The folders and their roots, for the watcher.
pub fn roots(store: &Store) -> Result<Vec<(Folder, PathBuf)>> {
    Ok(store
        .read(folders::list)?
        .into_iter()
        .map(|r| (r.folder, r.root))
        .collect())
}

/// New include/exclude globs for a folder, then a rescan: files the new rules leave out are
/// removed, files they let in are added.
pub fn set_rules(
    store: &Store,
    env: &ScanEnv<'_>,
    id: i64,
    include: &[String],
    exclude: &[String],
) -> Result<(Folder, ScanReport)> {
    let root = store.read(|c| folders::get(c, id))?.root;
    overrides(&root, include, exclude)?;
    store.write(|tx, _| folders::set_rules(tx, id, include, exclude))?;
    let report = scan(store, env, id)?;
    let folder = store.read(|c| folders::get(c, id))?.folder;
    Ok((folder, report))
}

pub fn set_watching(store: &Store, id: i64, watching: bool) -> Result<Folder> {
    store.write(|tx, _| {
        folders::set_watching(tx, id, watching)?;
        Ok(folders::get(tx, id)?.folder)
    })
}

pub fn set_state(store: &Store, id: i64, state: &str, message: Option<&str>) -> Result<()> {
    store.write(|tx, _| folders::set_state(tx, id, state, message))
}
