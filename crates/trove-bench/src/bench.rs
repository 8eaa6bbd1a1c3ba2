//! `trove bench`: the engine's speed, each figure next to a reference measured in the same
//! run on the same machine (see BENCHMARKS.md). Everything happens in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use rusqlite::params;
use serde_json::json;
use trove_core::queue::{self, QueueConfig};
use trove_core::store::{content, items};
use trove_core::{Engine, ItemKind, SearchMode};

use crate::Out;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Files added in one call (a)
    #[arg(long, default_value_t = 10_000)]
    pub files: usize,
    /// No-op jobs claimed and completed (b)
    #[arg(long, default_value_t = 20_000)]
    pub jobs: usize,
    /// Megabytes of Markdown ingested end to end (c)
    #[arg(long, default_value_t = 64)]
    pub text_mb: usize,
    /// PDFs of 20 pages each, through the sandboxed extractor (d)
    #[arg(long, default_value_t = 40)]
    pub pdfs: usize,
    /// Chunks in the search index (e); needs the embedding model for hybrid search
    #[arg(long, default_value_t = 100_000)]
    pub chunks: usize,
    /// Images read by OCR (f), against the `tesseract` program on the same images
    #[arg(long, default_value_t = 12)]
    pub ocr_images: usize,
    /// Files in the watched folder (g)
    #[arg(long, default_value_t = 10_000)]
    pub folder_files: usize,
    /// Megabytes of prose per office document in (h)
    #[arg(long, default_value_t = 4)]
    pub office_mb: usize,
    /// Run only these parts (a,b,c,d,e,f,g,h,i)
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// The program whose `__extract` mode is the extraction child in (d) and (f): by
    /// default the `trove` binary next to this one (the binary users run), else this one
    #[arg(long)]
    pub child: Option<PathBuf>,
    /// A library (its `trove.db`) whose vectors (i) searches by each scan: real vectors, not
    /// the synthetic ones of (e)
    #[arg(long)]
    pub library: Option<PathBuf>,
    /// Queries for (i), one a line (of a TSV, the last column; a header line `question` is
    /// skipped); embedded by the model
    #[arg(long)]
    pub queries: Option<PathBuf>,
    /// Where to put the temporary data (default: the system temp dir)
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

