//! BF16 matrix products for the fused forward pass on CPUs with AVX512-BF16 (AMD Zen 4
//! and later, Intel Cooper Lake / Sapphire Rapids and later).
//!
//! `vdpbf16ps` multiplies pairs of bfloat16 values and adds both products to an `f32`
//! lane: 32 multiply-adds an instruction where an `f32` FMA does 16. Weights are rounded
//! to bf16 once, at load, and packed in panels of 64 columns whose rows hold the pairs
//! (`w[2p][c]`, `w[2p+1][c]`) side by side; activations are rounded to bf16 per product.
//! Sums stay in `f32`, so the only loss is the rounding of each factor (8 bits of
//! mantissa); what that does to the sentence vectors is measured against PyTorch in
//! BENCHMARKS.md and bounded in the tests below and in `fused.rs`.
//!
//! Every CPU without the instructions keeps the `f32` path ([`available`] is false).

#![allow(unsafe_code)]

use rayon::prelude::*;

/// Columns of one packed panel: four 16-lane registers.
pub(crate) const NR: usize = 64;
/// Rows of one micro-tile: 6 × 4 accumulators leave room for the panel's 4 registers.
const MR: usize = 6;

/// True when this CPU (and the OS) can run the bf16 kernels.
pub(crate) fn available() -> bool {
    trove_common::cpu::avx512_bf16()
}

