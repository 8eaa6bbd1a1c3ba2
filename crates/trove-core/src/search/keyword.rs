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
/// them ("sleeping" finds "sleeps"), and `prefix*` terms by their start.
pub(super) struct Terms {
    stems: Vec<String>,
    prefixes: Vec<String>,
}

fn stem(w: &str) -> String {
    rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English)
        .stem(w)
        .into_owned()
}

/// A text's words (runs of letters and digits) with their byte offsets.
pub(super) fn words_at(s: &str) -> Vec<(usize, &str)> {
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
        Self {
            stems: words.iter().map(|w| stem(&w.to_lowercase())).collect(),
            prefixes: prefixes.iter().map(|p| p.to_lowercase()).collect(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.stems.is_empty() && self.prefixes.is_empty()
    }

    /// Whether one word of a text is one of the terms.
    pub(super) fn matches(&self, word: &str) -> bool {
        let w = word.to_lowercase();
        self.prefixes.iter().any(|p| w.starts_with(p.as_str())) || self.stems.contains(&stem(&w))
    }

    /// How many of the (stemmed) terms a text has.
    fn count_in(&self, text: &str) -> usize {
        let have: std::collections::HashSet<String> = words_at(text)
            .into_iter()
            .map(|(_, w)| stem(&w.to_lowercase()))
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

/// The keyword leg's hits, and the FTS5 expression that found them: the snippets of the
/// hits a search shows are made from it ([`Snippets`]), not of every candidate.
pub(super) struct KeywordFound {
    pub hits: Vec<KeywordHit>,
    pub expr: String,
}

/// Keyword search: every term must match; if nothing does, any plain word may (with the
/// phrases and prefixes still required), and such a hit is close only when it has at least
/// half of the plain words, two at least. Best first. `scope`: a JSON array of item keys.
pub(super) fn search(
    conn: &Connection,
    plan: &KeywordPlan,
    limit: u32,
    scope: Option<&str>,
) -> Result<KeywordFound> {
    let strict = content::fts_rank(conn, &plan.strict, limit, scope)?;
    let (expr, ranked, terms) = match &plan.loose {
        Some(loose) if strict.is_empty() => (
            loose,
            content::fts_rank(conn, loose, limit, scope)?,
            Some(Terms::new(&plan.loose_terms, &[])),
        ),
        _ => (&plan.strict, strict, None),
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
    Ok(KeywordFound {
        hits,
        expr: expr.clone(),
    })
}

/// Highlighted snippets from the keyword index, for the hits of its leg that a search shows
/// (a search keeps 50 candidates a leg and shows 10: each snippet is a query of its own).
pub(super) struct Snippets {
    expr: String,
    ids: std::collections::HashSet<i64>,
}

impl Snippets {
    pub(super) fn new(found: &KeywordFound) -> Self {
        Self {
            expr: found.expr.clone(),
            ids: found.hits.iter().map(|h| h.id).collect(),
        }
    }

    /// The keyword index's snippet of `chunk`, if its leg found it.
    pub(super) fn of(&self, conn: &Connection, chunk: i64) -> Result<Option<String>> {
        if !self.ids.contains(&chunk) {
            return Ok(None);
        }
        content::fts_snippet(conn, &self.expr, chunk).map(Some)
    }
}

/// A snippet for a hit found by meaning: the start of the chunk, query words marked.
pub(super) fn highlight(text: &str, terms: &Terms) -> String {
    let mut end = text.len().min(240);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::new();
    let mut last = 0;
    for (at, w) in words_at(&text[..end]) {
        if !terms.is_empty() && terms.matches(w) {
            out.push_str(&text[last..at]);
            out.push('\u{2}');
            out.push_str(w);
            out.push('\u{3}');
            last = at + w.len();
        }
    }
    out.push_str(&text[last..end]);
    if end < text.len() {
        out.push('…');
    }
    out
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
        let h = highlight("She sleeps; indexes, Migration and art. (index)", &t);
        assert_eq!(
            h,
            "She \u{2}sleeps\u{3}; \u{2}indexes\u{3}, \u{2}Migration\u{3} and art. (\u{2}index\u{3})"
        );
        assert_eq!(
            highlight("nothing here", &Terms::new(&[], &[])),
            "nothing here"
        );
        let long = "é".repeat(200);
        assert!(highlight(&long, &t).ends_with('…'));
        assert_eq!(t.count_in("an index of sleepers who sleep"), 2);
    }
}
