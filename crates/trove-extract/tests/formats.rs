//! OpenDocument text and presentations, PowerPoint, EPUB: text, slide pages, chapter
//! order, detection (from whole files and from their first 8 KiB, as the folder scanner
//! reads them), zip bombs and damaged containers. Detection of the formats read by other
//! modules (RTF, e-mail, old Office files) too.
//!
//! The fixtures in `tests/fixtures/formats/` were made by LibreOffice and python-pptx;
//! `make.sh` there regenerates them.

use std::io::{Cursor, Write};

use trove_extract::{detect, extract, DocKind, ExtractError, Extracted, Limits};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/formats")
            .join(name),
    )
    .unwrap()
}

fn ex(bytes: &[u8], name: &str) -> Result<Extracted, ExtractError> {
    extract(bytes, Some(name), &Limits::default())
}

/// A ZIP of `parts`, the first one stored (an ODF or EPUB `mimetype` must be), the rest
/// deflated.
fn make_zip(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        for (i, (name, data)) in parts.iter().enumerate() {
            let method = if i == 0 {
                zip::CompressionMethod::Stored
            } else {
                zip::CompressionMethod::Deflated
            };
            let opts = zip::write::SimpleFileOptions::default().compression_method(method);
            z.start_file(*name, opts).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

fn pages(e: &Extracted) -> Vec<&str> {
    e.text.split('\x0c').collect()
}

/// A line of `text` that is exactly `line`.
fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

// ---------------------------------------------------------------- OpenDocument

#[test]
fn odt_paragraphs_headings_and_footnotes() {
    let e = ex(&fixture("sample.odt"), "sample.odt").unwrap();
    assert_eq!(e.kind, DocKind::Odt);
    assert_eq!(e.title.as_deref(), Some("Trove Fixture Document"));
    assert_eq!(e.pages, None);
    for word in ["zanzibarite", "xylophonist", "marmalade", "quokkaberry"] {
        assert!(e.text.contains(word), "{word} missing from {:?}", e.text);
    }
    for heading in [
        "First Chapter Heading",
        "Second Chapter Heading",
        "Third Chapter Heading",
    ] {
        assert!(has_line(&e.text, heading), "{heading}: {:?}", e.text);
    }
    assert!(has_line(&e.text, "Spaced   words\ttabbed"), "{:?}", e.text);
    assert!(
        has_line(&e.text, "broken line with a note inside."),
        "{:?}",
        e.text
    );
    assert!(has_line(&e.text, "List item beta"), "{:?}", e.text);
    // The footnote comes after the body, not in the middle of its sentence.
    assert!(e.text.trim_end().ends_with("Footnote about quokkaberry."));
    assert_eq!(e.kind.mime(), "application/vnd.oasis.opendocument.text");
}

#[test]
fn odp_slides_are_pages_with_notes() {
    let e = ex(&fixture("sample.odp"), "sample.odp").unwrap();
    assert_eq!(e.kind, DocKind::Odp);
    assert_eq!(e.title.as_deref(), Some("Trove Fixture Slides"));
    assert_eq!(e.pages, Some(3));
    let p = pages(&e);
    assert_eq!(p.len(), 3, "{:?}", e.text);
    assert!(p[0].contains("aardvarks"), "{:?}", p[0]);
    assert!(
        p[0].contains("Notes:\nSpeaker reminder: mention bumblebees"),
        "{:?}",
        p[0]
    );
    assert!(p[1].contains("pangolins"), "{:?}", p[1]);
    assert!(
        has_line(p[1], "Second line of the middle slide"),
        "{:?}",
        p[1]
    );
    assert!(!p[1].contains("Notes:"), "{:?}", p[1]);
    assert!(p[2].contains("narwhals"), "{:?}", p[2]);
}

// ---------------------------------------------------------------- PowerPoint

#[test]
fn pptx_from_libreoffice_slides_and_notes() {
    let e = ex(&fixture("sample.pptx"), "sample.pptx").unwrap();
    assert_eq!(e.kind, DocKind::Pptx);
    assert_eq!(e.pages, Some(3));
    let p = pages(&e);
    assert_eq!(p.len(), 3, "{:?}", e.text);
    assert!(
        p[0].starts_with("Opening slide about aardvarks"),
        "{:?}",
        p[0]
    );
    assert!(
        p[0].contains("Notes:\nSpeaker reminder: mention bumblebees"),
        "{:?}",
        p[0]
    );
    assert!(p[1].contains("pangolins"), "{:?}", p[1]);
    assert!(p[2].contains("narwhals"), "{:?}", p[2]);
}

#[test]
fn pptx_from_python_pptx_slides_notes_title() {
    let e = ex(&fixture("python-pptx.pptx"), "deck.pptx").unwrap();
    assert_eq!(e.kind, DocKind::Pptx);
    assert_eq!(e.title.as_deref(), Some("Trove Python Slides"));
    assert_eq!(e.pages, Some(3));
    let p = pages(&e);
    assert_eq!(
        p[0],
        "Welcome to the gathering\nOpening words about capybaras\n\nNotes:\nNotes: greet the wombats"
    );
    assert!(has_line(p[1], "Middle matters"), "{:?}", p[1]);
    assert!(has_line(p[1], "Discussion of axolotls"), "{:?}", p[1]);
    assert!(has_line(p[1], "Second bullet"), "{:?}", p[1]);
    assert!(has_line(p[1], "Text box mentions flamingos"), "{:?}", p[1]);
    assert!(p[2].ends_with("Notes:\nThank the ocelots"), "{:?}", p[2]);
}

/// Slides come in the order of `p:sldIdLst`, not of their part names.
#[test]
fn pptx_presentation_order_wins_over_part_names() {
    let slide = |word: &str| {
        format!(
            r#"<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{word}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#
        )
    };
    let pres = br#"<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><p:sldIdLst><p:sldId id="256" r:id="rId9"/><p:sldId id="257" r:id="rId3"/></p:sldIdLst></p:presentation>"#;
    let rels = br#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide1.xml"/><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="/ppt/slides/slide2.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideMaster" Target="slideMasters/slideMaster1.xml"/></Relationships>"#;
    let (s1, s2) = (slide("alpha"), slide("beta"));
    let bytes = make_zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("ppt/presentation.xml", pres),
        ("ppt/_rels/presentation.xml.rels", rels),
        ("ppt/slides/slide1.xml", s1.as_bytes()),
        ("ppt/slides/slide2.xml", s2.as_bytes()),
    ]);
    assert_eq!(detect(&bytes, None), Ok(DocKind::Pptx));
    let e = ex(&bytes, "order.pptx").unwrap();
    assert_eq!(e.text, "beta\x0calpha");
    assert_eq!(e.pages, Some(2));

    // Without a readable slide list, the slide parts by number.
    let bytes = make_zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("ppt/presentation.xml", b"<p:presentation"),
        ("ppt/slides/slide10.xml", s1.as_bytes()),
        ("ppt/slides/slide9.xml", s2.as_bytes()),
    ]);
    let e = ex(&bytes, "order.pptx").unwrap();
    assert_eq!(e.text, "beta\x0calpha");
}

