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

/// Environment variable carrying the child's CPU-time cap in seconds.
pub const CPU_ENV: &str = "TROVE_EXTRACT_CPU_SECS";

/// How many bytes of the child's stderr are kept for diagnostics.
const STDERR_KEEP: usize = 4096;

/// The child may not create or grow files (it only reads one and answers on stdout).
const CHILD_FILE_SIZE_LIMIT: u64 = 1024 * 1024;

/// Entry point of the extraction child. Reads `path`, caps memory, extracts,
/// writes the JSON reply to stdout.
pub fn child_main(path: &Path) -> ExitCode {
    cap_memory(CHILD_MEMORY_LIMIT);
    set_limit(Rlimit::FileSize, CHILD_FILE_SIZE_LIMIT);
    if let Some(secs) = std::env::var(CPU_ENV).ok().and_then(|s| s.parse().ok()) {
        set_limit(Rlimit::Cpu, secs);
    }
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
pub fn cap_memory(bytes: u64) {
    set_limit(Rlimit::AddressSpace, bytes);
}

#[derive(Clone, Copy)]
enum Rlimit {
    AddressSpace,
    Cpu,
    FileSize,
}

/// `setrlimit` (Unix only; a no-op elsewhere). Past the CPU limit the kernel sends
/// SIGXCPU, past the file size limit SIGXFSZ: both end the child, which the parent reports.
#[allow(unsafe_code)]
fn set_limit(which: Rlimit, value: u64) {
    #[cfg(unix)]
    {
        let resource = match which {
            Rlimit::AddressSpace => libc::RLIMIT_AS,
            Rlimit::Cpu => libc::RLIMIT_CPU,
            Rlimit::FileSize => libc::RLIMIT_FSIZE,
        };
        let lim = libc::rlimit {
            rlim_cur: value as libc::rlim_t,
            rlim_max: value as libc::rlim_t,
        };
        // SAFETY: setrlimit only reads the struct we pass; failure is harmless
        // (we just run without the cap).
        unsafe {
            libc::setrlimit(resource, &lim);
        }
    }
    #[cfg(not(unix))]
    let _ = (which, value);
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
    // CPU time: the wall-clock timeout, plus a little (a parser spinning on all cores
    // meets this even when the parent cannot wait).
    let cpu_secs = cfg.timeout.as_secs().saturating_add(5);
    // The child sees nothing of the user's environment but its two settings.
    let mut child = Command::new(&cfg.exe)
        .arg(CHILD_ARG)
        .arg(path)
        .env_clear()
        .env(LIMITS_ENV, limits_json)
        .env(CPU_ENV, cpu_secs.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ExtractError::Sandbox {
            message: format!("cannot start {}: {e}", cfg.exe.display()),
        })?;

    // The reply is JSON of at most the text limit (escaped: up to 6 bytes a byte) plus
    // metadata. Past that the pipe is closed (the child's next write fails and it ends)
    // and the reply is refused.
    let reply_cap = (cfg.limits.max_text_bytes as u64)
        .saturating_mul(6)
        .saturating_add(1 << 20);
    let stdout = child.stdout.take().map(|s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut s = s;
            let _ = (&mut s).take(reply_cap).read_to_end(&mut buf);
            let over = s.read(&mut [0u8; 1]).is_ok_and(|n| n > 0);
            (buf, over)
        })
    });
    // Only the last few KB of stderr are kept, however much the child writes.
    let stderr = child.stderr.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut block = [0u8; 8192];
            while let Ok(n) = s.read(&mut block) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&block[..n]);
                if buf.len() > 2 * STDERR_KEEP {
                    buf.drain(..buf.len() - STDERR_KEEP);
                }
            }
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
    let (out, over) = stdout.and_then(|h| h.join().ok()).unwrap_or_default();
    let err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    let err = String::from_utf8_lossy(&err).trim().to_string();
    if over {
        return Err(ExtractError::ExtractorCrashed {
            detail: format!("the extractor's reply was larger than {reply_cap} bytes"),
        });
    }

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

/// Checks shared by [`extract_file`] and the sandbox parent, on the open file: a
/// regular file (not a folder, FIFO or device), within the size limit.
fn precheck(path: &Path, limits: &Limits) -> Result<(std::fs::File, u64), ExtractError> {
    let (file, meta) = crate::file::open_regular(path)?;
    if meta.len() > limits.max_input_bytes {
        return Err(ExtractError::TooLarge {
            size: meta.len(),
            limit: limits.max_input_bytes,
        });
    }
    Ok((file, meta.len()))
}

/// In-process convenience: read `path` and [`extract`] it.
///
/// Missing file → "file no longer exists at <path>"; folders, pipes and devices,
/// permission problems and the size limit (checked before reading, and again while
/// reading: the file may grow) get their own errors.
pub fn extract_file(path: &Path, limits: &Limits) -> Result<Extracted, ExtractError> {
    let (file, size) = precheck(path, limits)?;
    let bytes = crate::file::read_capped(file, size, limits.max_input_bytes)?;
    let name = path.file_name().map(|n| n.to_string_lossy());
    extract(&bytes, name.as_deref(), limits)
}
