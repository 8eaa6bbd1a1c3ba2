//! The vector index: every chunk vector of one model in memory, as f32 and as an int8 copy
//! (one scale per vector) that the scan reads — a quarter of the memory traffic — before the
//! best candidates are scored again exactly. Large indexes also keep one bit per value (its
//! sign): a scan of those picks the candidates the int8 codes score. Pure: no database, no
//! engine.

use std::borrow::Cow;

use super::kernels;

/// Vectors of one model for all chunks: the f32 vectors, and an int8 copy (one scale per
/// vector) that the scan reads — a quarter of the memory traffic — before the best
/// candidates are scored again exactly. In memory when loaded from the database, or mapped
/// from the snapshot file next to it ([`snapshot`](super::snapshot)).
pub struct VectorIndex {
    pub(super) model: String,
    /// `index_version` when loaded.
    pub(super) stamp: i64,
    pub(super) dims: usize,
    /// Whether the ids never decrease (as [`crate::store::vectors::load`] reads them).
    sorted: bool,
    storage: Storage,
}

/// From this many vectors on, a search first scans the sign bits (48 bytes a vector at 384
/// dimensions, an eighth of the int8 codes), each bit weighed by the query's own value
/// ([`kernels::BitScorer`]), and scores only the best 1 % of those by their int8 codes: at a
/// million vectors the int8 scan alone reads 366 MiB a query. Measured (BENCHMARKS.md,
/// "Search at scale"): with VNNI the scan of a million and the scoring of its best 1 % take
/// under half the int8 scan's time (6 against 13 ms), and keep 99.8 % of the exact top 10
/// of real questions over real vectors (signs compared with the query's signs, Hamming
/// distance, kept 94.6 %). Below this size the int8 scan is
/// fast enough and nothing is given up.
pub const BINARY_MIN: usize = 200_000;

/// How many candidates the sign-bit scan passes on to the int8 codes: a fraction of the
/// index (1/`BINARY_SHARE`), and never fewer than this many times the int8 stage's own.
pub const BINARY_SHARE: usize = 100;
const BINARY_OVER_INT8: usize = 20;

/// How a search finds its candidates (chosen by size; the benchmark names one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// Every vector's int8 code.
    Int8,
    /// Every vector's sign bits, then the int8 codes of the best `candidates`.
    Bits { candidates: usize },
}

/// Where the index's arrays are. A chunk with windows appears once per vector in `ids`, its
/// own first; `data` and `codes` hold `dims` values per id, `scales` one, `bits`
/// `dims.div_ceil(64)` words.
pub(super) enum Storage {
    Owned {
        ids: Vec<i64>,
        data: Vec<f32>,
        codes: Vec<i8>,
        scales: Vec<f32>,
        bits: Vec<u64>,
    },
    /// A snapshot file: ids, scales, sign bits and codes mapped read-only (the scans read
    /// them);
    /// the f32 vectors read from the file when a candidate is rescored (a few hundred per
    /// search), so they never sit in memory. The ranges are byte ranges in the file,
    /// checked for size and alignment when it was opened.
    Mapped {
        map: memmap2::Mmap,
        file: std::fs::File,
        ids: std::ops::Range<usize>,
        scales: std::ops::Range<usize>,
        bits: std::ops::Range<usize>,
        codes: std::ops::Range<usize>,
        data: std::ops::Range<usize>,
    },
}

/// Words of sign bits per vector.
pub(super) fn words(dims: usize) -> usize {
    dims.div_ceil(64)
}

