//! The worker never dies: database errors pause processing, are reported, and processing
//! resumes by itself when the condition clears (issue 11, part 1). Black-box against the
//! real `trove` binary.

use std::time::Duration;

use trove_tests::{assert_db_consistent, wait_for, Sandbox};

/// Another process holds the write lock longer than Trove's busy timeout (10 s): the
/// worker's claims fail with "database is locked" meanwhile. It must keep running and pick
/// up a file added after the lock is released.
#[test]
fn worker_survives_a_lock_held_longer_than_the_busy_timeout() {
    let sb = Sandbox::new();
    let a = sb.write("a.txt", "Alpha notes about the heron and the marsh.\n");
    sb.json(&["add", a.to_str().unwrap()]);
    let mut worker = sb
        .cmd(&["work"])
        .env("TROVE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(60), || {
        (sb.count_status("completed") == 1).then_some(())
    })
    .expect("the first file was not processed");

    let locker = rusqlite::Connection::open(&sb.db).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    std::thread::sleep(Duration::from_secs(15));
    locker.execute_batch("COMMIT").unwrap();
    drop(locker);

    assert!(
        worker.try_wait().unwrap().is_none(),
        "the worker exited while the database was locked"
    );
    let b = sb.write("b.txt", "Beta notes about the kingfisher and the river.\n");
    sb.json(&["add", b.to_str().unwrap()]);
    let done = wait_for(Duration::from_secs(60), || {
        (sb.count_status("completed") == 2).then_some(())
    });
    let alive = worker.try_wait().unwrap().is_none();
    // SAFETY: kill(2) on a pid we own.
    unsafe { libc::kill(worker.id() as libc::pid_t, libc::SIGTERM) };
    let out = worker.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(alive, "the worker died: {stderr}");
    assert!(
        done.is_some(),
        "the file added after the lock was never processed: {stderr}"
    );
    assert!(
        stderr.contains("database"),
        "the lock was not reported: {stderr}"
    );
    assert_db_consistent(&sb);
}

/// A loopback server that answers robots.txt with 404 and `/slow` with a page that
/// trickles one byte every 200 ms for a minute (well inside any read timeout).
fn trickling_server() -> std::net::SocketAddr {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let mut out = stream;
                if !first.contains("/slow") {
                    let _ = out.write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                    return;
                }
                let _ = out.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 300\r\n\r\n<html>",
                );
                for _ in 0..300 {
                    std::thread::sleep(Duration::from_millis(200));
                    if out.write_all(b" ").is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A job over its hard deadline fails with a reason and frees its slot; the rest of the
/// queue goes on (issue 11, part 2).
#[test]
fn a_job_past_its_deadline_fails_and_frees_its_slot() {
    let sb = Sandbox::new();
    let addr = trickling_server();
    let url = format!("http://{addr}/slow");
    let added = sb.json(&["add", &url]);
    let url_id = added["added"][0]["id"].as_str().unwrap().to_owned();
    let f = sb.write("after.txt", "Notes about the heron that must not wait forever.\n");
    sb.json(&["add", f.to_str().unwrap()]);
    let out = sb
        .cmd(&["work", "--until-idle", "--concurrency", "1"])
        .env("TROVE_JOB_DEADLINE", "3")
        .env("TROVE_FETCH_TIMEOUT", "120")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = sb.json(&["show", &url_id]);
    let item = &shown["item"];
    assert_eq!(item["status"], "failed", "{shown}");
    let err = item["error"].as_str().unwrap_or_default();
    assert!(
        err.contains("took longer than 3 s"),
        "unexpected reason: {err}"
    );
    assert_eq!(sb.count_status("completed"), 1, "the file after it was not processed");
    assert_db_consistent(&sb);
}
