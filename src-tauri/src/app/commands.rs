//! The commands the UI invokes, declared ONCE in [`trove_commands!`]: that list generates
//! the `#[tauri::command]` functions, the handler given to `tauri::generate_handler!`, and
//! the typed wrappers in `ui/src/bindings.ts` (see `bindings.rs`). Every command is a thin
//! call into the [`Engine`] run on a blocking thread (SQLite and dialogs block); failures
//! reach the page as `AppError { code, message }`.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use tauri::{AppHandle, Manager};
use trove_core::{
    AddReport, AskAnswer, AskEvent, AskTurn, ChunkView, Coverage, Engine, Folder, Item, ItemRef,
    Overview, QueueState, ScanReport, SearchResponse, Status,
};
use ts_rs::TS;

/// The channel `ask` streams its events on (a `Channel` of @tauri-apps/api on the page).
#[derive(TS)]
#[ts(rename = "Channel<AskEvent>")]
pub struct AskEvents(#[ts(type = "unknown")] pub tauri::ipc::Channel<AskEvent>);

impl<'de, R: tauri::Runtime> tauri::ipc::CommandArg<'de, R> for AskEvents {
    fn from_command(
        command: tauri::ipc::CommandItem<'de, R>,
    ) -> Result<Self, tauri::ipc::InvokeError> {
        tauri::ipc::Channel::from_command(command).map(AskEvents)
    }
}

/// Every rejected command rejects with this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// Stable, machine-readable: one of `ERROR_CODES` (`trove_core::Error::CODES`).
    #[ts(type = "ErrorCode")]
    pub code: String,
    /// A sentence for a person.
    pub message: String,
}

impl AppError {
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            code: "internal".into(),
            message: message.into(),
        }
    }
}

impl From<trove_core::Error> for AppError {
    fn from(e: trove_core::Error) -> Self {
        Self {
            code: e.code().into(),
            message: e.to_string(),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<trove_core::Error>() {
            Ok(core) => core.into(),
            Err(e) => Self::internal(format!("{e:#}")),
        }
    }
}

/// A setting as the Settings screen shows it (see `trove_runtime::settings`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingView {
    pub name: String,
    /// The value in use.
    pub value: String,
    #[ts(type = "\"default\" | \"stored\" | \"env\"")]
    pub source: String,
    /// The environment variable that overrides the saved value right now.
    pub env: Option<String>,
    /// What is saved (also when a variable overrides it).
    pub stored: Option<String>,
    pub default: String,
    pub about: String,
    #[ts(
        type = "\"int\" | \"number\" | \"switch\" | \"languages\" | \"command\" | \"service\" | \"text\" | \"secret\""
    )]
    pub kind: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Applies at once; otherwise when Trove next starts.
    pub live: bool,
}

/// The Settings screen: every setting, and where the library lives.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub settings: Vec<SettingView>,
    /// The database file.
    pub database: String,
    /// The folder with the app's log files (one a day, the last 7 kept).
    pub logs: Option<String>,
    /// How much of the library the embedding model in use has vectors for (None: keyword
    /// search only).
    pub semantic: Option<Coverage>,
}

/// Every setting at its default, in the Settings screen's order (also written into the
/// TypeScript bindings as `SETTINGS`, which the browser tests' fake backend serves).
pub fn default_settings() -> Vec<SettingView> {
    use trove_runtime::settings::{Kind, SETTINGS};
    SETTINGS
        .iter()
        .map(|s| {
            let (kind, min, max) = match s.kind {
                Kind::Int { min, max } => ("int", Some(min as f64), Some(max as f64)),
                Kind::Number { min, max } => ("number", Some(min), Some(max)),
                Kind::Switch => ("switch", None, None),
                Kind::Languages => ("languages", None, None),
                Kind::Command => ("command", None, None),
                Kind::Service => ("service", None, None),
                Kind::Text | Kind::Endpoint => ("text", None, None),
                Kind::Secret => ("secret", None, None),
            };
            SettingView {
                name: s.name.into(),
                value: s.default.into(),
                source: "default".into(),
                env: None,
                stored: None,
                default: s.default.into(),
                about: s.about.into(),
                kind: kind.into(),
                min,
                max,
                live: s.live,
            }
        })
        .collect()
}

