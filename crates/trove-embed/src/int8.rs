//! Int8 matrix products for the fused forward pass on CPUs with AVX512-VNNI (AMD Zen 4
//! and later, Intel Cascade Lake and later).
//!
//! `vpdpbusd` multiplies groups of four unsigned bytes by four signed bytes and adds the
//! four products to an `i32` lane: 64 multiply-adds an instruction, four times an `f32`
//! FMA. Weights are quantised once, at load, per output column (symmetric, scale
//! `max |w| / 127`); activations per row at each product, asymmetrically onto 0..=255
//! (`x ≈ lo + s·q`), which keeps the resolution of rows whose values are not centred on
//! zero. With `w ≈ sw·wq`, `Σ x·w ≈ sw·(s·Σ q·wq + lo·Σ wq)`: the kernel computes the
//! integer `Σ q·wq` exactly and the epilogue applies the scales and the column sums.
//!
//! What the rounding costs the sentence vectors is measured against PyTorch in
//! BENCHMARKS.md and bounded by the tests here and in `fused.rs`.

#![allow(unsafe_code)]

use rayon::prelude::*;

/// Columns of one packed panel: four 16-lane registers.
pub(crate) const NR: usize = 64;
/// Rows of one micro-tile: 6 × 4 accumulators leave room for the panel's 4 registers.
const MR: usize = 6;

/// True when this CPU (and the OS) can run the int8 kernels.
pub(crate) fn available() -> bool {
    trove_common::cpu::avx512_vnni()
}

/// A [k × n] weight matrix in int8 panels: panel `p` holds columns `p·64 .. p·64+64`, one
/// row of 64 `u32` per four input rows (byte `j` of a cell: row 4i+j, zero past k).
pub(crate) struct PackedWeights {
    k: usize,
    n: usize,
    data: Vec<u32>,
    /// Per column: the scale of its integers.
    scale: Vec<f32>,
    /// Per column: the sum of its integers (to undo the activations' offset).
    sum: Vec<f32>,
    /// Per input row j: the factor the activations' column j is multiplied by before
    /// quantisation (1 / the factor row j of the weights was multiplied by).
    mul: Vec<f32>,
}

impl PackedWeights {
    /// Quantises and packs `w` ([k × n], row-major `f32`). `None` when `n` is not a
    /// multiple of 64 or a weight is not finite.
    ///
    /// `range`, if given, is each input's typical magnitude (k values, e.g. |γ| + |β| of
    /// the LayerNorm that feeds the product). The product is then "smoothed"
    /// (SmoothQuant, Xiao et al. 2023): input j is divided by `sⱼ = √(rangeⱼ / max |wⱼ|)`
    /// and weight row j multiplied by it, which leaves the product unchanged but moves
    /// part of the spread of outlier inputs into the weights, where quantising per
    /// column absorbs it.
    pub(crate) fn pack(w: &[f32], k: usize, n: usize, range: Option<&[f32]>) -> Option<Self> {
        if n == 0 || !n.is_multiple_of(NR) || w.len() != k * n || !w.iter().all(|x| x.is_finite()) {
            return None;
        }
        let smooth: Vec<f32> = match range {
            Some(r) if r.len() == k && r.iter().all(|x| x.is_finite()) => w
                .chunks_exact(n)
                .zip(r)
                .map(|(row, &a)| {
                    let wmax = row.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                    (a.abs().max(1e-5) / wmax.max(1e-5)).sqrt()
                })
                .collect(),
            Some(_) => return None,
            None => vec![1.0; k],
        };
        let smoothed: Vec<f32>;
        let w = if range.is_some() {
            smoothed = w
                .chunks_exact(n)
                .zip(&smooth)
                .flat_map(|(row, &s)| row.iter().map(move |x| x * s))
                .collect();
            &smoothed[..]
        } else {
            w
        };
        let mul: Vec<f32> = smooth.iter().map(|s| 1.0 / s).collect();
        let mut scale = vec![0.0f32; n];
        for row in w.chunks_exact(n) {
            for (s, &x) in scale.iter_mut().zip(row) {
                *s = s.max(x.abs());
            }
        }
        scale.iter_mut().for_each(|s| *s /= 127.0);
        let q = |r: usize, c: usize| -> i8 {
            if r >= k || scale[c] == 0.0 {
                0
            } else {
                (w[r * n + c] / scale[c]).round().clamp(-127.0, 127.0) as i8
            }
        };
        let mut sum = vec![0.0f32; n];
        for (c, s) in sum.iter_mut().enumerate() {
            *s = (0..k).map(|r| q(r, c) as i32).sum::<i32>() as f32;
        }
        let quads = k.div_ceil(4);
        let mut data = vec![0u32; n * quads];
        for (p, panel) in data.chunks_exact_mut(quads * NR).enumerate() {
            for (i, row) in panel.chunks_exact_mut(NR).enumerate() {
                for (c, cell) in row.iter_mut().enumerate() {
                    let col = p * NR + c;
                    *cell = u32::from_le_bytes(std::array::from_fn(|j| q(4 * i + j, col) as u8));
                }
            }
        }
        Some(Self {
            k,
            n,
            data,
            scale,
            sum,
            mul,
        })
    }
}

