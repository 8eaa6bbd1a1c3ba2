//! File type detection: content first, extension second.

use std::io::{Cursor, Read};

use crate::text::{bomless_utf16, looks_binary};
use crate::{DocKind, ExtractError};

const MARKDOWN: &[&str] = &["md", "markdown", "mdown", "mkd", "mkdn", "mdx"];
const HTML: &[&str] = &["html", "htm", "xhtml", "shtml"];
const CSV: &[&str] = &["csv", "tsv"];
const JSON: &[&str] = &["json", "jsonl", "ndjson", "geojson", "jsonc"];
const CODE: &[&str] = &[
    "rs",
    "py",
    "pyi",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "go",
    "c",
    "h",
    "cc",
    "cpp",
    "cxx",
    "hpp",
    "hh",
    "hxx",
    "java",
    "kt",
    "kts",
    "scala",
    "swift",
    "m",
    "mm",
    "cs",
    "fs",
    "rb",
    "php",
    "pl",
    "pm",
    "lua",
    "r",
    "jl",
    "dart",
    "ex",
    "exs",
    "erl",
    "hrl",
    "hs",
    "ml",
    "mli",
    "clj",
    "cljs",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "bat",
    "cmd",
    "toml",
    "yaml",
    "yml",
    "ini",
    "cfg",
    "conf",
    "sql",
    "css",
    "scss",
    "sass",
    "less",
    "xml",
    "svg",
    "vue",
    "svelte",
    "gradle",
    "cmake",
    "mk",
    "proto",
    "graphql",
    "gql",
    "tex",
    "nix",
    "zig",
    "vim",
    "el",
    "lisp",
    "asm",
    "s",
    "diff",
    "patch",
    "dockerfile",
    "tf",
    "hcl",
    "groovy",
    "v",
    "sv",
    "vhd",
    "f90",
    "pas",
    "d",
    "nim",
];
const CODE_NAMES: &[&str] = &[
    "makefile",
    "dockerfile",
    "containerfile",
    "cmakelists.txt",
    "justfile",
    "rakefile",
    "gemfile",
    "vagrantfile",
    "jenkinsfile",
];

/// Lower-cased extension of a file name, if any (`"notes.TXT"` → `"txt"`).
pub(crate) fn extension(file_name: Option<&str>) -> Option<String> {
    let name = base_name(file_name?);
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// How a file was called, for error messages: `.txt`, or the whole name when it
/// has no extension.
fn called(file_name: Option<&str>) -> Option<String> {
    match extension(file_name) {
        Some(ext) => Some(format!(".{ext}")),
        None => file_name.map(|n| base_name(n).to_string()),
    }
}

/// Decide what kind of document `bytes` is.
///
/// Content sniffing comes first: `%PDF`; ZIP containers by what they hold
/// (OpenDocument and EPUB by their `mimetype` entry, DOCX/PPTX/XLSX by their part
/// names); `{\rtf`; known binary formats (named via `infer`), BOMs, binary
/// heuristics (NUL and control bytes), HTML tags, e-mail headers. The extension
/// decides between textual kinds (Markdown, code, CSV, JSON, ...), tells apart the
/// old Office formats (which share one container, OLE2), and gives container formats
/// a chance to explain that they are damaged.
///
/// The first few KiB of a file are enough (a folder scan looks at 8 KiB): ZIP
/// containers are then recognised from the local file headers at their start.
pub fn detect(bytes: &[u8], file_name: Option<&str>) -> Result<DocKind, ExtractError> {
    if bytes.is_empty() {
        return Err(ExtractError::Empty);
    }
    let ext = extension(file_name);
    let ext = ext.as_deref();

    // PDF: the header may be preceded by junk (the spec tolerates up to 1 KiB).
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Ok(DocKind::Pdf);
    }

    if bytes.starts_with(b"PK\x03\x04") {
        return detect_zip(bytes, ext);
    }
    if bytes.starts_with(OLE2) {
        if let Some(kind) = ext.and_then(ole_kind) {
            return Ok(kind);
        }
    }
    if bytes.starts_with(b"{\\rtf") {
        return Ok(DocKind::Rtf);
    }

    let has_bom = encoding_rs::Encoding::for_bom(bytes).is_some();
    if !has_bom {
        if let Some(t) = infer::get(bytes) {
            match t.extension() {
                "png" => return Ok(DocKind::Png),
                "jpg" => return Ok(DocKind::Jpeg),
                "tif" => return Ok(DocKind::Tiff),
                "webp" => return Ok(DocKind::Webp),
                _ => {}
            }
            if t.matcher_type() != infer::MatcherType::Text {
                return Err(unsupported(&t, ext));
            }
        }
        // The extension promises a container format the content is not: let the
        // format's extractor say the file is damaged.
        match ext {
            Some("pdf") => return Ok(DocKind::Pdf),
            Some(e) => {
                if let Some(kind) = zip_kind(e).or_else(|| mail_ext(e)) {
                    return Ok(kind);
                }
            }
            None => {}
        }
        if bomless_utf16(bytes).is_none() && looks_binary(bytes) {
            // Binary, and named as an old Office file: let its reader have a go (old
            // Excel versions are not OLE2 files), or say it is damaged.
            if let Some(kind) = ext.and_then(ole_kind) {
                return Ok(kind);
            }
            return Err(ExtractError::Binary {
                name: called(file_name),
            });
        }
    }

    Ok(textual_kind(bytes, file_name, ext))
}

