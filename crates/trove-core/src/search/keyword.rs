//! The keyword leg: the query's FTS5 expressions (see [`super::query`]; they cannot be a
//! syntax error), ranked by BM25, with highlighted snippets for the rows kept.

use rusqlite::Connection;

use super::query::KeywordPlan;
use crate::error::Result;
use crate::model::{QUERY_MAX_CHARS, QUERY_MAX_TERMS};
use crate::store::content;

/// The query cut to [`QUERY_MAX_CHARS`] characters and [`QUERY_MAX_TERMS`] words; true
/// when something was cut.
pub(super) fn cap(query: &str) -> (&str, bool) {
    let mut q = match query.char_indices().nth(QUERY_MAX_CHARS) {
        Some((at, _)) => &query[..at],
        None => query,
    };
    let mut words = 0;
    let mut in_word = false;
    for (at, c) in q.char_indices() {
        let word_char = c.is_alphanumeric();
        if word_char && !in_word {
            words += 1;
            if words > QUERY_MAX_TERMS {
                q = &q[..at];
                break;
            }
        }
        in_word = word_char;
    }
    (q, q.len() < query.len())
}

/// Query words compared with a text's words the way the stemmed keyword index compares
/// them ("sleeping" finds "sleeps", "cafe" finds "Café"), and `prefix*` terms by their start.
pub(super) struct Terms {
    stems: Vec<String>,
    prefixes: Vec<String>,
    /// The first character of each stem and prefix: stemming never changes a word's first
    /// letter, so a word starting otherwise is not stemmed at all.
    firsts: Vec<char>,
}

fn stem(w: &str) -> String {
    rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English)
        .stem(w)
        .into_owned()
}

/// Lower case without diacritics, as the index's tokenizer (`remove_diacritics 2`) reads
/// words.
fn fold(w: &str) -> String {
    use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};
    if w.is_ascii() {
        return w.to_ascii_lowercase();
    }
    w.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A text's words (runs of letters and digits) with their byte offsets.
