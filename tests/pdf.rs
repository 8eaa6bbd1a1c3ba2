//! PDFs from a real producer (Chromium's Skia, as Google Docs exports), read through the
//! `trove` binary: every word `pdftotext` finds is stored, a word from every page is
//! found, and each hit says the page its word is on (issue 12).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use trove_tests::Sandbox;

/// Three pages: prose with the words pdf-extract used to split ("practicality"), a
/// two-column page, a page with a table and numbers.
const HTML: &str = r#"<!doctype html><html><head><meta charset="utf-8"><title>Field guide</title>
<style>
  body { font-family: sans-serif; font-size: 14pt; }
  .page { break-after: page; }
  .cols { columns: 2; }
  td { padding: 2pt 8pt; }
</style></head><body>
<div class="page">
  <h1>Example document</h1>
  <p>Although practicality beats purity, the cormorant colony keeps its own counsel.
  Special cases aren't special enough to break the rules, said the harbour master.</p>
</div>
<div class="page cols">
  <p>The heliotrope grows along the southern wall where afternoon light lingers.
  Gardeners prune it in early spring and again after the first flowering.</p>
  <p>In the second column the kingfisher waits above the millpond, patient and bright,
  while the miller counts sacks of barley by the door.</p>
</div>
<div class="page">
  <table><tr><th>Species</th><th>Count</th></tr>
  <tr><td>Quokka</td><td>1204</td></tr><tr><td>Wombat</td><td>87</td></tr></table>
  <p>Tallies were taken at dawn by volunteers from the observatory.</p>
</div>
</body></html>"#;

/// Print `html` to PDF with headless Chromium. `None` (test skipped, with a message)
/// when Chromium is not installed; CI installs it.
fn chromium_pdf(dir: &Path, html: &str) -> Option<PathBuf> {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })?;
    let src = dir.join("guide.html");
    std::fs::write(&src, html).unwrap();
    let out = dir.join("guide.pdf");
    let profile = dir.join("chromium-profile");
    let status = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--print-to-pdf-no-header",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(format!("file://{}", src.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.is_file(),
        "chromium made no PDF: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    Some(out)
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2 && w.chars().any(char::is_alphabetic))
        .map(str::to_lowercase)
        .collect()
}

