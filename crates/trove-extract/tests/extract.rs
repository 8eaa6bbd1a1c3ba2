//! End-to-end behaviour of `extract()` and `detect()` on generated inputs.

#[path = "support/pdfgen.rs"]
mod pdfgen;

use std::io::Write;

use pdfgen::{make_pdf, prose_pdf, PdfSpec};
use trove_extract::{decode_text, detect, extract, extract_html, DocKind, ExtractError, Limits};

fn ex(bytes: &[u8], name: &str) -> Result<trove_extract::Extracted, ExtractError> {
    extract(bytes, Some(name), &Limits::default())
}

fn err(bytes: &[u8], name: &str) -> ExtractError {
    match ex(bytes, name) {
        Ok(e) => panic!("expected an error for {name}, got {:?}", e.kind),
        Err(e) => e,
    }
}

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

// ---------------------------------------------------------------- generic

#[test]
fn empty_file() {
    let e = err(b"", "notes.txt");
    assert_eq!(e, ExtractError::Empty);
    assert_eq!(e.to_string(), "file is empty");
    assert!(e.is_permanent());
    assert_eq!(detect(b"", None), Err(ExtractError::Empty));
}

#[test]
fn input_size_limit() {
    let limits = Limits {
        max_input_bytes: 10,
        ..Limits::default()
    };
    let e = extract(b"hello world, longer than ten", Some("a.txt"), &limits).unwrap_err();
    assert_eq!(
        e.to_string(),
        "file is too large (28 bytes; the limit is 10 bytes)"
    );
}

#[test]
fn text_size_limit() {
    let limits = Limits {
        max_text_bytes: 5,
        ..Limits::default()
    };
    let e = extract(b"hello world", Some("a.txt"), &limits).unwrap_err();
    assert!(matches!(e, ExtractError::TextTooLarge { .. }), "{e}");
}

// ---------------------------------------------------------------- text

#[test]
fn plain_utf8_and_kinds() {
    let e = ex("Grüße\r\nline two\n".as_bytes(), "a.txt").unwrap();
    assert_eq!(e.kind, DocKind::Text);
    assert_eq!(e.text, "Grüße\nline two\n");
    assert_eq!(e.encoding.as_deref(), Some("UTF-8"));

    let e = ex(b"# Title here\n\nbody", "README.md").unwrap();
    assert_eq!(e.kind, DocKind::Markdown);
    assert_eq!(e.title.as_deref(), Some("Title here"));

    assert_eq!(ex(b"fn main() {}", "main.rs").unwrap().kind, DocKind::Code);
    assert_eq!(ex(b"a,b\n1,2\n", "t.csv").unwrap().kind, DocKind::Csv);
    let j = ex(b"{\"a\": 1}", "t.json").unwrap();
    assert_eq!((j.kind, j.text.as_str()), (DocKind::Json, "{\"a\": 1}"));
}

#[test]
fn latin1_text_is_decoded() {
    let bytes = b"Le caf\xe9 \xe9tait d\xe9j\xe0 servi, la cr\xe8me br\xfbl\xe9e aussi. \
                  \xc0 bient\xf4t, ch\xe8re amie. No\xebl approche.";
    let e = ex(bytes, "lettre.txt").unwrap();
    assert!(e.text.contains("café"), "{}", e.text);
    assert!(e.text.contains("crème brûlée"), "{}", e.text);
    assert_eq!(e.encoding.as_deref(), Some("windows-1252"));
    // invalid UTF-8 without a name is text too, not binary
    assert_eq!(detect(bytes, None).unwrap(), DocKind::Text);
}

#[test]
fn utf16_with_bom() {
    let s = "Ünïcödé text, 日本語\nsecond line";
    let mut le = vec![0xFF, 0xFE];
    le.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let mut be = vec![0xFE, 0xFF];
    be.extend(s.encode_utf16().flat_map(|u| u.to_be_bytes()));

    let e = ex(&le, "u.txt").unwrap();
    assert_eq!(
        (e.text.as_str(), e.encoding.as_deref()),
        (s, Some("UTF-16LE"))
    );
    let e = ex(&be, "u.txt").unwrap();
    assert_eq!(
        (e.text.as_str(), e.encoding.as_deref()),
        (s, Some("UTF-16BE"))
    );
    let (t, enc) = decode_text(&le).unwrap();
    assert_eq!((t.as_str(), enc), (s, "UTF-16LE"));
    // UTF-8 BOM is stripped
    let e = ex(b"\xEF\xBB\xBFhi", "b.txt").unwrap();
    assert_eq!(e.text, "hi");
}

