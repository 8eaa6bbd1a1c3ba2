//! Regenerates tests/fixtures (needs `qpdf`):
//! `cargo run -p trove-extract --example make_fixtures`

#[path = "../tests/support/pdfgen.rs"]
mod pdfgen;

use std::path::Path;
use std::process::Command;

use pdfgen::{make_pdf, PdfSpec};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    let plain = make_pdf(&PdfSpec {
        pages: vec![
            vec!["Hello from page one".into()],
            vec!["Second page".into()],
        ],
        ..Default::default()
    });
    let tmp = std::env::temp_dir().join("trove-extract-plain.pdf");
    std::fs::write(&tmp, &plain).unwrap();
    for (user, name) in [
        ("secret", "encrypted-user.pdf"),
        ("", "encrypted-owner.pdf"),
    ] {
        let st = Command::new("qpdf")
            .args(["--encrypt", user, "owner", "256", "--"])
            .arg(&tmp)
            .arg(dir.join(name))
            .status()
            .expect("qpdf");
        assert!(st.success());
    }
    // A page without a MediaBox: pdf-extract 0.10 panics with "MediaBox".
    let crash = make_pdf(&PdfSpec {
        pages: vec![vec!["never extracted".into()]],
        no_media_box: vec![0],
        ..Default::default()
    });
    std::fs::write(dir.join("panics-pdf-extract.pdf"), crash).unwrap();
    println!("fixtures written to {}", dir.display());
}
