//! Extraction in child processes: the only way to survive parsers that hang or eat all
//! memory, without paying a process start for every file.
//!
//! Protocol: the parent starts `<exe> __extract` ([`CHILD_ARG`]) with a cleared
//! environment. The child ([`child_main`]) caps its address space and file writes, moves
//! its stdout out of the parsers' reach (anything they print goes to stderr), and then
//! serves requests until stdin closes: one JSON [`Request`] per line on stdin, answered by
//! zero or more progress lines and one reply line ([`Message`]) on the original stdout.
//!
//! The parent ([`SandboxPool`]) keeps a few children alive between files and replaces a
//! child after a crash, a timeout, a garbled or oversized reply, [`SandboxPool::max_files`]
//! files, or when its resident memory passed [`SandboxPool::max_rss`]. A timeout, crash or
//! out-of-memory in one file fails that file only.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::{ExtractError, Extracted, Limits, Progress};

/// First argument that makes the `trove` binary act as the extraction child.
pub const CHILD_ARG: &str = "__extract";

/// Address-space cap for the child (2 GiB).
pub const CHILD_MEMORY_LIMIT: u64 = 2 * 1024 * 1024 * 1024;

/// Environment variable carrying the child's lifetime CPU-time cap in seconds.
pub const CPU_ENV: &str = "TROVE_EXTRACT_CPU_SECS";

/// How many bytes of the child's stderr are kept for diagnostics.
const STDERR_KEEP: usize = 4096;

/// The child may not create or grow files (it only reads and answers on a pipe).
const CHILD_FILE_SIZE_LIMIT: u64 = 1024 * 1024;

/// One file to extract, as the parent sends it (one JSON line on the child's stdin).
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    /// The path's raw bytes: file names need not be UTF-8.
    #[serde(with = "path_bytes")]
    pub path: PathBuf,
    pub limits: Limits,
}

/// A path as its bytes (Unix file names are bytes, not necessarily UTF-8).
mod path_bytes {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    use std::path::{Path, PathBuf};

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
        p.as_os_str().as_bytes().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        Ok(PathBuf::from(std::ffi::OsString::from_vec(
            Vec::<u8>::deserialize(d)?,
        )))
    }
}

/// One line from the child.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Message {
    /// Work in progress (OCR pages): also tells the parent the child is alive.
    Progress(Progress),
    /// The answer for the current request.
    Done(Result<Extracted, ExtractError>),
}

/// Entry point of the extraction child in the `trove` binary.
pub fn child_main() -> ExitCode {
    serve(crate::extract_file_with_progress)
}

/// Serve requests on stdin with `handler` until stdin closes (see the module docs).
/// Public so tests can stand in a misbehaving handler.
pub fn serve(
    mut handler: impl FnMut(&Path, &Limits, &mut dyn FnMut(Progress)) -> Result<Extracted, ExtractError>,
) -> ExitCode {
    die_with_parent();
    cap_memory(CHILD_MEMORY_LIMIT);
    set_limit(Rlimit::FileSize, CHILD_FILE_SIZE_LIMIT);
    if let Some(secs) = std::env::var(CPU_ENV).ok().and_then(|s| s.parse().ok()) {
        set_limit(Rlimit::Cpu, secs);
    }
    let Some(mut proto) = private_stdout() else {
        return ExitCode::from(5);
    };
    let stdin = std::io::stdin().lock();
    for line in stdin.lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(req) => {
                let mut send_progress = |p: Progress| {
                    let _ = send(&mut proto, &Message::Progress(p));
                };
                handler(&req.path, &req.limits, &mut send_progress)
            }
            Err(e) => Err(ExtractError::Sandbox {
                message: format!("unreadable request: {e}"),
            }),
        };
        if send(&mut proto, &Message::Done(reply)).is_err() {
            return ExitCode::from(4);
        }
    }
    ExitCode::SUCCESS
}

fn send(out: &mut std::fs::File, msg: &Message) -> std::io::Result<()> {
    let mut json = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
    json.push(b'\n');
    out.write_all(&json)?;
    out.flush()
}

/// The protocol's channel: a duplicate of stdout, with fd 1 itself pointed at stderr so a
/// parser that prints cannot corrupt the replies.
#[allow(unsafe_code)]
fn private_stdout() -> Option<std::fs::File> {
    #[cfg(unix)]
    {
        use std::os::fd::FromRawFd;
        // SAFETY: dup/dup2 on the standard descriptors; the new descriptor is owned by the
        // returned File and nothing else.
        unsafe {
            let fd = libc::dup(1);
            if fd < 0 {
                return None;
            }
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            libc::dup2(2, 1);
            Some(std::fs::File::from_raw_fd(fd))
        }
    }
    #[cfg(not(unix))]
    None
}

