//! Tiny PDF writer for tests and benchmarks (lopdf, standard Helvetica font).
#![allow(dead_code)]

use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream};

/// Options for [`make_pdf`].
#[derive(Default, Clone)]
pub struct PdfSpec {
    /// Lines of text per page.
    pub pages: Vec<Vec<String>>,
    /// Page numbers (0-based) that get no MediaBox anywhere (pdf-extract panics on them).
    pub no_media_box: Vec<usize>,
    /// Document title in the Info dictionary.
    pub title: Option<String>,
}

/// A PDF with one page per entry in `pages`, each line of text drawn with Helvetica.
pub fn make_pdf(spec: &PdfSpec) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut kids = Vec::new();
    for (i, lines) in spec.pages.iter().enumerate() {
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 11.into()]),
            Operation::new("TL", vec![14.into()]),
            Operation::new("Td", vec![50.into(), 780.into()]),
        ];
        for line in lines {
            ops.push(Operation::new(
                "Tj",
                vec![Object::string_literal(line.as_str())],
            ));
            ops.push(Operation::new("T*", vec![]));
        }
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops };
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
        let mut page = dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => resources_id,
        };
        if !spec.no_media_box.contains(&i) {
            page.set("MediaBox", vec![0.into(), 0.into(), 595.into(), 842.into()]);
        }
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    if let Some(t) = &spec.title {
        let info_id = doc.add_object(dictionary! { "Title" => Object::string_literal(t.as_str()) });
        doc.trailer.set("Info", info_id);
    }
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Simple pages: `n` pages of `lines` lines of prose each.
pub fn prose_pdf(n: usize, lines: usize) -> Vec<u8> {
    let words = [
        "knowledge",
        "local",
        "first",
        "search",
        "index",
        "page",
        "document",
        "text",
        "extract",
        "trove",
        "note",
        "archive",
        "query",
        "result",
        "engine",
        "fast",
    ];
    let pages = (0..n)
        .map(|p| {
            (0..lines)
                .map(|l| {
                    (0..12)
                        .map(|w| words[(p * 31 + l * 7 + w * 3) % words.len()])
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        })
        .collect();
    make_pdf(&PdfSpec {
        pages,
        ..Default::default()
    })
}