fn textual_kind(bytes: &[u8], file_name: Option<&str>, ext: Option<&str>) -> DocKind {
    if let Some(e) = ext {
        if let Some(kind) = mail_ext(e) {
            return kind;
        }
        if MARKDOWN.contains(&e) {
            return DocKind::Markdown;
        }
        if HTML.contains(&e) {
            return DocKind::Html;
        }
        if CSV.contains(&e) {
            return DocKind::Csv;
        }
        if JSON.contains(&e) {
            return DocKind::Json;
        }
        if CODE.contains(&e) {
            return DocKind::Code;
        }
    }
    if let Some(name) = file_name {
        if CODE_NAMES.contains(&base_name(name).to_ascii_lowercase().as_str()) {
            return DocKind::Code;
        }
    }
    if looks_like_html(bytes) {
        return DocKind::Html;
    }
    if let Some(kind) = mail_kind(bytes) {
        return kind;
    }
    DocKind::Text
}

/// Starts (after BOM/whitespace/comments) with `<!doctype html`, `<html`, `<head` or `<body`.
fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text: String = match crate::decode_text(head) {
        Ok((s, _)) => s,
        Err(_) => return false,
    };
    let mut t = text.trim_start_matches('\u{feff}').trim_start();
    // skip an XML declaration and comments
    loop {
        if let Some(rest) = t.strip_prefix("<?xml") {
            t = rest.split_once("?>").map_or("", |x| x.1).trim_start();
        } else if let Some(rest) = t.strip_prefix("<!--") {
            t = rest.split_once("-->").map_or("", |x| x.1).trim_start();
        } else {
            break;
        }
    }
    let lower: String = t.chars().take(32).collect::<String>().to_ascii_lowercase();
    ["<!doctype html", "<html", "<head", "<body"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// OLE2 compound file: the container of the old Office formats (and of MSI, MSG, ...).
const OLE2: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";

/// The old Office format an extension names.
fn ole_kind(ext: &str) -> Option<DocKind> {
    match ext {
        "doc" | "dot" => Some(DocKind::Doc),
        "xls" | "xlt" => Some(DocKind::Xls),
        "ppt" | "pps" | "pot" => Some(DocKind::Ppt),
        _ => None,
    }
}

/// The ZIP-based format an extension names.
fn zip_kind(ext: &str) -> Option<DocKind> {
    match ext {
        "docx" | "docm" | "dotx" => Some(DocKind::Docx),
        "pptx" | "pptm" | "ppsx" | "potx" => Some(DocKind::Pptx),
        "xlsx" | "xlsm" | "xltx" => Some(DocKind::Xlsx),
        "odt" | "ott" => Some(DocKind::Odt),
        "odp" | "otp" => Some(DocKind::Odp),
        "ods" | "ots" => Some(DocKind::Ods),
        "epub" => Some(DocKind::Epub),
        _ => None,
    }
}

fn mail_ext(ext: &str) -> Option<DocKind> {
    match ext {
        "eml" => Some(DocKind::Eml),
        "mbox" => Some(DocKind::Mbox),
        _ => None,
    }
}

/// The format a ZIP `mimetype` entry names (OpenDocument, EPUB).
fn mimetype_kind(content: &[u8]) -> Option<DocKind> {
    let end = content
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || b"./+-".contains(b)))
        .unwrap_or(content.len());
    match &content[..end] {
        b"application/vnd.oasis.opendocument.text"
        | b"application/vnd.oasis.opendocument.text-template"
        | b"application/vnd.oasis.opendocument.text-master" => Some(DocKind::Odt),
        b"application/vnd.oasis.opendocument.presentation"
        | b"application/vnd.oasis.opendocument.presentation-template" => Some(DocKind::Odp),
        b"application/vnd.oasis.opendocument.spreadsheet"
        | b"application/vnd.oasis.opendocument.spreadsheet-template" => Some(DocKind::Ods),
        b"application/epub+zip" => Some(DocKind::Epub),
        _ => None,
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// A local file header at `at`: the entry's name, compression method, compressed size
/// and where its data starts.
fn local_header(b: &[u8], at: usize) -> Option<(&[u8], usize, usize, usize)> {
    if b.get(at..at + 4)? != b"PK\x03\x04" {
        return None;
    }
    let method = u16_at(b, at + 8)?;
    let size = u32_at(b, at + 18)?;
    let name_len = u16_at(b, at + 26)?;
    let extra_len = u16_at(b, at + 28)?;
    let name = b.get(at + 30..at + 30 + name_len)?;
    Some((name, method, size, at + 30 + name_len + extra_len))
}

/// OpenDocument and EPUB: a first entry named `mimetype`, stored uncompressed, whose
/// content names the format; readable right in the first local header.
fn first_entry_mimetype(bytes: &[u8]) -> Option<DocKind> {
    let (name, method, size, data) = local_header(bytes, 0)?;
    if name != b"mimetype" || method != 0 {
        return None;
    }
    let content = bytes.get(data..)?;
    let len = if size > 0 { size } else { 128 };
    mimetype_kind(&content[..content.len().min(len).min(128)])
}

/// The OOXML format of a package from its part names: `word/` is a DOCX, `ppt/` a PPTX,
/// `xl/` an XLSX (the first such part decides; embedded documents come later, inside
/// these folders).
fn ooxml_kind<'a>(names: impl IntoIterator<Item = &'a [u8]>) -> Option<DocKind> {
    names.into_iter().find_map(|n| {
        if n.starts_with(b"word/") {
            Some(DocKind::Docx)
        } else if n.starts_with(b"ppt/") {
            Some(DocKind::Pptx)
        } else if n.starts_with(b"xl/") {
            Some(DocKind::Xlsx)
        } else {
            None
        }
    })
}