/// The child leaves when its parent dies, even in the middle of a parse: a watchdog
/// thread sees the parent process change (the child is adopted by init or a subreaper).
/// (`PR_SET_PDEATHSIG` would fire when the parent *thread* that started the child ends, and
/// the worker's threads come and go.)
#[allow(unsafe_code)]
fn die_with_parent() {
    #[cfg(unix)]
    {
        // SAFETY: getppid has no preconditions.
        let parent = unsafe { libc::getppid() };
        let _ = std::thread::Builder::new()
            .name("trove-extract-watchdog".into())
            .stack_size(64 * 1024)
            .spawn(move || loop {
                std::thread::sleep(Duration::from_millis(500));
                // SAFETY: as above; _exit ends the process without running destructors,
                // which is what an orphan should do.
                if unsafe { libc::getppid() } != parent {
                    unsafe { libc::_exit(9) };
                }
            });
    }
}

/// Limit the address space of this process with `setrlimit(RLIMIT_AS)`
/// (Unix only; a no-op elsewhere). [`serve`] calls it with [`CHILD_MEMORY_LIMIT`];
/// allocation beyond the cap aborts the process.
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

/// How to run a one-off extraction child ([`extract_file_sandboxed`]).
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The executable that understands `<exe> __extract` (the trove binary).
    pub exe: PathBuf,
    /// Wall-clock limit per file; the child is killed after it. Default 60 s.
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

/// Extract `path` in a child process of its own (a pool of one, closed afterwards).
pub fn extract_file_sandboxed(cfg: &SandboxConfig, path: &Path) -> Result<Extracted, ExtractError> {
    SandboxPool::new(&cfg.exe, cfg.timeout).extract(path, &cfg.limits, &mut |_| {})
}

/// Long-lived extraction children, shared by the worker's jobs (see the module docs).
pub struct SandboxPool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    exe: PathBuf,
    timeout: Duration,
    max_files: u32,
    max_rss: u64,
    max_idle: usize,
    idle_for: Duration,
    idle: Mutex<Vec<Worker>>,
    spawned: std::sync::atomic::AtomicU64,
    reaper: std::sync::Once,
}

impl std::fmt::Debug for SandboxPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxPool")
            .field("exe", &self.inner.exe)
            .field("timeout", &self.inner.timeout)
            .field("max_files", &self.inner.max_files)
            .finish_non_exhaustive()
    }
}

impl SandboxPool {
    /// Files one child reads before it is replaced (parsers leak and fragment memory).
    pub const DEFAULT_MAX_FILES: u32 = 200;
    /// Resident memory past which a child is replaced after its current file.
    pub const DEFAULT_MAX_RSS: u64 = 512 * 1024 * 1024;

    /// A pool running `exe __extract`, killing a child that spends longer than `timeout`
    /// on one file (OCR progress extends it page by page).
    pub fn new(exe: impl Into<PathBuf>, timeout: Duration) -> Self {
        Self::with_limits(exe, timeout, Self::DEFAULT_MAX_FILES, Self::DEFAULT_MAX_RSS)
    }

    /// [`SandboxPool::new`] with explicit recycling limits.
    pub fn with_limits(
        exe: impl Into<PathBuf>,
        timeout: Duration,
        max_files: u32,
        max_rss: u64,
    ) -> Self {
        SandboxPool {
            inner: Arc::new(PoolInner {
                exe: exe.into(),
                timeout,
                max_files: max_files.max(1),
                max_rss,
                max_idle: 4,
                idle_for: Duration::from_secs(120),
                idle: Mutex::new(Vec::new()),
                spawned: Default::default(),
                reaper: std::sync::Once::new(),
            }),
        }
    }

    /// The executable the children run.
    pub fn exe(&self) -> &Path {
        &self.inner.exe
    }

    /// The per-file wall-clock limit.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Files one child reads before it is replaced.
    pub fn max_files(&self) -> u32 {
        self.inner.max_files
    }

    /// Resident memory past which a child is replaced.
    pub fn max_rss(&self) -> u64 {
        self.inner.max_rss
    }

