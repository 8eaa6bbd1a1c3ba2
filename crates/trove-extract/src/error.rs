use serde::{Deserialize, Serialize};

use crate::human_size;

/// Why a file could not be turned into text.
///
/// `Display` is one sentence a person understands; it is shown in the UI as is.
/// The enum is `Clone + Serialize` so it can cross the sandbox boundary as JSON
/// and be stored by the engine.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum ExtractError {
    #[error("file is empty")]
    Empty,

    #[error("file is too large ({}; the limit is {})", human_size(*size), human_size(*limit))]
    TooLarge { size: u64, limit: u64 },

    #[error("extracted text is too large ({}; the limit is {})", human_size(*size), human_size(*limit))]
    TextTooLarge { size: u64, limit: u64 },

    /// A recognised but unsupported file type, e.g. `ZIP archive`, `application/zip`.
    #[error("unsupported file type: {name} ({mime})")]
    Unsupported { name: String, mime: String },

    /// Binary data that is not a recognised format. `name` is what the file was
    /// called (its extension if it has one).
    #[error("binary data that is not text{}", named(name))]
    Binary { name: Option<String> },

    #[error("PDF is password-protected")]
    PasswordProtected,

    #[error("PDF is damaged and could not be read ({reason})")]
    PdfDamaged { reason: String },

    /// OCR ran and found no words either.
    #[error("PDF has no text: its pages are blank, and OCR found no words on them")]
    PdfNoText,

    /// No page has a text layer, and Tesseract is not installed.
    #[error("scanned PDF with no text layer — install tesseract-ocr to read it")]
    ScanNeedsOcr,

    /// No page has a text layer; Tesseract is installed but not poppler's pdftoppm.
    #[error("scanned PDF with no text layer — install poppler-utils (pdftoppm) to read it by OCR")]
    ScanNeedsRenderer,

    /// Every page's text came out as glyph soup (fonts without a Unicode map).
    #[error("PDF text cannot be read: its fonts have no Unicode map — install tesseract-ocr to read it by OCR")]
    PdfUnreadableFonts,

    /// An image, and Tesseract is not installed (`format` is e.g. "PNG image").
    #[error("{format}: images are read by OCR — install tesseract-ocr to read it")]
    ImageNeedsOcr { format: String },

    /// What needs OCR, while the user has turned OCR off.
    #[error("{what} is read by OCR, which is turned off: turn on “Read scans and images” in Settings (or `trove config set ocr on`), then retry")]
    OcrOff { what: String },

    #[error("OCR found no text in this image")]
    ImageNoText,

    #[error("image is {width} × {height} pixels; Trove reads images of up to {} megapixels", max_pixels / 1_000_000)]
    ImageTooLarge {
        width: u64,
        height: u64,
        max_pixels: u64,
    },

    /// Tesseract could not read an image file (`format` is e.g. "PNG image").
    #[error("{format} could not be read — is it damaged? (Tesseract: {reason})")]
    ImageDamaged { format: String, reason: String },

    /// OCR could read none of the pages it tried.
    #[error("OCR failed on every page it tried: {reason}")]
    OcrFailed { reason: String },

    /// The OCR time budget ran out before any page gave text.
    #[error("OCR ran out of time: {done} of {total} pages read in its {} budget, none with text", trove_common::duration::human_duration(std::time::Duration::from_secs(*secs)))]
    OcrBudget { done: u64, total: u64, secs: u64 },

    #[error("Word document is damaged and could not be read ({reason})")]
    DocxDamaged { reason: String },

    #[error("Word document unpacks to more than {} (possible zip bomb)", human_size(*limit))]
    DocxTooLarge { limit: u64 },

    /// An office document or e-book other than DOCX that cannot be read; `format` is its
    /// label, e.g. "OpenDocument text", "PowerPoint presentation", "EPUB e-book".
    #[error("{format} is damaged and could not be read ({reason})")]
    OfficeDamaged { format: String, reason: String },

    /// A ZIP-based document (other than DOCX) whose parts unpack to more than
    /// `Limits::docx_max_uncompressed`.
    #[error("{format} unpacks to more than {} (possible zip bomb)", human_size(*limit))]
    OfficeTooLarge { format: String, limit: u64 },

    /// A parser panicked. `format` is e.g. "PDF text extraction".
    #[error("{format} crashed")]
    Crashed { format: String },

    #[error("extraction took longer than {secs} s and was stopped")]
    Timeout { secs: u64 },

    /// The sandboxed extractor died (signal, out of memory, garbled reply).
    #[error("the extractor crashed while reading this file")]
    ExtractorCrashed { detail: String },

    #[error("file no longer exists at {path}")]
    NotFound { path: String },

    #[error("{path} is a folder, not a file")]
    IsDirectory { path: String },

    #[error("{path} is not a regular file (it is a pipe, a device or a socket)")]
    NotRegular { path: String },

    #[error("permission denied reading {path}")]
    PermissionDenied { path: String },

    /// Transient I/O trouble (disk, network share, interrupted read).
    #[error("could not read the file: {message}")]
    Io { message: String },

    /// The sandbox child could not be started or talked to (transient).
    #[error("could not run the extractor: {message}")]
    Sandbox { message: String },

    /// A workbook with more cells than Trove reads (for XLS and ODS, the grid their
    /// cells' positions span, empty cells included).
    #[error("spreadsheet has {} cells; Trove reads up to {}", trove_common::thousands(*cells), trove_common::thousands(*limit))]
    SheetTooLarge { cells: u64, limit: u64 },

    /// An RTF document whose groups nest deeper than Trove follows.
    #[error("RTF document nests groups more than {limit} deep (is it damaged?)")]
    RtfTooDeep { limit: usize },

    /// An email or mailbox that could not be parsed.
    #[error("email could not be read ({reason})")]
    MailDamaged { reason: String },

    /// An old binary Office file, and LibreOffice is not installed (`what` is e.g.
    /// "old Word document").
    #[error("{what} — install LibreOffice to read it")]
    NeedsLibreOffice { what: String },

    /// LibreOffice could not convert an old binary Office file.
    #[error("{what} could not be read by LibreOffice ({reason})")]
    ConversionFailed { what: String, reason: String },
}

