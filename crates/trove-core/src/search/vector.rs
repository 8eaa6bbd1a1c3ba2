//! The vector index: every chunk vector of one model in memory, as f32 and as an int8 copy
//! (one scale per vector) that the scan reads — a quarter of the memory traffic — before the
//! best candidates are scored again exactly. Pure: no database, no engine.

/// Vectors of one model for all chunks, in memory: the f32 vectors, and an int8 copy
/// (one scale per vector) that the scan reads — a quarter of the memory traffic — before the
/// best candidates are scored again exactly.
pub struct VectorIndex {
    pub(super) model: String,
    /// `index_version` when loaded.
    pub(super) stamp: i64,
    pub(super) dims: usize,
    ids: Vec<i64>,
    data: Vec<f32>,
    codes: Vec<i8>,
    scales: Vec<f32>,
}

/// Symmetric int8 code of one vector and its scale (`v ≈ code · scale`).
fn quantize(v: &[f32], out: &mut Vec<i8>) -> f32 {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    out.extend(
        v.iter()
            .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8),
    );
    scale
}

#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent accumulators so the compiler vectorises the loop.
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    // Products of int8 codes fit in i16 (127² < 2¹⁵); pairs are summed into i32 lanes, the
    // shape LLVM turns into `pmaddwd` (a 32-bit multiply per lane would be several times
    // slower).
    let mut acc = [0i32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: i32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            acc[i] += i32::from(i16::from(x[i]) * i16::from(y[i]));
        }
    }
    acc.iter().sum::<i32>() + tail
}

/// Approximate scores (int8) of every vector of a part; the best `k` positions (into the
/// part), unordered. Only scores above the running threshold are kept, and the buffer is
/// cut back to `k` whenever it doubles: no vector of all the scores, no full selection.
/// `allowed`: whether a position may be a hit at all (a search's filters).
fn scan_i8(
    codes: &[i8],
    scales: &[f32],
    dims: usize,
    q: &[i8],
    k: usize,
    allowed: impl Fn(usize) -> bool,
) -> Vec<(usize, f32)> {
    if k == 0 {
        return Vec::new();
    }
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(2 * k);
    let mut threshold = f32::NEG_INFINITY;
    let cut = |best: &mut Vec<(usize, f32)>| {
        best.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
        best.truncate(k);
        best.iter().fold(f32::INFINITY, |m, x| m.min(x.1))
    };
    for (i, (v, s)) in codes.chunks_exact(dims).zip(scales).enumerate() {
        if !allowed(i) {
            continue;
        }
        let score = dot_i8(v, q) as f32 * s;
        if score > threshold || best.len() < k {
            best.push((i, score));
            if best.len() == 2 * k {
                threshold = cut(&mut best);
            }
        }
    }
    if best.len() > k {
        cut(&mut best);
    }
    best
}

impl VectorIndex {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    pub fn new(model: String, stamp: i64, dims: usize, ids: Vec<i64>, data: Vec<f32>) -> Self {
        let mut codes = Vec::with_capacity(data.len());
        let scales = data
            .chunks_exact(dims.max(1))
            .map(|v| quantize(v, &mut codes))
            .collect();
        Self {
            model,
            stamp,
            dims,
            ids,
            data,
            codes,
            scales,
        }
    }

    /// The stored vector of one chunk, if the index has it.
    pub fn vector_of(&self, chunk: i64) -> Option<&[f32]> {
        let i = self.ids.iter().position(|id| *id == chunk)?;
        self.data.get(i * self.dims..(i + 1) * self.dims)
    }

    /// Exact cosine scores of every vector (vectors are normalised), best `k`, best first.
    /// The reference `top_k` is measured against.
    pub fn top_k_exact(&self, q: &[f32], k: usize) -> Vec<(i64, f32)> {
        if q.len() != self.dims || self.dims == 0 {
            return Vec::new();
        }
        let mut all: Vec<(i64, f32)> = self
            .data
            .chunks_exact(self.dims)
            .zip(&self.ids)
            .map(|(v, id)| (*id, dot(v, q)))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        all
    }

