//! Human-readable output by default, JSON with `--json`.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use trove_core::events::{Event, EventKind};
use trove_core::migrate;
use trove_core::model::{
    AddReport, AskAnswer, AskPassage, Counts, DurationBucket, FailedRow, Item, JobInfo, QueueState,
    SearchResponse, StuckRow,
};
use trove_core::worker::WorkerSummary;

/// Characters of a passage shown when Ask has no answer to write.
const ASK_EXCERPT_CHARS: usize = 320;

/// Where in a paged document a passage is: "p. 2", "slide 4".
fn page_label(page: Option<u32>, unit: Option<&str>) -> Option<String> {
    match (page?, unit) {
        (p, None | Some("page")) => Some(format!("p. {p}")),
        (p, Some(unit)) => Some(format!("{unit} {p}")),
    }
}

/// "herons.md (f1, p. 2) — /home/…/herons.md"
fn source_line(p: &AskPassage) -> String {
    let page = page_label(p.page, p.page_unit.as_deref())
        .map(|l| format!(", {l}"))
        .unwrap_or_default();
    format!("{} ({}{page}) — {}", p.name, p.item_id, p.location)
}

pub struct Out {
    pub json: bool,
}

/// One line on stdout. A reader that has gone away (a closed pipe: `trove work`, which
/// keeps SIGPIPE ignored, stopped after its reader died) is not worth a panic.
fn line(s: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{s}");
}

fn print_json<T: Serialize + ?Sized>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => line(&s),
        Err(e) => eprintln!("trove: cannot encode output: {e}"),
    }
}

/// An item's size for the list and `show`: `trove_common::size::human_size`, "-" if unknown.
pub fn human_size(n: Option<i64>) -> String {
    match n.and_then(|n| u64::try_from(n).ok()) {
        Some(n) => trove_common::size::human_size(n),
        None => "-".into(),
    }
}

fn ms_ts(ms: i64) -> String {
    trove_core::clock::rfc3339(&trove_core::clock::db_ts(ms))
}

fn badge(i: &Item) -> String {
    match i.status {
        trove_core::Status::Processing => format!("processing {}%", i.progress),
        s => s.to_string(),
    }
}

impl Out {
    pub fn message<T: Serialize>(&self, human: &str, json: T) {
        if self.json {
            print_json(&json);
        } else {
            line(human);
        }
    }

    pub fn add_report(&self, r: &AddReport) {
        if self.json {
            return print_json(r);
        }
        if !r.added.is_empty() {
            println!(
                "added {} item(s), pending (run `trove work` or open the app to process them)",
                r.added.len()
            );
            for i in r.added.iter().take(20) {
                println!("  {:<6} {}", i.id.to_string(), i.location);
            }
            if r.added.len() > 20 {
                println!("  … and {} more", r.added.len() - 20);
            }
        }
        for s in &r.skipped {
            eprintln!("skipped {}: {}", s.input, s.reason);
        }
    }

    pub fn items(&self, items: &[Item]) {
        if self.json {
            return print_json(items);
        }
        if items.is_empty() {
            println!("nothing here yet: add files with `trove add <paths…>`");
            return;
        }
        println!(
            "{:<7} {:<16} {:>9}  {:<20} NAME",
            "ID", "STATUS", "SIZE", "ADDED"
        );
        for i in items {
            println!(
                "{:<7} {:<16} {:>9}  {:<20} {}",
                i.id.to_string(),
                badge(i),
                human_size(i.size),
                &i.added_at
                    .get(..19)
                    .unwrap_or(&i.added_at)
                    .replace('T', " "),
                i.name
            );
            if let Some(e) = &i.error {
                println!("        └ {e}");
            }
            if let Some(d) = &i.duplicate_of {
                println!("        └ same content as {d}");
            }
            if let Some(m) = &i.missing_since {
                println!("        └ missing: the file was deleted on {m} (its text is kept)");
            }
        }
    }

