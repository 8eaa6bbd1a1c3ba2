//! Bytes in, text out.
//!
//! `trove-extract` turns the bytes of a document into plain text, per format:
//! plain text, Markdown, source code, HTML, PDF, CSV and JSON; Word (DOCX and .doc),
//! PowerPoint (PPTX and .ppt), Excel (XLSX and .xls), OpenDocument text, presentations
//! and spreadsheets, RTF, EPUB e-books, e-mail messages and mbox mailboxes.
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
//! like `pdftotext` does; presentations come out slide by slide the same way.

mod detect;
mod docx;
mod epub;
mod error;
pub mod file;
mod guard;
mod html;
mod legacy;
mod mail;
mod ocr;
mod odf;
mod pdf;
mod pptx;
mod rtf;
pub mod sandbox;
mod sheet;
mod text;
mod zipdoc;

pub use detect::detect;
pub use error::ExtractError;
pub use html::extract_html;
pub use ocr::OcrConfig;
pub use text::{decode_declared, decode_text, markdown_title};

use serde::{Deserialize, Serialize};

/// Size limits applied by [`extract`] and [`sandbox::extract_file`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest input file accepted. Default 256 MiB.
    pub max_input_bytes: u64,
    /// Largest extracted text accepted. Default 64 MiB.
    pub max_text_bytes: usize,
    /// Largest total uncompressed size of the parts read from one ZIP-based document
    /// (DOCX, PPTX, XLSX, OpenDocument, EPUB): the zip bomb guard. Default 200 MiB.
    pub docx_max_uncompressed: u64,
    /// How to read scans and images; `None` when Tesseract is not installed (then a PDF
    /// keeps the text layer it has, and images are refused with a hint).
    #[serde(default)]
    pub ocr: Option<OcrConfig>,
    /// OCR is turned off by the user (the `ocr` setting), rather than not installed: what
    /// needs it fails with [`ExtractError::OcrOff`], which says how to turn it back on.
    #[serde(default)]
    pub ocr_off: bool,
}

impl Limits {
    /// The most time OCR may add to one document.
    pub fn ocr_budget(&self) -> std::time::Duration {
        self.ocr
            .as_ref()
            .map_or(std::time::Duration::ZERO, |o| o.budget())
    }
}

/// Progress of long work inside one extraction: pages read by OCR so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub done: u32,
    pub total: u32,
}

const MIB: u64 = 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 256 * MIB,
            max_text_bytes: 64 * MIB as usize,
            docx_max_uncompressed: 200 * MIB,
            ocr: None,
            ocr_off: false,
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
    /// Images, read by OCR.
    Png,
    Jpeg,
    Tiff,
    Webp,
    /// OpenDocument text (.odt).
    Odt,
    /// OpenDocument presentation (.odp): slides are pages.
    Odp,
    /// OpenDocument spreadsheet (.ods).
    Ods,
    /// PowerPoint presentation (.pptx): slides are pages.
    Pptx,
    /// Excel spreadsheet (.xlsx).
    Xlsx,
    /// Excel 97-2003 spreadsheet (.xls).
    Xls,
    /// EPUB e-book.
    Epub,
    /// Rich Text Format.
    Rtf,
    /// One e-mail message (.eml).
    Eml,
    /// A mailbox of messages (mbox).
    Mbox,
    /// Word 97-2003 document (.doc).
    Doc,
    /// PowerPoint 97-2003 presentation (.ppt).
    Ppt,
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
            DocKind::Png => "image/png",
            DocKind::Jpeg => "image/jpeg",
            DocKind::Tiff => "image/tiff",
            DocKind::Webp => "image/webp",
            DocKind::Odt => "application/vnd.oasis.opendocument.text",
            DocKind::Odp => "application/vnd.oasis.opendocument.presentation",
            DocKind::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            DocKind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            DocKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            DocKind::Xls => "application/vnd.ms-excel",
            DocKind::Epub => "application/epub+zip",
            DocKind::Rtf => "application/rtf",
            DocKind::Eml => "message/rfc822",
            DocKind::Mbox => "application/mbox",
            DocKind::Doc => "application/msword",
            DocKind::Ppt => "application/vnd.ms-powerpoint",
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
            DocKind::Png => "PNG image",
            DocKind::Jpeg => "JPEG image",
            DocKind::Tiff => "TIFF image",
            DocKind::Webp => "WebP image",
            DocKind::Odt => "OpenDocument text",
            DocKind::Odp => "OpenDocument presentation",
            DocKind::Ods => "OpenDocument spreadsheet",
            DocKind::Pptx => "PowerPoint presentation",
            DocKind::Xlsx => "Excel spreadsheet",
            DocKind::Xls => "Excel 97-2003 spreadsheet",
            DocKind::Epub => "EPUB e-book",
            DocKind::Rtf => "RTF document",
            DocKind::Eml => "Email message",
            DocKind::Mbox => "Mailbox (mbox)",
            DocKind::Doc => "Word 97-2003 document",
            DocKind::Ppt => "PowerPoint 97-2003 presentation",
        }
    }

    /// Images (read by OCR).
    pub fn is_image(&self) -> bool {
        matches!(
            self,
            DocKind::Png | DocKind::Jpeg | DocKind::Tiff | DocKind::Webp
        )
    }

    /// Kinds whose parser (or OCR) should run in the sandbox child: they may hang, crash
    /// or take long. The old Office formats are read by LibreOffice or by a parser of
    /// an intricate binary format.
    pub fn is_risky(&self) -> bool {
        // Old .doc/.ppt are read by LibreOffice, a process of its own with its own time
        // limit; under the child's caps (1 MiB per written file) a converted deck with
        // pictures could not even be written.
        matches!(self, DocKind::Pdf | DocKind::Xls) || self.is_image()
    }
}