/// The page of `item`'s hit when searching `word` by keyword (None: no hit of that item),
/// with the whole answer for messages.
fn hit_page(
    sb: &Sandbox,
    word: &str,
    item: &str,
) -> (Option<serde_json::Value>, serde_json::Value) {
    let r = sb.json(&["search", word, "--mode", "keyword"]);
    let page = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["itemId"] == item)
        .map(|h| h["page"].clone());
    (page, r)
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed by scripts/install-deps.sh");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_chromium_pdf_is_read_word_for_word_and_hits_carry_their_page() {
    let sb = Sandbox::new();
    let Some(pdf) = chromium_pdf(&sb.files(), HTML) else {
        eprintln!("SKIPPED: no chromium to produce the PDF");
        return;
    };
    let reference = pdftotext(&pdf);
    assert_eq!(
        reference.matches('\x0c').count(),
        3,
        "the fixture should have 3 pages:\n{reference}"
    );

    sb.json(&["add", pdf.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let shown = sb.json(&["show", "f1"]);
    assert_eq!(shown["item"]["status"], "completed", "{shown}");
    let extractor = shown["item"]["extractor"].as_str().unwrap_or_default();
    assert!(extractor.starts_with("pdf_oxide"), "read by {extractor:?}");

    // Every word poppler finds is in what Trove stored (the threshold is the issue's 99 %).
    let stored = sb.json(&["show", "f1", "--text"]);
    let text = stored["text"].as_str().unwrap();
    let ours = words(text);
    let theirs = words(&reference);
    let missing: Vec<&String> = theirs.difference(&ours).collect();
    let coverage = 1.0 - missing.len() as f64 / theirs.len() as f64;
    assert!(
        coverage >= 0.99,
        "{:.1} % of pdftotext's {} words; missing {missing:?}\n--- stored ---\n{text}",
        coverage * 100.0,
        theirs.len()
    );
    let pages = stored["pages"].as_array().expect("pages of a PDF");
    assert_eq!(pages.len(), 3, "{stored}");

    // A word from every page is found, and the hit says which page it is on.
    for (word, page) in [
        ("practicality", 1),
        ("cormorant", 1),
        ("heliotrope", 2),
        ("kingfisher", 2),
        ("quokka", 3),
        ("observatory", 3),
    ] {
        let r = sb.json(&["search", word, "--mode", "keyword"]);
        let hit = &r["hits"][0];
        assert_eq!(hit["itemId"], "f1", "{word}: {r}");
        assert_eq!(hit["page"], page, "{word} is on page {page}: {r}");
    }
    // The CLI says it in words too.
    let out = sb.ok(&["search", "kingfisher", "--mode", "keyword"]);
    assert!(out.contains("p. 2"), "{out}");
    let out = sb.ok(&["show", "f1", "--text"]);
    assert!(
        out.contains("--- page 3 ---") && out.contains("Quokka"),
        "{out}"
    );
}

/// Two pages of known prose from another real producer: Ghostscript (`ps2pdf` from
/// PostScript written here) or cairo (through pycairo, as GTK applications print).
/// `None` (skipped, with a message) when the producer is not installed; CI installs both.
fn producer_pdf(dir: &Path, producer: &str) -> Option<PathBuf> {
    let out = dir.join(format!("{producer}.pdf"));
    let made = match producer {
        "ghostscript" => {
            let ps = dir.join("doc.ps");
            std::fs::write(
                &ps,
                "%!PS\n/Times-Roman findfont 14 scalefont setfont\n\
                 72 720 moveto (The albatross follows the trade winds across the southern ocean.) show\n\
                 72 700 moveto (Sailors once read its flight as a sign of weather to come.) show\n\
                 showpage\n/Helvetica findfont 12 scalefont setfont\n\
                 72 720 moveto (On the second page the petrel nests on cliffs above the fjord.) show\n\
                 72 700 moveto (Its burrow smells of musk and salt, the ranger wrote.) show\nshowpage\n",
            )
            .unwrap();
            Command::new("ps2pdf").arg(&ps).arg(&out).output()
        }
        _ => Command::new("/usr/bin/python3")
            .arg("-c")
            .arg(
                "import cairo, sys\n\
                 s = cairo.PDFSurface(sys.argv[1], 612, 792)\n\
                 c = cairo.Context(s)\n\
                 c.select_font_face('DejaVu Sans')\n\
                 c.set_font_size(13)\n\
                 pages = [['The albatross follows the trade winds across the southern ocean.',\n\
                           'Sailors once read its flight as a sign of weather to come.'],\n\
                          ['On the second page the petrel nests on cliffs above the fjord.',\n\
                           'Its burrow smells of musk and salt, the ranger wrote.']]\n\
                 for lines in pages:\n\
                 \x20   for i, line in enumerate(lines):\n\
                 \x20       c.move_to(72, 90 + 20 * i)\n\
                 \x20       c.show_text(line)\n\
                 \x20   c.show_page()\n\
                 s.finish()\n",
            )
            .arg(&out)
            .output(),
    };
    match made {
        Ok(o) if o.status.success() && out.is_file() => Some(out),
        Ok(o) => {
            eprintln!(
                "SKIPPED {producer}: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("failed")
            );
            None
        }
        Err(e) => {
            eprintln!("SKIPPED {producer}: {e}");
            None
        }
    }
}

#[test]
fn pdfs_from_ghostscript_and_cairo_are_read_word_for_word() {
    let sb = Sandbox::new();
    let mut id = 0;
    for producer in ["ghostscript", "cairo"] {
        let Some(pdf) = producer_pdf(&sb.files(), producer) else {
            continue;
        };
        id += 1;
        let item = format!("f{id}");
        sb.json(&["add", pdf.to_str().unwrap()]);
        sb.ok(&["work", "--until-idle"]);
        let shown = sb.json(&["show", &item]);
        assert_eq!(shown["item"]["status"], "completed", "{producer}: {shown}");
        let stored = sb.json(&["show", &item, "--text"]);
        let text = stored["text"].as_str().unwrap();
        let theirs = words(&pdftotext(&pdf));
        let ours = words(text);
        let missing: Vec<&String> = theirs.difference(&ours).collect();
        assert!(
            missing.len() * 100 <= theirs.len(),
            "{producer}: missing {missing:?} of {} words\n{text}",
            theirs.len()
        );
        for (word, page) in [
            ("albatross", 1),
            ("weather", 1),
            ("petrel", 2),
            ("ranger", 2),
        ] {
            let (found, r) = hit_page(&sb, word, &item);
            assert_eq!(
                found,
                Some(page.into()),
                "{producer}: {word} is on page {page}: {r}"
            );
        }
    }
}

/// Without OCR (Tesseract missing, or `TROVE_OCR=off`): a page with text and a page with
/// only an image: the text is kept, the item says which page had no text layer and what
/// would read it, and a PDF of nothing but images is not called damaged.
#[test]
fn pages_without_a_text_layer_are_reported_not_called_damaged() {
    let mut sb = Sandbox::new();
    sb.env.push(("TROVE_OCR".into(), "off".into()));
    let Some(pdf) = chromium_pdf(
        &sb.files(),
        r#"<!doctype html><style>.p{break-after:page}</style>
        <div class="p"><p>Marginalia about the lighthouse keeper's logbook.</p></div>
        <div class="p"><svg width="300" height="300"><rect width="300" height="300" fill="green"/></svg></div>"#,
    ) else {
        eprintln!("SKIPPED: no chromium to produce the PDF");
        return;
    };
    sb.json(&["add", pdf.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let shown = sb.json(&["show", "f1"]);
    assert_eq!(shown["item"]["status"], "completed", "{shown}");
    let extractor = shown["item"]["extractor"].as_str().unwrap_or_default();
    assert!(
        extractor.contains("no text layer on page 2 (install tesseract-ocr to read them)"),
        "read by {extractor:?}"
    );
    let r = sb.json(&["search", "lighthouse", "--mode", "keyword"]);
    assert_eq!(r["hits"][0]["page"], 1, "{r}");

    // A scan with no text layer at all fails with the remedy, not "damaged": OCR is off
    // here, so the remedy is turning it on (without Tesseract it is installing it: the
    // extractor's own tests).
    let scan = sb.write("scan.pdf", image_pdf(&[&page_jpeg(&pdf, 1)]));
    sb.json(&["add", scan.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let shown = sb.json(&["show", "f2"]);
    assert_eq!(shown["item"]["status"], "failed", "{shown}");
    assert_eq!(
        shown["item"]["error"],
        "a scanned PDF (or one whose fonts cannot be read) is read by OCR, which is turned off: \
         turn on “Read scans and images” in Settings (or `trove config set ocr on`), then retry",
        "{shown}"
    );
}

/// Whether Tesseract is installed (CI installs it); tests needing it skip with a message.
fn tesseract() -> bool {
    let ok = Command::new("tesseract")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: no tesseract");
    }
    ok
}

/// Page `page` of `pdf` as a JPEG at 100 dpi, rendered by poppler: the words become pixels.
fn page_jpeg(pdf: &Path, page: u32) -> Vec<u8> {
    let n = page.to_string();
    let out = Command::new("pdftoppm")
        .args(["-r", "100", "-jpeg", "-singlefile", "-f", &n, "-l", &n])
        .arg(pdf)
        .output()
        .expect("pdftoppm (poppler-utils)");
    assert!(out.status.success() && out.stdout.starts_with(&[0xFF, 0xD8]));
    out.stdout
}

/// A PDF whose pages are nothing but the given JPEGs (letter size): a "scan", no text layer.
fn image_pdf(jpegs: &[&[u8]]) -> Vec<u8> {
    let n = jpegs.len();
    let mut objs: Vec<Vec<u8>> = Vec::new();
    objs.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 3 + 3 * i)).collect();
    objs.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes());
    for (i, jpg) in jpegs.iter().enumerate() {
        let (page, image, content) = (3 + 3 * i, 4 + 3 * i, 5 + 3 * i);
        assert_eq!(objs.len() + 1, page);
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 {image} 0 R >> >> /Contents {content} 0 R >>"
        ).into_bytes());
        let mut img = format!(
            "<< /Type /XObject /Subtype /Image /Width 850 /Height 1100 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>\nstream\n",
            jpg.len()
        )
        .into_bytes();
        img.extend_from_slice(jpg);
        img.extend_from_slice(b"\nendstream");
        objs.push(img);
        let draw = b"q 612 0 0 792 0 0 cm /Im0 Do Q";
        let mut c = format!("<< /Length {} >>\nstream\n", draw.len()).into_bytes();
        c.extend_from_slice(draw);
        c.extend_from_slice(b"\nendstream");
        objs.push(c);
    }
    trove_tests::pdf_file(&objs)
}