fn named(name: &Option<String>) -> String {
    match name {
        Some(n) => format!(" (named {n})"),
        None => String::new(),
    }
}

impl ExtractError {
    /// `true` when retrying the same file unchanged would fail the same way.
    /// I/O hiccups and sandbox start-up failures are transient.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, ExtractError::Io { .. } | ExtractError::Sandbox { .. })
    }

    pub(crate) fn from_io(e: &std::io::Error, path: &std::path::Path) -> ExtractError {
        let p = path.display().to_string();
        match e.kind() {
            std::io::ErrorKind::NotFound => ExtractError::NotFound { path: p },
            std::io::ErrorKind::PermissionDenied => ExtractError::PermissionDenied { path: p },
            std::io::ErrorKind::IsADirectory => ExtractError::IsDirectory { path: p },
            _ => ExtractError::Io {
                message: e.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_well() {
        let e = ExtractError::TooLarge {
            size: 300 * 1024 * 1024,
            limit: 256 * 1024 * 1024,
        };
        assert_eq!(
            e.to_string(),
            "file is too large (300 MB; the limit is 256 MB)"
        );
        let e = ExtractError::Binary {
            name: Some(".txt".into()),
        };
        assert_eq!(e.to_string(), "binary data that is not text (named .txt)");
        assert_eq!(
            ExtractError::Timeout { secs: 60 }.to_string(),
            "extraction took longer than 60 s and was stopped"
        );
        assert_eq!(
            ExtractError::Crashed {
                format: "PDF text extraction".into()
            }
            .to_string(),
            "PDF text extraction crashed"
        );
        assert!(ExtractError::PasswordProtected.is_permanent());
        assert!(!ExtractError::Io {
            message: "x".into()
        }
        .is_permanent());
    }

    #[test]
    fn roundtrips_through_json() {
        let e = ExtractError::PdfDamaged {
            reason: "no xref".into(),
        };
        let s = serde_json::to_string(&e).unwrap();
        let back: ExtractError = serde_json::from_str(&s).unwrap();
        assert_eq!(back, e);
    }
}
