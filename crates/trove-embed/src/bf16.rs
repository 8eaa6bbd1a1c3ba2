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

    #[test]
    fn refuses_widths_that_are_not_whole_panels() {
        assert!(PackedWeights::pack(&[0.0; 96], 2, 48).is_none());
        assert!(PackedWeights::pack(&[0.0; 128], 2, 64).is_some());
    }
}
