//! Optical character recognition with Tesseract, for scanned PDF pages and images.
//!
//! Trove does not link Tesseract: it runs the `tesseract` program of the `tesseract-ocr`
//! package (and poppler's `pdftoppm` to render PDF pages), found on `PATH` by
//! [`OcrConfig::discover`]. In the app these run inside the extraction child, so the
//! child's memory cap applies to them too; each page has a time limit and each document a
//! time budget. Nothing is written to disk: pages go from `pdftoppm` to `tesseract`
//! through a pipe.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::sandbox::wait_until;
use crate::{ExtractError, Progress};

/// How to run OCR. `None` in [`crate::Limits::ocr`] means Tesseract is not installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcrConfig {
    /// The `tesseract` program.
    pub tesseract: PathBuf,
    /// poppler's `pdftoppm`, to render PDF pages (without it only images are read).
    pub pdftoppm: Option<PathBuf>,
    /// Tesseract language(s), e.g. `eng` or `eng+deu`.
    pub languages: String,
    /// Time one page may take before it is skipped.
    pub page_timeout_secs: u64,
    /// Time all OCR of one document may take; pages not started by then are not read (and
    /// named). Checked between pages, so it may be passed by up to one page's limit.
    pub budget_secs: u64,
    /// Largest image read, in pixels (width × height).
    pub max_pixels: u64,
    /// Resolution PDF pages are rendered at.
    pub dpi: u32,
    /// Tesseract's language data folder, when the environment chose one (`TESSDATA_PREFIX`):
    /// OCR runs with a cleared environment, so it is passed as `--tessdata-dir`.
    #[serde(default)]
    pub tessdata: Option<PathBuf>,
}

impl OcrConfig {
    /// Default per-page limit.
    pub const PAGE_TIMEOUT_SECS: u64 = 60;
    /// Default budget per document: 20 minutes (a 300-page scan takes about 8 here).
    pub const BUDGET_SECS: u64 = 20 * 60;
    /// 64 megapixels: an A4 page scanned at 600 dpi is 35.
    pub const MAX_PIXELS: u64 = 64_000_000;

    /// Find `tesseract` (and `pdftoppm`) on `PATH` (or in /usr/bin, /usr/local/bin).
    /// Languages not installed are dropped (with a warning on stderr); `None` when
    /// Tesseract is missing or has none of them.
    pub fn discover(languages: &str) -> Option<OcrConfig> {
        let tesseract = find_program("tesseract")?;
        let tessdata = std::env::var_os("TESSDATA_PREFIX")
            .map(PathBuf::from)
            .filter(|p| p.is_dir());
        let installed = installed_languages(&tesseract, tessdata.as_deref());
        let wanted: Vec<&str> = languages
            .split(['+', ',', ' '])
            .filter(|l| !l.is_empty())
            .collect();
        let mut usable: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|l| installed.iter().any(|i| i == l))
            .collect();
        if usable.len() < wanted.len() {
            let missing: Vec<&str> = wanted
                .iter()
                .copied()
                .filter(|l| !usable.contains(l))
                .collect();
            eprintln!(
                "trove: Tesseract has no language data for {} (install tesseract-ocr-{})",
                missing.join(", "),
                missing.first().copied().unwrap_or("eng")
            );
        }
        if usable.is_empty() {
            if installed.iter().any(|l| l == "eng") {
                usable.push("eng");
            } else {
                return None;
            }
        }
        Some(OcrConfig {
            tesseract,
            pdftoppm: find_program("pdftoppm"),
            languages: usable.join("+"),
            page_timeout_secs: Self::PAGE_TIMEOUT_SECS,
            budget_secs: Self::BUDGET_SECS,
            max_pixels: Self::MAX_PIXELS,
            dpi: 300,
            tessdata,
        })
    }

    pub fn page_timeout(&self) -> Duration {
        Duration::from_secs(self.page_timeout_secs.max(1))
    }

    pub fn budget(&self) -> Duration {
        // Clamped (a week) so deadline arithmetic cannot overflow.
        Duration::from_secs(self.budget_secs.min(7 * 24 * 3600))
    }

    /// "tesseract, eng": how the item names its reader.
    pub fn describe(&self) -> String {
        format!("tesseract, {}", self.languages)
    }
}

