//! File type detection: content first, extension second.

use std::io::Cursor;

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
/// Content sniffing comes first: `%PDF`, a ZIP holding `word/document.xml`,
/// known binary formats (named via `infer`), BOMs, binary heuristics (NUL and
/// control bytes), HTML tags. The extension decides between textual kinds
/// (Markdown, code, CSV, JSON, ...) and gives PDF/DOCX a chance to explain
/// that they are damaged.
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
            Some("docx") => return Ok(DocKind::Docx),
            _ => {}
        }
        if bomless_utf16(bytes).is_none() && looks_binary(bytes) {
            return Err(ExtractError::Binary {
                name: called(file_name),
            });
        }
    }

    Ok(textual_kind(bytes, file_name, ext))
}

fn textual_kind(bytes: &[u8], file_name: Option<&str>, ext: Option<&str>) -> DocKind {
    if let Some(e) = ext {
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

fn detect_zip(bytes: &[u8], ext: Option<&str>) -> Result<DocKind, ExtractError> {
    match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(archive) => {
            if archive.index_for_name("word/document.xml").is_some() {
                return Ok(DocKind::Docx);
            }
        }
        Err(_) if ext == Some("docx") => return Ok(DocKind::Docx),
        Err(_) => {}
    }
    match infer::get(bytes) {
        // infer recognises .docx by its entries; a .docx without
        // word/document.xml is a damaged one.
        Some(t) if t.extension() == "docx" => Ok(DocKind::Docx),
        Some(t) => Err(unsupported(&t, ext)),
        None => Err(ExtractError::Unsupported {
            name: "ZIP archive".into(),
            mime: "application/zip".into(),
        }),
    }
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