    pub fn show(&self, item: &Item, job: Option<&JobInfo>) {
        if self.json {
            return print_json(&serde_json::json!({ "item": item, "job": job }));
        }
        println!("{}  {}", item.id, item.name);
        println!("  location   {}", item.location);
        for m in &item.metadata {
            println!("  {:<10} {}", m.label.to_lowercase(), m.value);
        }
        println!("  status     {}", badge(item));
        if let Some(s) = &item.stage {
            println!("  stage      {s}");
        }
        if let Some(e) = &item.error {
            println!("  error      {e}");
        }
        println!("  type       {}", item.mime.as_deref().unwrap_or("-"));
        println!("  size       {}", human_size(item.size));
        println!("  chunks     {}", item.chunk_count);
        if let Some(x) = &item.extractor {
            println!("  read by    {x}");
        }
        if let Some(d) = &item.duplicate_of {
            println!("  duplicate  same content as {d} (not processed twice)");
        }
        if let Some(m) = &item.missing_since {
            println!("  missing    the file was deleted on {m}; its text is kept (keep-missing)");
        }
        println!("  added      {}", item.added_at);
        println!("  updated    {}", item.updated_at);
        if let Some(j) = job {
            println!("  job        {} ({})", j.id, j.state);
            println!(
                "    attempts {}/{} (stalls: {})",
                j.attempts, j.max_attempts, j.stalls
            );
            println!(
                "    progress {}%{}",
                j.progress,
                j.stage
                    .as_deref()
                    .map(|s| format!(" {s}"))
                    .unwrap_or_default()
            );
            if let Some(e) = &j.last_error {
                println!("    last error  {e}");
            }
            println!("    created  {}", ms_ts(j.created_ms));
            if let Some(s) = j.started_ms {
                println!("    started  {}", ms_ts(s));
            }
            if let Some(f) = j.finished_ms {
                println!("    finished {}", ms_ts(f));
                if let Some(s) = j.started_ms {
                    println!("    took     {:.3} s", (f - s) as f64 / 1000.0);
                }
            }
            if matches!(j.state.as_str(), "delayed" | "waiting") && j.attempts > 0 {
                println!("    next try {}", ms_ts(j.run_after_ms));
            }
        }
    }

    pub fn status(&self, files: &Counts, urls: &Counts, q: &QueueState) {
        if self.json {
            return print_json(&serde_json::json!({ "files": files, "urls": urls, "queue": q }));
        }
        println!(
            "{:<12} {:>8} {:>8} {:>8}",
            "STATUS", "FILES", "URLS", "TOTAL"
        );
        let rows = [
            ("pending", files.pending, urls.pending),
            ("processing", files.processing, urls.processing),
            ("completed", files.completed, urls.completed),
            ("failed", files.failed, urls.failed),
            ("total", files.total, urls.total),
        ];
        for (name, f, u) in rows {
            println!("{name:<12} {f:>8} {u:>8} {:>8}", f + u);
        }
        println!(
            "queue: {}, concurrency {}",
            if q.paused { "paused" } else { "running" },
            q.concurrency
        );
    }

    pub fn failed(&self, rows: &[FailedRow]) {
        if self.json {
            return print_json(rows);
        }
        if rows.is_empty() {
            println!("no failed items");
        }
        for r in rows {
            println!(
                "{:<7} {}  {}\n        └ {}",
                r.id,
                &r.added_at.get(..19).unwrap_or(&r.added_at),
                r.name,
                r.error
            );
        }
    }

    pub fn stuck(&self, rows: &[StuckRow], older: Duration) {
        if self.json {
            return print_json(rows);
        }
        if rows.is_empty() {
            println!(
                "nothing pending for longer than {}",
                trove_common::duration::human_duration(older)
            );
        }
        for r in rows {
            println!(
                "{:<7} pending {:>5} min  {}",
                r.id, r.minutes_pending, r.name
            );
        }
    }

    pub fn stats(&self, buckets: &[DurationBucket]) {
        if self.json {
            return print_json(buckets);
        }
        let total: i64 = buckets.iter().map(|b| b.count).sum();
        if total == 0 {
            println!("no completed items yet");
            return;
        }
        let pct = |p: f64| -> i64 {
            let target = (p * total as f64).ceil() as i64;
            let mut acc = 0;
            for b in buckets {
                acc += b.count;
                if acc >= target {
                    return b.seconds;
                }
            }
            buckets.last().map_or(0, |b| b.seconds)
        };
        println!("processing time (upload → completed) of {total} item(s): p50 {} s, p90 {} s, p99 {} s, max {} s",
            pct(0.5), pct(0.9), pct(0.99), buckets.last().map_or(0, |b| b.seconds));
        let max = buckets.iter().map(|b| b.count).max().unwrap_or(1).max(1);
        println!("{:>9} {:>7}", "SECONDS", "COUNT");
        for b in buckets {
            let bar = "█".repeat(((b.count * 40) / max).max(1) as usize);
            println!("{:>9} {:>7} {bar}", b.seconds, b.count);
        }
    }