/// A scan (pages that are only pictures of text) is found by a word only its pixels
/// contain; in a mixed PDF only the page without text is read by OCR, and its hits carry
/// their page; an image file is read the same way.
#[test]
fn scans_and_images_are_read_by_ocr() {
    let sb = Sandbox::new();
    if !tesseract() {
        return;
    }
    let Some(pdf) = chromium_pdf(&sb.files(), HTML) else {
        eprintln!("SKIPPED: no chromium to produce the PDF");
        return;
    };
    // Page 1 and page 3 of the field guide, as pictures.
    let (p1, p3) = (page_jpeg(&pdf, 1), page_jpeg(&pdf, 3));
    let png = Command::new("pdftoppm")
        .args(["-r", "100", "-png", "-singlefile", "-f", "2", "-l", "2"])
        .arg(&pdf)
        .output()
        .unwrap()
        .stdout;
    assert!(png.starts_with(b"\x89PNG"));
    let scan = sb.write("scan.pdf", image_pdf(&[&p1, &p3]));
    assert_eq!(
        pdftotext(&scan).trim(),
        "",
        "the scan must have no text layer"
    );
    sb.json(&["add", scan.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let shown = sb.json(&["show", "f1"]);
    assert_eq!(shown["item"]["status"], "completed", "{shown}");
    assert_eq!(
        shown["item"]["extractor"], "2 pages read by OCR (tesseract, eng)",
        "{shown}"
    );
    for (word, page) in [("practicality", 1), ("cormorant", 1), ("observatory", 2)] {
        let r = sb.json(&["search", word, "--mode", "keyword"]);
        let hit = &r["hits"][0];
        assert_eq!(hit["itemId"], "f1", "{word}: {r}");
        assert_eq!(hit["page"], page, "{word} is on page {page}: {r}");
    }

    // Mixed: a text page, then a scanned page. Only the second is read by OCR.
    let Some(mixed_src) = chromium_pdf(
        &sb.files(),
        r#"<!doctype html><p style="font-size:20pt">Marginalia about the lighthouse keeper's logbook.</p>"#,
    ) else {
        return;
    };
    let text_page = std::fs::read(&mixed_src).unwrap();
    let mixed = sb.write("mixed.pdf", append_scan(&text_page, &p3));
    sb.json(&["add", mixed.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let shown = sb.json(&["show", "f2"]);
    assert_eq!(shown["item"]["status"], "completed", "{shown}");
    assert_eq!(
        shown["item"]["extractor"], "pdf_oxide; 1 page read by OCR (tesseract, eng)",
        "{shown}"
    );
    let r = sb.json(&["search", "logbook", "--mode", "keyword"]);
    assert_eq!(
        (&r["hits"][0]["itemId"], &r["hits"][0]["page"]),
        (&"f2".into(), &1.into()),
        "{r}"
    );
    let r = sb.json(&["search", "volunteers", "--mode", "keyword"]);
    let hit = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["itemId"] == "f2");
    assert_eq!(hit.map(|h| &h["page"]), Some(&2.into()), "{r}");

    // An image file.
    let img = sb.write("page2.png", png);
    sb.json(&["add", img.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let shown = sb.json(&["show", "f3"]);
    assert_eq!(shown["item"]["status"], "completed", "{shown}");
    assert_eq!(
        shown["item"]["extractor"], "OCR (tesseract, eng)",
        "{shown}"
    );
    let r = sb.json(&["search", "heliotrope", "--mode", "keyword"]);
    let ids: Vec<&str> = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["itemId"].as_str())
        .collect();
    assert!(ids.contains(&"f3"), "{r}");
}

/// `text_pdf` with one more page: `jpeg` as a scanned page. Made by qpdf-free means: the
/// scan PDF's objects are renumbered after the text PDF's with pdfunite (poppler).
fn append_scan(text_pdf: &[u8], jpeg: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, out) = (
        dir.path().join("a.pdf"),
        dir.path().join("b.pdf"),
        dir.path().join("ab.pdf"),
    );
    std::fs::write(&a, text_pdf).unwrap();
    std::fs::write(&b, image_pdf(&[jpeg])).unwrap();
    let st = Command::new("pdfunite")
        .arg(&a)
        .arg(&b)
        .arg(&out)
        .status()
        .expect("pdfunite (poppler-utils)");
    assert!(st.success());
    std::fs::read(out).unwrap()
}

/// OCR's limits: an image too large is refused by its size before any decoding, and a long
/// scan stops at the time budget and says which pages it did not read.
#[test]
fn ocr_refuses_huge_images_and_stops_at_its_budget() {
    let mut sb = Sandbox::new();
    if !tesseract() {
        return;
    }
    // A PNG header claiming 30,000 × 30,000 pixels.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&30_000u32.to_be_bytes());
    png.extend_from_slice(&30_000u32.to_be_bytes());
    png.extend_from_slice(b"\x08\x00\x00\x00\x00\0\0\0\0");
    png.extend_from_slice(&[0u8; 64]);
    let big = sb.write("poster.png", png);
    sb.json(&["add", big.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let shown = sb.json(&["show", "f1"]);
    assert_eq!(shown["item"]["status"], "failed", "{shown}");
    assert_eq!(
        shown["item"]["error"],
        "image is 30000 × 30000 pixels; Trove reads images of up to 64 megapixels",
        "{shown}"
    );

    let Some(pdf) = chromium_pdf(&sb.files(), HTML) else {
        eprintln!("SKIPPED: no chromium to produce the PDF");
        return;
    };
    // 300 pages of the same picture, a 1-second budget: the page started is finished, the
    // rest are named, and the item still completes with what was read.
    let p1 = page_jpeg(&pdf, 1);
    let pages: Vec<&[u8]> = (0..300).map(|_| p1.as_slice()).collect();
    let long = sb.write("long-scan.pdf", image_pdf(&pages));
    sb.env.push(("TROVE_OCR_BUDGET".into(), "1".into()));
    sb.json(&["add", long.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let shown = sb.json(&["show", "f2"]);
    assert_eq!(shown["item"]["status"], "completed", "{shown}");
    let extractor = shown["item"]["extractor"].as_str().unwrap();
    assert!(
        extractor.contains("read by OCR (tesseract, eng)")
            && extractor.contains("OCR stopped at its time budget (1 s): pages ")
            && extractor.ends_with("–300 not read"),
        "{extractor}"
    );
    let r = sb.json(&["search", "cormorant", "--mode", "keyword"]);
    assert_eq!(r["hits"][0]["itemId"], "f2", "{r}");
}

/// The committed PDFs of `tests/fixtures/pdf` (LibreOffice, pdfTeX, Chromium multi-column,
/// CJK and right-to-left, an AcroForm; `make/make.sh` rebuilds them): Trove's stored text
/// covers ≥ 99 % of the words `pdftotext` finds, every listed word is on its page, and
/// searching for it finds that page.
#[test]
fn pdfs_from_libreoffice_pdftex_and_chromium_are_read_word_for_word() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pdf");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let sb = Sandbox::new();
    let mut checked = 0;
    for (n, fixture) in manifest.as_array().unwrap().iter().enumerate() {
        let file = fixture["file"].as_str().unwrap();
        let words_on_pages = fixture["words"].as_array().unwrap();
        if words_on_pages.is_empty() {
            continue; // no-tounicode.pdf: see the test below
        }
        let pdf = dir.join(file);
        sb.json(&["add", pdf.to_str().unwrap()]);
        sb.ok(&["work", "--until-idle"]);
        let item = format!("f{}", n + 1);
        let shown = sb.json(&["show", &item]);
        assert_eq!(shown["item"]["status"], "completed", "{file}: {shown}");
        let stored = sb.json(&["show", &item, "--text"]);
        let pages: Vec<&str> = stored["pages"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: no pages: {stored}"))
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(
            pages.len() as u64,
            fixture["pages"].as_u64().unwrap(),
            "{file}"
        );

        // pdftotext wraps right-to-left lines in direction marks; they are not words.
        let mut reference: String = pdftotext(&pdf)
            .chars()
            .filter(|c| !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
            .collect();
        // Words poppler gets wrong (it writes the Arabic lam-alef ligature's two letters in
        // visual order: "واألطفال" for "والأطفال"), as the manifest records them, with the
        // word the page shows.
        if let Some(fixes) = fixture["pdftotext_errors"].as_object() {
            for (wrong, right) in fixes {
                assert!(
                    reference.contains(wrong.as_str()),
                    "{file}: pdftotext no longer writes {wrong}"
                );
                reference = reference.replace(wrong.as_str(), right.as_str().unwrap());
            }
        }
        let theirs = words(&reference);
        let ours = words(stored["text"].as_str().unwrap());
        let missing: Vec<&String> = theirs.difference(&ours).collect();
        assert!(
            missing.len() * 100 <= theirs.len(),
            "{file}: {} of pdftotext's {} words missing: {missing:?}\n--- stored ---\n{}",
            missing.len(),
            theirs.len(),
            stored["text"]
        );

        for pair in words_on_pages {
            let (word, page) = (pair[0].as_str().unwrap(), pair[1].as_u64().unwrap());
            assert!(
                pages[page as usize - 1].to_lowercase().contains(word),
                "{file}: {word:?} is not on page {page}:\n{}",
                pages[page as usize - 1]
            );
            // Keyword search works on words; a CJK run is one token to the index.
            if word.chars().all(|c| c.is_ascii_alphabetic()) {
                let (found, r) = hit_page(&sb, word, &item);
                assert_eq!(
                    found,
                    Some(page.into()),
                    "{file}: {word} is on page {page}: {r}"
                );
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 6, "fixtures with words in the manifest");
}

/// A font with no ToUnicode map and made-up glyph names: pdftotext prints punctuation, and
/// pdf_oxide's reading is glyph soup. Trove does not index the noise: with Tesseract the
/// pages are read by OCR and the hidden words are found on their pages; without it the item
/// fails with the reason.
#[test]
fn a_font_without_unicode_is_read_by_ocr_not_indexed_as_noise() {
    let pdf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pdf/no-tounicode.pdf");
    assert!(
        !words(&pdftotext(&pdf))
            .iter()
            .any(|w| w.contains("hornswoggle")),
        "pdftotext should not read this font"
    );
    let sb = Sandbox::new();
    sb.json(&["add", pdf.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let shown = sb.json(&["show", "f1"]);
    if !tesseract() {
        assert_eq!(shown["item"]["status"], "failed", "{shown}");
        return;
    }
    assert_eq!(shown["item"]["status"], "completed", "{shown}");
    let stored = sb.json(&["show", "f1", "--text"]);
    let text = stored["text"].as_str().unwrap();
    assert!(!text.contains("!\"#$%&"), "glyph soup was indexed:\n{text}");
    let pages = stored["pages"].as_array().unwrap();
    for (word, page) in [("hornswoggle", 1), ("lickspittle", 2)] {
        assert!(
            pages[page - 1]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains(word),
            "{word} on page {page}: {stored}"
        );
        let r = sb.json(&["search", word, "--mode", "keyword"]);
        assert_eq!(r["hits"][0]["page"], page, "{word}: {r}");
    }
    let extractor = shown["item"]["extractor"].as_str().unwrap_or_default();
    assert!(extractor.contains("OCR"), "read by {extractor:?}");
}
