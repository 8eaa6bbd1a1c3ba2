//! Fusion of the keyword and semantic legs: reciprocal rank fusion for one leg alone, and
//! the hybrid ranking ([`hybrid`]): documents by meaning, nudged up by keyword rank.

use std::collections::HashMap;

/// The RRF constant (Cormack et al.): dampens the weight of the very first ranks.
const K: f64 = 60.0;

/// What the keyword leg adds to a document's similarity in a hybrid search: this much for
/// the document the keyword leg ranks first, half of it for the second, a third for the
/// third, and so on. Measured on the evaluation set (BENCHMARKS.md "Search quality"): rank
/// fusion of the two legs (RRF, any weight or k tried) stayed below the semantic leg alone,
/// because a keyword hit on the wrong page outvoted a close match by meaning; a nudge this
/// size lets keyword rank break near-ties by meaning and little else.
pub const KEYWORD_BONUS: f64 = 0.05;

/// A chunk a leg found: its id, its document (item key), and its cosine similarity to the
/// query if the chunk has a vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<'a> {
    pub chunk: i64,
    pub item: &'a str,
    pub similarity: Option<f32>,
}

/// The hybrid ranking, one chunk per document, best first: a document scores its best
/// chunk's similarity (from either leg; none counts 0) plus [`KEYWORD_BONUS`] divided by its
/// rank among the documents the keyword leg found (best first, `keyword`), and is shown by
/// that best chunk (by similarity, else its best keyword chunk). Ties go to the lower chunk
/// id.
pub fn hybrid(keyword: &[Found<'_>], semantic: &[Found<'_>]) -> Vec<(i64, f64)> {
    // Per document: best chunk, its similarity, keyword bonus.
    let mut docs: HashMap<&str, (i64, Option<f32>, f64)> = HashMap::new();
    let mut keyword_docs = 0usize;
    for f in keyword {
        if !docs.contains_key(f.item) {
            keyword_docs += 1;
            let bonus = KEYWORD_BONUS / keyword_docs as f64;
            docs.insert(f.item, (f.chunk, f.similarity, bonus));
        } else if let Some(d) = docs.get_mut(f.item) {
            if f.similarity.is_some_and(|s| d.1.is_none_or(|b| s > b)) {
                (d.0, d.1) = (f.chunk, f.similarity);
            }
        }
    }
    for f in semantic {
        let d = docs.entry(f.item).or_insert((f.chunk, None, 0.0));
        if f.similarity.is_some_and(|s| d.1.is_none_or(|b| s > b)) {
            (d.0, d.1) = (f.chunk, f.similarity);
        }
    }
    let mut ranked: Vec<(i64, f64)> = docs
        .into_values()
        .map(|(chunk, sim, bonus)| (chunk, f64::from(sim.unwrap_or(0.0)) + bonus))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

/// Fuse ranked chunk-id lists (each best first) into one ranking, best first; ties go to
/// the lower chunk id so results are stable.
pub fn rrf<'a>(legs: impl IntoIterator<Item = &'a [i64]>) -> Vec<(i64, f64)> {
    rrf_weighted(legs.into_iter().map(|l| (l, 1.0)))
}

/// [`rrf`] with a weight per leg (its reciprocal ranks are multiplied by it).
pub fn rrf_weighted<'a>(legs: impl IntoIterator<Item = (&'a [i64], f64)>) -> Vec<(i64, f64)> {
    let mut fused: HashMap<i64, f64> = HashMap::new();
    for (leg, weight) in legs {
        for (rank, id) in leg.iter().enumerate() {
            *fused.entry(*id).or_default() += weight / (K + rank as f64 + 1.0);
        }
    }
    let mut ranked: Vec<(i64, f64)> = fused.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

#[cfg(test)]
mod tests {
    use super::rrf;

    #[test]
    fn found_by_both_legs_ranks_first() {
        let kw = [1, 2, 3];
        let sem = [3, 4];
        let r = rrf([&kw[..], &sem[..]]);
        assert_eq!(r[0].0, 3);
        assert_eq!(r.len(), 4);
        // 1 (keyword rank 1) beats 4 (semantic rank 2).
        let pos = |id| r.iter().position(|x| x.0 == id).unwrap();
        assert!(pos(1) < pos(4));
    }

    fn found(chunk: i64, item: &str, similarity: Option<f32>) -> super::Found<'_> {
        super::Found {
            chunk,
            item,
            similarity,
        }
    }

    #[test]
    fn hybrid_ranks_documents_by_meaning_nudged_by_keyword_rank() {
        let kw = [
            found(1, "a", Some(0.40)),
            found(2, "a", Some(0.30)),
            found(3, "b", Some(0.50)),
            found(9, "d", None),
        ];
        let sem = [
            found(4, "c", Some(0.52)),
            found(3, "b", Some(0.50)),
            found(5, "a", Some(0.45)),
        ];
        let r = super::hybrid(&kw, &sem);
        // One chunk per document, each its best by similarity.
        let chunks: Vec<i64> = r.iter().map(|x| x.0).collect();
        // b: 0.50 + 0.05/2 = 0.525 beats c: 0.52 (no keyword hit); a: 0.45 + 0.05 = 0.50;
        // d: keyword only, no vector: 0.05/3.
        assert_eq!(chunks, [3, 4, 5, 9], "{r:?}");
        assert!((r[0].1 - 0.525).abs() < 1e-6);
        assert!((r[3].1 - 0.05 / 3.0).abs() < 1e-9);
        // Without the keyword leg it is the semantic order.
        let alone: Vec<i64> = super::hybrid(&[], &sem).iter().map(|x| x.0).collect();
        assert_eq!(alone, [4, 3, 5]);
        // A much closer match by meaning is not outvoted by the keyword leg's first.
        let sem = [found(7, "e", Some(0.70)), found(1, "a", Some(0.40))];
        assert_eq!(super::hybrid(&kw, &sem)[0].0, 7);
    }

    #[test]
    fn a_lighter_leg_counts_less() {
        let kw = [1, 2];
        let sem = [2, 1];
        let r = super::rrf_weighted([(&kw[..], 0.25), (&sem[..], 1.0)]);
        assert_eq!(r[0].0, 2, "the semantic leg's first wins: {r:?}");
        let even = rrf([&kw[..], &sem[..]]);
        assert_eq!(even[0].1, even[1].1, "equal weights tie");
    }
}