/// A program on `PATH`, or in the usual places when `PATH` is empty (the sandbox child,
/// an app started from a menu with a minimal environment).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/usr/local/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The languages Tesseract has data for, asked the way pages are read (cleared
/// environment, the same data folder).
fn installed_languages(tesseract: &Path, tessdata: Option<&Path>) -> Vec<String> {
    let mut cmd = Command::new(tesseract);
    cmd.env_clear();
    if let Some(dir) = tessdata {
        cmd.arg("--tessdata-dir").arg(dir);
    }
    let Ok(out) = cmd
        .arg("--list-langs")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1) // "List of available languages in …"
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty() && l != "osd")
        .collect()
}

/// What became of the pages given to [`pdf_pages`].
#[derive(Debug, Default)]
pub(crate) struct PdfOcr {
    /// (1-based page, text) for pages OCR read.
    pub read: Vec<(usize, String)>,
    /// Pages that took longer than the page limit.
    pub timed_out: Vec<usize>,
    /// Pages Tesseract or pdftoppm failed on.
    pub failed: Vec<usize>,
    /// Why the first of them failed.
    pub first_failure: Option<String>,
    /// Pages not tried because the budget ran out.
    pub skipped: Vec<usize>,
}

/// Render and recognise `pages` (1-based) of the PDF at `pdf`, in order, within the
/// budget. `progress` hears after every page.
pub(crate) fn pdf_pages(
    cfg: &OcrConfig,
    pdftoppm: &Path,
    pdf: &Path,
    pages: &[usize],
    progress: &mut dyn FnMut(Progress),
) -> PdfOcr {
    let started = Instant::now();
    let mut out = PdfOcr::default();
    let total = pages.len() as u32;
    progress(Progress { done: 0, total });
    for (k, &page) in pages.iter().enumerate() {
        if started.elapsed() >= cfg.budget() {
            out.skipped.extend_from_slice(&pages[k..]);
            break;
        }
        let n = page.to_string();
        let dpi = cfg.dpi.to_string();
        let render = helper(pdftoppm)
            .args(["-r", &dpi, "-png", "-singlefile", "-f", &n, "-l", &n])
            .arg(pdf)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut render = match render {
            Ok(c) => c,
            Err(e) => {
                out.first_failure
                    .get_or_insert(format!("cannot start pdftoppm: {e}"));
                out.failed.push(page);
                continue;
            }
        };
        let image = render
            .stdout
            .take()
            .map(Stdio::from)
            .unwrap_or(Stdio::null());
        // The budget is checked between pages: a page started is finished (or hits its
        // own limit), so at least one page of a long scan is always read.
        match recognise(cfg, image, None, cfg.page_timeout(), Some(&mut render)) {
            Ok(text) => out.read.push((page, text)),
            Err(Failure::TimedOut) => out.timed_out.push(page),
            Err(Failure::Failed(why)) => {
                out.first_failure.get_or_insert(why);
                out.failed.push(page);
            }
        }
        progress(Progress {
            done: k as u32 + 1,
            total,
        });
    }
    out
}

/// OCR of a standalone image (PNG, JPEG, TIFF, WebP; `label` names it in errors): pages (a
/// TIFF may have several) separated by form feeds.
pub(crate) fn image(
    cfg: &OcrConfig,
    label: &str,
    bytes: &[u8],
    progress: &mut dyn FnMut(Progress),
) -> Result<String, ExtractError> {
    if let Ok(size) = imagesize::blob_size(bytes) {
        let pixels = size.width as u64 * size.height as u64;
        if pixels > cfg.max_pixels {
            return Err(ExtractError::ImageTooLarge {
                width: size.width as u64,
                height: size.height as u64,
                max_pixels: cfg.max_pixels,
            });
        }
    }
    progress(Progress { done: 0, total: 1 });
    let limit = cfg.page_timeout();
    let text = recognise(cfg, Stdio::piped(), Some(bytes), limit, None).map_err(|f| match f {
        Failure::TimedOut => ExtractError::Timeout {
            secs: limit.as_secs(),
        },
        Failure::Failed(why) => ExtractError::ImageDamaged {
            format: label.to_owned(),
            reason: why,
        },
    })?;
    progress(Progress { done: 1, total: 1 });
    Ok(text)
}

