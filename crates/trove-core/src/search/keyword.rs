//! The keyword leg: the user's words as an FTS5 expression that cannot be a syntax error,
//! ranked by BM25, with highlighted snippets for the rows kept.

use rusqlite::Connection;

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

/// Terms of a user query, each quoted for an FTS5 MATCH.
pub(super) fn terms(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{}\"", t.replace('"', "")))
        .collect()
}

/// Keyword search: every term must match; if nothing does, any term may. Chunk ids with
/// their snippet and score, best first.
pub(super) fn search(
    conn: &Connection,
    query: &str,
    limit: u32,
) -> Result<Vec<(i64, String, f64)>> {
    let t = terms(query);
    if t.is_empty() {
        return Ok(Vec::new());
    }
    for expr in [t.join(" "), t.join(" OR ")] {
        let ranked = content::fts_rank(conn, &expr, limit)?;
        if !ranked.is_empty() || t.len() == 1 {
            let mut rows = Vec::with_capacity(ranked.len());
            for (id, score) in ranked {
                rows.push((id, content::fts_snippet(conn, &expr, id)?, score));
            }
            return Ok(rows);
        }
    }
    Ok(Vec::new())
}

/// A snippet for a hit found by meaning: the start of the chunk, query words marked.
pub(super) fn highlight(text: &str, words: &[String]) -> String {
    let mut end = text.len().min(240);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::new();
    for (i, w) in text[..end].split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = w
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if !core.is_empty() && words.contains(&core) {
            out.push('\u{2}');
            out.push_str(w);
            out.push('\u{3}');
        } else {
            out.push_str(w);
        }
    }
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
        assert_eq!(terms(q).len(), QUERY_MAX_TERMS);
        let one = "x".repeat(300_000);
        let (q, cut) = cap(&one);
        assert!(cut);
        assert_eq!(q.chars().count(), QUERY_MAX_CHARS);
        // Never inside a character.
        let accented = "é".repeat(2_000);
        assert_eq!(cap(&accented).0.chars().count(), QUERY_MAX_CHARS);
    }
}