/// The sign bits of int8 codes (a bit set for each value above zero), `words(dims)` a vector.
pub(super) fn sign_bits(codes: &[i8], dims: usize) -> Vec<u64> {
    let w = words(dims);
    let mut bits = vec![0u64; codes.len() / dims.max(1) * w];
    for (v, out) in codes
        .chunks_exact(dims.max(1))
        .zip(bits.chunks_exact_mut(w.max(1)))
    {
        for (j, c) in v.iter().enumerate() {
            if *c > 0 {
                out[j / 64] |= 1 << (j % 64);
            }
        }
    }
    bits
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

/// The best `k` of what is pushed (position, score; higher is better), unordered. Only
/// scores above the running threshold are kept, and the buffer is cut back to `k` whenever
/// it doubles: no vector of all the scores, no full selection.
struct Best {
    k: usize,
    best: Vec<(usize, f32)>,
    threshold: f32,
}

impl Best {
    fn new(k: usize) -> Self {
        Self {
            k,
            best: Vec::with_capacity(2 * k),
            threshold: f32::NEG_INFINITY,
        }
    }

    #[inline(always)]
    fn push(&mut self, i: usize, score: f32) {
        if self.k > 0 && (score > self.threshold || self.best.len() < self.k) {
            self.best.push((i, score));
            if self.best.len() == 2 * self.k {
                self.cut();
            }
        }
    }

    fn cut(&mut self) {
        let k = self.k;
        self.best
            .select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
        self.best.truncate(k);
        self.threshold = self.best.iter().fold(f32::INFINITY, |m, x| m.min(x.1));
    }

    fn finish(mut self) -> Vec<(usize, f32)> {
        if self.best.len() > self.k {
            self.cut();
        }
        self.best
    }
}

/// The best `k` of `positions` by `score` (higher is better), unordered.
fn best_k(
    positions: impl Iterator<Item = usize>,
    k: usize,
    score: impl Fn(usize) -> f32,
) -> Vec<(usize, f32)> {
    let mut best = Best::new(k);
    for i in positions {
        best.push(i, score(i));
    }
    best.finish()
}

/// Vectors a scan scores at a time (into a buffer on the stack), before it picks the best.
const BLOCK: usize = 256;

/// The best `k` allowed positions of `n`, scored a block at a time by `scores` (positions
/// `start..end` into `out[..end - start]`), each score times `scale(i)`.
fn scan_blocks(
    n: usize,
    k: usize,
    allowed: impl Fn(usize) -> bool,
    scores: impl Fn(std::ops::Range<usize>, &mut [i32]),
    scale: impl Fn(usize) -> f32,
) -> Vec<(usize, f32)> {
    let mut best = Best::new(k);
    let mut out = [0i32; BLOCK];
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        scores(start..end, &mut out[..end - start]);
        for (i, s) in (start..end).zip(out.iter()) {
            if allowed(i) {
                best.push(i, *s as f32 * scale(i));
            }
        }
    }
    best.finish()
}

/// Approximate scores (int8) of every allowed vector of a part; the best `k` positions (into
/// the part), unordered. `allowed`: whether a position may be a hit at all (the filters).
fn scan_i8(
    codes: &[i8],
    scales: &[f32],
    dims: usize,
    q: &[i8],
    k: usize,
    allowed: impl Fn(usize) -> bool,
) -> Vec<(usize, f32)> {
    let d = dims.max(1);
    scan_blocks(
        scales.len(),
        k,
        allowed,
        |r, out| kernels::dots_i8(&codes[r.start * d..r.end * d], dims, q, out),
        |i| scales[i],
    )
}

/// The `k` allowed vectors of a part whose sign bits score best against the query
/// ([`kernels::BitScorer`]).
fn scan_bits(
    bits: &[u64],
    w: usize,
    scorer: &kernels::BitScorer,
    k: usize,
    allowed: impl Fn(usize) -> bool,
) -> Vec<(usize, f32)> {
    let w1 = w.max(1);
    scan_blocks(
        bits.len() / w1,
        k,
        allowed,
        |r, out| scorer.scores(&bits[r.start * w1..r.end * w1], out),
        |_| 1.0,
    )
}

impl VectorIndex {
    pub fn len(&self) -> usize {
        self.ids().len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids().is_empty()
    }
    pub fn new(model: String, stamp: i64, dims: usize, ids: Vec<i64>, data: Vec<f32>) -> Self {
        let mut codes = Vec::with_capacity(data.len());
        let scales = data
            .chunks_exact(dims.max(1))
            .map(|v| quantize(v, &mut codes))
            .collect();
        let bits = sign_bits(&codes, dims);
        let storage = Storage::Owned {
            ids,
            data,
            codes,
            scales,
            bits,
        };
        Self::from_storage(model, stamp, dims, storage)
    }

    /// An index over arrays already laid out (in memory, or a mapped snapshot).
    pub(super) fn from_storage(model: String, stamp: i64, dims: usize, storage: Storage) -> Self {
        let mut ix = Self {
            model,
            stamp,
            dims,
            sorted: false,
            storage,
        };
        ix.sorted = ix.ids().windows(2).all(|w| w[0] <= w[1]);
        ix
    }

    /// Whether the arrays are mapped from a snapshot file (not read from the database).
    pub fn is_mapped(&self) -> bool {
        matches!(self.storage, Storage::Mapped { .. })
    }