/// Reusable buffers of the activations' quantisation.
#[derive(Default)]
pub(crate) struct Scratch {
    q: Vec<u32>,
    /// Per row: (offset `lo`, step `s`).
    rows: Vec<(f32, f32)>,
}

/// `dst[m × n] += a[m × k] · W`, with `a` and `dst` row-major `f32`. Rows are shared
/// among `threads` rayon tasks.
///
/// Panics if the shapes disagree or the CPU lacks the instructions (check [`available`]).
pub(crate) fn matmul_acc(
    dst: &mut [f32],
    a: &[f32],
    m: usize,
    w: &PackedWeights,
    threads: usize,
    scratch: &mut Scratch,
) {
    let (k, n) = (w.k, w.n);
    assert_eq!(a.len(), m * k, "lhs is not {m} × {k}");
    assert_eq!(dst.len(), m * n, "dst is not {m} × {n}");
    assert!(available(), "int8 matmul on a CPU without AVX512-VNNI");
    if m == 0 {
        return;
    }
    let quads = k.div_ceil(4);
    if scratch.q.len() < m * quads {
        scratch.q.resize(m * quads, 0);
    }
    scratch.rows.resize(m, (0.0, 0.0));
    let q = &mut scratch.q[..m * quads];
    let rows_q = &mut scratch.rows[..];
    /// A row of activations, its quantised bytes, and its (lo, s).
    type RowJob<'a> = ((&'a [f32], &'a mut [u32]), &'a mut (f32, f32));
    /// A task's rows of `dst`, their quantised activations and (lo, s).
    type TaskJob<'a> = ((&'a mut [f32], &'a [u32]), &'a [(f32, f32)]);
    let quantise = |((src, out), row): RowJob<'_>| {
        *row = quantise_row(src, &w.mul, out);
    };
    // Rows per task: a multiple of MR, about four tasks per thread for balance.
    let per_task = if threads > 1 {
        m.div_ceil(threads * 4).div_ceil(MR).max(1) * MR
    } else {
        m
    };
    if threads > 1 {
        a.par_chunks(k)
            .zip(q.par_chunks_mut(quads))
            .zip(rows_q.par_iter_mut())
            .for_each(quantise);
    } else {
        a.chunks(k)
            .zip(q.chunks_mut(quads))
            .zip(rows_q.iter_mut())
            .for_each(quantise);
    }
    let (q, rows_q): (&[u32], &[(f32, f32)]) = (q, rows_q);
    let task = |((dst, a), rq): TaskJob<'_>| {
        // SAFETY: the CPU has the instructions (asserted above); the slices hold
        // `rq.len()` rows of `n` floats, of `quads` u32, and `quads × 64` u32 per panel.
        unsafe { block(dst, a, rq, quads, w) }
    };
    if threads > 1 {
        dst.par_chunks_mut(per_task * n)
            .zip(q.par_chunks(per_task * quads))
            .zip(rows_q.par_chunks(per_task))
            .for_each(task);
    } else {
        task(((dst, q), rows_q));
    }
}

