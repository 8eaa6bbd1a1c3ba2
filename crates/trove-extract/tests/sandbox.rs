//! The subprocess sandbox and the in-process file API.

#[path = "support/pdfgen.rs"]
mod pdfgen;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use trove_extract::sandbox::{extract_file, extract_file_sandboxed, SandboxConfig, SandboxPool};
use trove_extract::{DocKind, ExtractError, Limits};

fn child_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_trove-extract-child"))
}

fn cfg(timeout: Duration) -> SandboxConfig {
    SandboxConfig {
        exe: PathBuf::from(env!("CARGO_BIN_EXE_trove-extract-child")),
        timeout,
        limits: Limits::default(),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn sandboxed_extraction_returns_text() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = write(dir.path(), "doc.pdf", &pdfgen::prose_pdf(3, 5));
    let e = extract_file_sandboxed(&cfg(Duration::from_secs(30)), &pdf).unwrap();
    assert_eq!(e.kind, DocKind::Pdf);
    assert_eq!(e.pages, Some(3));
    assert!(e.text.contains("knowledge"), "{:?}", e.text);

    let txt = write(dir.path(), "n.txt", "caf\u{e9}\n".as_bytes());
    let e = extract_file_sandboxed(&cfg(Duration::from_secs(30)), &txt).unwrap();
    assert_eq!(e.text, "caf\u{e9}\n");
}

#[test]
fn sandboxed_errors_cross_the_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.txt", b"");
    let e = extract_file_sandboxed(&cfg(Duration::from_secs(30)), &empty).unwrap_err();
    assert_eq!(e, ExtractError::Empty);

    let locked = write(
        dir.path(),
        "locked.pdf",
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/encrypted-user.pdf"),
        )
        .unwrap(),
    );
    let e = extract_file_sandboxed(&cfg(Duration::from_secs(30)), &locked).unwrap_err();
    assert_eq!(e.to_string(), "PDF is password-protected");

    // What the reader was travels back too.
    let read = write(
        dir.path(),
        "read.pdf",
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/panics-pdf-extract.pdf"),
        )
        .unwrap(),
    );
    let ok = extract_file_sandboxed(&cfg(Duration::from_secs(30)), &read).unwrap();
    assert_eq!(ok.extractor.as_deref(), Some("pdf_oxide"));

    // limits travel to the child
    let mut c = cfg(Duration::from_secs(30));
    c.limits.max_text_bytes = 3;
    let txt = write(dir.path(), "long.txt", b"hello world");
    let e = extract_file_sandboxed(&c, &txt).unwrap_err();
    assert!(matches!(e, ExtractError::TextTooLarge { .. }), "{e}");
}

#[test]
fn hanging_child_is_killed_on_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "slow.test-hang", b"whatever");
    let start = Instant::now();
    let e = extract_file_sandboxed(&cfg(Duration::from_secs(1)), &p).unwrap_err();
    let took = start.elapsed();
    assert_eq!(
        e.to_string(),
        "extraction took longer than 1 s and was stopped"
    );
    assert!(e.is_permanent());
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

#[test]
fn crashing_child_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "boom.test-abort", b"whatever");
    let e = extract_file_sandboxed(&cfg(Duration::from_secs(30)), &p).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the extractor crashed while reading this file"
    );
    match e {
        ExtractError::ExtractorCrashed { detail } => {
            assert!(detail.contains("signal 6"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn child_memory_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "greedy.test-oom", b"whatever");
    let start = Instant::now();
    let e = extract_file_sandboxed(&cfg(Duration::from_secs(60)), &p).unwrap_err();
    assert!(matches!(e, ExtractError::ExtractorCrashed { .. }), "{e:?}");
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn missing_executable_is_transient() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "a.txt", b"hi");
    let mut c = cfg(Duration::from_secs(5));
    c.exe = dir.path().join("no-such-binary");
    let e = extract_file_sandboxed(&c, &p).unwrap_err();
    assert!(matches!(e, ExtractError::Sandbox { .. }), "{e:?}");
    assert!(!e.is_permanent());
}

#[test]
fn file_errors_read_well() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("gone.txt");
    let e = extract_file(&gone, &Limits::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("file no longer exists at {}", gone.display())
    );
    let e = extract_file_sandboxed(&cfg(Duration::from_secs(5)), &gone).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("file no longer exists at {}", gone.display())
    );

    let e = extract_file(dir.path(), &Limits::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{} is a folder, not a file", dir.path().display())
    );

    let big = write(dir.path(), "big.txt", &vec![b'a'; 3 * 1024 * 1024]);
    let limits = Limits {
        max_input_bytes: 1024 * 1024,
        ..Limits::default()
    };
    let e = extract_file(&big, &limits).unwrap_err();
    assert_eq!(e.to_string(), "file is too large (3 MB; the limit is 1 MB)");

    let ok = write(dir.path(), "ok.md", b"# T\n");
    let e = extract_file(&ok, &Limits::default()).unwrap();
    assert_eq!((e.kind, e.title.as_deref()), (DocKind::Markdown, Some("T")));
}

