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
    let f = sb.write(
        "after.txt",
        "Notes about the heron that must not wait forever.\n",
    );
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
    assert_eq!(
        sb.count_status("completed"),
        1,
        "the file after it was not processed"
    );
    assert_db_consistent(&sb);
}

fn mkfifo(p: &std::path::Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a valid NUL-terminated path.
    #[allow(unsafe_code)]
    let made = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(made, 0, "mkfifo failed");
}

/// A file swapped for a FIFO, or for a symlink to /dev/zero, after it was added fails
/// with a reason instead of hanging its job or reading without end (issue 11, part 3).
#[test]
fn a_file_swapped_for_a_fifo_or_a_device_fails_with_a_reason() {
    let sb = Sandbox::new();
    let fifo = sb.write("pipe.txt", "soon a pipe\n");
    let zero = sb.write("zero.txt", "soon /dev/zero\n");
    let fine = sb.write("fine.txt", "An ordinary note about otters.\n");
    for p in [&fifo, &zero, &fine] {
        sb.json(&["add", p.to_str().unwrap()]);
    }
    std::fs::remove_file(&fifo).unwrap();
    mkfifo(&fifo);
    std::fs::remove_file(&zero).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let out = sb
        .cmd(&["work", "--until-idle"])
        .env("TROVE_JOB_DEADLINE", "60")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let failed = sb.json(&["failed"]);
    let reasons: Vec<String> = failed
        .as_array()
        .expect("failed is a list")
        .iter()
        .map(|f| f["error"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(reasons.len(), 2, "{failed}");
    for r in &reasons {
        assert!(
            r.contains("is not a regular file"),
            "unexpected reason: {r}"
        );
    }
    assert_eq!(sb.count_status("completed"), 1);
    assert_db_consistent(&sb);
}

/// A file whose name is not valid UTF-8 (a Latin-1 "café") is added and read, both named
/// directly and found in a folder (issue 11, part 3).
#[test]
fn file_names_that_are_not_utf8_are_ingested() {
    use std::os::unix::ffi::OsStrExt;
    let sb = Sandbox::new();
    let dir = sb.files().join("latin1");
    std::fs::create_dir_all(&dir).unwrap();
    let direct = sb
        .files()
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9 direct.txt"));
    std::fs::write(&direct, "Direct notes on the espresso machine.\n").unwrap();
    let inner = dir.join(std::ffi::OsStr::from_bytes(b"r\xe9sum\xe9.txt"));
    std::fs::write(&inner, "Folder notes on the grinder and its burrs.\n").unwrap();
    let out = sb
        .cmd(&["add", "--json"])
        .arg(&direct)
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["added"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );
    // Adding them again finds them by their exact names.
    let again = sb.cmd(&["add", "--json"]).arg(&direct).output().unwrap();
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["added"].as_array().map(Vec::len), Some(0), "{again}");
    sb.ok(&["work", "--until-idle"]);
    assert_eq!(sb.count_status("completed"), 2, "{}", sb.ok(&["failed"]));
    let hits = sb.json(&["search", "grinder burrs", "--mode", "keyword"]);
    assert!(
        hits.to_string().contains("r\u{fffd}sum\u{fffd}.txt"),
        "{hits}"
    );
    assert_db_consistent(&sb);
}

/// A file written to while it is processed: the attempt that saw it change is retried,
/// and what is stored matches one version, the final one (issue 11, part 3).
#[test]
fn a_file_modified_while_processing_is_read_again() {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    let sb = Sandbox::new();
    let mut text = String::new();
    for i in 0..60_000 {
        text.push_str(&format!(
            "Line {i} of the growing field journal about herons.\n"
        ));
    }
    let p = sb.write("journal.txt", &text);
    let added = sb.json(&["add", p.to_str().unwrap()]);
    let id = added["added"][0]["id"].as_str().unwrap().to_owned();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let writer = {
        let (p, stop) = (p.clone(), stop.clone());
        let db = sb.db.clone();
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(db).unwrap();
            let processing = || {
                conn.query_row("SELECT status FROM knowledge_files", [], |r| {
                    r.get::<_, String>(0)
                })
                .is_ok_and(|s| s == "processing")
            };
            // Append until the job has been seen processing, then for 1.5 s more.
            let mut seen: Option<std::time::Instant> = None;
            while !stop.load(Ordering::Relaxed) {
                let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
                writeln!(f, "An appended line about the kingfisher.").unwrap();
                drop(f);
                if seen.is_none() && processing() {
                    seen = Some(std::time::Instant::now());
                }
                if seen.is_some_and(|t| t.elapsed() > Duration::from_millis(1500)) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let mut worker = sb
        .cmd(&["work"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let done = wait_for(Duration::from_secs(120), || {
        let s = sb.json(&["show", &id]);
        matches!(s["item"]["status"].as_str(), Some("completed" | "failed")).then_some(s)
    });
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    // SAFETY: kill(2) on a pid we own.
    unsafe { libc::kill(worker.id() as libc::pid_t, libc::SIGTERM) };
    let _ = worker.wait();
    let shown = done.expect("the file was never finished");
    assert_eq!(shown["item"]["status"], "completed", "{shown}");
    assert!(
        shown["item"]["attempts"].as_i64() >= Some(2),
        "the change was not noticed: {shown}"
    );
    let final_bytes = std::fs::read(&p).unwrap();
    let stored: String = sb
        .conn()
        .query_row("SELECT sha256 FROM knowledge_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        stored,
        trove_tests::sha256_hex(&final_bytes),
        "stored text is not the final version"
    );
    assert_db_consistent(&sb);
}

/// Mounts a tmpfs of `size` at `dir`; None (with the reason) where that is not possible.
fn mount_tmpfs(dir: &std::path::Path, size: &str) -> Option<()> {
    // SAFETY: geteuid has no preconditions.
    #[allow(unsafe_code)]
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: mounting a small tmpfs needs root");
        return None;
    }
    let out = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "SKIPPED: could not mount a tmpfs: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    Some(())
}

struct Unmount(std::path::PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// The database's disk fills up while files are processed: nothing fails for good,
/// nothing is lost, and processing resumes by itself once space is freed (issue 11,
/// part 1). The database lives on a 32 MiB tmpfs (root only; skipped elsewhere).
#[test]
fn a_full_disk_pauses_processing_and_it_resumes_when_space_is_freed() {
    let sb = Sandbox::new();
    let data = sb.db.parent().unwrap().to_path_buf();
    if mount_tmpfs(&data, "32m").is_none() {
        return;
    }
    let _unmount = Unmount(data.clone());
    sb.ok(&["status"]);
    let mut paths = Vec::new();
    for i in 0..8 {
        let mut text = String::new();
        for j in 0..2_500 {
            text.push_str(&format!(
                "Entry {i}-{j}: unusual word w{i}x{j} about herons and tides.\n"
            ));
        }
        paths.push(sb.write(&format!("n{i}.txt"), text));
    }
    let mut args = vec!["add"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    sb.json(&args);

    // The worker starts paused (its database files exist), the disk is filled nearly to
    // the brim, then processing is resumed.
    sb.ok(&["pause"]);
    let mut worker = sb
        .cmd(&["work", "--concurrency", "1"])
        .env("TROVE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let filler = data.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let small = [0u8; 512];
        while f.write_all(&small).is_ok() {}
        // Leave 256 KiB: small writes (resume, claiming a job) fit, storing a file's
        // text and index does not.
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(256 * 1024)).unwrap();
        let _ = f.sync_all();
    }
    let resumed = wait_for(Duration::from_secs(30), || {
        sb.run(&["resume"]).status.success().then_some(())
    });
    assert!(resumed.is_some(), "could not resume on a full disk");
    // Collect the worker's log as it runs.
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        use std::io::BufRead;
        let log = log.clone();
        let stderr = worker.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                log.lock().unwrap().push_str(&line);
                log.lock().unwrap().push('\n');
            }
        })
    };
    // The disk-full condition is met (the worker says so) …
    let seen = wait_for(Duration::from_secs(60), || {
        log.lock().unwrap().contains("disk full").then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    let failed_while_full = sb.count_status("failed");
    let alive_while_full = worker.try_wait().unwrap().is_none();
    // … then space is freed.
    std::fs::remove_file(&filler).unwrap();
    let done = wait_for(Duration::from_secs(180), || {
        (sb.count_status("completed") == 8).then_some(())
    });
    let alive = worker.try_wait().unwrap().is_none();
    // SAFETY: kill(2) on a pid we own.
    unsafe { libc::kill(worker.id() as libc::pid_t, libc::SIGTERM) };
    let _ = worker.wait();
    let _ = reader.join();
    let stderr = log.lock().unwrap().clone();
    assert!(seen.is_some(), "the disk never filled up: {stderr}");
    assert!(alive_while_full && alive, "the worker died: {stderr}");
    assert_eq!(
        failed_while_full, 0,
        "items failed because the disk was full: {stderr}"
    );
    assert!(
        done.is_some(),
        "processing did not resume: {} completed; {stderr}",
        sb.count_status("completed")
    );
    assert_db_consistent(&sb);
}

/// A database file another user owns, opened by a user who may only read it: `trove work`
/// says what is wrong in words and changes nothing; once the permissions are fixed, the
/// same command processes everything (issue 11, part 1). Root only: it runs the worker as
/// `nobody`; skipped with a message elsewhere.
#[test]
fn a_read_only_database_is_explained_and_processing_resumes_once_writable() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    // SAFETY: geteuid has no preconditions.
    #[allow(unsafe_code)]
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: running the worker as another user needs root");
        return;
    }
    let sb = Sandbox::new();
    let f = sb.write("notes.txt", "Read-only notes about the cormorant colony.\n");
    sb.json(&["add", f.to_str().unwrap()]);
    // `nobody` must reach the binary and the files: a copy of the binary in the sandbox
    // (the target directory may sit under /root), every folder traversable.
    let bin = sb.dir.path().join("trove");
    std::fs::copy(trove_tests::trove_bin(), &bin).unwrap();
    let set = |p: &std::path::Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    set(&bin, 0o755);
    set(sb.dir.path(), 0o755);
    for d in ["home", "files"] {
        set(&sb.dir.path().join(d), 0o777);
    }
    set(&f, 0o644);
    let data = sb.db.parent().unwrap().to_path_buf();
    set(&data, 0o755);
    set(&sb.db, 0o644);
    let before = std::fs::read(&sb.db).unwrap();
    let as_nobody = || {
        let c = sb.cmd(&["work", "--until-idle"]);
        let mut c2 = std::process::Command::new(&bin);
        c2.args(c.get_args());
        for (k, v) in c.get_envs() {
            match v {
                Some(v) => c2.env(k, v),
                None => c2.env_remove(k),
            };
        }
        c2.uid(65534).gid(65534).stdin(std::process::Stdio::null());
        c2.output().unwrap()
    };
    let out = as_nobody();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a read-only database was used: {stderr}"
    );
    assert!(
        stderr.contains("read-only for you"),
        "unclear reason: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        std::fs::read(&sb.db).unwrap(),
        before,
        "the database was changed"
    );
    assert_eq!(sb.count_status("pending"), 1);

    // The owner fixes the folder and the database file but forgets the write-ahead log
    // and shared-memory files root's reads left behind: still refused in words, at once,
    // instead of a worker that retries writes forever.
    set(&data, 0o777);
    set(&sb.db, 0o666);
    let side = |s: &str| std::path::PathBuf::from(format!("{}{s}", sb.db.display()));
    assert!(side("-shm").exists(), "the test expects root's -shm file");
    let out = as_nobody();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("trove.db-wal is read-only for you")
            || stderr.contains("trove.db-shm is read-only for you"),
        "unclear reason: {stderr}"
    );
    assert_eq!(sb.count_status("pending"), 1);

    // All fixed: the same command now does the work.
    for s in ["-wal", "-shm"] {
        if side(s).exists() {
            set(&side(s), 0o666);
        }
    }
    let out = as_nobody();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sb.count_status("completed"), 1);
    assert_db_consistent(&sb);
}
