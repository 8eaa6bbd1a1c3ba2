//! The search box's small language, the same in the app and the CLI:
//!
//! | you type              | meaning                                                   |
//! |-----------------------|-----------------------------------------------------------|
//! | `heron marsh`         | plain words: passages with all of them rank first         |
//! | `"exact phrase"`      | these words, in this order                                |
//! | `migrat*`             | any word starting with `migrat` (two letters at least)    |
//! | `-draft`, `-"old copy"` | passages with this word or phrase are left out          |
//! | `type:pdf`            | one kind of document (see `model::TYPE_GROUPS`; else an extension) |
//! | `in:Notes`            | files whose path, or links whose address, contains `Notes` |
//! | `after:2026-01-01`    | added on or after that day (UTC); `before:` strictly before |
//!
//! Parsing never fails: an unclosed quote, an unknown `name:`, a bad date or a lone `-`
//! reads as plain words. Words are split as the keyword index splits them (letters and
//! digits), and common function words ("the", "in", "a", …) are left out of the keyword
//! leg unless the query is made of nothing else, when it is searched as a phrase.

/// Function words left out of the keyword leg (English). They are the words every document
/// has: as OR terms they make everything a hit and fill snippets with highlighted "the".
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

pub use crate::model::{Filters, SOURCE_FILES, SOURCE_LINKS, TYPE_GROUPS};

pub fn is_stop_word(w: &str) -> bool {
    STOP_WORDS.binary_search(&w).is_ok()
}

/// The function words of a query written in another language than English: NLTK's list for
/// it (the `stop-words` crate), when its plain words are three or more and read as that
/// language with some confidence (`whatlang`, 0.5 or more: "el gato duerme en el jardín por
/// la tarde" is Spanish at 0.83, "a person sleeping in the afternoon" English at 0.69). None:
/// English only.
fn function_words(words: &[String]) -> Option<&'static [&'static str]> {
    use whatlang::Lang;
    if words.len() < 3 {
        return None;
    }
    let info = whatlang::detect(&words.join(" "))?;
    if info.confidence() < 0.5 {
        return None;
    }
    let code = match info.lang() {
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Spa => "es",
        Lang::Ita => "it",
        Lang::Por => "pt",
        Lang::Nld => "nl",
        Lang::Swe => "sv",
        Lang::Dan => "da",
        Lang::Nob => "no",
        Lang::Fin => "fi",
        Lang::Rus => "ru",
        Lang::Tur => "tr",
        Lang::Hun => "hu",
        Lang::Ron => "ro",
        Lang::Ell => "el",
        Lang::Cat => "ca",
        Lang::Slv => "sl",
        _ => return None,
    };
    stop_words::lookup(code)
}

/// What a user's query asks for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Query {
    /// The function words of the query's language when it is not English
    /// ([`function_words`]), left out besides English's; None: English's only.
    pub stop_words: Option<&'static [&'static str]>,
    /// Plain words, lowercased, in order (function words included).
    pub words: Vec<String>,
    /// Quoted phrases, each as its words.
    pub phrases: Vec<Vec<String>>,
    /// `prefix*` terms, without the star.
    pub prefixes: Vec<String>,
    /// `-word` and `-"phrase"`, each as its words.
    pub exclude: Vec<Vec<String>>,
    pub filters: Filters,
}

/// Words as the keyword index sees them: runs of letters and digits, lowercased.
pub fn split_words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A `YYYY-MM-DD` day that exists (leap years included), or None.
fn valid_day(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (d >= 1 && d <= days).then(|| s.to_owned())
}

/// One piece of the query before it is interpreted.
enum Piece<'a> {
    /// Unquoted text up to the next space.
    Bare(&'a str),
    /// A closed `"…"`, with what came right before the quote (`-`, `in:`, or nothing).
    Quoted(&'a str, &'a str),
}

fn pieces(q: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = q;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return out;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if let Some(open) = rest[..end].find('"') {
            // A quote inside this piece: the phrase runs to the next quote, spaces and all.
            if let Some(close) = rest[open + 1..].find('"') {
                let close = open + 1 + close;
                out.push(Piece::Quoted(&rest[..open], &rest[open + 1..close]));
                rest = &rest[close + 1..];
                continue;
            }
            // Unclosed: the rest is plain words.
            out.push(Piece::Bare(rest));
            return out;
        }
        out.push(Piece::Bare(&rest[..end]));
        rest = &rest[end..];
    }
}

