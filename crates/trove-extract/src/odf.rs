//! OpenDocument text (.odt) and presentations (.odp): `content.xml`, streamed.
//!
//! * Paragraphs and headings (`text:p`, `text:h`) are lines; `text:s` is spaces,
//!   `text:tab` a tab and `text:line-break` a line break. Other whitespace inside a
//!   paragraph collapses to one space, as ODF renders it.
//! * ODT footnotes and endnotes follow the body text, after a blank line.
//! * ODP: each `draw:page` is a slide; slides are separated by a form feed (`\x0c`) and
//!   counted in `pages`, so page numbers are slide numbers. Speaker notes
//!   (`presentation:notes`) follow their slide's text under a "Notes:" line.
//! * Deleted text kept for change tracking, comments, alt texts and field
//!   declarations are not visible and are skipped.
//!
//! The title is `dc:title` from `meta.xml`.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::zipdoc::{attr, check_len, dc_title, event_text, tidy, ZipDoc};
use crate::{DocKind, ExtractError, Extracted, Limits};

/// Elements whose content is never visible text.
const SKIP: &[&[u8]] = &[
    b"tracked-changes",
    b"note-citation",
    b"annotation",
    b"title",
    b"desc",
    b"sequence-decls",
    b"variable-decls",
    b"user-field-decls",
    b"forms",
    b"scripts",
    b"font-face-decls",
    b"automatic-styles",
];

/// Most spaces one `text:s` may stand for.
const MAX_SPACES: usize = 1024;

pub(crate) fn extract_odf(
    bytes: &[u8],
    kind: DocKind,
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    let mut zip = ZipDoc::open(bytes, kind, limits)?;
    let content = zip
        .read("content.xml")?
        .ok_or_else(|| zip.damaged("content.xml is missing"))?;
    let parsed = content_text(&content, kind == DocKind::Odp, limits);
    // Encrypted content is noise: it fails to parse, or parses as no text at all.
    let unreadable = match &parsed {
        Ok((text, _)) => text.is_empty(),
        Err(e) => !matches!(e, ExtractError::TextTooLarge { .. }),
    };
    if unreadable {
        if let Some(e) = encrypted(&mut zip, kind) {
            return Err(e);
        }
    }
    let (text, pages) = parsed?;
    let title = match zip.read("meta.xml") {
        Ok(Some(meta)) => dc_title(&meta),
        _ => None,
    };
    Ok(Extracted {
        kind,
        text,
        title,
        pages,
        encoding: None,
        extractor: None,
        metadata: Vec::new(),
    })
}

/// A password-protected document's `content.xml` is encrypted: say so instead of
/// calling it damaged.
fn encrypted(zip: &mut ZipDoc<'_>, kind: DocKind) -> Option<ExtractError> {
    let manifest = zip.read("META-INF/manifest.xml").ok()??;
    let needle = b"encryption-data";
    manifest
        .windows(needle.len())
        .any(|w| w == needle)
        .then(|| ExtractError::Unsupported {
            name: format!("password-protected {}", kind.label()),
            mime: kind.mime().to_owned(),
        })
}

/// Where text goes, with ODF's whitespace collapsing.
#[derive(Default)]
struct Sink {
    buf: String,
    /// The last character written was collapsible whitespace, or a line just started.
    space: bool,
}

impl Sink {
    fn text(&mut self, s: &str) {
        for c in s.chars() {
            if matches!(c, ' ' | '\t' | '\n' | '\r') {
                if !self.space {
                    self.buf.push(' ');
                    self.space = true;
                }
            } else {
                self.buf.push(c);
                self.space = false;
            }
        }
    }

    fn raw(&mut self, s: &str) {
        self.buf.push_str(s);
        self.space = false;
    }

    fn spaces(&mut self, n: usize) {
        self.buf.extend(std::iter::repeat_n(' ', n));
        self.space = false;
    }

    fn line_break(&mut self) {
        self.buf.push('\n');
        self.space = true;
    }
}

