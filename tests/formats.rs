//! Office documents, e-books, spreadsheets and email, black-box: the real binary reads a
//! folder of files made on this machine by their real producers (LibreOffice, python-pptx,
//! Python's `email`; see crates/trove-extract/tests/fixtures/formats/make*.sh), and each one
//! completes, is found by a word of its own, and keeps its structure (slides, sheets, the
//! subject of an email as its name).

use std::path::PathBuf;

use serde_json::Value;
use trove_tests::{repo_root, Sandbox};

fn fixtures() -> PathBuf {
    repo_root().join("crates/trove-extract/tests/fixtures/formats")
}

const FILES: &[&str] = &[
    "sample.odt",
    "sample.odp",
    "sample.pptx",
    "python-pptx.pptx",
    "sample.epub",
    "workbook.xlsx",
    "workbook.ods",
    "workbook.xls",
    "memo.rtf",
    "memo.doc",
    "mail-plain.eml",
    "mail-html.eml",
    "mailbox.mbox",
];

/// Search hits (name, page) for a word.
fn hits(sb: &Sandbox, word: &str) -> Vec<(String, Option<u64>)> {
    sb.json(&["search", "--mode", "keyword", word])["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["name"].as_str().unwrap().to_owned(), h["page"].as_u64()))
        .collect()
}

fn names(sb: &Sandbox, word: &str) -> Vec<String> {
    let mut n: Vec<String> = hits(sb, word).into_iter().map(|(n, _)| n).collect();
    n.sort();
    n
}

fn text_of(sb: &Sandbox, items: &[Value], name: &str) -> String {
    let item = items
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no item named {name}"));
    sb.ok(&["show", item["id"].as_str().unwrap(), "--text"])
}

#[test]
fn office_files_ebooks_spreadsheets_and_email_are_read_with_their_structure() {
    let sb = Sandbox::new();
    let dir = sb.files().join("office");
    std::fs::create_dir_all(&dir).unwrap();
    for f in FILES {
        std::fs::copy(fixtures().join(f), dir.join(f)).unwrap();
    }
    // A real ZIP archive is still refused, by that name (not taken for a document).
    let zip = {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file("readme.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, b"inside a zip").unwrap();
        w.finish().unwrap().into_inner()
    };
    std::fs::write(dir.join("bundle.zip"), zip).unwrap();

    sb.ok(&["add", dir.to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let items = sb.json(&["list"]).as_array().unwrap().clone();
    let failed: Vec<&Value> = items
        .iter()
        .filter(|i| i["status"] != "completed")
        .collect();
    assert_eq!(failed.len(), 1, "only the zip fails: {failed:#?}");
    assert_eq!(failed[0]["name"], "bundle.zip");
    assert!(
        failed[0]["error"].as_str().unwrap().contains("ZIP archive"),
        "{}",
        failed[0]
    );

    // Documents and the e-book made from the same text (an e-book is listed by its title).
    assert_eq!(
        names(&sb, "zanzibarite"),
        ["Trove Fixture Document", "sample.odt"]
    );
    // The axolotl's name, and (stemmed) the slide's "quetzals".
    assert_eq!(
        names(&sb, "Quetzal"),
        ["memo.doc", "memo.rtf", "python-pptx.pptx"]
    );

    // Slides are pages: a word on the second slide is found on page 2, speaker notes too.
    for deck in ["sample.odp", "sample.pptx"] {
        assert!(
            hits(&sb, "pangolins").contains(&(deck.to_owned(), Some(2))),
            "{deck}: {:?}",
            hits(&sb, "pangolins")
        );
    }
    assert!(
        hits(&sb, "axolotls").contains(&("Trove Python Slides".to_owned(), Some(2)))
            || hits(&sb, "axolotls").contains(&("python-pptx.pptx".to_owned(), Some(2))),
        "{:?}",
        hits(&sb, "axolotls")
    );
    // Speaker notes are read ("Thank the ocelots" is only in the last slide's notes; other
    // files have an "ocelot", which the stemmed index finds as well).
    let notes = hits(&sb, "ocelots");
    assert!(
        notes
            .iter()
            .any(|(n, _)| n == "Trove Python Slides" || n == "python-pptx.pptx"),
        "speaker notes are read: {notes:?}"
    );
    let units: Vec<Value> = sb.json(&["search", "--mode", "keyword", "pangolins"])["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["pageUnit"].clone())
        .collect();
    assert!(units.iter().all(|u| u == "slide"), "{units:?}");
    let shown = sb.ok(&["search", "--mode", "keyword", "pangolins"]);
    assert!(shown.contains("slide 2"), "{shown}");
    // Each slide is a passage of its own: the hit's snippet is slide 2, not the deck.
    assert!(!shown.contains("aardvarks"), "{shown}");

    // Spreadsheets: every sheet, each row as "header: value" pairs, formulas as values.
    assert_eq!(
        names(&sb, "pelicans"),
        ["workbook.ods", "workbook.xls", "workbook.xlsx"]
    );
    for book in ["workbook.xlsx", "workbook.ods", "workbook.xls"] {
        let text = text_of(&sb, &items, book);
        assert!(
            text.contains("Region: Northwind pelicans"),
            "{book}: {text}"
        );
        assert!(text.contains("2500"), "the formula's value, {book}: {text}");
        assert!(text.contains("Notes"), "the second sheet, {book}: {text}");
    }

    // Email: listed by subject; headers kept; the HTML-only message has no tags; attached
    // documents read into the message.
    let subjects: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
    assert!(subjects.contains(&"Heron migration report"), "{subjects:?}");
    assert!(
        subjects.contains(&"Newsletter: ocelot sightings"),
        "{subjects:?}"
    );
    assert_eq!(names(&sb, "herons"), ["Heron migration report"]);
    assert_eq!(
        names(&sb, "Kingfisher"),
        ["Heron migration report"],
        "attachment"
    );
    let mail = text_of(&sb, &items, "Heron migration report");
    assert!(mail.contains("From: Ann Example"), "{mail}");
    // From, To and Date are the message's details too (`show`, the app's item details).
    let report = items
        .iter()
        .find(|i| i["name"] == "Heron migration report")
        .unwrap();
    let shown = sb.json(&["show", report["id"].as_str().unwrap()]);
    assert_eq!(
        shown["item"]["metadata"],
        serde_json::json!([
            { "label": "From", "value": "Ann Example <ann@example.com>" },
            { "label": "To", "value": "Bob Birder <bob@example.com>, carol@example.com" },
            { "label": "Date", "value": "2024-03-15 10:30:00 +01:00" },
        ]),
        "{shown}"
    );
    let human = sb.ok(&["show", report["id"].as_str().unwrap()]);
    assert!(
        human.contains("  from       Ann Example <ann@example.com>\n"),
        "{human}"
    );
    // Other formats have none.
    let other = items.iter().find(|i| i["name"] == "bundle.zip").unwrap();
    assert_eq!(other["metadata"], serde_json::json!([]), "{other}");
    let html = text_of(&sb, &items, "Newsletter: ocelot sightings");
    assert!(html.contains("ocelot was spotted"), "{html}");
    for tag in ["<b>", "<p>", "<html", "<style", "color:red"] {
        assert!(!html.contains(tag), "no markup ({tag}): {html}");
    }
    assert!(!html.contains("track()"), "scripts are not text: {html}");
    // A mailbox: each message a section (page), all searchable.
    assert_eq!(hits(&sb, "Tapirs").len(), 1);
    assert_eq!(
        hits(&sb, "Tapirs")[0].1,
        Some(3),
        "{:?}",
        hits(&sb, "Tapirs")
    );
    let mbox = text_of(&sb, &items, &hits(&sb, "Tapirs")[0].0);
    assert!(mbox.contains("--- message 3 ---"), "{mbox}");
}
