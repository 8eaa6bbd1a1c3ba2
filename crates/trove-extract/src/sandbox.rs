//! Extraction in a child process: the only way to survive parsers that hang or
//! eat all memory.
//!
//! Protocol: the parent runs `<exe> __extract <path>` with the limits as JSON in
//! the environment variable [`LIMITS_ENV`]. The child ([`child_main`]) caps its
//! address space, extracts, and writes one line of JSON — a
//! `Result<Extracted, ExtractError>` — as the last line on stdout, then exits 0.
//! The parent ([`extract_file_sandboxed`]) kills the child on timeout, and maps
//! death by signal / garbled output to [`ExtractError::ExtractorCrashed`].

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::{extract, ExtractError, Extracted, Limits};

/// First argument that makes the `trove` binary act as the extraction child.
pub const CHILD_ARG: &str = "__extract";

/// Environment variable carrying [`Limits`] as JSON from parent to child.
pub const LIMITS_ENV: &str = "TROVE_EXTRACT_LIMITS";

/// Address-space cap for the child (2 GiB).
pub const CHILD_MEMORY_LIMIT: u64 = 2 * 1024 * 1024 * 1024;

/// How many bytes of the child's stderr are kept for diagnostics.
const STDERR_KEEP: usize = 4096;

/// Entry point of the extraction child. Reads `path`, caps memory, extracts,
/// writes the JSON reply to stdout.
pub fn child_main(path: &Path) -> ExitCode {
    cap_memory(CHILD_MEMORY_LIMIT);
    let limits = std::env::var(LIMITS_ENV)
        .ok()
        .and_then(|s| serde_json::from_str::<Limits>(&s).ok())
        .unwrap_or_default();
    let result = extract_file(path, &limits);
    let json = match serde_json::to_string(&result) {
        Ok(j) => j,
        Err(_) => return ExitCode::from(3),
    };
    let mut out = std::io::stdout().lock();
    // A newline first so the reply is on a line of its own even if a parser printed something.
    if writeln!(out, "\n{json}").and_then(|_| out.flush()).is_err() {
        return ExitCode::from(4);
    }
    ExitCode::SUCCESS
}

/// Limit the address space of this process with `setrlimit(RLIMIT_AS)`
/// (Unix only; a no-op elsewhere). [`child_main`] calls it with
/// [`CHILD_MEMORY_LIMIT`]; allocation beyond the cap aborts the process.
#[allow(unsafe_code)]
pub fn cap_memory(bytes: u64) {
    #[cfg(unix)]
    {
        let lim = libc::rlimit {
            rlim_cur: bytes as libc::rlim_t,
            rlim_max: bytes as libc::rlim_t,
        };
        // SAFETY: setrlimit only reads the struct we pass; failure is harmless
        // (we just run without the cap).
        unsafe {
            libc::setrlimit(libc::RLIMIT_AS, &lim);
        }
    }
    #[cfg(not(unix))]
    let _ = bytes;
}

/// How to run the extraction child.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The executable that understands `<exe> __extract <path>` (the trove binary).
    pub exe: PathBuf,
    /// Wall-clock limit; the child is killed after it. Default 60 s.
    pub timeout: Duration,
    pub limits: Limits,
}

impl SandboxConfig {
    /// Config for `exe` with the default timeout (60 s) and limits.
    pub fn new(exe: impl Into<PathBuf>) -> Self {
        SandboxConfig {
            exe: exe.into(),
            timeout: Duration::from_secs(60),
            limits: Limits::default(),
        }
    }
}

/// Extract `path` in a child process (see the module docs).
pub fn extract_file_sandboxed(cfg: &SandboxConfig, path: &Path) -> Result<Extracted, ExtractError> {
    // Cheap checks in the parent give precise errors without a process.
    precheck(path, &cfg.limits)?;
    let limits_json = serde_json::to_string(&cfg.limits).map_err(|e| ExtractError::Sandbox {
        message: e.to_string(),
    })?;
    let mut child = Command::new(&cfg.exe)
        .arg(CHILD_ARG)
        .arg(path)
        .env(LIMITS_ENV, limits_json)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ExtractError::Sandbox {
            message: format!("cannot start {}: {e}", cfg.exe.display()),
        })?;

    let stdout = child.stdout.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            buf
        })
    });
    let stderr = child.stderr.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            if buf.len() > STDERR_KEEP {
                buf.drain(..buf.len() - STDERR_KEEP);
            }
            buf
        })
    });

    let status = match wait_timeout(&mut child, cfg.timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            // The pipes close with the child; join so no thread is left behind.
            if let Some(h) = stdout {
                let _ = h.join();
            }
            if let Some(h) = stderr {
                let _ = h.join();
            }
            return Err(ExtractError::Timeout {
                secs: cfg.timeout.as_secs_f64().round() as u64,
            });
        }
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ExtractError::Sandbox {
                message: format!("waiting for the extractor failed: {e}"),
            });
        }
    };
    let out = stdout.and_then(|h| h.join().ok()).unwrap_or_default();
    let err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    let err = String::from_utf8_lossy(&err).trim().to_string();

    if !status.success() {
        return Err(ExtractError::ExtractorCrashed {
            detail: describe_status(&status, &err),
        });
    }
    let last_line = out
        .split(|&b| b == b'\n')
        .rev()
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .unwrap_or_default();
    serde_json::from_slice::<Result<Extracted, ExtractError>>(last_line).unwrap_or_else(|e| {
        Err(ExtractError::ExtractorCrashed {
            detail: format!("unreadable reply ({e}); stderr: {err}"),
        })
    })
}

fn describe_status(status: &std::process::ExitStatus, stderr: &str) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}; stderr: {stderr}");
        }
    }
    format!("{status}; stderr: {stderr}")
}

fn wait_timeout(
    child: &mut Child,
    timeout: Duration,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let start = Instant::now();
    let mut nap = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            return Ok(None);
        }
        std::thread::sleep(nap.min(timeout - elapsed));
        nap = (nap * 2).min(Duration::from_millis(20));
    }
}

/// Metadata checks shared by [`extract_file`] and the sandbox parent: exists,
/// is a file, fits the size limit. Returns the size.
fn precheck(path: &Path, limits: &Limits) -> Result<u64, ExtractError> {
    let meta = std::fs::metadata(path).map_err(|e| ExtractError::from_io(&e, path))?;
    if meta.is_dir() {
        return Err(ExtractError::IsDirectory {
            path: path.display().to_string(),
        });
    }
    if meta.len() > limits.max_input_bytes {
        return Err(ExtractError::TooLarge {
            size: meta.len(),
            limit: limits.max_input_bytes,
        });
    }
    Ok(meta.len())
}

/// In-process convenience: read `path` and [`extract`] it.
///
/// Missing file → "file no longer exists at <path>"; folders, permission
/// problems and the size limit (checked from metadata before reading) get their
/// own errors.
pub fn extract_file(path: &Path, limits: &Limits) -> Result<Extracted, ExtractError> {
    let size = precheck(path, limits)?;
    let mut f = std::fs::File::open(path).map_err(|e| ExtractError::from_io(&e, path))?;
    let mut bytes = Vec::with_capacity(size as usize);
    // Read at most one byte beyond the limit: the file may grow after the check.
    (&mut f)
        .take(limits.max_input_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ExtractError::from_io(&e, path))?;
    let name = path.file_name().map(|n| n.to_string_lossy());
    extract(&bytes, name.as_deref(), limits)
}
