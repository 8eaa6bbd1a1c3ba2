//! The vector scans' inner loops: int8 dot products of a block of codes with the query's,
//! and the query's sums over a block of vectors' sign bits. With AVX-512 VNNI (`vpdpbusd`:
//! 64 byte products summed into 16 lanes per instruction) where the processor has it, else
//! portable code the compiler vectorises. Both give the same integers (the tests check it);
//! the sign-bit sums' portable form is a table per byte of bits ([`BitScorer`]).

use std::sync::atomic::{AtomicBool, Ordering};

static PORTABLE: AtomicBool = AtomicBool::new(false);

/// Whether the fast paths may run: the processor has AVX-512 VNNI and the benchmark has not
/// asked for the portable code ([`force_portable`]).
fn avx512_vnni() -> bool {
    !PORTABLE.load(Ordering::Relaxed) && trove_common::cpu::avx512_vnni()
}

/// The portable code from now on (`true`) or the fastest the processor runs (`false`), for
/// scans started after the call: the benchmark measures both in one process
/// (`trove-bench --only i`). Searches never call it.
pub fn force_portable(on: bool) {
    PORTABLE.store(on, Ordering::Relaxed);
}

/// `out[i]` = the dot product of vector `i` of `codes` (`dims` values each) with `q`.
pub(super) fn dots_i8(codes: &[i8], dims: usize, q: &[i8], out: &mut [i32]) {
    debug_assert_eq!(q.len(), dims);
    debug_assert!(codes.len() >= out.len() * dims);
    #[cfg(target_arch = "x86_64")]
    if avx512_vnni() {
        // SAFETY: the processor has the instructions (checked above); the kernel reads
        // `out.len()` vectors of `dims` codes and `dims` query values, within the slices.
        #[allow(unsafe_code)]
        unsafe {
            x86::dots_i8(codes, dims, q, out)
        };
        return;
    }
    dots_i8_portable(codes, dims, q, out);
}