    /// An item's extracted text; the pages of a PDF (slides of a presentation, sheets of a
    /// spreadsheet, messages of a mailbox) marked `--- page N ---` (`--- slide N ---`, …).
    pub fn text(&self, item: &Item, text: &str) {
        let mime = item.mime.as_deref();
        let unit = trove_core::model::page_unit(mime);
        let pdf = mime.is_some_and(|m| m.starts_with("application/pdf"))
            || (unit != "page" && text.contains('\x0c'));
        if self.json {
            let pages: Option<Vec<&str>> = pdf.then(|| text.split('\x0c').collect());
            return print_json(&serde_json::json!({
                "id": item.id.to_string(),
                "text": text,
                "pages": pages,
            }));
        }
        if pdf {
            for (i, page) in text.split('\x0c').enumerate() {
                println!("--- {unit} {} ---", i + 1);
                println!("{}", page.trim_end());
            }
        } else {
            println!("{}", text.trim_end());
        }
    }

    pub fn search(&self, r: &SearchResponse) {
        if self.json {
            return print_json(r);
        }
        if let Some(n) = &r.notice {
            eprintln!("note: {n}");
        }
        if r.hits.is_empty() {
            println!("no results");
        } else if r.no_close_matches {
            println!("no close matches; the nearest:");
        }
        for (i, h) in r.hits.iter().enumerate() {
            let (on, off) = if colour() {
                ("\x1b[1m", "\x1b[0m")
            } else {
                ("[", "]")
            };
            let snippet = h
                .snippet
                .replace('\u{2}', on)
                .replace('\u{3}', off)
                .replace(['\n', '\x0c'], " ");
            let page = page_label(h.page, h.page_unit.as_deref())
                .map(|l| format!("  {l}"))
                .unwrap_or_default();
            println!(
                "{}. {} ({}, passage {})  [{}]\n   {}{}\n   {}",
                i + 1,
                h.name,
                h.item_id,
                h.chunk_id,
                format_score(h.score),
                h.location,
                page,
                snippet
            );
        }
    }

    /// Ask's passages, before the answer (nothing in JSON: the answer carries them).
    pub fn ask_passages(&self, passages: &[AskPassage], relevant: bool, answering: bool) {
        if self.json || answering {
            return;
        }
        if !relevant {
            line("I don't know: nothing in your library is close to this question.");
            if !passages.is_empty() {
                line("The nearest passages:\n");
            }
        } else {
            line("Top passages for your question:\n");
        }
        for p in passages {
            line(&format!("[{}] {}", p.n, source_line(p)));
            let excerpt: String = p.text.split_whitespace().collect::<Vec<_>>().join(" ");
            let cut: String = excerpt.chars().take(ASK_EXCERPT_CHARS).collect();
            let more = if cut.len() < excerpt.len() { "…" } else { "" };
            line(&format!("    {cut}{more}\n"));
        }
    }