// ---------------------------------------------------------------- EPUB

#[test]
fn epub_chapters_in_reading_order() {
    let e = ex(&fixture("sample.epub"), "book.epub").unwrap();
    assert_eq!(e.kind, DocKind::Epub);
    assert_eq!(e.title.as_deref(), Some("Trove Fixture Document"));
    let at = |w: &str| {
        e.text
            .find(w)
            .unwrap_or_else(|| panic!("{w} missing from {:?}", e.text))
    };
    assert!(at("First Chapter Heading") < at("zanzibarite"));
    assert!(at("zanzibarite") < at("Second Chapter Heading"));
    assert!(at("Second Chapter Heading") < at("xylophonist"));
    assert!(at("xylophonist") < at("Third Chapter Heading"));
    assert!(at("Third Chapter Heading") < at("marmalade"));
    assert!(has_line(&e.text, "Second Chapter Heading"), "{:?}", e.text);
    // Chapters are separated by a blank line.
    assert!(
        e.text.contains("List item beta\n\nThird Chapter Heading"),
        "{:?}",
        e.text
    );
}

fn epub(chapters: &[(&str, &str)], spine: &[&str]) -> Vec<u8> {
    let mut manifest = String::new();
    for (id, _) in chapters {
        manifest.push_str(&format!(
            r#"<item id="{id}" href="text/{id}.xhtml" media-type="application/xhtml+xml"/>"#
        ));
    }
    let itemrefs: String = spine
        .iter()
        .map(|id| format!(r#"<itemref idref="{id}"/>"#))
        .collect();
    let opf = format!(
        r#"<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" xmlns:dc="http://purl.org/dc/elements/1.1/" version="3.0"><metadata><dc:title>Made Up</dc:title></metadata><manifest>{manifest}</manifest><spine>{itemrefs}</spine></package>"#
    );
    let container = br#"<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0"><rootfiles><rootfile full-path="OPS/book.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;
    let names: Vec<String> = chapters
        .iter()
        .map(|(id, _)| format!("OPS/text/{id}.xhtml"))
        .collect();
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("mimetype", b"application/epub+zip"),
        ("META-INF/container.xml", container),
        ("OPS/book.opf", opf.as_bytes()),
    ];
    for (name, (_, body)) in names.iter().zip(chapters) {
        parts.push((name, body.as_bytes()));
    }
    make_zip(&parts)
}

#[test]
fn epub_spine_order_not_manifest_order() {
    let ch = |t: &str, body: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>{t}</title></head><body><p>{body}</p></body></html>"#
        )
    };
    let (a, b, c) = (
        ch("Part A", "apricot"),
        ch("Part B", "blueberry"),
        ch("Made Up", "cherry"),
    );
    let bytes = epub(&[("a", &a), ("b", &b), ("c", &c)], &["c", "b", "a"]);
    assert_eq!(detect(&bytes, None), Ok(DocKind::Epub));
    let e = ex(&bytes, "book.epub").unwrap();
    // Chapter titles are heading lines, unless they repeat the book's title.
    assert_eq!(e.text, "cherry\n\nPart B\n\nblueberry\n\nPart A\n\napricot");
    assert_eq!(e.title.as_deref(), Some("Made Up"));
}

