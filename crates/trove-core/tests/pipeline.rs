//! The worker pool running the real pipeline on real files (in-process extraction; the
//! sandboxed child process is exercised by the black-box suites in tests/).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use trove_core::events::EventKind;
use trove_core::worker::WorkerOptions;
use trove_core::{
    Engine, EngineConfig, FetchRequest, Fetched, Fetcher, Item, ItemKind, JobError, Status,
};

fn setup() -> (tempfile::TempDir, Arc<Engine>, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("in");
    std::fs::create_dir(&files).unwrap();
    let engine = Engine::open(&dir.path().join("t.db"), EngineConfig::default()).unwrap();
    (dir, engine, files)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn work(engine: &Arc<Engine>) -> trove_core::worker::WorkerSummary {
    let e = engine.clone();
    rt().block_on(async move {
        e.start_worker(WorkerOptions {
            until_idle: true,
            poll: Duration::from_millis(20),
            ..Default::default()
        })
        .wait()
        .await
        .unwrap()
    })
}

fn by_name<'a>(items: &'a [Item], name: &str) -> &'a Item {
    items
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no item {name}"))
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
fn mixed_folder_ends_completed_or_failed_with_readable_errors() {
    let (_d, engine, dir) = setup();
    write(
        &dir,
        "notes.md",
        "# Llamas\n\nLlamas are domesticated South American camelids.\n",
    );
    write(&dir, "page.html", "<html><head><title>T</title><script>var secret=1</script><style>p{}</style></head><body><p>Visible alpaca text</p></body></html>");
    write(&dir, "data.json", r#"{"animal": "vicuña", "count": 3}"#);
    write(&dir, "table.csv", "name,kind\nguanaco,camelid\n");
    write(
        &dir,
        "latin1.txt",
        b"caf\xe9 cr\xe8me br\xfbl\xe9e, a Latin-1 dessert\n",
    );
    write(&dir, "empty.txt", "");
    write(
        &dir,
        "binary.txt",
        (0..2048u32)
            .map(|i| (i * 7 % 256) as u8)
            .collect::<Vec<_>>(),
    );
    write(&dir, "gone.txt", "soon deleted");
    write(
        &dir,
        "archive.zip",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest of a zip that is not a docx",
    );
    let report = engine.add_paths(std::slice::from_ref(&dir)).unwrap();
    assert_eq!(report.added.len(), 9);
    std::fs::remove_file(dir.join("gone.txt")).unwrap();
    let summary = work(&engine);
    let items = engine.list(None, None, 100).unwrap();
    for ok in [
        "notes.md",
        "page.html",
        "data.json",
        "table.csv",
        "latin1.txt",
    ] {
        let i = by_name(&items, ok);
        assert_eq!(i.status, Status::Completed, "{ok}: {:?}", i.error);
        assert!(i.chunk_count >= 1);
    }
    assert_eq!(
        by_name(&items, "empty.txt").error.as_deref(),
        Some("file is empty")
    );
    let gone = by_name(&items, "gone.txt");
    assert_eq!(gone.status, Status::Failed);
    assert_eq!(
        gone.error.as_deref(),
        Some(
            format!(
                "file no longer exists at {}",
                dir.join("gone.txt").display()
            )
            .as_str()
        )
    );
    let bin = by_name(&items, "binary.txt");
    assert_eq!(bin.status, Status::Failed);
    assert!(
        bin.error.as_deref().unwrap().contains("binary"),
        "{:?}",
        bin.error
    );
    let zip = by_name(&items, "archive.zip");
    assert_eq!(zip.status, Status::Failed);
    assert!(
        zip.error.as_deref().unwrap().to_lowercase().contains("zip"),
        "{:?}",
        zip.error
    );
    assert_eq!((summary.completed, summary.failed), (5, 4));
    // Failures are permanent: one attempt each, no retries burnt.
    assert!(items
        .iter()
        .filter(|i| i.status == Status::Failed)
        .all(|i| i.attempts == 1));

    // Text is searchable; script/style content is not indexed; Latin-1 was decoded.
    let hits = engine.search("alpaca", None, 10).unwrap().hits;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].name, "page.html");
    assert!(hits[0].snippet.contains("\u{2}alpaca\u{3}"));
    assert!(engine.search("secret", None, 10).unwrap().hits.is_empty());
    assert_eq!(engine.search("crème", None, 10).unwrap().hits.len(), 1);
}

