//! Old binary Office documents (Word `.doc`, PowerPoint `.ppt`; Excel `.xls` when
//! calamine cannot read it) through LibreOffice.
//!
//! Trove does not link LibreOffice: it runs `soffice` (package `libreoffice-core` and
//! the `libreoffice-writer` / `libreoffice-impress` / `libreoffice-calc` modules), found
//! on `PATH` like Tesseract is, headless, with a throw-away profile in a temporary folder
//! (so conversions never touch the user's LibreOffice settings and may run side by side)
//! and a time limit ([`TIMEOUT`]) after which its whole process group is killed.
//! * `.doc`: `soffice --cat` prints the document's text on stdout (no file written);
//! * `.ppt`: converted to ODP in the temporary folder, whose `content.xml` is read here,
//!   one slide per page;
//! * `.xls`: converted to XLSX and read by [`crate::sheet`].
//!
//! The input filter is named, so a damaged file is refused instead of being opened as
//! plain text. Input given as bytes without a path is written to the temporary folder.

use std::ffi::OsString;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use quick_xml::events::Event;

use crate::{DocKind, ExtractError, Extracted, Limits};

/// Time one conversion may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

/// Address-space cap for LibreOffice (it is not lowered below what is already set).
const SOFFICE_MEMORY: u64 = 3 * 1024 * 1024 * 1024;

/// Largest file LibreOffice may write (its profile and the converted file).
const SOFFICE_FILE_SIZE: u64 = 512 * 1024 * 1024;

struct Format {
    /// "old Word document": how messages name it.
    what: &'static str,
    /// LibreOffice's import filter.
    filter: &'static str,
    ext: &'static str,
}

fn format(kind: DocKind) -> Option<Format> {
    Some(match kind {
        DocKind::Doc => Format {
            what: "old Word document",
            filter: "MS Word 97",
            ext: "doc",
        },
        DocKind::Ppt => Format {
            what: "old PowerPoint presentation",
            filter: "MS PowerPoint 97",
            ext: "ppt",
        },
        DocKind::Xls => Format {
            what: "old Excel spreadsheet",
            filter: "MS Excel 97",
            ext: "xls",
        },
        _ => return None,
    })
}

pub(crate) fn extract_legacy(
    bytes: &[u8],
    kind: DocKind,
    path: Option<&Path>,
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    let Some(fmt) = format(kind) else {
        return Err(ExtractError::Unsupported {
            name: kind.label().to_owned(),
            mime: kind.mime().to_owned(),
        });
    };
    let Some(soffice) = find_program("soffice").or_else(|| find_program("libreoffice")) else {
        return Err(ExtractError::NeedsLibreOffice {
            what: fmt.what.to_owned(),
        });
    };
    let failed = |reason: String| ExtractError::ConversionFailed {
        what: fmt.what.to_owned(),
        reason: reason.chars().take(300).collect(),
    };
    let dir = tempfile::Builder::new()
        .prefix("trove-soffice-")
        .tempdir()
        .map_err(|e| failed(format!("cannot make a temporary folder: {e}")))?;
    let input = match path {
        Some(p) => std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()),
        None => {
            let p = dir.path().join(format!("input.{}", fmt.ext));
            std::fs::write(&p, bytes)
                .map_err(|e| failed(format!("cannot write a temporary copy: {e}")))?;
            p
        }
    };
    let out_dir = dir.path().join("out");
    let mut args: Vec<OsString> = vec![
        "--headless".into(),
        "--invisible".into(),
        "--norestore".into(),
        "--nologo".into(),
        "--nodefault".into(),
        "--nolockcheck".into(),
        format!(
            "-env:UserInstallation={}",
            file_url(&dir.path().join("profile"))
        )
        .into(),
        format!("--infilter={}", fmt.filter).into(),
    ];
    match kind {
        DocKind::Doc => args.push("--cat".into()),
        DocKind::Ppt => args.extend(["--convert-to".into(), "odp".into()]),
        _ => args.extend(["--convert-to".into(), "xlsx".into()]),
    }
    if kind != DocKind::Doc {
        args.extend(["--outdir".into(), out_dir.clone().into_os_string()]);
    }
    args.push(input.into_os_string());

    // The text and a few bytes more (a BOM, and one past the limit to tell it is over).
    let cap = (limits.max_text_bytes as u64).saturating_add(4);
    let run = run(&soffice, &args, dir.path(), TIMEOUT, cap).map_err(|e| match e {
        RunError::Start(e) => failed(format!("cannot start soffice: {e}")),
        RunError::TimedOut => ExtractError::Timeout {
            secs: TIMEOUT.as_secs(),
        },
    })?;
    // soffice exits with 0 after most failures; what went wrong is on stderr.
    let error = run
        .stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Error"))
        .map(|l| l.trim_start_matches("Error:").trim().to_owned());
    if !run.success {
        return Err(failed(error.unwrap_or_else(|| run.status.clone())));
    }
    if let Some(e) = error {
        return Err(failed(e));
    }
    match kind {
        DocKind::Doc => {
            let text = run
                .stdout
                .strip_prefix(b"\xef\xbb\xbf")
                .unwrap_or(&run.stdout);
            if text.len() > limits.max_text_bytes {
                return Err(ExtractError::TextTooLarge {
                    size: text.len() as u64,
                    limit: limits.max_text_bytes as u64,
                });
            }
            let text = crate::text::normalize_newlines(String::from_utf8_lossy(text).into_owned());
            Ok(Extracted {
                kind,
                text: tidy(&text),
                title: None,
                pages: None,
                encoding: None,
                extractor: Some("LibreOffice".into()),
                metadata: Vec::new(),
            })
        }
        DocKind::Ppt => {
            let odp = read_output(&out_dir, "odp").map_err(failed)?;
            let mut e = odp_text(&odp, limits).map_err(failed)?;
            e.kind = kind;
            Ok(e)
        }
        _ => {
            let xlsx = read_output(&out_dir, "xlsx").map_err(failed)?;
            let mut e = crate::sheet::extract_sheet(&xlsx, DocKind::Xlsx, limits)?;
            e.kind = kind;
            e.extractor = Some("LibreOffice".into());
            Ok(e)
        }
    }
}