pub fn run(args: &BenchArgs, out: &Out) -> Result<ExitCode> {
    let want = |p: &str| args.only.is_empty() || args.only.iter().any(|o| o == p);
    let tmp = match &args.dir {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let mut report = serde_json::Map::new();
    if want("a") {
        report.insert("add".into(), bench_add(tmp.path(), args.files, out)?);
    }
    if want("b") {
        report.insert("queue".into(), bench_queue(tmp.path(), args.jobs, out)?);
    }
    if want("c") {
        report.insert("text".into(), bench_text(tmp.path(), args.text_mb, out)?);
    }
    let child = args.child.clone().unwrap_or_else(default_child);
    if want("d") || want("f") {
        say(out, format!("    extraction child: {}", child.display()));
    }
    if want("d") {
        report.insert("pdf".into(), bench_pdf(tmp.path(), args.pdfs, &child, out)?);
    }
    if want("e") {
        report.insert("search".into(), bench_search(tmp.path(), args.chunks, out)?);
    }
    if want("f") {
        report.insert(
            "ocr".into(),
            bench_ocr(tmp.path(), args.ocr_images, &child, out)?,
        );
    }
    if want("g") {
        report.insert(
            "folders".into(),
            bench_folders(tmp.path(), args.folder_files, out)?,
        );
    }
    if want("h") {
        report.insert(
            "formats".into(),
            bench_formats(tmp.path(), args.office_mb, out)?,
        );
    }
    if want("i") {
        let (Some(library), Some(queries)) = (&args.library, &args.queries) else {
            bail!("(i) needs --library and --queries");
        };
        let queries: Vec<String> = std::fs::read_to_string(queries)?
            .lines()
            .filter_map(|l| l.rsplit('\t').next())
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty() && q != "question")
            .collect();
        report.insert("scans".into(), bench_scans("i", library, &queries, out)?);
    }
    if out.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn median_ms(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// (g) Watched folders: the first scan and a rescan of `n` unchanged files against a bare
/// walk that stats every file (the least any rescan must do); a file saved in the folder
/// until it is searchable, with the watcher and an idle worker, against the same file added
/// directly (`add_paths`) until searchable; the watcher's memory per file.
fn bench_folders(dir: &Path, n: usize, out: &Out) -> Result<serde_json::Value> {
    let root = dir.join("watched");
    for i in 0..n {
        let sub = root.join(format!("d{:03}", i / 500));
        if i % 500 == 0 {
            std::fs::create_dir_all(&sub)?;
        }
        std::fs::write(sub.join(format!("note-{i:05}.txt")), format!("Note {i}.\n"))?;
    }
    // The library's own folder beside the watched one (a folder inside it is refused).
    let data = dir.join("folders-library");
    std::fs::create_dir_all(&data)?;
    let engine = fresh_engine(&data, "folders")?;
    let t = Instant::now();
    let (folder, first) = engine.add_folder(&root, &[], &[])?;
    let first_ms = t.elapsed().as_secs_f64() * 1000.0;
    if first.added as usize != n {
        bail!("the first scan added {} of {n} files", first.added);
    }
    // Reference: walk and stat every file.
    let walk = || -> Result<f64> {
        let t = Instant::now();
        let mut count = 0usize;
        for e in walkdir::WalkDir::new(&root) {
            let e = e?;
            if e.file_type().is_file() {
                e.metadata()?;
                count += 1;
            }
        }
        if count != n {
            bail!("walked {count} files, expected {n}");
        }
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    };
    let mut rescans = Vec::new();
    let mut walks = Vec::new();
    for _ in 0..5 {
        walks.push(walk()?);
        let t = Instant::now();
        let r = engine.scan_folder(folder.id)?;
        rescans.push(t.elapsed().as_secs_f64() * 1000.0);
        if r.unchanged as usize != n || r.reads != 0 {
            bail!("a rescan of unchanged files changed or read something: {r:?}");
        }
    }
    let (rescan, walked) = (median_ms(rescans), median_ms(walks));
    say(
        out,
        format!(
            "(g) folder of {n} files: first scan {first_ms:.0} ms; rescan unchanged {rescan:.0} ms \
             vs stat-walk {walked:.0} ms ({:.1}× the walk)",
            rescan / walked
        ),
    );

    // Save → searchable, with the worker running and idle.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let worker = {
        let engine = engine.clone();
        rt.block_on(
            async move { engine.start_worker(trove_core::worker::WorkerOptions::default()) },
        )
    };
    // The first scan's files are processed first (keyword index only).
    let settled = Instant::now();
    while engine.counts(None)?.completed < n as i64 {
        if settled.elapsed() > Duration::from_secs(600) {
            bail!("the folder's files were not processed in 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let rss_before = rss_kib() * 1024;
    let watcher = trove_runtime::watch::FolderWatcher::start(engine.clone());
    std::thread::sleep(Duration::from_secs(3));
    let rss_after = rss_kib() * 1024;
    let searchable = |word: &str| -> Result<bool> {
        Ok(!engine
            .search(word, Some(SearchMode::Keyword), 5)?
            .hits
            .is_empty())
    };
    let until_found = |word: &str, write: &dyn Fn() -> Result<()>| -> Result<f64> {
        let t = Instant::now();
        write()?;
        while !searchable(word)? {
            if t.elapsed() > Duration::from_secs(30) {
                bail!("{word} not searchable after 30 s");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    };
    let other = dir.join("direct");
    std::fs::create_dir_all(&other)?;
    let (mut saves, mut directs) = (Vec::new(), Vec::new());
    for i in 0..5 {
        let word = format!("watchword{i}x");
        let path = root.join(format!("saved-{i}.txt"));
        saves.push(until_found(&word, &|| {
            std::fs::write(&path, format!("Saved text with {word}.\n"))?;
            Ok(())
        })?);
        let word = format!("directword{i}x");
        let path = other.join(format!("direct-{i}.txt"));
        directs.push(until_found(&word, &|| {
            std::fs::write(&path, format!("Added text with {word}.\n"))?;
            engine.add_paths(std::slice::from_ref(&path))?;
            Ok(())
        })?);
    }
    drop(watcher);
    rt.block_on(async move { worker.shutdown().await })?;
    rt.shutdown_timeout(Duration::from_secs(1));
    let (save, direct) = (median_ms(saves), median_ms(directs));
    let per_file = rss_after.saturating_sub(rss_before) as f64 / n as f64;
    say(
        out,
        format!(
            "    saved file → searchable {save:.0} ms (median of 5) vs the \
             same file added directly {direct:.0} ms; watcher memory ≈ {per_file:.0} bytes per file \
             (RSS {:.1} → {:.1} MB)",
            rss_before as f64 / 1e6,
            rss_after as f64 / 1e6
        ),
    );
    Ok(json!({
        "files": n,
        "first_scan_ms": first_ms,
        "rescan_ms": rescan,
        "stat_walk_ms": walked,
        "rescan_vs_walk": rescan / walked,
        "save_to_searchable_ms": save,
        "direct_add_to_searchable_ms": direct,
        "watcher_bytes_per_file": per_file,
    }))
}

fn say(out: &Out, line: String) {
    if !out.json {
        println!("{line}");
    }
}

fn fresh_engine(dir: &Path, name: &str) -> Result<Arc<Engine>> {
    let db = dir.join(format!("{name}.db"));
    let engine = Engine::open(&db, trove_runtime::engine_config())?;
    Ok(engine)
}

/// `trove` next to this executable when it is there (`make bench` builds both), else this
/// executable (it has the same `__extract` mode).
fn default_child() -> PathBuf {
    let me = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("trove-bench"));
    let trove = me.with_file_name("trove");
    if trove.is_file() {
        trove
    } else {
        me
    }
}

/// An engine whose risky formats go to `child __extract` (a pool of long-lived children),
/// as in the product. Returns the pool too, to read its children's memory.
fn engine_with_child(
    dir: &Path,
    name: &str,
    child: &Path,
) -> Result<(Arc<Engine>, Arc<trove_extract::sandbox::SandboxPool>)> {
    let mut cfg = trove_runtime::engine_config();
    let pool = Arc::new(trove_extract::sandbox::SandboxPool::new(
        child,
        Duration::from_secs(60),
    ));
    cfg.extract = trove_core::ExtractMode::Sandbox(pool.clone());
    let engine = Engine::open(&dir.join(format!("{name}.db")), cfg)?;
    engine.set_embedder(None);
    Ok((engine, pool))
}

/// Peak resident memory (VmHWM) of processes, in KiB: the largest.
fn peak_rss_kib(pids: &[u32]) -> Option<u64> {
    pids.iter()
        .filter_map(|pid| {
            let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            l.split_whitespace().nth(1)?.parse().ok()
        })
        .max()
}

fn per_sec(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

/// (a) `add` of N files in one call, next to inserting N bare rows in one transaction.
fn bench_add(dir: &Path, n: usize, out: &Out) -> Result<serde_json::Value> {
    let files = dir.join("add-files");
    std::fs::create_dir_all(&files)?;
    for i in 0..n {
        std::fs::write(
            files.join(format!("note-{i:05}.md")),
            format!("# Note {i}\n\nSome text.\n"),
        )?;
    }
    let engine = fresh_engine(dir, "add")?;
    let t = Instant::now();
    let report = engine.add_paths(std::slice::from_ref(&files))?;
    let took = t.elapsed();
    if report.added.len() != n {
        bail!("added {} of {n} files", report.added.len());
    }
    // Reference: the same number of bare rows in one transaction on a fresh file.
    let raw = rusqlite::Connection::open(dir.join("add-raw.db"))?;
    raw.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, path TEXT, name TEXT, size INTEGER);",
    )?;
    let t = Instant::now();
    raw.execute_batch("BEGIN")?;
    {
        let mut st = raw.prepare("INSERT INTO t (path, name, size) VALUES (?1, ?2, ?3)")?;
        for i in 0..n {
            st.execute(params![
                format!("{}/note-{i:05}.md", files.display()),
                format!("note-{i:05}.md"),
                20
            ])?;
        }
    }
    raw.execute_batch("COMMIT")?;
    let raw_took = t.elapsed();
    let per_file_us = took.as_secs_f64() * 1e6 / n as f64;
    say(
        out,
        format!(
            "(a) add {n} files in one call: {:.0} ms ({per_file_us:.1} µs/file; the add returns the rows); \
             bare INSERT of {n} rows in one txn: {:.0} ms → {:.1}× the bare insert",
            took.as_secs_f64() * 1e3,
            raw_took.as_secs_f64() * 1e3,
            took.as_secs_f64() / raw_took.as_secs_f64()
        ),
    );
    Ok(json!({
        "files": n,
        "ms": took.as_secs_f64() * 1e3,
        "us_per_file": per_file_us,
        "raw_insert_ms": raw_took.as_secs_f64() * 1e3,
        "ratio_vs_raw": took.as_secs_f64() / raw_took.as_secs_f64(),
    }))
}

/// (b) claim→complete of no-op jobs, one transaction each, next to single-row INSERT
/// transactions on the same kind of database.
fn bench_queue(dir: &Path, n: usize, out: &Out) -> Result<serde_json::Value> {
    let engine = fresh_engine(dir, "queue")?;
    let db = engine.db_path().to_path_buf();
    drop(engine);
    let mut conn = trove_core::db::open(&db)?;
    // Enqueue N items (not timed).
    {
        let tx = conn.transaction()?;
        for i in 0..n {
            let item = items::insert_file(
                &tx,
                &format!("j{i}"),
                std::path::Path::new(&format!("/nowhere/j{i}")),
                None,
                1,
                0,
            )?;
            queue::enqueue(&tx, item, 3, 0)?;
        }
        tx.commit()?;
    }
    let cfg = QueueConfig::default();
    let t = Instant::now();
    let mut done = 0usize;
    while let Some(job) = queue::claim(&mut conn, "bench", &cfg, 1)? {
        if !queue::complete(&mut conn, &job, 2, |_| Ok(()))? {
            bail!("lost a lease during the benchmark");
        }
        done += 1;
    }
    let took = t.elapsed();
    if done != n {
        bail!("completed {done} of {n} jobs");
    }
    drop(conn);
    // Reference: one-row INSERT transactions, same pragmas.
    let raw = trove_core::db::open_raw(&dir.join("queue-raw.db"))?;
    raw.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")?;
    let t = Instant::now();
    for i in 0..n {
        raw.execute_batch("BEGIN IMMEDIATE")?;
        raw.prepare_cached("INSERT INTO t (v) VALUES (?1)")?
            .execute([i.to_string()])?;
        raw.execute_batch("COMMIT")?;
    }
    let raw_took = t.elapsed();
    let jobs_s = per_sec(n, took);
    let raw_s = per_sec(n, raw_took);
    say(
        out,
        format!(
            "(b) no-op jobs claim→complete: {jobs_s:.0} jobs/s (2 transactions per job); \
             single-row INSERT transactions: {raw_s:.0}/s → {:.2}× the raw insert rate",
            jobs_s / raw_s
        ),
    );
    Ok(
        json!({ "jobs": n, "jobs_per_s": jobs_s, "raw_insert_txn_per_s": raw_s, "ratio": jobs_s / raw_s }),
    )
}

/// Run the worker until the queue is empty (keyword index only: no embedder).
fn drain(engine: Arc<Engine>, concurrency: u32) -> Result<Duration> {
    let t = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let summary = rt.block_on(async move {
        engine
            .start_worker(trove_core::worker::WorkerOptions {
                until_idle: true,
                concurrency: Some(concurrency),
                ..Default::default()
            })
            .wait()
            .await
    })?;
    rt.shutdown_timeout(Duration::from_secs(1));
    if summary.failed > 0 {
        bail!("{} job(s) failed during the benchmark", summary.failed);
    }
    Ok(t.elapsed())
}

/// (c) Markdown ingestion end to end (read, detect, decode, chunk, index, commit), next to
/// reading the same bytes from disk.
fn bench_text(dir: &Path, mb: usize, out: &Out) -> Result<serde_json::Value> {
    let files = dir.join("text-files");
    std::fs::create_dir_all(&files)?;
    let per_file = 256 * 1024;
    let count = (mb * 1024 * 1024).div_ceil(per_file);
    let mut bytes = 0usize;
    let mut zipf = Zipf::new(20_000, 1);
    for i in 0..count {
        let text = format!("# Document {i}\n\n{}", zipf.text(per_file));
        bytes += text.len();
        std::fs::write(files.join(format!("doc-{i:04}.md")), text)?;
    }
    let engine = fresh_engine(dir, "text")?;
    engine.set_embedder(None);
    engine.add_paths(std::slice::from_ref(&files))?;
    let took = drain(engine, 2)?;
    let t = Instant::now();
    let mut check = 0usize;
    for e in std::fs::read_dir(&files)? {
        check += std::fs::read(e?.path())?.len();
    }
    let read_took = t.elapsed();
    assert_eq!(check, bytes);
    let mbps = bytes as f64 / 1048576.0 / took.as_secs_f64();
    let read_mbps = bytes as f64 / 1048576.0 / read_took.as_secs_f64();
    say(
        out,
        format!(
            "(c) Markdown ingestion, {count} files, {:.1} MiB, 2 workers: {mbps:.1} MiB/s end to end \
             (reading the same files: {read_mbps:.0} MiB/s)",
            bytes as f64 / 1048576.0
        ),
    );
    Ok(
        json!({ "files": count, "mib": bytes as f64 / 1048576.0, "mib_per_s": mbps, "read_mib_per_s": read_mbps }),
    )
}

/// LibreOffice run headless with a profile of its own; returns how long it took.
fn soffice(dir: &Path, args: &[&str]) -> Result<Duration> {
    let profile = format!(
        "-env:UserInstallation=file://{}",
        dir.join("lo-profile").display()
    );
    let t = Instant::now();
    let o = std::process::Command::new("soffice")
        .args(["--headless", "--norestore", &profile])
        .args(args)
        .output()
        .context("running soffice (LibreOffice): is it installed?")?;
    if !o.status.success() {
        bail!("soffice {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
    Ok(t.elapsed())
}

/// (h) Office formats: the same prose (or table) saved by LibreOffice as each format, read
/// by Trove's extractor in this process (best of three), against LibreOffice itself turning
/// the file into text (`soffice --convert-to txt`, or `csv` for spreadsheets: the usual way
/// to get text out of these files without Trove; its start-up is part of what a person
/// waits for, and is reported on its own).
fn bench_formats(dir: &Path, mb: usize, out: &Out) -> Result<serde_json::Value> {
    let work = dir.join("formats");
    std::fs::create_dir_all(&work)?;
    let mut zipf = Zipf::new(20_000, 7);
    let mut prose = String::new();
    while prose.len() < mb * 1024 * 1024 {
        prose.push_str(&zipf.text(600));
        prose.push_str("\n\n");
    }
    std::fs::write(work.join("prose.txt"), &prose)?;
    let mut csv = String::from("id,name,city,amount,date,note\n");
    let rows = mb * 1024 * 1024 / 64;
    for i in 0..rows {
        csv.push_str(&format!(
            "{i},{},{},{}.{:02},2026-{:02}-{:02},{}\n",
            word(i % 5000),
            word(7 + i % 300),
            i * 37 % 10_000,
            i % 100,
            1 + i % 12,
            1 + i % 28,
            word(i % 20_000),
        ));
    }
    std::fs::write(work.join("table.csv"), &csv)?;
    // A no-op conversion first: LibreOffice's first start in a new profile is slower.
    std::fs::write(work.join("tiny.txt"), "hello")?;
    let warm = work.join("warm").to_string_lossy().into_owned();
    let tiny = work.join("tiny.txt").to_string_lossy().into_owned();
    let tiny_to_odt = ["--convert-to", "odt", "--outdir", &warm, &tiny];
    soffice(&work, &tiny_to_odt)?;
    let startup = soffice(&work, &tiny_to_odt)?;
    let outdir = work.to_string_lossy().into_owned();
    let mut rows_out = Vec::new();
    let cases: &[(&str, &str, &str)] = &[
        ("odt", "prose.txt", "txt:Text"),
        ("docx", "prose.txt", "txt:Text"),
        ("rtf", "prose.txt", "txt:Text"),
        ("epub", "prose.txt", "txt:Text"),
        ("doc", "prose.txt", "txt:Text"),
        ("xlsx", "table.csv", "csv"),
        ("ods", "table.csv", "csv"),
        ("xls", "table.csv", "csv"),
    ];
    for (ext, source, to_text) in cases {
        soffice(
            &work,
            &[
                "--convert-to",
                ext,
                "--outdir",
                &outdir,
                &work.join(source).to_string_lossy(),
            ],
        )?;
        let stem = source.rsplit_once('.').map_or(*source, |(s, _)| s);
        let file = work.join(format!("{stem}.{ext}"));
        let bytes =
            std::fs::read(&file).with_context(|| format!("{} was not made", file.display()))?;
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let limits = trove_extract::Limits::default();
        let mut best = Duration::MAX;
        let mut text_len = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let e = trove_extract::extract(&bytes, Some(&name), &limits)
                .with_context(|| format!("extracting {name}"))?;
            best = best.min(t.elapsed());
            text_len = e.text.len();
        }
        let back = work.join("back");
        std::fs::create_dir_all(&back)?;
        let reference = soffice(
            &work,
            &[
                "--convert-to",
                to_text,
                "--outdir",
                &back.to_string_lossy(),
                &file.to_string_lossy(),
            ],
        )?;
        let mib = bytes.len() as f64 / 1048576.0;
        let text_mib = text_len as f64 / 1048576.0;
        let ratio = reference.as_secs_f64() / best.as_secs_f64();
        say(
            out,
            format!(
                "(h) {ext:<4} {mib:6.2} MiB file → {text_mib:5.2} MiB text: Trove {:7.1} ms ({:6.1} MiB text/s); \
                 soffice --convert-to {to_text} {:7.0} ms: {ratio:5.1}× faster",
                best.as_secs_f64() * 1000.0,
                text_mib / best.as_secs_f64(),
                reference.as_secs_f64() * 1000.0,
            ),
        );
        rows_out.push(json!({
            "format": ext, "file_mib": mib, "text_mib": text_mib,
            "trove_ms": best.as_secs_f64() * 1000.0,
            "soffice_ms": reference.as_secs_f64() * 1000.0, "ratio": ratio,
        }));
    }
    say(
        out,
        format!(
            "(h) soffice start-up alone (a tiny conversion): {:.0} ms",
            startup.as_secs_f64() * 1000.0
        ),
    );
    let (decks, mail) = bench_decks_and_mail(&work, mb, &mut zipf, out)?;
    Ok(json!({
        "formats": rows_out, "soffice_startup_ms": startup.as_secs_f64() * 1000.0,
        "decks": decks, "mail": mail,
    }))
}

/// Slides in the benchmark's deck.
const DECK_SLIDES: usize = 500;

/// Best of three runs of Trove's extractor on `file`: (time, bytes of text).
fn trove_extract_best(file: &Path) -> Result<(Duration, usize)> {
    let bytes = std::fs::read(file).with_context(|| format!("{} was not made", file.display()))?;
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let limits = trove_extract::Limits::default();
    let mut best = (Duration::MAX, 0);
    for _ in 0..3 {
        let t = Instant::now();
        let e = trove_extract::extract(&bytes, Some(&name), &limits)
            .with_context(|| format!("extracting {name}"))?;
        best = best.min((t.elapsed(), e.text.len()));
    }
    Ok(best)
}

/// (h) Presentations and mail. A deck of 500 slides of prose (a paragraph each) is
/// written as flat OpenDocument XML and saved by LibreOffice as ODP and PPTX; Trove reads
/// each against the way to text without it — LibreOffice has no text export for slides,
/// so `soffice --convert-to pdf` then `pdftotext`. A mailbox of the same prose (one
/// paragraph a message, a few headers each) against Python's standard library reading every
/// message's text (`mailbox.mbox` + `email`, the usual scripted way).
fn bench_decks_and_mail(
    work: &Path,
    mb: usize,
    zipf: &mut Zipf,
    out: &Out,
) -> Result<(serde_json::Value, serde_json::Value)> {
    let mut paragraphs = Vec::new();
    let mut size = 0;
    while size < mb * 1024 * 1024 {
        let p = zipf.text(600);
        size += p.len();
        paragraphs.push(p);
    }
    let mut fodp = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<office:document \
         xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
         xmlns:draw=\"urn:oasis:names:tc:opendocument:xmlns:drawing:1.0\" \
         xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" \
         xmlns:presentation=\"urn:oasis:names:tc:opendocument:xmlns:presentation:1.0\" \
         xmlns:svg=\"urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0\" \
         office:version=\"1.2\" office:mimetype=\"application/vnd.oasis.opendocument.presentation\">\n\
         <office:body><office:presentation>\n",
    );
    // A big deck, not 4 MiB of slides: LibreOffice takes minutes to print thousands.
    let slides = &paragraphs[..paragraphs.len().min(DECK_SLIDES)];
    for (i, p) in slides.iter().enumerate() {
        fodp.push_str(&format!(
            "<draw:page draw:name=\"Slide {}\"><draw:frame svg:x=\"1cm\" svg:y=\"1cm\" \
             svg:width=\"25cm\" svg:height=\"15cm\"><draw:text-box><text:p>{p}</text:p>\
             </draw:text-box></draw:frame></draw:page>\n",
            i + 1
        ));
    }
    fodp.push_str("</office:presentation></office:body></office:document>\n");
    let source = work.join("deck.fodp");
    std::fs::write(&source, fodp)?;
    let outdir = work.to_string_lossy().into_owned();
    let mut decks = Vec::new();
    for ext in ["odp", "pptx"] {
        soffice(
            work,
            &[
                "--convert-to",
                ext,
                "--outdir",
                &outdir,
                &source.to_string_lossy(),
            ],
        )?;
        let file = work.join(format!("deck.{ext}"));
        let (best, text_len) = trove_extract_best(&file)?;
        let pdf_dir = work.join(format!("deck-{ext}-pdf"));
        let t = Instant::now();
        soffice(
            work,
            &[
                "--convert-to",
                "pdf",
                "--outdir",
                &pdf_dir.to_string_lossy(),
                &file.to_string_lossy(),
            ],
        )?;
        pdftotext(&pdf_dir.join("deck.pdf"))?;
        let reference = t.elapsed();
        let mib = std::fs::metadata(&file)?.len() as f64 / 1048576.0;
        let text_mib = text_len as f64 / 1048576.0;
        let ratio = reference.as_secs_f64() / best.as_secs_f64();
        say(
            out,
            format!(
                "(h) {ext:<4} {mib:6.2} MiB, {} slides → {text_mib:5.2} MiB text: Trove {:7.1} ms \
                 ({:6.1} MiB text/s, {:6.0} slides/s); soffice → pdf → pdftotext {:7.0} ms: {ratio:5.1}× faster",
                slides.len(),
                best.as_secs_f64() * 1000.0,
                text_mib / best.as_secs_f64(),
                slides.len() as f64 / best.as_secs_f64(),
                reference.as_secs_f64() * 1000.0,
            ),
        );
        decks.push(json!({
            "format": ext, "slides": slides.len(), "file_mib": mib, "text_mib": text_mib,
            "trove_ms": best.as_secs_f64() * 1000.0,
            "reference_ms": reference.as_secs_f64() * 1000.0, "ratio": ratio,
        }));
    }

    let mut mbox = String::new();
    for (i, p) in paragraphs.iter().enumerate() {
        mbox.push_str(&format!(
            "From sender{i}@example.com Fri Mar 15 10:30:00 2024\nFrom: Sender {i} <sender{i}@example.com>\n\
             To: list@example.com\nSubject: Message {i}\nDate: Fri, 15 Mar 2024 10:30:00 +0100\n\
             Content-Type: text/plain; charset=utf-8\n\n{p}\n\n"
        ));
    }
    let file = work.join("mail.mbox");
    std::fs::write(&file, &mbox)?;
    let (best, text_len) = trove_extract_best(&file)?;
    let script = "import mailbox,sys,time\n\
        t=time.perf_counter();n=0\n\
        for m in mailbox.mbox(sys.argv[1]):\n\
        \x20 n+=len(m.get_payload(decode=True).decode(m.get_content_charset() or 'utf-8'))\n\
        print(time.perf_counter()-t)\n";
    let mut reference = f64::MAX;
    for _ in 0..3 {
        let o = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&file)
            .output()
            .context("python3 not found")?;
        if !o.status.success() {
            bail!("python mailbox: {}", String::from_utf8_lossy(&o.stderr));
        }
        reference = reference.min(String::from_utf8_lossy(&o.stdout).trim().parse::<f64>()?);
    }
    let mib = mbox.len() as f64 / 1048576.0;
    let ratio = reference / best.as_secs_f64();
    say(
        out,
        format!(
            "(h) mbox {mib:6.2} MiB, {} messages → {:5.2} MiB text: Trove {:7.1} ms ({:6.0} messages/s); \
             Python mailbox+email {:7.0} ms: {ratio:5.1}× faster",
            paragraphs.len(),
            text_len as f64 / 1048576.0,
            best.as_secs_f64() * 1000.0,
            paragraphs.len() as f64 / best.as_secs_f64(),
            reference * 1000.0,
        ),
    );
    let mail = json!({
        "messages": paragraphs.len(), "file_mib": mib, "trove_ms": best.as_secs_f64() * 1000.0,
        "python_ms": reference * 1000.0, "ratio": ratio,
    });
    Ok((json!(decks), mail))
}

/// A PDF with `pages` pages of text (Helvetica, one text object per line).
pub fn make_pdf(seed: usize, pages: usize) -> Vec<u8> {
    let mut objs: Vec<String> = Vec::new();
    let font_id = 3;
    let first_page = 4;
    let kids: Vec<String> = (0..pages)
        .map(|p| format!("{} 0 R", first_page + p * 2))
        .collect();
    objs.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    objs.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {pages} >>",
        kids.join(" ")
    ));
    objs.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into());
    for p in 0..pages {
        let mut content = String::from("BT /F1 10 Tf 12 TL 50 780 Td\n");
        for l in 0..50 {
            content.push_str(&format!(
                "(Document {seed} page {p} line {l}: the harbour ledger records tides and cargo.) Tj T*\n"
            ));
        }
        content.push_str("ET");
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {} 0 R >>",
            first_page + p * 2 + 1
        ));
        objs.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for off in offsets {
        pdf.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// (d) PDFs through the engine (extraction in the pool of children, chunking, indexing),
/// next to poppler's `pdftotext` on the same files (a process per file, as it is used), and
/// the same files extracted in this process. Half the files are made here (Helvetica, one
/// text object per line), half by Chromium (Skia, as Google Docs exports) when it is
/// installed.
fn bench_pdf(dir: &Path, n: usize, child: &Path, out: &Out) -> Result<serde_json::Value> {
    let pages = 20;
    let files = dir.join("pdf-files");
    std::fs::create_dir_all(&files)?;
    let skia = chromium_pdf(dir, pages);
    if skia.is_none() {
        say(
            out,
            "    (no chromium: all PDFs are the made-up kind)".into(),
        );
    }
    let mut paths = Vec::new();
    for i in 0..n {
        let p = files.join(format!("doc-{i:03}.pdf"));
        let bytes = match (&skia, i % 2) {
            // The same document, made distinct (Trove skips exact duplicates): a comment
            // after the end, which readers ignore.
            (Some(s), 1) => [s.as_slice(), format!("\n% copy {i}\n").as_bytes()].concat(),
            _ => make_pdf(i, pages),
        };
        std::fs::write(&p, bytes)?;
        paths.push(p);
    }
    let (engine, pool) = engine_with_child(dir, "pdf", child)?;
    engine.add_paths(std::slice::from_ref(&files))?;
    let took = drain(engine.clone(), 1)?;
    let c = engine.counts(Some(ItemKind::File))?;
    if c.completed != n as i64 {
        bail!("only {} of {n} PDFs completed", c.completed);
    }
    let children = pool.spawned();
    let peak = peak_rss_kib(&pool.idle_pids());
    let trove_pps = per_sec(n * pages, took);

    // The same files with the default number of workers (as the app runs), next to
    // pdftotext run as many at a time.
    let workers = trove_runtime::engine_config().default_concurrency();
    let (engine, _pool) = engine_with_child(dir, "pdf-default", child)?;
    engine.add_paths(std::slice::from_ref(&files))?;
    let took = drain(engine.clone(), workers)?;
    let default_pps = per_sec(n * pages, took);
    let parallel_reference = pdftotext_parallel_time(&paths, workers as usize)
        .ok()
        .map(|d| per_sec(n * pages, d));

    let t = Instant::now();
    for p in &paths {
        let bytes = std::fs::read(p)?;
        trove_extract::extract(&bytes, None, &trove_extract::Limits::default())
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    }
    let in_process_pps = per_sec(n * pages, t.elapsed());
    let reference = match pdftotext_time(&paths) {
        Ok(d) => Some(per_sec(n * pages, d)),
        Err(e) => {
            say(out, format!("    (pdftotext reference skipped: {e})"));
            None
        }
    };
    say(
        out,
        format!(
            "(d) PDF, {n} files × {pages} pages, 1 worker: {trove_pps:.0} pages/s end to end{}; \
             extraction in this process {in_process_pps:.0} pages/s{}; {children} child process(es), \
             peak RSS {}",
            reference
                .map(|r| format!("; pdftotext: {r:.0} pages/s → {:.2}×", trove_pps / r))
                .unwrap_or_default(),
            reference
                .map(|r| format!(" ({:.2}×)", in_process_pps / r))
                .unwrap_or_default(),
            peak.map_or("unknown".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0)),
        ),
    );
    say(
        out,
        format!(
            "    {workers} workers (the default): {default_pps:.0} pages/s{}{}",
            reference
                .map(|r| format!("; {:.2}× pdftotext one at a time", default_pps / r))
                .unwrap_or_default(),
            parallel_reference
                .map(|r| format!(
                    "; pdftotext {workers} at a time: {r:.0} pages/s → {:.2}×",
                    default_pps / r
                ))
                .unwrap_or_default(),
        ),
    );
    Ok(json!({
        "files": n, "pages": n * pages, "pages_per_s": trove_pps,
        "default_workers": workers, "default_pages_per_s": default_pps,
        "pdftotext_parallel_pages_per_s": parallel_reference,
        "pdftotext_pages_per_s": reference,
        "ratio": reference.map(|r| trove_pps / r),
        "in_process_pages_per_s": in_process_pps,
        "in_process_ratio": reference.map(|r| in_process_pps / r),
        "children": children,
        "child_peak_rss_kib": peak,
        "skia_files": if skia.is_some() { n / 2 } else { 0 },
    }))
}