#[test]
fn binary_named_txt_is_refused() {
    let mut bytes = b"looks like text at first".to_vec();
    bytes.extend((0u8..=255).cycle().take(4000));
    let e = err(&bytes, "report.txt");
    assert_eq!(e.to_string(), "binary data that is not text (named .txt)");
    assert!(e.is_permanent());
    let e = detect(&bytes, None).unwrap_err();
    assert_eq!(e.to_string(), "binary data that is not text");
    assert!(matches!(
        decode_text(&bytes),
        Err(ExtractError::Binary { .. })
    ));
}

#[test]
fn unsupported_types_are_named() {
    let gif =
        b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";
    let e = err(gif, "photo.txt");
    assert_eq!(
        e.to_string(),
        "unsupported file type: GIF image (image/gif)"
    );
    // PNG, JPEG, TIFF and WebP are read by OCR; without Tesseract configured they say so.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    assert_eq!(detect(png, Some("photo.txt")), Ok(DocKind::Png));
    let e = err(png, "photo.txt");
    assert_eq!(
        e.to_string(),
        "PNG image: images are read by OCR — install tesseract-ocr to read it"
    );
    // Turned off by the user: the message says so instead.
    let off = Limits {
        ocr_off: true,
        ..Limits::default()
    };
    let e = extract(png, Some("photo.png"), &off).unwrap_err();
    assert!(matches!(e, ExtractError::OcrOff { .. }), "{e}");
    assert!(e.to_string().contains("turned off"), "{e}");

    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file("hello.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(b"hello").unwrap();
        z.finish().unwrap();
    }
    let e = err(buf.get_ref(), "stuff.zip");
    assert_eq!(
        e.to_string(),
        "unsupported file type: ZIP archive (application/zip)"
    );
    assert!(e.is_permanent());
}

// ---------------------------------------------------------------- HTML

#[test]
fn html_scripts_and_styles_are_stripped() {
    let html = b"<!DOCTYPE html><html><head><title>Recipe &amp; notes</title>\
        <style>body { color: red }</style><script>alert('x')</script></head>\
        <body><nav>Home</nav><h1>Pancakes</h1><p>Mix   the\n flour.</p>\
        <script type=\"text/javascript\">var secret = 1;</script>\
        <noscript>enable JS</noscript><ul><li>eggs</li><li>milk</li></ul></body></html>";
    let e = ex(html, "page.html").unwrap();
    assert_eq!(e.kind, DocKind::Html);
    assert_eq!(e.title.as_deref(), Some("Recipe & notes"));
    assert_eq!(e.text, "Home\n\nPancakes\n\nMix the flour.\n\neggs\nmilk");
    for bad in ["alert", "secret", "color", "enable JS"] {
        assert!(!e.text.contains(bad), "{bad} leaked: {}", e.text);
    }
    // sniffed without extension
    assert_eq!(ex(html, "download").unwrap().kind, DocKind::Html);
    assert_eq!(extract_html("<p>a</p><p>b</p>").text, "a\n\nb");
}

// ---------------------------------------------------------------- DOCX

