//! PDF text via `pdf-extract` (on `lopdf`), page by page, each page isolated.
//!
//! * Encryption is detected up front: a document that cannot be opened with the
//!   empty user password is refused as password-protected (owner-password-only
//!   PDFs, the common "no printing/copying" kind, are read normally).
//! * Each page runs under its own `catch_unwind`, so one page that panics
//!   `pdf-extract` costs that page, not the document.
//! * Hangs cannot be stopped here; see [`crate::sandbox`].

use lopdf::{Document, Object};
use pdf_extract::{output_doc_page, PlainTextOutput};

use crate::guard;
use crate::{DocKind, ExtractError, Extracted};

/// Separator between pages in [`Extracted::text`].
pub(crate) const PAGE_BREAK: char = '\x0c';

pub(crate) fn extract_pdf(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    if !bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        return Err(ExtractError::PdfDamaged {
            reason: "it does not start like a PDF".into(),
        });
    }
    let mut doc = match guard::run(|| Document::load_mem(bytes)) {
        Ok(Ok(doc)) => doc,
        Ok(Err(e)) => {
            if has_encrypt_entry(bytes) {
                return Err(ExtractError::PasswordProtected);
            }
            return Err(ExtractError::PdfDamaged {
                reason: load_reason(&e),
            });
        }
        Err(_) => {
            return Err(ExtractError::Crashed {
                format: "PDF text extraction".into(),
            })
        }
    };

    if doc.is_encrypted() {
        // lopdf decrypts at load time when the empty user password works.
        if doc.encryption_state.is_none() {
            return Err(ExtractError::PasswordProtected);
        }
        // Already decrypted: stop pdf-extract from complaining about it.
        doc.trailer.remove(b"Encrypt");
    }

    let title = guard::run(|| info_title(&doc)).ok().flatten();
    let page_numbers: Vec<u32> = match guard::run(|| doc.get_pages().into_keys().collect()) {
        Ok(p) => p,
        Err(_) => {
            return Err(ExtractError::Crashed {
                format: "PDF text extraction".into(),
            })
        }
    };
    if page_numbers.is_empty() {
        return Err(ExtractError::PdfDamaged {
            reason: "it has no pages".into(),
        });
    }

    let mut pages: Vec<String> = Vec::with_capacity(page_numbers.len());
    let mut panicked = 0usize;
    let mut first_error: Option<String> = None;
    for &n in &page_numbers {
        match guard::run(|| page_text(&doc, n)) {
            Ok(Ok(t)) => pages.push(t),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
                pages.push(String::new());
            }
            Err(_) => {
                panicked += 1;
                pages.push(String::new());
            }
        }
    }

    let has_text = pages.iter().any(|p| p.chars().any(|c| !c.is_whitespace()));
    if !has_text {
        if panicked == page_numbers.len() {
            return Err(ExtractError::Crashed {
                format: "PDF text extraction".into(),
            });
        }
        if let Some(reason) = first_error {
            return Err(ExtractError::PdfDamaged { reason });
        }
        return Err(ExtractError::PdfNoText);
    }

    let mut text = String::with_capacity(pages.iter().map(|p| p.len() + 1).sum());
    for (i, p) in pages.iter().enumerate() {
        if i > 0 {
            text.push(PAGE_BREAK);
        }
        text.push_str(p.trim_matches('\n'));
    }
    Ok(Extracted {
        kind: DocKind::Pdf,
        text,
        title,
        pages: Some(page_numbers.len() as u32),
        encoding: None,
    })
}

fn page_text(doc: &Document, page: u32) -> Result<String, String> {
    let mut s = String::new();
    {
        let mut out = PlainTextOutput::new(&mut s);
        output_doc_page(doc, &mut out, page).map_err(|e| e.to_string())?;
    }
    Ok(s)
}

/// Short, human reason for a load failure.
fn load_reason(e: &lopdf::Error) -> String {
    let s = e.to_string();
    let lower = s.to_ascii_lowercase();
    if lower.contains("xref") || lower.contains("trailer") {
        format!("its cross-reference table is missing or broken: {s}")
    } else {
        s
    }
}

/// Byte scan for `/Encrypt` in a trailer or xref stream dictionary, for files
/// that lopdf cannot load at all.
fn has_encrypt_entry(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(64 * 1024)..];
    tail.windows(8).any(|w| w == b"/Encrypt")
}

fn info_title(doc: &Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let dict = match info {
        Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        Object::Dictionary(d) => d,
        _ => return None,
    };
    let title = match dict.get(b"Title").ok()? {
        Object::String(bytes, _) => decode_pdf_string(bytes),
        _ => return None,
    };
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

/// PDF text strings: UTF-16BE with BOM, UTF-8 with BOM, else PDFDocEncoding
/// (close enough to Latin-1 for titles).
fn decode_pdf_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        encoding_rs::UTF_16BE
            .decode_without_bom_handling(rest)
            .0
            .into_owned()
    } else if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        bytes.iter().map(|&b| b as char).collect()
    }
}