fn words_at(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(st) = start.take() {
            out.push((st, &s[st..i]));
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

impl Terms {
    pub(super) fn new(words: &[String], prefixes: &[String]) -> Self {
        let stems: Vec<String> = words.iter().map(|w| stem(&fold(w))).collect();
        let prefixes: Vec<String> = prefixes.iter().map(|p| fold(p)).collect();
        let firsts = stems
            .iter()
            .chain(&prefixes)
            .filter_map(|s| s.chars().next())
            .collect();
        Self {
            stems,
            prefixes,
            firsts,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.stems.is_empty() && self.prefixes.is_empty()
    }

    /// A word of a text folded as the index reads it, unless its first letter starts no
    /// term (then it is none of them: stemming keeps the first letter).
    fn folded(&self, word: &str) -> Option<String> {
        let first = word.chars().next()?;
        let folded_first = fold(&word[..first.len_utf8()]);
        if !folded_first
            .chars()
            .next()
            .is_some_and(|c| self.firsts.contains(&c))
        {
            return None;
        }
        Some(fold(word))
    }

    /// Which term one word of a text is, if any: its place among the stems, or after them
    /// among the prefixes.
    fn which(&self, word: &str) -> Option<usize> {
        let w = self.folded(word)?;
        if let Some(i) = self.prefixes.iter().position(|p| w.starts_with(p.as_str())) {
            return Some(self.stems.len() + i);
        }
        let s = stem(&w);
        self.stems.iter().position(|t| *t == s)
    }

    /// How many of the (stemmed) terms a text has.
    fn count_in(&self, text: &str) -> usize {
        let have: std::collections::HashSet<String> = words_at(text)
            .into_iter()
            .filter_map(|(_, w)| self.folded(w))
            .map(|w| stem(&w))
            .collect();
        let mut distinct = self.stems.clone();
        distinct.sort_unstable();
        distinct.dedup();
        distinct.iter().filter(|s| have.contains(*s)).count()
    }
}

/// One keyword hit: the chunk, and whether it is a close match (every term, or enough of
/// the plain words when none has them all).
pub(super) struct KeywordHit {
    pub id: i64,
    pub close: bool,
}

/// Keyword search: every term must match; if nothing does, any plain word may (with the
/// phrases and prefixes still required), and such a hit is close only when it has at least
/// half of the plain words, two at least. Best first. `scope`: a JSON array of item keys.
pub(super) fn search(
    conn: &Connection,
    plan: &KeywordPlan,
    limit: u32,
    scope: Option<&str>,
) -> Result<Vec<KeywordHit>> {
    let strict = content::fts_rank(conn, &plan.strict, limit, scope)?;
    let (ranked, terms) = match &plan.loose {
        Some(loose) if strict.is_empty() => (
            content::fts_rank(conn, loose, limit, scope)?,
            Some(Terms::new(&plan.loose_terms, &[])),
        ),
        _ => (strict, None),
    };
    let need = plan.loose_terms.len().div_ceil(2).max(2);
    let mut hits = Vec::with_capacity(ranked.len());
    for (id, _) in ranked {
        let close = match &terms {
            None => true,
            Some(t) => {
                content::chunk_text(conn, id)?.is_some_and(|(_, text, _)| t.count_in(&text) >= need)
            }
        };
        hits.push(KeywordHit { id, close });
    }
    Ok(hits)
}

/// Words a snippet shows at most (FTS5's `snippet()` took 24).
const SNIPPET_WORDS: usize = 24;

/// A hit's snippet: the stretch of at most [`SNIPPET_WORDS`] words with the most distinct
/// query terms (then the most of them), terms marked (U+0002 … U+0003) and `…` where the
/// text is cut, the terms roughly in the middle; the chunk's start when it has none of them.
/// What FTS5's `snippet()` made, without a query of the index per hit (~0.1 ms each, a
/// quarter of a whole search at 100,000 chunks). With it, where in `text` its first marked
/// term is (byte offset), if it has any: the page a hit opens at is the page of what its
/// snippet shows.
pub(super) fn snippet(text: &str, terms: &Terms) -> (String, Option<usize>) {
    match Window::best(text, terms) {
        Some(w) => {
            let marks = w.found.iter().map(|i| w.words[*i]);
            let focus = w.found.first().map(|i| w.words[*i].0);
            (marked(text, w.from..w.to, marks), focus)
        }
        None => (opening(text), None),
    }
}

/// The stretch of a text a snippet shows: its words, the byte range, and which of the
/// words in it are terms.
struct Window<'t> {
    words: Vec<(usize, &'t str)>,
    from: usize,
    to: usize,
    found: Vec<usize>,
}

impl<'t> Window<'t> {
    /// The best window, or None when the text has none of the terms.
    fn best(text: &'t str, terms: &Terms) -> Option<Self> {
        if terms.is_empty() {
            return None;
        }
        let words = words_at(text);
        let found: Vec<(usize, usize)> = words
            .iter()
            .enumerate()
            .filter_map(|(i, (_, w))| Some((i, terms.which(w)?)))
            .collect();
        let first = found.first()?.0;
        // The best window starting at a found word: distinct terms, then terms.
        let score = |start: usize| {
            let inside = found
                .iter()
                .filter(|(i, _)| (start..start + SNIPPET_WORDS).contains(i));
            let mut distinct: Vec<usize> = inside.clone().map(|(_, t)| *t).collect();
            let count = distinct.len();
            distinct.sort_unstable();
            distinct.dedup();
            (distinct.len(), count)
        };
        let (mut start, mut best) = (first, score(first));
        for (i, _) in &found[1..] {
            let s = score(*i);
            if s > best {
                (start, best) = (*i, s);
            }
        }
        // Centre what was found: the free words are split before and after.
        let last = found
            .iter()
            .map(|(i, _)| *i)
            .filter(|i| *i < start + SNIPPET_WORDS)
            .max()
            .unwrap_or(start);
        let free = SNIPPET_WORDS - (last - start + 1);
        let end = (start + SNIPPET_WORDS - free / 2).min(words.len());
        let start = end.saturating_sub(SNIPPET_WORDS).min(start);
        let end = (start + SNIPPET_WORDS).min(words.len());
        let from = if start == 0 { 0 } else { words[start].0 };
        let to = if end == words.len() {
            text.len()
        } else {
            let (at, w) = words[end - 1];
            at + w.len()
        };
        let found = found
            .into_iter()
            .map(|(i, _)| i)
            .filter(|i| (start..end).contains(i))
            .collect();
        Some(Self {
            words,
            from,
            to,
            found,
        })
    }
}

/// `text[range]` with each of `words` (offset, word; in order, inside the range) between
/// U+0002 and U+0003, and `…` where the range cuts the text.
fn marked<'t>(
    text: &str,
    range: std::ops::Range<usize>,
    words: impl Iterator<Item = (usize, &'t str)>,
) -> String {
    let mut out = String::new();
    if range.start > 0 {
        out.push('…');
    }
    let mut last = range.start;
    for (at, w) in words {
        out.push_str(&text[last..at]);
        out.push('\u{2}');
        out.push_str(w);
        out.push('\u{3}');
        last = at + w.len();
    }
    out.push_str(&text[last..range.end]);
    if range.end < text.len() {
        out.push('…');
    }
    out
}

/// The snippet of a text with none of the terms (or a search without any): its start.
fn opening(text: &str) -> String {
    let mut end = text.len().min(240);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    marked(text, 0..end, std::iter::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_capped_in_characters_and_words() {
        assert_eq!(cap("heron marsh"), ("heron marsh", false));
        let long = "word ".repeat(14_000);
        let (q, cut) = cap(&long);
        assert!(cut);
        assert_eq!(super::super::query::split_words(q).len(), QUERY_MAX_TERMS);
        let one = "x".repeat(300_000);
        let (q, cut) = cap(&one);
        assert!(cut);
        assert_eq!(q.chars().count(), QUERY_MAX_CHARS);
        // Never inside a character.
        let accented = "é".repeat(2_000);
        assert_eq!(cap(&accented).0.chars().count(), QUERY_MAX_CHARS);
    }

    #[test]
    fn highlights_match_stems_and_prefixes_not_other_words() {
        let t = Terms::new(&["sleeping".into(), "index".into()], &["migrat".into()]);
        let (h, _) = snippet("She sleeps; indexes, Migration and art. (index)", &t);
        assert_eq!(
            h,
            "She \u{2}sleeps\u{3}; \u{2}indexes\u{3}, \u{2}Migration\u{3} and art. (\u{2}index\u{3})"
        );
        assert_eq!(
            snippet("nothing here", &Terms::new(&[], &[])).0,
            "nothing here"
        );
        let long = "é".repeat(200);
        assert!(snippet(&long, &t).0.ends_with('…'));
        assert_eq!(t.count_in("an index of sleepers who sleep"), 2);
        assert_eq!(t.count_in("Indexes, indexing: no rest"), 1);
        assert_eq!(t.count_in("nothing of the kind"), 0);
        // Two words of one stem are one term; diacritics and case are folded.
        let t = Terms::new(&["run".into(), "runs".into(), "café".into()], &[]);
        assert_eq!(t.count_in("RUNNING to the CAFE, running"), 2);
        assert_eq!(t.count_in("the runner ran"), 0);
    }

    #[test]
    fn snippets_show_the_stretch_with_the_most_terms_marked() {
        let t = Terms::new(&["heron".into(), "marsh".into()], &[]);
        let filler = "one two three four five six seven eight nine ten. ".repeat(6);
        let text = format!(
            "A heron at the start. {filler}Then the herons of the marsh stood still in the \
             reeds. {filler}The end."
        );
        let (s, _) = snippet(&text, &t);
        // Both terms, not the lone "heron" at the start; cut at both ends.
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("\u{2}herons\u{3} of the \u{2}marsh\u{3}"), "{s}");
        assert!(!s.contains("start"), "{s}");
        assert_eq!(words_at(&s).len(), SNIPPET_WORDS, "{s}");
        // The terms near the middle, not at an edge.
        let before = s.find('\u{2}').unwrap();
        assert!(words_at(&s[..before]).len() >= 6, "{s}");
        // A short text whole, unmarked words untouched; diacritics and case folded.
        let t = Terms::new(&["cafe".into()], &["resum".into()]);
        assert_eq!(
            snippet("Le Café. Résumés!", &t).0,
            "Le \u{2}Café\u{3}. \u{2}Résumés\u{3}!"
        );
        // None of the terms: the chunk's start.
        let plain = "nothing to see here ".repeat(30);
        assert_eq!(snippet(&plain, &t), (opening(&plain), None));
        assert!(opening(&plain).ends_with('…'));
        // Stemming keeps the first letter: "dying" is the stem "die"'s word.
        assert_eq!(Terms::new(&["die".into()], &[]).which("Dying"), Some(0));
        assert_eq!(Terms::new(&["die".into()], &[]).which("lying"), None);
    }
}