/// Parts every OOXML package has.
fn is_ooxml_marker(name: &[u8]) -> bool {
    name == b"[Content_Types].xml" || name.starts_with(b"_rels/")
}

/// How much of a ZIP file without a readable central directory is searched for local
/// file headers, and how many of them are looked at.
const LOCAL_SCAN_BYTES: usize = 1024 * 1024;
const LOCAL_SCAN_ENTRIES: usize = 1000;

/// Names of the local file headers found in the start of a ZIP file (all of it when the
/// file was cut to its first few KiB).
fn local_names(bytes: &[u8]) -> Vec<&[u8]> {
    let scan = &bytes[..bytes.len().min(LOCAL_SCAN_BYTES)];
    let mut names = Vec::new();
    let mut at = 0;
    while let Some(i) = scan[at..].windows(4).position(|w| w == b"PK\x03\x04") {
        let pos = at + i;
        if let Some((name, ..)) = local_header(bytes, pos) {
            names.push(name);
            if names.len() >= LOCAL_SCAN_ENTRIES {
                break;
            }
        }
        at = pos + 4;
    }
    names
}

fn detect_zip(bytes: &[u8], ext: Option<&str>) -> Result<DocKind, ExtractError> {
    if let Some(kind) = first_entry_mimetype(bytes) {
        return Ok(kind);
    }
    match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(mut archive) => {
            if archive.index_for_name("word/document.xml").is_some() {
                return Ok(DocKind::Docx);
            }
            if archive.index_for_name("ppt/presentation.xml").is_some() {
                return Ok(DocKind::Pptx);
            }
            if archive.index_for_name("xl/workbook.xml").is_some() {
                return Ok(DocKind::Xlsx);
            }
            if archive.file_names().any(|n| is_ooxml_marker(n.as_bytes())) {
                if let Some(kind) = ooxml_kind(archive.file_names().map(str::as_bytes)) {
                    return Ok(kind);
                }
            }
            // A `mimetype` that is not the first entry, or is compressed: lenient
            // producers write those.
            if let Ok(file) = archive.by_name("mimetype") {
                let mut content = Vec::new();
                if file.take(128).read_to_end(&mut content).is_ok() {
                    if let Some(kind) = mimetype_kind(&content) {
                        return Ok(kind);
                    }
                }
            }
        }
        Err(_) => {
            // Cut short (the first KiB of a file) or damaged: what the local file
            // headers say, else what the name says.
            let names = local_names(bytes);
            let main = names.iter().find_map(|n| match *n {
                b"word/document.xml" => Some(DocKind::Docx),
                b"ppt/presentation.xml" => Some(DocKind::Pptx),
                b"xl/workbook.xml" => Some(DocKind::Xlsx),
                _ => None,
            });
            if let Some(kind) = main {
                return Ok(kind);
            }
            if names.iter().any(|n| is_ooxml_marker(n)) {
                if let Some(kind) = ooxml_kind(names.iter().copied()) {
                    return Ok(kind);
                }
            }
            if let Some(kind) = ext.and_then(zip_kind) {
                return Ok(kind);
            }
        }
    }
    match infer::get(bytes) {
        // infer recognises .docx (.pptx, .odt, ...) by its entries; one without
        // its main part is a damaged one.
        Some(t) => zip_kind(t.extension()).ok_or_else(|| unsupported(&t, ext)),
        None => Err(ExtractError::Unsupported {
            name: "ZIP archive".into(),
            mime: "application/zip".into(),
        }),
    }
}

