//! Property tests for the chunker (`trove_core::chunk`).
//!
//! Case counts are per property; `PROPTEST_CASES=10000 cargo test -p trove-core --test
//! prop_chunk` overrides all of them (the `proptest!` macro passes its config through
//! `contextualize_config`, which reads the environment).
//!
//! Configurations are drawn with `4 <= max` and `target <= max`: a `char` can take 4
//! bytes, so no chunker can keep a smaller bound, and `target` is the packing goal below
//! the hard `max`.

use std::ops::Range;

use proptest::prelude::*;
use trove_core::chunk::{chunk, fit_tokens, ChunkConfig};

/// Text with structure the chunker cares about: words of mixed scripts (1- to 4-byte
/// chars), sentence ends, Unicode whitespace, blank lines, and very long words.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => "[a-zA-Z0-9]{1,12}",
        3 => "[éüßñ漢字かな한글Ωж😀𝄞🦀]{1,6}",
        3 => Just(" ".to_string()),
        2 => prop_oneof![
            Just(". "), Just("! "), Just("? "), Just("。"), Just("."), Just("…"),
        ]
        .prop_map(str::to_string),
        2 => prop_oneof![
            Just("\n"), Just("\n\n"), Just("\r\n"), Just("\r\n\r\n"), Just("\n \t\n"),
            Just("\n\n\n\n"),
        ]
        .prop_map(str::to_string),
        1 => prop_oneof![
            Just("\t"), Just("\u{a0}"), Just("\u{3000}"), Just("\u{2028}"), Just("\u{2029}"),
            Just("\u{85}"), Just("\u{b}"), Just("\u{c}"), Just("\u{200b}"), Just("\u{feff}"),
        ]
        .prop_map(str::to_string),
        1 => ("[a-z漢😀]", 50..3000usize).prop_map(|(c, n)| c.repeat(n)),
    ];
    prop_oneof![
        6 => proptest::collection::vec(piece, 0..400).prop_map(|v| v.concat()),
        2 => any::<String>(),
        1 => "[ \\n\\t.a漢]{0,200}",
    ]
}

fn config() -> impl Strategy<Value = ChunkConfig> {
    prop_oneof![
        1 => Just(ChunkConfig::default()),
        4 => (4usize..2000, any::<prop::sample::Index>(), 0usize..3000).prop_map(
            |(max, target, overlap)| ChunkConfig {
                max,
                target: target.index(max + 1),
                overlap,
            }
        ),
        1 => (4usize..16, any::<prop::sample::Index>(), 0usize..20).prop_map(
            |(max, target, overlap)| ChunkConfig {
                max,
                target: target.index(max + 1),
                overlap,
            }
        ),
    ]
}

