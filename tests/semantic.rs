//! Semantic and hybrid search through the real binary with the real local model
//! (all-MiniLM-L6-v2 from `TROVE_MODEL_DIR`; `scripts/fetch-model.sh` puts it there).

use std::path::PathBuf;

use serde_json::Value;
use trove_tests::{assert_db_consistent, Sandbox};

fn model_dir() -> PathBuf {
    let dir = std::env::var_os("TROVE_MODEL_DIR")
        .map(PathBuf::from)
        .expect(
        "TROVE_MODEL_DIR is not set: run `scripts/fetch-model.sh DIR` and set TROVE_MODEL_DIR=DIR",
    );
    assert!(
        dir.join("model.safetensors").is_file(),
        "no model in {}: run `scripts/fetch-model.sh {}`",
        dir.display(),
        dir.display()
    );
    dir
}

fn with_model() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.model_dir = Some(model_dir());
    sb
}

const CORPUS: &[(&str, &str)] = &[
    (
        "feline.md",
        "Cats spend most of the day asleep; a house cat naps twelve to sixteen hours and hunts at dusk.",
    ),
    (
        "bread.md",
        "A sourdough starter is flour and water colonised by wild yeast and lactobacilli; feed it daily.",
    ),
    (
        "volcano.md",
        "Magma rising through the crust erupts as lava; basalt forms when it cools quickly at the surface.",
    ),
    (
        "taxes.md",
        "Quarterly estimated payments are due in April, June, September and January for the self-employed.",
    ),
    (
        "guitar.md",
        "Tune the low E string first, then fret the fifth position to match each string above it.",
    ),
];

fn rank_of(resp: &Value, name: &str) -> Option<usize> {
    resp["hits"]
        .as_array()
        .unwrap()
        .iter()
        .position(|h| h["name"] == name)
}

fn work(sb: &Sandbox) -> Value {
    sb.json(&["work", "--until-idle"])
}

#[test]
fn meaning_finds_passages_that_share_no_words_and_hybrid_finds_both_kinds() {
    let sb = with_model();
    for (name, text) in CORPUS {
        sb.write(&format!("c/{name}"), text);
    }
    sb.json(&["add", sb.files().join("c").to_str().unwrap()]);
    let summary = work(&sb);
    assert_eq!(summary["completed"], CORPUS.len(), "{summary}");
    assert!(summary["embedded"].as_u64().unwrap() >= CORPUS.len() as u64);

    // No word in common with the feline passage.
    let q = "kitten dozing";
    let kw = sb.json(&["search", q, "--mode", "keyword"]);
    assert_eq!(
        rank_of(&kw, "feline.md"),
        None,
        "keyword alone must not find it: {kw}"
    );
    let sem = sb.json(&["search", q, "--mode", "semantic"]);
    assert!(
        rank_of(&sem, "feline.md").is_some_and(|r| r < 3),
        "semantic top 3: {sem}"
    );
    // Hybrid (the default) finds the meaning match and an exact-word match (two of the four
    // words: one of them alone would not be a close match).
    let hy = sb.json(&["search", "kitten dozing quarterly payments"]);
    assert_eq!(hy["mode"], "hybrid", "{hy}");
    assert!(hy["notice"].is_null(), "{hy}");
    let top3: Vec<_> = (0..3).map(|i| hy["hits"][i]["name"].clone()).collect();
    assert!(top3.contains(&Value::from("feline.md")), "{hy}");
    assert!(top3.contains(&Value::from("taxes.md")), "{hy}");
    assert_db_consistent(&sb);
}

#[test]
fn the_embedding_cache_means_unchanged_chunks_are_never_embedded_twice() {
    let sb = with_model();
    let long: String = (0..30)
        .map(|i| format!("Paragraph {i} describes step {i} of restoring an oak sideboard: sanding, oiling and waxing the grain carefully.\n\n"))
        .collect();
    sb.write("a/sideboard.md", &long);
    sb.json(&["add", sb.files().join("a").to_str().unwrap()]);
    let first = work(&sb);
    let n = first["embedded"].as_u64().unwrap();
    assert!(n >= 2, "{first}");

    // The same content again under another name: recognised, nothing embedded.
    sb.write("b/copy-of-sideboard.md", &long);
    sb.json(&["add", sb.files().join("b").to_str().unwrap()]);
    let again = work(&sb);
    assert_eq!(again["embedded"], 0, "{again}");

    // Processing the same item again: every chunk is a cache hit.
    let id = sb
        .json(&["list"])
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "sideboard.md")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sb.json(&["retry", &id]);
    let rerun = work(&sb);
    assert_eq!(rerun["embedded"], 0, "{rerun}");

    // Edit one paragraph at the end: only the changed chunk(s) are embedded.
    let edited =
        format!("{long}A final note: the brass handles were polished with vinegar and salt.\n");
    sb.write("a/sideboard.md", &edited);
    sb.json(&["retry", &id]);
    let after_edit = work(&sb);
    let m = after_edit["embedded"].as_u64().unwrap();
    assert!(
        m >= 1 && m < n,
        "edited doc embedded {m} of {n} chunks: {after_edit}"
    );
    assert_db_consistent(&sb);
}