fn settings_view(engine: &Engine) -> Result<SettingsView, AppError> {
    use trove_runtime::settings::{self, Source};
    let effective = settings::effective(&settings::stored_in(engine)?);
    let settings = default_settings()
        .into_iter()
        .zip(effective)
        .map(|(view, e)| SettingView {
            value: e.value,
            source: match e.source {
                Source::Default => "default",
                Source::Stored => "stored",
                Source::Env => "env",
            }
            .into(),
            env: e.env.map(Into::into),
            stored: e.stored,
            ..view
        })
        .collect();
    Ok(SettingsView {
        settings,
        database: engine.db_path().display().to_string(),
        logs: trove_runtime::log_dir().map(|d| d.display().to_string()),
        semantic: engine.semantic_coverage()?,
    })
}

/// A setting's refusal ("concurrency must be a whole number from 1 to 16") as `invalid`.
fn invalid(e: anyhow::Error) -> AppError {
    match e.downcast::<trove_core::Error>() {
        Ok(core) => core.into(),
        Err(e) => trove_core::Error::Invalid(format!("{e:#}")).into(),
    }
}

/// What a command body gets: the engine and the app (for dialogs).
pub struct Ctx {
    pub app: AppHandle,
    pub engine: Arc<Engine>,
}

/// Run a command body on a blocking thread.
async fn blocking<T: Send + 'static>(
    app: AppHandle,
    f: impl FnOnce(Ctx) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let engine = app.state::<Arc<Engine>>().inner().clone();
    tauri::async_runtime::spawn_blocking(move || f(Ctx { app, engine }))
        .await
        .unwrap_or_else(|e| Err(AppError::internal(format!("the command crashed: {e}"))))
}

/// The command list. Its shape: `fn name(ctx, arg: Type, …) -> Ret { body }`; Tauri names
/// the arguments in camelCase on the JavaScript side (`chunk_id` → `chunkId`).
macro_rules! trove_commands {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident($ctx:ident $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty $body:block
    )*) => {
        /// The `#[tauri::command]` functions.
        pub mod handlers {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[doc = $doc])*
                #[tauri::command]
                pub async fn $name(app: tauri::AppHandle $(, $arg: $ty)*) -> Result<$ret, AppError> {
                    blocking(app, move |$ctx: Ctx| -> Result<$ret, AppError> { $body }).await
                }
            )*
        }

        /// The invoke handler for `tauri::Builder::invoke_handler`.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(handlers::$name),*]
        }

        /// The same list, as data, for the TypeScript bindings.
        #[cfg(test)]
        pub fn specs() -> Vec<crate::app::bindings::CommandSpec> {
            vec![$(crate::app::bindings::CommandSpec {
                name: stringify!($name),
                docs: vec![$($doc),*],
                args: vec![$((stringify!($arg), <$ty as TS>::name())),*],
                ret: <$ret as TS>::name(),
            }),*]
        }
    };
}

/// Items listed at most (the UI virtualises the list; 10,000 rows are about 3 MB of JSON).
const LIST_LIMIT: u32 = 1_000_000;