// ---------------------------------------------------------------- detection

const FIXTURES: &[(&str, DocKind)] = &[
    ("sample.odt", DocKind::Odt),
    ("sample.odp", DocKind::Odp),
    ("sample.pptx", DocKind::Pptx),
    ("python-pptx.pptx", DocKind::Pptx),
    ("sample.epub", DocKind::Epub),
];

#[test]
fn detected_from_whole_files_and_from_their_first_8_kib() {
    for (name, kind) in FIXTURES {
        let bytes = fixture(name);
        assert_eq!(detect(&bytes, None), Ok(*kind), "{name}");
        assert_eq!(detect(&bytes, Some(name)), Ok(*kind), "{name}");
        // A misleading name does not matter: the content decides.
        assert_eq!(detect(&bytes, Some("x.zip")), Ok(*kind), "{name}");
        let head = &bytes[..bytes.len().min(8192)];
        assert_eq!(detect(head, None), Ok(*kind), "{name}: first 8 KiB");
        assert_eq!(detect(head, Some(name)), Ok(*kind), "{name}: first 8 KiB");
    }
    // OpenDocument and EPUB say what they are in their first 100 bytes.
    for name in ["sample.odt", "sample.odp", "sample.epub"] {
        let bytes = fixture(name);
        let kind = FIXTURES.iter().find(|f| f.0 == name).unwrap().1;
        assert_eq!(detect(&bytes[..100], None), Ok(kind), "{name}");
    }
    // A DOCX made by the zip crate, whole and cut.
    let docx = make_zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", b"<w:document/>"),
    ]);
    assert_eq!(detect(&docx, None), Ok(DocKind::Docx));
    assert_eq!(detect(&docx[..docx.len() - 30], None), Ok(DocKind::Docx));
    // Main parts name the format even without the usual package parts before them.
    let xlsx = make_zip(&[("xl/workbook.xml", b"<workbook/>"), ("a.txt", b"a")]);
    assert_eq!(detect(&xlsx[..xlsx.len() - 30], None), Ok(DocKind::Xlsx));
}