enum Failure {
    TimedOut,
    Failed(String),
}

/// Most text taken from Tesseract for one input (a page holds a few KB).
const MAX_OCR_TEXT: u64 = 16 * 1024 * 1024;

/// Run Tesseract on `image` (a pipe from `render`, or `bytes` written to its stdin),
/// killing it (and `render`) after `limit`.
fn recognise(
    cfg: &OcrConfig,
    image: Stdio,
    bytes: Option<&[u8]>,
    limit: Duration,
    mut render: Option<&mut Child>,
) -> Result<String, Failure> {
    let mut cmd = helper(&cfg.tesseract);
    if let Some(dir) = &cfg.tessdata {
        cmd.arg("--tessdata-dir").arg(dir);
    }
    let spawned = cmd
        .args(["stdin", "stdout", "-l", &cfg.languages])
        // One thread per page: the worker already runs pages of several files at once.
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(image)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut ocr = match spawned {
        Ok(c) => c,
        Err(e) => {
            if let Some(r) = render.as_deref_mut() {
                let _ = r.kill();
                let _ = r.wait();
            }
            return Err(Failure::Failed(format!("cannot start tesseract: {e}")));
        }
    };
    std::thread::scope(|scope| {
        if let (Some(bytes), Some(mut stdin)) = (bytes, ocr.stdin.take()) {
            scope.spawn(move || {
                let _ = stdin.write_all(bytes);
            });
        }
        let (stdout, stderr) = (ocr.stdout.take(), ocr.stderr.take());
        let reader = scope.spawn(move || read_up_to(stdout, MAX_OCR_TEXT));
        let errors = scope.spawn(move || read_up_to(stderr, 64 * 1024));
        let status = wait_until(&mut ocr, Instant::now() + limit);
        let render_ok = match render {
            Some(r) => {
                if status.is_none() {
                    let _ = r.kill();
                }
                wait_until(r, Instant::now() + Duration::from_secs(2))
                    .or_else(|| {
                        let _ = r.kill();
                        r.wait().ok()
                    })
                    .is_some_and(|s| s.success())
            }
            None => true,
        };
        let Some(status) = status else {
            let _ = ocr.kill();
            let _ = ocr.wait();
            return Err(Failure::TimedOut);
        };
        let text = reader.join().unwrap_or_default();
        let errors = errors.join().unwrap_or_default();
        if !status.success() || !render_ok {
            let why = String::from_utf8_lossy(&errors);
            let why = why
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("it stopped with an error");
            return Err(Failure::Failed(why.trim().chars().take(200).collect()));
        }
        Ok(String::from_utf8_lossy(&text).into_owned())
    })
}

/// A helper program (pdftoppm, tesseract) with a cleared environment that is killed
/// when the thread that started it ends — the extraction child's serving thread, so a
/// helper never outlives a killed or orphaned child.
#[allow(unsafe_code)]
fn helper(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear();
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches only the new process.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    cmd
}

/// Up to `cap` bytes of a pipe (past them the writer blocks, and its time limit ends it).
fn read_up_to(pipe: Option<impl Read>, cap: u64) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(p) = pipe {
        let _ = p.take(cap).read_to_end(&mut out);
    }
    out
}

/// Tesseract's text for one page, tidied: its trailing form feed and blank lines go.
pub(crate) fn tidy(text: &str) -> String {
    text.replace('\x0c', "\n").trim().to_owned()
}
