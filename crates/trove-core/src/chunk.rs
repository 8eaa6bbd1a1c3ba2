//! Paragraph-aware chunking with a bounded size and a small overlap.
//!
//! Chunks are byte ranges into the document text (always on `char` boundaries): paragraphs
//! are packed together up to `target` bytes; a paragraph longer than `max` is cut at a
//! sentence end or whitespace; each chunk after the first starts `overlap` bytes before the
//! previous one ended (at a word boundary), so a sentence cut by a boundary is still found.

use std::ops::Range;

#[derive(Debug, Clone, Copy)]
pub struct ChunkConfig {
    pub target: usize,
    pub max: usize,
    pub overlap: usize,
}

/// The smallest `max` the chunker accepts: one character of any width.
const MIN_MAX: usize = 4;

impl Default for ChunkConfig {
    fn default() -> Self {
        // ~1,000 bytes ≈ 150–250 words: inside the embedding model's 256-token window.
        Self {
            target: 1000,
            max: 1400,
            overlap: 120,
        }
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Paragraphs: runs of text separated by blank lines, trimmed.
fn paragraphs(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut last_nonblank_end = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        if blank {
            if let Some(s) = start.take() {
                out.push(s..last_nonblank_end);
            }
        } else {
            let lead = line.len() - line.trim_start().len();
            if start.is_none() {
                start = Some(pos + lead);
            }
            last_nonblank_end = pos + line.trim_end().len();
        }
        pos += line.len();
    }
    if let Some(s) = start {
        out.push(s..last_nonblank_end);
    }
    out
}

/// Cut a long range into pieces of at most `max` bytes, preferring sentence ends, then
/// whitespace, then any char boundary.
fn split_long(text: &str, r: Range<usize>, max: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = r.start;
    while r.end - start > max {
        let limit = floor_char(text, start + max);
        let window = &text[start..limit];
        let min_cut = window.len() / 2;
        let cut = window
            .rmatch_indices(['.', '!', '?', '。', '\n'])
            .map(|(i, m)| i + m.len())
            .find(|&i| i >= min_cut)
            .or_else(|| window.rfind(char::is_whitespace).filter(|&i| i >= min_cut))
            .unwrap_or(window.len());
        let end = start + cut.max(1);
        let end = if text.is_char_boundary(end) {
            end
        } else {
            limit
        };
        out.push(start..end);
        start = end;
        // Skip whitespace at the start of the next piece.
        start += text[start..r.end].len() - text[start..r.end].trim_start().len();
    }
    if start < r.end {
        out.push(start..r.end);
    }
    out
}

/// Where the overlap of the next chunk starts: about `overlap` bytes before `end`, moved
/// forward to the start of a word, never at or before `floor`.
fn overlap_start(text: &str, floor: usize, end: usize, overlap: usize) -> usize {
    if overlap == 0 {
        return end;
    }
    let mut s = floor_char(text, end.saturating_sub(overlap));
    if s <= floor {
        return end;
    }
    if let Some(ws) = text[s..end].find(char::is_whitespace) {
        s += ws;
        s += text[s..end].len() - text[s..end].trim_start().len();
    }
    if s >= end {
        end
    } else {
        s
    }
}

/// Chunk `text` into byte ranges. Pages (separated by form feeds: a PDF's pages, a deck's
/// slides, a workbook's sheets, a mailbox's messages) are chunked one by one: no chunk
/// spans two, so a hit names one page and a short slide is a passage of its own.
pub fn chunk(text: &str, cfg: &ChunkConfig) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    for page in text.split('\x0c') {
        out.extend(
            chunk_page(page, cfg)
                .into_iter()
                .map(|r| r.start + at..r.end + at),
        );
        at += page.len() + 1;
    }
    out
}

