//! PowerPoint presentations (.pptx): slides in presentation order.
//!
//! The order comes from `ppt/presentation.xml` (`p:sldIdLst`), resolved through
//! `ppt/_rels/presentation.xml.rels`; a presentation whose list cannot be read falls
//! back to the `ppt/slides/slideN.xml` parts in number order. Text runs (`a:t`) make
//! up paragraphs (`a:p`), one per line. Slides are separated by a form feed (`\x0c`)
//! and counted in `pages`, so page numbers are slide numbers. Speaker notes (the
//! slide's `notesSlide` relationship) follow their slide's text under a "Notes:" line.
//! Slide numbers, dates, headers and footers placeholders are left out.
//!
//! The title is `dc:title` from `docProps/core.xml`.

use std::collections::HashMap;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::odf::slide_text;
use crate::zipdoc::{attr, check_len, dc_title, event_text, folder, resolve, ZipDoc};
use crate::{DocKind, ExtractError, Extracted, Limits};

/// Most slides read from one presentation.
const MAX_SLIDES: usize = 10_000;

/// Placeholder types whose text is not the slide's own: slide number, date, header,
/// footer, and the slide image on a notes page.
const SKIP_PLACEHOLDERS: &[&str] = &["sldNum", "dt", "hdr", "ftr", "sldImg"];

const REL_SLIDE: &str = "/slide";
const REL_NOTES: &str = "/notesSlide";

pub(crate) fn extract_pptx(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut zip = ZipDoc::open(bytes, DocKind::Pptx, limits)?;
    let mut slides = slide_order(&mut zip)?;
    if slides.is_empty() {
        slides = numbered_slides(&zip);
    }
    if slides.is_empty() && !zip.has("ppt/presentation.xml") {
        return Err(zip.damaged("ppt/presentation.xml is missing"));
    }
    let max = limits.max_text_bytes;
    let mut text = String::new();
    for (i, part) in slides.iter().enumerate() {
        if i > 0 {
            text.push('\x0c');
        }
        // A slide the presentation lists but the file lacks is an empty page, so the
        // slides after it keep their numbers.
        let body = match zip.read(part)? {
            Some(xml) => shapes_text(&xml, part, &zip, max)?,
            None => String::new(),
        };
        let notes = match notes_part(&mut zip, part)? {
            Some(notes) => match zip.read(&notes)? {
                Some(xml) => shapes_text(&xml, &notes, &zip, max)?,
                None => String::new(),
            },
            None => String::new(),
        };
        text.push_str(&slide_text(&body, &notes));
        check_len(&text, max)?;
    }
    let title = match zip.read("docProps/core.xml") {
        Ok(Some(core)) => dc_title(&core),
        _ => None,
    };
    let count = slides.len() as u32;
    Ok(Extracted {
        kind: DocKind::Pptx,
        text,
        title,
        pages: (count > 0).then_some(count),
        encoding: None,
        extractor: None,
        metadata: Vec::new(),
    })
}