/// Quantises one row onto 0..=255 (`x ≈ lo + s·q`), packing four bytes per `u32` (zero
/// past the row's end). Returns `(lo, s)`; a constant row has `s` = 0 and all `q` = 0; a
/// row with a NaN or an infinity returns `lo` = NaN, so its products are NaN. Each
/// value `src[j]` is first multiplied by `mul[j]`.
fn quantise_row(src: &[f32], mul: &[f32], out: &mut [u32]) -> (f32, f32) {
    assert_eq!(out.len(), src.len().div_ceil(4));
    assert_eq!(mul.len(), src.len());
    // SAFETY: `matmul_acc`, the only caller outside tests, asserted `available()`.
    #[cfg(target_arch = "x86_64")]
    if available() {
        return unsafe { quantise_row_avx512(src, mul, out) };
    }
    let (lo, hi, nan) = src.iter().zip(mul).fold(
        (f32::INFINITY, f32::NEG_INFINITY, false),
        |(lo, hi, nan), (&x, &m)| (lo.min(x * m), hi.max(x * m), nan || x.is_nan()),
    );
    quantise_tail(src, mul, out, 0, lo, hi, nan)
}

/// The scale of a row of range lo..hi, and its values from `from` (a multiple of 4) on
/// quantised into `out`.
fn quantise_tail(
    src: &[f32],
    mul: &[f32],
    out: &mut [u32],
    from: usize,
    lo: f32,
    hi: f32,
    nan: bool,
) -> (f32, f32) {
    if nan || !(hi - lo).is_finite() {
        out.iter_mut().for_each(|c| *c = 0);
        return (f32::NAN, 0.0);
    }
    let s = (hi - lo) / 255.0;
    let inv = if s > 0.0 { 1.0 / s } else { 0.0 };
    // x ≥ lo, so the value is ≥ 0 and rounds by adding a half.
    let q = |x: f32| ((x - lo) * inv + 0.5) as u8;
    for (i, cell) in out.iter_mut().enumerate().skip(from / 4) {
        let b: [u8; 4] =
            std::array::from_fn(|j| src.get(4 * i + j).map_or(0, |&x| q(x * mul[4 * i + j])));
        *cell = u32::from_le_bytes(b);
    }
    (lo, s)
}

/// [`quantise_row`], 16 values an instruction.
///
/// # Safety
/// The CPU must support AVX512F and AVX512BW.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn quantise_row_avx512(src: &[f32], mul: &[f32], out: &mut [u32]) -> (f32, f32) {
    use std::arch::x86_64::*;
    let whole = src.len() / 16 * 16;
    let (mut vlo, mut vhi) = (
        _mm512_set1_ps(f32::INFINITY),
        _mm512_set1_ps(f32::NEG_INFINITY),
    );
    let mut nan = 0u16;
    for (c, m) in src[..whole].chunks_exact(16).zip(mul.chunks_exact(16)) {
        // SAFETY: `c` and `m` are 16 floats.
        let x = unsafe { _mm512_mul_ps(_mm512_loadu_ps(c.as_ptr()), _mm512_loadu_ps(m.as_ptr())) };
        nan |= _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x, x);
        vlo = _mm512_min_ps(vlo, x);
        vhi = _mm512_max_ps(vhi, x);
    }
    let (mut lo, mut hi) = (_mm512_reduce_min_ps(vlo), _mm512_reduce_max_ps(vhi));
    let mut nan = nan != 0;
    for (&x, &m) in src[whole..].iter().zip(&mul[whole..]) {
        (lo, hi, nan) = (lo.min(x * m), hi.max(x * m), nan || x.is_nan());
    }
    let (lo_s, s) = quantise_tail(src, mul, out, whole, lo, hi, nan);
    if s > 0.0 {
        let (vlo, inv) = (_mm512_set1_ps(lo), _mm512_set1_ps(1.0 / s));
        let rows = src[..whole].chunks_exact(16).zip(mul.chunks_exact(16));
        for ((c, m), o) in rows.zip(out.chunks_exact_mut(4)) {
            // SAFETY: `c` and `m` are 16 floats, `o` 4 u32 (16 bytes). (x - lo)·inv is
            // in 0..=255 (rounded to nearest even), so the unsigned saturation is exact.
            unsafe {
                let x = _mm512_mul_ps(_mm512_loadu_ps(c.as_ptr()), _mm512_loadu_ps(m.as_ptr()));
                let q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_sub_ps(x, vlo), inv));
                _mm_storeu_si128(o.as_mut_ptr() as *mut __m128i, _mm512_cvtusepi32_epi8(q));
            }
        }
    } else {
        out[..whole / 4].iter_mut().for_each(|c| *c = 0);
    }
    (lo_s, s)
}

