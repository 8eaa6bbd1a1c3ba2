//! Search syntax and relevance through the real binary (keyword leg: no model in the
//! sandbox): stemming, phrases, prefixes, exclusions, every filter, filter-only listings,
//! function words, "no close matches", and malformed queries.

use serde_json::Value;
use trove_tests::Sandbox;

fn names(r: &Value) -> Vec<String> {
    let mut n: Vec<String> = r["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits in {r}"))
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
}

fn search(sb: &Sandbox, q: &str) -> Value {
    sb.json(&["search", "--mode", "keyword", "--", q])
}

fn library() -> Sandbox {
    let sb = Sandbox::new();
    for (name, text) in [
        (
            "a/herons.md",
            "The herons were running over the tidal marsh at dawn.",
        ),
        (
            "a/marsh.txt",
            "A marsh tidal pool; no birds here, only reeds and a heron feather.",
        ),
        (
            "b/migration.txt",
            "Migration of geese: the migrating flocks return in spring.",
        ),
        (
            "b/draft.md",
            "Heron notes, a draft: the heron nests in tall reeds.",
        ),
        (
            "b/stopwords.txt",
            "The of and in a to is it: that was all there was.",
        ),
        (
            "b/person.txt",
            "A person who keeps bees visits the hives every morning.",
        ),
    ] {
        sb.write(name, text);
    }
    sb.ok(&["add", sb.files().to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    sb
}

#[test]
fn search_syntax_stems_phrases_prefixes_exclusions_and_filters() {
    let sb = library();
    let s = |q: &str| names(&search(&sb, q));
    // Stemming: "run" finds "running", "heron" finds "herons".
    assert_eq!(s("run"), ["herons.md"]);
    assert_eq!(s("heron"), ["draft.md", "herons.md", "marsh.txt"]);
    // A phrase keeps its order; the same words in another order are not it.
    assert_eq!(s("\"tidal marsh\""), ["herons.md"]);
    assert_eq!(s("tidal marsh"), ["herons.md", "marsh.txt"]);
    // Prefix.
    assert_eq!(s("migrat*"), ["migration.txt"]);
    // Exclusion of a word and of a phrase.
    assert_eq!(s("heron -draft"), ["herons.md", "marsh.txt"]);
    assert_eq!(s("heron -\"tidal marsh\""), ["draft.md", "marsh.txt"]);
    // Filters: a type by kind and by extension, a folder, and dates.
    assert_eq!(s("heron type:markdown"), ["draft.md", "herons.md"]);
    assert_eq!(s("heron type:txt"), ["marsh.txt"]);
    assert_eq!(s("heron type:pdf"), Vec::<String>::new());
    assert_eq!(s("heron type:file"), ["draft.md", "herons.md", "marsh.txt"]);
    assert_eq!(s("heron type:link"), Vec::<String>::new());
    // A kind and a source both apply; two kinds are either.
    assert_eq!(s("heron type:file type:txt"), ["marsh.txt"]);
    assert_eq!(
        s("heron type:txt type:md"),
        ["draft.md", "herons.md", "marsh.txt"]
    );
    assert_eq!(s("heron in:/b/"), ["draft.md"]);
    assert_eq!(s("heron in:/a/ type:md"), ["herons.md"]);
    assert_eq!(s("heron after:2000-01-01"), s("heron"));
    assert_eq!(s("heron after:2999-01-01"), Vec::<String>::new());
    assert_eq!(s("heron before:2000-01-01"), Vec::<String>::new());
    // Filters alone list what they let through.
    assert_eq!(
        s("type:markdown"),
        ["draft.md", "herons.md"],
        "a filter-only query lists its documents"
    );
    assert_eq!(
        s("in:/b/ -heron").len(),
        3,
        "exclusions apply to a listing too"
    );
    // Highlights are the words that matched, stemmed forms included.
    let r = search(&sb, "the herons run");
    let snip = r["hits"][0]["snippet"].as_str().unwrap();
    assert!(snip.contains("\u{2}herons\u{3}"), "{snip}");
    assert!(snip.contains("\u{2}running\u{3}"), "{snip}");
    assert!(
        !snip.contains("\u{2}The\u{3}"),
        "function words are not highlighted: {snip}"
    );
}

#[test]
fn function_words_match_nothing_alone_and_weak_matches_are_shown_as_such() {
    let sb = library();
    // Every document has "the", "in", "a": none of that makes a hit. Only the bees passage
    // has one of the three content words: one of three is not a close match.
    let r = search(&sb, "a person sleeping in the afternoon");
    assert_eq!(r["noCloseMatches"], true, "{r}");
    assert_eq!(names(&r), ["person.txt"]);
    // The same words as a close match: two of three.
    sb.write(
        "c/nap.txt",
        "An afternoon nap: the person sleeping in the hammock.",
    );
    sb.ok(&["add", sb.files().join("c/nap.txt").to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let r = search(&sb, "a person sleeping in the afternoon");
    assert_eq!(r["noCloseMatches"], false, "{r}");
    assert_eq!(names(&r), ["nap.txt"], "only close matches are listed: {r}");
    // A query of nothing but function words is a phrase.
    let r = search(&sb, "that was all");
    assert_eq!(names(&r), ["stopwords.txt"], "{r}");
    let r = search(&sb, "was that all");
    assert_eq!(names(&r), Vec::<String>::new(), "{r}");
    // The terminal says it.
    let human = sb.ok(&[
        "search", "--mode", "keyword", "person", "zebra", "giraffe", "lion",
    ]);
    assert!(human.contains("no close matches"), "{human}");
    // Two words no passage has together: one of them alone is not a close match.
    let human = sb.ok(&["search", "--mode", "keyword", "person", "zebra"]);
    assert!(human.contains("no close matches"), "{human}");
    assert!(
        human.contains("person.txt"),
        "the nearest is still shown: {human}"
    );
}

#[test]
fn malformed_queries_read_as_plain_words_never_an_error() {
    let sb = library();
    for q in [
        "\"tidal marsh",
        "heron\"",
        "type:",
        "type:p/d heron",
        "after:2026-13-45 heron",
        "after:tomorrow",
        "-",
        "--",
        "*",
        "a*",
        "heron*)",
        "NOT AND OR",
        "(heron",
        "heron NEAR(marsh)",
        "in:",
        "\"\"",
        "-\"\"",
    ] {
        let o = sb.run(&["--json", "search", "--mode", "keyword", "--", q]);
        assert!(o.status.success(), "{q:?}: {o:?}");
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(v["hits"].is_array(), "{q:?}: {v}");
    }
    // An unclosed quote is plain words; a bad date too: "2026", "13" and "45" are words
    // then, which no passage has with "heron" ("after" is a function word).
    assert_eq!(
        names(&search(&sb, "\"tidal marsh")),
        ["herons.md", "marsh.txt"]
    );
    let r = search(&sb, "heron after:2026-13-45");
    assert_eq!(r["noCloseMatches"], true, "{r}");
    assert_eq!(names(&r), ["draft.md", "herons.md", "marsh.txt"]);
}

/// A keyword hit's snippet is the keyword index's window around what matched, even deep in
/// its passage (the passage's start would not show the word), for every hit shown.
#[test]
fn each_hit_shown_has_its_snippet_around_the_match() {
    let sb = Sandbox::new();
    let filler = "Reeds bend in the wind along the grey water and nothing else moves. ".repeat(8);
    for name in ["one.txt", "two.txt", "three.txt"] {
        sb.write(
            name,
            format!("{filler}Then a kingfisher dives from the willow in {name}."),
        );
    }
    sb.ok(&["add", sb.files().to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    let r = search(&sb, "kingfisher");
    let hits = r["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 3, "{r}");
    for h in hits {
        let snip = h["snippet"].as_str().unwrap();
        assert!(snip.contains("\u{2}kingfisher\u{3}"), "{snip}");
    }
}
