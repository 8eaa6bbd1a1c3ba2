//! The `trove` command line, end to end: a real binary, a real SQLite file in a temp dir.

use serde_json::Value;
use trove_tests::{assert_db_consistent, repo_root, simple_pdf, Sandbox};

fn items(sb: &Sandbox) -> Vec<Value> {
    sb.json(&["list"]).as_array().unwrap().clone()
}

fn by_name<'a>(items: &'a [Value], name: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no item named {name} in {items:#?}"))
}

#[test]
fn add_work_list_show_search_delete() {
    let sb = Sandbox::new();
    sb.write(
        "notes/alpha.md",
        "# Alpha\n\nThe quokka is a small marsupial from Rottnest Island.\n",
    );
    sb.write(
        "notes/beta.txt",
        "Beta talks about sourdough starters and hydration.\n",
    );
    sb.write("notes/.hidden.txt", "never added");
    let added = sb.json(&["add", sb.files().join("notes").to_str().unwrap()]);
    assert_eq!(added["added"].as_array().unwrap().len(), 2, "{added}");
    // Added means pending: nothing is processed until a worker runs.
    assert!(items(&sb).iter().all(|i| i["status"] == "pending"));
    assert_eq!(sb.count_status("pending"), 2);

    let human = sb.ok(&["status"]);
    assert!(human.contains("pending"), "{human}");

    sb.ok(&["work", "--until-idle"]);
    let list = items(&sb);
    for i in &list {
        assert_eq!(i["status"], "completed", "{i}");
        assert!(i["chunkCount"].as_i64().unwrap() >= 1);
    }
    let alpha = by_name(&list, "alpha.md");
    let id = alpha["id"].as_str().unwrap();
    let show = sb.json(&["show", id]);
    assert_eq!(show["item"]["status"], "completed");
    assert_eq!(show["job"]["attempts"], 1, "{show}");

    let hits = sb.json(&["search", "quokka", "--mode", "keyword"]);
    let first = &hits["hits"][0];
    assert_eq!(first["itemId"], id, "{hits}");
    assert!(first["snippet"].as_str().unwrap().contains("quokka"));
    let human = sb.ok(&["search", "sourdough"]);
    assert!(human.contains("beta.txt"), "{human}");
    // Keyword mode asked for: no notice. No model in the sandbox: hybrid falls back to
    // keyword and says so.
    assert_eq!(hits["mode"], "keyword", "{hits}");
    assert!(hits["notice"].is_null(), "{hits}");
    let hybrid = sb.json(&["search", "quokka"]);
    assert!(
        hybrid["notice"].as_str().unwrap_or("").contains("model"),
        "{hybrid}"
    );

    let counts = sb.json(&["status"]);
    assert_eq!(counts["files"]["completed"], 2, "{counts}");
    let stats = sb.json(&["stats"]);
    assert!(stats.is_array());

    sb.ok(&["delete", id]);
    assert_eq!(items(&sb).len(), 1);
    let none = sb.json(&["search", "quokka", "--mode", "keyword"]);
    assert_eq!(none["hits"].as_array().unwrap().len(), 0, "{none}");
    assert_db_consistent(&sb);
}

