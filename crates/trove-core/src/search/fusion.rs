//! Reciprocal rank fusion of the keyword and semantic legs.

use std::collections::HashMap;

/// The RRF constant (Cormack et al.): dampens the weight of the very first ranks.
const K: f64 = 60.0;

/// The keyword leg's weight against the semantic leg's 1.0 in a hybrid search. Measured on
/// the evaluation set (BENCHMARKS.md "Search quality"): hybrid MRR@10 0.650 at 1.0, 0.674 at
/// 0.5, 0.688 at 0.25 — an equal vote let keyword hits on the wrong page push a paraphrased
/// question's answer down.
pub const KEYWORD_WEIGHT: f64 = 0.25;

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