/// `pages` pages of prose printed to PDF by headless Chromium, if it is installed.
fn chromium_pdf(dir: &Path, pages: usize) -> Option<Vec<u8>> {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            std::process::Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })?;
    let mut html = String::from(
        "<!doctype html><meta charset=utf-8><style>body{font:12pt serif}.p{break-after:page}</style>",
    );
    for p in 0..pages {
        html.push_str("<div class=p>");
        for l in 0..12 {
            html.push_str(&format!(
                "<p>Page {p}, paragraph {l}: the harbour ledger records tides, cargo and the \
                 names of ships that came in before the storm; {} and {} were noted by the clerk.</p>",
                word(p * 100 + l),
                word(p * 100 + l + 50)
            ));
        }
        html.push_str("</div>");
    }
    let src = dir.join("skia.html");
    let pdf = dir.join("skia.pdf");
    std::fs::write(&src, html).ok()?;
    std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.join("chromium-profile").display()
        ))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", src.display()))
        .output()
        .ok()?;
    std::fs::read(pdf).ok()
}

/// (f) OCR: PNG images of text pages (rendered by poppler at 300 dpi from a Chromium PDF)
/// through the engine, against the `tesseract` program on the same images, one at a time.
fn bench_ocr(dir: &Path, n: usize, child: &Path, out: &Out) -> Result<serde_json::Value> {
    if trove_runtime::ocr_config().is_none() {
        say(out, "(f) OCR: skipped (tesseract is not installed)".into());
        return Ok(json!(null));
    }
    let Some(pdf) = chromium_pdf(dir, n) else {
        say(
            out,
            "(f) OCR: skipped (no chromium to make the pages)".into(),
        );
        return Ok(json!(null));
    };
    let pdf_path = dir.join("ocr-source.pdf");
    std::fs::write(&pdf_path, pdf)?;
    let images = dir.join("ocr-images");
    std::fs::create_dir_all(&images)?;
    let mut paths = Vec::new();
    for page in 1..=n {
        let png = std::process::Command::new("pdftoppm")
            .args([
                "-r",
                "300",
                "-png",
                "-singlefile",
                "-f",
                &page.to_string(),
                "-l",
                &page.to_string(),
            ])
            .arg(&pdf_path)
            .output()
            .context("pdftoppm not found (apt install poppler-utils)")?;
        if !png.status.success() || png.stdout.is_empty() {
            bail!("pdftoppm could not render page {page}");
        }
        let p = images.join(format!("page-{page:03}.png"));
        std::fs::write(&p, png.stdout)?;
        paths.push(p);
    }
    let (engine, pool) = engine_with_child(dir, "ocr", child)?;
    engine.add_paths(std::slice::from_ref(&images))?;
    let took = drain(engine.clone(), 1)?;
    let c = engine.counts(Some(ItemKind::File))?;
    if c.completed != n as i64 {
        bail!("only {} of {n} images completed", c.completed);
    }
    let peak = peak_rss_kib(&pool.idle_pids());
    let trove_pps = per_sec(n, took);
    // The reference twice: as a person runs it (OpenMP threads as it likes), and with one
    // thread as Trove runs it (OMP_THREAD_LIMIT=1), which isolates Trove's own overhead.
    let tesseract = |one_thread: bool| -> Result<f64> {
        let t = Instant::now();
        for p in &paths {
            let mut cmd = std::process::Command::new("tesseract");
            cmd.arg(p).arg("stdout");
            if one_thread {
                cmd.env("OMP_THREAD_LIMIT", "1");
            }
            let o = cmd.output().context("tesseract not found")?;
            if !o.status.success() {
                bail!("tesseract failed on {}", p.display());
            }
        }
        Ok(per_sec(n, t.elapsed()))
    };
    let reference = tesseract(false)?;
    let same_threads = tesseract(true)?;
    say(
        out,
        format!(
            "(f) OCR, {n} page images at 300 dpi, 1 worker: {trove_pps:.2} pages/s end to end; \
             tesseract: {reference:.2} pages/s → {:.2}×; tesseract with one thread as Trove runs \
             it: {same_threads:.2} pages/s → {:.2}× (Trove's overhead {:+.1} %); child peak RSS {}",
            trove_pps / reference,
            trove_pps / same_threads,
            (same_threads / trove_pps - 1.0) * 100.0,
            peak.map_or("unknown".into(), |k| format!(
                "{:.0} MiB",
                k as f64 / 1024.0
            )),
        ),
    );
    Ok(json!({
        "images": n, "pages_per_s": trove_pps, "tesseract_pages_per_s": reference,
        "tesseract_one_thread_pages_per_s": same_threads,
        "ratio": trove_pps / reference, "ratio_same_threads": trove_pps / same_threads,
        "child_peak_rss_kib": peak,
    }))
}