#[test]
fn errors_go_to_stderr_with_nonzero_exit() {
    let sb = Sandbox::new();
    let o = sb.run(&["show", "f999"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("trove: "), "{err}");
    assert!(o.stdout.is_empty());

    let o = sb.run(&["add", "file:///etc/passwd"]);
    assert!(!o.status.success());
    let both = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(both.contains("http"), "{both}");
    assert_eq!(sb.count_status("pending"), 0);

    let o = sb.run(&["list", "--status", "bogus"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_inputs_fail_cleanly_while_the_rest_complete() {
    let sb = Sandbox::new();
    let fixtures = repo_root().join("crates/trove-extract/tests/fixtures");
    let good_pdf = simple_pdf(&[
        "Photosynthesis converts light into chemical energy.",
        "Second page about chlorophyll.",
    ]);
    sb.write("mixed/good.pdf", &good_pdf);
    sb.write("mixed/truncated.pdf", &good_pdf[..good_pdf.len() / 3]);
    sb.write(
        "mixed/corrupt.pdf",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog garbage garbage\n",
    );
    std::fs::copy(
        fixtures.join("encrypted-user.pdf"),
        sb.files().join("mixed/encrypted.pdf"),
    )
    .unwrap();
    sb.write("mixed/empty.txt", b"");
    let binary: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    sb.write("mixed/binary.txt", &binary);
    // Latin-1 (invalid UTF-8): decoded, not rejected.
    sb.write(
        "mixed/latin1.txt",
        b"Caf\xe9 cr\xe8me br\xfbl\xe9e, na\xefve fa\xe7ade.\n",
    );
    sb.write("mixed/utf16.txt", {
        let mut v = vec![0xFF, 0xFE];
        for u in "Grüße aus Köln".encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    });
    sb.write("mixed/page.html", "<html><head><title>T</title><script>var secret = 'scriptword';</script></head><body><p>Visible hedgehog text.</p></body></html>");
    sb.write("mixed/data.json", r#"{"animal": "axolotl"}"#);
    sb.write("mixed/table.csv", "name,colour\nnarwhal,grey\n");
    // A PNG cut after its header: damaged, named by its type (with OCR: Tesseract cannot
    // read it; without: images need OCR — either way the type is named).
    sb.write(
        "mixed/picture.png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89",
    );
    let doomed = sb.write("mixed/deleted-later.txt", "soon gone");
    sb.ok(&["add", sb.files().join("mixed").to_str().unwrap()]);
    std::fs::remove_file(&doomed).unwrap();

    sb.ok(&["work", "--until-idle"]);
    let list = items(&sb);
    let status = |n: &str| by_name(&list, n)["status"].as_str().unwrap().to_string();
    let error = |n: &str| {
        by_name(&list, n)["error"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    for ok in [
        "good.pdf",
        "latin1.txt",
        "utf16.txt",
        "page.html",
        "data.json",
        "table.csv",
    ] {
        assert_eq!(status(ok), "completed", "{ok}: {}", error(ok));
    }
    let expect_failed = [
        ("encrypted.pdf", "password-protected"),
        ("empty.txt", "empty"),
        ("deleted-later.txt", "no longer exists"),
        ("picture.png", "PNG"),
        ("binary.txt", "binary"),
        ("corrupt.pdf", "PDF"),
        ("truncated.pdf", "PDF"),
    ];
    for (name, needle) in expect_failed {
        assert_eq!(status(name), "failed", "{name} should fail");
        let e = error(name);
        assert!(
            e.to_lowercase().contains(&needle.to_lowercase()),
            "{name}: error {e:?} lacks {needle:?}"
        );
        assert!(
            !e.contains("panicked") && !e.contains("RUST_BACKTRACE"),
            "{name}: {e}"
        );
    }
    // Each failure is permanent: one attempt, no retries burnt on bad input.
    for (name, _) in expect_failed {
        assert_eq!(by_name(&list, name)["attempts"], 1, "{name}");
    }
    // The text really was extracted.
    let hits = sb.json(&["search", "chlorophyll", "--mode", "keyword"]);
    assert_eq!(hits["hits"][0]["name"], "good.pdf", "{hits}");
    let hits = sb.json(&["search", "creme", "--mode", "keyword"]);
    assert!(hits["hits"].as_array().unwrap().is_empty() || hits["hits"][0]["name"] == "latin1.txt");
    let hits = sb.json(&["search", "crème", "--mode", "keyword"]);
    assert_eq!(hits["hits"][0]["name"], "latin1.txt", "{hits}");
    let hits = sb.json(&["search", "scriptword", "--mode", "keyword"]);
    assert!(
        hits["hits"].as_array().unwrap().is_empty(),
        "script text indexed: {hits}"
    );

    // The monitoring views agree.
    let failed = sb.json(&["failed"]);
    assert_eq!(failed.as_array().unwrap().len(), expect_failed.len());
    assert!(failed
        .as_array()
        .unwrap()
        .iter()
        .all(|r| !r["error"].as_str().unwrap().is_empty()));

    // Retry one: it is queued again with a fresh job id, and fails again the same way.
    let enc = by_name(&list, "encrypted.pdf");
    let old_job = enc["jobId"].as_str().unwrap().to_string();
    let retried = sb.json(&["retry", enc["id"].as_str().unwrap()]);
    assert_eq!(retried["status"], "pending");
    assert_ne!(retried["jobId"].as_str().unwrap(), old_job);
    let n = sb.json(&["retry", "--all-failed"]);
    assert_eq!(
        n["retried"].as_u64().unwrap() as usize,
        expect_failed.len() - 1
    );
    sb.ok(&["work", "--until-idle"]);
    assert_eq!(sb.count_status("failed") as usize, expect_failed.len());
    assert_eq!(
        sb.count_status("pending") + sb.count_status("processing"),
        0
    );
    assert_db_consistent(&sb);
}

#[test]
fn same_content_twice_is_a_duplicate_not_processed_again() {
    let sb = Sandbox::new();
    sb.write("a/one.txt", "Identical content about lighthouses.\n");
    sb.write("b/two.txt", "Identical content about lighthouses.\n");
    sb.ok(&["add", sb.files().join("a").to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    sb.ok(&["add", sb.files().join("b").to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let list = items(&sb);
    let one = by_name(&list, "one.txt");
    let two = by_name(&list, "two.txt");
    assert_eq!(two["status"], "completed");
    assert_eq!(two["duplicateOf"], one["id"], "{two}");
    assert_eq!(two["chunkCount"], 0);
    let hits = sb.json(&["search", "lighthouses", "--mode", "keyword"]);
    assert_eq!(hits["hits"].as_array().unwrap().len(), 1, "{hits}");
}

#[test]
fn stuck_and_pause_and_watch() {
    let sb = Sandbox::new();
    sb.write("x.txt", "pausing");
    sb.ok(&["pause"]);
    sb.ok(&["add", sb.files().join("x.txt").to_str().unwrap()]);
    // Paused: --until-idle returns without processing.
    sb.ok(&["work", "--until-idle"]);
    assert_eq!(sb.count_status("pending"), 1);
    let stuck = sb.json(&["stuck", "--older-than", "0s"]);
    assert_eq!(stuck.as_array().unwrap().len(), 1, "{stuck}");
    let stuck = sb.json(&["stuck"]);
    assert_eq!(stuck.as_array().unwrap().len(), 0, "{stuck}");
    sb.ok(&["resume"]);
    sb.ok(&["work", "--until-idle"]);
    assert_eq!(sb.count_status("completed"), 1);
    // The event log tells the whole story, in order: added (pending), processing, completed.
    let out = sb.ok(&["--json", "watch", "--from-start", "--no-follow"]);
    let statuses: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["item"] == "f1")
        .filter_map(|e| e["status"].as_str().map(str::to_owned))
        .collect();
    let first = |s: &str| statuses.iter().position(|x| x == s);
    let (p, r, c) = (first("pending"), first("processing"), first("completed"));
    assert!(
        p.is_some() && r.is_some() && c.is_some(),
        "{statuses:?}\n{out}"
    );
    assert!(p < r && r < c, "out of order: {statuses:?}");
}

/// The seed's rollback drops the status columns (and Trove's later tables); up marks the
/// rows completed again. Around that: a rollback asks first (--yes), backs the database up,
/// loses nothing the seed doesn't drop, and an item whose text the rollback dropped is
/// read again instead of showing Completed with nothing to find.
#[test]
fn migrate_down_backs_up_asks_first_and_up_requeues_what_lost_its_text() {
    let sb = Sandbox::new();
    sb.write("m.txt", "migration survivor");
    sb.ok(&["add", sb.files().join("m.txt").to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let st = sb.ok(&["migrate", "status"]);
    assert!(st.contains("0002"), "{st}");
    let rows = |c: &rusqlite::Connection| -> Vec<(i64, String, String, i64, String, String)> {
        c.prepare("SELECT id, filename, path, size, sha256, uploaded_at FROM knowledge_files")
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let before = rows(&sb.conn());

    // Not on a terminal and without --yes: refused, nothing changed.
    let refused = sb.run(&["migrate", "down", "--to", "1"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--yes"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let latest: i64 = sb
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert!(latest > 1);

    let out = sb.json(&["migrate", "down", "--to", "1", "--yes"]);
    let backup = std::path::PathBuf::from(out["backup"].as_str().expect("backup path"));
    assert!(backup.is_file(), "{out}");
    assert_eq!(backup.parent(), sb.db.parent());
    {
        // The backup is the database as it was: latest schema, the item and its text.
        let b = rusqlite::Connection::open(&backup).unwrap();
        let v: i64 = b
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, latest);
        let text: String = b
            .query_row("SELECT text FROM documents", [], |r| r.get(0))
            .unwrap();
        assert!(text.contains("migration survivor"));
    }
    {
        let c = sb.conn();
        let cols: Vec<String> = c
            .prepare("SELECT name FROM pragma_table_info('knowledge_files')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            !cols.iter().any(|c| c == "status" || c == "job_id"),
            "{cols:?}"
        );
        assert_eq!(
            rows(&c),
            before,
            "the rollback lost more than the seed drops"
        );
    }
    sb.ok(&["migrate", "up"]);
    assert_eq!(rows(&sb.conn()), before, "the round trip changed the rows");
    // The seed's up marks the row completed; its text is gone, so the worker reads it again.
    assert_eq!(sb.count_status("completed"), 1);
    sb.ok(&["work", "--until-idle"]);
    let hits = sb.json(&["search", "survivor", "--mode", "keyword"]);
    assert!(
        hits.to_string().contains("m.txt"),
        "not searchable again: {hits}"
    );
    let chunks: i64 = sb
        .conn()
        .query_row("SELECT chunk_count FROM knowledge_files", [], |r| r.get(0))
        .unwrap();
    assert!(chunks > 0);
    assert_eq!(sb.count_status("completed"), 1);
}

/// `trove config`: one list of settings kept in the database, checked values, the
/// environment's override reported, and the engine using what is saved (OCR off: an image
/// is not read even where Tesseract is installed).
#[test]
fn settings_are_saved_checked_overridden_by_the_environment_and_applied() {
    let mut sb = Sandbox::new();
    let list = sb.json(&["config", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for n in [
        "concurrency",
        "rate-limit",
        "fetch-timeout",
        "robots",
        "ocr",
        "ocr-languages",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let rate = sb.json(&["config", "get", "rate-limit"]);
    assert_eq!(
        (rate["value"].as_str(), rate["source"].as_str()),
        (Some("1"), Some("default"))
    );

    sb.ok(&["config", "set", "rate-limit", "0.5"]);
    assert_eq!(sb.ok(&["config", "get", "rate-limit"]).trim(), "0.5");
    // The queue's own setting is the same one.
    sb.ok(&["config", "set", "concurrency", "3"]);
    assert_eq!(sb.json(&["status"])["queue"]["concurrency"], 3);

    for (args, says) in [
        (vec!["config", "set", "concurrency", "99"], "from 1 to 16"),
        (vec!["config", "set", "ocr", "maybe"], "on or off"),
        (
            vec!["config", "set", "ocr-languages", "eng;rm"],
            "language codes",
        ),
        (vec!["config", "get", "colour"], "rate-limit"),
    ] {
        let o = sb.run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(sb.ok(&["config", "get", "concurrency"]).trim(), "3");

    sb.env.push(("TROVE_RATE_LIMIT".into(), "4".into()));
    let rate = sb.json(&["config", "get", "rate-limit"]);
    assert_eq!(rate["value"], "4", "{rate}");
    assert_eq!(rate["source"], "env", "{rate}");
    assert_eq!(rate["stored"], "0.5", "{rate}");
    let out = sb.ok(&["config", "set", "rate-limit", "2"]);
    assert!(out.contains("TROVE_RATE_LIMIT = 4 overrides it"), "{out}");
    sb.env.clear();
    assert_eq!(sb.ok(&["config", "get", "rate-limit"]).trim(), "2");
    sb.ok(&["config", "unset", "rate-limit"]);
    assert_eq!(
        sb.json(&["config", "get", "rate-limit"])["source"],
        "default"
    );

    // Saved settings reach the engine: with OCR off an image is not read.
    sb.ok(&["config", "set", "ocr", "off"]);
    let png = sb.write(
        "scan.png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x00\x00\x00\x00",
    );
    sb.json(&["add", png.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let shown = sb.json(&["show", "f1"]);
    assert_eq!(shown["item"]["status"], "failed", "{shown}");
    let error = shown["item"]["error"].as_str().unwrap();
    // It says that OCR is off and how to turn it on (not "install Tesseract").
    assert!(
        error.starts_with("PNG image is read by OCR, which is turned off")
            && error.contains("trove config set ocr on"),
        "{error}"
    );
}

/// `trove open`: the desktop's programs are stand-ins here (a recording `xdg-open`, an
/// `xdg-mime` that names Evince as the PDF viewer, a recording `evince`) placed first on
/// PATH. A PDF opens at the hit's page, other files and links with xdg-open, --reveal opens
/// the folder, a moved file says so, and the pdf-viewer setting replaces the viewer.
#[test]
fn open_uses_the_desktops_programs_and_a_pdf_opens_at_its_page() {
    use std::os::unix::fs::PermissionsExt;
    let mut sb = Sandbox::new();
    let bin = sb.files().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = sb.files().join("opened.log");
    for (name, body) in [
        (
            "xdg-open",
            format!("echo \"xdg-open $*\" >> '{}'", log.display()),
        ),
        (
            "evince",
            format!("echo \"evince $*\" >> '{}'", log.display()),
        ),
        ("xdg-mime", "echo org.gnome.Evince.desktop".to_owned()),
    ] {
        let p = bin.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    sb.env.push(("PATH".into(), path));

    let pdf = sb.write(
        "guide.pdf",
        simple_pdf(&["first page", "second page", "third page"]),
    );
    let txt = sb.write("notes/plan.txt", "the plan\n");
    sb.json(&["add", pdf.to_str().unwrap(), txt.to_str().unwrap()]);
    let opened = |expect: &str| {
        let line = trove_tests::wait_for(std::time::Duration::from_secs(10), || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            text.lines().find(|l| *l == expect).map(str::to_owned)
        });
        assert!(
            line.is_some(),
            "never ran {expect:?}; ran: {:?}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    };

    let r = sb.json(&["open", "f1", "--page", "3"]);
    assert_eq!(r["command"][0], "evince", "{r}");
    opened(&format!("evince --page-index 3 {}", pdf.display()));
    sb.ok(&["open", "f1"]);
    opened(&format!("xdg-open {}", pdf.display()));
    sb.ok(&["open", "f2", "--reveal"]);
    opened(&format!("xdg-open {}", txt.parent().unwrap().display()));

    // The pdf-viewer setting: the user's command, no shell.
    sb.ok(&[
        "config",
        "set",
        "pdf-viewer",
        "evince --fullscreen -i {page} {file}",
    ]);
    sb.ok(&["open", "f1", "--page", "2"]);
    opened(&format!("evince --fullscreen -i 2 {}", pdf.display()));
    let printed = sb.ok(&["open", "f1", "--page", "2", "--print"]);
    assert_eq!(
        printed.trim(),
        format!("evince --fullscreen -i 2 {}", pdf.display())
    );

    // A file that moved: said plainly, nothing started.
    std::fs::rename(&txt, sb.files().join("elsewhere.txt")).unwrap();
    let o = sb.run(&["open", "f2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("is no longer at"),
        "{err}"
    );
    let o = sb.run(&["open", "f9"]);
    assert!(!o.status.success());
}

/// Shell completions and the manual page come from the command line's own definition, with
/// no database; -q and -v are accepted everywhere.
#[test]
fn completions_man_page_and_log_levels() {
    let sb = Sandbox::new();
    let bash = sb.ok(&["completions", "bash"]);
    assert!(bash.contains("_trove") && bash.contains("config"), "{bash}");
    let fish = sb.ok(&["completions", "fish"]);
    assert!(fish.contains("complete -c trove"), "{fish}");
    let man = sb.ok(&["__man"]);
    assert!(
        man.starts_with(".ie") || man.contains(".TH trove 1"),
        "{man}"
    );
    assert!(man.contains("completions"), "{man}");
    assert!(
        !sb.db.exists(),
        "completions and the man page touch no database"
    );
    sb.ok(&["-q", "status"]);
    sb.ok(&["status", "-v"]);
    let o = sb.run(&["-q", "-v", "status"]);
    assert!(!o.status.success(), "-q and -v together are refused");
}

/// An OpenAI-compatible embeddings API on loopback: each text becomes a bag-of-words vector
/// (16 buckets of its words' bytes), so texts sharing words are near. Records every request
/// (its Authorization header and model).
struct EmbedServer {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String, usize)>>>,
}

fn embed_server() -> EmbedServer {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let (mut length, mut auth) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if k.eq_ignore_ascii_case("authorization") {
                        auth = v.trim().to_owned();
                    }
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let inputs: Vec<String> = match &req["input"] {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
                Value::String(s) => vec![s.clone()],
                _ => Vec::new(),
            };
            log.lock().unwrap().push((
                auth,
                req["model"].as_str().unwrap_or_default().to_owned(),
                inputs.len(),
            ));
            let data: Vec<Value> = inputs
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    let mut v = vec![0.01f32; 16];
                    for w in text.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
                        if w.len() > 2 {
                            let b: usize = w.bytes().map(usize::from).sum();
                            v[b % 16] += 1.0;
                        }
                    }
                    serde_json::json!({ "index": i, "embedding": v })
                })
                .collect();
            let body = serde_json::json!({ "data": data }).to_string();
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    EmbedServer { port, seen }
}

fn with_stdin(sb: &Sandbox, args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = sb
        .cmd(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn an_embeddings_api_set_in_the_settings_indexes_the_library_with_its_key_kept_out_of_it() {
    use std::os::unix::fs::PermissionsExt;
    let server = embed_server();
    let sb = Sandbox::new(); // no local model: keyword search only
    let heron = sb.write(
        "heron.txt",
        "The grey heron stands in the marsh, waiting for fish.",
    );
    sb.ok(&["add", heron.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let r = sb.json(&["search", "--mode", "semantic", "marsh"]);
    assert_eq!(r["mode"], "keyword", "no embedder yet: {r}");

    // The API, its model and its key (from stdin: not in the shell's history).
    let url = format!("http://127.0.0.1:{}/v1", server.port);
    sb.ok(&["config", "set", "embedder", &url]);
    sb.ok(&["config", "set", "embed-model", "test-embed"]);
    let o = with_stdin(
        &sb,
        &["config", "set", "embed-key", "-"],
        "sk-test-4a7b9c\n",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let keyfile = sb.dir.path().join("home/.config/trove/embed-key");
    assert_eq!(
        std::fs::read_to_string(&keyfile).unwrap().trim(),
        "sk-test-4a7b9c"
    );
    assert_eq!(
        std::fs::metadata(&keyfile).unwrap().permissions().mode() & 0o777,
        0o600,
        "only its owner may read the key"
    );
    assert_eq!(sb.ok(&["config", "get", "embed-key"]).trim(), "(saved)");
    let list = sb.ok(&["--json", "config", "list"]);
    assert!(!list.contains("sk-test"), "the key is never shown: {list}");
    // A plain-http API on another computer is refused before anything is sent.
    let o = sb.run(&["config", "set", "embedder", "http://192.0.2.7:11434/v1"]);
    assert_eq!(o.status.code(), Some(3), "invalid value: {o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("https"),
        "{o:?}"
    );

    // The library has no vectors of this model: search says so and offers to build them.
    let r = sb.json(&["search", "--mode", "semantic", "marsh"]);
    assert_eq!(r["mode"], "semantic", "{r}");
    assert_eq!(r["canBuildIndex"], true, "{r}");
    let n = sb.json(&["reindex"]);
    assert!(n["embedded"].as_u64().unwrap() >= 1, "{n}");
    {
        let seen = server.seen.lock().unwrap();
        assert!(!seen.is_empty());
        for (auth, model, _) in seen.iter() {
            assert_eq!(auth, "Bearer sk-test-4a7b9c");
            assert_eq!(model, "test-embed");
        }
    }
    let r = sb.json(&["search", "--mode", "semantic", "heron", "marsh"]);
    assert_eq!(r["hits"][0]["name"], "heron.txt", "{r}");
    assert_eq!(r["notice"], Value::Null, "{r}");

    // Another model: what comes in now gets its vectors, the rest is counted as missing.
    sb.ok(&["config", "set", "embed-model", "test-embed-2"]);
    let owl = sb.write("owl.txt", "The owl hunts at night over the meadow.");
    sb.ok(&["add", owl.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let r = sb.json(&["search", "--mode", "semantic", "owl", "meadow"]);
    let notice = r["notice"].as_str().unwrap_or_default();
    assert!(
        notice.contains("covers 1 of 2 passages"),
        "partial coverage is said: {r}"
    );
    assert_eq!(r["canBuildIndex"], true);
    assert_eq!(r["hits"][0]["name"], "owl.txt", "{r}");

    // The key never reached the database or the logs.
    for f in std::fs::read_dir(sb.db.parent().unwrap()).unwrap() {
        let f = f.unwrap().path();
        if f.is_file() {
            let bytes = std::fs::read(&f).unwrap();
            assert!(
                !bytes.windows(14).any(|w| w == b"sk-test-4a7b9c"),
                "the key is in {}",
                f.display()
            );
        }
    }
    // Removed: the file goes.
    sb.ok(&["config", "unset", "embed-key"]);
    assert!(!keyfile.exists());
    assert_eq!(sb.ok(&["config", "get", "embed-key"]).trim(), "");
}

#[test]
fn errors_under_json_have_a_code_and_each_kind_its_exit_status() {
    let sb = Sandbox::new();
    let check = |args: &[&str], code: &str, status: i32| {
        let o = sb.run(args);
        assert_eq!(o.status.code(), Some(status), "{args:?}: {o:?}");
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {o:?}"));
        assert_eq!(v["error"]["code"], code, "{args:?}: {v}");
        assert!(
            !v["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{v}"
        );
    };
    check(&["--json", "show", "f999999"], "not_found", 4);
    check(
        &["--json", "config", "set", "concurrency", "99"],
        "invalid",
        3,
    );
    check(
        &["--json", "config", "get", "no-such-setting"],
        "invalid",
        3,
    );
    check(&["--json", "no-such-command"], "usage", 2);
    check(&["--json", "show", "nonsense-id"], "invalid", 3);
    // Without --json: a sentence on stderr, the same status.
    let o = sb.run(&["show", "f999999"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(o.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with("trove: "),
        "{o:?}"
    );
    // The statuses are documented in --help.
    let help = sb.ok(&["--help"]);
    assert!(
        help.contains("Exit status:") && help.contains("  4  no such item"),
        "{help}"
    );
}

#[test]
fn add_dash_reads_paths_and_links_from_stdin() {
    let sb = Sandbox::new();
    let a = sb.write("a.txt", "alpha");
    let b = sb.write("dir with space/b.txt", "beta");
    let list = format!("{}\n\n{}\r\nnot a link://x\n", a.display(), b.display());
    let o = with_stdin(&sb, &["--json", "add", "-"], &list);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["added"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["skipped"].as_array().unwrap().len(), 1, "{v}");
    let names: Vec<String> = items(&sb)
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        names.contains(&"a.txt".into()) && names.contains(&"b.txt".into()),
        "{names:?}"
    );
}

#[test]
fn output_piped_into_a_reader_that_stops_early_ends_quietly() {
    // `trove list | head -1`: the reader goes away before trove writes. trove stops as Unix
    // tools do (SIGPIPE), without a panic message on stderr.
    let sb = Sandbox::new();
    for i in 0..50 {
        sb.write(&format!("n{i}.txt"), format!("note {i}"));
    }
    sb.ok(&["add", sb.files().to_str().unwrap()]);
    let reader_gone = |args: &[&str]| {
        let mut child = sb
            .cmd(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        child.wait_with_output().unwrap()
    };
    let out = reader_gone(&["list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
    // The worker keeps SIGPIPE ignored (its extraction children write to it): with its
    // reader gone it still does the work, and its summary is dropped without a panic.
    let out = reader_gone(&["--json", "work", "--until-idle"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?} {stderr}", out.status);
    assert_eq!(sb.count_status("completed"), 50);
}