#[test]
fn cut_containers_fall_back_to_the_extension() {
    // Only a local header of a part that says nothing: the name decides.
    let odd = make_zip(&[("a.bin", &[0u8; 64][..]), ("b.bin", b"x")]);
    let cut = &odd[..40];
    for (name, kind) in [
        ("x.odt", DocKind::Odt),
        ("x.odp", DocKind::Odp),
        ("x.ods", DocKind::Ods),
        ("x.pptx", DocKind::Pptx),
        ("x.xlsx", DocKind::Xlsx),
        ("x.docx", DocKind::Docx),
        ("x.epub", DocKind::Epub),
    ] {
        assert_eq!(detect(cut, Some(name)), Ok(kind), "{name}");
    }
    // Not a ZIP at all, but named as one of these: the reader says it is damaged.
    for (name, format) in [
        ("broken.odt", "OpenDocument text"),
        ("broken.odp", "OpenDocument presentation"),
        ("broken.pptx", "PowerPoint presentation"),
        ("broken.epub", "EPUB e-book"),
    ] {
        let e = ex(b"this is not a zip file at all", name).unwrap_err();
        assert!(
            matches!(&e, ExtractError::OfficeDamaged { format: f, .. } if f == format),
            "{name}: {e:?}"
        );
        assert!(
            e.to_string()
                .starts_with(&format!("{format} is damaged and could not be read (")),
            "{e}"
        );
    }
}

#[test]
fn a_plain_zip_is_still_unsupported() {
    let want = "unsupported file type: ZIP archive (application/zip)";
    let plain = make_zip(&[
        ("notes.txt", b"hello"),
        ("xl/readme.txt", b"a folder that happens to be called xl"),
        ("ppt/slides.txt", b"and one called ppt"),
    ]);
    for name in [None, Some("stuff.zip"), Some("stuff")] {
        assert_eq!(detect(&plain, name).unwrap_err().to_string(), want);
        let e = extract(&plain, name, &Limits::default()).unwrap_err();
        assert_eq!(e.to_string(), want);
    }
    // Cut short, too.
    assert_eq!(
        detect(&plain[..plain.len() - 30], Some("stuff.zip"))
            .unwrap_err()
            .to_string(),
        want
    );
    // A mimetype that names no format Trove reads.
    let odg = make_zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.graphics"),
        ("content.xml", b"<x/>"),
    ]);
    assert!(detect(&odg, None).is_err());
}

#[test]
fn rtf_mail_and_old_office_are_detected() {
    assert_eq!(
        detect(b"{\\rtf1\\ansi\\deff0 {\\fonttbl} Hello}", None),
        Ok(DocKind::Rtf)
    );
    assert_eq!(detect(b"{\\rtf1 x}", Some("a.txt")), Ok(DocKind::Rtf));

    let mail = b"Received: from mx.example.org by mail.example.com\r\n\
        \tfor <bob@example.com>; Mon, 1 Jan 2024 10:00:00 +0000\r\n\
        From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: Lunch\r\n\
        Message-ID: <1@example.org>\r\n\r\nSee you at noon.\r\n";
    assert_eq!(detect(mail, None), Ok(DocKind::Eml));
    assert_eq!(detect(mail, Some("message.txt")), Ok(DocKind::Eml));
    // Cut inside the header block (a scan reads the first 8 KiB; long Received chains
    // can fill them): four headers are enough.
    assert_eq!(detect(&mail[..190], None), Ok(DocKind::Eml));
    assert_eq!(detect(&mail[..170], None), Ok(DocKind::Text));
    let mut mbox = b"From alice@example.org Mon Jan  1 10:00:00 2024\n".to_vec();
    mbox.extend_from_slice(mail);
    assert_eq!(detect(&mbox, None), Ok(DocKind::Mbox));
    assert_eq!(detect(b"anything", Some("inbox.mbox")), Ok(DocKind::Mbox));
    assert_eq!(detect(b"anything", Some("saved.EML")), Ok(DocKind::Eml));
    // Prose is not mail.
    for text in [
        &b"From my point of view: this is prose.\nIt goes on.\n"[..],
        b"From: the desk of Alice\nThis line is prose, not a header.\n\n",
        b"Subject: notes\nDate: today\n\nNo header here says mail.\n",
        b"Title: My post\nTags: a, b\n\nBody.\n",
        b"Content-Type: text/plain\nContent-Length: 5\n\nhello",
    ] {
        assert_eq!(
            detect(text, None),
            Ok(DocKind::Text),
            "{:?}",
            String::from_utf8_lossy(text)
        );
    }

    let mut ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".to_vec();
    ole.resize(4096, 0);
    for (name, kind) in [
        ("a.doc", DocKind::Doc),
        ("a.DOT", DocKind::Doc),
        ("a.xls", DocKind::Xls),
        ("a.ppt", DocKind::Ppt),
        ("a.pps", DocKind::Ppt),
    ] {
        assert_eq!(detect(&ole, Some(name)), Ok(kind), "{name}");
    }
    assert!(detect(&ole, None).is_err());
    assert!(detect(&ole, Some("a.msi")).is_err());
    // An encrypted OOXML file is an OLE2 file too.
    assert!(detect(&ole, Some("secret.docx"))
        .unwrap_err()
        .to_string()
        .starts_with("unsupported file type: password-protected Office document"));
    // A text file called .xls (a CSV export, say) is read as text.
    assert_eq!(
        detect(b"a\tb\n1\t2\n", Some("export.xls")),
        Ok(DocKind::Text)
    );
}