/// E-mail: a message (RFC 5322 header block first) or an mbox mailbox (a `From ` line,
/// then a message). Conservative, so that prose is never taken for mail: every line up to
/// the first blank one must be a header (or a folded continuation), at least two must be
/// common mail headers, one of them one that only mail has (`From:`, `Received:`,
/// `Message-ID:`, ...), and the header block must end with a blank line, unless the
/// bytes end first (the start of a file) after at least four headers, three common.
fn mail_kind(bytes: &[u8]) -> Option<DocKind> {
    const COMMON: &[&str] = &[
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "received",
        "return-path",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "reply-to",
        "in-reply-to",
        "references",
        "sender",
        "delivered-to",
        "dkim-signature",
        "x-mailer",
        "user-agent",
        "authentication-results",
        "arc-seal",
        "x-original-to",
        "list-id",
        "thread-topic",
        "thread-index",
    ];
    const ONLY_MAIL: &[&str] = &[
        "from",
        "received",
        "message-id",
        "return-path",
        "delivered-to",
        "dkim-signature",
        "x-original-to",
    ];
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    let mut lines: Vec<&str> = text.split('\n').collect();
    // The last piece has no line end: it may be cut anywhere.
    lines.pop();
    let mut lines = lines.into_iter().map(|l| l.strip_suffix('\r').unwrap_or(l));
    let mut first = lines.next()?;
    let mbox = first.starts_with("From ");
    if mbox {
        first = lines.next()?;
    }
    let (mut headers, mut common, mut only_mail, mut ended) = (0usize, 0usize, false, false);
    let mut seen: Vec<String> = Vec::new();
    for line in std::iter::once(first).chain(lines) {
        if line.is_empty() {
            ended = true;
            break;
        }
        if line.starts_with([' ', '\t']) {
            if headers == 0 {
                return None;
            }
            continue;
        }
        let (name, _) = line.split_once(':')?;
        if name.is_empty()
            || name.len() > 76
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return None;
        }
        headers += 1;
        let name = name.to_ascii_lowercase();
        if COMMON.contains(&name.as_str()) && !seen.contains(&name) {
            common += 1;
            only_mail |= ONLY_MAIL.contains(&name.as_str());
            seen.push(name);
        }
    }
    let enough = only_mail && ((common >= 2 && ended) || (common >= 3 && headers >= 4));
    enough.then_some(if mbox { DocKind::Mbox } else { DocKind::Eml })
}

fn unsupported(t: &infer::Type, ext: Option<&str>) -> ExtractError {
    let mime = t.mime_type().to_string();
    // An encrypted .docx/.xlsx is an OLE compound file, not a ZIP.
    if matches!(t.extension(), "doc" | "xls" | "ppt" | "msi" | "cfb")
        && matches!(ext, Some("docx" | "xlsx" | "pptx"))
    {
        return ExtractError::Unsupported {
            name: "password-protected Office document".into(),
            mime,
        };
    }
    ExtractError::Unsupported {
        name: friendly_name(t),
        mime,
    }
}

