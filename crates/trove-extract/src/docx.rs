//! DOCX: the main story (`word/document.xml`), paragraphs as lines.
//!
//! Zip bombs: every part is read through a counter capped at
//! `Limits::docx_max_uncompressed` (the declared sizes in the zip directory are
//! checked first, but not trusted).

use std::io::{Cursor, Read};

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::{DocKind, ExtractError, Extracted, Limits};

pub(crate) fn extract_docx(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| damaged(format!("it is not a valid ZIP container: {e}")))?;
    let mut budget = limits.docx_max_uncompressed;
    let doc = read_part(&mut zip, "word/document.xml", &mut budget, limits)?
        .ok_or_else(|| damaged("word/document.xml is missing".into()))?;
    let text = document_text(&doc)?;
    let title = match read_part(&mut zip, "docProps/core.xml", &mut budget, limits) {
        Ok(Some(core)) => core_title(&core),
        _ => None,
    };
    Ok(Extracted {
        kind: DocKind::Docx,
        text,
        title,
        pages: None,
        encoding: None,
        extractor: None,
    })
}

fn damaged(reason: String) -> ExtractError {
    ExtractError::DocxDamaged { reason }
}

/// Read one part, charging its uncompressed size to `budget`.
fn read_part(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    budget: &mut u64,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, ExtractError> {
    let too_large = ExtractError::DocxTooLarge {
        limit: limits.docx_max_uncompressed,
    };
    let file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(damaged(format!("cannot open {name}: {e}"))),
    };
    if file.size() > *budget {
        return Err(too_large);
    }
    let mut buf = Vec::with_capacity(file.size().min(16 * 1024 * 1024) as usize);
    // Read one byte more than allowed to tell "exactly at the limit" from "over".
    file.take(budget.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| damaged(format!("cannot unpack {name}: {e}")))?;
    if buf.len() as u64 > *budget {
        return Err(too_large);
    }
    *budget -= buf.len() as u64;
    Ok(Some(buf))
}

/// Text of `word/document.xml`: `w:t` runs, `w:tab` as tab, `w:br`/`w:cr` as
/// line break, one line per paragraph. Deleted text (`w:delText`) and field
/// codes (`w:instrText`) are not visible and are skipped.
fn document_text(xml: &[u8]) -> Result<String, ExtractError> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(false);
    let mut out = String::new();
    let mut in_t = 0usize;
    let mut depth = 0usize;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| damaged(format!("word/document.xml is not valid XML: {e}")))?;
        match ev {
            Event::Start(e) => {
                depth += 1;
                if e.local_name().as_ref() == b"t" {
                    in_t += 1;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match e.local_name().as_ref() {
                    b"t" => in_t = in_t.saturating_sub(1),
                    b"p" => out.push('\n'),
                    _ => {}
                }
            }
            Event::Empty(e) => match e.local_name().as_ref() {
                b"tab" => out.push('\t'),
                b"br" | b"cr" => out.push('\n'),
                b"p" => out.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_t > 0 => {
                let s = t
                    .xml_content()
                    .map_err(|e| damaged(format!("bad text encoding: {e}")))?;
                out.push_str(&s);
            }
            Event::CData(t) if in_t > 0 => {
                out.push_str(&String::from_utf8_lossy(&t));
            }
            Event::GeneralRef(r) if in_t > 0 => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push(c);
                } else if let Ok(name) = r.decode() {
                    if let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) {
                        out.push_str(s);
                    }
                }
            }
            Event::Eof if depth > 0 => {
                return Err(damaged("word/document.xml is cut off".into()));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // Trailing spaces on lines and trailing blank lines are noise.
    let mut text = String::with_capacity(out.len());
    for line in out.lines() {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text.truncate(text.trim_end().len());
    Ok(text)
}

/// `dc:title` from `docProps/core.xml`.
fn core_title(xml: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(xml);
    let mut in_title = false;
    let mut title = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if e.local_name().as_ref() == b"title" => in_title = true,
            Event::End(e) if e.local_name().as_ref() == b"title" => break,
            Event::Text(t) if in_title => title.push_str(&t.xml_content().ok()?),
            Event::GeneralRef(r) if in_title => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    title.push(c);
                } else if let Ok(name) = r.decode() {
                    title.push_str(quick_xml::escape::resolve_predefined_entity(&name)?);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_tabs_entities() {
        let xml = br#"<?xml version="1.0"?><w:document xmlns:w="x"><w:body>
            <w:p><w:r><w:t>Hello</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve"> A &amp; B &#233;</w:t></w:r></w:p>
            <w:p><w:r><w:delText>gone</w:delText><w:instrText>PAGE</w:instrText><w:t>Two</w:t><w:br/><w:t>Three</w:t></w:r></w:p>
            </w:body></w:document>"#;
        assert_eq!(
            document_text(xml).unwrap(),
            "Hello\t A & B \u{e9}\nTwo\nThree"
        );
    }

    #[test]
    fn title() {
        let xml = br#"<cp:coreProperties xmlns:dc="d"><dc:title>My &amp; Doc</dc:title></cp:coreProperties>"#;
        assert_eq!(core_title(xml).as_deref(), Some("My & Doc"));
    }
}