fn make_docx(document_xml: &[u8], extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("[Content_Types].xml", opts).unwrap();
        z.write_all(b"<?xml version=\"1.0\"?><Types/>").unwrap();
        z.start_file("word/document.xml", opts).unwrap();
        z.write_all(document_xml).unwrap();
        for (name, data) in extra {
            z.start_file(*name, opts).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

const W: &str = "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"";

#[test]
fn docx_paragraphs_become_lines() {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document {W}><w:body>\
         <w:p><w:r><w:t>First paragraph</w:t></w:r><w:r><w:t xml:space=\"preserve\"> continues.</w:t></w:r></w:p>\
         <w:p><w:r><w:t>Caf\u{e9} &amp; cr\u{e8}me</w:t><w:tab/><w:t>tabbed</w:t></w:r></w:p>\
         <w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell</w:t></w:r></w:p></w:tc></w:tr></w:tbl>\
         </w:body></w:document>"
    );
    let core = b"<cp:coreProperties xmlns:cp=\"c\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>Quarterly</dc:title></cp:coreProperties>";
    let docx = make_docx(xml.as_bytes(), &[("docProps/core.xml", core)]);
    assert_eq!(detect(&docx, None).unwrap(), DocKind::Docx);
    let e = ex(&docx, "report.docx").unwrap();
    assert_eq!(e.kind, DocKind::Docx);
    assert_eq!(
        e.text,
        "First paragraph continues.\nCafé & crème\ttabbed\ncell"
    );
    assert_eq!(e.title.as_deref(), Some("Quarterly"));
}

#[test]
fn docx_zip_bomb_is_refused() {
    // 8 MiB of one repeated paragraph compresses to a few KiB.
    let para = format!("<w:p><w:r><w:t>{}</w:t></w:r></w:p>", "a".repeat(1000));
    let mut xml = format!("<w:document {W}><w:body>");
    while xml.len() < 8 * 1024 * 1024 {
        xml.push_str(&para);
    }
    xml.push_str("</w:body></w:document>");
    let docx = make_docx(xml.as_bytes(), &[]);
    assert!(docx.len() < 200 * 1024, "compressed size {}", docx.len());
    let limits = Limits {
        docx_max_uncompressed: 4 * 1024 * 1024,
        ..Limits::default()
    };
    let e = extract(&docx, Some("bomb.docx"), &limits).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Word document unpacks to more than 4 MB (possible zip bomb)"
    );
    // The same file within the limit is fine.
    let ok = extract(&docx, Some("bomb.docx"), &Limits::default()).unwrap();
    assert!(ok.text.len() > 7 * 1024 * 1024);
}

#[test]
fn damaged_docx() {
    let e = err(b"this is not a zip file at all", "broken.docx");
    assert!(
        e.to_string()
            .starts_with("Word document is damaged and could not be read"),
        "{e}"
    );
    let docx = make_docx(b"<w:document><w:body><w:p><w:t>unclosed", &[]);
    let e = err(&docx, "broken.docx");
    assert!(matches!(e, ExtractError::DocxDamaged { .. }), "{e}");
}

// ---------------------------------------------------------------- PDF

#[test]
fn valid_pdf_text_is_extracted() {
    let pdf = make_pdf(&PdfSpec {
        pages: vec![
            lines(&["Hello from page one", "second line"]),
            lines(&["Page two says goodbye"]),
        ],
        title: Some("Generated Doc".into()),
        ..Default::default()
    });
    assert_eq!(detect(&pdf, Some("x.bin")).unwrap(), DocKind::Pdf);
    let e = ex(&pdf, "doc.pdf").unwrap();
    assert_eq!(e.kind, DocKind::Pdf);
    assert_eq!(e.pages, Some(2));
    assert_eq!(e.title.as_deref(), Some("Generated Doc"));
    let pages: Vec<&str> = e.text.split('\x0c').collect();
    assert_eq!(pages.len(), 2, "{:?}", e.text);
    assert!(pages[0].contains("Hello from page one"), "{:?}", pages[0]);
    assert!(pages[0].contains("second line"), "{:?}", pages[0]);
    assert!(pages[1].contains("Page two says goodbye"), "{:?}", pages[1]);
}

#[test]
fn corrupt_pdf() {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    let mut x: u32 = 12345;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push(x as u8);
    }
    let e = err(&bytes, "random.pdf");
    assert!(
        e.to_string()
            .starts_with("PDF is damaged and could not be read ("),
        "{e}"
    );
    assert!(e.is_permanent());
}

/// Half a file: pdf_oxide rebuilds what it can and the whole pages are kept (poppler
/// refuses such a file). A file cut before its first page is still "damaged".
#[test]
fn truncated_pdf() {
    let pdf = prose_pdf(6, 30);
    let whole = ex(&pdf, "whole.pdf").unwrap();
    let first_page = whole.text.split('\x0c').next().unwrap().to_owned();
    let half = ex(&pdf[..pdf.len() / 2], "cut.pdf").unwrap();
    assert!(
        half.text.contains(first_page.trim()),
        "{:?}\nvs\n{first_page:?}",
        half.text
    );
    let e = err(&pdf[..200], "cut.pdf");
    assert!(
        e.to_string()
            .starts_with("PDF is damaged and could not be read ("),
        "{e}"
    );
}

