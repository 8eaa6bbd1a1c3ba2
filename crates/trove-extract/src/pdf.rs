//! PDF text, page by page, each page isolated.
//!
//! * **pdf_oxide** reads first: it opens what poppler opens and places words the way
//!   `pdftotext` does (pdf-extract splits Skia/Google-Docs output into "Exa mp le").
//! * **pdf-extract** (on `lopdf`) is the second opinion: for the whole document when
//!   pdf_oxide cannot open it, and for single pages pdf_oxide fails on, panics on, finds
//!   no text on although the page shows text, or reads as glyph soup.
//! * A page whose text does not read like language ([`looks_like_text`]: control
//!   characters, private-use glyphs, vowel-less "words" from fonts without a Unicode map)
//!   is left out rather than indexed as noise, and reported.
//! * Encryption is explicit: a document that cannot be opened with the empty user
//!   password is refused as password-protected (owner-password-only PDFs, the common
//!   "no printing/copying" kind, are read normally).
//! * Each parser call runs under its own `catch_unwind`; hangs cannot be stopped here,
//!   see [`crate::sandbox`].

use lopdf::{Document, Object};
use pdf_extract::{output_doc, output_doc_page, MediaBox, OutputDev, OutputError, Transform};

use crate::guard;
use crate::ocr::{self, OcrConfig};
use crate::{DocKind, ExtractError, Extracted, Progress};

/// Separator between pages in [`Extracted::text`].
pub(crate) const PAGE_BREAK: char = '\x0c';

/// Deepest array/dictionary nesting accepted (real PDFs stay far below 20).
/// lopdf parses (and drops) objects recursively: a few thousand levels
/// overflow a 2 MiB thread stack, which aborts the process; no `catch_unwind` helps.
pub(crate) const MAX_NESTING: usize = 256;

/// Stack for the PDF worker thread: lopdf and pdf-extract recurse.
const PDF_STACK: usize = 64 * 1024 * 1024;

/// What the text readers made of a PDF, before OCR.
#[derive(Debug)]
pub(crate) struct PdfRead {
    pages: Vec<Page>,
    title: Option<String>,
    panicked: usize,
}