/// [`chunk`] for text without page breaks.
fn chunk_page(text: &str, cfg: &ChunkConfig) -> Vec<Range<usize>> {
    // A setting that cannot work is made workable: `max` holds any character (4 bytes),
    // and `target` never exceeds it (found by the property tests).
    let cfg = &ChunkConfig {
        max: cfg.max.max(MIN_MAX),
        target: cfg.target.min(cfg.max.max(MIN_MAX)),
        overlap: cfg.overlap,
    };
    let segments: Vec<Range<usize>> = paragraphs(text)
        .into_iter()
        .flat_map(|p| split_long(text, p, cfg.max))
        .collect();
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut cur: Option<Range<usize>> = None;
    for seg in segments {
        cur = Some(match cur {
            None => seg,
            Some(c) if seg.end - c.start <= cfg.target => c.start..seg.end,
            Some(c) => {
                let next_start = overlap_start(text, c.start, c.end, cfg.overlap);
                // Only overlap when the result still fits in `max`.
                let start = if seg.end - next_start <= cfg.max {
                    next_start
                } else {
                    seg.start
                };
                out.push(c);
                start..seg.end
            }
        });
    }
    out.extend(cur);
    out
}

/// Cut every chunk longer than `max_tokens` (as `count` measures them: the embedding
/// model's tokenizer, `trove_embed::TokenCounter`) into pieces that are not, so no chunk has
/// a tail the model never reads. Not how chunks are cut: measured on the search evaluation
/// it lowered the semantic leg's MRR@10 from 0.721 to 0.676 (smaller passages, BENCHMARKS.md
/// "Search quality"); [`windows`] gives long chunks more vectors instead. Cuts fall at a sentence end or a space in the second half of the longest piece
/// that fits, else at that piece's end (never inside a character); whitespace between pieces
/// is dropped. A chunk that fits is kept as it is.
pub fn fit_tokens(
    text: &str,
    ranges: Vec<Range<usize>>,
    max_tokens: usize,
    count: &dyn Fn(&str) -> usize,
) -> Vec<Range<usize>> {
    let max_tokens = max_tokens.max(1);
    let mut out = Vec::with_capacity(ranges.len());
    for r in ranges {
        let mut start = r.start;
        while start < r.end && count(&text[start..r.end]) > max_tokens {
            // The longest prefix that fits: `lo` always fits, `hi` never does.
            let (mut lo, mut hi) = (start, r.end);
            while hi - lo > 1 {
                let mid = floor_char(text, lo + (hi - lo) / 2);
                if mid <= lo {
                    break;
                }
                if count(&text[start..mid]) <= max_tokens {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            // One character at least, so the loop always moves on.
            let mut fit = lo;
            if fit == start {
                fit = start + text[start..].chars().next().map_or(1, char::len_utf8);
            }
            let window = &text[start..fit];
            let half = window.len() / 2;
            let cut = window
                .rmatch_indices(['.', '!', '?', '。', '\n'])
                .map(|(i, m)| i + m.len())
                .find(|&i| i >= half && i > 0)
                .or_else(|| {
                    window
                        .rfind(char::is_whitespace)
                        .filter(|&i| i >= half && i > 0)
                })
                .unwrap_or(window.len());
            let end = start + cut;
            let piece = &text[start..end];
            let trimmed = piece.trim_end();
            if !trimmed.is_empty() {
                out.push(start..start + trimmed.len());
            }
            start = end + (text[end..r.end].len() - text[end..r.end].trim_start().len());
        }
        if start < r.end {
            out.push(start..r.end);
        }
    }
    out
}

/// The windows of a chunk the embedding model does not read whole (it reads its first
/// `max_tokens`, as `count` measures them): ranges of `text`, each within `max_tokens`, that
/// with the chunk's start cover all of it. They end where the pieces [`fit_tokens`] would
/// cut end (the first piece is the part the model reads), and each reaches back from there,
/// starting at a word, until it holds half of `max_tokens` (or its piece, if longer): the
/// passage's end is read with some of the text before it. Measured on the search evaluation
/// (BENCHMARKS.md "Search quality"): windows of the unread rest alone lowered the semantic
/// leg's MRR@10 from 0.729 to 0.691 (short texts match too much), windows of the whole limit
/// left it at 0.724 (the end drowns in the text before it), half the limit raised it to 0.735.
/// Empty when the model reads the whole chunk.
pub fn windows(text: &str, max_tokens: usize, count: &dyn Fn(&str) -> usize) -> Vec<Range<usize>> {
    let max_tokens = max_tokens.max(1);
    if count(text) <= max_tokens {
        return Vec::new();
    }
    let whole = std::iter::once(0..text.len()).collect();
    let pieces = fit_tokens(text, whole, max_tokens, count);
    pieces
        .iter()
        .skip(1)
        .map(|p| {
            let reach = (max_tokens / 2).max(count(&text[p.clone()]));
            // The earliest start within `reach`: `hi` always is (the piece is), `lo` not.
            let (mut lo, mut hi) = (0, p.start);
            if count(&text[..p.end]) <= reach {
                hi = 0;
            }
            while hi > lo + 1 {
                let mid = floor_char(text, lo + (hi - lo) / 2);
                if mid <= lo {
                    break;
                }
                if count(&text[mid..p.end]) <= reach {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            // At a word's start: after the first space at or past it, unless that is the
            // piece itself.
            let at_word = hi == 0 || text[..hi].ends_with(char::is_whitespace);
            let start = if at_word {
                hi
            } else {
                text[hi..p.start]
                    .find(char::is_whitespace)
                    .map(|i| hi + i)
                    .map(|i| i + text[i..].chars().next().map_or(1, char::len_utf8))
                    .filter(|&i| i <= p.start)
                    .unwrap_or(p.start)
            };
            start..p.end
        })
        .collect()
}

/// The pages (1-based, first and last) each chunk's non-blank text lies on, for a text
/// whose pages are separated by form feeds (`\x0c`, as PDF text is stored). A form feed at
/// a chunk's edge belongs to neither side.
pub fn page_spans(text: &str, ranges: &[Range<usize>]) -> Vec<(u32, u32)> {
    let breaks: Vec<usize> = text.match_indices('\x0c').map(|(i, _)| i).collect();
    let page = |pos: usize| 1 + breaks.partition_point(|&b| b < pos) as u32;
    ranges
        .iter()
        .map(|r| {
            let s = &text[r.clone()];
            let body = s.trim();
            if body.is_empty() {
                let p = page(r.start);
                return (p, p);
            }
            let first = r.start + (s.len() - s.trim_start().len());
            let last = first + body.len() - 1;
            (page(first), page(last))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings that used to break the chunker (found by the property tests): `target`
    /// above `max` made chunks longer than `max`; `max` below one character looped forever.
    #[test]
    fn unworkable_settings_are_made_workable() {
        let cfg = ChunkConfig {
            target: 100,
            max: 8,
            overlap: 0,
        };
        for c in chunk("aaaa\n\nbbbb\n\ncccc", &cfg) {
            assert!(c.end - c.start <= cfg.max, "{c:?}");
        }
        let tiny = ChunkConfig {
            target: 2,
            max: 3,
            overlap: 1,
        };
        let text = "😀".repeat(10);
        let chunks = chunk(&text, &tiny);
        assert!(!chunks.is_empty());
        assert!(chunks
            .iter()
            .all(|c| !c.is_empty() && c.end - c.start <= MIN_MAX));
    }

    #[test]
    fn packs_paragraphs_and_bounds_size() {
        let para = "word ".repeat(60); // 300 bytes
        let text = (0..10)
            .map(|_| para.trim())
            .collect::<Vec<_>>()
            .join("\n\n");
        let cfg = ChunkConfig::default();
        let chunks = chunk(&text, &cfg);
        assert!(chunks.len() >= 3, "{chunks:?}");
        for c in &chunks {
            assert!(
                c.end - c.start <= cfg.max,
                "chunk too long: {}",
                c.end - c.start
            );
        }
        // Everything is covered.
        assert_eq!(chunks[0].start, 0);
        assert_eq!(chunks.last().map(|c| c.end), Some(text.len()));
        for w in chunks.windows(2) {
            assert!(w[1].start <= w[0].end + 2, "gap between chunks");
            assert!(w[1].start > w[0].start);
        }
    }

    #[test]
    fn splits_a_huge_paragraph_on_char_boundaries() {
        let text = "é漢字 ".repeat(2000);
        let cfg = ChunkConfig::default();
        let chunks = chunk(&text, &cfg);
        assert!(chunks.len() > 10);
        for c in &chunks {
            assert!(text.is_char_boundary(c.start) && text.is_char_boundary(c.end));
            assert!(c.end - c.start <= cfg.max);
            assert!(!text[c.clone()].trim().is_empty());
        }
    }

    #[test]
    fn overlap_repeats_the_tail() {
        let text = format!(
            "{}\n\n{}",
            "alpha ".repeat(150).trim(),
            "omega ".repeat(150).trim()
        );
        let chunks = chunk(
            &text,
            &ChunkConfig {
                target: 900,
                max: 1400,
                overlap: 60,
            },
        );
        assert_eq!(chunks.len(), 2);
        assert!(
            text[chunks[1].clone()].starts_with("alpha"),
            "second chunk should start with overlap"
        );
    }

    #[test]
    fn empty_and_blank_text_has_no_chunks() {
        assert!(chunk("", &ChunkConfig::default()).is_empty());
        assert!(chunk(" \n\n \t\n", &ChunkConfig::default()).is_empty());
    }

    #[test]
    fn no_chunk_spans_two_pages() {
        let text = "slide one about aardvarks\x0cslide two about pangolins\x0c\x0cfour";
        let chunks: Vec<&str> = chunk(text, &ChunkConfig::default())
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            chunks,
            [
                "slide one about aardvarks",
                "slide two about pangolins",
                "four"
            ]
        );
        let plain = "no pages here\n\nat all";
        let whole = chunk(plain, &ChunkConfig::default());
        assert_eq!((whole.len(), whole[0].clone()), (1, 0..plain.len()));
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // one chunk: a list of one range
    fn chunks_are_cut_to_the_token_limit_at_sentence_ends() {
        // One "token" per word here.
        let words = |s: &str| s.split_whitespace().count();
        let text = "one two three. four five six seven. eight nine ten eleven twelve.";
        let ranges = fit_tokens(text, vec![0..text.len()], 5, &words);
        let pieces: Vec<&str> = ranges.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(
            pieces,
            [
                "one two three.",
                "four five six seven.",
                "eight nine ten eleven twelve."
            ]
        );
        // A chunk that fits is untouched.
        assert_eq!(fit_tokens(text, vec![0..13], 5, &words), vec![0..13]);
        let cjk = "猫は午後ずっと眠っている。犬は庭で遊ぶ。";
        let chars = |s: &str| s.chars().count();
        let r = fit_tokens(cjk, vec![0..cjk.len()], 4, &chars);
        assert!(r.iter().all(|r| chars(&cjk[r.clone()]) <= 4), "{r:?}");
        let joined: String = r.iter().map(|r| &cjk[r.clone()]).collect();
        assert_eq!(joined, cjk, "nothing lost");
    }

    #[test]
    fn windows_cover_what_the_model_does_not_read_each_within_its_limit() {
        let words = |s: &str| s.split_whitespace().count();
        let text = "one two three. four five six seven. eight nine ten eleven twelve.";
        assert!(windows(text, 20, &words).is_empty(), "read whole");
        let w = windows(text, 5, &words);
        let got: Vec<&str> = w.iter().map(|r| &text[r.clone()]).collect();
        // Each ends where a piece ends: its piece, which holds more than half the limit.
        assert_eq!(
            got,
            ["four five six seven.", "eight nine ten eleven twelve."]
        );
        assert!(w.iter().all(|r| words(&text[r.clone()]) <= 5));
        let text = "one two three four five six seven eight. nine ten eleven.";
        let w = windows(text, 10, &words);
        let got: Vec<&str> = w.iter().map(|r| &text[r.clone()]).collect();
        // Reaching back to half the limit (five words), from a word's start.
        assert_eq!(got, ["seven eight. nine ten eleven."]);
        assert_eq!(w.last().unwrap().end, text.len(), "the end is read");
        let cjk = "猫は午後ずっと眠っている。犬は庭で遊ぶ。";
        let chars = |s: &str| s.chars().count();
        let w = windows(cjk, 8, &chars);
        assert!(w.iter().all(|r| chars(&cjk[r.clone()]) <= 8), "{w:?}");
        assert_eq!(w.last().unwrap().end, cjk.len());
    }

    #[test]
    fn page_spans_follow_form_feeds() {
        let text = "one\x0ctwo two\x0c\x0cfour";
        let r = |a: &str| {
            let i = text.find(a).unwrap();
            i..i + a.len()
        };
        let spans = page_spans(
            text,
            &[
                r("one"),
                r("two two"),
                r("four"),
                0..text.len(),
                r("one\x0c"),
            ],
        );
        assert_eq!(spans, vec![(1, 1), (2, 2), (4, 4), (1, 4), (1, 1)]);
        // A chunk starting on the separator belongs to the page after it.
        let i = text.find("\x0ctwo").unwrap();
        let from_separator = i..i + 4;
        assert_eq!(page_spans(text, &[from_separator]), vec![(2, 2)]);
    }
}