#[test]
fn running_a_job_again_replaces_chunks_instead_of_duplicating_them() {
    let (_d, engine, dir) = setup();
    let para = "The quick brown fox jumps over the lazy dog. ".repeat(40);
    write(
        &dir,
        "long.txt",
        (0..12)
            .map(|_| para.clone())
            .collect::<Vec<_>>()
            .join("\n\n"),
    );
    engine.add_paths(std::slice::from_ref(&dir)).unwrap();
    work(&engine);
    let item = engine.list(None, None, 1).unwrap().remove(0);
    assert!(item.chunk_count > 5, "{}", item.chunk_count);
    let count = |e: &Engine| {
        e.search("fox", Some(trove_core::SearchMode::Keyword), 200)
            .unwrap()
            .hits
            .len()
    };
    assert_eq!(count(&engine), 1, "hits are grouped per document");
    engine.retry(item.id).unwrap();
    work(&engine);
    let again = engine.item(item.id).unwrap();
    assert_eq!(again.chunk_count, item.chunk_count);
    let conn = rusqlite::Connection::open(engine.db_path()).unwrap();
    let total: i64 = conn
        .query_row("SELECT COUNT(*) FROM chunks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(total, item.chunk_count);
    let fts: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'fox'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        fts, item.chunk_count,
        "the FTS index follows the chunks table"
    );
}

#[test]
fn same_content_is_processed_once_and_linked() {
    let (_d, engine, dir) = setup();
    write(&dir, "a.txt", "identical content about tapirs");
    engine.add_paths(&[dir.join("a.txt")]).unwrap();
    work(&engine);
    write(&dir, "b.txt", "identical content about tapirs");
    engine.add_paths(&[dir.join("b.txt")]).unwrap();
    work(&engine);
    let items = engine.list(None, None, 10).unwrap();
    let (a, b) = (by_name(&items, "a.txt"), by_name(&items, "b.txt"));
    assert_eq!(b.status, Status::Completed);
    assert_eq!(b.duplicate_of.as_deref(), Some(a.id.to_string().as_str()));
    assert_eq!(b.chunk_count, 0);
    assert_eq!(engine.search("tapirs", None, 10).unwrap().hits.len(), 1);
    // Deleting the original makes the duplicate an original again.
    engine.delete(a.id).unwrap();
    work(&engine);
    let b = engine.item(b.id).unwrap();
    assert_eq!(
        (b.status, b.duplicate_of.as_deref(), b.chunk_count),
        (Status::Completed, None, 1)
    );
    assert_eq!(
        engine.search("tapirs", None, 10).unwrap().hits[0].name,
        "b.txt"
    );
}

#[test]
fn events_tell_every_status_change_in_order() {
    let (_d, engine, dir) = setup();
    write(&dir, "one.txt", "hello events");
    let start = engine.last_event_seq().unwrap();
    engine.add_paths(std::slice::from_ref(&dir)).unwrap();
    work(&engine);
    let events = engine.events_since(start, 1000).unwrap();
    let statuses: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Added | EventKind::Updated))
        .filter_map(|e| e.status)
        .collect();
    assert_eq!(
        statuses,
        vec![Status::Pending, Status::Processing, Status::Completed]
    );
    let progress: Vec<u8> = events
        .iter()
        .filter(|e| e.kind == EventKind::Progress)
        .filter_map(|e| e.progress)
        .collect();
    assert!(
        progress.len() >= 2 && progress.windows(2).all(|w| w[0] <= w[1]),
        "{progress:?}"
    );
    assert!(events.iter().any(|e| e.kind == EventKind::BatchFinished
        && e.message.as_deref() == Some("1 completed, 0 failed")));
}

#[test]
fn pause_stops_new_work_and_resume_continues() {
    let (_d, engine, dir) = setup();
    write(&dir, "p.txt", "paused text");
    engine.add_paths(std::slice::from_ref(&dir)).unwrap();
    assert!(engine.set_paused(true).unwrap().paused);
    work(&engine);
    assert_eq!(
        engine.counts(None).unwrap().pending,
        1,
        "nothing runs while paused"
    );
    engine.set_paused(false).unwrap();
    work(&engine);
    assert_eq!(engine.counts(None).unwrap().completed, 1);
}

