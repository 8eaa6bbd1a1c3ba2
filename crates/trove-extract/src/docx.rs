//! DOCX: the main story (`word/document.xml`), paragraphs as lines.
//!
//! Parts are read through [`ZipDoc`], under the shared zip-bomb budget.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::zipdoc::{dc_title, ZipDoc};
use crate::{DocKind, ExtractError, Extracted, Limits};

pub(crate) fn extract_docx(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut zip = ZipDoc::open(bytes, DocKind::Docx, limits)?;
    let doc = zip
        .read("word/document.xml")?
        .ok_or_else(|| damaged("word/document.xml is missing".into()))?;
    let text = document_text(&doc)?;
    let title = match zip.read("docProps/core.xml") {
        Ok(Some(core)) => dc_title(&core),
        _ => None,
    };
    Ok(Extracted {
        kind: DocKind::Docx,
        text,
        title,
        pages: None,
        encoding: None,
        extractor: None,
        metadata: Vec::new(),
    })
}

fn damaged(reason: String) -> ExtractError {
    ExtractError::DocxDamaged { reason }
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
}
