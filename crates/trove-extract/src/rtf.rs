//! RTF: a small streaming reader for the text-bearing parts.
//!
//! No RTF crate on crates.io handled `\uN` with its `\ucN` fallback, `\'hh` bytes in the
//! document's (or the font's) code page and skipped destinations well enough, so this is
//! a single pass over the bytes with an explicit stack of group states (no recursion).
//! Groups nested deeper than [`MAX_DEPTH`] are refused; inside a skipped destination
//! nesting is only counted, so any depth is fine there.
//!
//! Text comes from the body (and headers and footers): `\par`, `\line`, `\sect`, `\page`
//! and `\row` end lines, `\tab` and `\cell` are tabs. Font, colour and style tables,
//! pictures, embedded objects' data, field instructions and every `{\*\...}` destination
//! are skipped; `{\info ...}` too, except its `{\title ...}`, which is the title.

use std::collections::HashMap;

use encoding_rs::Encoding;

use crate::{DocKind, ExtractError, Extracted, Limits};

/// Deepest group nesting read (real documents stay under a few dozen).
pub(crate) const MAX_DEPTH: usize = 10_000;

/// Longest title kept, in characters.
const MAX_TITLE_CHARS: usize = 1000;

/// Destinations whose text is not part of the document.
const SKIP: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "listtable",
    "listoverridetable",
    "revtbl",
    "rsidtbl",
    "filetbl",
    "pgdsctbl",
    "xmlnstbl",
    "latentstyles",
    "themedata",
    "colorschememapping",
    "datastore",
    "generator",
    "pict",
    "nonshppict",
    "object",
    "objdata",
    "objclass",
    "objname",
    "fldinst",
    "sp",
    "xe",
    "tc",
    "txe",
    "bkmkstart",
    "bkmkend",
    "private",
    "userprops",
    "docvar",
    "mmathPr",
    "footnote_placeholder",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    /// Document text.
    Body,
    /// `{\info ...}`: metadata, not shown.
    Info,
    /// `{\info{\title ...}}`.
    Title,
    /// A destination whose text is dropped.
    Skip,
    /// `{\fonttbl ...}`: read for the fonts' character sets only.
    Fonts,
}

#[derive(Debug, Clone, Copy)]
struct Group {
    dest: Dest,
    /// Fallback characters after `\uN` (`\ucN`).
    uc: u32,
    /// Code page of the current font, when it has its own character set.
    enc: Option<&'static Encoding>,
    /// Inside `{\listtext ...}`, a list item's number or bullet: its tab becomes a space.
    label: bool,
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    state: Group,
    stack: Vec<Group>,
    /// Groups opened inside the current skipped destination.
    skip_nesting: usize,
    /// Fallback characters still to skip after a `\uN`.
    unicode_skip: u32,
    /// A high surrogate from `\uN`, waiting for its low half.
    high_surrogate: Option<u16>,
    /// Document code page (`\ansicpg`).
    doc_enc: &'static Encoding,
    /// Plain and `\'hh` bytes not yet decoded (a DBCS character may span two escapes).
    pending: Vec<u8>,
    text: String,
    title: String,
    /// Font table: font number → code page of its character set.
    fonts: HashMap<i64, &'static Encoding>,
    /// The font being defined in the font table.
    font_num: Option<i64>,
    limits: &'a Limits,
}

pub(crate) fn extract_rtf(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let start = bytes
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let body = bytes[start..]
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(&bytes[start..]);
    if !body.starts_with(b"{\\rtf") {
        return Err(damaged("it does not start with {\\rtf"));
    }
    let mut r = Reader {
        b: body,
        i: 0,
        state: Group {
            dest: Dest::Body,
            uc: 1,
            enc: None,
            label: false,
        },
        stack: Vec::new(),
        skip_nesting: 0,
        unicode_skip: 0,
        high_surrogate: None,
        doc_enc: encoding_rs::WINDOWS_1252,
        pending: Vec::new(),
        text: String::new(),
        title: String::new(),
        fonts: HashMap::new(),
        font_num: None,
        limits,
    };
    r.run()?;
    let title = r.title.split_whitespace().collect::<Vec<_>>().join(" ");
    let title: String = title.chars().take(MAX_TITLE_CHARS).collect();
    Ok(Extracted {
        kind: DocKind::Rtf,
        text: tidy(&r.text),
        title: (!title.is_empty()).then_some(title),
        pages: None,
        encoding: None,
        extractor: None,
        metadata: Vec::new(),
    })
}