fn friendly_name(t: &infer::Type) -> String {
    let ext = t.extension();
    let known = match ext {
        "zip" => "ZIP archive",
        "gz" => "gzip archive",
        "tar" => "tar archive",
        "7z" => "7-Zip archive",
        "rar" => "RAR archive",
        "bz2" => "bzip2 archive",
        "xz" => "xz archive",
        "zst" => "Zstandard archive",
        "png" => "PNG image",
        "jpg" => "JPEG image",
        "gif" => "GIF image",
        "webp" => "WebP image",
        "bmp" => "BMP image",
        "tif" => "TIFF image",
        "ico" => "icon image",
        "heif" => "HEIF image",
        "avif" => "AVIF image",
        "psd" => "Photoshop image",
        "mp3" => "MP3 audio",
        "wav" => "WAV audio",
        "flac" => "FLAC audio",
        "ogg" => "Ogg audio",
        "m4a" => "M4A audio",
        "mp4" => "MP4 video",
        "mkv" => "Matroska video",
        "webm" => "WebM video",
        "avi" => "AVI video",
        "mov" => "QuickTime video",
        "exe" | "dll" => "Windows program",
        "elf" => "Linux program",
        "mach" => "macOS program",
        "wasm" => "WebAssembly module",
        "class" => "Java class file",
        "jar" => "Java archive",
        "apk" => "Android app",
        "doc" => "old Word document (.doc)",
        "xls" => "old Excel spreadsheet (.xls)",
        "ppt" => "old PowerPoint presentation (.ppt)",
        "xlsx" => "Excel spreadsheet",
        "pptx" => "PowerPoint presentation",
        "odt" => "OpenDocument text",
        "ods" => "OpenDocument spreadsheet",
        "odp" => "OpenDocument presentation",
        "epub" => "EPUB e-book",
        "mobi" => "Mobipocket e-book",
        "rtf" => "RTF document",
        "sqlite" => "SQLite database",
        "ttf" | "otf" | "woff" | "woff2" => "font",
        "msi" => "Windows installer",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let up = ext.to_ascii_uppercase();
    use infer::MatcherType as M;
    match t.matcher_type() {
        M::Image => format!("{up} image"),
        M::Audio => format!("{up} audio"),
        M::Video => format!("{up} video"),
        M::Archive => format!("{up} archive"),
        M::Font => format!("{up} font"),
        M::Book => format!("{up} e-book"),
        M::Doc => format!("{up} document"),
        M::App => format!("{up} program"),
        _ => format!("{up} file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions() {
        assert_eq!(extension(Some("a/b/Notes.TXT")).as_deref(), Some("txt"));
        assert_eq!(extension(Some(".bashrc")), None);
        assert_eq!(extension(Some("README")), None);
        assert_eq!(extension(None), None);
    }

    #[test]
    fn textual_kinds_by_extension() {
        let b = b"hello";
        assert_eq!(detect(b, Some("x.md")).unwrap(), DocKind::Markdown);
        assert_eq!(detect(b, Some("x.rs")).unwrap(), DocKind::Code);
        assert_eq!(detect(b, Some("Makefile")).unwrap(), DocKind::Code);
        assert_eq!(detect(b, Some("x.csv")).unwrap(), DocKind::Csv);
        assert_eq!(detect(b, Some("x.json")).unwrap(), DocKind::Json);
        assert_eq!(detect(b, Some("x.txt")).unwrap(), DocKind::Text);
        assert_eq!(detect(b, None).unwrap(), DocKind::Text);
        assert_eq!(
            detect(b"<!DOCTYPE html><p>x", Some("x.txt")).unwrap(),
            DocKind::Html
        );
        assert_eq!(detect(b"  <html><body>x", None).unwrap(), DocKind::Html);
        // extension keeps Markdown with inline HTML Markdown
        assert_eq!(detect(b"<html>", Some("x.md")).unwrap(), DocKind::Markdown);
        // content wins over extension
        assert_eq!(detect(b"%PDF-1.4\n", Some("x.txt")).unwrap(), DocKind::Pdf);
    }
}
