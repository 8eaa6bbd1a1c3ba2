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