fn pdftotext_time(paths: &[PathBuf]) -> Result<Duration> {
    let t = Instant::now();
    for p in paths {
        pdftotext(p)?;
    }
    Ok(t.elapsed())
}

/// `pdftotext` over the files, `at_once` processes at a time (as `xargs -P` runs it).
fn pdftotext_parallel_time(paths: &[PathBuf], at_once: usize) -> Result<Duration> {
    let t = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..at_once.max(1))
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(p) = paths.get(i) else {
                            return Ok(());
                        };
                        pdftotext(p)?;
                    }
                })
            })
            .collect();
        runs.into_iter()
            .try_for_each(|r| r.join().map_err(|_| anyhow::anyhow!("pdftotext thread"))?)
    })?;
    Ok(t.elapsed())
}

fn pdftotext(p: &Path) -> Result<()> {
    let o = std::process::Command::new("pdftotext")
        .arg(p)
        .arg("-")
        .output()
        .context("pdftotext not found (apt install poppler-utils)")?;
    if !o.status.success() {
        bail!("pdftotext failed on {}", p.display());
    }
    Ok(())
}

/// (e) Search latency and memory at N chunks. Chunk texts are synthetic; their vectors are
/// random unit vectors stored for the active model (embedding 100k chunks would take half
/// an hour and does not change search cost). Queries are embedded by the real model.
fn bench_search(dir: &Path, n: usize, out: &Out) -> Result<serde_json::Value> {
    let engine = fresh_engine(dir, "search")?;
    let embedder = trove_runtime::embedder_from_env()?;
    let (model_id, dims) = match &embedder {
        Some(e) => (e.model_id().to_owned(), e.dims()),
        None => {
            say(
                out,
                "(e) search: no embedding model found; measuring keyword search only".into(),
            );
            (String::new(), 0)
        }
    };
    engine.set_embedder(embedder.clone());
    let rss_before = rss_kib();
    {
        // Written the way the product writes: rows and jobs through the store, each
        // document's chunks, FTS rows and vectors in its job's completing transaction.
        let mut conn = trove_core::db::open(engine.db_path())?;
        let per_doc = 20;
        let mut zipf = Zipf::new(20_000, 7);
        let tx = conn.transaction()?;
        for d in 0..n.div_ceil(per_doc) {
            let item = items::insert_file(
                &tx,
                &format!("doc-{d}.md"),
                std::path::Path::new(&format!("/bench/doc-{d}.md")),
                None,
                1,
                0,
            )?;
            queue::enqueue(&tx, item, 3, 0)?;
        }
        tx.commit()?;
        let cfg = QueueConfig::default();
        let mut i = 0usize;
        while let Some(job) = queue::claim(&mut conn, "bench", &cfg, 1)? {
            let mut text = String::new();
            let mut ranges = Vec::new();
            let mut hashes = Vec::new();
            let mut vecs = Vec::new();
            while i < n && ranges.len() < per_doc {
                let start = text.len();
                text.push_str(&zipf.text(600));
                ranges.push(start..text.len());
                let hash = format!("bench-{i}");
                if dims > 0 {
                    let mut v: Vec<f32> = (0..dims).map(|_| (zipf.unit() - 0.5) as f32).collect();
                    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    v.iter_mut().for_each(|x| *x /= norm);
                    vecs.push((hash.clone(), vec![v]));
                }
                hashes.push(hash);
                text.push_str("\n\n");
                i += 1;
            }
            let outcome = content::Outcome {
                content: Some(content::Content {
                    text,
                    ranges,
                    hashes,
                    pages: None,
                    vectors: (dims > 0).then(|| content::Vectors {
                        model: model_id.clone(),
                        dims,
                        vectors: vecs,
                    }),
                }),
                ..Default::default()
            };
            let item = job.item;
            if !queue::complete(&mut conn, &job, 2, |tx| {
                content::store_outcome(tx, item, outcome, 2)
            })? {
                bail!("lost a lease while building the search index");
            }
        }
    }
    let mode = if dims > 0 {
        SearchMode::Hybrid
    } else {
        SearchMode::Keyword
    };
    // First search loads the vector index.
    let t = Instant::now();
    engine.search("harbour lantern", Some(mode), 10)?;
    let load = t.elapsed();
    let rss_after = rss_kib();
    let mut pick = Zipf::new(20_000, 99);
    // Distinct two-word queries from the middle of the vocabulary (ranks 50–2,000: words
    // found in hundreds to thousands of chunks).
    let queries: Vec<String> = (0..200)
        .map(|_| {
            let (a, b) = (pick.rank_between(50, 2000), pick.rank_between(50, 2000));
            format!("{} {}", word(a), word(b))
        })
        .collect();
    let run = |mode: SearchMode| run_on(&engine, &queries, mode);
    // Keyword alone; then the real thing (hybrid, every query embedded afresh); then
    // semantic alone with the query vectors cached (the vector scan by itself).
    let mut kw_lat = run(SearchMode::Keyword)?;
    let mut lat = run(mode)?;
    let mut sem_lat = if dims > 0 {
        run(SearchMode::Semantic)?
    } else {
        Vec::new()
    };
    // Reference in the same run: the query embedding alone (what the model costs).
    let mut emb_lat = Vec::new();
    if let Some(e) = &embedder {
        for q in 0..50 {
            let query = format!("reference query number {q} about tides");
            let t = Instant::now();
            e.embed(&[query.as_str()])
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            emb_lat.push(t.elapsed());
        }
    }
    let pct = |v: &mut Vec<Duration>, p: f64| -> f64 {
        v.sort();
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i].as_secs_f64() * 1e3
    };
    let (p50, p99) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
    let (kw50, kw99) = (pct(&mut kw_lat, 0.5), pct(&mut kw_lat, 0.99));
    let (sem50, sem99) = (pct(&mut sem_lat, 0.5), pct(&mut sem_lat, 0.99));
    let emb_p50 = pct(&mut emb_lat, 0.5);
    let grew_mib = (rss_after.saturating_sub(rss_before)) as f64 / 1024.0;
    // A restart: a second engine on the same database, whose first search maps the
    // snapshot the first load wrote (large libraries only) instead of reading SQLite.
    let mut restart = serde_json::Value::Null;
    let snapshot = trove_core::search::snapshot::path_for(engine.db_path());
    if dims > 0 && n >= trove_core::search::snapshot::MIN_VECTORS {
        let t = Instant::now();
        while !snapshot.is_file() && t.elapsed() < Duration::from_secs(600) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let written = t.elapsed();
        let again = Engine::open(engine.db_path(), trove_runtime::engine_config())?;
        again.set_embedder(embedder.clone());
        // The model is already loaded here (the embedder is shared): the figure is the
        // index's, and a real start adds the model's load (BENCHMARKS.md).
        if let Some(e) = &embedder {
            e.embed(&["warm up the model"])
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let t = Instant::now();
        again.search("harbour lantern", Some(mode), 10)?;
        let first = t.elapsed();
        let mut lat = run_on(&again, &queries, mode)?;
        let (r50, r99) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
        let mapped_mib = mapped_rss_kib(&snapshot) as f64 / 1024.0;
        let file_mib =
            std::fs::metadata(&snapshot).map(|m| m.len()).unwrap_or(0) as f64 / (1024.0 * 1024.0);
        say(
            out,
            format!(
                "(e) after a restart: first {} search {:.0} ms (the snapshot, {file_mib:.0} MiB, \
                 written {:.1} s after the first load); then p50 {r50:.1} ms, p99 {r99:.1} ms; \
                 the mapped index's resident memory {mapped_mib:.0} MiB",
                if dims > 0 { "hybrid" } else { "keyword" },
                first.as_secs_f64() * 1e3,
                written.as_secs_f64()
            ),
        );
        restart = json!({
            "first_query_ms": first.as_secs_f64() * 1e3, "p50_ms": r50, "p99_ms": r99,
            "snapshot_mib": file_mib, "mapped_rss_mib": mapped_mib,
        });
    }
    say(
        out,
        format!(
            "(e) {} search over {n} chunks: p50 {p50:.1} ms, p99 {p99:.1} ms (query embedding alone p50 {emb_p50:.1} ms; \
             keyword only p50 {kw50:.1} / p99 {kw99:.1} ms; vector scan with cached query p50 {sem50:.1} / p99 {sem99:.1} ms); \
             index load {:.0} ms; RSS grew {grew_mib:.0} MiB to {:.0} MiB",
            if dims > 0 { "hybrid" } else { "keyword" },
            load.as_secs_f64() * 1e3,
            rss_after as f64 / 1024.0
        ),
    );
    // How much the large index's sign-bit scan keeps here, where the vectors are random:
    // its worst case (every score crowds around zero); (i) measures real vectors.
    let scans = if dims > 0 && n >= trove_core::search::vector::BINARY_MIN {
        bench_scans("e", engine.db_path(), &queries[..20], out)?
    } else {
        serde_json::Value::Null
    };
    Ok(json!({
        "chunks": n, "mode": if dims > 0 { "hybrid" } else { "keyword" },
        "scans": scans,
        "p50_ms": p50, "p99_ms": p99, "embed_query_p50_ms": emb_p50,
        "keyword_p50_ms": kw50, "keyword_p99_ms": kw99,
        "semantic_cached_p50_ms": sem50, "semantic_cached_p99_ms": sem99,
        "index_load_ms": load.as_secs_f64() * 1e3,
        "rss_mib": rss_after as f64 / 1024.0, "rss_growth_mib": grew_mib,
        "restart": restart,
    }))
}

