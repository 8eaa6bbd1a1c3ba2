//! Spreadsheets (XLSX, ODS, XLS), RTF, email (.eml, .mbox) and old binary Office files
//! (.doc, .ppt through LibreOffice), on fixtures made by real producers
//! (`tests/fixtures/formats/make-b.sh`) and on hostile inputs built here.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use trove_extract::{extract, DocKind, ExtractError, Extracted, Limits};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name)
}

fn ex(bytes: &[u8], name: &str) -> Result<Extracted, ExtractError> {
    extract(bytes, Some(name), &Limits::default())
}

/// An error that is not a caught panic.
fn clean_err(r: Result<Extracted, ExtractError>) -> ExtractError {
    match r {
        Ok(e) => panic!("expected an error, got {:?}: {:?}", e.kind, e.text),
        Err(e @ ExtractError::Crashed { .. }) => panic!("parser panicked: {e}"),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            e
        }
    }
}

fn no_panic(r: &Result<Extracted, ExtractError>) {
    if let Err(e @ ExtractError::Crashed { .. }) = r {
        panic!("parser panicked: {e}");
    }
}

// ---------------------------------------------------------------- spreadsheets

#[test]
fn workbooks_keep_sheets_headers_formulas_and_dates() {
    for (name, kind) in [
        ("workbook.xlsx", DocKind::Xlsx),
        ("workbook.ods", DocKind::Ods),
        ("workbook.xls", DocKind::Xls),
    ] {
        let e = ex(&fixture(name), name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(e.kind, kind, "{name}");
        assert_eq!(e.pages, Some(2), "{name}");
        let sheets: Vec<&str> = e.text.split('\x0c').collect();
        assert_eq!(sheets.len(), 2, "{name}: {:?}", e.text);
        assert_eq!(
            sheets[0],
            "Sheet: Sales\n\
             Region | Amount | Doubled | Shipped\n\
             Region: Northwind pelicans; Amount: 1250; Doubled: 2500; Shipped: 2024-03-15\n\
             Region: South; Amount: 980.5; Doubled: 1961; Shipped: 2024-04-01",
            "{name}"
        );
        assert_eq!(
            sheets[1],
            "Sheet: Notes\nTopic | Comment\nTopic: Flamingo; Comment: Order more feed; C: urgent",
            "{name}"
        );
    }
}

/// A minimal XLSX with one sheet whose XML is `sheet`.
fn xlsx(sheet: &[u8]) -> Vec<u8> {
    let parts: [(&str, &[u8]); 5] = [
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Big" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut buf = Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    for (name, data) in parts {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file(name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
    buf.into_inner()
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

#[test]
fn xlsx_declaring_ten_million_cells_is_refused() {
    let sheet = format!(
        r#"{SHEET_HEAD}<dimension ref="A1:J1000000"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>"#
    );
    let e = clean_err(ex(&xlsx(sheet.as_bytes()), "big.xlsx"));
    assert_eq!(
        e,
        ExtractError::SheetTooLarge {
            cells: 10_000_000,
            limit: 2_000_000
        }
    );
    assert_eq!(
        e.to_string(),
        "spreadsheet has 10,000,000 cells; Trove reads up to 2,000,000"
    );
}

#[test]
fn xlsx_with_too_many_real_cells_is_refused() {
    // No dimension; 20,001 rows of 100 numbers.
    let mut sheet = String::from(SHEET_HEAD);
    sheet.push_str("<sheetData>");
    let row = format!("<row>{}</row>", "<c><v>7</v></c>".repeat(100));
    for _ in 0..20_001 {
        sheet.push_str(&row);
    }
    sheet.push_str("</sheetData></worksheet>");
    let e = clean_err(ex(&xlsx(sheet.as_bytes()), "many.xlsx"));
    assert!(
        matches!(
            e,
            ExtractError::SheetTooLarge {
                cells: 2_000_001,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn xlsx_cells_far_apart_need_no_grid() {
    // A1 and XFD1048576: a dense grid would be 17 billion cells.
    let sheet = format!(
        r#"{SHEET_HEAD}<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>corner</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>9</v></c></row></sheetData></worksheet>"#
    );
    let e = ex(&xlsx(sheet.as_bytes()), "sparse.xlsx").unwrap();
    assert_eq!(e.text, "Sheet: Big\ncorner\nXFD: 9");
}

#[test]
fn xlsx_zip_bomb_is_refused() {
    let limits = Limits {
        docx_max_uncompressed: 1000,
        ..Limits::default()
    };
    for name in ["workbook.xlsx", "workbook.ods"] {
        let e = clean_err(extract(&fixture(name), Some(name), &limits));
        assert!(
            matches!(e, ExtractError::OfficeTooLarge { limit: 1000, .. }),
            "{name}: {e:?}"
        );
    }
}

#[test]
fn ods_repeating_rows_and_columns_is_refused() {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Bomb"><table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="1000" office:value-type="float" office:value="1"/></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
    let mut buf = Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("mimetype", stored).unwrap();
    z.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    z.start_file("META-INF/manifest.xml", stored).unwrap();
    z.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#).unwrap();
    z.start_file("content.xml", stored).unwrap();
    z.write_all(content.as_bytes()).unwrap();
    z.finish().unwrap();
    let e = clean_err(ex(&buf.into_inner(), "bomb.ods"));
    assert_eq!(
        e,
        ExtractError::SheetTooLarge {
            cells: 1_000_000_000,
            limit: 2_000_000
        }
    );
}

fn biff(typ: u16, data: &[u8]) -> Vec<u8> {
    let mut v = typ.to_le_bytes().to_vec();
    v.extend((data.len() as u16).to_le_bytes());
    v.extend(data);
    v
}

/// An XLS whose one sheet holds `records` (after its BOF).
fn xls(records: &[u8]) -> Vec<u8> {
    let bof = biff(
        0x0809,
        &[0x00, 0x06, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    );
    let name = b"Big";
    let bound = |pos: u32| {
        let mut d = pos.to_le_bytes().to_vec();
        d.extend([0, 0, name.len() as u8, 0]);
        d.extend(name);
        biff(0x0085, &d)
    };
    let globals_len = bof.len() + bound(0).len() + biff(0x000A, &[]).len();
    let mut stream = bof.clone();
    stream.extend(bound(globals_len as u32));
    stream.extend(biff(0x000A, &[]));
    stream.extend(biff(
        0x0809,
        &[0x00, 0x06, 0x10, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ));
    stream.extend(records);
    stream.extend(biff(0x000A, &[]));
    // Pad past 4096 bytes so the stream lives in regular sectors.
    stream.resize(stream.len().max(5000), 0);
    // Version 3, as Excel writes them (calamine wants a root mini stream in version 4).
    let mut cfb =
        cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new())).unwrap();
    cfb.create_stream("/Workbook")
        .unwrap()
        .write_all(&stream)
        .unwrap();
    cfb.flush().unwrap();
    cfb.into_inner().into_inner()
}

fn number(row: u16, col: u16) -> Vec<u8> {
    let mut d = row.to_le_bytes().to_vec();
    d.extend(col.to_le_bytes());
    d.extend(0u16.to_le_bytes());
    d.extend(7.0f64.to_le_bytes());
    biff(0x0203, &d)
}

#[test]
fn xls_grids_past_the_cap_are_refused() {
    // A readable one first: the hand-made file is valid.
    let ok = ex(&xls(&number(0, 0)), "small.xls").unwrap();
    assert_eq!(ok.kind, DocKind::Xls);
    assert_eq!(ok.text, "Sheet: Big\n7");

    // DIMENSIONS declaring 1,000,000 rows × 100 columns.
    let mut dim = 0u32.to_le_bytes().to_vec();
    dim.extend(1_000_000u32.to_le_bytes());
    dim.extend(0u16.to_le_bytes());
    dim.extend(100u16.to_le_bytes());
    dim.extend([0, 0]);
    let e = clean_err(ex(&xls(&biff(0x0200, &dim)), "dim.xls"));
    assert_eq!(
        e,
        ExtractError::SheetTooLarge {
            cells: 100_000_000,
            limit: 2_000_000
        }
    );

    // Two cells in opposite corners: a 65,536 × 256 grid.
    let mut far = number(0, 0);
    far.extend(number(65_535, 255));
    let e = clean_err(ex(&xls(&far), "far.xls"));
    assert_eq!(
        e,
        ExtractError::SheetTooLarge {
            cells: 16_777_216,
            limit: 2_000_000
        }
    );

    // Dimensions that end before they start (calamine's arithmetic would overflow).
    let mut bad = 10u32.to_le_bytes().to_vec();
    bad.extend(5u32.to_le_bytes());
    bad.extend(0u16.to_le_bytes());
    bad.extend(3u16.to_le_bytes());
    bad.extend([0, 0]);
    let e = clean_err(ex(&xls(&biff(0x0200, &bad)), "bad.xls"));
    assert!(matches!(e, ExtractError::OfficeDamaged { .. }), "{e:?}");
}

#[test]
fn damaged_workbooks_fail_cleanly() {
    for name in ["workbook.xlsx", "workbook.ods", "workbook.xls"] {
        let good = fixture(name);
        for cut in [good.len() / 3, good.len() / 2, good.len() - 100] {
            let r = ex(&good[..cut], name);
            no_panic(&r);
        }
        let mut flipped = good.clone();
        for i in (200..flipped.len()).step_by(97) {
            flipped[i] ^= 0x5a;
        }
        no_panic(&ex(&flipped, name));
    }
    // A ZIP that is not a workbook.
    let e = clean_err(ex(&xlsx(b"<worksheet><sheetData><row>"), "cut.xlsx"));
    assert!(!e.to_string().is_empty());
}

// ---------------------------------------------------------------- RTF

#[test]
fn rtf_from_libreoffice() {
    let e = ex(&fixture("memo.rtf"), "memo.rtf").unwrap();
    assert_eq!(e.kind, DocKind::Rtf);
    assert_eq!(e.title.as_deref(), Some("Memo about the axolotl tank"));
    assert_eq!(
        e.text,
        "Axolotl tank\n\
         The axolotl named Quetzal needs cooler water: café crème, über kalt, 10 °C — 水.\n\
         A second paragraph about the capybara."
    );
}

#[test]
fn rtf_nested_100_000_groups_deep_is_refused() {
    let deep = format!(
        "{{\\rtf1 {}deep{}}}",
        "{".repeat(100_000),
        "}".repeat(100_000)
    );
    let e = clean_err(ex(deep.as_bytes(), "deep.rtf"));
    assert_eq!(e, ExtractError::RtfTooDeep { limit: 10_000 });
    assert_eq!(
        e.to_string(),
        "RTF document nests groups more than 10000 deep (is it damaged?)"
    );
}

#[test]
fn damaged_rtf() {
    let good = fixture("memo.rtf");
    // Cut off: what was read is kept.
    let r = ex(&good[..good.len() - 60], "memo.rtf");
    no_panic(&r);
    let e = r.unwrap();
    assert!(e.text.contains("Quetzal"), "{}", e.text);
    // A huge \binN, unbalanced braces, a stray \u.
    for bad in [
        &b"{\\rtf1 a\\bin999999999999 b}"[..],
        b"{\\rtf1 }}}}} x",
        b"{\\rtf1 \\u",
        b"{\\rtf1 \\'",
        b"{\\rtf1 \\uc99999999999\\u65 abc}",
    ] {
        no_panic(&ex(bad, "bad.rtf"));
    }
}

// ---------------------------------------------------------------- email

#[test]
fn eml_with_plain_body_and_attachments() {
    let e = ex(&fixture("mail-plain.eml"), "mail-plain.eml").unwrap();
    assert_eq!(e.kind, DocKind::Eml);
    assert_eq!(e.title.as_deref(), Some("Heron migration report"));
    assert!(
        e.text.starts_with(
            "From: Ann Example <ann@example.com>\n\
             To: Bob Birder <bob@example.com>, carol@example.com\n\
             Date: 2024-03-15 10:30:00 +01:00\n\n\
             Hello Bob,\n\nthe grey herons arrived early this year.\n\nAnn\n\n"
        ),
        "{}",
        e.text
    );
    for want in [
        "Attachment: counts.csv\n\nspecies,count\ngrey heron,42\negret,7\n",
        "Attachment: notes.docx\n\nKingfisher nesting notes\n",
        "Attachment: survey.pdf (not read: PDF)",
        "Attachment: heron.png (not read: PNG image)",
    ] {
        assert!(e.text.contains(want), "missing {want:?} in\n{}", e.text);
    }
}

#[test]
fn html_only_email_has_no_tags() {
    let e = ex(&fixture("mail-html.eml"), "mail-html.eml").unwrap();
    assert_eq!(e.title.as_deref(), Some("Newsletter: ocelot sightings"));
    assert!(
        e.text.starts_with("From: News <news@example.org>\n"),
        "{}",
        e.text
    );
    assert!(e.text.contains("Ocelot news"), "{}", e.text);
    assert!(
        e.text.contains("An ocelot was spotted near the river."),
        "{}",
        e.text
    );
    for bad in ["<p", "<b", "</", "<h1", "track()", "color"] {
        assert!(!e.text.contains(bad), "{bad:?} in {}", e.text);
    }
}

#[test]
fn mbox_messages_are_pages() {
    let e = ex(&fixture("mailbox.mbox"), "mailbox.mbox").unwrap();
    assert_eq!(e.kind, DocKind::Mbox);
    assert_eq!(e.pages, Some(3));
    assert_eq!(e.title.as_deref(), Some("Mailbox (3 messages)"));
    let msgs: Vec<&str> = e.text.split('\x0c').collect();
    assert_eq!(msgs.len(), 3);
    assert_eq!(
        msgs[0],
        "Subject: Lemur enclosure\nFrom: keeper0@zoo.example\nTo: staff@zoo.example\n\
         Date: 2024-03-10 09:00:00 +00:00\n\nThe lemurs need a new climbing frame."
    );
    assert!(
        msgs[1].ends_with("Agreed.\nFrom the keepers: budget approved."),
        "{}",
        msgs[1]
    );
    assert!(msgs[2].contains("Tapirs get bananas"));
}

#[test]
fn email_attachments_are_bounded() {
    // Headers claiming a gigabyte, a small body; and a real 21 MiB text attachment.
    let big = "x".repeat(21 * 1024 * 1024);
    let mut b64 = String::new();
    for chunk in encode_base64(big.as_bytes()).as_bytes().chunks(76) {
        b64.push_str(std::str::from_utf8(chunk).unwrap());
        b64.push_str("\r\n");
    }
    let mail = format!(
        "From: a@example.com\r\nSubject: Big\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n\
         --zz\r\nContent-Type: text/plain\r\n\r\nbody words\r\n\
         --zz\r\nContent-Type: application/octet-stream; name=claims.bin\r\n\
         Content-Disposition: attachment; filename=claims.bin; size=1073741824\r\n\
         Content-Length: 1073741824\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n\
         --zz\r\nContent-Type: text/plain; name=huge.txt\r\n\
         Content-Disposition: attachment; filename=huge.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         {b64}--zz--\r\n"
    );
    let e = ex(mail.as_bytes(), "big.eml").unwrap();
    assert!(e.text.contains("body words"), "{}", e.text);
    assert!(
        e.text.contains("Attachment: claims.bin (not read:"),
        "{}",
        e.text
    );
    assert!(
        e.text
            .contains("Attachment: huge.txt (not read: too large)"),
        "{}",
        e.text
    );
    assert!(e.text.len() < 10_000, "{} bytes", e.text.len());

    // Attachment text shares the text limit.
    let limits = Limits {
        max_text_bytes: 200,
        ..Limits::default()
    };
    let r = extract(&fixture("mail-plain.eml"), Some("mail-plain.eml"), &limits);
    no_panic(&r);
}

fn encode_base64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len() / 3 * 4 + 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn damaged_email() {
    for (bytes, name) in [
        (&b"\x00\x01\x02binary\xff\xfe"[..], "x.eml"),
        (b"no headers at all", "x.eml"),
        (
            b"From: a\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--",
            "x.eml",
        ),
        (b"not a mailbox\n", "x.mbox"),
        (b"From \nFrom \nFrom \n", "x.mbox"),
    ] {
        no_panic(&ex(bytes, name));
    }
    let good = fixture("mail-plain.eml");
    for cut in [100, good.len() / 2, good.len() - 50] {
        no_panic(&ex(&good[..cut], "mail-plain.eml"));
    }
}

// ---------------------------------------------------------------- legacy Office

fn soffice() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join("soffice"))
        .find(|p| p.is_file());
    // Never skipped: scripts/install-deps.sh installs LibreOffice for the tests.
    assert!(
        found.is_some(),
        "soffice is needed: apt-get install libreoffice-writer-nogui libreoffice-impress-nogui (scripts/install-deps.sh)"
    );
    found
}

#[test]
fn legacy_messages() {
    assert_eq!(
        ExtractError::NeedsLibreOffice {
            what: "old Word document".into()
        }
        .to_string(),
        "old Word document — install LibreOffice to read it"
    );
    assert_eq!(
        ExtractError::NeedsLibreOffice {
            what: "old PowerPoint presentation".into()
        }
        .to_string(),
        "old PowerPoint presentation — install LibreOffice to read it"
    );
}

#[test]
fn old_word_document_through_libreoffice() {
    let Some(_) = soffice() else {
        let e = clean_err(ex(&fixture("memo.doc"), "memo.doc"));
        assert_eq!(
            e.to_string(),
            "old Word document — install LibreOffice to read it"
        );
        return;
    };
    let e = ex(&fixture("memo.doc"), "memo.doc").unwrap();
    assert_eq!(e.kind, DocKind::Doc);
    assert!(e.text.contains("Axolotl tank"), "{}", e.text);
    assert!(
        e.text.contains("Quetzal needs cooler water: café crème"),
        "{}",
        e.text
    );
    assert!(e.text.contains("capybara"), "{}", e.text);
    // From a path as the sandbox child reads it.
    let e = trove_extract::extract_file_with_progress(
        &fixture_path("memo.doc"),
        &Limits::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(e.text.contains("capybara"), "{}", e.text);
}

/// `legacy-deck.fodp` converted to `<dir>/legacy-deck.ppt` by LibreOffice.
fn make_ppt(soffice: &Path, dir: &Path) -> PathBuf {
    let profile = format!("-env:UserInstallation=file://{}/profile", dir.display());
    let status = std::process::Command::new(soffice)
        .args([
            "--headless",
            "--norestore",
            &profile,
            "--convert-to",
            "ppt",
            "--outdir",
        ])
        .arg(dir)
        .arg(fixture_path("legacy-deck.fodp"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    dir.join("legacy-deck.ppt")
}

/// The old formats are risky kinds: the app reads them in the sandbox child, whose
/// memory and file-size caps LibreOffice inherits.
#[test]
fn old_office_files_in_the_sandbox_child() {
    use trove_extract::sandbox::{extract_file_sandboxed, SandboxConfig};
    let mut cfg = SandboxConfig::new(env!("CARGO_BIN_EXE_trove-extract-child"));
    cfg.timeout = std::time::Duration::from_secs(120);
    let e = extract_file_sandboxed(&cfg, &fixture_path("workbook.xls")).unwrap();
    assert!(
        e.text.contains("Region: South; Amount: 980.5"),
        "{}",
        e.text
    );
    let Some(soffice) = soffice() else { return };
    let e = extract_file_sandboxed(&cfg, &fixture_path("memo.doc")).unwrap();
    assert!(e.text.contains("Quetzal"), "{}", e.text);
    let dir = tempfile::tempdir().unwrap();
    let e = extract_file_sandboxed(&cfg, &make_ppt(&soffice, dir.path())).unwrap();
    assert!(e.text.contains("narwhal"), "{}", e.text);
}

#[test]
fn old_powerpoint_through_libreoffice() {
    let Some(soffice) = soffice() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ppt = std::fs::read(make_ppt(&soffice, dir.path())).unwrap();
    let e = ex(&ppt, "deck.ppt").unwrap();
    assert_eq!(e.kind, DocKind::Ppt);
    assert_eq!(e.pages, Some(2), "{:?}", e.text);
    let slides: Vec<&str> = e.text.split('\x0c').collect();
    assert!(
        slides[0].contains("Quarterly platypus review"),
        "{}",
        e.text
    );
    assert!(
        slides[1].contains("Second slide about the narwhal"),
        "{}",
        e.text
    );
}

#[test]
fn damaged_old_word_document() {
    if soffice().is_none() {
        return;
    }
    // An OLE container without a Word stream.
    let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    cfb.create_stream("/Junk")
        .unwrap()
        .write_all(&[7u8; 5000])
        .unwrap();
    cfb.flush().unwrap();
    let bytes = cfb.into_inner().into_inner();
    let r = ex(&bytes, "broken.doc");
    no_panic(&r);
    if let Err(e) = r {
        assert!(!e.to_string().is_empty());
    }
}