#[cfg(unix)]
#[test]
fn permission_denied() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "secret.txt", b"x");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&p).is_ok() {
        eprintln!("running as root: permissions are not enforced, skipping");
        return;
    }
    let e = extract_file(&p, &Limits::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("permission denied reading {}", p.display())
    );
}

#[test]
fn an_oversized_reply_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "x.test-huge", b"huge");
    let mut c = cfg(Duration::from_secs(60));
    // A 1 MiB text limit → a reply cap of about 7 MiB; the child answers with 8 MiB.
    c.limits.max_text_bytes = 1 << 20;
    let err = extract_file_sandboxed(&c, &p).unwrap_err();
    match err {
        ExtractError::ExtractorCrashed { detail } => {
            assert!(detail.contains("reply was larger than"), "{detail}")
        }
        other => panic!("expected a refused reply, got {other:?}"),
    }
}

#[test]
fn the_child_sees_none_of_the_parents_environment() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "x.test-env", b"env");
    // The test runner's environment has HOME and PATH; the child must not.
    assert!(std::env::var_os("PATH").is_some());
    let err = extract_file_sandboxed(&cfg(Duration::from_secs(30)), &p).unwrap_err();
    let ExtractError::ExtractorCrashed { detail } = err else {
        panic!("expected the child to abort, got {err:?}");
    };
    // Its only variable: a lifetime CPU budget of (30 s + 5 s) × 200 files.
    assert!(detail.contains("TROVE_EXTRACT_CPU_SECS=7000"), "{detail}");
    assert!(!detail.contains("PATH="), "{detail}");
    assert!(!detail.contains("HOME="), "{detail}");
}

#[test]
fn one_child_reads_many_files_and_is_replaced_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let pool = SandboxPool::new(child_exe(), Duration::from_secs(30));
    let limits = Limits::default();
    let pdf = write(dir.path(), "doc.pdf", &pdfgen::prose_pdf(2, 3));
    let empty = write(dir.path(), "empty.txt", b"");
    for _ in 0..5 {
        let e = pool.extract(&pdf, &limits, &mut |_| {}).unwrap();
        assert_eq!(e.pages, Some(2));
        // An error is an answer, not a reason to replace the child.
        let err = pool.extract(&empty, &limits, &mut |_| {}).unwrap_err();
        assert_eq!(err, ExtractError::Empty);
    }
    assert_eq!(pool.spawned(), 1, "ten files, one child");
    let first = pool.idle_pids();
    assert_eq!(first.len(), 1);

    let boom = write(dir.path(), "boom.test-abort", b"x");
    let err = pool.extract(&boom, &limits, &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, ExtractError::ExtractorCrashed { .. }),
        "{err:?}"
    );
    assert!(pool.idle_pids().is_empty(), "a crashed child is not kept");
    let e = pool.extract(&pdf, &limits, &mut |_| {}).unwrap();
    assert_eq!(e.pages, Some(2));
    assert_eq!(pool.spawned(), 2);
    assert_ne!(pool.idle_pids(), first);

    // A hang: killed, and the next file gets a fresh child.
    let quick = SandboxPool::new(child_exe(), Duration::from_secs(1));
    let hang = write(dir.path(), "slow.test-hang", b"x");
    let err = quick.extract(&hang, &limits, &mut |_| {}).unwrap_err();
    assert!(matches!(err, ExtractError::Timeout { .. }), "{err:?}");
    assert!(quick.extract(&pdf, &limits, &mut |_| {}).is_ok());
    assert_eq!(quick.spawned(), 2);
}