    /// How many children this pool has started so far.
    pub fn spawned(&self) -> u64 {
        self.inner
            .spawned
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Process ids of the children waiting for work.
    pub fn idle_pids(&self) -> Vec<u32> {
        lock(&self.inner.idle)
            .iter()
            .map(|w| w.child.id())
            .collect()
    }

    /// Extract `path` in one of the pool's children. `progress` hears about long work
    /// (OCR pages).
    pub fn extract(
        &self,
        path: &Path,
        limits: &Limits,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Extracted, ExtractError> {
        // Cheap checks in the parent give precise errors without a child.
        precheck(path, limits)?;
        let request = serde_json::to_vec(&Request {
            path: path.to_owned(),
            limits: limits.clone(),
        })
        .map_err(|e| ExtractError::Sandbox {
            message: e.to_string(),
        })?;
        // A child reused from the pool may have died while idle (killed, OOM): one more
        // try with a fresh one.
        let mut worker = match self.take_idle() {
            Some(w) => w,
            None => self.spawn()?,
        };
        if worker.send(&request).is_err() {
            worker.kill();
            worker = self.spawn()?;
            if let Err(e) = worker.send(&request) {
                let detail = worker.death(&e.to_string(), false);
                return Err(ExtractError::ExtractorCrashed { detail });
            }
        }
        let reply_cap = (limits.max_text_bytes as u64)
            .saturating_mul(6)
            .saturating_add(1 << 20);
        let started = Instant::now();
        let mut deadline = started + self.inner.timeout;
        // OCR progress moves the deadline, never past this.
        let page_limit = limits
            .ocr
            .as_ref()
            .map_or(Duration::ZERO, |o| o.page_timeout());
        let ceiling = started
            + self.inner.timeout
            + limits.ocr_budget()
            + page_limit
            + Duration::from_secs(30);
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match worker.lines.recv_timeout(wait) {
                Ok(Line::Text(line)) => match serde_json::from_slice::<Message>(&line) {
                    Ok(Message::Progress(p)) => {
                        progress(p);
                        deadline = deadline
                            .max(Instant::now() + page_limit + Duration::from_secs(10))
                            .min(ceiling);
                    }
                    Ok(Message::Done(result)) => {
                        if line.len() as u64 > reply_cap {
                            worker.kill();
                            return Err(too_large(reply_cap));
                        }
                        worker.served += 1;
                        self.give_back(worker);
                        return result;
                    }
                    Err(e) => {
                        let detail = worker.death(&format!("unreadable reply ({e})"), true);
                        return Err(ExtractError::ExtractorCrashed { detail });
                    }
                },
                Ok(Line::TooLong) => {
                    worker.kill();
                    return Err(too_large(reply_cap));
                }
                Ok(Line::Closed) | Err(RecvTimeoutError::Disconnected) => {
                    let detail = worker.death("it closed its output", false);
                    return Err(ExtractError::ExtractorCrashed { detail });
                }
                Err(RecvTimeoutError::Timeout) => {
                    worker.kill();
                    return Err(ExtractError::Timeout {
                        secs: started.elapsed().as_secs_f64().round() as u64,
                    });
                }
            }
        }
    }

    fn take_idle(&self) -> Option<Worker> {
        let mut idle = lock(&self.inner.idle);
        // Most recently used first: its caches are warm.
        idle.pop()
    }

    fn give_back(&self, mut worker: Worker) {
        let worn = worker.served >= self.inner.max_files
            || worker.rss().is_some_and(|rss| rss > self.inner.max_rss);
        if worn {
            worker.retire();
            return;
        }
        worker.idle_since = Instant::now();
        let mut idle = lock(&self.inner.idle);
        if idle.len() < self.inner.max_idle {
            idle.push(worker);
        } else {
            drop(idle);
            worker.retire();
        }
    }

    fn spawn(&self) -> Result<Worker, ExtractError> {
        let inner = &self.inner;
        // The child's lifetime CPU budget: the per-file limit for every file it may read
        // (a parser spinning on all cores meets it even when the parent cannot wait).
        let cpu_secs =
            (inner.timeout.as_secs().saturating_add(5)).saturating_mul(u64::from(inner.max_files));
        // The child sees nothing of the user's environment.
        let mut child = Command::new(&inner.exe)
            .arg(CHILD_ARG)
            .env_clear()
            .env(CPU_ENV, cpu_secs.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| ExtractError::Sandbox {
                message: format!("cannot start {}: {e}", inner.exe.display()),
            })?;
        inner
            .spawned
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.start_reaper();
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::Builder::new()
            .name("trove-extract-reply".into())
            .spawn(move || read_lines(stdout, tx))
            .map_err(|e| ExtractError::Sandbox {
                message: format!("cannot start a thread: {e}"),
            })?;
        let tail = Arc::new(Mutex::new(Vec::new()));
        let keep = tail.clone();
        std::thread::Builder::new()
            .name("trove-extract-stderr".into())
            .spawn(move || keep_tail(stderr, &keep))
            .map_err(|e| ExtractError::Sandbox {
                message: format!("cannot start a thread: {e}"),
            })?;
        Ok(Worker {
            child,
            stdin: Some(stdin),
            lines,
            stderr: tail,
            served: 0,
            idle_since: Instant::now(),
        })
    }

    /// One thread per pool closes children idle for longer than `idle_for`.
    fn start_reaper(&self) {
        let weak: Weak<PoolInner> = Arc::downgrade(&self.inner);
        self.inner.reaper.call_once(|| {
            let _ = std::thread::Builder::new()
                .name("trove-extract-reaper".into())
                .spawn(move || loop {
                    std::thread::sleep(Duration::from_secs(15));
                    let Some(inner) = weak.upgrade() else { return };
                    let stale: Vec<Worker> = {
                        let mut idle = lock(&inner.idle);
                        let (old, fresh) = std::mem::take(&mut *idle)
                            .into_iter()
                            .partition(|w| w.idle_since.elapsed() > inner.idle_for);
                        *idle = fresh;
                        old
                    };
                    stale.into_iter().for_each(Worker::retire);
                });
        });
    }
}

fn too_large(cap: u64) -> ExtractError {
    ExtractError::ExtractorCrashed {
        detail: format!("the extractor's reply was larger than {cap} bytes"),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the reply reader saw.
enum Line {
    Text(Vec<u8>),
    /// A line past the largest possible reply: the child is flooding.
    TooLong,
    Closed,
}

/// Largest line accepted from a child: a reply at the largest text limit (64 MiB, each
/// byte escaped to up to 6) plus metadata. The per-request cap is checked by the parent.
const MAX_LINE: u64 = 6 * 64 * 1024 * 1024 + (1 << 20);

fn read_lines(stdout: std::process::ChildStdout, tx: mpsc::Sender<Line>) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    loop {
        let mut line = Vec::new();
        match (&mut reader).take(MAX_LINE).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => {
                let _ = tx.send(Line::Closed);
                return;
            }
            Ok(_) if line.last() != Some(&b'\n') && line.len() as u64 >= MAX_LINE => {
                let _ = tx.send(Line::TooLong);
                return;
            }
            Ok(_) => {
                if tx.send(Line::Text(line)).is_err() {
                    return;
                }
            }
        }
    }
}

/// Keep only the last few KB of the child's stderr, however much it writes.
fn keep_tail(mut stderr: std::process::ChildStderr, tail: &Mutex<Vec<u8>>) {
    let mut block = [0u8; 8192];
    while let Ok(n) = stderr.read(&mut block) {
        if n == 0 {
            break;
        }
        let mut buf = lock(tail);
        buf.extend_from_slice(&block[..n]);
        if buf.len() > STDERR_KEEP {
            let cut = buf.len() - STDERR_KEEP;
            buf.drain(..cut);
        }
    }
}

/// One live child.
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    stderr: Arc<Mutex<Vec<u8>>>,
    served: u32,
    idle_since: Instant,
}