/// One task's rows: every panel, every micro-tile of MR rows.
///
/// # Safety
/// The CPU must support AVX512F, AVX512BW and AVX512-VNNI; `dst` must hold
/// `rows.len() × n` floats and `a` `rows.len() × quads` u32.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn block(dst: &mut [f32], a: &[u32], rows: &[(f32, f32)], quads: usize, w: &PackedWeights) {
    let (m, n) = (rows.len(), w.n);
    assert!(dst.len() >= m * n && a.len() >= m * quads && w.data.len() >= n * quads);
    for p in 0..n / NR {
        let panel = &w.data[p * quads * NR..(p + 1) * quads * NR];
        let cols = p * NR..(p + 1) * NR;
        let (scale, sum) = (&w.scale[cols.clone()], &w.sum[cols]);
        let mut r = 0;
        while r < m {
            let mr = (m - r).min(MR);
            let a = &a[r * quads..(r + mr) * quads];
            let rq = &rows[r..r + mr];
            let d = &mut dst[r * n + p * NR..];
            // SAFETY: features as above; `a` holds mr rows of `quads`, `panel` `quads`
            // rows of 64, and `d` reaches row mr-1's 64 columns ((mr-1)·n + 64 ≤ len,
            // since the panel's columns end at or before n).
            unsafe {
                let e = Epilogue { rq, scale, sum };
                match mr {
                    6 => tile::<6>(d, n, a, quads, panel, e),
                    5 => tile::<5>(d, n, a, quads, panel, e),
                    4 => tile::<4>(d, n, a, quads, panel, e),
                    3 => tile::<3>(d, n, a, quads, panel, e),
                    2 => tile::<2>(d, n, a, quads, panel, e),
                    _ => tile::<1>(d, n, a, quads, panel, e),
                }
            }
            r += mr;
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn block(_: &mut [f32], _: &[u32], _: &[(f32, f32)], _: usize, _: &PackedWeights) {
    unreachable!("int8 kernels are x86-64 only")
}

/// The scales of one tile: its rows' (lo, s), its 64 columns' scales and sums.
#[derive(Clone, Copy)]
struct Epilogue<'a> {
    rq: &'a [(f32, f32)],
    scale: &'a [f32],
    sum: &'a [f32],
}

/// `d[M × 64] (row stride n) += dequantised(a[M × quads] · panel[quads × 64])`.
///
/// # Safety
/// AVX512F, AVX512BW and AVX512-VNNI must be present.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
#[inline]
unsafe fn tile<const M: usize>(
    d: &mut [f32],
    n: usize,
    a: &[u32],
    quads: usize,
    panel: &[u32],
    e: Epilogue<'_>,
) {
    use std::arch::x86_64::*;
    assert!(a.len() >= M * quads && panel.len() >= quads * NR && d.len() >= (M - 1) * n + NR);
    assert!(e.rq.len() >= M && e.scale.len() >= NR && e.sum.len() >= NR);
    let mut acc = [[_mm512_setzero_si512(); 4]; M];
    let ap = a.as_ptr();
    let bp = panel.as_ptr();
    for i in 0..quads {
        // SAFETY: i < quads, so the panel row i·64 .. i·64+64 is in bounds (asserted),
        // as is each a[m·quads + i] for m < M. Unaligned loads are allowed.
        unsafe {
            let row = bp.add(i * NR) as *const __m512i;
            let b = [
                _mm512_loadu_si512(row),
                _mm512_loadu_si512(row.add(1)),
                _mm512_loadu_si512(row.add(2)),
                _mm512_loadu_si512(row.add(3)),
            ];
            for (m, acc) in acc.iter_mut().enumerate() {
                let x = _mm512_set1_epi32(*ap.add(m * quads + i) as i32);
                for (acc, b) in acc.iter_mut().zip(b) {
                    *acc = _mm512_dpbusd_epi32(*acc, x, b);
                }
            }
        }
    }
    for (m, acc) in acc.iter().enumerate() {
        let (lo, s) = e.rq[m];
        for (j, acc) in acc.iter().enumerate() {
            let cols = j * 16..j * 16 + 16;
            let out = &mut d[m * n + j * 16..m * n + j * 16 + 16];
            let (scale, sum) = (&e.scale[cols.clone()], &e.sum[cols]);
            // SAFETY: `out`, `scale` and `sum` are 16 floats each (checked by slicing).
            unsafe {
                let p = out.as_mut_ptr();
                // s·Σq·wq + lo·Σwq, times the column's scale, onto dst.
                let t = _mm512_fmadd_ps(
                    _mm512_cvtepi32_ps(*acc),
                    _mm512_set1_ps(s),
                    _mm512_mul_ps(_mm512_set1_ps(lo), _mm512_loadu_ps(sum.as_ptr())),
                );
                _mm512_storeu_ps(
                    p,
                    _mm512_fmadd_ps(t, _mm512_loadu_ps(scale.as_ptr()), _mm512_loadu_ps(p)),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::random;

    #[test]
    fn rows_quantise_onto_the_whole_byte_range() {
        let src = [-1.0, 0.0, 3.0, 1.0, 2.0];
        let mut out = [0u32; 2];
        let (lo, s) = quantise_row(&src, &[1.0; 5], &mut out);
        assert_eq!((lo, s), (-1.0, 4.0 / 255.0));
        let q: Vec<u8> = out.iter().flat_map(|c| c.to_le_bytes()).collect();
        // The ends of the range, and zero past the row's end.
        assert_eq!((q[0], q[2], &q[5..]), (0, 255, &[0u8, 0, 0][..]));
        for (x, q) in src.iter().zip(&q) {
            assert!((lo + s * *q as f32 - x).abs() <= s / 2.0 + 1e-6);
        }
        // A constant row is exact; a non-finite one poisons its products.
        assert_eq!(
            quantise_row(&[2.0; 3], &[1.0; 3], &mut out[..1]),
            (2.0, 0.0)
        );
        assert!(quantise_row(&[1.0, f32::NAN], &[1.0; 2], &mut out[..1])
            .0
            .is_nan());
    }

    /// The vector quantiser (whole blocks of 16) agrees with the scalar one.
    #[test]
    fn the_vector_quantiser_agrees_with_the_scalar_one() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        for len in [16, 37, 100, 1536] {
            let src: Vec<f32> = random(len, 1.0, &mut seed)
                .iter()
                .map(|x| x * 3.0 + 1.0)
                .collect();
            let mut fast = vec![0u32; len.div_ceil(4)];
            let mut slow = fast.clone();
            let mul: Vec<f32> = random(len, 1.0, &mut seed)
                .iter()
                .map(|x| x + 1.5)
                .collect();
            let got = quantise_row(&src, &mul, &mut fast);
            let (lo, hi) = src
                .iter()
                .zip(&mul)
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), (&x, &m)| {
                    (l.min(x * m), h.max(x * m))
                });
            let want = quantise_tail(&src, &mul, &mut slow, 0, lo, hi, false);
            assert_eq!(got, want);
            let bytes = |v: &[u32]| v.iter().flat_map(|c| c.to_le_bytes()).collect::<Vec<u8>>();
            let (fast, slow) = (bytes(&fast), bytes(&slow));
            // Ties round to even in one and up in the other: at most one step apart.
            assert!(fast.iter().zip(&slow).all(|(a, b)| a.abs_diff(*b) <= 1));
            assert!(fast.iter().zip(&slow).filter(|(a, b)| a != b).count() <= len / 100);
            assert!(fast.contains(&255) && fast.contains(&0));
        }
        let mut out = [0u32; 5];
        let mut row = [0.5f32; 20];
        row[17] = f32::INFINITY;
        assert!(quantise_row(&row, &[1.0; 20], &mut out).0.is_nan());
        row[17] = 0.5;
        row[3] = f32::NAN;
        assert!(quantise_row(&row, &[1.0; 20], &mut out).0.is_nan());
    }

    /// Against f64 products of the unrounded factors: within the quantisation's error
    /// bound, for every tail of rows, k not a multiple of 4, 1 and 2 threads.
    #[test]
    fn matches_the_exact_product_within_the_rounding() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX512-VNNI");
            return;
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for (m, k, n, threads) in [
            (1, 3, 64, 1),
            (7, 384, 128, 1),
            (13, 37, 192, 2),
            (50, 64, 64, 2),
            (9, 1536, 64, 2),
        ] {
            // Activations shifted off zero, as after a GELU.
            let mut a: Vec<f32> = random(m * k, 1.0, &mut seed)
                .iter()
                .map(|x| x + 0.7)
                .collect();
            let w = random(k * n, 1.0, &mut seed);
            let bias = random(m * n, 1.0, &mut seed);
            // Every other case has inputs of unequal ranges (as out of a LayerNorm) and is
            // smoothed by them.
            let range: Option<Vec<f32>> = k.is_multiple_of(2).then(|| {
                random(k, 1.0, &mut seed)
                    .iter()
                    .map(|x| x.abs() * 4.0 + 0.1)
                    .collect()
            });
            if let Some(r) = &range {
                for row in a.chunks_exact_mut(k) {
                    row.iter_mut().zip(r).for_each(|(x, r)| *x *= r);
                }
            }
            let amax = a.iter().fold(0.0f32, |m, x| m.max(x.abs())) as f64;
            let packed = PackedWeights::pack(&w, k, n, range.as_deref()).unwrap();
            let mut dst = bias.clone();
            matmul_acc(&mut dst, &a, m, &packed, threads, &mut Scratch::default());
            let (mut worst, mut norm) = (0.0f64, 0.0f64);
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = (0..k)
                        .map(|p| a[i * k + p] as f64 * w[p * n + j] as f64)
                        .sum();
                    let got = (dst[i * n + j] - bias[i * n + j]) as f64;
                    worst = worst.max((got - want).abs());
                    norm = norm.max(want.abs());
                }
            }
            // Each factor is off by at most half a step (1/255 of its row's range, 1/127
            // of its column's largest weight), and the errors are independent.
            let bound = 0.012 * (k as f64).sqrt() * amax;
            assert!(
                worst < bound,
                "m={m} k={k} n={n}: worst {worst} > {bound} (largest {norm})"
            );
            assert!(
                worst > 0.0,
                "no rounding at all: the test would not see a wrong kernel"
            );
        }
    }

    #[test]
    fn refuses_what_it_cannot_pack() {
        assert!(PackedWeights::pack(&[0.0; 96], 2, 48, None).is_none());
        assert!(PackedWeights::pack(&[f32::NAN; 128], 2, 64, None).is_none());
        assert!(PackedWeights::pack(&[0.0; 128], 2, 64, Some(&[1.0])).is_none());
        assert!(PackedWeights::pack(&[0.0; 128], 2, 64, None).is_some());
    }
}