/// A web server that never answers: stands in for the network (outside the machine).
struct Hanging(Arc<tokio::sync::Notify>);

impl Fetcher for Hanging {
    fn fetch(&self, _req: FetchRequest) -> trove_core::FetchFuture<'_> {
        let n = self.0.clone();
        Box::pin(async move {
            n.notify_one();
            std::future::pending::<()>().await;
            Err::<Fetched, _>(JobError::transient("unreachable"))
        })
    }
}

#[test]
fn shutdown_releases_in_flight_jobs_back_to_pending() {
    let (_d, engine, _dir) = setup();
    let started = Arc::new(tokio::sync::Notify::new());
    engine.set_fetcher(Arc::new(Hanging(started.clone())));
    engine
        .add_urls(&["https://example.invalid/slow".into()], false)
        .unwrap();
    let e = engine.clone();
    let summary = rt().block_on(async move {
        let h = e.start_worker(WorkerOptions {
            shutdown_grace: Duration::from_millis(200),
            poll: Duration::from_millis(20),
            ..Default::default()
        });
        started.notified().await;
        h.shutdown().await.unwrap()
    });
    assert_eq!(summary.released, 1);
    let item = engine.list(None, Some(ItemKind::Url), 1).unwrap().remove(0);
    assert_eq!((item.status, item.attempts), (Status::Pending, 0));
}

#[test]
fn concurrency_setting_is_validated_and_persisted() {
    let (_d, engine, _) = setup();
    assert_eq!(engine.queue_state().unwrap().concurrency, 2);
    assert_eq!(engine.set_concurrency(4).unwrap().concurrency, 4);
    assert!(engine.set_concurrency(0).is_err());
    let again = Engine::open(engine.db_path(), EngineConfig::default()).unwrap();
    assert_eq!(again.concurrency().unwrap(), 4);
}

/// A web page that never changes (the same bytes each time).
struct StaticPage;

impl Fetcher for StaticPage {
    fn fetch(&self, req: FetchRequest) -> trove_core::FetchFuture<'_> {
        Box::pin(async move {
            Ok(Fetched::Page(Box::new(trove_core::FetchedPage {
                final_url: req.url,
                http_status: 200,
                content_type: "text/plain".into(),
                title: Some("Static".into()),
                text: "A page about lighthouses that never changes.".into(),
                etag: None,
                last_modified: None,
                sha256: "0".repeat(64),
                size: 44,
                links: Vec::new(),
                pdf: None,
            })))
        })
    }
}

#[test]
fn periodic_refresh_queues_links_fetched_longer_ago_than_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let clock = trove_core::clock::ManualClock::new(1_800_000_000_000);
    let engine = Engine::open_with_clock(
        &dir.path().join("t.db"),
        EngineConfig::default(),
        Arc::new(clock.clone()),
    )
    .unwrap();
    engine.set_fetcher(Arc::new(StaticPage));
    engine
        .add_urls(&["http://example.test/page".into()], false)
        .unwrap();
    work(&engine);
    let id = engine.list(None, None, 1).unwrap()[0].id;
    assert_eq!(engine.item(id).unwrap().status, Status::Completed);

    // Off by default: nothing is refreshed however old.
    clock.advance_ms(30 * 86_400_000);
    assert_eq!(engine.refresh_due().unwrap(), 0);

    engine
        .set_refresh_every(Some(Duration::from_secs(86_400)))
        .unwrap();
    assert!(engine
        .set_refresh_every(Some(Duration::from_secs(5)))
        .is_err());
    assert_eq!(engine.refresh_due().unwrap(), 1);
    assert_eq!(engine.item(id).unwrap().status, Status::Pending);
    work(&engine);
    assert_eq!(engine.item(id).unwrap().status, Status::Completed);
    // Just fetched: not due again until a day has passed.
    assert_eq!(engine.refresh_due().unwrap(), 0);
    clock.advance_ms(86_400_000 + 1);
    assert_eq!(engine.refresh_due().unwrap(), 1);
}