impl Worker {
    fn send(&mut self, request: &[u8]) -> std::io::Result<()> {
        // What it printed for earlier files says nothing about this one.
        lock(&self.stderr).clear();
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| std::io::Error::other("closed"))?;
        stdin.write_all(request)?;
        stdin.write_all(b"\n")?;
        stdin.flush()
    }

    /// Resident memory, from /proc (Linux).
    fn rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// The child ended (or must): how, and its last words.
    fn death(mut self, what: &str, kill_now: bool) -> String {
        if kill_now {
            let _ = self.child.kill();
        }
        let status = match wait_briefly(&mut self.child) {
            Some(s) => s,
            None => {
                let _ = self.child.kill();
                match self.child.wait() {
                    Ok(s) => s,
                    Err(e) => return format!("{what}; waiting for it failed: {e}"),
                }
            }
        };
        // Give the stderr reader a moment to take the last words.
        std::thread::sleep(Duration::from_millis(20));
        let err = String::from_utf8_lossy(&lock(&self.stderr))
            .trim()
            .to_string();
        format!("{what}; {}", describe_status(&status, &err))
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Close stdin so the child leaves on its own; kill it if it does not.
    fn retire(mut self) {
        self.stdin = None;
        if wait_briefly(&mut self.child).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The child's exit status if it ends within a second.
fn wait_briefly(child: &mut Child) -> Option<std::process::ExitStatus> {
    wait_until(child, Instant::now() + Duration::from_secs(1))
}

/// The child's exit status if it ends by `deadline` (`None` past it, or if it cannot be
/// asked). Shared with OCR's helper programs.
pub(crate) fn wait_until(child: &mut Child, deadline: Instant) -> Option<std::process::ExitStatus> {
    let mut nap = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) => {}
            Err(_) => return None,
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        std::thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(20));
    }
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

/// In-process convenience: read `path` and extract it (OCR included when configured).
///
/// Missing file → "file no longer exists at <path>"; folders, pipes and devices,
/// permission problems and the size limit (checked before reading, and again while
/// reading: the file may grow) get their own errors.
pub fn extract_file(path: &Path, limits: &Limits) -> Result<Extracted, ExtractError> {
    crate::extract_file_with_progress(path, limits, &mut |_| {})
}

/// Read `path` within the limits (used by [`crate::extract_file_with_progress`]).
pub(crate) fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>, ExtractError> {
    let (file, size) = precheck(path, limits)?;
    crate::file::read_capped(file, size, limits.max_input_bytes)
}