/// Read a query. Never fails (see the module's documentation).
pub fn parse(q: &str) -> Query {
    let mut out = Query::default();
    for piece in pieces(q) {
        match piece {
            Piece::Quoted(lead, inner) => {
                let words = split_words(inner);
                let lead_l = lead.to_ascii_lowercase();
                if lead == "-" && !words.is_empty() {
                    out.exclude.push(words);
                } else if lead_l == "in:" && !inner.trim().is_empty() {
                    out.filters.within.push(inner.trim().to_owned());
                } else {
                    out.words.extend(split_words(lead));
                    if words.len() > 1 {
                        out.phrases.push(words);
                    } else {
                        out.words.extend(words);
                    }
                }
            }
            Piece::Bare(t) => read_bare(t, &mut out),
        }
    }
    out.stop_words = function_words(&out.words);
    out
}

fn read_bare(t: &str, out: &mut Query) {
    if let Some((name, value)) = t.split_once(':') {
        let value = value.trim();
        let ok = match name.to_ascii_lowercase().as_str() {
            "type" if !value.is_empty() && value.chars().all(char::is_alphanumeric) => {
                out.filters.types.push(value.to_lowercase());
                true
            }
            "in" if !value.is_empty() => {
                out.filters.within.push(value.to_owned());
                true
            }
            "after" => valid_day(value)
                .map(|d| out.filters.after = Some(d))
                .is_some(),
            "before" => valid_day(value)
                .map(|d| out.filters.before = Some(d))
                .is_some(),
            _ => false,
        };
        if ok {
            return;
        }
    }
    if let Some(rest) = t.strip_prefix('-') {
        let words = split_words(rest);
        if !words.is_empty() && rest.starts_with(|c: char| c.is_alphanumeric()) {
            out.exclude.push(words);
            return;
        }
    }
    if let Some(stem) = t.strip_suffix('*') {
        let words = split_words(stem);
        // One word ending right at the star, two letters at least: `migrat*`.
        if words.len() == 1
            && words[0].chars().count() >= 2
            && stem.ends_with(|c: char| c.is_alphanumeric())
        {
            out.prefixes.extend(words);
            return;
        }
    }
    out.words.extend(split_words(t));
}

fn quote(w: &str) -> String {
    format!("\"{}\"", w.replace('"', ""))
}

fn phrase(words: &[String]) -> String {
    quote(&words.join(" "))
}

/// The keyword leg's FTS5 expressions for a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordPlan {
    /// Every term (close matches).
    pub strict: String,
    /// Any of the plain words, with the phrases and prefixes still required: asked when
    /// `strict` finds nothing. None when it would be the same as `strict`.
    pub loose: Option<String>,
    /// The plain words the loose expression ORs (for counting how many a hit has).
    pub loose_terms: Vec<String>,
    /// What every semantic hit must also match (phrases, prefixes), if anything.
    pub must: Option<String>,
    /// What no hit may match, if anything (`"a" OR "b c"`).
    pub exclude: Option<String>,
    /// Words to highlight in snippets the index did not make.
    pub highlight: Vec<String>,
}

impl Query {
    /// No words, phrases or prefixes: only filters and exclusions.
    pub fn has_terms(&self) -> bool {
        !(self.words.is_empty() && self.phrases.is_empty() && self.prefixes.is_empty())
    }

    /// Whether `w` (lowercase) is a function word: English's, or the query's language's. Both
    /// lists count (a misread language then only adds its own function words).
    pub fn is_function_word(&self, w: &str) -> bool {
        is_stop_word(w) || self.stop_words.is_some_and(|list| list.contains(&w))
    }

    /// The text the semantic leg embeds: the words as typed, without operators.
    pub fn semantic_text(&self) -> String {
        let mut parts: Vec<String> = self.phrases.iter().map(|p| p.join(" ")).collect();
        parts.extend(self.words.iter().cloned());
        parts.extend(self.prefixes.iter().cloned());
        parts.join(" ")
    }