#[test]
fn new_kinds_have_mime_labels_and_risk() {
    let all = [
        (
            DocKind::Odt,
            "application/vnd.oasis.opendocument.text",
            "OpenDocument text",
        ),
        (
            DocKind::Odp,
            "application/vnd.oasis.opendocument.presentation",
            "OpenDocument presentation",
        ),
        (
            DocKind::Ods,
            "application/vnd.oasis.opendocument.spreadsheet",
            "OpenDocument spreadsheet",
        ),
        (
            DocKind::Pptx,
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "PowerPoint presentation",
        ),
        (
            DocKind::Xlsx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Excel spreadsheet",
        ),
        (
            DocKind::Xls,
            "application/vnd.ms-excel",
            "Excel 97-2003 spreadsheet",
        ),
        (DocKind::Epub, "application/epub+zip", "EPUB e-book"),
        (DocKind::Rtf, "application/rtf", "RTF document"),
        (DocKind::Eml, "message/rfc822", "Email message"),
        (DocKind::Mbox, "application/mbox", "Mailbox (mbox)"),
        (DocKind::Doc, "application/msword", "Word 97-2003 document"),
        (
            DocKind::Ppt,
            "application/vnd.ms-powerpoint",
            "PowerPoint 97-2003 presentation",
        ),
    ];
    for (kind, mime, label) in all {
        assert_eq!((kind.mime(), kind.label()), (mime, label));
        let risky = matches!(kind, DocKind::Xls);
        assert_eq!(kind.is_risky(), risky, "{kind:?}");
    }
}

// ---------------------------------------------------------------- hostile input

const MIB: usize = 1024 * 1024;

/// 8 MiB of one repeated paragraph: a few KiB compressed.
fn big(open: &str, para: &str, close: &str) -> Vec<u8> {
    let mut xml = String::from(open);
    while xml.len() < 8 * MIB {
        xml.push_str(para);
    }
    xml.push_str(close);
    xml.into_bytes()
}

fn bomb_limits() -> Limits {
    Limits {
        docx_max_uncompressed: 4 * MIB as u64,
        ..Limits::default()
    }
}

fn assert_bomb(bytes: &[u8], name: &str, format: &str) {
    assert!(bytes.len() < 200 * 1024, "compressed size {}", bytes.len());
    let e = extract(bytes, Some(name), &bomb_limits()).unwrap_err();
    assert_eq!(
        e,
        ExtractError::OfficeTooLarge {
            format: format.into(),
            limit: 4 * MIB as u64
        }
    );
    assert_eq!(
        e.to_string(),
        format!("{format} unpacks to more than 4 MB (possible zip bomb)")
    );
    // The same file within the default limit is read.
    let ok = extract(bytes, Some(name), &Limits::default()).unwrap();
    assert!(ok.text.len() > MIB, "{} bytes of text", ok.text.len());
}

