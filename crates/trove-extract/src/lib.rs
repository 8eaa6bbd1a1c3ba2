//! Bytes in, text out.
//!
//! `trove-extract` turns the bytes of a document into plain text, per format:
//! plain text, Markdown, source code, HTML, PDF, DOCX, CSV and JSON.
//! It is a pure library: no database, no async, no GUI.
//!
//! * [`detect`] sniffs the content first (magic bytes, BOMs, binary heuristics,
//!   HTML tags) and only then looks at the file name's extension.
//! * [`extract`] never panics: every parser call runs under `catch_unwind`, and a
//!   panic becomes [`ExtractError::Crashed`].
//! * Hangs cannot be stopped in-process; [`sandbox`] runs extraction in a child
//!   process with a timeout and a memory cap.
//!
//! PDF text comes out page by page, pages separated by a form feed (`\x0c`),
//! like `pdftotext` does.

mod detect;
mod docx;
mod error;
pub mod file;
mod guard;
mod html;
mod pdf;
pub mod sandbox;
mod text;

pub use detect::detect;
pub use error::ExtractError;
pub use html::extract_html;
pub use text::{decode_declared, decode_text, markdown_title};

use serde::{Deserialize, Serialize};

/// Size limits applied by [`extract`] and [`sandbox::extract_file`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest input file accepted. Default 256 MiB.
    pub max_input_bytes: u64,
    /// Largest extracted text accepted. Default 64 MiB.
    pub max_text_bytes: usize,
    /// Largest total uncompressed size of the parts read from a DOCX (zip bomb guard).
    /// Default 200 MiB.
    pub docx_max_uncompressed: u64,
}

const MIB: u64 = 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 256 * MIB,
            max_text_bytes: 64 * MIB as usize,
            docx_max_uncompressed: 200 * MIB,
        }
    }
}

/// The kind of document, as far as extraction is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    Text,
    Markdown,
    Code,
    Html,
    Pdf,
    Docx,
    Csv,
    Json,
}

impl DocKind {
    /// MIME type of this kind of document.
    pub fn mime(&self) -> &'static str {
        match self {
            DocKind::Text => "text/plain",
            DocKind::Markdown => "text/markdown",
            DocKind::Code => "text/plain",
            DocKind::Html => "text/html",
            DocKind::Pdf => "application/pdf",
            DocKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            DocKind::Csv => "text/csv",
            DocKind::Json => "application/json",
        }
    }

    /// Human-readable name, for the UI.
    pub fn label(&self) -> &'static str {
        match self {
            DocKind::Text => "Plain text",
            DocKind::Markdown => "Markdown",
            DocKind::Code => "Source code",
            DocKind::Html => "HTML",
            DocKind::Pdf => "PDF",
            DocKind::Docx => "Word document",
            DocKind::Csv => "CSV",
            DocKind::Json => "JSON",
        }
    }

    fn is_textual(&self) -> bool {
        !matches!(self, DocKind::Pdf | DocKind::Docx)
    }
}

/// The result of a successful extraction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extracted {
    pub kind: DocKind,
    /// The document's text. Line endings are `\n`. PDF pages are separated by `\x0c`.
    pub text: String,
    /// Title, when the format carries one (HTML `<title>`, PDF/DOCX metadata,
    /// first Markdown heading).
    pub title: Option<String>,
    /// Number of pages (PDF only).
    pub pages: Option<u32>,
    /// Character encoding the text was decoded from (textual formats only), e.g. "UTF-8".
    pub encoding: Option<String>,
    /// Which reader produced the text and what it could not read, when there is a choice
    /// (PDF: "pdf_oxide; pdf-extract for page 3; no text layer on pages 7–9").
    #[serde(default)]
    pub extractor: Option<String>,
}

/// Detect the kind of `bytes` and extract its text.
///
/// Never panics: a panic inside a parser is caught and reported as
/// [`ExtractError::Crashed`].
pub fn extract(
    bytes: &[u8],
    file_name: Option<&str>,
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    if bytes.len() as u64 > limits.max_input_bytes {
        return Err(ExtractError::TooLarge {
            size: bytes.len() as u64,
            limit: limits.max_input_bytes,
        });
    }
    let kind = match guard::run(|| detect(bytes, file_name)) {
        Ok(r) => r?,
        Err(_) => {
            return Err(ExtractError::Crashed {
                format: "file type detection".into(),
            })
        }
    };
    let out = guard::run(|| extract_kind(kind, bytes, limits));
    let extracted = match out {
        Ok(r) => r?,
        Err(_) => {
            return Err(ExtractError::Crashed {
                format: format!("{} text extraction", kind.label()),
            })
        }
    };
    if extracted.text.len() > limits.max_text_bytes {
        return Err(ExtractError::TextTooLarge {
            size: extracted.text.len() as u64,
            limit: limits.max_text_bytes as u64,
        });
    }
    Ok(extracted)
}

fn extract_kind(kind: DocKind, bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    debug_assert!(kind.is_textual() || matches!(kind, DocKind::Pdf | DocKind::Docx));
    match kind {
        DocKind::Pdf => pdf::extract_pdf(bytes),
        DocKind::Docx => docx::extract_docx(bytes, limits),
        DocKind::Html => {
            let (s, enc) = decode_text(bytes)?;
            let mut e = extract_html(&s);
            e.encoding = Some(enc.to_string());
            Ok(e)
        }
        DocKind::Text | DocKind::Markdown | DocKind::Code | DocKind::Csv | DocKind::Json => {
            let (s, enc) = decode_text(bytes)?;
            let text = text::normalize_newlines(s);
            let title = if kind == DocKind::Markdown {
                text::markdown_title(&text)
            } else {
                None
            };
            Ok(Extracted {
                kind,
                text,
                title,
                pages: None,
                encoding: Some(enc.to_string()),
                extractor: None,
            })
        }
    }
}

/// Byte counts in messages: the one convention shared by all of Trove.
pub(crate) use trove_common::size::human_size;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_mime_and_label() {
        assert_eq!(DocKind::Pdf.mime(), "application/pdf");
        assert_eq!(DocKind::Docx.label(), "Word document");
        assert_eq!(
            serde_json::to_string(&DocKind::Markdown).unwrap(),
            "\"markdown\""
        );
    }
}