#[test]
fn without_a_model_keyword_search_works_and_says_why() {
    let sb = Sandbox::new(); // model dir points at an empty folder
    sb.write("x/note.md", "The orchard keeps forty apple trees.");
    sb.json(&["add", sb.files().join("x").to_str().unwrap()]);
    let s = work(&sb);
    assert_eq!(s["completed"], 1, "{s}");
    assert_eq!(s["embedded"], 0);
    let r = sb.json(&["search", "orchard"]);
    assert_eq!(r["mode"], "keyword");
    assert!(
        r["notice"]
            .as_str()
            .unwrap()
            .contains("the embedding model is missing"),
        "{r}"
    );
    assert_eq!(r["hits"][0]["name"], "note.md");
    // Human output: results on stdout, the notice on stderr.
    let o = sb.run(&["search", "orchard"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("note.md"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("the embedding model is missing"), "{err}");
    // Once the model appears, `reindex` builds the semantic index for what is there.
    let o = sb
        .cmd(&["--json", "reindex"])
        .env("TROVE_MODEL_DIR", model_dir())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = sb
        .cmd(&["--json", "search", "fruit trees", "--mode", "semantic"])
        .env("TROVE_MODEL_DIR", model_dir())
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["hits"][0]["name"], "note.md", "{r}");
}

/// The relevance floor: a question about nothing in the library says "no close matches" and
/// shows the nearest three as such; a related one lists its matches. "More like this" from
/// a passage finds the other document on its subject first, never its own.
#[test]
fn unrelated_questions_get_no_close_matches_and_more_like_this_finds_the_kin() {
    let sb = with_model();
    for (name, text) in CORPUS {
        sb.write(&format!("c/{name}"), text);
    }
    sb.write(
        "c/kitten.md",
        "Our kitten sleeps on the sofa for most of the afternoon, curled up in the sun.",
    );
    sb.json(&["add", sb.files().join("c").to_str().unwrap()]);
    work(&sb);
    let far = sb.json(&["search", "how do I replace a bicycle chain"]);
    assert_eq!(far["noCloseMatches"], true, "{far}");
    let n = far["hits"].as_array().unwrap().len();
    assert!((1..=3).contains(&n), "the nearest few: {far}");
    let near = sb.json(&["search", "cats napping during the day"]);
    assert_eq!(near["noCloseMatches"], false, "{near}");
    assert!(rank_of(&near, "feline.md").is_some_and(|r| r < 2), "{near}");
    let sim = near["hits"][rank_of(&near, "feline.md").unwrap()]["similarity"]
        .as_f64()
        .unwrap();
    assert!(sim > 0.3, "a close match is above the floor: {sim}");

    let feline = &near["hits"][rank_of(&near, "feline.md").unwrap()];
    let passage = feline["chunkId"].as_i64().unwrap().to_string();
    let like = sb.json(&["similar", &passage]);
    assert_eq!(like["hits"][0]["name"], "kitten.md", "{like}");
    assert_eq!(
        rank_of(&like, "feline.md"),
        None,
        "not its own document: {like}"
    );
    let human = sb.ok(&["similar", &passage, "--limit", "1"]);
    assert!(
        human.contains("kitten.md") && !human.contains("bread.md"),
        "{human}"
    );
    // Among what filters let through, as in a search.
    let inside = sb.json(&["similar", &passage, "in:bread"]);
    let names: Vec<&str> = inside["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bread.md"], "{inside}");
    let none = sb.json(&["similar", &passage, "type:pdf"]);
    assert!(none["hits"].as_array().unwrap().is_empty(), "{none}");
    let without = sb.json(&["similar", &passage, "--", "-kitten"]);
    assert!(rank_of(&without, "kitten.md").is_none(), "{without}");
    assert!(!without["hits"].as_array().unwrap().is_empty(), "{without}");
    let o = sb.run(&["similar", "999999"]);
    assert_eq!(o.status.code(), Some(4), "no such passage: {o:?}");
}