/// (i) Each way of scanning the vectors of the library at `db`, against exact scores: the
/// share of the exact top 10 it keeps (a search's first 10 of its 50 candidates, as search
/// asks for them) and its time per query, over the real model's vectors of `queries`.
fn bench_scans(part: &str, db: &Path, queries: &[String], out: &Out) -> Result<serde_json::Value> {
    use trove_core::search::vector::{Scan, VectorIndex};
    let embedder = trove_runtime::embedder_from_env()?.context("(i) needs the embedding model")?;
    let conn = trove_core::db::open(db)?;
    let (ids, data) =
        trove_core::store::vectors::load(&conn, embedder.model_id(), embedder.dims())?;
    let ix = VectorIndex::new(
        embedder.model_id().to_owned(),
        0,
        embedder.dims(),
        ids,
        data,
    );
    let n = ix.len();
    if n == 0 {
        bail!("no vectors of {} in {}", embedder.model_id(), db.display());
    }
    let vectors = queries
        .iter()
        .map(|q| {
            Ok(embedder
                .embed(&[q.as_str()])
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .remove(0))
        })
        .collect::<Result<Vec<_>>>()?;
    let exact: Vec<Vec<i64>> = vectors
        .iter()
        .map(|q| ix.top_k_exact(q, 10).into_iter().map(|h| h.0).collect())
        .collect();
    let mut rows = Vec::new();
    let scans = [
        ("int8", Scan::Int8),
        ("bits, n/50", Scan::Bits { candidates: n / 50 }),
        (
            "bits, n/100",
            Scan::Bits {
                candidates: n / 100,
            },
        ),
        (
            "bits, n/200",
            Scan::Bits {
                candidates: n / 200,
            },
        ),
        (
            "bits, n/400",
            Scan::Bits {
                candidates: n / 400,
            },
        ),
    ];
    // Each scan with the processor's fastest code, then (where that is AVX-512 VNNI) with the
    // portable code, in this same process: the kernels' own ratio.
    let vnni = trove_common::cpu::avx512_vnni();
    let runs = scans
        .iter()
        .map(|(name, scan)| (name.to_string(), *scan, false))
        .chain(
            scans
                .iter()
                .filter(|_| vnni)
                .map(|(name, scan)| (format!("{name} (portable code)"), *scan, true)),
        );
    for (name, scan, portable) in runs {
        trove_core::search::kernels::force_portable(portable);
        let (mut kept, mut total) = (0, 0);
        let mut lat = Vec::new();
        for (q, want) in vectors.iter().zip(&exact) {
            let t = Instant::now();
            let found = ix.top_k_with(q, 50, None, scan);
            lat.push(t.elapsed().as_secs_f64() * 1e3);
            let top: Vec<i64> = found.iter().take(10).map(|h| h.0).collect();
            kept += want.iter().filter(|id| top.contains(id)).count();
            total += want.len();
        }
        let recall = kept as f64 / total.max(1) as f64;
        let p50 = median_ms(lat);
        say(
            out,
            format!(
                "({part}) {n} vectors, {} queries, scan {name}: recall@10 {recall:.3}, p50 {p50:.2} ms",
                queries.len()
            ),
        );
        rows.push(json!({"scan": name, "recall_at_10": recall, "p50_ms": p50}));
    }
    trove_core::search::kernels::force_portable(false);
    Ok(json!({"vectors": n, "queries": queries.len(), "scans": rows}))
}

