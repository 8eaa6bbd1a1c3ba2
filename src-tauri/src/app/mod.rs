//! The desktop window (Tauri 2). The engine stays GUI-free; this module wires it up:
//! commands (`commands.rs`), batched events (`events.rs`), the worker pool in the
//! background, drops handled in Rust (their add report emitted to the page), desktop
//! notifications, one instance per database.

#[cfg(test)]
pub mod bindings;
pub mod commands;
pub mod events;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tauri::{AppHandle, DragDropEvent, Emitter, Manager, RunEvent, WindowEvent};
use trove_core::worker::{WorkerHandle, WorkerOptions};
use trove_core::Engine;

/// In-flight jobs get this long to finish on exit before they are released to the queue.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The worker pool, taken on exit.
struct Worker(Mutex<Option<WorkerHandle>>);

/// The watched folders' watcher, stopped on exit.
struct Folders(Mutex<Option<trove_runtime::watch::FolderWatcher>>);

pub fn run(db: PathBuf) -> ExitCode {
    // Flushes the log file when the app ends.
    let _log = trove_runtime::init_app_logging();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        db = %db.display(),
        model = %trove_embed_dir(),
        "Trove starting"
    );
    let engine = match trove_runtime::open_engine(&db) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!("cannot open {}: {e:#}", db.display());
            eprintln!("trove: cannot open {}: {e:#}", db.display());
            startup_error_window(&db, &e);
            return ExitCode::from(1);
        }
    };
    let app = match build(engine, &db) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("trove: cannot start the window: {e:#}");
            return ExitCode::from(1);
        }
    };
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            stop_worker(app);
        }
    });
    ExitCode::SUCCESS
}

/// Where the embedding model is looked for (for the log).
fn trove_embed_dir() -> String {
    trove_runtime::model_dir().display().to_string()
}

fn build(engine: Arc<Engine>, db: &Path) -> tauri::Result<tauri::App> {
    tauri::Builder::default()
        // First plugin, so a second instance forwards and exits before anything else starts.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(instance_id(db))
                .callback(|app, _argv, _cwd| focus_main(app))
                .build(),
        )
        // Size, position and maximised state as the window was last closed (not its
        // visibility: the window always opens shown).
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::all()
                        - tauri_plugin_window_state::StateFlags::VISIBLE,
                )
                .build(),
        )
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .manage(engine)
        .manage(Worker(Mutex::new(None)))
        .manage(Folders(Mutex::new(None)))
        .invoke_handler(commands::handler())
        .on_window_event(|window, event| {
            // The drop itself is handled here (the page shows the drag state, then the
            // report: the same `AddReport` as the dialogs, on `events::DROP_CHANNEL`).
            if let WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) = event {
                let app = window.app_handle().clone();
                let engine = window.state::<Arc<Engine>>().inner().clone();
                let paths = paths.clone();
                tauri::async_runtime::spawn_blocking(move || {
                    // Dropped folders are watched (kept in sync); files are added once.
                    let outcome = match commands::add_dropped(&engine, &paths) {
                        Ok(report) => events::DropOutcome::Added { report },
                        Err(e) => {
                            tracing::warn!("adding dropped files: {e}");
                            events::DropOutcome::Failed { error: e.into() }
                        }
                    };
                    if let Err(e) = app.emit(events::DROP_CHANNEL, &outcome) {
                        tracing::warn!("emitting the drop report: {e}");
                    }
                });
            }
        })
        .setup(|app| {
            let engine = app.state::<Arc<Engine>>().inner().clone();
            // The pool must be started inside the runtime; it keeps running on it.
            let handle = tauri::async_runtime::block_on(async {
                engine.start_worker(WorkerOptions {
                    shutdown_grace: SHUTDOWN_GRACE,
                    ..Default::default()
                })
            });
            *app.state::<Worker>()
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(handle);
            // Watched folders: caught up now, then followed while the window is open.
            *app.state::<Folders>()
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner()) =
                Some(trove_runtime::watch::FolderWatcher::start(engine.clone()));
            tauri::async_runtime::spawn(events::pump(app.handle().clone(), engine));
            exit_on_sigterm(app.handle().clone());
            Ok(())
        })
        .build(tauri::generate_context!())
}

/// Cancel the pool and wait for it: in-flight jobs finish within the grace period or are
/// released back to the queue (not lost; the attempt does not count).
fn stop_worker(app: &AppHandle) {
    drop(
        app.state::<Folders>()
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(),
    );
    let handle = app
        .state::<Worker>()
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    if let Some(h) = handle {
        // The timer must be created inside the runtime.
        let r = tauri::async_runtime::block_on(async move {
            tokio::time::timeout(SHUTDOWN_GRACE + Duration::from_secs(5), h.shutdown()).await
        });
        match r {
            Ok(Ok(s)) => tracing::info!(
                completed = s.completed,
                released = s.released,
                "worker stopped"
            ),
            Ok(Err(e)) => tracing::warn!("worker stopped with an error: {e}"),
            Err(_) => tracing::warn!("worker did not stop in time"),
        }
    }
}

/// SIGTERM/SIGINT (logout, `kill`, Ctrl-C in a terminal) exit through the same graceful path.
fn exit_on_sigterm(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        app.exit(0);
    });
}