fn check(text: &str, cfg: &ChunkConfig, chunks: &[Range<usize>]) -> Result<(), TestCaseError> {
    let blank = |r: Range<usize>| text[r].chars().all(char::is_whitespace);
    for c in chunks {
        prop_assert!(c.start < c.end, "empty chunk {:?}", c);
        prop_assert!(
            c.end <= text.len(),
            "chunk {:?} beyond the text ({})",
            c,
            text.len()
        );
        prop_assert!(
            text.is_char_boundary(c.start) && text.is_char_boundary(c.end),
            "chunk {:?} not on char boundaries",
            c
        );
        prop_assert!(
            c.end - c.start <= cfg.max,
            "chunk {:?} is {} bytes, max {} ({:?})",
            c,
            c.end - c.start,
            cfg.max,
            cfg
        );
        prop_assert!(
            !blank(c.clone()),
            "blank chunk {:?}: {:?}",
            c,
            &text[c.clone()]
        );
    }
    // Covered in order: what is outside every chunk is whitespace only.
    match (chunks.first(), chunks.last()) {
        (Some(first), Some(last)) => {
            prop_assert!(blank(0..first.start), "text before the first chunk is lost");
            prop_assert!(
                blank(last.end..text.len()),
                "text after the last chunk is lost"
            );
        }
        _ => prop_assert!(blank(0..text.len()), "non-blank text gave no chunks"),
    }
    for w in chunks.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        prop_assert!(
            b.start > a.start && b.end > a.end,
            "chunks out of order: {:?} then {:?}",
            a,
            b
        );
        if b.start > a.end {
            prop_assert!(
                blank(a.end..b.start),
                "text lost between {:?} and {:?}: {:?}",
                a,
                b,
                &text[a.end..b.start]
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Chunks are non-empty, non-blank, on char boundaries, within `max`, in order, and
    /// together cover every non-whitespace byte of the text.
    #[test]
    fn chunks_cover_the_text_within_bounds(text in text(), cfg in config()) {
        let chunks = chunk(&text, &cfg);
        check(&text, &cfg, &chunks)?;
    }

    /// Same for the production configuration on arbitrary Unicode (multi-paragraph
    /// documents of any `char`s, including control and combining characters).
    #[test]
    fn default_config_on_arbitrary_unicode(
        paras in proptest::collection::vec(any::<String>(), 0..30),
        sep in prop_oneof![Just("\n\n"), Just("\n"), Just(" "), Just("")],
    ) {
        let text = paras.join(sep);
        let cfg = ChunkConfig::default();
        check(&text, &cfg, &chunk(&text, &cfg))?;
    }

    /// Without overlap, chunks never share bytes.
    #[test]
    fn no_overlap_means_disjoint(text in text(), max in 4usize..1500, t in any::<prop::sample::Index>()) {
        let cfg = ChunkConfig { max, target: t.index(max + 1), overlap: 0 };
        let chunks = chunk(&text, &cfg);
        check(&text, &cfg, &chunks)?;
        for w in chunks.windows(2) {
            prop_assert!(w[1].start >= w[0].end, "overlap {:?} {:?} with overlap 0", w[0], w[1]);
        }
    }

    /// Cut to a token limit (here one token per character, as CJK text nearly is, or per
    /// word-ish piece): every piece fits, lies inside its chunk on char boundaries, in
    /// order, and the pieces keep every non-whitespace character of the chunks.
    #[test]
    fn token_fitted_chunks_fit_and_lose_nothing(
        text in text(),
        max in 1usize..300,
        per_char in any::<bool>(),
    ) {
        // Without overlap the chunks are disjoint, so each piece has one chunk to be in.
        let cfg = ChunkConfig { overlap: 0, ..ChunkConfig::default() };
        let chunks = chunk(&text, &cfg);
        let count = |s: &str| -> usize {
            if per_char {
                s.chars().count()
            } else {
                // Roughly a wordpiece tokenizer: a piece per 3 letters of a word, one per
                // other character.
                s.split(char::is_whitespace)
                    .map(|w| {
                        let letters = w.chars().filter(|c| c.is_alphanumeric()).count();
                        letters.div_ceil(3) + (w.chars().count() - letters)
                    })
                    .sum()
            }
        };
        let fitted = fit_tokens(&text, chunks.clone(), max, &count);
        let mut prev_end = 0;
        let mut i = 0;
        for c in &chunks {
            let mut kept = String::new();
            while i < fitted.len() && fitted[i].end <= c.end && fitted[i].start >= c.start {
                let r = fitted[i].clone();
                prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
                prop_assert!(r.start < r.end, "empty piece {:?}", r);
                prop_assert!(r.start >= prev_end, "out of order {:?}", r);
                let piece = &text[r.clone()];
                // A single character over the limit is the one exception (it cannot be cut).
                prop_assert!(
                    count(piece) <= max || piece.chars().count() == 1,
                    "{} tokens > {max}: {:?}", count(piece), piece
                );
                kept.extend(piece.chars().filter(|ch| !ch.is_whitespace()));
                prev_end = r.end;
                i += 1;
            }
            let want: String = text[c.clone()].chars().filter(|ch| !ch.is_whitespace()).collect();
            prop_assert_eq!(kept, want, "chunk {:?} lost text", c);
        }
        prop_assert_eq!(i, fitted.len(), "pieces outside every chunk");
    }
}
