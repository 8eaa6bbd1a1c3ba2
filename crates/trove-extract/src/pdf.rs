//! PDF text via `pdf-extract` (on `lopdf`), page by page, each page isolated.
//!
//! * Encryption is detected up front: a document that cannot be opened with the
//!   empty user password is refused as password-protected (owner-password-only
//!   PDFs, the common "no printing/copying" kind, are read normally).
//! * Each page runs under its own `catch_unwind`, so one page that panics
//!   `pdf-extract` costs that page, not the document.
//! * Hangs cannot be stopped here; see [`crate::sandbox`].

use lopdf::{Document, Object};
use pdf_extract::{output_doc, output_doc_page, MediaBox, OutputDev, OutputError, Transform};

use crate::guard;
use crate::{DocKind, ExtractError, Extracted};

/// Separator between pages in [`Extracted::text`].
pub(crate) const PAGE_BREAK: char = '\x0c';

/// Deepest array/dictionary nesting accepted (real PDFs stay far below 20).
/// lopdf parses (and drops) objects recursively: a few thousand levels
/// overflow a 2 MiB thread stack, which aborts the process; no `catch_unwind` helps.
pub(crate) const MAX_NESTING: usize = 256;

/// Stack for the PDF worker thread: lopdf and pdf-extract recurse.
const PDF_STACK: usize = 64 * 1024 * 1024;

/// Extract a PDF on a thread with a large stack (see [`MAX_NESTING`]).
pub(crate) fn extract_pdf(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("trove-extract-pdf".into())
            .stack_size(PDF_STACK)
            .spawn_scoped(scope, || extract_pdf_here(bytes));
        match worker {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(ExtractError::Crashed {
                    format: "PDF text extraction".into(),
                })
            }),
            // Could not start a thread (resource limits): do it here.
            Err(_) => extract_pdf_here(bytes),
        }
    })
}

