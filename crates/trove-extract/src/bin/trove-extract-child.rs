//! Test helper: stands in for `trove __extract` in this crate's tests.
//!
//! It serves requests like the real child ([`serve`]), but misbehaves on purpose for
//! files whose name ends in `.test-hang` (sleeps), `.test-abort` (aborts), `.test-oom`
//! (allocates until the memory cap kills it), `.test-huge` (answers with 8 MiB of text),
//! `.test-print` (prints junk to stdout, then extracts), `.test-slow` (reports progress
//! for 3 s, longer than the tests' 1 s timeout) or `.test-env` (reports its environment
//! on stderr and aborts), so the sandbox parent can be tested against hangs, crashes and
//! floods. Production code has no such hooks.

use std::process::ExitCode;
use std::time::Duration;

use trove_extract::sandbox::{serve, CHILD_ARG};
use trove_extract::{extract_file_with_progress, DocKind, Extracted, Progress};

fn main() -> ExitCode {
    if std::env::args_os().nth(1).as_deref() != Some(CHILD_ARG.as_ref()) {
        eprintln!("usage: trove-extract-child {CHILD_ARG}");
        return ExitCode::from(2);
    }
    serve(|path, limits, progress| {
        let name = path.to_string_lossy();
        if name.ends_with(".test-hang") {
            std::thread::sleep(Duration::from_secs(3600));
        } else if name.ends_with(".test-abort") {
            std::process::abort();
        } else if name.ends_with(".test-huge") {
            return Ok(Extracted {
                kind: DocKind::Text,
                text: "x".repeat(8 << 20),
                title: None,
                pages: None,
                encoding: None,
                extractor: None,
                metadata: Vec::new(),
            });
        } else if name.ends_with(".test-print") {
            println!("a parser talking to itself\n{{\"done\": 1}}");
        } else if name.ends_with(".test-slow") {
            for done in 0..6 {
                progress(Progress { done, total: 6 });
                std::thread::sleep(Duration::from_millis(500));
            }
        } else if name.ends_with(".test-env") {
            for (k, v) in std::env::vars_os() {
                eprintln!("{}={}", k.to_string_lossy(), v.to_string_lossy());
            }
            std::process::abort();
        } else if name.ends_with(".test-oom") {
            // The cap is already in place (serve set it); grow until it is hit.
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                let mut chunk = vec![0u8; 64 * 1024 * 1024];
                chunk[0] = 1;
                hoard.push(std::hint::black_box(chunk));
            }
        }
        extract_file_with_progress(path, limits, progress)
    })
}