trove_commands! {
    /// All items (or those of one status), newest first.
    fn list_items(ctx, status: Option<Status>) -> Vec<Item> {
        Ok(ctx.engine.list(status, None, LIST_LIMIT)?)
    }
    /// Opens the native "Add files" dialog; adds what was chosen.
    fn add_files_dialog(ctx) -> AddReport {
        add_picked(&ctx, pick(&ctx, false))
    }
    /// Opens the native "Add folder" dialog; the folder is watched (its files added now and
    /// kept in sync) unless the folder-sync setting is off (then its files are added once).
    fn add_folder_dialog(ctx) -> AddReport {
        Ok(add_dropped(&ctx.engine, &pick(&ctx, true))?)
    }
    /// Every watched folder: files, what was left out, state, last scan.
    fn list_folders(ctx) -> Vec<Folder> {
        Ok(ctx.engine.folders()?)
    }
    /// Watches a folder: its readable files are added now and followed from then on.
    fn add_folder(ctx, path: String, include: Vec<String>, exclude: Vec<String>) -> ScanReport {
        Ok(ctx.engine.add_folder(std::path::Path::new(&path), &include, &exclude)?.1)
    }
    /// Stops watching a folder; its items are removed too unless `keep_items`.
    fn remove_folder(ctx, id: u32, keep_items: bool) -> () {
        Ok(ctx.engine.remove_folder(i64::from(id), keep_items)?)
    }
    /// Looks for changes in a folder now.
    fn rescan_folder(ctx, id: u32) -> ScanReport {
        Ok(ctx.engine.scan_folder(i64::from(id))?)
    }
    /// New include/exclude globs for a folder; it is rescanned with them (files they leave
    /// out are removed, files they let in added).
    fn set_folder_rules(ctx, id: u32, include: Vec<String>, exclude: Vec<String>) -> Folder {
        Ok(ctx.engine.set_folder_rules(i64::from(id), &include, &exclude)?.0)
    }
    /// Pauses (false) or resumes following a folder's changes.
    fn set_folder_watching(ctx, id: u32, watching: bool) -> Folder {
        Ok(ctx.engine.set_folder_watching(i64::from(id), watching)?)
    }
    /// Adds http(s) links; invalid ones come back in `skipped` with a reason.
    fn add_urls(ctx, urls: Vec<String>) -> AddReport {
        Ok(ctx.engine.add_urls(&urls, false)?)
    }
    fn retry_item(ctx, id: String) -> Item {
        Ok(ctx.engine.retry(id.parse::<ItemRef>()?)?)
    }
    /// Returns how many failed items were queued again.
    fn retry_all_failed(ctx) -> usize {
        Ok(ctx.engine.retry_all_failed()?)
    }
    fn delete_item(ctx, id: String) -> () {
        Ok(ctx.engine.delete(id.parse::<ItemRef>()?)?)
    }
    fn overview(ctx) -> Overview {
        Ok(ctx.engine.overview()?)
    }
    fn set_paused(ctx, paused: bool) -> QueueState {
        Ok(ctx.engine.set_paused(paused)?)
    }
    fn set_concurrency(ctx, n: u32) -> QueueState {
        Ok(ctx.engine.set_concurrency(n)?)
    }
    /// Hybrid when an embedding model is installed, else keyword.
    fn search(ctx, query: String, limit: u32) -> SearchResponse {
        Ok(ctx.engine.search(&query, None, limit)?)
    }
    /// More like this: passages of other documents nearest in meaning to one passage, among
    /// what `filters` (the search syntax's type:, in:, after:, before:; "" for none) lets through.
    fn similar(ctx, chunk_id: i64, limit: u32, filters: String) -> SearchResponse {
        Ok(ctx.engine.similar(chunk_id, limit, &filters)?)
    }
    /// Answer a question from the library (passages first, then the answer's tokens on `events`).
    fn ask(ctx, question: String, history: Vec<AskTurn>, events: AskEvents) -> AskAnswer {
        let chat = trove_runtime::chat_model(&ctx.engine).map_err(invalid)?;
        let mut send = |e: AskEvent| {
            // A page that went away stops listening; the answer is still returned.
            let _ = events.0.send(e);
        };
        Ok(ctx.engine.ask(&question, &history, chat.as_deref(), &mut send)?)
    }
    fn open_chunk(ctx, chunk_id: i64) -> ChunkView {
        Ok(ctx.engine.open_chunk(chunk_id)?)
    }
    /// Fetches every link again (unchanged pages are not reprocessed). Returns how many.
    fn refresh_links(ctx) -> usize {
        Ok(ctx.engine.refresh_all_urls()?)
    }
    /// Embeds every chunk the installed model has no vector for yet. Returns how many
    /// vectors were computed.
    fn build_semantic_index(ctx) -> usize {
        Ok(ctx.engine.reindex(|_, _| {})?)
    }
    /// How many passages the embedding model in use has vectors for (polled while the
    /// semantic index is being built).
    fn semantic_coverage(ctx) -> Option<Coverage> {
        Ok(ctx.engine.semantic_coverage()?)
    }
    /// Opens an item with the desktop's application: a PDF at `page` where the viewer can be
    /// told one, the folder holding it with `reveal`, a link in the browser. Returns the
    /// command that was started.
    fn open_item(ctx, id: String, page: Option<u32>, reveal: bool) -> Vec<String> {
        use trove_runtime::{open, settings};
        let item = ctx.engine.item(id.parse::<ItemRef>()?)?;
        let viewer = settings::value(&settings::stored_in(&ctx.engine)?, "pdf-viewer");
        let cmd = open::open(&item, open::Target { page, reveal }, &viewer).map_err(invalid)?;
        Ok(cmd.iter().map(|w| w.to_string_lossy().into_owned()).collect())
    }
    /// Opens the folder that holds the database in the file manager.
    fn open_data_folder(ctx) -> () {
        let dir = ctx.engine.db_path().parent().map(PathBuf::from).unwrap_or_default();
        trove_runtime::open::folder(&dir).map_err(invalid)
    }
    /// Opens the folder of the app's log files in the file manager.
    fn open_log_folder(ctx) -> () {
        let _ = &ctx;
        let dir = trove_runtime::log_dir()
            .ok_or_else(|| AppError::internal("no home directory for the logs"))?;
        trove_runtime::open::folder(&dir).map_err(invalid)
    }
    /// Every setting, where its value comes from, and where the library lives.
    fn get_settings(ctx) -> SettingsView {
        settings_view(&ctx.engine)
    }
    /// Saves a setting (`null`: back to its default); returns the screen's new state.
    fn set_setting(ctx, name: String, value: Option<String>) -> SettingsView {
        use trove_runtime::settings;
        let s = settings::find(&name).map_err(invalid)?;
        // A command line (the PDF viewer) is set from the terminal only: the page must not
        // be able to choose a program and then run it through open_item.
        if matches!(s.kind, settings::Kind::Command) {
            return Err(trove_core::Error::Invalid(format!(
                "{name} is a command: set it with `trove config set {name} …` in a terminal"
            ))
            .into());
        }
        settings::store(&ctx.engine, s, value.as_deref()).map_err(invalid)?;
        if s.name.starts_with("embed") {
            // The new embedder serves the next search and item; what it has no vectors for
            // is offered to "Build semantic index" (the coverage says how much).
            trove_runtime::apply_embedder(&ctx.engine).map_err(invalid)?;
        }
        settings_view(&ctx.engine)
    }
}