/// The text of `content.xml`, and the number of slides for a presentation.
fn content_text(
    xml: &[u8],
    presentation: bool,
    limits: &Limits,
) -> Result<(String, Option<u32>), ExtractError> {
    let kind = if presentation {
        DocKind::Odp
    } else {
        DocKind::Odt
    };
    let damaged = |reason: String| crate::zipdoc::damaged(kind, reason);
    let max = limits.max_text_bytes;
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(false);

    let mut body = Sink::default();
    let mut notes = Sink::default();
    // Finished slides, separated by form feeds.
    let mut out = String::new();
    let mut slides: u32 = 0;
    let mut depth = 0usize;
    let mut skip = 0usize;
    let mut para = 0usize;
    // Inside a footnote (ODT) or the speaker notes (ODP).
    let mut note = 0usize;
    let mut page = 0usize;

    loop {
        let ev = reader
            .read_event()
            .map_err(|e| damaged(format!("content.xml is not valid XML: {e}")))?;
        let sink = if note > 0 { &mut notes } else { &mut body };
        match &ev {
            Event::Start(e) => {
                depth += 1;
                if skip > 0 {
                    skip += 1;
                    continue;
                }
                let name = e.local_name();
                match name.as_ref() {
                    n if SKIP.contains(&n) => skip = 1,
                    b"p" | b"h" => {
                        para += 1;
                        sink.space = true;
                    }
                    b"note" => note += 1,
                    b"notes" if presentation => note += 1,
                    b"page" if presentation && e.name().as_ref() == b"draw:page" => {
                        page += 1;
                    }
                    b"s" if para > 0 => sink.spaces(space_count(e)),
                    b"tab" if para > 0 => sink.raw("\t"),
                    b"line-break" if para > 0 => sink.line_break(),
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if skip > 0 {
                    continue;
                }
                match e.local_name().as_ref() {
                    b"p" | b"h" => sink.line_break(),
                    b"s" if para > 0 => sink.spaces(space_count(e)),
                    b"tab" if para > 0 => sink.raw("\t"),
                    b"line-break" if para > 0 => sink.line_break(),
                    b"page" if presentation && e.name().as_ref() == b"draw:page" => {
                        end_slide(&mut out, &mut slides, &mut body, &mut notes);
                    }
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
                    b"p" | b"h" => {
                        para = para.saturating_sub(1);
                        sink.line_break();
                    }
                    b"note" => note = note.saturating_sub(1),
                    b"notes" if presentation => note = note.saturating_sub(1),
                    b"page" if presentation && page > 0 && e.name().as_ref() == b"draw:page" => {
                        page -= 1;
                        end_slide(&mut out, &mut slides, &mut body, &mut notes);
                    }
                    _ => {}
                }
            }
            Event::Eof if depth > 0 => {
                return Err(damaged("content.xml is cut off".into()));
            }
            Event::Eof => break,
            _ if skip == 0 && para > 0 => {
                if let Some(t) = event_text(&ev) {
                    sink.text(&t);
                }
            }
            _ => {}
        }
        check_len(&out, max)?;
        check_len(&body.buf, max)?;
        check_len(&notes.buf, max)?;
    }

    if presentation {
        return Ok((out, (slides > 0).then_some(slides)));
    }
    let mut text = tidy(&body.buf);
    let notes = tidy(&notes.buf);
    if !notes.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&notes);
    }
    Ok((text, None))
}

/// Append the slide in `body` (and its speaker notes) to `out`, and start the next one.
fn end_slide(out: &mut String, slides: &mut u32, body: &mut Sink, notes: &mut Sink) {
    if *slides > 0 {
        out.push('\x0c');
    }
    *slides = slides.saturating_add(1);
    out.push_str(&slide_text(&body.buf, &notes.buf));
    *body = Sink::default();
    *notes = Sink::default();
}

