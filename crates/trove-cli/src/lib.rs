//! The `trove` command line. The same binary is the desktop app: with no arguments it
//! opens the window (see `src-tauri`), otherwise it runs one of these commands against the
//! database, headless.

mod output;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use trove_core::worker::WorkerOptions;
use trove_core::{Engine, ItemKind, ItemRef, SearchMode, Status};

#[derive(Debug, Parser)]
#[command(
    name = "trove",
    version,
    about = "Trove: a local knowledge base for your files and web pages.",
    after_long_help = exit_codes_help()
)]
pub struct Cli {
    /// Database file [default: $XDG_DATA_HOME/trove/trove.db]
    #[arg(long, env = "TROVE_DB", global = true)]
    pub db: Option<PathBuf>,
    /// Machine-readable output
    #[arg(long, global = true)]
    pub json: bool,
    /// More log lines on stderr (-v: information, -vv: debugging)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    File,
    Url,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Keyword,
    Semantic,
    Hybrid,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add files, folders (recursively) and http(s) links. Returns at once; run `trove work`
    /// (or the app) to process them.
    Add {
        /// Files, folders or links. File names need not be valid UTF-8. `-` reads more of
        /// them from stdin, one per line (`find … | trove add -`).
        #[arg(required = true, value_name = "PATH_OR_URL")]
        inputs: Vec<std::ffi::OsString>,
        /// Fetch links even where robots.txt disallows it
        #[arg(long)]
        ignore_robots: bool,
        /// Crawl the site from each link: follow same-site links as their own items
        #[arg(long)]
        crawl: bool,
        /// Crawl: clicks away from the start page
        #[arg(long, default_value_t = trove_core::CrawlOptions::default().max_depth, requires = "crawl")]
        depth: u32,
        /// Crawl: at most this many pages, the start page included
        #[arg(long, default_value_t = trove_core::CrawlOptions::default().max_pages, requires = "crawl")]
        max_pages: u32,
        /// Crawl: stay under the start page's folder
        #[arg(long, requires = "crawl")]
        same_prefix: bool,
    },
    /// List items, newest first
    List {
        #[arg(long, value_parser = parse_status)]
        status: Option<Status>,
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
    /// One item with its job: attempts, progress, error, timings
    Show {
        id: String,
        /// Print the extracted text instead, with a marker at each page of a PDF
        #[arg(long)]
        text: bool,
    },
    /// Counts by status
    Status,
    /// Failed items with their errors
    Failed {
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Items pending for longer than a while (stuck?)
    Stuck {
        #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
        older_than: Duration,
    },
    /// Processing-time distribution of completed items
    Stats,
    /// Process an item again (new job, fresh attempts), or every failed item
    Retry {
        #[arg(required_unless_present = "all_failed", conflicts_with = "all_failed")]
        id: Option<String>,
        #[arg(long)]
        all_failed: bool,
    },
    /// Fetch links again (one, or --all). Unchanged pages (304 Not Modified, or the same
    /// content) are not re-chunked or re-embedded
    Refresh {
        #[arg(required_unless_present_any = ["all", "every"], conflicts_with_all = ["all", "every"])]
        id: Option<String>,
        #[arg(long, conflicts_with = "every")]
        all: bool,
        /// Let the worker refresh links by itself this often ("24h", "7d"; "off" to stop)
        #[arg(long, value_name = "INTERVAL")]
        every: Option<String>,
    },
    /// Delete an item, its text and index entries; cancels its job
    Delete { id: String },
    /// Open an item with the desktop's application (a PDF at --page where the viewer can),
    /// its folder (--reveal), or a link in the browser
    Open {
        id: String,
        /// For a PDF: the page to show (search hits say "p. N")
        #[arg(long, conflicts_with = "reveal")]
        page: Option<u32>,
        /// Show the folder that holds the file
        #[arg(long)]
        reveal: bool,
        /// Print the command instead of running it
        #[arg(long)]
        print: bool,
    },
    /// Search everything added. Words; "exact phrase"; prefix*; -exclude (after `--`:
    /// `trove search -- heron -draft`); filters
    /// type:pdf|word|slides|sheet|email|book|html|markdown|text|image|code|link|file|<extension>,
    /// in:<part of a path or address>, after:YYYY-MM-DD, before:YYYY-MM-DD
    Search {
        #[arg(required = true)]
        query: Vec<String>,
        #[arg(long, value_enum)]
        mode: Option<ModeArg>,
        #[arg(long, default_value_t = 10)]
        limit: u32,
    },
    /// More like this: passages of other documents nearest in meaning to one passage (its
    /// number is in `trove search`'s output), optionally among what filters let through
    /// (`trove similar 42 type:pdf in:Notes after:2026-01-01`, `-- … -draft`)
    Similar {
        passage: i64,
        /// Filters of the search syntax (type:, in:, after:, before:, -word)
        filters: Vec<String>,
        #[arg(long, default_value_t = 10)]
        limit: u32,
    },
    /// Answer a question from the library, citing its passages ([1], [2]…). The answer is
    /// written by the chat endpoint of the settings (chat-url); without one, the best
    /// passages are shown. Nothing close in the library: "I don't know"
    Ask {
        #[arg(required = true)]
        question: Vec<String>,
        /// A follow-up: send the last questions and answers along
        #[arg(long = "continue")]
        follow_up: bool,
    },
    /// Serve the library to LLM clients (Claude Desktop, Cursor, Zed, LM Studio…) as a
    /// Model Context Protocol server on stdin/stdout. Read-only unless --allow-writes
    Mcp {
        /// Also offer the `add` and `retry` tools (they change the library)
        #[arg(long)]
        allow_writes: bool,
    },
    /// Run the background worker headless
    Work {
        /// Stop when nothing is left to do
        #[arg(long)]
        until_idle: bool,
        /// Jobs at a time [default: the saved setting, 2]
        #[arg(long)]
        concurrency: Option<u32>,
    },
    /// Stream status and progress changes as they happen
    Watch {
        /// Also print the events already recorded
        #[arg(long)]
        from_start: bool,
        /// Stop after this many events (for scripts)
        #[arg(long)]
        count: Option<usize>,
        /// Print what is recorded and exit instead of waiting for more
        #[arg(long)]
        no_follow: bool,
    },
    /// Pause the queue (running jobs finish; no new ones start)
    Pause,
    /// Resume the queue
    Resume,
    /// Set how many jobs run at once
    Concurrency { n: u32 },
    /// Watched folders: their files are kept in sync with the library while a worker runs
    /// (the app or `trove work`); `trove add <folder>` adds a folder's files once
    Folders {
        #[command(subcommand)]
        action: FoldersCmd,
    },
    /// Settings shared by the app and the command line (kept in the database)
    Config {
        #[command(subcommand)]
        action: ConfigCmd,
    },
    /// Embed every chunk that has no vector for the active model yet
    Reindex,
    /// Schema migrations
    Migrate {
        #[command(subcommand)]
        action: MigrateCmd,
    },
    /// Shell completions for bash, zsh, fish, elvish or PowerShell, on stdout
    Completions { shell: clap_complete::Shell },
    /// Internal: the manual page (roff), on stdout; the .deb installs it as trove(1)
    #[command(name = "__man", hide = true)]
    Man,
    /// Internal: serve extraction requests on stdin as a sandboxed child process
    #[command(name = "__extract", hide = true)]
    Extract,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Every setting: its value, where it comes from, what it does
    List,
    /// One setting's value
    Get { name: String },
    /// Change a setting (an environment variable, where one is set, still wins). A value of
    /// `-` is read from stdin (for embed-key, so the key stays out of the shell's history)
    Set { name: String, value: String },
    /// Back to the default
    Unset { name: String },
}

#[derive(Debug, Subcommand)]
pub enum FoldersCmd {
    /// Watch a folder: its readable files are added now, and followed from then on
    /// (.gitignore'd, hidden and unreadable files are left out, and counted)
    Add {
        dir: PathBuf,
        /// Only files matching this glob (repeatable; e.g. '*.md')
        #[arg(long, value_name = "GLOB")]
        include: Vec<String>,
        /// Leave out files or folders matching this glob (repeatable; e.g. 'drafts/')
        #[arg(long, value_name = "GLOB")]
        exclude: Vec<String>,
    },
    /// Every watched folder: files, what was left out, last scan, state
    List,
    /// Stop watching a folder; its items are removed too unless --keep-items
    Remove {
        id: i64,
        #[arg(long)]
        keep_items: bool,
    },
    /// Look for changes now (one folder, or all)
    Rescan { id: Option<i64> },
    /// Change a folder's include/exclude globs (the folder is rescanned: files now left
    /// out are removed, files now let in are added)
    Edit {
        id: i64,
        /// Only files matching this glob; replaces the folder's include globs (repeatable)
        #[arg(long, value_name = "GLOB")]
        include: Vec<String>,
        /// Leave out files matching this glob; replaces the exclude globs (repeatable)
        #[arg(long, value_name = "GLOB")]
        exclude: Vec<String>,
        /// Drop the include globs (every readable file)
        #[arg(long, conflicts_with = "include")]
        no_include: bool,
        /// Drop the exclude globs
        #[arg(long, conflicts_with = "exclude")]
        no_exclude: bool,
    },
    /// Stop following a folder's changes (its items stay)
    Pause { id: i64 },
    /// Follow a folder's changes again
    Resume { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum MigrateCmd {
    /// Current and known schema versions
    Status,
    /// Apply migrations (to the latest, or --to N)
    Up(MigrateTo),
    /// Roll back (one step, or --to N). Backs the database up first; asks before it
    /// drops anything (or pass --yes)
    Down(MigrateDown),
}

#[derive(Debug, Args)]
pub struct MigrateDown {
    #[arg(long)]
    pub to: Option<u32>,
    /// Don't ask: rolling back drops columns and tables (a backup is made first)
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct MigrateTo {
    #[arg(long)]
    pub to: Option<u32>,
}

fn parse_status(s: &str) -> std::result::Result<Status, String> {
    s.parse().map_err(|e: trove_core::Error| e.to_string())
}

fn parse_ref(s: &str) -> Result<ItemRef> {
    Ok(s.parse::<ItemRef>()?)
}

/// Where `trove ask` keeps the last turns for `--continue`.
const ASK_HISTORY_SETTING: &str = "ask.history";

fn ask(
    engine: &trove_core::Engine,
    out: &output::Out,
    question: &str,
    follow_up: bool,
) -> Result<ExitCode> {
    use trove_core::model::{AskEvent, AskTurn};
    let mut history: Vec<AskTurn> = if follow_up {
        engine
            .setting(ASK_HISTORY_SETTING)?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let chat = trove_runtime::chat_model(engine)?;
    let a = engine.ask(question, &history, chat.as_deref(), &mut |e| match e {
        AskEvent::Passages {
            passages,
            relevant,
            answering,
        } => out.ask_passages(&passages, relevant, answering),
        AskEvent::Token { text } => out.ask_token(&text),
    })?;
    out.ask_done(&a);
    if let Some(answer) = &a.answer {
        history.push(AskTurn {
            question: a.question.clone(),
            answer: answer.clone(),
        });
        let keep = history
            .len()
            .saturating_sub(trove_core::ask::ASK_HISTORY_TURNS);
        engine.set_setting(
            ASK_HISTORY_SETTING,
            Some(&serde_json::to_string(&history[keep..])?),
        )?;
    }
    if let Some(e) = &a.error {
        // The passages are what there is (they were held back for the answer).
        out.ask_passages(&a.passages, a.relevant, false);
        if !out.json {
            eprintln!("trove: no answer written: {e}");
        }
        return Ok(ExitCode::from(1));
    }
    if a.endpoint.is_none() && a.relevant && !out.json {
        eprintln!(
            "To have an answer written from these passages, set a chat endpoint: \
             trove config set chat-url http://localhost:11434/v1 (Ollama; or llama.cpp server, \
             LM Studio, OpenAI) and chat-model."
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// On a terminal, ask before a rollback; anywhere else the answer is no (use --yes).
fn confirm_rollback(cur: u32, target: u32) -> Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    eprint!(
        "Roll the database back from schema version {cur} to {target}? This drops columns \
         and tables (a backup is made first). [y/N] "
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

pub fn db_path(cli: &Cli) -> Result<PathBuf> {
    match &cli.db {
        Some(p) => Ok(p.clone()),
        None => trove_runtime::default_db_path(),
    }
}

/// Run the CLI with these arguments. Errors are printed by the caller.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let Some(command) = &cli.command else {
        bail!("no command given; run `trove --help`");
    };
    match command {
        Command::Extract => return Ok(trove_extract::sandbox::child_main()),
        // These need no database.
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "trove", &mut std::io::stdout());
            return Ok(ExitCode::SUCCESS);
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let path = db_path(&cli)?;
    let out = output::Out { json: cli.json };
    if let Command::Migrate { action } = command {
        let mut conn = trove_core::db::open_raw(&path)?;
        match action {
            MigrateCmd::Status => out.migrate_status(&trove_core::migrate::status(&conn)?),
            MigrateCmd::Up(t) => {
                let v = trove_core::migrate::up(&mut conn, t.to)?;
                out.migrated("applied", &v, trove_core::migrate::current(&conn)?, None);
            }
            MigrateCmd::Down(t) => {
                let cur = trove_core::migrate::current(&conn)?;
                let target = t.to.unwrap_or(cur.saturating_sub(1));
                if target >= cur {
                    out.migrated("rolled back", &[], cur, None);
                    return Ok(ExitCode::SUCCESS);
                }
                if !t.yes && !confirm_rollback(cur, target)? {
                    bail!(
                        "rolling back from schema version {cur} to {target} drops data; \
                         run again with --yes to go ahead (a backup is made first)"
                    );
                }
                let backup = trove_core::migrate::backup(&conn, &path)?;
                let v = trove_core::migrate::down(&mut conn, t.to)?;
                let now = trove_core::migrate::current(&conn)?;
                out.migrated("rolled back", &v, now, Some(&backup));
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let engine = trove_runtime::open_engine(&path)?;
    match command {
        Command::Add {
            inputs,
            ignore_robots,
            crawl,
            depth,
            max_pages,
            same_prefix,
        } => {
            // Links are text; paths stay as the OS spells them (not always UTF-8).
            let mut urls = Vec::new();
            let mut paths = Vec::new();
            for input in expand_stdin(inputs)? {
                let input = &input;
                match input.to_str() {
                    Some(s) if looks_like_url(s) => urls.push(s.to_owned()),
                    _ => paths.push(PathBuf::from(input)),
                }
            }
            let mut report = engine.add_paths(&paths)?;
            if !urls.is_empty() {
                let r = if *crawl {
                    let opts = trove_core::CrawlOptions {
                        max_depth: *depth,
                        max_pages: *max_pages,
                        same_prefix: *same_prefix,
                    };
                    engine.add_crawl(&urls, *ignore_robots, opts)?
                } else {
                    engine.add_urls(&urls, *ignore_robots)?
                };
                report.added.extend(r.added);
                report.skipped.extend(r.skipped);
            }
            out.add_report(&report);
            if report.added.is_empty() && !report.skipped.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        Command::List {
            status,
            kind,
            limit,
        } => {
            let kind = kind.map(|k| match k {
                KindArg::File => ItemKind::File,
                KindArg::Url => ItemKind::Url,
            });
            out.items(&engine.list(*status, kind, *limit)?);
        }
        Command::Show { id, text: false } => {
            let (item, job) = engine.show(parse_ref(id)?)?;
            out.show(&item, job.as_ref());
        }
        Command::Show { id, text: true } => {
            let r = parse_ref(id)?;
            let (item, _) = engine.show(r)?;
            out.text(&item, &engine.document_text(r)?);
        }
        Command::Status => {
            let files = engine.counts(Some(ItemKind::File))?;
            let urls = engine.counts(Some(ItemKind::Url))?;
            out.status(&files, &urls, &engine.queue_state()?);
        }
        Command::Failed { limit } => out.failed(&engine.failed(*limit)?),
        Command::Stuck { older_than } => {
            out.stuck(&engine.stuck(older_than.as_millis() as i64)?, *older_than);
        }
        Command::Stats => out.stats(&engine.distribution()?),
        Command::Retry { id, all_failed } => {
            if *all_failed {
                let n = engine.retry_all_failed()?;
                out.message(
                    &format!("{n} failed item(s) queued again"),
                    serde_json::json!({ "retried": n }),
                );
            } else if let Some(id) = id {
                let item = engine.retry(parse_ref(id)?)?;
                out.message(
                    &format!(
                        "{} queued again as {}",
                        item.id,
                        item.job_id.as_deref().unwrap_or("?")
                    ),
                    &item,
                );
            }
        }
        Command::Refresh { id, all, every } => {
            if let Some(every) = every {
                let d =
                    match every.trim() {
                        "off" | "never" | "0" => None,
                        v => Some(humantime::parse_duration(v).with_context(|| {
                            format!("not an interval: {v:?} (try 24h, 7d or off)")
                        })?),
                    };
                engine.set_refresh_every(d)?;
                let text = match d {
                    Some(d) => format!(
                        "links will be refreshed every {} while a worker runs",
                        trove_common::duration::human_duration(d)
                    ),
                    None => "periodic refresh is off".to_owned(),
                };
                out.message(
                    &text,
                    serde_json::json!({ "refreshEveryMs": d.map(|d| d.as_millis() as u64) }),
                );
            } else if *all {
                let n = engine.refresh_all_urls()?;
                out.message(
                    &format!("{n} link(s) queued for refresh"),
                    serde_json::json!({ "refreshed": n }),
                );
            } else if let Some(id) = id {
                let r = parse_ref(id)?;
                if r.kind != ItemKind::Url {
                    bail!(
                        "{r} is a file; only links can be refreshed (use `trove retry` for files)"
                    );
                }
                let item = engine.retry(r)?;
                out.message(&format!("{} queued for refresh", item.id), &item);
            }
        }
        Command::Delete { id } => {
            let r = parse_ref(id)?;
            engine.delete(r)?;
            out.message(&format!("deleted {r}"), serde_json::json!({ "deleted": r }));
        }
        Command::Search { query, mode, limit } => {
            let mode = mode.map(|m| match m {
                ModeArg::Keyword => SearchMode::Keyword,
                ModeArg::Semantic => SearchMode::Semantic,
                ModeArg::Hybrid => SearchMode::Hybrid,
            });
            out.search(&engine.search(&query.join(" "), mode, *limit)?);
        }
        Command::Similar {
            passage,
            filters,
            limit,
        } => out.search(&engine.similar(*passage, *limit, &filters.join(" "))?),
        Command::Ask {
            question,
            follow_up,
        } => return ask(&engine, &out, &question.join(" "), *follow_up),
        Command::Mcp { allow_writes } => {
            let opts = trove_mcp::Options {
                allow_writes: *allow_writes,
            };
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(trove_mcp::serve_stdio(engine.clone(), opts))?;
        }
        Command::Work {
            until_idle,
            concurrency,
        } => {
            let bar = until_idle.then(|| progress_bar(cli.json, "processing"));
            let summary = work(engine.clone(), *until_idle, *concurrency, bar)?;
            let embedded = engine.embeddings_computed();
            out.work_summary(&summary, embedded);
        }
        Command::Watch {
            from_start,
            count,
            no_follow,
        } => watch(&engine, &out, *from_start, *count, *no_follow)?,
        Command::Pause => out.queue(&engine.set_paused(true)?),
        Command::Resume => out.queue(&engine.set_paused(false)?),
        Command::Concurrency { n } => out.queue(&engine.set_concurrency(*n)?),
        Command::Config { action } => config(&engine, &path, action, &out)?,
        Command::Folders { action } => folders(&engine, action, &out)?,
        Command::Open {
            id,
            page,
            reveal,
            print,
        } => {
            let item = engine.item(parse_ref(id)?)?;
            let viewer = trove_runtime::settings::value(
                &trove_runtime::settings::read_stored(&path),
                "pdf-viewer",
            );
            let target = trove_runtime::open::Target {
                page: *page,
                reveal: *reveal,
            };
            let cmd = if *print {
                trove_runtime::open::command_for(&item, target, &viewer)?
            } else {
                trove_runtime::open::open(&item, target, &viewer)?
            };
            let words: Vec<String> = cmd
                .iter()
                .map(|w| w.to_string_lossy().into_owned())
                .collect();
            let human = if *print {
                words.join(" ")
            } else {
                format!("opened {} with {}", item.name, words[0])
            };
            out.message(&human, serde_json::json!({ "command": words }));
        }
        Command::Reindex => {
            if engine.embedder().is_none() {
                bail!("the embedding model is missing: reinstall Trove's package (or, from a checkout, run scripts/fetch-model.sh)");
            }
            let bar = progress_bar(cli.json, "embedding");
            let n = engine.reindex(|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })?;
            bar.finish_and_clear();
            out.message(
                &format!("{n} chunk(s) embedded"),
                serde_json::json!({ "embedded": n }),
            );
        }
        Command::Migrate { .. } | Command::Extract | Command::Completions { .. } | Command::Man => {
            unreachable!()
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The inputs of `trove add`, with `-` replaced by the lines of stdin (blank lines
/// skipped; a line is a path as the OS spells it, not necessarily UTF-8).
fn expand_stdin(inputs: &[std::ffi::OsString]) -> Result<Vec<std::ffi::OsString>> {
    use std::io::BufRead;
    use std::os::unix::ffi::OsStringExt;
    let mut out = Vec::with_capacity(inputs.len());
    let mut read = false;
    for input in inputs {
        if input != "-" {
            out.push(input.clone());
            continue;
        }
        if std::mem::replace(&mut read, true) {
            continue;
        }
        for line in std::io::stdin().lock().split(b'\n') {
            let mut line = line.context("cannot read the list on stdin")?;
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            out.push(std::ffi::OsString::from_vec(line));
        }
    }
    Ok(out)
}

fn looks_like_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    [
        "http://",
        "https://",
        "file://",
        "ftp://",
        "data:",
        "javascript:",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

/// `trove config list|get|set|unset`.
fn config(engine: &Engine, db: &Path, action: &ConfigCmd, out: &output::Out) -> Result<()> {
    use trove_runtime::settings::{self, Source};
    let find = |name: &str| settings::find(name);
    let current = |name: &str| -> Result<settings::Effective> {
        let all = settings::effective(&settings::read_stored(db));
        Ok(all
            .into_iter()
            .find(|e| e.name == name)
            .expect("a known setting"))
    };
    match action {
        ConfigCmd::List => out.settings(&settings::effective(&settings::read_stored(db))),
        ConfigCmd::Get { name } => {
            let e = current(find(name).map_err(invalid)?.name)?;
            out.message(&e.value, &e);
        }
        ConfigCmd::Set { name, value } => {
            let s = find(name).map_err(invalid)?;
            let value = if value == "-" {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("cannot read the value on stdin")?;
                line.trim().to_owned()
            } else {
                value.clone()
            };
            settings::store(engine, s, Some(&value)).map_err(invalid)?;
            let e = current(s.name)?;
            let mut text = format!("{} = {}", e.name, e.stored.as_deref().unwrap_or(&e.value));
            if e.source == Source::Env {
                text.push_str(&format!(
                    " (saved; {} = {} overrides it while it is set)",
                    e.env.unwrap_or_default(),
                    e.value
                ));
            }
            out.message(&text, &e);
        }
        ConfigCmd::Unset { name } => {
            let s = find(name).map_err(invalid)?;
            settings::store(engine, s, None).map_err(invalid)?;
            let e = current(s.name)?;
            out.message(&format!("{} = {} (default)", e.name, s.default), &e);
        }
    }
    Ok(())
}

/// `trove folders add|list|remove|rescan|pause|resume`.
fn folders(engine: &Engine, action: &FoldersCmd, out: &output::Out) -> Result<()> {
    match action {
        FoldersCmd::Add {
            dir,
            include,
            exclude,
        } => {
            let (folder, report) = engine.add_folder(dir, include, exclude)?;
            out.message(
                &format!(
                    "watching {} (folder {}): {}",
                    folder.path,
                    folder.id,
                    output::scan_summary(&report)
                ),
                serde_json::json!({ "folder": folder, "scan": report }),
            );
        }
        FoldersCmd::List => out.folders(&engine.folders()?),
        FoldersCmd::Remove { id, keep_items } => {
            engine.remove_folder(*id, *keep_items)?;
            let text = if *keep_items {
                format!("folder {id} is no longer watched; its items stay")
            } else {
                format!("folder {id} is no longer watched; its items were removed")
            };
            out.message(
                &text,
                serde_json::json!({ "removed": id, "keptItems": keep_items }),
            );
        }
        FoldersCmd::Rescan { id } => {
            let ids: Vec<i64> = match id {
                Some(id) => vec![*id],
                None => engine.folders()?.iter().map(|f| f.id).collect(),
            };
            let mut reports = Vec::new();
            for id in ids {
                reports.push(engine.scan_folder(id)?);
            }
            let text = reports
                .iter()
                .map(|r| format!("folder {}: {}", r.folder, output::scan_summary(r)))
                .collect::<Vec<_>>()
                .join("\n");
            out.message(&text, &reports);
        }
        FoldersCmd::Edit {
            id,
            include,
            exclude,
            no_include,
            no_exclude,
        } => {
            let current = engine
                .folders()?
                .into_iter()
                .find(|f| f.id == *id)
                .ok_or_else(|| trove_core::Error::NotFound(format!("no watched folder {id}")))?;
            let pick = |given: &[String], clear: bool, old: Vec<String>| {
                if clear {
                    Vec::new()
                } else if given.is_empty() {
                    old
                } else {
                    given.to_vec()
                }
            };
            let include = pick(include, *no_include, current.include);
            let exclude = pick(exclude, *no_exclude, current.exclude);
            let (folder, report) = engine.set_folder_rules(*id, &include, &exclude)?;
            out.message(
                &format!(
                    "folder {id}: include {}, exclude {}; {}",
                    globs(&folder.include),
                    globs(&folder.exclude),
                    output::scan_summary(&report)
                ),
                serde_json::json!({ "folder": folder, "scan": report }),
            );
        }
        FoldersCmd::Pause { id } => {
            let f = engine.set_folder_watching(*id, false)?;
            out.message(
                &format!("folder {id} paused: its changes are not followed"),
                &f,
            );
        }
        FoldersCmd::Resume { id } => {
            let f = engine.set_folder_watching(*id, true)?;
            out.message(&format!("folder {id} is followed again"), &f);
        }
    }
    Ok(())
}

/// "'*.md', 'notes/**'" (or "none").
fn globs(list: &[String]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter()
        .map(|g| format!("'{g}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A refused value (a setting out of range, an unknown name) as an `invalid` error (exit
/// code 3), keeping the engine's own errors as they are.
fn invalid(e: anyhow::Error) -> anyhow::Error {
    if e.downcast_ref::<trove_core::Error>().is_some() {
        return e;
    }
    trove_core::Error::Invalid(format!("{e:#}")).into()
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("trove-rt")
        .build()
        .context("cannot start the async runtime")
}

/// A progress bar on stderr, drawn only when stderr is a terminal (and not under --json).
fn progress_bar(json: bool, what: &'static str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if json || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0).with_message(what);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} ({eta} left)")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub(crate) fn work(
    engine: Arc<Engine>,
    until_idle: bool,
    concurrency: Option<u32>,
    bar: Option<indicatif::ProgressBar>,
) -> Result<trove_core::worker::WorkerSummary> {
    // Watched folders: what changed while no worker ran is queued first; then, unless the
    // run ends when idle, their changes are followed while it lasts.
    let _watcher = if until_idle {
        trove_runtime::watch::scan_all(&engine);
        None
    } else {
        Some(trove_runtime::watch::FolderWatcher::start(engine.clone()))
    };
    let rt = runtime()?;
    let shown = bar.clone();
    let summary = rt.block_on(async move {
        let opts = WorkerOptions { until_idle, concurrency, ..Default::default() };
        if let Some(bar) = bar.filter(|b| !b.is_hidden()) {
            // Items finished since the start, of those waiting then and added since.
            let engine = engine.clone();
            tokio::spawn(async move {
                let Ok(start) = engine.counts(None) else { return };
                let finished = |c: &trove_core::Counts| c.completed + c.failed;
                loop {
                    if let Ok(c) = engine.counts(None) {
                        let done = finished(&c) - finished(&start);
                        bar.set_length((done + c.pending + c.processing).max(0) as u64);
                        bar.set_position(done.max(0) as u64);
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            });
        }
        let handle = engine.start_worker(opts);
        let token = handle.cancel_token();
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
            eprintln!("stopping: letting running jobs finish (up to 10 s), then releasing them…");
            token.cancel();
        });
        handle.wait().await
    });
    if let Some(bar) = shown {
        bar.finish_and_clear();
    }
    // A parser stuck in a blocking thread must not keep the process alive.
    rt.shutdown_timeout(Duration::from_secs(1));
    Ok(summary?)
}

fn watch(
    engine: &Engine,
    out: &output::Out,
    from_start: bool,
    count: Option<usize>,
    no_follow: bool,
) -> Result<()> {
    let rt = runtime()?;
    let mut last = if from_start {
        0
    } else {
        engine.last_event_seq()?
    };
    let mut seen = 0usize;
    rt.block_on(async {
        let mut waker = engine.bus().waker();
        loop {
            let batch = engine.events_since(last, 1000)?;
            for e in &batch {
                last = e.seq;
                out.event(e);
                seen += 1;
                if count.is_some_and(|c| seen >= c) {
                    return Ok(());
                }
            }
            if batch.is_empty() && no_follow {
                return Ok(());
            }
            if batch.is_empty() {
                trove_core::events::wait_for_change(&mut waker, Duration::from_millis(200)).await;
            }
        }
    })
}

/// The entry point of the `trove` binary for command-line use.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            if args.iter().any(|a| a == "--json") {
                let message = e.kind().as_str().map_or_else(
                    || e.to_string().lines().next().unwrap_or_default().to_owned(),
                    |k| format!("{k}: {}", e.to_string().lines().next().unwrap_or_default()),
                );
                output::print_error("usage", &message);
            } else {
                let _ = e.print();
            }
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // Output piped into `head` and closed early: stop quietly, as Unix tools do (SIGPIPE's
    // default action), instead of panicking with "failed printing to stdout". Not for the
    // worker and the extraction child: they write to each other's pipes, and a child that
    // crashed must fail its file, not kill the worker.
    if !matches!(cli.command, Some(Command::Work { .. } | Command::Extract)) {
        #[allow(unsafe_code)]
        // SAFETY: restores a signal's default disposition; no handler, no shared state.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    trove_runtime::init_logging_at(match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    });
    let json = cli.json;
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let code = error_code(&e);
            if json {
                output::print_error(code, &format!("{e:#}"));
            } else {
                eprintln!("trove: {e:#}");
            }
            ExitCode::from(exit_status(code))
        }
    }
}

/// Exit status of a command line that could not be parsed.
pub const EXIT_USAGE: u8 = 2;

/// Every error code and its exit status, as `trove --help` and the README list them.
pub const EXIT_CODES: &[(&str, u8, &str)] = &[
    (
        "internal",
        1,
        "anything else (a bug, an interrupted command)",
    ),
    ("usage", EXIT_USAGE, "the command line is not valid"),
    (
        "invalid",
        3,
        "a value was refused (an id, a setting, an address)",
    ),
    (
        "conflict",
        3,
        "the item is busy or in the wrong state for this",
    ),
    ("not_found", 4, "no such item"),
    (
        "database",
        5,
        "the database cannot be opened, read or written",
    ),
    (
        "newer_schema",
        5,
        "the database was written by a newer Trove",
    ),
    ("migration", 5, "a schema migration failed"),
    (
        "embed",
        6,
        "the embedding model or service failed or is missing",
    ),
    ("io", 7, "a file or folder could not be read or written"),
];

/// The error code of an error: the engine's own (`trove_core::Error::code`), else `io`
/// for a file error, else `internal`.
pub fn error_code(e: &anyhow::Error) -> &'static str {
    for cause in e.chain() {
        if let Some(core) = cause.downcast_ref::<trove_core::Error>() {
            return core.code();
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return "io";
        }
    }
    "internal"
}

fn exit_status(code: &str) -> u8 {
    EXIT_CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or(1, |(_, status, _)| *status)
}

/// The exit codes, for `trove --help`.
fn exit_codes_help() -> String {
    let mut s = String::from("Exit status:\n  0  success\n");
    let mut seen = std::collections::BTreeMap::<u8, Vec<&str>>::new();
    for (code, status, about) in EXIT_CODES {
        let _ = code;
        seen.entry(*status).or_default().push(about);
    }
    for (status, abouts) in seen {
        s.push_str(&format!("  {status}  {}\n", abouts.join("; ")));
    }
    s.push_str(
        "With --json, an error is printed on stdout as {\"error\":{\"code\":…,\"message\":…}}.",
    );
    s
}
