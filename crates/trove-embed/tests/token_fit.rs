//! Chunks sized in the model's tokens: the counter agrees with sentence-transformers' own
//! token counts, and pieces cut by `trove_core::chunk::fit_tokens` — and the windows
//! `trove_core::chunk::windows` gives a long chunk, which is what Trove embeds — never pass
//! the 256 tokens the model reads, on random text of mixed scripts (CJK included), and
//! every chunk's end is read. Needs the model files (scripts/fetch-model.sh,
//! TROVE_MODEL_DIR).

mod common;

use std::sync::OnceLock;

use proptest::prelude::*;
use trove_core::chunk::{chunk, fit_tokens, windows, ChunkConfig};
use trove_embed::TokenCounter;

fn counter() -> &'static TokenCounter {
    static C: OnceLock<TokenCounter> = OnceLock::new();
    C.get_or_init(|| TokenCounter::load(&common::model_dir()).expect("tokenizer"))
}

#[test]
fn counts_match_sentence_transformers_with_its_two_special_tokens() {
    let r = common::reference();
    assert!(r.items.len() > 10);
    for it in &r.items {
        assert_eq!(
            counter().count(&it.text) + 2,
            it.tokens_untruncated,
            "{:?}",
            it.text
        );
    }
    assert_eq!(counter().max_tokens(), 254);
}

/// Words of several scripts, numbers and part codes (many word pieces each), punctuation,
/// and paragraph breaks.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => "[a-z]{1,12}",
        2 => "[A-Z][a-z]{2,9}",
        3 => "[一-龥ぁ-んァ-ン]{1,20}",
        1 => "[가-힣]{1,8}",
        2 => "[0-9]{1,6}([.,-][0-9A-F]{1,4})?",
        4 => Just(" ".to_string()),
        2 => prop_oneof![Just(". "), Just("。"), Just(", "), Just("; "), Just("! ")]
            .prop_map(str::to_string),
        1 => prop_oneof![Just("\n"), Just("\n\n")].prop_map(str::to_string),
    ];
    proptest::collection::vec(piece, 0..1500).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn no_chunk_passes_the_models_window(text in text()) {
        let c = counter();
        let chunks = chunk(&text, &ChunkConfig::default());
        let fitted = fit_tokens(&text, chunks, c.max_tokens(), &|s| c.count(s));
        for r in fitted {
            let piece = &text[r];
            let n = c.count(piece);
            prop_assert!(
                n <= c.max_tokens() || piece.chars().count() == 1,
                "{n} tokens > {}: {piece:?}", c.max_tokens()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_window_is_read_whole_and_the_chunks_end_is_read(text in text()) {
        let c = counter();
        let max = c.max_tokens();
        for r in chunk(&text, &ChunkConfig::default()) {
            let piece = &text[r];
            let w = windows(piece, max, &|s| c.count(s));
            if c.count(piece) <= max {
                prop_assert!(w.is_empty());
                continue;
            }
            let last = w.last().expect("a chunk the model does not read whole has windows");
            prop_assert!(last.end >= piece.trim_end().len(), "its end is read: {last:?}");
            for r in &w {
                let n = c.count(&piece[r.clone()]);
                prop_assert!(
                    n <= max || piece[r.clone()].chars().count() == 1,
                    "{n} tokens > {max}: {:?}", &piece[r.clone()]
                );
            }
        }
    }
}