    /// Top-k by cosine: an int8 scan keeps the best `4k` (at least 100) candidates, which
    /// are scored again exactly. Large indexes are scanned by one thread per core.
    pub fn top_k(&self, q: &[f32], k: usize) -> Vec<(i64, f32)> {
        self.top_k_in(q, k, None)
    }

    /// [`top_k`](Self::top_k) among the chunks of `allow` only (None: all of them).
    pub fn top_k_in(
        &self,
        q: &[f32],
        k: usize,
        allow: Option<&std::collections::HashSet<i64>>,
    ) -> Vec<(i64, f32)> {
        if q.len() != self.dims || k == 0 || self.ids.is_empty() {
            return Vec::new();
        }
        let mut qc = Vec::with_capacity(self.dims);
        quantize(q, &mut qc);
        let keep = (4 * k).max(100);
        let threads = if self.ids.len() < 20_000 {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
        };
        let per = self.ids.len().div_ceil(threads);
        let candidates: Vec<usize> = std::thread::scope(|s| {
            let parts: Vec<_> = self
                .codes
                .chunks(per * self.dims)
                .zip(self.scales.chunks(per))
                .enumerate()
                .map(|(p, (codes, scales))| {
                    let qc = &qc;
                    let ids = &self.ids[p * per..];
                    s.spawn(move || {
                        let found = match allow {
                            None => scan_i8(codes, scales, self.dims, qc, keep, |_| true),
                            Some(a) => {
                                scan_i8(codes, scales, self.dims, qc, keep, |i| a.contains(&ids[i]))
                            }
                        };
                        found
                            .into_iter()
                            .map(move |(i, _)| p * per + i)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut scored: Vec<(i64, f32)> = candidates
            .into_iter()
            .map(|i| {
                let v = &self.data[i * self.dims..(i + 1) * self.dims];
                (self.ids[i], dot(v, q))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(k);
        scored
    }
}

#[cfg(test)]
mod recall_tests {
    use super::VectorIndex;

    /// Random unit vectors are the hard case for int8 codes (scores crowd around 0).
    #[test]
    fn quantized_top_k_recalls_at_least_95_percent_of_exact() {
        let (n, dims) = (30_000, 384);
        let mut state = 0x2545F4914F6CDD1Du64;
        let mut unit = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f32 / (1u64 << 53) as f32 - 0.5
        };
        let mut normalised = |len: usize| {
            let mut v: Vec<f32> = (0..len).map(|_| unit()).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            v
        };
        let mut data = Vec::with_capacity(n * dims);
        for _ in 0..n {
            data.extend(normalised(dims));
        }
        let ix = VectorIndex::new("m".into(), 0, dims, (0..n as i64).collect(), data);
        let (mut found, mut total) = (0, 0);
        for _ in 0..30 {
            let q = normalised(dims);
            let exact: Vec<i64> = ix.top_k_exact(&q, 10).iter().map(|h| h.0).collect();
            let approx: Vec<i64> = ix.top_k(&q, 10).iter().map(|h| h.0).collect();
            found += exact.iter().filter(|id| approx.contains(id)).count();
            total += exact.len();
            // Scores of what is returned are exact, not approximations.
            for (id, score) in ix.top_k(&q, 3) {
                let v = &ix.data[id as usize * dims..(id as usize + 1) * dims];
                assert_eq!(score, super::dot(v, &q));
            }
        }
        let recall = found as f64 / total as f64;
        assert!(recall >= 0.95, "recall@10 = {recall}");
        // Inside a filter: only allowed ids, the best of them (every third vector here).
        let allow: std::collections::HashSet<i64> = (0..n as i64).filter(|i| i % 3 == 0).collect();
        let q = normalised(dims);
        let inside = ix.top_k_in(&q, 5, Some(&allow));
        assert_eq!(inside.len(), 5);
        assert!(inside.iter().all(|(id, _)| allow.contains(id)));
        let best_allowed = ix
            .top_k_exact(&q, n)
            .into_iter()
            .find(|(id, _)| allow.contains(id))
            .unwrap();
        assert_eq!(inside[0], best_allowed);
        assert!(ix.top_k_in(&q, 5, Some(&Default::default())).is_empty());
    }
}
