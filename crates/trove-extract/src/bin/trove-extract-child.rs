//! Test helper: stands in for `trove __extract <path>` in this crate's tests.
//!
//! Besides calling [`child_main`], it misbehaves on purpose for files whose
//! name ends in `.test-hang` (sleeps), `.test-abort` (aborts), `.test-oom`
//! (allocates until the memory cap kills it), `.test-flood` (writes to stdout
//! without end) or `.test-env` (reports its environment on stderr and aborts), so
//! the sandbox parent can be tested against hangs, crashes and floods. Production
//! code has no such hooks.

use std::path::PathBuf;
use std::process::ExitCode;

use trove_extract::sandbox::{cap_memory, child_main, CHILD_ARG, CHILD_MEMORY_LIMIT};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(CHILD_ARG.as_ref()) {
        eprintln!("usage: trove-extract-child {CHILD_ARG} <path>");
        return ExitCode::from(2);
    }
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: trove-extract-child {CHILD_ARG} <path>");
        return ExitCode::from(2);
    };
    let name = path.to_string_lossy();
    if name.ends_with(".test-hang") {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    } else if name.ends_with(".test-abort") {
        std::process::abort();
    } else if name.ends_with(".test-flood") {
        use std::io::Write;
        let line = [b'x'; 64 * 1024];
        let mut out = std::io::stdout().lock();
        while out.write_all(&line).is_ok() {}
        return ExitCode::SUCCESS;
    } else if name.ends_with(".test-env") {
        for (k, v) in std::env::vars_os() {
            eprintln!("{}={}", k.to_string_lossy(), v.to_string_lossy());
        }
        std::process::abort();
    } else if name.ends_with(".test-oom") {
        // Same cap as the real child, then grow until it is hit.
        cap_memory(CHILD_MEMORY_LIMIT);
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut chunk = vec![0u8; 64 * 1024 * 1024];
            chunk[0] = 1;
            hoard.push(std::hint::black_box(chunk));
        }
    }
    child_main(&path)
}
