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

/// A page with text and a page with only an image: the text is kept, the item says which
/// page had no text layer, and a PDF of nothing but images is still not called damaged.
#[test]
fn pages_without_a_text_layer_are_reported_not_called_damaged() {
    let sb = Sandbox::new();
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
        extractor.contains("no text layer on page 2"),
        "read by {extractor:?}"
    );
    let r = sb.json(&["search", "lighthouse", "--mode", "keyword"]);
    assert_eq!(r["hits"][0]["page"], 1, "{r}");
}