/// A person who opened Trove from the menu never sees stderr: say in a window why the
/// library cannot be opened and where it is, then quit.
fn startup_error_window(db: &Path, error: &anyhow::Error) {
    let _ = rfd::MessageDialog::new()
        .set_level(rfd::MessageLevel::Error)
        .set_title(STARTUP_ERROR_TITLE)
        .set_description(startup_error_text(db, error))
        .set_buttons(rfd::MessageButtons::Ok)
        .show();
}

/// What went wrong and what to do about it, for each way opening the library fails: a
/// newer Trove's library, a file or folder this user cannot write, a damaged file, other.
fn startup_error_text(db: &Path, error: &anyhow::Error) -> String {
    let dir = db.parent().unwrap_or(db);
    let name = db.file_name().unwrap_or_default().to_string_lossy();
    let detail = format!("{error:#}");
    let lower = detail.to_lowercase();
    let newer = error
        .chain()
        .find_map(|c| match c.downcast_ref::<trove_core::Error>() {
            Some(trove_core::Error::NewerSchema { found, known }) => Some((*found, *known)),
            _ => None,
        });
    let (what, todo) = if let Some((found, known)) = newer {
        (
            format!(
                "It was last used by a newer version of Trove (library format {found}; this \
                 Trove reads up to {known})."
            ),
            "Install the newer Trove again to use it. To start over with this version \
             instead, move the file to another folder (keep it: the newer Trove can still \
             open it) and start Trove again."
                .to_owned(),
        )
    } else if lower.contains("read-only") || lower.contains("permission denied") {
        (
            detail.clone(),
            format!(
                "Make the folder {} and the files in it yours and writable (for example with \
                 the file manager's Properties → Permissions), then start Trove again.",
                dir.display()
            ),
        )
    } else if lower.contains("not a database") || lower.contains("malformed") {
        (
            "The file is damaged, or it is not a Trove library.".to_owned(),
            format!(
                "Restore it from a backup (backups made before upgrades sit next to it as \
                 {name}.backup-…), or move it to another folder to start an empty library."
            ),
        )
    } else {
        (
            format!("The reason: {detail}"),
            "If the disk is full, free some space. If the file is damaged, move it to another \
             folder to start an empty library."
                .to_owned(),
        )
    };
    format!(
        "Trove could not open its library at\n{}\n\n{what}\n\nNothing was changed. {todo}\n\n\
         The folder is {}. The log files are in {}.",
        db.display(),
        dir.display(),
        trove_runtime::log_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "(no home folder)".into()),
    )
}

/// The title of [`startup_error_window`] (the end-to-end test looks for it).
const STARTUP_ERROR_TITLE: &str = "Trove cannot open its library";

fn focus_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// One instance per database: the D-Bus name carries a hash of the database's path.
fn instance_id(db: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let canon = db
        .parent()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .map(|p| p.join(db.file_name().unwrap_or_default()))
        .unwrap_or_else(|| db.to_path_buf());
    // FNV-1a: stable across builds (std's hasher is not guaranteed to be).
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    canon.hash(&mut h);
    format!("app.trove.desktop.db{:016x}", h.finish())
}

/// A desktop notification when the queue goes idle after work (errors ignored: there may
/// be no notification daemon).
pub(crate) fn notify_batch(app: &AppHandle, completed: u32, failed: u32) {
    use tauri_plugin_notification::NotificationExt;
    let body = match (completed, failed) {
        (c, 0) => format!("{c} item(s) processed."),
        (0, f) => format!("{f} item(s) failed."),
        (c, f) => format!("{c} item(s) processed, {f} failed."),
    };
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(e) = app
            .notification()
            .builder()
            .title("Trove")
            .body(body)
            .show()
        {
            tracing::debug!("notification not shown: {e}");
        }
    });
}

#[cfg(test)]
mod startup_tests {
    use std::path::Path;

    #[test]
    fn each_way_of_failing_to_open_says_what_to_do() {
        let db = Path::new("/home/u/.local/share/trove/trove.db");
        let newer: anyhow::Error = trove_core::Error::NewerSchema {
            found: 12,
            known: 9,
        }
        .into();
        let t = super::startup_error_text(db, &newer.context("opening"));
        assert!(
            t.contains("newer version of Trove") && t.contains("format 12"),
            "{t}"
        );
        assert!(t.contains("Install the newer Trove"), "{t}");

        let ro = anyhow::anyhow!("the folder /x is read-only for you: Trove needs to write to it");
        let t = super::startup_error_text(db, &ro);
        assert!(
            t.contains("read-only for you") && t.contains("writable"),
            "{t}"
        );

        let bad = anyhow::anyhow!("file is not a database");
        let t = super::startup_error_text(db, &bad);
        assert!(
            t.contains("damaged") && t.contains("trove.db.backup-"),
            "{t}"
        );
        assert!(t.starts_with(
            "Trove could not open its library at\n/home/u/.local/share/trove/trove.db"
        ));

        let other = anyhow::anyhow!("disk I/O error");
        let t = super::startup_error_text(db, &other);
        assert!(t.contains("The reason: disk I/O error"), "{t}");
    }
}