    pub(super) fn ids(&self) -> &[i64] {
        match &self.storage {
            Storage::Owned { ids, .. } => ids,
            Storage::Mapped { map, ids, .. } => bytemuck::cast_slice(&map[ids.clone()]),
        }
    }
    /// Vector `i` (of `len()`): borrowed from memory, or read from the snapshot file
    /// (None if that read fails: the candidate is left out).
    pub(super) fn vector(&self, i: usize) -> Option<Cow<'_, [f32]>> {
        let d = self.dims;
        match &self.storage {
            Storage::Owned { data, .. } => data.get(i * d..(i + 1) * d).map(Cow::Borrowed),
            Storage::Mapped { file, data, .. } => {
                use std::os::unix::fs::FileExt;
                let mut v = vec![0f32; d];
                let at = data.start + i * d * 4;
                if at + d * 4 > data.end {
                    return None;
                }
                file.read_exact_at(bytemuck::cast_slice_mut(&mut v), at as u64)
                    .ok()?;
                Some(Cow::Owned(v))
            }
        }
    }
    pub(super) fn codes(&self) -> &[i8] {
        match &self.storage {
            Storage::Owned { codes, .. } => codes,
            Storage::Mapped { map, codes, .. } => bytemuck::cast_slice(&map[codes.clone()]),
        }
    }
    pub(super) fn bits(&self) -> &[u64] {
        match &self.storage {
            Storage::Owned { bits, .. } => bits,
            Storage::Mapped { map, bits, .. } => bytemuck::cast_slice(&map[bits.clone()]),
        }
    }
    pub(super) fn scales(&self) -> &[f32] {
        match &self.storage {
            Storage::Owned { scales, .. } => scales,
            Storage::Mapped { map, scales, .. } => bytemuck::cast_slice(&map[scales.clone()]),
        }
    }

    /// Positions of one chunk's vectors (its own first, then its windows').
    fn positions(&self, chunk: i64) -> std::ops::Range<usize> {
        if self.sorted {
            let start = self.ids().partition_point(|id| *id < chunk);
            start..self.ids().partition_point(|id| *id <= chunk)
        } else {
            match self.ids().iter().position(|id| *id == chunk) {
                Some(i) => i..i + 1,
                None => 0..0,
            }
        }
    }

    /// The stored vector of one chunk (its own, not its windows'), if the index has it.
    pub fn vector_of(&self, chunk: i64) -> Option<Cow<'_, [f32]>> {
        self.vector(self.positions(chunk).next()?)
    }

    /// The exact cosine similarity of one chunk to `q` (its best vector's), if the index has
    /// its vector.
    pub fn similarity(&self, chunk: i64, q: &[f32]) -> Option<f32> {
        if q.len() != self.dims {
            return None;
        }
        self.positions(chunk)
            .filter_map(|i| self.vector(i).map(|v| dot(&v, q)))
            .max_by(f32::total_cmp)
    }

    /// Exact cosine scores of every vector (vectors are normalised), best `k`, best first.
    /// The reference `top_k` is measured against.
    pub fn top_k_exact(&self, q: &[f32], k: usize) -> Vec<(i64, f32)> {
        if q.len() != self.dims || self.dims == 0 {
            return Vec::new();
        }
        let mut all: Vec<(i64, f32)> = (0..self.len())
            .filter_map(|i| Some((self.ids()[i], dot(&self.vector(i)?, q))))
            .collect();
        best_per_chunk(&mut all, k);
        all
    }

    /// Top-k by cosine: an int8 scan keeps the best `4k` (at least 100) candidates, which
    /// are scored again exactly. Large indexes are scanned by one thread per core, and from
    /// [`BINARY_MIN`] vectors on, the int8 stage scores only what a scan of the sign bits
    /// found ([`Scan::Bits`]).
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
        self.top_k_with(q, k, allow, self.scan_for(k))
    }

    /// The scan a search of `k` hits uses at this index's size.
    pub fn scan_for(&self, k: usize) -> Scan {
        if self.len() < BINARY_MIN {
            Scan::Int8
        } else {
            let candidates = (self.len() / BINARY_SHARE).max(Self::keep(k) * BINARY_OVER_INT8);
            Scan::Bits { candidates }
        }
    }

    /// Candidates the int8 stage passes on to exact scoring.
    fn keep(k: usize) -> usize {
        (4 * k).max(100)
    }

    /// [`top_k_in`](Self::top_k_in) with the given first scan.
    pub fn top_k_with(
        &self,
        q: &[f32],
        k: usize,
        allow: Option<&std::collections::HashSet<i64>>,
        scan: Scan,
    ) -> Vec<(i64, f32)> {
        if q.len() != self.dims || self.dims == 0 || k == 0 || self.ids().is_empty() {
            return Vec::new();
        }
        let d = self.dims;
        let mut qc = Vec::with_capacity(d);
        quantize(q, &mut qc);
        let keep = Self::keep(k);
        let ids = self.ids();
        let allowed = |i: usize| allow.is_none_or(|a| a.contains(&ids[i]));
        let candidates: Vec<usize> = match scan {
            Scan::Int8 => self.in_parts(|range| {
                let (codes, scales) = (
                    &self.codes()[range.start * d..range.end * d],
                    &self.scales()[range.clone()],
                );
                scan_i8(codes, scales, d, &qc, keep, |i| allowed(range.start + i))
            }),
            Scan::Bits { candidates } => {
                let w = words(d);
                let scorer = kernels::BitScorer::new(q, &qc, w);
                // Each part keeps its share of the candidates, and a quarter more (the best
                // of the whole are spread about evenly, not exactly).
                let share = candidates.div_ceil(self.parts()) * 5 / 4;
                let mut wide = self.in_parts(|range| {
                    let bits = &self.bits()[range.start * w..range.end * w];
                    scan_bits(bits, w, &scorer, share, |i| allowed(range.start + i))
                });
                // In order: the codes are read forwards, not all over the index.
                wide.sort_unstable();
                let (codes, scales) = (self.codes(), self.scales());
                let at = |i: usize| {
                    let mut dot = [0];
                    kernels::dots_i8(&codes[i * d..(i + 1) * d], d, &qc, &mut dot);
                    dot[0] as f32 * scales[i]
                };
                best_k(wide.into_iter(), keep, at)
                    .into_iter()
                    .map(|(i, _)| i)
                    .collect()
            }
        };
        let mut scored: Vec<(i64, f32)> = candidates
            .into_iter()
            .filter_map(|i| Some((ids[i], dot(&self.vector(i)?, q))))
            .collect();
        best_per_chunk(&mut scored, k);
        scored
    }

    /// How many parts [`in_parts`](Self::in_parts) scans side by side.
    fn parts(&self) -> usize {
        if self.len() < 20_000 {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
        }
    }

    /// `scan` run over the index in parts, one thread per core for large indexes; the
    /// positions it found (into the whole index).
    fn in_parts(
        &self,
        scan: impl Fn(std::ops::Range<usize>) -> Vec<(usize, f32)> + Sync,
    ) -> Vec<usize> {
        let n = self.len();
        let per = n.div_ceil(self.parts());
        std::thread::scope(|s| {
            let parts: Vec<_> = (0..n)
                .step_by(per.max(1))
                .map(|start| {
                    let range = start..(start + per).min(n);
                    let scan = &scan;
                    s.spawn(move || {
                        scan(range.clone())
                            .into_iter()
                            .map(|(i, _)| range.start + i)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        })
    }
}

/// Best first, each chunk once (its best vector: its own or a window's), at most `k`.
fn best_per_chunk(scored: &mut Vec<(i64, f32)>, k: usize) {
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut seen = std::collections::HashSet::new();
    scored.retain(|(id, _)| seen.insert(*id));
    scored.truncate(k);
}

#[cfg(test)]
mod recall_tests {
    use super::VectorIndex;

    /// Random unit vectors are the hard case for int8 codes (scores crowd around 0).
    /// Uniform values in [-0.5, 0.5), reproducible.
    fn uniform(seed: u64) -> impl FnMut() -> f32 {
        let mut state = seed;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f32 / (1u64 << 53) as f32 - 0.5
        }
    }

    fn normalise(mut v: Vec<f32>) -> Vec<f32> {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }

    /// Recall@10 of `scan` against the exact scores, over `queries`.
    fn recall(ix: &VectorIndex, queries: &[Vec<f32>], scan: super::Scan) -> f64 {
        let (mut found, mut total) = (0, 0);
        for q in queries {
            let exact: Vec<i64> = ix.top_k_exact(q, 10).iter().map(|h| h.0).collect();
            let approx: Vec<i64> = ix
                .top_k_with(q, 10, None, scan)
                .iter()
                .map(|h| h.0)
                .collect();
            found += exact.iter().filter(|id| approx.contains(id)).count();
            total += exact.len();
        }
        found as f64 / total as f64
    }

    #[test]
    fn quantized_top_k_recalls_at_least_95_percent_of_exact() {
        let (n, dims) = (30_000, 384);
        let mut unit = uniform(0x2545F4914F6CDD1D);
        let mut normalised = |len: usize| normalise((0..len).map(|_| unit()).collect());
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
                let v = ix.vector(id as usize).unwrap();
                assert_eq!(score, super::dot(&v, &q));
            }
        }
        let recall = found as f64 / total as f64;
        assert!(recall >= 0.95, "recall@10 = {recall}");
        assert_eq!(ix.scan_for(10), super::Scan::Int8, "a small index");
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

    /// A chunk with windows has several vectors: it is found by its best, listed once, and
    /// "more like this" starts from its own.
    #[test]
    fn a_chunk_with_windows_is_found_by_its_best_vector_once() {
        let ids = vec![1, 2, 2, 3];
        let data = vec![
            1.0, 0.0, 0.0, // 1
            0.0, 1.0, 0.0, // 2, its own
            0.0, 0.0, 1.0, // 2, a window
            0.6, 0.8, 0.0, // 3
        ];
        let ix = VectorIndex::new("m".into(), 0, 3, ids, data);
        let q = [0.0, 0.0, 1.0];
        assert_eq!(ix.top_k(&q, 3)[0], (2, 1.0));
        let all = ix.top_k_exact(&[0.0, 0.6, 0.8], 10);
        let ids: Vec<i64> = all.iter().map(|h| h.0).collect();
        assert_eq!(ids, [2, 3, 1], "each chunk once, by its best: {all:?}");
        assert_eq!(ix.vector_of(2).as_deref(), Some(&[0.0, 1.0, 0.0][..]));
        assert_eq!(ix.similarity(2, &q), Some(1.0));
        assert_eq!(ix.similarity(3, &q), Some(0.0));
        assert_eq!(ix.similarity(4, &q), None);
    }

    /// Vectors in topics (a document's passages lie near each other, and near the questions
    /// about them), the shape the sign-bit scan is for: it keeps what the int8 scan finds.
    /// Random vectors, where every score crowds around zero, are its worst case: measured in
    /// the benchmark, not promised here.
    #[test]
    fn the_sign_bit_scan_finds_what_the_int8_scan_finds_in_topical_vectors() {
        let (n, dims, topics) = (40_000, 384, 400);
        let mut unit = uniform(0x9E3779B97F4A7C15);
        let centres: Vec<Vec<f32>> = (0..topics)
            .map(|_| normalise((0..dims).map(|_| unit()).collect()))
            .collect();
        // Near a centre: cosine about 0.6 to it, as passages of one subject are.
        let mut near = |c: &[f32]| normalise(c.iter().map(|x| x + unit() * 0.25).collect());
        let mut data = Vec::with_capacity(n * dims);
        for i in 0..n {
            data.extend(near(&centres[i % topics]));
        }
        let queries: Vec<Vec<f32>> = (0..40).map(|t| near(&centres[t * 7])).collect();
        let ix = VectorIndex::new("m".into(), 0, dims, (0..n as i64).collect(), data);
        assert!(
            ix.len() < super::BINARY_MIN,
            "the scan is chosen by hand here"
        );
        let bits = super::Scan::Bits {
            candidates: n / super::BINARY_SHARE,
        };
        let (int8, signs) = (
            recall(&ix, &queries, super::Scan::Int8),
            recall(&ix, &queries, bits),
        );
        assert!(int8 >= 0.95, "int8 recall@10 = {int8}");
        assert!(
            signs >= int8 - 0.02,
            "sign bits recall@10 = {signs}, int8 {int8}"
        );
        // Scores are exact, and a stored vector finds itself first.
        let own = ix.vector(1234).unwrap().to_vec();
        let hits = ix.top_k_with(&own, 5, None, bits);
        assert_eq!(hits[0], (1234, super::dot(&own, &own)));
        // Filters hold in the first scan: only allowed ids (another topic's here).
        let allow: std::collections::HashSet<i64> =
            (0..n as i64).filter(|i| i % topics as i64 == 5).collect();
        let inside = ix.top_k_with(&queries[0], 5, Some(&allow), bits);
        assert_eq!(inside.len(), 5);
        assert!(inside.iter().all(|(id, _)| allow.contains(id)));
    }

    #[test]
    fn a_large_index_scans_sign_bits_first() {
        let n = super::BINARY_MIN;
        let ix = VectorIndex::new("m".into(), 0, 1, (0..n as i64).collect(), vec![1.0; n]);
        let candidates = n / super::BINARY_SHARE;
        assert_eq!(ix.scan_for(10), super::Scan::Bits { candidates });
        assert_eq!(ix.top_k(&[1.0], 3).len(), 3);
    }
}
