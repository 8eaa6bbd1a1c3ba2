//! Character decoding for textual formats.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

use crate::ExtractError;

/// How much of the start of a file the binary heuristic looks at.
const SNIFF_LEN: usize = 64 * 1024;
/// How much of a non-UTF-8 file chardetng looks at.
const DETECT_LEN: usize = 256 * 1024;

/// Decode `bytes` into a `String`.
///
/// Order: BOM (UTF-8, UTF-16 LE/BE), BOM-less UTF-16 (by its NUL pattern),
/// binary refusal (NUL or many control bytes), valid UTF-8, and otherwise the
/// legacy encoding guessed by `chardetng` (Windows-1252 for Latin-1 text, Shift_JIS, ...).
/// Returns the text and the encoding's name (e.g. `"UTF-8"`, `"windows-1252"`).
pub fn decode_text(bytes: &[u8]) -> Result<(String, &'static str), ExtractError> {
    if bytes.is_empty() {
        return Err(ExtractError::Empty);
    }
    if let Some((text, enc)) = decode_bom(bytes) {
        return Ok((text, enc.name()));
    }
    if let Some(enc) = bomless_utf16(bytes) {
        let (text, _) = enc.decode_without_bom_handling(bytes);
        return Ok((text.into_owned(), enc.name()));
    }
    if looks_binary(bytes) {
        return Err(ExtractError::Binary { name: None });
    }
    let (text, enc) = decode_guessed(bytes);
    Ok((text, enc.name()))
}

/// Decode text that came with a declared character set, e.g. a web page's
/// `Content-Type: …; charset=…` header or its `<meta charset>`.
///
/// Order: BOM, then the declared `label` (a WHATWG encoding label such as
/// `"ISO-8859-1"` or `"utf-8"`; unknown labels are ignored), then the same
/// fallback as [`decode_text`]: valid UTF-8, otherwise the encoding `chardetng`
/// guesses (so a Latin-1 page that declares nothing still reads "café").
/// Never fails: invalid sequences become U+FFFD and empty input gives "".
/// Returns the text and the encoding used.
pub fn decode_declared(bytes: &[u8], label: Option<&str>) -> (String, &'static Encoding) {
    if let Some((text, enc)) = decode_bom(bytes) {
        return (text, enc);
    }
    let declared = label
        .and_then(|l| Encoding::for_label(l.trim().trim_matches(['"', '\'']).trim().as_bytes()));
    if let Some(enc) = declared {
        let (text, _) = enc.decode_without_bom_handling(bytes);
        return (text.into_owned(), enc);
    }
    decode_guessed(bytes)
}

/// Text after a byte-order mark, when there is one.
fn decode_bom(bytes: &[u8]) -> Option<(String, &'static Encoding)> {
    let (enc, bom_len) = Encoding::for_bom(bytes)?;
    let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
    Some((text.into_owned(), enc))
}

/// UTF-8 when the bytes are valid UTF-8, otherwise the legacy encoding `chardetng` guesses.
fn decode_guessed(bytes: &[u8]) -> (String, &'static Encoding) {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return (s.to_owned(), UTF_8);
    }
    // chardetng runs at ~16 MB/s; a prefix is plenty to recognise the encoding.
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    det.feed(&bytes[..bytes.len().min(DETECT_LEN)], true);
    let enc = det.guess(None, chardetng::Utf8Detection::Allow);
    let (text, _) = enc.decode_without_bom_handling(bytes);
    (text.into_owned(), enc)
}

/// True when the bytes are (very likely) not text in any 8-bit or UTF-8 encoding:
/// a NUL byte, or more than 2 % C0 control bytes other than tab, newlines,
/// form feed and escape, in the first 64 KiB.
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(SNIFF_LEN)];
    if sample.is_empty() {
        return false;
    }
    let mut controls = 0usize;
    for &b in sample {
        match b {
            0 => return true,
            b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1b => {}
            0x01..=0x1f | 0x7f => controls += 1,
            _ => {}
        }
    }
    controls * 50 > sample.len()
}