fn damaged(reason: &str) -> ExtractError {
    ExtractError::OfficeDamaged {
        format: DocKind::Rtf.label().to_owned(),
        reason: reason.to_owned(),
    }
}

/// Trailing blanks on lines and blank lines at the ends go; at most one empty line in a row.
fn tidy(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut blank = 0;
    for line in raw.split('\n') {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_matches('\n').to_owned()
}

/// The encoding of a Windows code page number, if encoding_rs has it.
fn code_page(cp: i64) -> Option<&'static Encoding> {
    let label = match cp {
        65001 => "utf-8",
        437 | 850 | 1252 => "windows-1252",
        10000 => "macintosh",
        932 => "shift_jis",
        936 => "gbk",
        949 => "euc-kr",
        950 => "big5",
        874 => "windows-874",
        866 => "ibm866",
        1250..=1258 => return Encoding::for_label(format!("windows-{cp}").as_bytes()),
        _ => return None,
    };
    Encoding::for_label(label.as_bytes())
}

/// The code page of a `\fcharsetN` character set.
fn charset(n: i64) -> Option<&'static Encoding> {
    code_page(match n {
        0 => 1252,
        77 => 10000,
        128 => 932,
        129 => 949,
        134 => 936,
        136 => 950,
        161 => 1253,
        162 => 1254,
        163 => 1258,
        177 => 1255,
        178 => 1256,
        186 => 1257,
        204 => 1251,
        222 => 874,
        238 => 1250,
        _ => return None,
    })
}