/// One paragraph (1,366 bytes, 309 word pieces) on closing the books whose last sentences,
/// past the 254 word pieces the model reads, are about something else entirely.
fn long_paragraph() -> String {
    [
        "On 31.03.2024 the Q1 reconciliation (ref. GL-4471/B, IAS 16.62) of subsidiary ledgers begins",
        " with the accounts receivable aging schedule, which the controller compares against the general",
        " ledger control account before any adjusting entries are posted. Depreciation on machinery (cost",
        " centre 7730-12) is recalculated under the declining-balance method, amortisation of capitalised",
        " software follows the straight-line convention, and accrued liabilities for unbilled utilities are",
        " estimated from the prior period's consumption. Intercompany balances (entities 0041, 0057, 0093)",
        " are eliminated on consolidation, foreign-currency receivables are remeasured at the closing",
        " exchange rate, and unrealised translation differences are deferred to other comprehensive income.",
        " Prepaid insurance (policy 88-2231-X) is amortised monthly, deferred revenue is recognised as",
        " performance obligations are satisfied, and the allowance for doubtful accounts is trued up against",
        " historical write-off percentages. Finally the auditors sample vouchers, confirm bank balances, and",
        " reperform the payroll accrual calculations per IFRS 15.31 and ISA 505.7. At night the old keeper",
        " climbed the spiral stairs to light the lamp that warned ships off the rocks, and in winter storms",
        " he rowed out to pull drowning sailors from the surf. His daughter kept the logbook of every",
        " wreck and rescue.",
    ]
    .concat()
}

/// A chunk longer than the model reads ends in a sentence its own vector never saw: the
/// window over its end finds it by meaning. A library indexed before windows existed (its
/// vectors as version 13 stored them) cannot, until the idle worker gives it its windows.
#[test]
fn the_last_sentence_of_a_long_paragraph_is_found_by_meaning() {
    let sb = with_model();
    for (name, text) in CORPUS {
        sb.write(&format!("c/{name}"), text);
    }
    let long = long_paragraph();
    assert!(long.len() < 1_400, "one chunk: {}", long.len());
    sb.write("c/ledger.md", &long);
    sb.json(&["add", sb.files().join("c").to_str().unwrap()]);
    let summary = work(&sb);
    assert_eq!(summary["completed"], CORPUS.len() + 1, "{summary}");
    let (chunks, vectors): (i64, i64) = sb
        .conn()
        .query_row(
            "SELECT (SELECT COUNT(*) FROM chunks WHERE item = (SELECT 'f' || id FROM knowledge_files WHERE filename = 'ledger.md')),
                    (SELECT COUNT(*) FROM embeddings e JOIN chunks c ON c.text_hash = e.text_hash
                      WHERE c.item = (SELECT 'f' || id FROM knowledge_files WHERE filename = 'ledger.md'))",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (chunks, vectors),
        (1, 2),
        "one chunk, its vector and its window's"
    );

    // No word of the last sentence: meaning only.
    let q = "lighthouse watchman saving shipwrecked seamen";
    let found = |sb: &Sandbox| {
        let r = sb.json(&["search", q, "--mode", "semantic"]);
        let close = r["noCloseMatches"] == false;
        (close && rank_of(&r, "ledger.md") == Some(0), r)
    };
    let (ok, r) = found(&sb);
    assert!(ok, "the window finds the last sentence: {r}");
    let sim = r["hits"][0]["similarity"].as_f64().unwrap();
    assert!(sim > 0.3, "a close match: {sim}");

    // As an older Trove left it: the chunk's own vector only, no window count.
    rusqlite::Connection::open(&sb.db)
        .unwrap()
        .execute_batch(
            "DELETE FROM embeddings WHERE part > 0; UPDATE embeddings SET windows = NULL;",
        )
        .unwrap();
    let (ok, r) = found(&sb);
    assert!(!ok, "without its window the sentence is not found: {r}");
    let summary = work(&sb);
    assert_eq!(
        summary["embedded"], 1,
        "the window alone, nothing else again: {summary}"
    );
    let (ok, r) = found(&sb);
    assert!(
        ok,
        "found again once the idle worker gave it its window: {r}"
    );
    assert_db_consistent(&sb);
}