    /// What no hit may match, as one FTS5 expression (`"a" OR "b c"`), if anything.
    pub fn keyword_exclusions(&self) -> Option<String> {
        (!self.exclude.is_empty()).then(|| {
            self.exclude
                .iter()
                .map(|p| phrase(p))
                .collect::<Vec<_>>()
                .join(" OR ")
        })
    }

    /// The keyword leg's expressions; None when the query has no terms.
    pub fn keyword_plan(&self) -> Option<KeywordPlan> {
        if !self.has_terms() {
            return None;
        }
        let content: Vec<&String> = self
            .words
            .iter()
            .filter(|w| !self.is_function_word(w))
            .collect();
        let mut must: Vec<String> = self.phrases.iter().map(|p| phrase(p)).collect();
        must.extend(self.prefixes.iter().map(|p| format!("{}*", quote(p))));
        // Only function words (and nothing else): they are the query, as a phrase.
        let (should, must) = if content.is_empty() && must.is_empty() {
            (Vec::new(), vec![phrase(&self.words)])
        } else {
            let mut seen = Vec::new();
            for w in content {
                if !seen.contains(w) {
                    seen.push(w.clone());
                }
            }
            (seen, must)
        };
        let exclude = self.keyword_exclusions();
        let not = |e: String| match &exclude {
            Some(x) => format!("({e}) NOT ({x})"),
            None => e,
        };
        let all: Vec<String> = must
            .iter()
            .cloned()
            .chain(should.iter().map(|w| quote(w)))
            .collect();
        let strict = not(all.join(" AND "));
        let loose = (should.len() > 1).then(|| {
            let any = format!(
                "({})",
                should
                    .iter()
                    .map(|w| quote(w))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            );
            not(must
                .iter()
                .cloned()
                .chain(std::iter::once(any))
                .collect::<Vec<_>>()
                .join(" AND "))
        });
        let mut highlight: Vec<String> = should.clone();
        highlight.extend(self.phrases.iter().flatten().cloned());
        highlight.extend(self.prefixes.iter().cloned());
        if highlight.is_empty() {
            highlight = self.words.clone();
        }
        Some(KeywordPlan {
            strict,
            loose,
            loose_terms: should,
            must: (!must.is_empty()).then(|| must.join(" AND ")),
            exclude,
            highlight,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn function_words_follow_the_language_of_the_query() {
        let content = |q: &str| -> Vec<String> {
            let q = parse(q);
            q.words
                .iter()
                .filter(|w| !q.is_function_word(w))
                .cloned()
                .collect()
        };
        // French, German, Spanish: their articles and prepositions are left out …
        assert_eq!(
            content("le chat dort dans le jardin pendant la sieste"),
            ["chat", "dort", "jardin", "pendant", "sieste"]
        );
        assert_eq!(
            content("die Katze schläft im Garten unter dem Baum"),
            ["katze", "schläft", "garten", "baum"]
        );
        assert_eq!(
            content("el gato duerme en el jardín por la tarde"),
            ["gato", "duerme", "jardín", "tarde"]
        );
        // … English keeps its own list, and a query too short to tell is read as English.
        assert_eq!(
            content("a person sleeping in the afternoon"),
            ["person", "sleeping", "afternoon"]
        );
        assert_eq!(content("die hard"), ["die", "hard"]);
        // Function words of another language alone are still searched (too few to tell the
        // language: as plain words here).
        let plan = parse("le la les des").keyword_plan().unwrap();
        assert_eq!(plan.strict, "\"le\" AND \"la\" AND \"les\" AND \"des\"");
    }

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, STOP_WORDS);
        assert!(is_stop_word("the") && is_stop_word("yourselves"));
        assert!(!is_stop_word("heron"));
    }

    #[test]
    fn plain_words_phrases_prefixes_and_exclusions() {
        let q = parse(r#"Heron "tidal marsh" migrat* -draft -"old copy" nest"#);
        assert_eq!(q.words, w(&["heron", "nest"]));
        assert_eq!(q.phrases, vec![w(&["tidal", "marsh"])]);
        assert_eq!(q.prefixes, w(&["migrat"]));
        assert_eq!(q.exclude, vec![w(&["draft"]), w(&["old", "copy"])]);
        assert!(q.filters.is_empty());
        let p = q.keyword_plan().unwrap();
        assert_eq!(
            p.strict,
            r#"("tidal marsh" AND "migrat"* AND "heron" AND "nest") NOT ("draft" OR "old copy")"#
        );
        assert_eq!(
            p.loose.as_deref(),
            Some(
                r#"("tidal marsh" AND "migrat"* AND ("heron" OR "nest")) NOT ("draft" OR "old copy")"#
            )
        );
        assert_eq!(p.must.as_deref(), Some(r#""tidal marsh" AND "migrat"*"#));
        assert_eq!(q.semantic_text(), "tidal marsh heron nest migrat");
    }

    #[test]
    fn filters() {
        let q = parse(
            r#"report type:PDF in:"My Notes" in:example.org after:2026-01-01 before:2026-02-29"#,
        );
        // 2026 is not a leap year: that "date" reads as plain words.
        assert_eq!(q.words, w(&["report", "before", "2026", "02", "29"]));
        assert_eq!(q.filters.types, w(&["pdf"]));
        assert_eq!(q.filters.within, w(&["My Notes", "example.org"]));
        assert_eq!(q.filters.after.as_deref(), Some("2026-01-01"));
        assert_eq!(q.filters.before, None);
        let q = parse("before:2028-02-29 after:2026-13-01");
        assert_eq!(q.filters.before.as_deref(), Some("2028-02-29"));
        assert_eq!(q.filters.after, None);
        assert_eq!(q.words, w(&["after", "2026", "13", "01"]));
    }

    #[test]
    fn malformed_syntax_reads_as_plain_words() {
        for (input, words) in [
            (r#"heron "marsh"#, w(&["heron", "marsh"])),
            ("- heron", w(&["heron"])),
            ("-- heron", w(&["heron"])),
            ("a* heron", w(&["a", "heron"])),
            ("*", w(&[])),
            ("foo:bar", w(&["foo", "bar"])),
            ("type: heron", w(&["type", "heron"])),
            ("type:p/d heron", w(&["type", "p", "d", "heron"])),
            ("in: heron", w(&["in", "heron"])),
            (r#""""#, w(&[])),
            ("\"\" heron", w(&["heron"])),
            ("C++ x86-64", w(&["c", "x86", "64"])),
        ] {
            let q = parse(input);
            assert_eq!(q.words, words, "{input}");
            assert!(q.exclude.is_empty() && q.prefixes.is_empty(), "{input}");
            assert!(q.filters.is_empty(), "{input}");
        }
    }

    #[test]
    fn function_words_are_left_out_unless_they_are_the_whole_query() {
        let p = parse("a person sleeping in the afternoon")
            .keyword_plan()
            .unwrap();
        assert_eq!(p.strict, r#""person" AND "sleeping" AND "afternoon""#);
        assert_eq!(p.loose_terms, w(&["person", "sleeping", "afternoon"]));
        assert!(!p.highlight.contains(&"the".to_owned()));
        let p = parse("To be or not to be").keyword_plan().unwrap();
        assert_eq!(p.strict, r#""to be or not to be""#);
        assert_eq!(p.loose, None);
        assert_eq!(p.must.as_deref(), Some(r#""to be or not to be""#));
        // One content word: no loose form (it would be the same).
        let p = parse("the heron").keyword_plan().unwrap();
        assert_eq!(p.strict, r#""heron""#);
        assert_eq!(p.loose, None);
        assert_eq!(p.must, None);
    }

    #[test]
    fn only_filters_or_exclusions_have_no_keyword_plan() {
        assert!(parse("type:pdf").keyword_plan().is_none());
        assert!(parse("-draft").keyword_plan().is_none());
        assert!(!parse("-draft in:x").has_terms());
    }

    #[test]
    fn quotes_inside_words_never_reach_fts() {
        let p = parse(r#"gr"ey heron"#).keyword_plan().unwrap();
        assert_eq!(p.strict, r#""gr" AND "ey" AND "heron""#);
        let p = parse(r#"x"y z"#).keyword_plan().unwrap();
        assert_eq!(p.strict, r#""x" AND "y" AND "z""#);
    }
}