/// The one file with extension `ext` that soffice wrote to `dir`.
fn read_output(dir: &Path, ext: &str) -> Result<Vec<u8>, String> {
    let found = std::fs::read_dir(dir)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == ext));
    let Some(p) = found else {
        return Err("LibreOffice wrote no converted file".into());
    };
    std::fs::read(&p).map_err(|e| format!("cannot read the converted file: {e}"))
}

/// Trailing blanks on lines go, and blank lines at the ends.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.trim_matches('\n').to_owned()
}

/// Text of an ODP presentation: one page per slide (`draw:page`), one line per
/// paragraph, speaker notes included; the title from `meta.xml`.
fn odp_text(odp: &[u8], limits: &Limits) -> Result<Extracted, String> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(odp)).map_err(|e| format!("bad converted file: {e}"))?;
    let mut budget = limits.docx_max_uncompressed;
    let content = read_part(&mut zip, "content.xml", &mut budget)?
        .ok_or("the converted file has no content.xml")?;
    let mut reader = quick_xml::Reader::from_reader(&content[..]);
    reader.config_mut().trim_text(false);
    let mut slides: Vec<String> = Vec::new();
    let mut slide: Option<String> = None;
    let mut para = 0usize;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("the converted file is not valid XML: {e}"))?;
        match ev {
            Event::Start(e) => match e.local_name().as_ref() {
                b"page" => slide = Some(String::new()),
                b"p" | b"h" => para += 1,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"page" => {
                    if let Some(s) = slide.take() {
                        slides.push(tidy(&s));
                    }
                }
                b"p" | b"h" => {
                    para = para.saturating_sub(1);
                    if let Some(s) = slide.as_mut() {
                        s.push('\n');
                    }
                }
                _ => {}
            },
            Event::Empty(e) if para > 0 => {
                if let Some(s) = slide.as_mut() {
                    match e.local_name().as_ref() {
                        b"tab" => s.push('\t'),
                        b"line-break" => s.push('\n'),
                        b"s" => s.push(' '),
                        _ => {}
                    }
                }
            }
            Event::Text(t) if para > 0 => {
                if let Some(s) = slide.as_mut() {
                    let t = t.xml_content().map_err(|e| format!("bad text: {e}"))?;
                    s.push_str(&t);
                }
            }
            Event::GeneralRef(r) if para > 0 => {
                if let Some(s) = slide.as_mut() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        s.push(c);
                    } else if let Ok(name) = r.decode() {
                        if let Some(v) = quick_xml::escape::resolve_predefined_entity(&name) {
                            s.push_str(v);
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let title = read_part(&mut zip, "meta.xml", &mut budget)
        .ok()
        .flatten()
        .and_then(|m| meta_title(&m));
    let pages = slides.len() as u32;
    Ok(Extracted {
        kind: DocKind::Ppt,
        text: slides.join("\x0c"),
        title,
        pages: (pages > 0).then_some(pages),
        encoding: None,
        extractor: Some("LibreOffice".into()),
        metadata: Vec::new(),
    })
}

fn read_part(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    budget: &mut u64,
) -> Result<Option<Vec<u8>>, String> {
    let file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(format!("cannot open {name}: {e}")),
    };
    let mut buf = Vec::new();
    file.take(budget.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot unpack {name}: {e}"))?;
    if buf.len() as u64 > *budget {
        return Err("the converted file is too large".into());
    }
    *budget -= buf.len() as u64;
    Ok(Some(buf))
}

/// `dc:title` of an OpenDocument `meta.xml`.
fn meta_title(xml: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut in_title = false;
    let mut title = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if e.local_name().as_ref() == b"title" => in_title = true,
            Event::End(e) if e.local_name().as_ref() == b"title" => break,
            Event::Text(t) if in_title => title.push_str(&t.xml_content().ok()?),
            Event::GeneralRef(r) if in_title => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    title.push(c);
                } else if let Ok(name) = r.decode() {
                    title.push_str(quick_xml::escape::resolve_predefined_entity(&name)?);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

/// A `file://` URL for a local path, unusual bytes percent-encoded.
fn file_url(p: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut url = String::from("file://");
    for &b in p.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// A program on `PATH`, or in the usual places (as [`crate::ocr`] finds Tesseract).
fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            [
                "/usr/bin",
                "/usr/local/bin",
                "/bin",
                "/opt/libreoffice/program",
            ]
            .map(PathBuf::from),
        )
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

enum RunError {
    Start(std::io::Error),
    TimedOut,
}

struct Run {
    success: bool,
    status: String,
    stdout: Vec<u8>,
    stderr: String,
}

/// Run `program` in its own process group with a cleared environment, killing the whole
/// group after `limit` (and once it has exited, so nothing it started lingers).
#[allow(unsafe_code)]
fn run(
    program: &Path,
    args: &[OsString],
    home: &Path,
    limit: Duration,
    stdout_cap: u64,
) -> Result<Run, RunError> {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("TMPDIR", home)
        .env("LANG", "C.UTF-8")
        .args(args)
        .current_dir(home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: prctl, getrlimit and setrlimit are async-signal-safe system calls that touch
    // only the new process.
    unsafe {
        cmd.pre_exec(|| {
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            lower_limit(Resource::AddressSpace, SOFFICE_MEMORY);
            lower_limit(Resource::FileSize, SOFFICE_FILE_SIZE);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(RunError::Start)?;
    let pgid = child.id() as libc::pid_t;
    let kill_group = || {
        // SAFETY: signals the process group this function started, and nothing else.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    };
    std::thread::scope(|scope| {
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let out = scope.spawn(move || read_up_to(stdout, stdout_cap));
        let err = scope.spawn(move || read_up_to(stderr, 64 * 1024));
        let status = crate::sandbox::wait_until(&mut child, Instant::now() + limit);
        kill_group();
        let Some(status) = status else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunError::TimedOut);
        };
        let stdout = out.join().unwrap_or_default();
        let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
        Ok(Run {
            success: status.success(),
            status: describe(&status),
            stdout,
            stderr,
        })
    })
}

fn describe(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(libc::SIGXFSZ) => "LibreOffice tried to write a file larger than allowed".into(),
        Some(sig) => format!("LibreOffice was killed by signal {sig}"),
        None => format!("LibreOffice stopped with {status}"),
    }
}

#[derive(Clone, Copy)]
enum Resource {
    AddressSpace,
    FileSize,
}

/// Lower a resource limit to `value` unless it is lower already.
#[allow(unsafe_code)]
fn lower_limit(which: Resource, value: u64) {
    let resource = match which {
        Resource::AddressSpace => libc::RLIMIT_AS,
        Resource::FileSize => libc::RLIMIT_FSIZE,
    };
    // SAFETY: getrlimit/setrlimit read and write only the struct passed.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(resource, &mut lim) != 0 {
            return;
        }
        let value = value as libc::rlim_t;
        if lim.rlim_cur == libc::RLIM_INFINITY || lim.rlim_cur > value {
            lim.rlim_cur = value;
            libc::setrlimit(resource, &lim);
        }
    }
}

/// Up to `cap` bytes of a pipe; the rest is left (the writer then fails or is killed).
fn read_up_to(pipe: Option<impl Read>, cap: u64) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(p) = pipe {
        let _ = p.take(cap).read_to_end(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_titles() {
        assert_eq!(
            file_url(Path::new("/tmp/a b/ü")),
            "file:///tmp/a%20b/%C3%BC"
        );
        let meta = br#"<office:document-meta><office:meta><dc:title>Deck &amp; notes</dc:title></office:meta></office:document-meta>"#;
        assert_eq!(meta_title(meta).as_deref(), Some("Deck & notes"));
    }
}