/// Shows a native picker and waits (on this blocking thread) for the choice.
fn pick(ctx: &Ctx, folder: bool) -> Vec<PathBuf> {
    use tauri_plugin_dialog::DialogExt;
    let mut d = ctx.app.dialog().file().set_title(if folder {
        "Add a folder to Trove"
    } else {
        "Add files to Trove"
    });
    if let Some(w) = ctx.app.get_webview_window("main") {
        d = d.set_parent(&w);
    }
    let picked = if folder {
        d.blocking_pick_folder().map(|p| vec![p])
    } else {
        d.blocking_pick_files()
    };
    picked
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.into_path().ok())
        .collect()
}

/// What was dropped on the window (or picked as a folder): folders are watched (their
/// files added now and kept in sync) while the folder-sync setting is on (the default),
/// files added once. One report for all of them.
pub fn add_dropped(engine: &Engine, paths: &[PathBuf]) -> trove_core::Result<AddReport> {
    let sync = engine
        .setting(trove_core::store::settings::FOLDER_SYNC)?
        .is_none_or(|v| v != "off");
    if !sync {
        return engine.add_paths(paths);
    }
    let (dirs, files): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.iter().cloned().partition(|p| p.is_dir());
    let mut report = engine.add_paths(&files)?;
    for dir in dirs {
        match engine.add_folder(&dir, &[], &[]) {
            Ok((_, scan)) => {
                if let Ok(items) = engine.items(&scan.new_items) {
                    report.added.extend(items);
                }
                if !scan.skipped.is_empty() {
                    let kinds: Vec<String> = scan
                        .skipped
                        .iter()
                        .map(|(k, n)| format!("{n} {k}"))
                        .collect();
                    report.skipped.push(trove_core::Skipped {
                        input: dir.display().to_string(),
                        reason: format!(
                            "watched; left out {} (files Trove does not read)",
                            kinds.join(", ")
                        ),
                    });
                }
            }
            Err(e) => report.skipped.push(trove_core::Skipped {
                input: dir.display().to_string(),
                reason: e.to_string(),
            }),
        }
    }
    Ok(report)
}

fn add_picked(ctx: &Ctx, paths: Vec<PathBuf>) -> Result<AddReport, AppError> {
    if paths.is_empty() {
        return Ok(AddReport::default());
    }
    Ok(ctx.engine.add_paths(&paths)?)
}