#[test]
fn children_are_recycled_after_their_file_quota() {
    let dir = tempfile::tempdir().unwrap();
    let pool = SandboxPool::with_limits(child_exe(), Duration::from_secs(30), 2, u64::MAX);
    let txt = write(dir.path(), "a.txt", b"hello");
    for _ in 0..5 {
        pool.extract(&txt, &Limits::default(), &mut |_| {}).unwrap();
    }
    assert_eq!(pool.spawned(), 3, "2 + 2 + 1 files");

    // A memory cap of 1 byte: every child is replaced after its file.
    let lean = SandboxPool::with_limits(child_exe(), Duration::from_secs(30), 100, 1);
    for _ in 0..3 {
        lean.extract(&txt, &Limits::default(), &mut |_| {}).unwrap();
    }
    assert_eq!(lean.spawned(), 3);
    assert!(lean.idle_pids().is_empty());
}

#[test]
fn a_parser_printing_to_stdout_cannot_garble_the_reply() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "chatty.test-print", b"the words themselves");
    let pool = SandboxPool::new(child_exe(), Duration::from_secs(30));
    let e = pool.extract(&p, &Limits::default(), &mut |_| {}).unwrap();
    assert_eq!(e.text, "the words themselves");
    // And the child stays in service.
    assert!(pool.extract(&p, &Limits::default(), &mut |_| {}).is_ok());
    assert_eq!(pool.spawned(), 1);
}

#[test]
fn progress_reaches_the_parent_and_keeps_a_long_file_alive() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "long.test-slow", b"many pages");
    // 1 s per file, but the child reports progress every half second for 3 s.
    let pool = SandboxPool::new(child_exe(), Duration::from_secs(1));
    let mut heard = Vec::new();
    let e = pool
        .extract(&p, &Limits::default(), &mut |pr| heard.push(pr.done))
        .unwrap();
    assert_eq!(e.text, "many pages");
    assert_eq!(heard, vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn a_pool_serves_threads_at_once_and_closes_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let pool = SandboxPool::new(child_exe(), Duration::from_secs(30));
    let pdf = write(dir.path(), "doc.pdf", &pdfgen::prose_pdf(2, 3));
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for _ in 0..4 {
                    let e = pool.extract(&pdf, &Limits::default(), &mut |_| {}).unwrap();
                    assert_eq!(e.pages, Some(2));
                }
            });
        }
    });
    assert!(pool.spawned() <= 3, "{} children", pool.spawned());
    let pids = pool.idle_pids();
    assert!(!pids.is_empty());
    drop(pool);
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "child {pid} outlived its pool"
        );
    }
}

#[test]
fn a_path_swapped_for_a_fifo_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.pdf");
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a valid NUL-terminated path.
    #[allow(unsafe_code)]
    let made = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(made, 0);
    let err = extract_file_sandboxed(&cfg(Duration::from_secs(30)), &p).unwrap_err();
    assert!(matches!(err, ExtractError::NotRegular { .. }), "{err:?}");
    let err = extract_file(&p, &Limits::default()).unwrap_err();
    assert!(matches!(err, ExtractError::NotRegular { .. }), "{err:?}");
}

/// A child whose parent died mid-file (stdin still open, as when the worker is killed
/// while a parser hangs) leaves on its own within a second or so.
#[test]
fn an_orphaned_child_leaves() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let exe = child_exe();
    // sh starts the child in the background with sh's own stdin (kept open by this test),
    // prints its pid and exits: the child is orphaned, its stdin never closes.
    let mut sh = Command::new("sh")
        .arg("-c")
        .arg(format!(
            // A background job's stdin is /dev/null unless taken from another fd.
            "exec 3<&0; '{}' __extract <&3 & echo $!; sleep 0.3",
            exe.display()
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(sh.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid: u32 = line.trim().parse().unwrap();
    let _keep_stdin_open = sh.stdin.take();
    sh.wait().unwrap();
    let alive = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    };
    let start = Instant::now();
    while alive(pid) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(pid), "the orphaned child {pid} is still running");
}

/// File names are bytes: one that is not UTF-8 reaches the child intact.
#[test]
fn a_file_name_that_is_not_utf8_is_extracted() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9 notes.txt");
    let p = dir.path().join(name);
    std::fs::write(&p, "latin-1 name").unwrap();
    let pool = SandboxPool::new(child_exe(), Duration::from_secs(30));
    let e = pool.extract(&p, &Limits::default(), &mut |_| {}).unwrap();
    assert_eq!(e.text, "latin-1 name");
}