fn extract_pdf_here(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    if !bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        return Err(ExtractError::PdfDamaged {
            reason: "it does not start like a PDF".into(),
        });
    }
    if nesting_depth(bytes) > MAX_NESTING {
        return Err(ExtractError::PdfDamaged {
            reason: "its objects are nested too deeply".into(),
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

    // Fast path: the whole document in one pass, pages recorded as they end.
    // If a page panics or fails, it is left empty and the remaining pages are
    // done one by one, each isolated (slower: pdf-extract walks the page tree
    // for every single-page call).
    let mut dev = PagedText::default();
    let mut failed: Vec<u32> = Vec::new();
    let mut panicked = 0usize;
    let mut first_error: Option<String> = None;
    let whole = guard::run(|| output_doc(&doc, &mut dev));
    if !matches!(whole, Ok(Ok(()))) {
        match whole {
            Ok(Err(e)) => {
                first_error = Some(e.to_string());
            }
            _ => panicked += 1,
        }
        let bad = dev.current.take().map(|(n, _)| n).or_else(|| {
            let last_done = dev.pages.last().map(|p| p.0);
            page_numbers
                .iter()
                .copied()
                .find(|&n| last_done.is_none_or(|d| n > d))
        });
        if let Some(bad) = bad {
            failed.push(bad);
            for &n in page_numbers.iter().filter(|&&n| n > bad) {
                match guard::run(|| output_doc_page(&doc, &mut dev, n)) {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        first_error.get_or_insert(e.to_string());
                        failed.push(n);
                    }
                    Err(_) => {
                        panicked += 1;
                        failed.push(n);
                    }
                }
                dev.current = None;
            }
        }
    }
    let mut done: std::collections::HashMap<u32, String> = dev.pages.into_iter().collect();
    let pages: Vec<String> = page_numbers
        .iter()
        .map(|n| done.remove(n).unwrap_or_default())
        .collect();
    debug_assert!(failed.len() <= page_numbers.len());

    let has_text = pages.iter().any(|p| p.chars().any(|c| !c.is_whitespace()));
    if !has_text {
        if panicked > 0 && failed.len() == page_numbers.len() {
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

/// Plain-text output device that keeps pages apart.
///
/// The character placement heuristics are those of pdf-extract's
/// `PlainTextOutput` (line break when the baseline moves by more than 1.5× the
/// font size or when going back left and down; a space when the gap exceeds
/// 0.1× the font size), with the page flip done by hand.
struct PagedText {
    /// Finished pages: (page number, text).
    pages: Vec<(u32, String)>,
    /// The page being written.
    current: Option<(u32, String)>,
    page_height: f64,
    last_end: f64,
    last_y: f64,
    first_char: bool,
}

impl Default for PagedText {
    fn default() -> Self {
        PagedText {
            pages: Vec::new(),
            current: None,
            page_height: 0.0,
            last_end: 100_000.0,
            last_y: 0.0,
            first_char: false,
        }
    }
}

impl OutputDev for PagedText {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.current = Some((page_num, String::new()));
        self.page_height = media_box.ury - media_box.lly;
        self.last_end = 100_000.0;
        self.last_y = 0.0;
        self.first_char = false;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        if let Some(page) = self.current.take() {
            self.pages.push(page);
        }
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        ch: &str,
    ) -> Result<(), OutputError> {
        let Some((_, out)) = self.current.as_mut() else {
            return Ok(());
        };
        // Position after flipping the page vertically (y grows downwards).
        let x = trm.m31;
        let y = self.page_height - trm.m32;
        let vx = font_size * trm.m11 + font_size * trm.m21;
        let vy = font_size * trm.m12 + font_size * trm.m22;
        let size = (vx * vy).sqrt();
        if self.first_char {
            if (y - self.last_y).abs() > size * 1.5 {
                out.push('\n');
            }
            if x < self.last_end && (y - self.last_y).abs() > size * 0.5 {
                out.push('\n');
            }
            if x > self.last_end + size * 0.1 {
                out.push(' ');
            }
        }
        out.push_str(ch);
        self.first_char = false;
        self.last_y = y;
        self.last_end = x + width * size;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.first_char = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
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

/// Deepest `[`/`<<` nesting in the file's own syntax, skipping stream data,
/// strings and comments. One linear pass. Objects inside compressed object
/// streams are not seen (the sandbox covers those).
pub(crate) fn nesting_depth(b: &[u8]) -> usize {
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' => depth = depth.saturating_sub(1),
            b'<' if b.get(i + 1) == Some(&b'<') => {
                depth += 1;
                max = max.max(depth);
                i += 1;
            }
            b'>' if b.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'<' => {
                // hex string
                i += b[i..]
                    .iter()
                    .position(|&c| c == b'>')
                    .unwrap_or(b.len() - i);
            }
            b'%' => {
                i += b[i..]
                    .iter()
                    .position(|&c| c == b'\n' || c == b'\r')
                    .unwrap_or(b.len() - i);
            }
            b'(' => {
                let mut parens = 0usize;
                while i < b.len() {
                    match b[i] {
                        b'\\' => i += 1,
                        b'(' => parens += 1,
                        b')' => {
                            parens -= 1;
                            if parens == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            b's' if b[i..].starts_with(b"stream")
                && matches!(b.get(i + 6), Some(b'\r' | b'\n')) =>
            {
                i += find(&b[i..], b"endstream").map_or(b.len() - i, |p| p + 9);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    max
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting() {
        assert_eq!(nesting_depth(b"<< /A [1 [2] (a[[[[) <5b5b> % [[[\n] >>"), 3);
        assert_eq!(
            nesting_depth(b"1 0 obj << /Length 3 >> stream\n[[[\nendstream [ ]"),
            1
        );
        assert_eq!(nesting_depth(&[b'['; 10_000]), 10_000);
        assert_eq!(nesting_depth(b"(unbalanced \\) ( [[[[ )"), 0);
    }
}