/// The result of a successful extraction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extracted {
    pub kind: DocKind,
    /// The document's text. Line endings are `\n`. PDF pages (and the slides of a
    /// presentation) are separated by `\x0c`.
    pub text: String,
    /// Title, when the format carries one (HTML `<title>`, PDF/Office/EPUB metadata,
    /// an e-mail's subject, first Markdown heading).
    pub title: Option<String>,
    /// Number of pages (PDF) or slides (PPTX, ODP, PPT): the text has that many
    /// `\x0c`-separated parts. `None` for other formats.
    pub pages: Option<u32>,
    /// Character encoding the text was decoded from (textual formats only), e.g. "UTF-8".
    pub encoding: Option<String>,
    /// Which reader produced the text and what it could not read, when there is a choice
    /// (PDF: "pdf_oxide; pdf-extract for page 3; no text layer on pages 7–9").
    #[serde(default)]
    pub extractor: Option<String>,
    /// What the format says about the document, as (label, value) pairs for its details:
    /// an e-mail's From, To, Cc and Date.
    #[serde(default)]
    pub metadata: Vec<(String, String)>,
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
    extract_with_progress(bytes, file_name, None, limits, &mut |_| {})
}

/// Read the file at `path` and extract it, OCR included when [`Limits::ocr`] is set;
/// `progress` hears about OCR pages. This is what the sandbox child runs.
pub fn extract_file_with_progress(
    path: &std::path::Path,
    limits: &Limits,
    progress: &mut dyn FnMut(Progress),
) -> Result<Extracted, ExtractError> {
    let bytes = sandbox::read_file(path, limits)?;
    let name = path.file_name().map(|n| n.to_string_lossy());
    extract_with_progress(&bytes, name.as_deref(), Some(path), limits, progress)
}

/// [`extract`] with OCR progress reports; `path`, when given, is where `bytes` came
/// from (OCR renders PDF pages from it instead of a temporary copy).
pub fn extract_with_progress(
    bytes: &[u8],
    file_name: Option<&str>,
    path: Option<&std::path::Path>,
    limits: &Limits,
    progress: &mut dyn FnMut(Progress),
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
    let out = guard::run(|| extract_kind(kind, bytes, path, limits, progress));
    let extracted = match out {
        Ok(Err(
            ExtractError::ScanNeedsOcr
            | ExtractError::ImageNeedsOcr { .. }
            | ExtractError::PdfUnreadableFonts,
        )) if limits.ocr_off => {
            return Err(ExtractError::OcrOff {
                what: if kind == DocKind::Pdf {
                    "a scanned PDF (or one whose fonts cannot be read)".into()
                } else {
                    kind.label().to_owned()
                },
            })
        }
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

fn extract_kind(
    kind: DocKind,
    bytes: &[u8],
    path: Option<&std::path::Path>,
    limits: &Limits,
    progress: &mut dyn FnMut(Progress),
) -> Result<Extracted, ExtractError> {
    match kind {
        DocKind::Pdf => pdf::extract_pdf(bytes, path, limits.ocr.as_ref(), progress),
        DocKind::Png | DocKind::Jpeg | DocKind::Tiff | DocKind::Webp => {
            let Some(cfg) = limits.ocr.as_ref() else {
                return Err(ExtractError::ImageNeedsOcr {
                    format: kind.label().to_owned(),
                });
            };
            let text = ocr::image(cfg, kind.label(), bytes, progress)?;
            let pages: Vec<String> = text.split('\x0c').map(ocr::tidy).collect();
            let pages: Vec<String> = match pages.iter().rposition(|p| !p.is_empty()) {
                Some(last) => pages[..=last].to_vec(),
                None => return Err(ExtractError::ImageNoText),
            };
            let multi = pages.len() > 1;
            Ok(Extracted {
                kind,
                text: pages.join("\x0c"),
                title: None,
                pages: multi.then_some(pages.len() as u32),
                encoding: None,
                extractor: Some(format!("OCR ({})", cfg.describe())),
                metadata: Vec::new(),
            })
        }
        DocKind::Docx => docx::extract_docx(bytes, limits),
        DocKind::Odt | DocKind::Odp => odf::extract_odf(bytes, kind, limits),
        DocKind::Pptx => pptx::extract_pptx(bytes, limits),
        DocKind::Epub => epub::extract_epub(bytes, limits),
        DocKind::Xlsx | DocKind::Xls | DocKind::Ods => sheet::extract_sheet(bytes, kind, limits),
        DocKind::Rtf => rtf::extract_rtf(bytes, limits),
        DocKind::Eml | DocKind::Mbox => mail::extract_mail(bytes, kind, limits),
        DocKind::Doc | DocKind::Ppt => legacy::extract_legacy(bytes, kind, path, limits),
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
                metadata: Vec::new(),
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
            DocKind::Odp.mime(),
            "application/vnd.oasis.opendocument.presentation"
        );
        assert_eq!(DocKind::Pptx.label(), "PowerPoint presentation");
        assert_eq!(serde_json::to_string(&DocKind::Epub).unwrap(), "\"epub\"");
        assert!(DocKind::Xls.is_risky() && !DocKind::Doc.is_risky() && !DocKind::Ppt.is_risky());
        assert!(!DocKind::Pptx.is_risky() && !DocKind::Eml.is_risky());
        assert_eq!(
            serde_json::to_string(&DocKind::Markdown).unwrap(),
            "\"markdown\""
        );
    }
}