/// The slide parts in presentation order, from `p:sldIdLst` and the presentation's
/// relationships; empty when they cannot be read.
fn slide_order(zip: &mut ZipDoc<'_>) -> Result<Vec<String>, ExtractError> {
    const PRESENTATION: &str = "ppt/presentation.xml";
    let Some(xml) = zip.read(PRESENTATION)? else {
        return Ok(Vec::new());
    };
    let mut ids = Vec::new();
    let mut reader = Reader::from_reader(&xml[..]);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"sldId" => {
                // `r:id`: the relationship, not the plain numeric `id`.
                let rid = e.attributes().flatten().find_map(|a| {
                    (a.key.local_name().as_ref() == b"id" && a.key.prefix().is_some())
                        .then(|| String::from_utf8_lossy(&a.value).into_owned())
                });
                if let Some(rid) = rid {
                    ids.push(rid);
                    if ids.len() >= MAX_SLIDES {
                        break;
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let targets = relationships(zip, PRESENTATION, REL_SLIDE)?;
    Ok(ids
        .iter()
        .filter_map(|id| targets.get(id).cloned())
        .collect())
}

/// `ppt/slides/slideN.xml` parts, by N.
fn numbered_slides(zip: &ZipDoc<'_>) -> Vec<String> {
    let mut found: Vec<(u64, String)> = zip
        .names()
        .filter_map(|n| {
            let num = n.strip_prefix("ppt/slides/slide")?.strip_suffix(".xml")?;
            Some((num.parse().ok()?, n.to_string()))
        })
        .take(MAX_SLIDES)
        .collect();
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

/// The notes page of a slide, from the slide's relationships.
fn notes_part(zip: &mut ZipDoc<'_>, slide: &str) -> Result<Option<String>, ExtractError> {
    Ok(relationships(zip, slide, REL_NOTES)?.into_values().next())
}

/// Relationships of `part` whose type ends with `type_suffix`: id → target part.
fn relationships(
    zip: &mut ZipDoc<'_>,
    part: &str,
    type_suffix: &str,
) -> Result<HashMap<String, String>, ExtractError> {
    let dir = folder(part);
    let file = &part[dir.len()..];
    let rels_name = format!("{dir}_rels/{file}.rels");
    let mut map = HashMap::new();
    let Some(xml) = zip.read(&rels_name)? else {
        return Ok(map);
    };
    let mut reader = Reader::from_reader(&xml[..]);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"Relationship" => {
                let external = attr(&e, b"TargetMode").is_some_and(|m| m == "External");
                let typ = attr(&e, b"Type").unwrap_or_default();
                if external || !typ.ends_with(type_suffix) {
                    continue;
                }
                let (Some(id), Some(target)) = (attr(&e, b"Id"), attr(&e, b"Target")) else {
                    continue;
                };
                if let Some(target) = resolve(dir, &target) {
                    map.insert(id, target);
                }
                if map.len() > MAX_SLIDES {
                    break;
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    Ok(map)
}

/// The text of a slide or notes page: `a:t` runs, one line per `a:p`, `a:br` as a line
/// break; shapes that are slide-number, date, header or footer placeholders are skipped,
/// and so are the fallbacks of alternate content (they repeat the choice).
fn shapes_text(
    xml: &[u8],
    part: &str,
    zip: &ZipDoc<'_>,
    max: usize,
) -> Result<String, ExtractError> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(false);
    let mut out = String::new();
    // Text of the shape (`p:sp`) being read, and whether it is a skipped placeholder.
    let mut shape: Option<(String, bool)> = None;
    let mut in_t = 0usize;
    let mut skip = 0usize;
    let mut depth = 0usize;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| zip.damaged(format!("{part} is not valid XML: {e}")))?;
        let target = match shape.as_mut() {
            Some((buf, _)) => buf,
            None => &mut out,
        };
        match &ev {
            Event::Start(e) => {
                depth += 1;
                if skip > 0 {
                    skip += 1;
                    continue;
                }
                match e.local_name().as_ref() {
                    b"Fallback" => skip = 1,
                    b"sp" => shape = Some((String::new(), false)),
                    b"t" => in_t += 1,
                    b"br" => target.push('\n'),
                    b"ph" => mark_placeholder(&mut shape, e),
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if skip > 0 {
                    continue;
                }
                match e.local_name().as_ref() {
                    b"br" | b"p" => target.push('\n'),
                    b"ph" => mark_placeholder(&mut shape, e),
                    _ => {}
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                match e.local_name().as_ref() {
                    b"t" => in_t = in_t.saturating_sub(1),
                    b"p" => target.push('\n'),
                    b"sp" => {
                        if let Some((buf, skipped)) = shape.take() {
                            if !skipped {
                                out.push_str(&buf);
                                if !buf.ends_with('\n') {
                                    out.push('\n');
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof if depth > 0 => {
                return Err(zip.damaged(format!("{part} is cut off")));
            }
            Event::Eof => break,
            _ if in_t > 0 && skip == 0 => {
                if let Some(t) = event_text(&ev) {
                    target.push_str(&t);
                }
            }
            _ => {}
        }
        check_len(&out, max)?;
        if let Some((buf, _)) = &shape {
            check_len(buf, max)?;
        }
    }
    Ok(out)
}

fn mark_placeholder(shape: &mut Option<(String, bool)>, e: &quick_xml::events::BytesStart<'_>) {
    if let Some((_, skipped)) = shape.as_mut() {
        if attr(e, b"type").is_some_and(|t| SKIP_PLACEHOLDERS.contains(&t.as_str())) {
            *skipped = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_runs_and_placeholders() {
        let xml = br#"<p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree>
          <p:sp><p:nvSpPr><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr>
            <p:txBody><a:p><a:r><a:t>Big</a:t></a:r><a:r><a:t xml:space="preserve"> Title &amp; more</a:t></a:r></a:p></p:txBody></p:sp>
          <p:sp><p:txBody><a:p><a:r><a:t>line one</a:t></a:r><a:br/><a:r><a:t>line two</a:t></a:r></a:p><a:p/><a:p><a:r><a:t>next</a:t></a:r></a:p></p:txBody></p:sp>
          <p:sp><p:nvSpPr><p:nvPr><p:ph type="sldNum" idx="12"/></p:nvPr></p:nvSpPr>
            <p:txBody><a:p><a:fld type="slidenum"><a:t>7</a:t></a:fld></a:p></p:txBody></p:sp>
          <p:graphicFrame><a:graphic><a:graphicData><a:tbl><a:tr><a:tc><a:txBody><a:p><a:r><a:t>cell</a:t></a:r></a:p></a:txBody></a:tc></a:tr></a:tbl></a:graphicData></a:graphic></p:graphicFrame>
          <mc:AlternateContent xmlns:mc="mc"><mc:Choice><p:sp><p:txBody><a:p><a:r><a:t>chosen</a:t></a:r></a:p></p:txBody></p:sp></mc:Choice>
            <mc:Fallback><p:sp><p:txBody><a:p><a:r><a:t>fallback</a:t></a:r></a:p></p:txBody></p:sp></mc:Fallback></mc:AlternateContent>
        </p:spTree></p:cSld></p:sld>"#;
        let bytes = {
            let mut buf = std::io::Cursor::new(Vec::new());
            zip::ZipWriter::new(&mut buf).finish().unwrap();
            buf.into_inner()
        };
        let zip = ZipDoc::open(&bytes, DocKind::Pptx, &Limits::default()).unwrap();
        let text = shapes_text(xml, "ppt/slides/slide1.xml", &zip, usize::MAX).unwrap();
        assert_eq!(
            crate::zipdoc::tidy(&text),
            "Big Title & more\nline one\nline two\n\nnext\ncell\nchosen"
        );
    }
}