#[test]
fn not_a_pdf_named_pdf() {
    let e = err(b"just some words", "fake.pdf");
    assert_eq!(
        e.to_string(),
        "PDF is damaged and could not be read (it does not start like a PDF)"
    );
}

#[test]
fn encrypted_pdf_fixture() {
    // Generated with: qpdf --encrypt secret owner 256 -- plain.pdf encrypted-user.pdf
    let e = err(&fixture("encrypted-user.pdf"), "locked.pdf");
    assert_eq!(e, ExtractError::PasswordProtected);
    assert_eq!(e.to_string(), "PDF is password-protected");
}

#[test]
fn owner_password_only_pdf_is_readable() {
    // Generated with: qpdf --encrypt "" owner 256 -- plain.pdf encrypted-owner.pdf
    let e = ex(&fixture("encrypted-owner.pdf"), "restricted.pdf").unwrap();
    assert!(e.text.contains("Hello from page one"), "{:?}", e.text);
}

#[test]
fn encrypted_pdf_made_with_qpdf() {
    if std::process::Command::new("qpdf")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("qpdf not installed; the committed fixture covers this case");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.pdf");
    std::fs::write(&plain, prose_pdf(2, 5)).unwrap();
    for (bits, name) in [
        ("256", "aes256.pdf"),
        ("128", "rc4-128.pdf"),
        ("40", "rc4-40.pdf"),
    ] {
        let out = dir.path().join(name);
        let st = std::process::Command::new("qpdf")
            .args([
                "--allow-weak-crypto",
                "--encrypt",
                "user",
                "owner",
                bits,
                "--",
            ])
            .arg(&plain)
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success(), "qpdf failed for {bits}");
        let e = err(&std::fs::read(&out).unwrap(), name);
        assert_eq!(e.to_string(), "PDF is password-protected", "{bits}-bit");
    }
}

#[test]
fn scanned_pdf_without_text() {
    let pdf = make_pdf(&PdfSpec {
        pages: vec![vec![], vec![]],
        ..Default::default()
    });
    let e = err(&pdf, "scan.pdf");
    assert_eq!(
        e.to_string(),
        "scanned PDF with no text layer — install tesseract-ocr to read it"
    );
    // With Tesseract, blank pages are blank.
    let Some(ocr) = trove_extract::OcrConfig::discover("eng") else {
        eprintln!("skipped the OCR half: no tesseract");
        return;
    };
    let limits = Limits {
        ocr: Some(ocr),
        ..Limits::default()
    };
    let e = extract(&pdf, Some("scan.pdf"), &limits).unwrap_err();
    assert_eq!(
        e.to_string(),
        "PDF has no text: its pages are blank, and OCR found no words on them"
    );
    // Tesseract without poppler's pdftoppm: the hint names the missing package.
    let no_renderer = Limits {
        ocr: Some(trove_extract::OcrConfig {
            pdftoppm: None,
            ..limits.ocr.clone().unwrap()
        }),
        ..Limits::default()
    };
    let e = extract(&pdf, Some("scan.pdf"), &no_renderer).unwrap_err();
    assert_eq!(
        e.to_string(),
        "scanned PDF with no text layer — install poppler-utils (pdftoppm) to read it by OCR"
    );
    // A Tesseract that fails on every page is reported as failing, not as blank pages.
    let broken = Limits {
        ocr: Some(trove_extract::OcrConfig {
            tesseract: "/bin/false".into(),
            ..limits.ocr.clone().unwrap()
        }),
        ..Limits::default()
    };
    let e = extract(&pdf, Some("scan.pdf"), &broken).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("OCR failed on every page it tried: "),
        "{e}"
    );
}

#[test]
fn panicking_page_is_contained_and_other_pages_recovered() {
    // pdf-extract 0.10 panics ("MediaBox") on a page without a MediaBox.
    let pdf = make_pdf(&PdfSpec {
        pages: vec![
            lines(&["good first page"]),
            lines(&["bad page"]),
            lines(&["good third page"]),
        ],
        no_media_box: vec![1],
        ..Default::default()
    });
    assert!(
        std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(&pdf)).is_err(),
        "fixture no longer makes pdf-extract panic"
    );
    // pdf_oxide reads the page pdf-extract cannot: nothing is lost any more.
    let e = ex(&pdf, "partial.pdf").unwrap();
    assert_eq!(e.pages, Some(3));
    let pages: Vec<&str> = e.text.split('\x0c').collect();
    assert_eq!(pages.len(), 3);
    assert!(pages[0].contains("good first page"));
    assert!(pages[1].contains("bad page"), "{pages:?}");
    assert!(pages[2].contains("good third page"));
    assert_eq!(e.extractor.as_deref(), Some("pdf_oxide"));
}

