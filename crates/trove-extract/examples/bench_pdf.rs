//! Throughput numbers for trove-extract (not a test).
//!
//! `cargo build --release -p trove-extract --bin trove-extract-child --example bench_pdf`
//! `TROVE_EXTRACT_CHILD=$CARGO_TARGET_DIR/release/trove-extract-child $CARGO_TARGET_DIR/release/examples/bench_pdf [extra.pdf ...]`
//!
//! Prints text/Markdown/HTML ingestion MB/s (decode + extract) and, for each
//! PDF, pages/s of `extract()` vs `pdftotext` (poppler) on the same file, with
//! the ratio measured in the same run. PDFs: generated ones, plus any real PDFs
//! found under /usr/share/doc, plus the command-line arguments.

#[path = "../tests/support/pdfgen.rs"]
mod pdfgen;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use trove_extract::{extract, Limits};

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        last = Some(r);
    }
    (best, last.unwrap())
}

fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / d.as_secs_f64()
}

fn text_benchmarks() {
    let limits = Limits::default();
    let para = "Trove keeps your **notes** local. Search is fast; *extraction* must be faster.\n\
                - a list item with `code` and a [link](https://example.org)\n\n";
    let md: String = para.repeat(32 * 1024 * 1024 / para.len());
    let (d, r) = best_of(5, || {
        extract(md.as_bytes(), Some("big.md"), &limits).unwrap()
    });
    assert_eq!(r.text.len(), md.len());
    println!(
        "markdown (UTF-8)   {:>6.1} MiB  {:>8.0} MB/s",
        md.len() as f64 / 1048576.0,
        mbps(md.len(), d)
    );

    let txt = md.replace("\n", "\r\n");
    let (d, _) = best_of(5, || {
        extract(txt.as_bytes(), Some("big.txt"), &limits).unwrap()
    });
    println!(
        "text (CRLF→LF)     {:>6.1} MiB  {:>8.0} MB/s",
        txt.len() as f64 / 1048576.0,
        mbps(txt.len(), d)
    );

    let latin: Vec<u8> = b"Le caf\xe9 \xe9tait d\xe9j\xe0 servi, la cr\xe8me br\xfbl\xe9e aussi.\n"
        .iter()
        .copied()
        .cycle()
        .take(16 * 1024 * 1024)
        .collect();
    let (d, r) = best_of(5, || extract(&latin, Some("old.txt"), &limits).unwrap());
    assert_eq!(r.encoding.as_deref(), Some("windows-1252"));
    println!(
        "text (Latin-1)     {:>6.1} MiB  {:>8.0} MB/s",
        latin.len() as f64 / 1048576.0,
        mbps(latin.len(), d)
    );

    let html_para = "<div class=\"c\"><p>Some <b>bold</b> and <a href=\"#\">linked</a> text in a paragraph.</p>\
                     <script>var x = 1;</script><ul><li>one</li><li>two</li></ul></div>\n";
    let html = format!(
        "<!DOCTYPE html><html><head><title>t</title></head><body>{}</body></html>",
        html_para.repeat(8 * 1024 * 1024 / html_para.len())
    );
    let (d, _) = best_of(3, || {
        extract(html.as_bytes(), Some("big.html"), &limits).unwrap()
    });
    println!(
        "HTML (scraper)     {:>6.1} MiB  {:>8.1} MB/s",
        html.len() as f64 / 1048576.0,
        mbps(html.len(), d)
    );
}

