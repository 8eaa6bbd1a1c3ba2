//! Crash recovery for real: `trove work` is killed with SIGKILL in the middle of a run, a
//! new worker starts, and every item still ends `completed` or `failed` — none stuck in
//! `processing`, no duplicate chunks, an intact database.

use std::time::Duration;

use trove_tests::{assert_db_consistent, simple_pdf, wait_for, Sandbox};

fn sigkill(child: &mut std::process::Child) {
    // SAFETY: kill(2) on a pid we own; no memory is shared.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    assert_eq!(rc, 0, "kill failed");
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the worker was supposed to die: {status}"
    );
}

/// A text of `paragraphs` distinct paragraphs, so every file chunks into many pieces.
fn long_text(seed: usize, paragraphs: usize) -> String {
    let mut s = String::new();
    for p in 0..paragraphs {
        s.push_str(&format!(
            "Document {seed} paragraph {p}: the lighthouse keeper logged wind, tide and the \
             colour of the sea, entry {p} of {paragraphs}, with remarks about gulls, fog and \
             ships passing north of the reef.\n\n"
        ));
    }
    s
}

#[test]
fn sigkill_mid_run_then_restart_finishes_everything() {
    let sb = Sandbox::new();
    let n_text = 400;
    for i in 0..n_text {
        sb.write(&format!("docs/note-{i:04}.md"), long_text(i, 150));
    }
    // PDFs go through the sandboxed extractor child process.
    for i in 0..20 {
        let page = format!("Report {i}: quarterly figures for the harbour authority.");
        sb.write(
            &format!("docs/report-{i:02}.pdf"),
            simple_pdf(&[&page, "Appendix"]),
        );
    }
    // A few that must fail, so a failed item survives the crash too.
    sb.write("docs/broken.pdf", b"%PDF-1.7\nthis is not a pdf at all");
    sb.write("docs/empty.txt", b"");
    let total = n_text + 20 + 2;

    let added = sb.json(&["add", sb.files().join("docs").to_str().unwrap()]);
    assert_eq!(added["added"].as_array().unwrap().len(), total, "{added}");

    // Run with two workers and kill it once some, but not all, work has been committed.
    let mut child = sb
        .cmd(&["work", "--until-idle", "--concurrency", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let progressed = wait_for(Duration::from_secs(120), || {
        let done = sb.count_status("completed");
        (done >= 20).then_some(done)
    });
    sigkill(&mut child);
    let done_at_kill = progressed.expect("the worker made no progress in 120 s");
    let left = sb.count_status("pending") + sb.count_status("processing");
    assert!(
        left > 0,
        "the kill came after all work was done ({done_at_kill} completed): make the corpus larger"
    );
    assert_db_consistent(&sb);

    // Restart: jobs leased by the dead process are recovered at once (its pid is gone),
    // nothing waits for a 30 s lease to lapse, and everything finishes.
    let out = sb.json(&["work", "--until-idle"]);
    assert_eq!(sb.count_status("pending"), 0, "{out}");
    assert_eq!(sb.count_status("processing"), 0, "{out}");
    assert_eq!(
        sb.count_status("completed") + sb.count_status("failed"),
        total as i64
    );
    assert_eq!(sb.count_status("failed"), 2, "only the two bad files fail");
    let c = sb.conn();
    let active: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM jobs WHERE state IN ('active','waiting','delayed')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(active, 0, "jobs left unfinished");
    // Every completed text file has all its chunks exactly once.
    let short: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM knowledge_files WHERE status = 'completed' AND chunk_count < 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(short, 0);
    drop(c);
    assert_db_consistent(&sb);

    // The text survived: a word from the last file is found.
    let hits = sb.json(&["search", "lighthouse", "--mode", "keyword"]);
    assert!(!hits["hits"].as_array().unwrap().is_empty(), "{hits}");
}

#[test]
fn repeated_kills_never_corrupt_or_lose_items() {
    let sb = Sandbox::new();
    let n = 150;
    for i in 0..n {
        sb.write(&format!("d/{i:03}.txt"), long_text(i, 200));
    }
    sb.json(&["add", sb.files().join("d").to_str().unwrap()]);
    // Kill three times at different points, then let a worker finish.
    for round in 0..3 {
        let mut child = sb
            .cmd(&["work", "--until-idle"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let before = sb.count_status("completed");
        wait_for(Duration::from_secs(60), || {
            (sb.count_status("completed") >= before + 3 + round).then_some(())
        })
        .unwrap_or_else(|| panic!("round {round}: the worker completed nothing new in 60 s"));
        sigkill(&mut child);
        assert_db_consistent(&sb);
    }
    sb.ok(&["work", "--until-idle"]);
    assert_eq!(sb.count_status("completed"), n as i64);
    assert_db_consistent(&sb);
}