fn dots_i8_portable(codes: &[i8], dims: usize, q: &[i8], out: &mut [i32]) {
    for (v, o) in codes.chunks_exact(dims.max(1)).zip(out.iter_mut()) {
        *o = dot_i8(v, q);
    }
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

/// The query, ready to score vectors by their sign bits (`words` 64-bit words a vector,
/// bit `j` set when value `j` is above zero): a vector's score is the sum of the query's
/// values where its bits are set, the query's dot product with the vector's signs up to a
/// constant. Only the order of scores matters (the best go on to the int8 codes).
pub(super) enum BitScorer {
    /// The query's int8 codes, `64 · words` of them (zeros past its end): each word of bits
    /// selects 64 of them (`vpmovm2b`-style masking) and `vpdpbusd` adds them up.
    Masks { q: Vec<i8>, words: usize },
    /// A table per byte of bits: entry `m` of table `b` is the sum of the query's values whose
    /// bits are set in `m` (values 8b to 8b + 7), in units of the largest such sum / 32,767.
    /// Tables of i16 (24 KiB at 384 dimensions) stay in the processor's first cache.
    Tables {
        tables: Vec<[i16; 256]>,
        words: usize,
    },
}

impl BitScorer {
    /// For the query `q` (f32) and its int8 codes `codes`.
    pub(super) fn new(q: &[f32], codes: &[i8], words: usize) -> Self {
        if avx512_vnni() {
            Self::masks(codes, words)
        } else {
            Self::tables(q, words)
        }
    }

    fn masks(codes: &[i8], words: usize) -> Self {
        let mut q = vec![0i8; words * 64];
        let n = codes.len().min(q.len());
        q[..n].copy_from_slice(&codes[..n]);
        Self::Masks { q, words }
    }

    fn tables(q: &[f32], words: usize) -> Self {
        let sums: Vec<[f32; 256]> = (0..words * 8)
            .map(|b| {
                // The scan reads the words as bytes in memory order: byte `b` holds bits
                // 8·i to 8·i + 7 of its word, i its place counted from the low end.
                let i = if cfg!(target_endian = "little") {
                    b % 8
                } else {
                    7 - b % 8
                };
                let first = (b / 8) * 64 + i * 8;
                // Each entry is an earlier one (its lowest bit cleared) plus that bit's value.
                let mut t = [0f32; 256];
                for m in 1..256usize {
                    let low = m.trailing_zeros() as usize;
                    t[m] = t[m & (m - 1)] + q.get(first + low).copied().unwrap_or(0.0);
                }
                t
            })
            .collect();
        let max = sums.iter().flatten().fold(0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { 32_767.0 / max } else { 1.0 };
        let tables = sums
            .iter()
            .map(|t| t.map(|x| (x * scale).round() as i16))
            .collect();
        Self::Tables { tables, words }
    }

    /// `out[i]` = the score of vector `i` of `bits`.
    pub(super) fn scores(&self, bits: &[u64], out: &mut [i32]) {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Masks { q, words } => {
                debug_assert!(avx512_vnni() && bits.len() >= out.len() * words);
                // SAFETY: a `Masks` scorer is made only where the processor has the
                // instructions; the kernel reads `out.len()` vectors of `words` words
                // and `64 · words` query codes, within the slices.
                #[allow(unsafe_code)]
                unsafe {
                    x86::bit_sums(bits, *words, q, out)
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            Self::Masks { q, words } => bit_sums_portable(bits, *words, q, out),
            Self::Tables { tables, words } => {
                let per = words * 8;
                let bytes: &[u8] = bytemuck::cast_slice(bits);
                for (v, o) in bytes.chunks_exact(per.max(1)).zip(out.iter_mut()) {
                    *o = v
                        .iter()
                        .zip(tables)
                        .map(|(b, t)| i32::from(t[usize::from(*b)]))
                        .sum();
                }
            }
        }
    }
}

/// The masks' sums without SIMD: the reference the kernel is tested against.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn bit_sums_portable(bits: &[u64], words: usize, q: &[i8], out: &mut [i32]) {
    for (v, o) in bits.chunks_exact(words.max(1)).zip(out.iter_mut()) {
        *o = v
            .iter()
            .enumerate()
            .flat_map(|(w, word)| {
                (0..64)
                    .filter(move |b| word >> b & 1 == 1)
                    .map(move |b| i32::from(q[w * 64 + b]))
            })
            .sum();
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use std::arch::x86_64::*;

    /// [`super::dots_i8`] by `vpdpbusd`, which multiplies unsigned by signed bytes: each
    /// code is read as `code + 128` (its top bit flipped) and `128 · Σq` taken off after.
    ///
    /// # Safety
    /// AVX-512 F, BW and VNNI; `codes` holds `out.len() · dims` values, `q` `dims`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn dots_i8(codes: &[i8], dims: usize, q: &[i8], out: &mut [i32]) {
        let full = dims / 64;
        let rest = dims % 64;
        let tail: u64 = if rest == 0 { 0 } else { (1u64 << rest) - 1 };
        let flip = _mm512_set1_epi8(i8::MIN);
        let q_sum: i32 = q.iter().map(|x| i32::from(*x)).sum();
        let qp = q.as_ptr();
        for (i, o) in out.iter_mut().enumerate() {
            let v = codes.as_ptr().add(i * dims);
            let mut acc = _mm512_setzero_si512();
            for j in 0..full {
                let c = _mm512_loadu_si512(v.add(j * 64).cast());
                let b = _mm512_loadu_si512(qp.add(j * 64).cast());
                acc = _mm512_dpbusd_epi32(acc, _mm512_xor_si512(c, flip), b);
            }
            if rest > 0 {
                // Lanes past the end read as 0: the flipped code is 128, its query value 0.
                let c = _mm512_maskz_loadu_epi8(tail, v.add(full * 64));
                let b = _mm512_maskz_loadu_epi8(tail, qp.add(full * 64));
                acc = _mm512_dpbusd_epi32(acc, _mm512_xor_si512(c, flip), b);
            }
            *o = _mm512_reduce_add_epi32(acc) - 128 * q_sum;
        }
    }

    /// The query's codes summed where a vector's bits are set: each word of bits masks 64
    /// of them, and `vpdpbusd` with ones adds them up.
    ///
    /// # Safety
    /// AVX-512 F, BW and VNNI; `bits` holds `out.len() · words` words, `q` `64 · words`
    /// codes.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn bit_sums(bits: &[u64], words: usize, q: &[i8], out: &mut [i32]) {
        let ones = _mm512_set1_epi8(1);
        let qp = q.as_ptr();
        for (i, o) in out.iter_mut().enumerate() {
            let v = bits.as_ptr().add(i * words);
            let mut acc = _mm512_setzero_si512();
            for j in 0..words {
                let b = _mm512_loadu_si512(qp.add(j * 64).cast());
                let picked = _mm512_maskz_mov_epi8(*v.add(j), b);
                acc = _mm512_dpbusd_epi32(acc, ones, picked);
            }
            *o = _mm512_reduce_add_epi32(acc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, seed: u64) -> impl Iterator<Item = u64> {
        let mut s = seed;
        (0..n).map(move |_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        })
    }

    #[test]
    fn int8_dots_are_exact_at_every_width() {
        for dims in [1, 3, 63, 64, 100, 384, 768] {
            let n = 37;
            let codes: Vec<i8> = random(n * dims, 7 + dims as u64)
                .map(|x| (x % 255) as i8)
                .map(|x| x.max(-127))
                .collect();
            let q: Vec<i8> = random(dims, 99)
                .map(|x| ((x % 255) as i8).max(-127))
                .collect();
            let expected: Vec<i32> = codes
                .chunks_exact(dims)
                .map(|v| {
                    v.iter()
                        .zip(&q)
                        .map(|(a, b)| i32::from(*a) * i32::from(*b))
                        .sum()
                })
                .collect();
            let mut got = vec![0; n];
            dots_i8(&codes, dims, &q, &mut got);
            assert_eq!(got, expected, "dims {dims}");
            dots_i8_portable(&codes, dims, &q, &mut got);
            assert_eq!(got, expected, "dims {dims}, portable");
        }
    }

    #[test]
    fn sign_bit_sums_match_the_reference_and_the_tables_rank_alike() {
        for words in [1, 2, 6, 12] {
            let n = 53;
            let bits: Vec<u64> = random(n * words, 3 + words as u64).collect();
            let qf: Vec<f32> = random(words * 64, 11)
                .map(|x| (x % 2001) as f32 / 1000.0 - 1.0)
                .collect();
            let codes: Vec<i8> = qf.iter().map(|x| (x * 127.0).round() as i8).collect();
            let mut expected = vec![0; n];
            bit_sums_portable(&bits, words, &codes, &mut expected);
            let mut got = vec![0; n];
            BitScorer::new(&qf, &codes, words).scores(&bits, &mut got);
            if avx512_vnni() {
                assert_eq!(got, expected, "{words} words");
            }
            // The tables are in other units: the same sums, within their rounding.
            BitScorer::tables(&qf, words).scores(&bits, &mut got);
            let exact: Vec<f32> = bits
                .chunks_exact(words)
                .map(|v| {
                    (0..words * 64)
                        .filter(|j| v[j / 64] >> (j % 64) & 1 == 1)
                        .map(|j| qf[j])
                        .sum()
                })
                .collect();
            // Any two vectors whose sums differ by more than the tables' rounding are
            // ordered alike.
            for (i, (e1, g1)) in exact.iter().zip(&got).enumerate() {
                for (e2, g2) in exact.iter().zip(&got).skip(i + 1) {
                    if (e1 - e2).abs() > 0.01 * words as f32 {
                        assert_eq!(e1 > e2, g1 > g2, "{words} words: {e1} {e2} / {g1} {g2}");
                    }
                }
            }
        }
    }
}