/// Each query searched once on `engine`; the latencies.
fn run_on(engine: &Engine, queries: &[String], mode: SearchMode) -> Result<Vec<Duration>> {
    let mut lat = Vec::new();
    for query in queries {
        let t = Instant::now();
        let r = engine.search(query, Some(mode), 10)?;
        lat.push(t.elapsed());
        if r.hits.is_empty() {
            bail!("no hits for {query}");
        }
    }
    Ok(lat)
}

/// Resident memory of this process's maps of `file` (/proc/self/smaps), KiB.
fn mapped_rss_kib(file: &Path) -> u64 {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    let name = file.to_string_lossy();
    let mut inside = false;
    let mut total = 0;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            // A mapping's first line: "start-end perms offset dev inode path".
            inside = line.ends_with(name.as_ref());
        } else if inside && first == "Rss:" {
            total += line
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

const SYLLABLES: [&str; 20] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "da", "gu", "ho", "ji", "be", "fa", "zo",
    "wi", "ye", "cu", "xa",
];

/// The made-up word of frequency rank `i` (unique: base-20 digits as syllables).
fn word(i: usize) -> String {
    let mut x = i + 20;
    let mut s = String::new();
    while x > 0 {
        s.push_str(SYLLABLES[x % 20]);
        x /= 20;
    }
    s
}

/// Prose-like text: words drawn with Zipf frequencies (a few very common, a long tail).
struct Zipf {
    cdf: Vec<f64>,
    words: Vec<String>,
    state: u64,
}

impl Zipf {
    fn new(n: usize, seed: u64) -> Self {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=n)
            .map(|r| {
                acc += 1.0 / r as f64;
                acc
            })
            .collect();
        cdf.iter_mut().for_each(|c| *c /= acc);
        Self {
            cdf,
            words: (0..n).map(word).collect(),
            state: seed.wrapping_mul(0x9E3779B97F4A7C15) | 1,
        }
    }

    fn unit(&mut self) -> f64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state >> 11) as f64 / (1u64 << 53) as f64
    }

    fn rank_between(&mut self, lo: usize, hi: usize) -> usize {
        lo + ((hi - lo) as f64 * self.unit()) as usize
    }

    fn text(&mut self, bytes: usize) -> String {
        let mut s = String::with_capacity(bytes + 16);
        while s.len() < bytes {
            let u = self.unit();
            let i = self
                .cdf
                .partition_point(|&c| c < u)
                .min(self.words.len() - 1);
            s.push_str(&self.words[i]);
            s.push(' ');
        }
        s
    }
}