/// A PDF's text, page by page: the text layer, and OCR for pages without one when `ocr`
/// is configured (see [`finish`]).
pub(crate) fn extract_pdf(
    bytes: &[u8],
    path: Option<&std::path::Path>,
    ocr: Option<&OcrConfig>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Extracted, ExtractError> {
    finish(read_pdf(bytes)?, bytes, path, ocr, progress)
}

/// Read a PDF's text layer on a thread with a large stack (see [`MAX_NESTING`]).
pub(crate) fn read_pdf(bytes: &[u8]) -> Result<PdfRead, ExtractError> {
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

fn extract_pdf_here(bytes: &[u8]) -> Result<PdfRead, ExtractError> {
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
    match guard::run(|| pdf_oxide::PdfDocument::from_bytes(bytes.to_vec())) {
        Ok(Ok(doc)) => match with_oxide(&doc, bytes) {
            Some(r) => r,
            None => with_pdf_extract(bytes),
        },
        // pdf_oxide could not open it (or panicked): pdf-extract's reading decides.
        _ => with_pdf_extract(bytes),
    }
}

/// Most pages a PDF may claim (pdf_oxide accepts a `/Count` of millions).
const MAX_PAGES: usize = 100_000;
/// Consecutive pages pdf_oxide fails on before pdf-extract reads the whole document.
const FAILED_RUN: usize = 32;

/// Which program read a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Oxide,
    PdfExtract,
}

/// What became of one page.
#[derive(Debug)]
enum Page {
    Text(String, Reader),
    /// No text-showing operators: an image-only (scanned) or blank page.
    NoTextLayer,
    /// Both readers ran and found no text.
    Empty,
    /// Text that does not read like language even after the second opinion.
    Unreadable,
    /// Both readers failed or panicked.
    Failed,
    /// Read by OCR.
    Ocr(String),
}

impl Page {
    /// A page with no usable text layer, which OCR may read.
    fn wants_ocr(&self) -> bool {
        matches!(self, Page::NoTextLayer | Page::Unreadable | Page::Empty)
    }
}

/// Read with pdf_oxide, asking pdf-extract about the pages it gets wrong. `None` when
/// pdf_oxide cannot even count the pages: pdf-extract then reads the whole document.
fn with_oxide(doc: &pdf_oxide::PdfDocument, bytes: &[u8]) -> Option<Result<PdfRead, ExtractError>> {
    if guard::run(|| doc.is_encrypted()).unwrap_or(true) {
        match guard::run(|| doc.authenticate(b"")) {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => return Some(Err(ExtractError::PasswordProtected)),
            // An encryption pdf_oxide does not handle: lopdf decides.
            _ => return None,
        }
    }
    let count = match guard::run(|| doc.page_count()) {
        Ok(Ok(n)) if n > 0 && n <= MAX_PAGES => n,
        _ => return None,
    };
    let mut pages: Vec<Page> = Vec::with_capacity(count);
    let mut panicked = 0usize;
    // One page at a time: pdf_oxide 0.3.78's document is `Sync`, but reading its pages from
    // two threads made the last page of a 300-page scan fail (tests/pdf.rs, OCR budget).
    for i in 0..count {
        // A damaged page tree can claim pages that are not there: after a run of pages
        // that all fail, let pdf-extract read the document its own way.
        if i >= FAILED_RUN
            && pages[i - FAILED_RUN..]
                .iter()
                .all(|p| matches!(p, Page::Failed))
        {
            return None;
        }
        let (page, page_panicked) = oxide_page(doc, i);
        panicked += usize::from(page_panicked);
        pages.push(page);
    }
    let ask: Vec<usize> = (0..count)
        .filter(|&i| matches!(pages[i], Page::Unreadable | Page::Empty | Page::Failed))
        .collect();
    if !ask.is_empty() {
        for (i, text) in second_opinion(bytes, &ask) {
            if has_text(&text) && looks_like_text(&text) {
                pages[i] = Page::Text(text, Reader::PdfExtract);
            }
        }
    }
    let title = guard::run(|| oxide_title(doc)).ok().flatten();
    Some(Ok(PdfRead {
        pages,
        title,
        panicked,
    }))
}

/// One page through pdf_oxide, panics contained.
fn oxide_page(doc: &pdf_oxide::PdfDocument, i: usize) -> (Page, bool) {
    match guard::run(|| doc.extract_text(i)) {
        Ok(Ok(t)) if has_text(&t) && looks_like_text(&t) => (Page::Text(t, Reader::Oxide), false),
        Ok(Ok(t))
            if !has_text(&t)
                && !guard::run(|| doc.has_text_layer(i)).map_or(true, |r| r.unwrap_or(true)) =>
        {
            (Page::NoTextLayer, false)
        }
        Ok(Ok(t)) if has_text(&t) => (Page::Unreadable, false),
        Ok(Ok(_)) => (Page::Empty, false),
        Ok(Err(_)) => (Page::Failed, false),
        Err(_) => (Page::Failed, true),
    }
}

/// What OCR did for a document.
#[derive(Debug)]
enum OcrDone {
    /// No page needed it.
    NotNeeded,
    /// Tesseract is not installed.
    Unavailable,
    /// Tesseract is there, but not poppler's pdftoppm to render the pages.
    NoRenderer,
    Ran {
        describe: String,
        budget_secs: u64,
        result: ocr::PdfOcr,
    },
}

/// OCR the pages without a usable text layer (when Tesseract is there), then join the
/// pages. `path` is the PDF on disk for `pdftoppm` (written to a private temporary file
/// from `bytes` when `None`).
pub(crate) fn finish(
    mut read: PdfRead,
    bytes: &[u8],
    path: Option<&std::path::Path>,
    ocr_cfg: Option<&OcrConfig>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Extracted, ExtractError> {
    let wanted: Vec<usize> = read
        .pages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.wants_ocr())
        .map(|(i, _)| i + 1)
        .collect();
    let tools = ocr_cfg.and_then(|c| Some((c, c.pdftoppm.clone()?)));
    let done = match (wanted.is_empty(), tools) {
        (true, _) => OcrDone::NotNeeded,
        (false, None) if ocr_cfg.is_some() => OcrDone::NoRenderer,
        (false, None) => OcrDone::Unavailable,
        (false, Some((cfg, pdftoppm))) => {
            let tmp;
            let pdf = match path {
                Some(p) => p,
                None => {
                    tmp = temp_copy(bytes)?;
                    tmp.path()
                }
            };
            let result = ocr::pdf_pages(cfg, &pdftoppm, pdf, &wanted, progress);
            for (n, text) in &result.read {
                let text = ocr::tidy(text);
                read.pages[n - 1] = if has_text(&text) {
                    Page::Ocr(text)
                } else {
                    Page::Empty
                };
            }
            OcrDone::Ran {
                describe: cfg.describe(),
                budget_secs: cfg.budget_secs,
                result,
            }
        }
    };
    assemble(read, done)
}

fn temp_copy(bytes: &[u8]) -> Result<tempfile::NamedTempFile, ExtractError> {
    let io = |e: std::io::Error| ExtractError::Io {
        message: format!("cannot write a temporary copy for OCR: {e}"),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix("trove-ocr-")
        .suffix(".pdf")
        .tempfile()
        .map_err(io)?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(io)?;
    Ok(tmp)
}

/// Join the pages (form feed between them), or say why there is no text at all.
fn assemble(read: PdfRead, ocr_done: OcrDone) -> Result<Extracted, ExtractError> {
    let PdfRead {
        pages,
        title,
        panicked,
    } = read;
    let count = pages.len();
    let numbers = |want: &dyn Fn(&Page) -> bool| -> Vec<usize> {
        pages
            .iter()
            .enumerate()
            .filter(|(_, p)| want(p))
            .map(|(i, _)| i + 1)
            .collect()
    };
    let second = numbers(&|p| matches!(p, Page::Text(_, Reader::PdfExtract)));
    let first = numbers(&|p| matches!(p, Page::Text(_, Reader::Oxide)));
    let no_layer = numbers(&|p| matches!(p, Page::NoTextLayer));
    let unreadable = numbers(&|p| matches!(p, Page::Unreadable));
    let failed = numbers(&|p| matches!(p, Page::Failed));
    let empty = numbers(&|p| matches!(p, Page::Empty));
    let by_ocr = numbers(&|p| matches!(p, Page::Ocr(_)));
    if first.is_empty() && second.is_empty() && by_ocr.is_empty() {
        return Err(
            if let OcrDone::Ran {
                result,
                budget_secs,
                ..
            } = &ocr_done
            {
                if result.read.is_empty()
                    && result.skipped.is_empty()
                    && (!result.failed.is_empty() || !result.timed_out.is_empty())
                {
                    ExtractError::OcrFailed {
                        reason: result
                            .first_failure
                            .clone()
                            .unwrap_or_else(|| "every page took longer than its limit".into()),
                    }
                } else if result.skipped.is_empty() {
                    ExtractError::PdfNoText
                } else {
                    ExtractError::OcrBudget {
                        done: result.read.len() as u64,
                        total: (result.read.len()
                            + result.timed_out.len()
                            + result.failed.len()
                            + result.skipped.len()) as u64,
                        secs: *budget_secs,
                    }
                }
            } else if !unreadable.is_empty() && no_layer.is_empty() {
                ExtractError::PdfUnreadableFonts
            } else if !failed.is_empty() && failed.len() + no_layer.len() == count {
                if panicked > 0 {
                    ExtractError::Crashed {
                        format: "PDF text extraction".into(),
                    }
                } else {
                    ExtractError::PdfDamaged {
                        reason: "no page could be read".into(),
                    }
                }
            } else if matches!(ocr_done, OcrDone::NoRenderer) {
                ExtractError::ScanNeedsRenderer
            } else {
                ExtractError::ScanNeedsOcr
            },
        );
    }
    let mut parts = Vec::new();
    match (first.is_empty(), second.is_empty()) {
        (false, true) => parts.push("pdf_oxide".to_owned()),
        (true, false) => parts.push("pdf-extract".to_owned()),
        (false, false) => parts.push(format!("pdf_oxide; pdf-extract for {}", page_list(&second))),
        (true, true) => {}
    }
    match &ocr_done {
        OcrDone::Ran {
            describe,
            budget_secs,
            result,
        } => {
            if !by_ocr.is_empty() {
                let n = by_ocr.len();
                let noun = if n == 1 { "page" } else { "pages" };
                parts.push(format!("{n} {noun} read by OCR ({describe})"));
            }
            if !result.timed_out.is_empty() {
                parts.push(format!(
                    "OCR took too long on {}",
                    page_list(&result.timed_out)
                ));
            }
            if !result.failed.is_empty() {
                let why = result.first_failure.as_deref().unwrap_or("no reason given");
                parts.push(format!(
                    "OCR failed on {} ({why})",
                    page_list(&result.failed)
                ));
            }
            if !result.skipped.is_empty() {
                parts.push(format!(
                    "OCR stopped at its time budget ({}): {} not read",
                    trove_common::duration::human_duration(std::time::Duration::from_secs(
                        *budget_secs
                    )),
                    page_list(&result.skipped)
                ));
            }
            if !empty.is_empty() {
                parts.push(format!("no text found on {}", page_list(&empty)));
            }
        }
        OcrDone::Unavailable | OcrDone::NoRenderer | OcrDone::NotNeeded => {
            let hint = if matches!(ocr_done, OcrDone::NoRenderer) {
                " (install poppler-utils to read them by OCR)"
            } else if matches!(ocr_done, OcrDone::Unavailable) {
                " (install tesseract-ocr to read them)"
            } else {
                ""
            };
            if !no_layer.is_empty() {
                parts.push(format!("no text layer on {}{hint}", page_list(&no_layer)));
            }
            if !empty.is_empty() {
                parts.push(format!("no text found on {}", page_list(&empty)));
            }
            if !unreadable.is_empty() {
                parts.push(format!(
                    "unreadable text (fonts without a Unicode map) on {}{hint}",
                    page_list(&unreadable)
                ));
            }
        }
    }
    if !failed.is_empty() {
        parts.push(format!("could not read {}", page_list(&failed)));
    }
    let mut text = String::new();
    for (i, p) in pages.into_iter().enumerate() {
        if i > 0 {
            text.push(PAGE_BREAK);
        }
        if let Page::Text(t, _) | Page::Ocr(t) = p {
            // A form feed inside a page would read as one more page break.
            text.push_str(
                &t.trim_matches(|c: char| c == '\n' || c == PAGE_BREAK)
                    .replace(PAGE_BREAK, "\n"),
            );
        }
    }
    Ok(Extracted {
        kind: DocKind::Pdf,
        text,
        title,
        pages: Some(count as u32),
        encoding: None,
        extractor: Some(parts.join("; ")),
        metadata: Vec::new(),
    })
}

/// "page 3", "pages 2, 5–9", at most a dozen runs shown.
fn page_list(pages: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &p in pages {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == p => *end = p,
            _ => runs.push((p, p)),
        }
    }
    let shown: Vec<String> = runs
        .iter()
        .take(12)
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect();
    let more = if runs.len() > 12 { ", …" } else { "" };
    let noun = if pages.len() == 1 { "page" } else { "pages" };
    format!("{noun} {}{more}", shown.join(", "))
}

fn has_text(s: &str) -> bool {
    s.chars().any(|c| !c.is_whitespace())
}

/// Whether a page's text reads like language rather than glyph soup: a font without a
/// Unicode map yields control characters, private-use code points or shifted letters
/// ("H{dpsoh grfxphqw" for "Example document"). Only lower-case words made of letters are
/// judged, so tables, acronyms, code and links pass.
/// A font whose codes run from `!` in order of first use comes out as punctuation
/// ("!\"#$%&'#(%)*+*'&"): a page of at least 8 visible characters where fewer than half
/// are letters or digits is not text. Only ASCII punctuation counts against it, less
/// leaders and rules (`....`, `----`, `|`, `+`): tables of contents, drawn tables, maths and
/// box drawing pass; code stays well above half.
pub(crate) fn looks_like_text(s: &str) -> bool {
    let (mut visible, mut junk, mut alnum, mut punct) = (0usize, 0usize, 0usize, 0usize);
    for c in s.chars().filter(|c| !c.is_whitespace()) {
        visible += 1;
        if c.is_control() || c == '\u{FFFD}' || ('\u{E000}'..='\u{F8FF}').contains(&c) {
            junk += 1;
        }
        alnum += usize::from(c.is_alphanumeric());
        punct += usize::from(
            c.is_ascii_punctuation() && !matches!(c, '.' | '-' | '_' | '=' | '|' | '+'),
        );
    }
    let judged = alnum + punct;
    if junk * 5 > visible || (judged >= 8 && alnum * 2 < judged) {
        return false;
    }
    let (mut letters, mut vowels) = (0usize, 0usize);
    for token in s.split_whitespace() {
        let t = token.trim_matches(|c: char| !c.is_alphanumeric());
        if t.chars().count() < 3
            || !t.chars().any(char::is_lowercase)
            || !t.chars().all(char::is_alphabetic)
        {
            continue;
        }
        for c in t.chars() {
            letters += 1;
            // Accented letters (Vietnamese, French…) are mostly vowels; other scripts
            // are not judged by this rule.
            vowels += usize::from(!c.is_ascii() || "aeiouyAEIOUY".contains(c));
        }
    }
    // Languages written in Latin letters have about 40 % vowels; shifted glyphs about 15 %.
    letters < 40 || vowels * 4 >= letters
}

/// The document title from the Info dictionary, as pdf_oxide resolves it.
fn oxide_title(doc: &pdf_oxide::PdfDocument) -> Option<String> {
    let info = doc.trailer().as_dict()?.get("Info")?;
    let info = doc.resolve_object(info).ok()?;
    let title = info.as_dict()?.get("Title")?;
    let title = doc.resolve_object(title).ok()?;
    clean_title(&decode_pdf_string(title.as_string()?))
}

fn clean_title(title: &str) -> Option<String> {
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

/// pdf-extract's reading of some pages (0-based indexes), each page isolated. Pages it
/// cannot read are left out.
fn second_opinion(bytes: &[u8], pages: &[usize]) -> Vec<(usize, String)> {
    let Some(doc) = load_lopdf(bytes).ok() else {
        return Vec::new();
    };
    let Ok(numbers) = guard::run(|| doc.get_pages().into_keys().collect::<Vec<u32>>()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for &i in pages {
        let Some(&n) = numbers.get(i) else { continue };
        let mut dev = PagedText::default();
        if let Ok(Ok(())) = guard::run(|| output_doc_page(&doc, &mut dev, n)) {
            if let Some((_, t)) = dev.pages.pop() {
                out.push((i, t));
            }
        }
    }
    out
}

/// Load with lopdf, decrypting with the empty user password when that works.
fn load_lopdf(bytes: &[u8]) -> Result<Document, ExtractError> {
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
    Ok(doc)
}

/// The whole document through pdf-extract (when pdf_oxide cannot open it).
fn with_pdf_extract(bytes: &[u8]) -> Result<PdfRead, ExtractError> {
    let doc = load_lopdf(bytes)?;
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

    if !pages.iter().any(|p| has_text(p)) {
        if panicked > 0 && failed.len() == page_numbers.len() {
            return Err(ExtractError::Crashed {
                format: "PDF text extraction".into(),
            });
        }
        if let Some(reason) = first_error {
            return Err(ExtractError::PdfDamaged { reason });
        }
    }
    let pages = page_numbers
        .iter()
        .zip(pages)
        .map(|(n, t)| {
            if has_text(&t) {
                Page::Text(t, Reader::PdfExtract)
            } else if failed.contains(n) {
                Page::Failed
            } else {
                Page::Empty
            }
        })
        .collect();
    Ok(PdfRead {
        pages,
        title,
        panicked,
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
    clean_title(&title)
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

    #[test]
    fn language_passes_the_gibberish_guard() {
        for ok in [
            "Although practicality beats purity, special cases aren't special enough.",
            "Species Count Quokka 1204 Wombat 87 Total 1291 2026-01-01 3.14 42 %",
            "Der Kormoran brütet an der Küste; les oiseaux reviennent chaque année.",
            "鸬鹚在海岸筑巢。 カワウは海岸に巣を作る。 Баклан гнездится на побережье.",
            "Chim cốc làm tổ trên bờ biển. Những người tình nguyện đếm chúng vào lúc bình minh mỗi ngày, rồi ghi lại số lượng trong sổ tay của trạm quan sát.",
            "def page_spans(text: str) -> list[int]:\n    return [m.start() for m in re.finditer('\\f', text)]\n# https://example.org/a_b/c?d=1 https://x.y/z_w",
            "short",
            "",
        ] {
            assert!(looks_like_text(ok), "{ok:?}");
        }
    }

    #[test]
    fn punctuation_soup_fails_the_gibberish_guard_and_code_passes() {
        // A Type 3 font with codes from 0x21 and no ToUnicode (tests/fixtures/pdf/no-tounicode.pdf).
        assert!(!looks_like_text(
            "!\"#$%&’#(%)*+*’&,’-\n./’+/%&&’#+0\"-&+\"#+1),’+\"#’+%2+/\"-#20\",,*’3"
        ));
        assert!(looks_like_text(
            "fn main() { let v: Vec<u32> = (0..10).map(|x| x * 2).collect(); println!(\"{v:?}\"); }"
        ));
        assert!(looks_like_text(
            "| Year | Count |\n|------|-------|\n| 2024 | 1,204 |\n| 2025 | 87 |"
        ));
        assert!(!looks_like_text("9'5\"#&+2/''(+!\"#$%&"));
        assert!(looks_like_text("Q&A: 2024–25 (draft)"));
        assert!(looks_like_text("∀ε>0 ∃δ>0 : |x−a|<δ ⇒ |f(x)−f(a)|<ε"));
        assert!(looks_like_text(
            "┌───┬───┐\n│ 1 │ 2 │\n├───┼───┤\n│ 3 │ 4 │\n└───┴───┘\n+---+---+\n| 5 | 6 |"
        ));
        assert!(looks_like_text(
            "Chapter 1 — — — — — — — 12\nChapter 2 — — — — — — — 31"
        ));
        assert!(looks_like_text(
            "Contents\nIntroduction ........................ 1\nMethods ............................. 7"
        ));
    }

    #[test]
    fn glyph_soup_fails_the_gibberish_guard() {
        // Caesar-shifted letters, as a font whose codes are glyph ids yields.
        let shifted = "H{dpsoh grfxphqw# Dowkrxjk sudfwlfdolw| ehdwv sxulw|/ vshfldo fdvhv duhq*w vshfldo hqrxjk wr euhdn wkh uxohv1";
        assert!(!looks_like_text(shifted));
        let controls: String = "\u{1}\u{2}\u{5}\u{8} \u{11}\u{12}\u{3}".repeat(20);
        assert!(!looks_like_text(&controls));
        let private: String = "\u{E001}\u{E002}\u{E003} ".repeat(30);
        assert!(!looks_like_text(&private));
    }

    /// The whole-document fallback keeps pdf-extract's panics contained (pdf_oxide reads
    /// this file; pdf-extract 0.10 panics on its page without a MediaBox).
    #[test]
    fn the_fallback_reader_contains_its_panics() {
        let pdf = include_bytes!("../tests/fixtures/panics-pdf-extract.pdf");
        assert_eq!(
            with_pdf_extract(pdf).unwrap_err().to_string(),
            "PDF text extraction crashed"
        );
        let read = extract_pdf(pdf, None, None, &mut |_| {}).unwrap();
        assert_eq!(read.extractor.as_deref(), Some("pdf_oxide"));
    }

    #[test]
    fn page_lists_are_short() {
        assert_eq!(page_list(&[3]), "page 3");
        assert_eq!(page_list(&[2, 5, 6, 7, 9]), "pages 2, 5–7, 9");
        let many: Vec<usize> = (1..=60).step_by(2).collect();
        assert!(page_list(&many).ends_with(", …"));
    }
}
