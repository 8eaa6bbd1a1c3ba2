//! The crash soak (issue 11, part 5): a mixed folder (text, Markdown, HTML, PDF, DOCX and
//! some corrupt files) is processed while `trove work` is SIGKILLed at random moments and
//! restarted each time. At the end every item is completed or failed, nothing is stuck,
//! no chunk is without its item, the FTS index matches the chunks, `integrity_check` is ok.
//! (No embedding model here: vectors are not part of the soak.)
//!
//! CI runs 300 files and 10 kills; `TROVE_SOAK_FILES=2000 TROVE_SOAK_KILLS=40 cargo test
//! --test soak -- --nocapture` is the long one (figures in TESTING.md).

use std::time::Duration;

use trove_tests::{assert_db_consistent, simple_docx, simple_pdf, wait_for, Sandbox};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: random kill moments without a dependency; the seed is printed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn prose(i: usize, paragraphs: usize) -> String {
    (0..paragraphs)
        .map(|p| {
            format!(
                "Item {i} part {p}: the archivist catalogued maps, letters and ledgers of \
                 the harbour, noting word k{i}x{p} for later.\n\n"
            )
        })
        .collect()
}

#[test]
fn random_kills_during_a_mixed_folder_lose_nothing() {
    // Large enough that the work outlasts the kills now that one extraction child serves
    // many files (300 ran out after two kills once the per-file process start was gone).
    let files = env_or("TROVE_SOAK_FILES", 2000);
    let kills = env_or("TROVE_SOAK_KILLS", 10);
    let seed = std::env::var("TROVE_SOAK_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("soak: {files} files, {kills} kills, TROVE_SOAK_SEED={seed}");
    let mut rng = Rng(seed);
    let sb = Sandbox::new();
    let mut bad = 0;
    for i in 0..files {
        let dir = "mixed";
        match i % 10 {
            0..=2 => {
                sb.write(&format!("{dir}/{i:04}.txt"), prose(i, 40));
            }
            3 | 4 => {
                sb.write(
                    &format!("{dir}/{i:04}.md"),
                    format!("# Note {i}\n\n{}", prose(i, 30)),
                );
            }
            5 => {
                let html = format!(
                    "<!doctype html><html><head><title>Page {i}</title></head><body><nav>menu</nav>\
                     <article><h1>Page {i}</h1><p>{}</p></article></body></html>",
                    prose(i, 20).replace("\n\n", "</p><p>")
                );
                sb.write(&format!("{dir}/{i:04}.html"), html);
            }
            6 | 7 => {
                let a = format!("Report {i}: the harbour ledger k{i}x0 for the year.");
                let b = format!("Appendix {i}: tides and moorings k{i}x1.");
                sb.write(&format!("{dir}/{i:04}.pdf"), simple_pdf(&[&a, &b]));
            }
            8 => {
                let p1 = format!("Letter {i} about the harbour k{i}x0.");
                let p2 = format!("Second paragraph k{i}x1 of letter {i}.");
                sb.write(&format!("{dir}/{i:04}.docx"), simple_docx(&[&p1, &p2]));
            }
            _ => {
                // Corrupt: a PDF header over garbage, a DOCX that is not a zip, a binary
                // file named .txt.
                let (name, bytes): (String, Vec<u8>) = match (i / 10) % 3 {
                    0 => (
                        format!("{i:04}.pdf"),
                        format!("%PDF-1.7\n{i} garbage").into_bytes(),
                    ),
                    1 => (
                        format!("{i:04}.docx"),
                        format!("PK\x03\x04 not a zip {i}").into_bytes(),
                    ),
                    _ => (
                        format!("{i:04}.txt"),
                        (0..4096u32).map(|b| (b * 7 + i as u32) as u8).collect(),
                    ),
                };
                sb.write(&format!("{dir}/{name}"), bytes);
                bad += 1;
            }
        }
    }
    let added = sb.json(&["add", sb.files().join("mixed").to_str().unwrap()]);
    assert_eq!(added["added"].as_array().unwrap().len(), files, "{added}");

    let mut killed = 0;
    for round in 0..kills {
        let mut child = sb
            .cmd(&["work", "--until-idle", "--concurrency", "2"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Somewhere between 0.1 s and 0.9 s into the run.
        let wait = Duration::from_millis(100 + rng.next() % 800);
        let exited = wait_for(wait, || child.try_wait().unwrap());
        if exited.is_some() {
            eprintln!("round {round}: the worker finished before its kill");
            break;
        }
        // SAFETY: kill(2) on a pid we own.
        let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
        assert_eq!(rc, 0);
        let _ = child.wait();
        killed += 1;
        assert_db_consistent(&sb);
        eprintln!(
            "round {round}: killed after {wait:?}; {} completed, {} failed",
            sb.count_status("completed"),
            sb.count_status("failed")
        );
    }
    eprintln!("{killed} of {kills} kills landed before the work ran out");
    // The work must outlast most kills, or this soaks nothing (make the folder larger).
    assert!(killed * 2 >= kills, "only {killed} of {kills} kills landed");
    sb.ok(&["work", "--until-idle"]);
    // A good file in flight at three kills fails as "interrupted" by design (it might be
    // what crashes Trove). Nothing is lost: a retry reads it.
    let interrupted: Vec<String> = sb
        .conn()
        .prepare(
            "SELECT 'f' || id FROM knowledge_files
              WHERE status = 'failed' AND processing_error LIKE 'processing was interrupted%'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    if !interrupted.is_empty() {
        eprintln!("interrupted by the kills, retried: {interrupted:?}");
        assert!(interrupted.len() * 3 <= kills, "{interrupted:?}");
        for id in &interrupted {
            sb.ok(&["retry", id]);
        }
        sb.ok(&["work", "--until-idle"]);
    }
    let (completed, failed) = (sb.count_status("completed"), sb.count_status("failed"));
    assert_eq!(
        sb.count_status("pending") + sb.count_status("processing"),
        0
    );
    assert_eq!(completed + failed, files as i64);
    assert_eq!(failed, bad, "{}", sb.ok(&["failed"]));
    let stuck: i64 = sb
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM jobs WHERE state IN ('active','waiting','delayed')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stuck, 0);
    assert_db_consistent(&sb);
    // Every kind was read: a word from a DOCX, a PDF and an HTML page is found.
    for word in ["k8x1", "k6x1", "k5x3"] {
        let hits = sb.json(&["search", word, "--mode", "keyword"]);
        assert!(
            !hits["hits"].as_array().unwrap().is_empty(),
            "{word}: {hits}"
        );
    }
}