impl Reader<'_> {
    fn run(&mut self) -> Result<(), ExtractError> {
        while self.i < self.b.len() {
            let c = self.b[self.i];
            self.i += 1;
            match c {
                b'{' => {
                    self.flush();
                    self.unicode_skip = 0;
                    if self.state.dest == Dest::Skip {
                        self.skip_nesting += 1;
                        continue;
                    }
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(ExtractError::RtfTooDeep { limit: MAX_DEPTH });
                    }
                    self.stack.push(self.state);
                }
                b'}' => {
                    self.flush();
                    self.unicode_skip = 0;
                    if self.state.dest == Dest::Skip && self.skip_nesting > 0 {
                        self.skip_nesting -= 1;
                        continue;
                    }
                    if self.state.dest == Dest::Fonts {
                        self.font_num = None;
                    }
                    match self.stack.pop() {
                        Some(s) => self.state = s,
                        // The document's group is closed: what follows is not RTF.
                        None => break,
                    }
                    if self.stack.is_empty() {
                        break;
                    }
                }
                b'\\' => self.control()?,
                b'\r' | b'\n' | 0 => {}
                _ => {
                    if self.state.dest == Dest::Skip {
                        continue;
                    }
                    if self.unicode_skip > 0 {
                        self.unicode_skip -= 1;
                        continue;
                    }
                    if self.state.dest == Dest::Fonts {
                        continue;
                    }
                    self.pending.push(c);
                }
            }
            if self.text.len() > self.limits.max_text_bytes {
                return Err(ExtractError::TextTooLarge {
                    size: self.text.len() as u64,
                    limit: self.limits.max_text_bytes as u64,
                });
            }
        }
        self.flush();
        Ok(())
    }

    /// Decode the pending bytes into the current destination.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let enc = self.state.enc.unwrap_or(self.doc_enc);
        let (s, _) = enc.decode_without_bom_handling(&self.pending);
        match self.state.dest {
            Dest::Body => self.text.push_str(&s),
            Dest::Title if self.title.len() < MAX_TITLE_CHARS * 4 => self.title.push_str(&s),
            _ => {}
        }
        self.pending.clear();
    }

    fn push(&mut self, s: &str) {
        self.flush();
        match self.state.dest {
            Dest::Body => self.text.push_str(s),
            Dest::Title if self.title.len() < MAX_TITLE_CHARS * 4 => self.title.push_str(s),
            _ => {}
        }
    }

    /// After a backslash.
    fn control(&mut self) -> Result<(), ExtractError> {
        let Some(&c) = self.b.get(self.i) else {
            return Ok(());
        };
        if c.is_ascii_alphabetic() {
            let start = self.i;
            while self.i < self.b.len()
                && self.b[self.i].is_ascii_alphabetic()
                && self.i - start < 32
            {
                self.i += 1;
            }
            let word = &self.b[start..self.i];
            let mut param: Option<i64> = None;
            let neg = self.b.get(self.i) == Some(&b'-');
            let digits_at = self.i + usize::from(neg);
            let mut j = digits_at;
            while j < self.b.len() && self.b[j].is_ascii_digit() && j - digits_at < 10 {
                j += 1;
            }
            if j > digits_at {
                let n: i64 = std::str::from_utf8(&self.b[digits_at..j])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                param = Some(if neg { -n } else { n });
                self.i = j;
            }
            if self.b.get(self.i) == Some(&b' ') {
                self.i += 1;
            }
            let word = std::str::from_utf8(word).unwrap_or("");
            self.word(word, param);
            return Ok(());
        }
        self.i += 1;
        match c {
            b'\'' => {
                let hex = self.b.get(self.i..self.i + 2).and_then(|h| {
                    std::str::from_utf8(h)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                });
                if let Some(byte) = hex {
                    self.i += 2;
                    if self.state.dest == Dest::Skip || self.state.dest == Dest::Fonts {
                        return Ok(());
                    }
                    if self.unicode_skip > 0 {
                        self.unicode_skip -= 1;
                        return Ok(());
                    }
                    self.pending.push(byte);
                }
            }
            b'*' if self.state.dest != Dest::Skip => {
                self.flush();
                self.enter_skip();
            }
            _ if self.state.dest == Dest::Skip => {}
            _ if self.unicode_skip > 0 => self.unicode_skip -= 1,
            b'\\' | b'{' | b'}' => self.pending.push(c),
            b'~' => self.push("\u{a0}"),
            b'_' => self.push("\u{2011}"),
            b'\r' | b'\n' => self.push("\n"),
            // Optional hyphen, index subentry, formula character.
            _ => {}
        }
        Ok(())
    }

    fn enter_skip(&mut self) {
        self.state.dest = Dest::Skip;
        self.skip_nesting = 0;
    }

    fn word(&mut self, word: &str, param: Option<i64>) {
        self.flush();
        if self.state.dest == Dest::Skip {
            if word == "bin" {
                self.skip_binary(param);
            }
            return;
        }
        if self.state.dest == Dest::Fonts {
            match word {
                "f" => self.font_num = param,
                "fcharset" => {
                    if let (Some(f), Some(enc)) = (self.font_num, param.and_then(charset)) {
                        self.fonts.insert(f, enc);
                    }
                }
                "bin" => self.skip_binary(param),
                _ => {}
            }
            return;
        }
        if word != "u" && self.unicode_skip > 0 {
            // A control word stands for one fallback character.
            self.unicode_skip -= 1;
            if word == "bin" {
                self.skip_binary(param);
            }
            return;
        }
        let text = match word {
            "tab" if self.state.label => {
                // "1." then the item; an empty label (an unnumbered heading) leaves nothing.
                self.flush();
                if !(self.text.is_empty() || self.text.ends_with('\n')) {
                    self.push(" ");
                }
                return;
            }
            "listtext" => {
                self.state.label = true;
                return;
            }
            "par" | "line" | "sect" | "page" | "row" | "softline" => "\n",
            "tab" | "cell" | "nestcell" => "\t",
            "emdash" => "\u{2014}",
            "endash" => "\u{2013}",
            "bullet" => "\u{2022}",
            "lquote" => "\u{2018}",
            "rquote" => "\u{2019}",
            "ldblquote" => "\u{201c}",
            "rdblquote" => "\u{201d}",
            "emspace" | "enspace" | "qmspace" => " ",
            "u" => {
                self.unicode(param.unwrap_or(0));
                return;
            }
            "uc" => {
                self.state.uc = param.unwrap_or(1).clamp(0, 16) as u32;
                return;
            }
            "ansicpg" => {
                if let Some(enc) = param.and_then(code_page) {
                    self.doc_enc = enc;
                }
                return;
            }
            "mac" => {
                self.doc_enc = encoding_rs::MACINTOSH;
                return;
            }
            "f" => {
                self.state.enc = param.and_then(|n| self.fonts.get(&n).copied());
                return;
            }
            "bin" => {
                self.skip_binary(param);
                return;
            }
            "fonttbl" => {
                self.state.dest = Dest::Fonts;
                self.font_num = None;
                return;
            }
            "info" => {
                self.state.dest = Dest::Info;
                return;
            }
            "title" if self.state.dest == Dest::Info => {
                self.state.dest = Dest::Title;
                return;
            }
            _ if self.state.dest == Dest::Info => {
                // Author, dates, comments: not shown.
                self.enter_skip();
                return;
            }
            w if SKIP.contains(&w) => {
                self.enter_skip();
                return;
            }
            _ => return,
        };
        self.push(text);
    }

    /// `\uN`: a UTF-16 code unit (negative for those above 32767), then `\ucN` fallback
    /// characters to skip.
    fn unicode(&mut self, n: i64) {
        self.unicode_skip = self.state.uc;
        let unit = if n < 0 { n + 65_536 } else { n };
        let Ok(unit) = u16::try_from(unit) else {
            return;
        };
        match unit {
            0xD800..=0xDBFF => self.high_surrogate = Some(unit),
            0xDC00..=0xDFFF => {
                if let Some(high) = self.high_surrogate.take() {
                    if let Some(Ok(ch)) = char::decode_utf16([high, unit]).next() {
                        self.push(ch.encode_utf8(&mut [0; 4]));
                    }
                }
            }
            _ => {
                self.high_surrogate = None;
                if let Some(ch) = char::from_u32(unit as u32) {
                    self.push(ch.encode_utf8(&mut [0; 4]));
                }
            }
        }
    }

    /// `\binN`: N bytes of binary data follow.
    fn skip_binary(&mut self, n: Option<i64>) {
        let n = usize::try_from(n.unwrap_or(0).max(0)).unwrap_or(usize::MAX);
        self.i = self.i.saturating_add(n).min(self.b.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(rtf: &str) -> (String, Option<String>) {
        let e = extract_rtf(rtf.as_bytes(), &Limits::default()).unwrap();
        (e.text, e.title)
    }

    #[test]
    fn paragraphs_escapes_and_destinations() {
        let rtf = r#"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0\fswiss Arial;}}{\colortbl;\red0\green0\blue0;}
{\stylesheet{\s0 Normal;}}{\info{\title My \'e9t\'e9 notes}{\author Someone}}
{\*\generator Writer}\pard\plain Hello \b world\b0\par
Caf\'e9 \u8364? and \uc2\u8212\'97\'97 done\line next\tab col{\pict\pngblip 89504e47}\par
{\field{\*\fldinst HYPERLINK "x"}{\fldrslt link text}}\par}"#;
        let (t, title) = text(rtf);
        assert_eq!(
            t,
            "Hello world\nCaf\u{e9} \u{20ac} and \u{2014} done\nnext\tcol\nlink text"
        );
        assert_eq!(title.as_deref(), Some("My \u{e9}t\u{e9} notes"));
    }

    #[test]
    fn code_pages_and_font_charsets() {
        let rtf = r"{\rtf1 {\listtext\tab}Heading\par{\listtext 1.\tab}one\par}";
        assert_eq!(text(rtf).0, "Heading\n1. one");
        let rtf = r"{\rtf1\ansi\ansicpg1251 \'cf\'f0\'e8\'e2\'e5\'f2\par}";
        assert_eq!(text(rtf).0, "\u{41f}\u{440}\u{438}\u{432}\u{435}\u{442}");
        let rtf = r"{\rtf1\ansi{\fonttbl{\f1\fcharset128 MS Mincho;}}{\f1 \'82\'a0}\par}";
        assert_eq!(text(rtf).0, "\u{3042}");
        // A surrogate pair.
        let rtf = r"{\rtf1 \u-10179?\u-8704?\par}";
        assert_eq!(text(rtf).0, "\u{1f600}");
    }

    #[test]
    fn binary_and_deep_nesting() {
        let mut rtf = b"{\\rtf1 A{\\pict\\bin4 }}}}}".to_vec();
        rtf.extend(b" B}");
        assert_eq!(extract_rtf(&rtf, &Limits::default()).unwrap().text, "A B");
        let deep = format!("{{\\rtf1 {}x{}}}", "{".repeat(100_000), "}".repeat(100_000));
        assert_eq!(
            extract_rtf(deep.as_bytes(), &Limits::default()).unwrap_err(),
            ExtractError::RtfTooDeep { limit: MAX_DEPTH }
        );
        let skipped = format!(
            "{{\\rtf1 a{{\\*\\x {}y{}}}b}}",
            "{".repeat(100_000),
            "}".repeat(100_000)
        );
        assert_eq!(text(&skipped).0, "ab");
        assert_eq!(text(r"{\rtf1 a{\*\x {\*\y z} w}b}").0, "ab");
    }

    #[test]
    fn not_rtf() {
        assert!(matches!(
            extract_rtf(b"hello", &Limits::default()),
            Err(ExtractError::OfficeDamaged { .. })
        ));
    }
}