fn pdftotext(path: &Path) -> Option<String> {
    let out = Command::new("pdftotext")
        .args(["-q", "-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

fn pdf_benchmarks(extra: Vec<PathBuf>) {
    let dir = std::env::temp_dir().join("trove-extract-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (pages, name) in [
        (20, "gen-20p.pdf"),
        (200, "gen-200p.pdf"),
        (1000, "gen-1000p.pdf"),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, pdfgen::prose_pdf(pages, 45)).unwrap();
        files.push(p);
    }
    for p in [
        "/usr/share/doc/libtasn1-doc/libtasn1.pdf",
        "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf",
    ] {
        if Path::new(p).exists() {
            files.push(PathBuf::from(p));
        }
    }
    files.extend(extra);
    let have_poppler = pdftotext(&files[0]).is_some();
    if !have_poppler {
        println!("pdftotext not found: install poppler-utils for the comparison");
    }

    println!(
        "\n{:<28} {:>5} {:>9} {:>9} {:>11} {:>7} {:>14}",
        "PDF", "pages", "ours p/s", "whole p/s", "poppler p/s", "ratio", "words ours/pop"
    );
    let limits = Limits::default();
    let (mut our_total, mut pop_total, mut pages_total) = (Duration::ZERO, Duration::ZERO, 0u64);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let (d, r) = best_of(3, || extract(&bytes, Some(&name), &limits));
        let (pages, our_words) = match &r {
            Ok(e) => (e.pages.unwrap_or(0), words(&e.text)),
            Err(e) => {
                println!("{name:<28} ours failed: {e}");
                continue;
            }
        };
        let ours = pages as f64 / d.as_secs_f64();
        // pdf-extract's own whole-document call, no per-page isolation (may panic).
        let (wd, _) = best_of(3, || {
            std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(&bytes)).is_ok()
        });
        let whole = pages as f64 / wd.as_secs_f64();
        if have_poppler {
            let (pd, pt) = best_of(3, || pdftotext(f).unwrap_or_default());
            let pop = pages as f64 / pd.as_secs_f64();
            println!(
                "{name:<28} {pages:>5} {ours:>9.0} {whole:>9.0} {pop:>11.0} {:>6.2}x {:>7}/{}",
                ours / pop,
                our_words,
                words(&pt)
            );
            our_total += d;
            pop_total += pd;
            pages_total += u64::from(pages);
        } else {
            println!("{name:<28} {pages:>5} {ours:>9.0} {whole:>9.0}");
        }
    }
    if have_poppler && pages_total > 0 {
        let ours = pages_total as f64 / our_total.as_secs_f64();
        let pop = pages_total as f64 / pop_total.as_secs_f64();
        println!(
            "{:<28} {pages_total:>5} {ours:>9.0} {:>9} {pop:>11.0} {:>6.2}x   (ratio = ours/poppler; > 1: extract() is faster)",
            "ALL",
            "",
            ours / pop
        );
    }
}

/// Per-file cost of the subprocess sandbox, when `TROVE_EXTRACT_CHILD` names a
/// child executable (e.g. target/release/trove-extract-child).
fn sandbox_benchmarks() {
    let Some(exe) = std::env::var_os("TROVE_EXTRACT_CHILD") else {
        println!(
            "\n(set TROVE_EXTRACT_CHILD=<path to trove-extract-child> to measure the sandbox)"
        );
        return;
    };
    let dir = std::env::temp_dir().join("trove-extract-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let txt = dir.join("small.txt");
    std::fs::write(&txt, "a small note\n".repeat(100)).unwrap();
    let pdf = dir.join("gen-20p.pdf");
    std::fs::write(&pdf, pdfgen::prose_pdf(20, 45)).unwrap();
    let cfg = trove_extract::sandbox::SandboxConfig::new(exe);
    let limits = Limits::default();
    println!();
    for p in [&txt, &pdf] {
        let n = 20;
        let t = Instant::now();
        for _ in 0..n {
            trove_extract::sandbox::extract_file_sandboxed(&cfg, p).unwrap();
        }
        let sandboxed = t.elapsed() / n;
        let t = Instant::now();
        for _ in 0..n {
            trove_extract::sandbox::extract_file(p, &limits).unwrap();
        }
        let inproc = t.elapsed() / n;
        println!(
            "sandbox {:<18} {:>8.2} ms/file vs in-process {:>8.2} ms/file (overhead {:.2} ms)",
            p.file_name().unwrap().to_string_lossy(),
            sandboxed.as_secs_f64() * 1e3,
            inproc.as_secs_f64() * 1e3,
            (sandboxed.as_secs_f64() - inproc.as_secs_f64()) * 1e3
        );
    }
}

fn main() {
    let extra: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    println!("trove-extract throughput (best of N, single thread)\n");
    text_benchmarks();
    pdf_benchmarks(extra);
    sandbox_benchmarks();
}