/// Make the zip directory (and local header) say `name` unpacks to `size` bytes.
fn lie_about_size(zip: &mut [u8], name: &[u8], size: u32) {
    let u16_at = |z: &[u8], i: usize| u16::from_le_bytes([z[i], z[i + 1]]) as usize;
    for i in 0..zip.len().saturating_sub(46) {
        let (name_len_at, name_at, size_at) = if zip[i..].starts_with(b"PK\x01\x02") {
            (i + 28, i + 46, i + 24)
        } else if zip[i..].starts_with(b"PK\x03\x04") {
            (i + 26, i + 30, i + 22)
        } else {
            continue;
        };
        if name_at + name.len() <= zip.len()
            && u16_at(zip, name_len_at) == name.len()
            && &zip[name_at..name_at + name.len()] == name
        {
            zip[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
        }
    }
}

fn assert_lying_bomb(mut bytes: Vec<u8>, part: &str, name: &str) {
    lie_about_size(&mut bytes, part.as_bytes(), 100);
    let e = extract(&bytes, Some(name), &bomb_limits()).unwrap_err();
    assert!(
        matches!(
            e,
            ExtractError::OfficeTooLarge { .. } | ExtractError::OfficeDamaged { .. }
        ),
        "{name}: {e:?}"
    );
}

#[test]
fn odt_zip_bomb_is_refused() {
    let content = big(
        r#"<office:document-content xmlns:office="o" xmlns:text="t"><office:body><office:text>"#,
        &format!("<text:p>{}</text:p>", "a".repeat(1000)),
        "</office:text></office:body></office:document-content>",
    );
    let bytes = make_zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", &content),
    ]);
    assert_eq!(detect(&bytes, None), Ok(DocKind::Odt));
    assert_bomb(&bytes, "bomb.odt", "OpenDocument text");
    assert_lying_bomb(bytes, "content.xml", "bomb.odt");
}

#[test]
fn pptx_zip_bomb_is_refused() {
    let slide = big(
        r#"<p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:sp><p:txBody>"#,
        &format!("<a:p><a:r><a:t>{}</a:t></a:r></a:p>", "b".repeat(1000)),
        "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>",
    );
    let bytes = make_zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("ppt/presentation.xml", b"<p:presentation xmlns:p=\"p\"/>"),
        ("ppt/slides/slide1.xml", &slide),
    ]);
    assert_eq!(detect(&bytes, None), Ok(DocKind::Pptx));
    assert_bomb(&bytes, "bomb.pptx", "PowerPoint presentation");
    assert_lying_bomb(bytes, "ppt/slides/slide1.xml", "bomb.pptx");
}

#[test]
fn epub_zip_bomb_is_refused() {
    let chapter = String::from_utf8(big(
        "<html><body>",
        &format!("<p>{}</p>", "c".repeat(1000)),
        "</body></html>",
    ))
    .unwrap();
    let bytes = epub(&[("one", &chapter)], &["one"]);
    assert_eq!(detect(&bytes, None), Ok(DocKind::Epub));
    assert_bomb(&bytes, "bomb.epub", "EPUB e-book");
    assert_lying_bomb(bytes, "OPS/text/one.xhtml", "bomb.epub");
}

/// The budget covers all parts together: many chapters each under the limit add up.
#[test]
fn epub_budget_is_shared_by_all_parts() {
    let chapter = format!("<html><body><p>{}</p></body></html>", "d".repeat(MIB));
    let ids = ["a", "b", "c", "d", "e", "f"];
    let chapters: Vec<(&str, &str)> = ids.iter().map(|id| (*id, chapter.as_str())).collect();
    let bytes = epub(&chapters, &ids);
    let e = extract(&bytes, Some("many.epub"), &bomb_limits()).unwrap_err();
    assert!(matches!(e, ExtractError::OfficeTooLarge { .. }), "{e:?}");
}