    /// A piece of the answer, as it is written.
    pub fn ask_token(&self, text: &str) {
        use std::io::Write;
        if self.json {
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// After the answer: its sources (or the whole outcome, in JSON).
    pub fn ask_done(&self, a: &AskAnswer) {
        if self.json {
            return print_json(a);
        }
        if a.answer.is_none() {
            return;
        }
        line("\n");
        let cited: Vec<&AskPassage> = a
            .passages
            .iter()
            .filter(|p| a.cited.contains(&p.n))
            .collect();
        if cited.is_empty() {
            line("Passages given to the model:");
            for p in &a.passages {
                line(&format!("  [{}] {}", p.n, source_line(p)));
            }
        } else {
            line("Sources:");
            for p in cited {
                line(&format!("  [{}] {}", p.n, source_line(p)));
            }
        }
    }

    /// `embedded`: vectors computed by the model (cache hits not counted).
    pub fn work_summary(&self, s: &WorkerSummary, embedded: u64) {
        self.message(
            &format!(
                "worker stopped: {} completed, {} failed, {} retried later, {} released, {} recovered from a previous run; {} chunk(s) embedded",
                s.completed, s.failed, s.retried, s.released, s.recovered, embedded
            ),
            serde_json::json!({
                "completed": s.completed, "failed": s.failed, "retried": s.retried,
                "released": s.released, "recovered": s.recovered, "embedded": embedded
            }),
        );
    }

    pub fn folders(&self, all: &[trove_core::Folder]) {
        if self.json {
            return print_json(all);
        }
        if all.is_empty() {
            println!("no watched folders: add one with `trove folders add <dir>`");
            return;
        }
        for f in all {
            let state = match (f.watching, f.state.as_str()) {
                (false, _) => "paused".to_owned(),
                (true, "ok") => "watching".to_owned(),
                (true, s) => s.to_owned(),
            };
            println!("{:<4} {:<12} {:>6} files  {}", f.id, state, f.files, f.path);
            let skipped: Vec<String> = f.skipped.iter().map(|(k, n)| format!("{n} {k}")).collect();
            if !skipped.is_empty() {
                println!("     skipped: {}", skipped.join(", "));
            }
            if !f.include.is_empty() || !f.exclude.is_empty() {
                println!(
                    "     include: {}  exclude: {}",
                    f.include.join(" "),
                    f.exclude.join(" ")
                );
            }
            if let Some(m) = &f.message {
                println!("     {m}");
            }
        }
    }

    pub fn settings(&self, all: &[trove_runtime::settings::Effective]) {
        use trove_runtime::settings::Source;
        if self.json {
            return print_json(all);
        }
        let width = all.iter().map(|e| e.name.len()).max().unwrap_or(0);
        for e in all {
            let from = match (e.source, e.env) {
                (Source::Env, Some(var)) => match &e.stored {
                    Some(saved) => format!("from {var}; saved: {saved}"),
                    None => format!("from {var}"),
                },
                (Source::Stored, _) => "saved".to_owned(),
                _ => "default".to_owned(),
            };
            println!("{:width$}  {:<8} ({from})  {}", e.name, e.value, e.about);
        }
    }

    pub fn queue(&self, q: &QueueState) {
        self.message(
            &format!(
                "queue {}, concurrency {}",
                if q.paused { "paused" } else { "running" },
                q.concurrency
            ),
            q,
        );
    }

    pub fn event(&self, e: &Event) {
        if self.json {
            if let Ok(s) = serde_json::to_string(e) {
                println!("{s}");
            }
            return;
        }
        let item = e.item.map(|i| i.to_string()).unwrap_or_default();
        let what = match e.kind {
            EventKind::Added => "added".to_owned(),
            EventKind::Deleted => "deleted".to_owned(),
            EventKind::Queue => "queue settings changed".to_owned(),
            EventKind::BatchFinished => {
                format!("batch finished: {}", e.message.as_deref().unwrap_or(""))
            }
            EventKind::Progress => format!(
                "processing {}% {}",
                e.progress.unwrap_or(0),
                e.stage.as_deref().unwrap_or("")
            ),
            EventKind::Updated => match (&e.status, &e.message) {
                (Some(s), Some(m)) => format!("{s}: {m}"),
                (Some(s), None) => s.to_string(),
                _ => "updated".to_owned(),
            },
        };
        println!("{} {item:<7} {what}", &ms_ts(e.at_ms)[11..23]);
    }

    pub fn migrate_status(&self, s: &migrate::Status) {
        if self.json {
            return print_json(s);
        }
        println!(
            "schema version {} (this build knows up to {})",
            s.current, s.latest
        );
        for m in &s.migrations {
            let mark = if m.version <= s.current {
                "applied"
            } else {
                "pending"
            };
            println!(
                "  {:04} {:<22} {mark} {}",
                m.version,
                m.name,
                m.applied_at.as_deref().unwrap_or("")
            );
        }
    }

    pub fn migrated(&self, verb: &str, versions: &[u32], now: u32, backup: Option<&Path>) {
        let mut human = if versions.is_empty() {
            format!("nothing to do; schema version {now}")
        } else {
            format!("{verb} {versions:?}; schema version {now}")
        };
        let mut json = serde_json::json!({ verb.replace(' ', "_"): versions, "version": now });
        if let Some(b) = backup {
            human = format!("backed up the database to {}\n{human}", b.display());
            json["backup"] = serde_json::Value::String(b.display().to_string());
        }
        self.message(&human, json);
    }
}

fn format_score(s: f64) -> String {
    format!("{s:.4}")
}

/// "3 added, 1 changed, 214 images skipped" (or "no changes").
pub fn scan_summary(r: &trove_core::ScanReport) -> String {
    if r.unavailable {
        return "the folder is not there: nothing changed".into();
    }
    let mut parts = Vec::new();
    for (n, what) in [
        (r.added, "added"),
        (r.changed, "changed"),
        (r.renamed, "moved"),
        (r.removed, "removed"),
        (r.missing, "missing (kept)"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if r.busy > 0 {
        parts.push(format!(
            "{} being processed (looked at again later)",
            r.busy
        ));
    }
    for (kind, n) in &r.skipped {
        parts.push(format!("{n} {kind} skipped"));
    }
    if parts.is_empty() {
        parts.push("no changes".into());
    }
    if r.unchanged > 0 {
        parts.push(format!("{} unchanged", r.unchanged));
    }
    parts.join(", ")
}

/// Bold highlights on a terminal, unless `NO_COLOR` is set (https://no-color.org).
fn colour() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// An error under `--json`, on stdout: `{"error":{"code":"not_found","message":"…"}}`.
pub fn print_error(code: &str, message: &str) {
    println!(
        "{}",
        serde_json::json!({ "error": { "code": code, "message": message } })
    );
}