/// Opening a hit sends the reader a window around the chunk, not the whole document: a
/// 3 MB text gives at most the chunk and 64 KiB on each side, the chunk's range points at
/// its own text, and the window says which page it starts on and that text was left out.
#[test]
fn opening_a_chunk_of_a_long_document_sends_a_window_around_it() {
    let (_t, engine, dir) = setup();
    let mut text = String::new();
    for i in 0..60_000 {
        // Page breaks as a PDF's text has them: the window must say which page it starts on.
        if i > 0 && i % 10_000 == 0 {
            text.push('\x0c');
        }
        text.push_str(&format!(
            "Line {i} of the long ledger, with its tally of sacks.\n"
        ));
        if i == 30_000 {
            text.push_str("The zanzibar entry sits in the middle.\n");
        }
    }
    write(&dir, "ledger.txt", &text);
    engine.add_paths(&[dir.join("ledger.txt")]).unwrap();
    work(&engine);
    let hit = engine.search("zanzibar", None, 5).unwrap().hits.remove(0);
    let v = engine.open_chunk(hit.chunk_id).unwrap();
    assert!(text.len() > 3_000_000);
    assert!(
        v.text.len() <= 2 * trove_core::library::READER_CONTEXT + 4096,
        "{} bytes",
        v.text.len()
    );
    assert!(v.cut_before && v.cut_after);
    // Breaks before lines 10,000 and 20,000 come before the window; the one before line
    // 30,000 is inside it (the chunk follows line 30,000; the window reaches 64 KiB back).
    assert_eq!(v.first_page, 3);
    assert_eq!(v.text.matches('\x0c').count(), 1);
    let units: Vec<u16> = v.text.encode_utf16().collect();
    let chunk = String::from_utf16(&units[v.start as usize..v.end as usize]).unwrap();
    assert!(chunk.contains("zanzibar"), "{chunk}");
    // The window starts at a line.
    assert!(v.text.starts_with("Line 2"), "{}", &v.text[..40]);
}

/// Appends a paragraph to `file` while its first batch is embedded, and counts the texts
/// each call embeds.
struct ChangingEmbedder {
    file: PathBuf,
    calls: std::sync::Mutex<Vec<usize>>,
}

impl trove_core::Embedder for ChangingEmbedder {
    fn model_id(&self) -> &str {
        "test-changing"
    }
    fn dims(&self) -> usize {
        4
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, JobError> {
        let mut calls = self.calls.lock().unwrap();
        if calls.is_empty() {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&self.file)
                .unwrap();
            write!(
                f,
                "\n\nA kingfisher paragraph written while Trove embedded the rest."
            )
            .unwrap();
        }
        calls.push(texts.len());
        Ok(texts
            .iter()
            .map(|t| {
                let n = t.len() as f32;
                let v = [1.0, n.sin(), n.cos(), (n / 7.0).sin()];
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter().map(|x| x / norm).collect()
            })
            .collect())
    }
}

#[test]
fn a_file_changed_while_embedded_is_read_again_and_only_its_new_passages_embedded() {
    let (_d, engine, dir) = setup();
    let para = |i: usize| format!("Paragraph {i} about herons and their nests. ").repeat(20);
    write(
        &dir,
        "journal.txt",
        (0..8).map(para).collect::<Vec<_>>().join("\n\n"),
    );
    let embedder = Arc::new(ChangingEmbedder {
        file: dir.join("journal.txt"),
        calls: Default::default(),
    });
    engine.set_embedder(Some(embedder.clone()));
    engine.add_paths(std::slice::from_ref(&dir)).unwrap();
    work(&engine);
    let item = engine.list(None, None, 1).unwrap().remove(0);
    assert_eq!(item.status, Status::Completed, "{:?}", item.error);
    assert_eq!(item.attempts, 2, "the change was not noticed");
    let calls = embedder.calls.lock().unwrap().clone();
    let (first, again) = (calls[0], calls[1..].iter().sum::<usize>());
    assert!(first >= 6, "{calls:?}");
    // The retry finds the first attempt's vectors: only the passage the new paragraph
    // joined (and any new one after it) is embedded again.
    assert!((1..=2).contains(&again), "{calls:?}");
    let hits = engine
        .search("kingfisher", Some(trove_core::SearchMode::Keyword), 10)
        .unwrap()
        .hits;
    assert_eq!(hits.len(), 1, "the stored text is the final version");
}