/// BOM-less UTF-16 detected by its NUL pattern: mostly-ASCII UTF-16 has a NUL
/// in every other byte.
pub(crate) fn bomless_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(SNIFF_LEN) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let (mut even_nul, mut odd_nul) = (0usize, 0usize);
    for p in sample.chunks_exact(2) {
        even_nul += usize::from(p[0] == 0);
        odd_nul += usize::from(p[1] == 0);
    }
    let mostly = |n: usize| n * 10 >= pairs * 9;
    let rarely = |n: usize| n * 20 <= pairs;
    if mostly(odd_nul) && rarely(even_nul) {
        Some(UTF_16LE)
    } else if mostly(even_nul) && rarely(odd_nul) {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// `\r\n` and lone `\r` become `\n`.
pub(crate) fn normalize_newlines(s: String) -> String {
    if !s.contains('\r') {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// The title of a Markdown document: a `title:` in YAML front matter, else the first
/// level-1 ATX heading (`# Title`, closing `#`s removed) among the first 100 lines.
pub fn markdown_title(text: &str) -> Option<String> {
    let mut lines = text.lines().take(100).peekable();
    if lines.peek().map(|l| l.trim_end()) == Some("---") {
        lines.next();
        for line in lines.by_ref() {
            let l = line.trim_end();
            if l == "---" || l == "..." {
                break;
            }
            if let Some(t) = l.strip_prefix("title:") {
                let t = t.trim().trim_matches(|c| c == '"' || c == '\'').trim();
                if !t.is_empty() {
                    return Some(t.to_string());
                }
            }
        }
    }
    for line in lines {
        if let Some(rest) = line.strip_prefix("# ") {
            let t = rest.trim().trim_end_matches('#').trim();
            if !t.is_empty() {
                return Some(t.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines() {
        assert_eq!(normalize_newlines("a\r\nb\rc\n".into()), "a\nb\nc\n");
    }

    #[test]
    fn md_titles() {
        assert_eq!(
            markdown_title("intro\n# Hello #\n").as_deref(),
            Some("Hello")
        );
        assert_eq!(
            markdown_title("---\ntitle: \"Front\"\n---\n# H\n").as_deref(),
            Some("Front")
        );
        assert_eq!(markdown_title("## only h2\n"), None);
    }

    #[test]
    fn binary_heuristic() {
        assert!(looks_binary(b"abc\0def"));
        assert!(!looks_binary(b"plain text\twith tab\r\n"));
        let mut v = vec![b'a'; 100];
        v.extend_from_slice(&[1, 2, 3, 4, 5]);
        assert!(looks_binary(&v));
    }

    #[test]
    fn utf16_without_bom() {
        let le: Vec<u8> = "hello world"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let be: Vec<u8> = "hello world"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        assert_eq!(bomless_utf16(&le), Some(UTF_16LE));
        assert_eq!(bomless_utf16(&be), Some(UTF_16BE));
        assert_eq!(bomless_utf16(b"hello world"), None);
        assert_eq!(decode_text(&le).unwrap().0, "hello world");
    }

    #[test]
    fn declared_charset_then_fallback() {
        let latin1 = b"<p>caf\xe9 cr\xe8me br\xfbl\xe9e</p>";
        // Declared: used as is (labels are case-insensitive, quotes tolerated).
        let (text, enc) = decode_declared(latin1, Some("\"ISO-8859-1\""));
        assert_eq!(text, "<p>café crème brûlée</p>");
        assert_eq!(enc, encoding_rs::WINDOWS_1252);
        // Nothing (or nonsense) declared: chardetng, not U+FFFD.
        for label in [None, Some("no-such-charset")] {
            let (text, _) = decode_declared(latin1, label);
            assert_eq!(text, "<p>café crème brûlée</p>", "{label:?}");
        }
        // A BOM beats the declaration; valid UTF-8 stays UTF-8.
        let (text, enc) = decode_declared(b"\xef\xbb\xbfcaf\xc3\xa9", Some("latin1"));
        assert_eq!((text.as_str(), enc), ("café", UTF_8));
        assert_eq!(decode_declared("café".as_bytes(), None).0, "café");
        assert_eq!(decode_declared(b"", None).0, "");
        // A declaration is believed even when the bytes say otherwise.
        assert_eq!(
            decode_declared(b"caf\xc3\xa9", Some("windows-1252")).0,
            "cafÃ©"
        );
    }
}