/// A slide's text, with its speaker notes under a "Notes:" line.
pub(crate) fn slide_text(body: &str, notes: &str) -> String {
    // A form feed would split the slide in two pages.
    let body = body.replace('\x0c', "\n");
    let notes = notes.replace('\x0c', "\n");
    let mut text = tidy(&body);
    let notes = tidy(&notes);
    if !notes.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str("Notes:\n");
        text.push_str(&notes);
    }
    text
}

/// How many spaces a `text:s` stands for (`text:c`, default 1).
fn space_count(e: &quick_xml::events::BytesStart<'_>) -> usize {
    attr(e, b"c")
        .and_then(|c| c.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_SPACES)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0""#;

    fn text(xml: &str, presentation: bool) -> (String, Option<u32>) {
        content_text(xml.as_bytes(), presentation, &Limits::default()).unwrap()
    }

    #[test]
    fn paragraphs_spaces_tabs_notes() {
        let xml = format!(
            r#"<office:document-content {NS}><office:body><office:text>
            <text:sequence-decls><text:sequence-decl text:name="Figure"/></text:sequence-decls>
            <text:h text:outline-level="1">The   Heading</text:h>
            <text:p>One<text:s text:c="3"/>two<text:tab/>three<text:line-break/>four &amp; &#233;</text:p>
            <text:p/>
            <text:p>Body<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body><text:p>The footnote.</text:p></text:note-body></text:note> goes on.</text:p>
            <text:tracked-changes><text:changed-region><text:deletion><text:p>deleted words</text:p></text:deletion></text:changed-region></text:tracked-changes>
            <text:p>Huge<text:s text:c="99999999999"/>gap</text:p>
            </office:text></office:body></office:document-content>"#
        );
        let (t, pages) = text(&xml, false);
        assert_eq!(pages, None);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "The Heading");
        assert_eq!(lines[1], "One   two\tthree");
        assert_eq!(lines[2], "four & é");
        assert_eq!(lines[3], "");
        assert_eq!(lines[4], "Body goes on.");
        assert!(lines[5].starts_with("Huge "), "{}", lines[5]);
        assert_eq!(lines[5].len(), 4 + MAX_SPACES + 3);
        assert!(t.ends_with("\n\nThe footnote."), "{t}");
        assert!(!t.contains("deleted"), "{t}");
        assert!(!t.contains('1'), "{t}");
    }

    #[test]
    fn slides_and_notes() {
        let xml = format!(
            r#"<office:document-content {NS}><office:body><office:presentation>
            <draw:page draw:name="page1"><draw:frame><draw:text-box><text:p>First slide</text:p></draw:text-box></draw:frame>
              <presentation:notes><draw:page-thumbnail/><draw:frame><draw:text-box><text:p>Say hello</text:p></draw:text-box></draw:frame></presentation:notes>
            </draw:page>
            <draw:page draw:name="page2"/>
            <draw:page draw:name="page3"><draw:frame><draw:text-box><text:p>Third</text:p><text:p>slide</text:p></draw:text-box></draw:frame></draw:page>
            </office:presentation></office:body></office:document-content>"#
        );
        let (t, pages) = text(&xml, true);
        assert_eq!(pages, Some(3));
        assert_eq!(t, "First slide\n\nNotes:\nSay hello\x0c\x0cThird\nslide");
    }

    #[test]
    fn cut_off_and_invalid() {
        let e = content_text(
            b"<office:document-content><text:p>x",
            false,
            &Limits::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("cut off"), "{e}");
        let e = content_text(b"<a></b>", true, &Limits::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("OpenDocument presentation is damaged"),
            "{e}"
        );
    }

    #[test]
    fn spaces_cannot_blow_up_the_text() {
        let mut xml = String::from("<office:text><text:p>");
        for _ in 0..2000 {
            xml.push_str(r#"<text:s text:c="1000"/>"#);
        }
        xml.push_str("</text:p></office:text>");
        let limits = Limits {
            max_text_bytes: 100_000,
            ..Limits::default()
        };
        let e = content_text(xml.as_bytes(), false, &limits).unwrap_err();
        assert!(matches!(e, ExtractError::TextTooLarge { .. }), "{e}");
    }
}