#[test]
fn pages_after_a_panicking_first_page_are_recovered() {
    let pdf = make_pdf(&PdfSpec {
        pages: vec![
            lines(&["bad"]),
            lines(&["fine two"]),
            lines(&["bad"]),
            lines(&["fine four"]),
        ],
        no_media_box: vec![0, 2],
        ..Default::default()
    });
    let e = ex(&pdf, "partial.pdf").unwrap();
    let pages: Vec<&str> = e.text.split('\x0c').map(str::trim).collect();
    assert_eq!(pages, ["bad", "fine two", "bad", "fine four"]);
}

#[test]
fn text_matches_pdf_extract_on_good_pdfs() {
    let pdf = prose_pdf(4, 12);
    let ours = ex(&pdf, "p.pdf").unwrap().text;
    let theirs = pdf_extract::extract_text_from_mem(&pdf).unwrap();
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    // The same words in the same order, whichever reader placed the spaces.
    assert_eq!(norm(&ours.replace('\x0c', "\n")), norm(&theirs));
    assert_eq!(ours.matches('\x0c').count(), 3);
}

/// A file pdf-extract only panics on is read by pdf_oxide now; containing pdf-extract's
/// panics in the fallback is `pdf::tests::the_fallback_reader_contains_its_panics`.
#[test]
fn a_pdf_pdf_extract_panics_on_is_read() {
    let pdf = make_pdf(&PdfSpec {
        pages: vec![lines(&["x marks the spot"])],
        no_media_box: vec![0],
        ..Default::default()
    });
    assert!(ex(&pdf, "crash.pdf")
        .unwrap()
        .text
        .contains("marks the spot"));
    let e = ex(&fixture("panics-pdf-extract.pdf"), "crash.pdf").unwrap();
    assert!(!e.text.trim().is_empty());
}

/// Mutated PDFs must never unwind out of `extract()`.
#[test]
fn mutated_pdfs_never_panic() {
    let base = prose_pdf(3, 10);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..300 {
        let mut m = base.clone();
        for _ in 0..(1 + next() % 8) {
            let i = (next() as usize) % m.len();
            m[i] = next() as u8;
        }
        if next() % 4 == 0 {
            let cut = (next() as usize) % m.len();
            m.truncate(cut.max(10));
        }
        match extract(&m, Some("m.pdf"), &Limits::default()) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                failed += 1
            }
        }
    }
    assert_eq!(ok + failed, 300);
}

/// A one-page PDF whose page dictionary holds `depth` nested arrays, written
/// uncompressed with a correct xref table.
fn nested_pdf(depth: usize) -> Vec<u8> {
    let objs: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        [
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Foo ".to_vec(),
            vec![b'['; depth],
            vec![b']'; depth],
            b" >>".to_vec(),
        ]
        .concat(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = vec![];
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).bytes());
        out.extend(o);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(b"xref\n0 4\n0000000000 65535 f \n");
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").bytes());
    }
    out.extend(format!("trailer\n<< /Root 1 0 R /Size 4 >>\nstartxref\n{xref}\n%%EOF\n").bytes());
    out
}

/// lopdf recurses per nesting level; 1 000 levels used to overflow a 2 MiB
/// thread stack and abort the whole process.
#[test]
fn deeply_nested_pdf_does_not_overflow_the_stack() {
    let run = |depth: usize| {
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || extract(&nested_pdf(depth), Some("deep.pdf"), &Limits::default()))
            .unwrap()
            .join()
            .unwrap()
    };
    assert_eq!(run(5).unwrap_err(), ExtractError::ScanNeedsOcr);
    // Just under the limit: parsed on the big-stack worker thread.
    assert_eq!(run(250).unwrap_err(), ExtractError::ScanNeedsOcr);
    let e = run(100_000).unwrap_err();
    assert_eq!(
        e.to_string(),
        "PDF is damaged and could not be read (its objects are nested too deeply)"
    );
}