#[test]
fn damaged_containers_give_clear_errors() {
    // Parts missing.
    let odt = make_zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("meta.xml", b"<x/>"),
    ]);
    assert_eq!(
        ex(&odt, "a.odt").unwrap_err().to_string(),
        "OpenDocument text is damaged and could not be read (content.xml is missing)"
    );
    let odp = make_zip(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.presentation",
        ),
        (
            "content.xml",
            b"<office:document-content><office:body><draw:page>",
        ),
    ]);
    let e = ex(&odp, "a.odp").unwrap_err();
    assert!(
        matches!(&e, ExtractError::OfficeDamaged { reason, .. } if reason.contains("cut off")),
        "{e:?}"
    );
    let pptx = make_zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("ppt/slideLayouts/slideLayout1.xml", b"<x/>"),
    ]);
    assert_eq!(
        ex(&pptx, "a.pptx").unwrap_err().to_string(),
        "PowerPoint presentation is damaged and could not be read (ppt/presentation.xml is missing)"
    );
    let epub_no_opf = make_zip(&[
        ("mimetype", b"application/epub+zip"),
        ("x.html", b"<p>x</p>"),
    ]);
    let e = ex(&epub_no_opf, "a.epub").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("EPUB e-book is damaged and could not be read"),
        "{e}"
    );
    let no_chapters = epub(&[], &["ghost"]);
    assert!(
        matches!(
            ex(&no_chapters, "a.epub"),
            Err(ExtractError::OfficeDamaged { .. })
        ),
        "{:?}",
        ex(&no_chapters, "a.epub")
    );

    // Password-protected and DRM-protected files say so.
    let manifest = br#"<manifest:manifest xmlns:manifest="m"><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data manifest:checksum-type="SHA1/1K"/></manifest:file-entry></manifest:manifest>"#;
    let locked = make_zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", b"\x8f\x02\xa7 encrypted bytes \x00\x01"),
        ("META-INF/manifest.xml", manifest),
    ]);
    assert_eq!(
        ex(&locked, "secret.odt").unwrap_err().to_string(),
        "unsupported file type: password-protected OpenDocument text \
         (application/vnd.oasis.opendocument.text)"
    );
    let mut drm = epub(
        &[("one", "<html><body><p>garbled</p></body></html>")],
        &["one"],
    );
    let encryption = br#"<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><EncryptedData xmlns="http://www.w3.org/2001/04/xmlenc#"><CipherData><CipherReference URI="OPS/text/one.xhtml"/></CipherData></EncryptedData></encryption>"#;
    {
        let mut z = zip::ZipWriter::new_append(Cursor::new(&mut drm)).unwrap();
        z.start_file(
            "META-INF/encryption.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        z.write_all(encryption).unwrap();
        z.finish().unwrap();
    }
    assert_eq!(
        ex(&drm, "locked.epub").unwrap_err().to_string(),
        "unsupported file type: DRM-protected EPUB e-book (application/epub+zip)"
    );

    // Every fixture, cut and with bytes flipped: an error or text, never a panic.
    for (name, _) in FIXTURES {
        let bytes = fixture(name);
        for cut in [10, 100, 1000, bytes.len() / 2, bytes.len() - 1] {
            let r = ex(&bytes[..cut], name);
            assert!(!matches!(r, Err(ExtractError::Crashed { .. })), "{name}");
        }
        for step in [7usize, 101, 997] {
            let mut b = bytes.clone();
            for i in (step..b.len()).step_by(step * 13) {
                b[i] ^= 0x5a;
            }
            let r = ex(&b, name);
            assert!(
                !matches!(r, Err(ExtractError::Crashed { .. })),
                "{name}: {r:?}"
            );
        }
    }
}

#[test]
fn text_limit_applies_to_slides_and_chapters() {
    let limits = Limits {
        max_text_bytes: 40,
        ..Limits::default()
    };
    for (name, _) in FIXTURES {
        let e = extract(&fixture(name), Some(name), &limits).unwrap_err();
        assert!(
            matches!(e, ExtractError::TextTooLarge { .. }),
            "{name}: {e:?}"
        );
    }
}
