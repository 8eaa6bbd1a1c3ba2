//! Watched folders, followed while a worker runs (the app, `trove work`): every folder is
//! scanned once at start (changes made while Trove was closed), then file system events
//! (inotify through `notify`, merged by `notify-debouncer-full`: a rename pair is one
//! change, an editor's write-to-temp-then-rename one save) mark their folder for a rescan,
//! which does the rest (`Engine::scan_folder` reads only what changed). A folder past the
//! system's limit of watches is rescanned every minute instead, and says so; a folder that
//! is not there is checked again every minute and keeps its items meanwhile.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify_debouncer_full::notify::{self, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult};
use trove_core::Engine;

/// Events closer together than this are merged.
const DEBOUNCE: Duration = Duration::from_millis(300);
/// Folders without watches (past the limit, or not there) are rescanned this often.
const POLL_EVERY: Duration = Duration::from_secs(60);
/// The folder list is read again this often (folders added or removed elsewhere).
const REFRESH_EVERY: Duration = Duration::from_secs(2);
/// A changed file that was being processed is looked at again this soon.
const BUSY_RETRY: Duration = Duration::from_secs(2);

/// The watcher's thread; stops when dropped.
pub struct FolderWatcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FolderWatcher {
    /// Scan every watched folder now, then follow them on a thread of its own.
    pub fn start(engine: Arc<Engine>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("trove-folders".into())
            .spawn(move || run(&engine, &flag))
            .ok();
        Self { stop, thread }
    }
}

impl Drop for FolderWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Scan every watched folder that is not paused once (catch-up: `trove work --until-idle`
/// and the start of the watcher). Returns the reports.
pub fn scan_all(engine: &Engine) -> Vec<trove_core::ScanReport> {
    let Ok(folders) = engine.folders() else {
        return Vec::new();
    };
    folders
        .iter()
        .filter(|f| f.watching)
        .filter_map(|f| match engine.scan_folder(f.id) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(folder = f.id, "scanning {}: {e}", f.path);
                None
            }
        })
        .collect()
}

fn run(engine: &Engine, stop: &AtomicBool) {
    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer = match new_debouncer(DEBOUNCE, None, tx) {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!("cannot watch folders ({e}); they are rescanned every minute");
            None
        }
    };
    // folder id → its root, while watched by inotify
    let mut watched: HashMap<i64, PathBuf> = HashMap::new();
    // folder id → when to rescan it
    let mut due: HashMap<i64, Instant> = HashMap::new();
    let mut roots: Vec<(i64, PathBuf, bool)> = Vec::new();
    // folder id → when watching it last failed (not tried again before POLL_EVERY)
    let mut failed: HashMap<i64, Instant> = HashMap::new();
    let mut refreshed = Instant::now() - REFRESH_EVERY;
    while !stop.load(Ordering::SeqCst) {
        if refreshed.elapsed() >= REFRESH_EVERY {
            refreshed = Instant::now();
            let Ok(list) = engine.folder_roots() else {
                std::thread::sleep(Duration::from_millis(200));
                continue;
            };
            roots = list
                .iter()
                .map(|(f, r)| (f.id, r.clone(), f.watching))
                .collect();
            let wanted: HashSet<i64> = list
                .iter()
                .filter(|(f, _)| f.watching)
                .map(|(f, _)| f.id)
                .collect();
            // Stop watching what was removed or paused.
            for id in watched.keys().copied().collect::<Vec<_>>() {
                if !wanted.contains(&id) {
                    if let (Some(root), Some(d)) = (watched.remove(&id), debouncer.as_mut()) {
                        let _ = d.unwatch(&root);
                    }
                    due.remove(&id);
                }
            }
            for (f, root) in list.iter().filter(|(f, _)| f.watching) {
                if watched.contains_key(&f.id)
                    || failed.get(&f.id).is_some_and(|t| t.elapsed() < POLL_EVERY)
                {
                    continue;
                }
                if !root.is_dir() {
                    failed.insert(f.id, Instant::now());
                    // Scanned (below) to say it is unavailable, unless a rescan is already
                    // planned; looked at again later.
                    due.entry(f.id).or_insert_with(Instant::now);
                    continue;
                }
                match debouncer
                    .as_mut()
                    .map(|d| d.watch(root, RecursiveMode::Recursive))
                {
                    Some(Ok(())) => {
                        failed.remove(&f.id);
                        watched.insert(f.id, root.clone());
                        if f.state == "polling" {
                            let _ = engine.set_folder_state(f.id, "ok", None);
                        }
                        // Catch up with what changed while nobody watched.
                        due.insert(f.id, Instant::now());
                    }
                    Some(Err(e)) => {
                        let why = match e.kind {
                            notify::ErrorKind::MaxFilesWatch => "the system's limit of watched folders is reached (raise fs.inotify.max_user_watches): checking for changes every minute instead".to_owned(),
                            _ => format!("cannot follow changes ({e}): checking every minute instead"),
                        };
                        if let Some(d) = debouncer.as_mut() {
                            let _ = d.unwatch(root);
                        }
                        failed.insert(f.id, Instant::now());
                        tracing::warn!(folder = f.id, "{}: {why}", f.path);
                        let _ = engine.set_folder_state(f.id, "polling", Some(&why));
                        due.entry(f.id).or_insert_with(Instant::now);
                    }
                    None => {
                        due.entry(f.id).or_insert_with(Instant::now);
                    }
                }
            }
        }

        // Events: mark the folders they happened in.
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Ok(events)) => {
                let soon = Instant::now();
                for ev in &events {
                    for p in &ev.paths {
                        for (id, root, on) in &roots {
                            if *on && p.starts_with(root) {
                                due.entry(*id).or_insert(soon);
                            }
                        }
                    }
                }
            }
            Ok(Err(errors)) => {
                for e in errors {
                    tracing::warn!("watching folders: {e}");
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(Duration::from_millis(200));
            }
        }

        // Rescan what is due.
        let now = Instant::now();
        let ready: Vec<i64> = due
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in ready {
            due.remove(&id);
            match engine.scan_folder(id) {
                Ok(r) => {
                    if r.added + r.changed + r.removed + r.renamed > 0 {
                        tracing::info!(
                            folder = id,
                            added = r.added,
                            changed = r.changed,
                            removed = r.removed,
                            renamed = r.renamed,
                            "folder rescanned"
                        );
                    }
                    if r.busy > 0 {
                        due.insert(id, Instant::now() + BUSY_RETRY);
                    }
                    if r.unavailable {
                        // Gone: its watch goes with it; it is looked at again later.
                        if let (Some(root), Some(d)) = (watched.remove(&id), debouncer.as_mut()) {
                            let _ = d.unwatch(&root);
                        }
                    }
                    if !watched.contains_key(&id) {
                        due.insert(id, Instant::now() + POLL_EVERY);
                    }
                }
                Err(trove_core::Error::NotFound(_)) => {
                    watched.remove(&id);
                }
                Err(e) => {
                    tracing::warn!(folder = id, "rescanning: {e}");
                    due.insert(id, Instant::now() + POLL_EVERY);
                }
            }
        }
    }
    if let Some(d) = debouncer {
        d.stop_nonblocking();
    }
}