/// `x` rounded to the nearest bfloat16 (ties to even); NaN stays NaN.
pub(crate) fn to_bf16(x: f32) -> u16 {
    if x.is_nan() {
        return 0x7fc0;
    }
    let b = x.to_bits();
    ((b + 0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// The `f32` a bfloat16 stands for.
#[cfg(test)]
pub(crate) fn from_bf16(v: u16) -> f32 {
    f32::from_bits((v as u32) << 16)
}

/// A [k × n] weight matrix in bf16 panels: panel `p` holds columns `p·64 .. p·64+64`,
/// one row of 64 `u32` per pair of input rows (low half: row 2i, high half: row 2i+1).
pub(crate) struct PackedWeights {
    k: usize,
    n: usize,
    data: Vec<u32>,
}

impl PackedWeights {
    /// Packs `w` ([k × n], row-major `f32`). `None` when `n` is not a multiple of 64.
    pub(crate) fn pack(w: &[f32], k: usize, n: usize) -> Option<Self> {
        if n == 0 || !n.is_multiple_of(NR) || w.len() != k * n {
            return None;
        }
        let pairs = k.div_ceil(2);
        let mut data = vec![0u32; n * pairs];
        for (p, panel) in data.chunks_exact_mut(pairs * NR).enumerate() {
            for (i, row) in panel.chunks_exact_mut(NR).enumerate() {
                for (c, cell) in row.iter_mut().enumerate() {
                    let col = p * NR + c;
                    let lo = to_bf16(w[2 * i * n + col]);
                    let hi = if 2 * i + 1 < k {
                        to_bf16(w[(2 * i + 1) * n + col])
                    } else {
                        0
                    };
                    *cell = lo as u32 | (hi as u32) << 16;
                }
            }
        }
        Some(Self { k, n, data })
    }
}

/// `dst[m × n] += a[m × k] · W`, with `a` row-major `f32` (rounded to bf16 into `scratch`)
/// and `dst` row-major. Rows are shared among `threads` rayon tasks.
///
/// Panics if the shapes disagree or the CPU lacks the instructions (check [`available`]).
pub(crate) fn matmul_acc(
    dst: &mut [f32],
    a: &[f32],
    m: usize,
    w: &PackedWeights,
    threads: usize,
    scratch: &mut Vec<u32>,
) {
    let (k, n) = (w.k, w.n);
    assert_eq!(a.len(), m * k, "lhs is not {m} × {k}");
    assert_eq!(dst.len(), m * n, "dst is not {m} × {n}");
    assert!(available(), "bf16 matmul on a CPU without AVX512-BF16");
    if m == 0 {
        return;
    }
    let pairs = k.div_ceil(2);
    if scratch.len() < m * pairs {
        scratch.resize(m * pairs, 0);
    }
    let packed = &mut scratch[..m * pairs];
    // Round the activations, a row at a time.
    // SAFETY: the CPU has the instructions (asserted above).
    let round = |(src, out): (&[f32], &mut [u32])| unsafe { round_row(src, out) };
    // Rows per task: a multiple of MR, about four tasks per thread for balance.
    let rows = if threads > 1 {
        m.div_ceil(threads * 4).div_ceil(MR).max(1) * MR
    } else {
        m
    };
    let packed: &[u32] = if threads > 1 {
        a.par_chunks(k)
            .zip(packed.par_chunks_mut(pairs))
            .for_each(round);
        packed
    } else {
        a.chunks(k).zip(packed.chunks_mut(pairs)).for_each(round);
        packed
    };
    let task = |(dst, a): (&mut [f32], &[u32])| {
        let rows = dst.len() / n;
        // SAFETY: the CPU has the instructions (asserted above); `block` reads
        // `rows × pairs` u32 of `a` and `pairs × 64` of each panel, and writes
        // `rows × n` floats of `dst`, all within the slices (their lengths are those
        // products, as made by the chunking above).
        unsafe { block(dst, a, rows, pairs, n, &w.data) }
    };
    if threads > 1 {
        dst.par_chunks_mut(rows * n)
            .zip(packed.par_chunks(rows * pairs))
            .for_each(task);
    } else {
        task((dst, packed));
    }
}

/// `out[i]` = the pair (`src[2i]`, `src[2i+1]`) rounded to bf16 (0 past the end of `src`).
///
/// # Safety
/// The CPU must support AVX512F and AVX512-BF16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn round_row(src: &[f32], out: &mut [u32]) {
    use std::arch::x86_64::*;
    assert_eq!(out.len(), src.len().div_ceil(2));
    // 32 values (16 pairs) per instruction; `vcvtne2ps2bf16` rounds to nearest even.
    let whole = src.len() / 32;
    for (s, o) in src.chunks_exact(32).zip(out.chunks_exact_mut(16)) {
        // SAFETY: `s` is 32 floats and `o` 16 u32 (64 bytes): both in bounds.
        unsafe {
            let lo = _mm512_loadu_ps(s.as_ptr());
            let hi = _mm512_loadu_ps(s.as_ptr().add(16));
            let v = std::mem::transmute::<__m512bh, __m512i>(_mm512_cvtne2ps_pbh(hi, lo));
            _mm512_storeu_si512(o.as_mut_ptr() as *mut __m512i, v);
        }
    }
    for (i, cell) in out.iter_mut().enumerate().skip(whole * 16) {
        let lo = to_bf16(src[2 * i]);
        let hi = src.get(2 * i + 1).map_or(0, |&x| to_bf16(x));
        *cell = lo as u32 | (hi as u32) << 16;
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn round_row(_: &[f32], _: &mut [u32]) {
    unreachable!("bf16 kernels are x86-64 only")
}

/// One task's rows: every panel, every micro-tile of MR rows.
///
/// # Safety
/// The CPU must support AVX512F and AVX512-BF16; `dst` must hold `rows × n` floats, `a`
/// `rows × pairs` u32 and `w` `n × pairs` u32, with `n` a multiple of 64.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn block(dst: &mut [f32], a: &[u32], rows: usize, pairs: usize, n: usize, w: &[u32]) {
    assert!(dst.len() >= rows * n && a.len() >= rows * pairs && w.len() >= n * pairs);
    for p in 0..n / NR {
        let panel = &w[p * pairs * NR..(p + 1) * pairs * NR];
        let mut r = 0;
        while r < rows {
            let mr = (rows - r).min(MR);
            let a = &a[r * pairs..(r + mr) * pairs];
            let d = &mut dst[r * n + p * NR..];
            // SAFETY: features as above; `a` holds mr rows of `pairs`, `panel` `pairs`
            // rows of 64, and `d` reaches row mr-1's 64 columns ((mr-1)·n + 64 ≤ len,
            // since the panel's columns end at or before n).
            unsafe {
                match mr {
                    6 => tile::<6>(d, n, a, pairs, panel),
                    5 => tile::<5>(d, n, a, pairs, panel),
                    4 => tile::<4>(d, n, a, pairs, panel),
                    3 => tile::<3>(d, n, a, pairs, panel),
                    2 => tile::<2>(d, n, a, pairs, panel),
                    _ => tile::<1>(d, n, a, pairs, panel),
                }
            }
            r += mr;
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn block(_: &mut [f32], _: &[u32], _: usize, _: usize, _: usize, _: &[u32]) {
    unreachable!("bf16 kernels are x86-64 only")
}

/// `d[M × 64] (row stride n) += a[M × pairs] · panel[pairs × 64]`.
///
/// # Safety
/// AVX512F and AVX512-BF16 must be present.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
#[inline]
unsafe fn tile<const M: usize>(d: &mut [f32], n: usize, a: &[u32], pairs: usize, panel: &[u32]) {
    use std::arch::x86_64::*;
    assert!(a.len() >= M * pairs && panel.len() >= pairs * NR && d.len() >= (M - 1) * n + NR);
    let mut acc = [[_mm512_setzero_ps(); 4]; M];
    let ap = a.as_ptr();
    let bp = panel.as_ptr();
    for i in 0..pairs {
        // SAFETY: i < pairs, so the panel row i·64 .. i·64+64 is in bounds (asserted),
        // as is each a[m·pairs + i] for m < M. Unaligned loads are allowed.
        unsafe {
            let row = bp.add(i * NR) as *const __m512i;
            let b: [__m512bh; 4] = [
                std::mem::transmute::<__m512i, __m512bh>(_mm512_loadu_si512(row)),
                std::mem::transmute::<__m512i, __m512bh>(_mm512_loadu_si512(row.add(1))),
                std::mem::transmute::<__m512i, __m512bh>(_mm512_loadu_si512(row.add(2))),
                std::mem::transmute::<__m512i, __m512bh>(_mm512_loadu_si512(row.add(3))),
            ];
            for (m, acc) in acc.iter_mut().enumerate() {
                let x = std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(
                    *ap.add(m * pairs + i) as i32,
                ));
                for (acc, b) in acc.iter_mut().zip(b) {
                    *acc = _mm512_dpbf16_ps(*acc, x, b);
                }
            }
        }
    }
    for (m, acc) in acc.iter().enumerate() {
        for (j, acc) in acc.iter().enumerate() {
            let out = &mut d[m * n + j * 16..m * n + j * 16 + 16];
            // SAFETY: `out` is 16 floats (bounds-checked by the slicing).
            unsafe {
                let p = out.as_mut_ptr();
                _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), *acc));
            }
        }
    }
}

/// Whether one attention head of width `hd` can take its products in bf16 ([`Attention`]):
/// the CPU has the instructions and the width is whole 16-lane registers (1, 2 or 4).
pub(crate) fn attention_fits(hd: usize) -> bool {
    available() && matches!(hd, 16 | 32 | 64)
}

/// The two products of one attention head (scores = scale · Q Kᵀ, then P V) in bf16, for
/// the fused forward; the softmax between them stays `f32` and is the caller's. Its
/// buffers are reused from head to head. Like the linear layers' products, the factors
/// are rounded to bf16 and the sums kept in `f32`.
#[derive(Default)]
pub(crate) struct Attention {
    /// Q's rows as bf16 pairs (`len` × hd/2).
    q: Vec<u32>,
    /// Kᵀ as bf16 pairs: row p (of hd/2) holds (k_j[2p], k_j[2p+1]) for every j, `lpad` wide.
    k: Vec<u32>,
    /// V as pairs of rows: row m (of ⌈len/2⌉) holds (v_2m[d], v_2m+1[d]) for every d.
    v: Vec<u32>,
    /// P's rows as bf16 pairs (`len` × ⌈len/2⌉).
    p: Vec<u32>,
    /// `len` rows of `lpad` scores; the caller turns the first `len` of each into
    /// probabilities ([`Attention::scores`]); the rest are 0.
    scores: Vec<f32>,
    len: usize,
    lpad: usize,
    hd: usize,
}

impl Attention {
    /// `scale · Q Kᵀ` for the `len` rows of Q and K (row i of Q: `q[i·stride..][..hd]`, of
    /// K: `k[i·stride..][..hd]`). Returns the rows (each `lpad` wide; the first `len`
    /// columns count, the rest are 0 and must stay 0) for the caller's softmax, which
    /// [`Attention::context`] then reads.
    ///
    /// Panics unless [`attention_fits`]`(hd)` and the rows are within `q` and `k`.
    pub(crate) fn scores(
        &mut self,
        q: &[f32],
        k: &[f32],
        stride: usize,
        len: usize,
        hd: usize,
        scale: f32,
    ) -> (&mut [f32], usize) {
        assert!(
            attention_fits(hd),
            "bf16 attention of width {hd} on this CPU"
        );
        assert!(len > 0 && (len - 1) * stride + hd <= q.len().min(k.len()));
        let (pairs, lpad) = (hd / 2, len.next_multiple_of(16));
        (self.len, self.lpad, self.hd) = (len, lpad, hd);
        self.q.resize(len * pairs, 0);
        self.k.clear();
        self.k.resize(pairs * lpad, 0);
        self.scores.resize(len * lpad, 0.0);
        // SAFETY: the CPU has the instructions (asserted); rows within `q` and `k`
        // (asserted), `self.q` len × pairs and `self.k` pairs × lpad (made just above).
        unsafe { pack_qk(q, k, stride, len, hd, lpad, &mut self.q, &mut self.k) };
        // SAFETY: features asserted; `q` holds len × pairs, `k` pairs × lpad and
        // `scores` len × lpad, as made just above.
        unsafe { score_rows(&mut self.scores, &self.q, &self.k, len, pairs, lpad, scale) };
        (&mut self.scores[..len * lpad], lpad)
    }

    /// `out[len × hd] = P V`, P the rows [`Attention::scores`] returned (as the caller's
    /// softmax left them), row j of V `v[j·stride..][..hd]`.
    ///
    /// Panics if `scores` was not called first for this head, or the rows are out of bounds.
    pub(crate) fn context(&mut self, v: &[f32], stride: usize, out: &mut [f32]) {
        let (len, lpad, hd) = (self.len, self.lpad, self.hd);
        assert!(attention_fits(hd) && len > 0 && self.scores.len() >= len * lpad);
        assert!((len - 1) * stride + hd <= v.len() && out.len() == len * hd);
        // P's rows are lpad/2 pairs apart; the first ⌈len/2⌉ of each count (the odd one's
        // second half is a padding 0).
        let (mp, pp) = (len.div_ceil(2), lpad / 2);
        self.p.resize(len * pp, 0);
        self.v.resize(mp * hd, 0);
        // SAFETY: the CPU has the instructions (asserted); `scores` len × lpad, `p`
        // len × lpad/2, rows of `v` within it (asserted), `self.v` mp × hd.
        unsafe {
            pack_rows(&self.scores[..len * lpad], &mut self.p);
            pack_v(v, stride, len, hd, &mut self.v);
            context_rows(out, &self.p, pp, &self.v, len, mp, hd)
        };
    }
}

/// Q's rows into bf16 pairs (`qo`: len × hd/2) and K's, transposed (`ko`: row p holds pair p
/// of every K row, `lpad` wide).
///
/// # Safety
/// AVX512F and AVX512-BF16; `hd` a multiple of 16; rows within `q` and `k`; `qo` len ×
/// hd/2; `ko` hd/2 × lpad, lpad ≥ len.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
#[allow(clippy::too_many_arguments)]
unsafe fn pack_qk(
    q: &[f32],
    k: &[f32],
    stride: usize,
    len: usize,
    hd: usize,
    lpad: usize,
    qo: &mut [u32],
    ko: &mut [u32],
) {
    use std::arch::x86_64::*;
    let pairs = hd / 2;
    assert!(hd.is_multiple_of(16) && (len - 1) * stride + hd <= q.len().min(k.len()));
    assert!(qo.len() >= len * pairs && ko.len() >= pairs * lpad && lpad >= len);
    let mut row = [0u32; 8];
    for i in 0..len {
        for g in 0..hd / 16 {
            // SAFETY: 16 floats of row i within `q` and `k` (asserted); 8 u32 of `qo`
            // row i, and of `row`.
            unsafe {
                let x = _mm512_cvtneps_pbh(_mm512_loadu_ps(q.as_ptr().add(i * stride + 16 * g)));
                _mm256_storeu_si256(
                    qo.as_mut_ptr().add(i * pairs + 8 * g) as *mut __m256i,
                    std::mem::transmute::<__m256bh, __m256i>(x),
                );
                let y = _mm512_cvtneps_pbh(_mm512_loadu_ps(k.as_ptr().add(i * stride + 16 * g)));
                _mm256_storeu_si256(
                    row.as_mut_ptr() as *mut __m256i,
                    std::mem::transmute::<__m256bh, __m256i>(y),
                );
            }
            for (t, &x) in row.iter().enumerate() {
                ko[(8 * g + t) * lpad + i] = x;
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::too_many_arguments)]
unsafe fn pack_qk(
    _: &[f32],
    _: &[f32],
    _: usize,
    _: usize,
    _: usize,
    _: usize,
    _: &mut [u32],
    _: &mut [u32],
) {
    unreachable!("bf16 kernels are x86-64 only")
}

/// Rows of floats (a multiple of 16 long) into bf16 pairs, all of `src` into `out`.
///
/// # Safety
/// AVX512F and AVX512-BF16; `src.len()` a multiple of 16, `out` at least half of it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn pack_rows(src: &[f32], out: &mut [u32]) {
    use std::arch::x86_64::*;
    assert!(src.len().is_multiple_of(16) && out.len() >= src.len() / 2);
    for (s, o) in src.chunks_exact(16).zip(out.chunks_exact_mut(8)) {
        // SAFETY: `s` is 16 floats and `o` 8 u32: both in bounds.
        unsafe {
            let x = _mm512_cvtneps_pbh(_mm512_loadu_ps(s.as_ptr()));
            _mm256_storeu_si256(
                o.as_mut_ptr() as *mut __m256i,
                std::mem::transmute::<__m256bh, __m256i>(x),
            );
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn pack_rows(_: &[f32], _: &mut [u32]) {
    unreachable!("bf16 kernels are x86-64 only")
}

/// V's rows in pairs: `out[m·hd + d]` = (v_2m[d], v_2m+1[d]) in bf16 (0 past the last row).
///
/// # Safety
/// AVX512F and AVX512-BF16; `hd` a multiple of 16; rows within `v`; `out` ⌈len/2⌉ × hd.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn pack_v(v: &[f32], stride: usize, len: usize, hd: usize, out: &mut [u32]) {
    use std::arch::x86_64::*;
    assert!(hd.is_multiple_of(16) && (len - 1) * stride + hd <= v.len());
    assert!(out.len() >= len.div_ceil(2) * hd);
    for m in 0..len.div_ceil(2) {
        for g in 0..hd / 16 {
            // SAFETY: rows 2m (and 2m+1 when < len) hold 16 floats at 16g (asserted);
            // `out` row m likewise 16 u32.
            unsafe {
                let half = |r: usize| -> __m512i {
                    let x =
                        _mm512_cvtneps_pbh(_mm512_loadu_ps(v.as_ptr().add(r * stride + 16 * g)));
                    _mm512_cvtepu16_epi32(std::mem::transmute::<__m256bh, __m256i>(x))
                };
                let lo = half(2 * m);
                let hi = if 2 * m + 1 < len {
                    _mm512_slli_epi32::<16>(half(2 * m + 1))
                } else {
                    _mm512_setzero_si512()
                };
                _mm512_storeu_si512(
                    out.as_mut_ptr().add(m * hd + 16 * g) as *mut __m512i,
                    _mm512_or_si512(lo, hi),
                );
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn pack_v(_: &[f32], _: usize, _: usize, _: usize, _: &mut [u32]) {
    unreachable!("bf16 kernels are x86-64 only")
}

/// `scores[i][j] = scale · Σ_p q[i][p] · k[p][j]` (bf16 pairs), rows of `lpad`.
///
/// # Safety
/// AVX512F and AVX512-BF16; `scores` len × lpad, `q` len × pairs, `k` pairs × lpad, `lpad`
/// a multiple of 16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn score_rows(
    scores: &mut [f32],
    q: &[u32],
    k: &[u32],
    len: usize,
    pairs: usize,
    lpad: usize,
    scale: f32,
) {
    assert!(scores.len() >= len * lpad && q.len() >= len * pairs && k.len() >= pairs * lpad);
    let mut i = 0;
    while i < len {
        let rows = (len - i).min(8);
        let (s, q) = (&mut scores[i * lpad..], &q[i * pairs..]);
        // SAFETY: features as above; `s` and `q` hold at least `rows` rows.
        unsafe {
            match rows {
                8 => score_tile::<8>(s, q, k, pairs, lpad, scale),
                4..=7 => score_tile::<4>(s, q, k, pairs, lpad, scale),
                _ => score_tile::<1>(s, q, k, pairs, lpad, scale),
            }
        }
        i += match rows {
            8 => 8,
            4..=7 => 4,
            _ => 1,
        };
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn score_rows(_: &mut [f32], _: &[u32], _: &[u32], _: usize, _: usize, _: usize, _: f32) {
    unreachable!("bf16 kernels are x86-64 only")
}

/// [`score_rows`] for `M` rows.
///
/// # Safety
/// As [`score_rows`], with `s` and `q` holding `M` rows.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
#[inline]
unsafe fn score_tile<const M: usize>(
    s: &mut [f32],
    q: &[u32],
    k: &[u32],
    pairs: usize,
    lpad: usize,
    scale: f32,
) {
    use std::arch::x86_64::*;
    assert!(s.len() >= M * lpad && q.len() >= M * pairs && k.len() >= pairs * lpad);
    let scale = _mm512_set1_ps(scale);
    for jb in (0..lpad).step_by(16) {
        let mut acc = [_mm512_setzero_ps(); M];
        for p in 0..pairs {
            // SAFETY: p < pairs and jb + 16 <= lpad: in bounds of `k` (asserted); each
            // q[m·pairs + p] with m < M likewise.
            unsafe {
                let kv = std::mem::transmute::<__m512i, __m512bh>(_mm512_loadu_si512(
                    k.as_ptr().add(p * lpad + jb) as *const __m512i,
                ));
                for (m, acc) in acc.iter_mut().enumerate() {
                    let x = std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(
                        *q.get_unchecked(m * pairs + p) as i32,
                    ));
                    *acc = _mm512_dpbf16_ps(*acc, x, kv);
                }
            }
        }
        for (m, acc) in acc.iter().enumerate() {
            let out = &mut s[m * lpad + jb..m * lpad + jb + 16];
            // SAFETY: `out` is 16 floats (bounds-checked by the slicing).
            unsafe { _mm512_storeu_ps(out.as_mut_ptr(), _mm512_mul_ps(*acc, scale)) };
        }
    }
}

/// `out[i][d] = Σ_m p[i][m] · v[m][d]` (bf16 pairs; P's rows `pp` apart), `hd` = 16, 32
/// or 64.
///
/// # Safety
/// AVX512F and AVX512-BF16; `out` len × hd, `p` len rows of `pp` ≥ mp, `v` mp × hd.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn context_rows(
    out: &mut [f32],
    p: &[u32],
    pp: usize,
    v: &[u32],
    len: usize,
    mp: usize,
    hd: usize,
) {
    assert!(pp >= mp && out.len() >= len * hd && p.len() >= (len - 1) * pp + mp);
    assert!(v.len() >= mp * hd);
    let mut i = 0;
    while i < len {
        let rows = if len - i >= 4 { 4 } else { 1 };
        let (o, p) = (&mut out[i * hd..], &p[i * pp..]);
        // SAFETY: features as above; `o` and `p` hold at least `rows` rows.
        unsafe {
            match (rows, hd) {
                (4, 16) => context_tile::<4, 1>(o, p, pp, v, mp),
                (4, 32) => context_tile::<4, 2>(o, p, pp, v, mp),
                (4, _) => context_tile::<4, 4>(o, p, pp, v, mp),
                (_, 16) => context_tile::<1, 1>(o, p, pp, v, mp),
                (_, 32) => context_tile::<1, 2>(o, p, pp, v, mp),
                _ => context_tile::<1, 4>(o, p, pp, v, mp),
            }
        }
        i += rows;
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn context_rows(
    _: &mut [f32],
    _: &[u32],
    _: usize,
    _: &[u32],
    _: usize,
    _: usize,
    _: usize,
) {
    unreachable!("bf16 kernels are x86-64 only")
}

/// [`context_rows`] for `M` rows of `G` × 16 columns.
///
/// # Safety
/// As [`context_rows`], with `o` and `p` holding `M` rows and hd = 16·G.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
#[inline]
unsafe fn context_tile<const M: usize, const G: usize>(
    o: &mut [f32],
    p: &[u32],
    pp: usize,
    v: &[u32],
    mp: usize,
) {
    use std::arch::x86_64::*;
    let hd = 16 * G;
    assert!(o.len() >= M * hd && p.len() >= (M - 1) * pp + mp && v.len() >= mp * hd);
    let mut acc = [[_mm512_setzero_ps(); G]; M];
    for m in 0..mp {
        // SAFETY: m < mp: row m of `v` (hd u32) and p[r·pp + m] for r < M are in bounds.
        unsafe {
            let mut vv = [_mm512_setzero_si512(); G];
            for (g, x) in vv.iter_mut().enumerate() {
                *x = _mm512_loadu_si512(v.as_ptr().add(m * hd + 16 * g) as *const __m512i);
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(
                    *p.get_unchecked(r * pp + m) as i32,
                ));
                for (acc, vv) in acc.iter_mut().zip(vv) {
                    *acc = _mm512_dpbf16_ps(*acc, x, std::mem::transmute::<__m512i, __m512bh>(vv));
                }
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for (g, acc) in acc.iter().enumerate() {
            let out = &mut o[r * hd + 16 * g..r * hd + 16 * g + 16];
            // SAFETY: `out` is 16 floats (bounds-checked by the slicing).
            unsafe { _mm512_storeu_ps(out.as_mut_ptr(), *acc) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::random;

    #[test]
    fn rounding_is_to_nearest_even() {
        assert_eq!(to_bf16(1.0), 0x3f80);
        assert_eq!(from_bf16(to_bf16(-2.5)), -2.5);
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
        assert_eq!(from_bf16(to_bf16(1.0 + 1.0 / 256.0)), 1.0);
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: to even, 1 + 2^-6.
        assert_eq!(from_bf16(to_bf16(1.0 + 3.0 / 256.0)), 1.0 + 1.0 / 64.0);
        assert!(from_bf16(to_bf16(f32::NAN)).is_nan());
        assert_eq!(from_bf16(to_bf16(f32::INFINITY)), f32::INFINITY);
    }

    /// Against the product of the bf16-rounded factors summed in f64: the kernel must
    /// be exact up to f32 summation, for every tail of rows, an odd k, 1 and 2 threads.
    #[test]
    fn matches_the_product_of_the_rounded_factors() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX512-BF16");
            return;
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for (m, k, n, threads) in [
            (1, 3, 64, 1),
            (7, 384, 128, 1),
            (13, 37, 192, 2),
            (50, 64, 64, 2),
        ] {
            let a = random(m * k, 1.0, &mut seed);
            let w = random(k * n, 1.0, &mut seed);
            let bias = random(m * n, 1.0, &mut seed);
            let packed = PackedWeights::pack(&w, k, n).unwrap();
            let mut dst = bias.clone();
            let mut scratch = Vec::new();
            matmul_acc(&mut dst, &a, m, &packed, threads, &mut scratch);
            let r = |x: f32| from_bf16(to_bf16(x)) as f64;
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = bias[i * n + j] as f64
                        + (0..k)
                            .map(|p| r(a[i * k + p]) * r(w[p * n + j]))
                            .sum::<f64>();
                    let got = dst[i * n + j] as f64;
                    assert!(
                        (got - want).abs() < 1e-4 * (k as f64).sqrt(),
                        "m={m} k={k} n={n}: [{i}][{j}] {got} vs {want}"
                    );
                }
            }
        }
    }

    /// Both attention products against the rounded factors summed in f64, for lengths
    /// around the kernels' tiles (8 and 4 rows, 16 columns), every supported head width,
    /// rows strided as in the Q|K|V buffer.
    #[test]
    fn attention_products_match_the_rounded_factors() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX512-BF16");
            return;
        }
        assert!(!attention_fits(48) && !attention_fits(8));
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let r = |x: f32| from_bf16(to_bf16(x)) as f64;
        let mut att = Attention::default();
        for hd in [16, 32, 64] {
            for len in [1, 3, 9, 17, 40, 130] {
                let stride = 3 * hd + 5;
                let qkv = random(len * stride, 2.0, &mut seed);
                let (q, k, v) = (&qkv[..], &qkv[hd..], &qkv[2 * hd..]);
                let scale = 0.3;
                let (rows, lpad) = att.scores(q, k, stride, len, hd, scale);
                assert_eq!(lpad % 16, 0);
                for i in 0..len {
                    for j in 0..lpad {
                        let got = rows[i * lpad + j] as f64;
                        let want = if j < len {
                            scale as f64
                                * (0..hd)
                                    .map(|d| r(q[i * stride + d]) * r(k[j * stride + d]))
                                    .sum::<f64>()
                        } else {
                            0.0
                        };
                        assert!(
                            (got - want).abs() < 1e-4,
                            "hd {hd} len {len} [{i}][{j}]: {got} vs {want}"
                        );
                    }
                }
                // Any weights will do for the second product: a row's scores, shifted.
                let p: Vec<f32> = rows.iter().map(|x| x * 0.5 + 0.25).collect();
                rows.copy_from_slice(&p);
                let mut out = vec![f32::NAN; len * hd];
                att.context(v, stride, &mut out);
                for i in 0..len {
                    for d in 0..hd {
                        let want: f64 = (0..len)
                            .map(|j| r(p[i * lpad + j]) * r(v[j * stride + d]))
                            .sum();
                        let got = out[i * hd + d] as f64;
                        assert!(
                            (got - want).abs() < 1e-4 * (len as f64).sqrt() * want.abs().max(1.0),
                            "hd {hd} len {len} out[{i}][{d}]: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn refuses_widths_that_are_not_whole_panels() {
        assert!(PackedWeights::pack(&[0.0; 96], 2, 48).is_none());
        assert!(PackedWeights::pack(&[0.0; 128], 2, 64).is_some());
    }
}
