//! A fused CPU forward pass of BERT (all-MiniLM-L6-v2) on plain `f32` buffers.
//!
//! Same arithmetic as candle's `BertModel` + mean pooling, organised for speed:
//! * sequences are packed without padding (each attends only to its own tokens), so a
//!   batch costs the sum of its lengths, not 32 × the longest;
//! * Q, K and V come from one matmul; biases and residuals are pre-loaded into the
//!   destination and the matmul accumulates onto them (no extra passes);
//! * attention reads Q/K/V in place through strides (no transposes or copies);
//! * scratch buffers are reused from batch to batch (no fresh mmaps per op);
//! * matmuls use the `gemm` crate (candle's own kernels) with AVX-512 when the CPU has it.

use std::collections::HashMap;

use candle_core::Tensor;
use rayon::prelude::*;

use crate::{bf16, int8};

const HIDDEN: usize = 384;
/// Sequences up to this many tokens compute attention without the gemm crate.
const SMALL_ATTENTION: usize = 32;

thread_local! {
    /// Attention score matrix of one (sequence, head), reused by each compute thread.
    static SCORES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct Layer {
    /// [HIDDEN × 3·HIDDEN], row-major (input × output): Q | K | V.
    w_qkv: Vec<f32>,
    b_qkv: Vec<f32>,
    /// [HIDDEN × HIDDEN]
    w_o: Vec<f32>,
    b_o: Vec<f32>,
    ln1_g: Vec<f32>,
    ln1_b: Vec<f32>,
    /// [HIDDEN × inter]
    w_i: Vec<f32>,
    b_i: Vec<f32>,
    /// [inter × HIDDEN]
    w_out: Vec<f32>,
    b_out: Vec<f32>,
    ln2_g: Vec<f32>,
    ln2_b: Vec<f32>,
    /// The four weight matrices (QKV, O, I, OUT) packed for faster products, if so.
    fast: Option<Fast>,
}

/// A layer's four matrices packed for faster products, each in its own arithmetic.
struct Fast {
    precision: Precision,
    matrices: [Packed; 4],
}

enum Packed {
    Bf16(bf16::PackedWeights),
    Int8(int8::PackedWeights),
}

/// Which of a layer's four matrices.
#[derive(Clone, Copy)]
enum Matrix {
    Qkv = 0,
    O = 1,
    I = 2,
    Out = 3,
}

impl Layer {
    /// The four matrices as (weights [k × n], k, n).
    fn matrices(&self, h: usize, inter: usize) -> [(&[f32], usize, usize); 4] {
        [
            (&self.w_qkv, h, 3 * h),
            (&self.w_o, h, h),
            (&self.w_i, h, inter),
            (&self.w_out, inter, h),
        ]
    }

    /// The four matrices packed for `precision`; `input_ln` is the (γ, β) of the
    /// LayerNorm whose output feeds this layer's QKV product (int8 smooths by it).
    fn pack(
        &self,
        precision: Precision,
        h: usize,
        inter: usize,
        input_ln: (&[f32], &[f32]),
    ) -> Option<Fast> {
        let m = self.matrices(h, inter);
        let range = |(g, b): (&[f32], &[f32])| -> Vec<f32> {
            g.iter().zip(b).map(|(g, b)| g.abs() + b.abs()).collect()
        };
        // Inputs of QKV and I come out of a LayerNorm; O's and OUT's do not.
        let ranges = [
            Some(range(input_ln)),
            None,
            Some(range((&self.ln1_g, &self.ln1_b))),
            None,
        ];
        let bf16 = |(w, k, n): (&[f32], usize, usize)| {
            bf16::PackedWeights::pack(w, k, n).map(Packed::Bf16)
        };
        let [a, b, c, d] = match precision {
            Precision::F32 => return None,
            Precision::Bf16 => m.map(bf16),
            Precision::Int8 => {
                let mut r = ranges.iter().map(Option::as_deref);
                m.map(|(w, k, n)| {
                    int8::PackedWeights::pack(w, k, n, r.next().flatten()).map(Packed::Int8)
                })
            }
        };
        Some(Fast {
            precision,
            matrices: [a?, b?, c?, d?],
        })
    }
}

/// The arithmetic of the four linear layers of each block (attention is always `f32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precision {
    /// `f32` products everywhere (the `gemm` crate).
    F32,
    /// bf16 factors, `f32` sums (AVX512-BF16).
    Bf16,
    /// Int8 factors (weights per column, activations per row), `i32` sums (AVX512-VNNI).
    Int8,
}

impl Precision {
    /// Whether this CPU runs this precision's kernels.
    pub(crate) fn available(self) -> bool {
        match self {
            Self::F32 => true,
            Self::Bf16 => bf16::available(),
            Self::Int8 => int8::available(),
        }
    }

    /// The fastest precision this CPU runs.
    pub(crate) fn fastest() -> Self {
        [Self::Int8, Self::Bf16]
            .into_iter()
            .find(|p| p.available())
            .unwrap_or(Self::F32)
    }
}

pub(crate) struct FusedBert {
    word: Vec<f32>,
    pos: Vec<f32>,
    type0: Vec<f32>,
    emb_ln_g: Vec<f32>,
    emb_ln_b: Vec<f32>,
    layers: Vec<Layer>,
    heads: usize,
    inter: usize,
    eps: f32,
    vocab: usize,
    max_pos: usize,
}

#[derive(Default)]
pub(crate) struct Scratch {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    h: Vec<f32>,
    inter: Vec<f32>,
    /// Activations rounded to bf16 pairs (bf16 products only).
    lhs16: Vec<u32>,
    /// Activations quantised to bytes (int8 products only).
    lhs8: int8::Scratch,
}

fn take(map: &HashMap<String, Tensor>, name: &str) -> Result<(Vec<f32>, Vec<usize>), String> {
    let t = map
        .get(name)
        .ok_or_else(|| format!("tensor {name} missing"))?;
    let dims = t.dims().to_vec();
    let v = t
        .flatten_all()
        .and_then(|t| t.to_dtype(candle_core::DType::F32))
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(|e| format!("{name}: {e}"))?;
    Ok((v, dims))
}

fn vector(map: &HashMap<String, Tensor>, name: &str, len: usize) -> Result<Vec<f32>, String> {
    let (v, _) = take(map, name)?;
    if v.len() != len {
        return Err(format!("{name}: expected {len} values, found {}", v.len()));
    }
    Ok(v)
}

/// A linear layer's weight ([out × in] in the file) transposed to [in × out].
fn linear_t(
    map: &HashMap<String, Tensor>,
    name: &str,
    inp: usize,
    out: usize,
) -> Result<Vec<f32>, String> {
    let (w, dims) = take(map, name)?;
    if dims != [out, inp] {
        return Err(format!(
            "{name}: expected shape [{out}, {inp}], found {dims:?}"
        ));
    }
    let mut t = vec![0.0; inp * out];
    for o in 0..out {
        for i in 0..inp {
            t[i * out + o] = w[o * inp + i];
        }
    }
    Ok(t)
}

impl FusedBert {
    pub(crate) fn load(
        map: &HashMap<String, Tensor>,
        config: &candle_transformers::models::bert::Config,
        precision: Precision,
    ) -> Result<Self, String> {
        if config.hidden_size != HIDDEN {
            return Err(format!(
                "hidden_size {} unsupported (expected {HIDDEN})",
                config.hidden_size
            ));
        }
        let h = HIDDEN;
        let heads = config.num_attention_heads;
        let inter = config.intermediate_size;
        // Accept both plain and `bert.`-prefixed names.
        let prefix = if map.contains_key("embeddings.word_embeddings.weight") {
            ""
        } else {
            "bert."
        };
        let n = |s: &str| format!("{prefix}{s}");
        let (word, wdims) = take(map, &n("embeddings.word_embeddings.weight"))?;
        let (pos, pdims) = take(map, &n("embeddings.position_embeddings.weight"))?;
        if wdims.len() != 2 || wdims[1] != h || pdims.len() != 2 || pdims[1] != h {
            return Err("embedding shapes do not match hidden_size".into());
        }
        let (types, _) = take(map, &n("embeddings.token_type_embeddings.weight"))?;
        let mut layers = Vec::new();
        for i in 0..config.num_hidden_layers {
            let l = |s: &str| n(&format!("encoder.layer.{i}.{s}"));
            let wq = linear_t(map, &l("attention.self.query.weight"), h, h)?;
            let wk = linear_t(map, &l("attention.self.key.weight"), h, h)?;
            let wv = linear_t(map, &l("attention.self.value.weight"), h, h)?;
            let mut w_qkv = vec![0.0; h * 3 * h];
            for r in 0..h {
                w_qkv[r * 3 * h..r * 3 * h + h].copy_from_slice(&wq[r * h..(r + 1) * h]);
                w_qkv[r * 3 * h + h..r * 3 * h + 2 * h].copy_from_slice(&wk[r * h..(r + 1) * h]);
                w_qkv[r * 3 * h + 2 * h..(r + 1) * 3 * h].copy_from_slice(&wv[r * h..(r + 1) * h]);
            }
            let mut b_qkv = vector(map, &l("attention.self.query.bias"), h)?;
            b_qkv.extend(vector(map, &l("attention.self.key.bias"), h)?);
            b_qkv.extend(vector(map, &l("attention.self.value.bias"), h)?);
            layers.push(Layer {
                w_qkv,
                b_qkv,
                w_o: linear_t(map, &l("attention.output.dense.weight"), h, h)?,
                b_o: vector(map, &l("attention.output.dense.bias"), h)?,
                ln1_g: vector(map, &l("attention.output.LayerNorm.weight"), h)?,
                ln1_b: vector(map, &l("attention.output.LayerNorm.bias"), h)?,
                w_i: linear_t(map, &l("intermediate.dense.weight"), h, inter)?,
                b_i: vector(map, &l("intermediate.dense.bias"), inter)?,
                w_out: linear_t(map, &l("output.dense.weight"), inter, h)?,
                b_out: vector(map, &l("output.dense.bias"), h)?,
                ln2_g: vector(map, &l("output.LayerNorm.weight"), h)?,
                ln2_b: vector(map, &l("output.LayerNorm.bias"), h)?,
                fast: None,
            });
        }
        let emb_ln_g = vector(map, &n("embeddings.LayerNorm.weight"), h)?;
        let emb_ln_b = vector(map, &n("embeddings.LayerNorm.bias"), h)?;
        if precision.available() {
            let packed: Option<Vec<Fast>> = (0..layers.len())
                .map(|i| {
                    let input_ln = match i {
                        0 => (&emb_ln_g[..], &emb_ln_b[..]),
                        _ => (&layers[i - 1].ln2_g[..], &layers[i - 1].ln2_b[..]),
                    };
                    layers[i].pack(precision, h, inter, input_ln)
                })
                .collect();
            // All layers or none (a width that is not whole panels keeps f32).
            if let Some(packed) = packed {
                for (layer, p) in layers.iter_mut().zip(packed) {
                    layer.fast = Some(p);
                    // The f32 copies are no longer read.
                    for w in [
                        &mut layer.w_qkv,
                        &mut layer.w_o,
                        &mut layer.w_i,
                        &mut layer.w_out,
                    ] {
                        *w = Vec::new();
                    }
                }
            }
        }
        Ok(Self {
            vocab: wdims[0],
            max_pos: pdims[0],
            word,
            pos,
            type0: types[..h].to_vec(),
            emb_ln_g,
            emb_ln_b,
            layers,
            heads,
            inter,
            eps: config.layer_norm_eps as f32,
        })
    }

    /// The precision the linear layers multiply in.
    pub(crate) fn precision(&self) -> Precision {
        match self.layers.first().and_then(|l| l.fast.as_ref()) {
            Some(f) => f.precision,
            None => Precision::F32,
        }
    }

    /// Mean-pooled (not yet normalised) sentence vectors of the given token sequences.
    pub(crate) fn forward(
        &self,
        seqs: &[&[u32]],
        threads: usize,
        s: &mut Scratch,
    ) -> Result<Vec<Vec<f32>>, String> {
        let h = HIDDEN;
        let t: usize = seqs.iter().map(|q| q.len()).sum();
        if t == 0 {
            return Ok(vec![vec![0.0; h]; seqs.len()]);
        }
        let mut offsets = Vec::with_capacity(seqs.len());
        let mut off = 0;
        for q in seqs {
            if q.len() > self.max_pos {
                return Err(format!(
                    "sequence of {} tokens exceeds {}",
                    q.len(),
                    self.max_pos
                ));
            }
            offsets.push(off);
            off += q.len();
        }
        let resize = |v: &mut Vec<f32>, n: usize| {
            if v.len() < n {
                v.resize(n, 0.0);
            }
        };
        resize(&mut s.x, t * h);
        resize(&mut s.qkv, t * 3 * h);
        resize(&mut s.ctx, t * h);
        resize(&mut s.h, t * h);
        resize(&mut s.inter, t * self.inter);
        let x = &mut s.x[..t * h];
        // Embeddings.
        for (q, &o) in seqs.iter().zip(&offsets) {
            for (p, &id) in q.iter().enumerate() {
                let id = id as usize;
                if id >= self.vocab {
                    return Err(format!("token id {id} out of vocabulary"));
                }
                let row = &mut x[(o + p) * h..(o + p + 1) * h];
                let w = &self.word[id * h..(id + 1) * h];
                let pe = &self.pos[p * h..(p + 1) * h];
                for j in 0..h {
                    row[j] = w[j] + pe[j] + self.type0[j];
                }
            }
        }
        layer_norm_rows(x, &self.emb_ln_g, &self.emb_ln_b, self.eps);
        let par = if threads > 1 {
            gemm::Parallelism::Rayon(threads)
        } else {
            gemm::Parallelism::None
        };
        let hd = h / self.heads;
        let scale = 1.0 / (hd as f32).sqrt();
        for layer in &self.layers {
            let qkv = &mut s.qkv[..t * 3 * h];
            fill_rows(qkv, &layer.b_qkv);
            // Each linear layer's product (its buffers: only these two fields of `s`).
            let (lhs16, lhs8) = (&mut s.lhs16, &mut s.lhs8);
            let mut lin = |dst: &mut [f32], lhs: &[f32], w: &[f32], which: Matrix| {
                Linear {
                    par,
                    threads,
                    lhs16: &mut *lhs16,
                    lhs8: &mut *lhs8,
                    fast: layer.fast.as_ref(),
                }
                .acc(dst, lhs, t, w, which)
            };
            lin(qkv, &s.x[..t * h], &layer.w_qkv, Matrix::Qkv);
            // Attention, one task per (sequence, head). Each task writes the context of
            // its head for its sequence: rows o..o+len, columns hh·hd..(hh+1)·hd of `ctx`.
            // The heads of one sequence interleave within the same rows, so the tasks
            // cannot be handed disjoint `&mut` slices; they share a raw pointer instead.
            let ctx = SharedOut::new(&mut s.ctx[..t * h]);
            let qkv: &[f32] = qkv;
            let tasks: Vec<(usize, usize, usize)> = seqs
                .iter()
                .zip(&offsets)
                .flat_map(|(q, &o)| (0..self.heads).map(move |hh| (o, q.len(), hh)))
                .collect();
            tasks.par_iter().for_each_init(
                || (Vec::new(), Vec::new()),
                |(scores, out): &mut (Vec<f32>, Vec<f32>), &(o, len, hh)| {
                    if len == 0 {
                        return;
                    }
                    scores.resize(len * len, 0.0);
                    let qb = &qkv[o * 3 * h + hh * hd..];
                    let kb = &qkv[o * 3 * h + h + hh * hd..];
                    let vb = &qkv[o * 3 * h + 2 * h + hh * hd..];
                    if len <= SMALL_ATTENTION {
                        // A short sequence (a query): the products directly, as the gemm
                        // crate's set-up costs more than these few multiply-adds.
                        fn row(b: &[f32], i: usize, h: usize, hd: usize) -> &[f32] {
                            &b[i * 3 * h..i * 3 * h + hd]
                        }
                        for (i, sr) in scores.chunks_exact_mut(len).enumerate() {
                            let q = row(qb, i, h, hd);
                            for (j, sc) in sr.iter_mut().enumerate() {
                                let dot: f32 =
                                    q.iter().zip(row(kb, j, h, hd)).map(|(a, b)| a * b).sum();
                                *sc = scale * dot;
                            }
                        }
                        softmax_rows(scores, len);
                        out.clear();
                        out.resize(len * hd, 0.0);
                        for (sr, or) in scores.chunks_exact(len).zip(out.chunks_exact_mut(hd)) {
                            for (j, &p) in sr.iter().enumerate() {
                                or.iter_mut()
                                    .zip(row(vb, j, h, hd))
                                    .for_each(|(o, v)| *o += p * v);
                            }
                        }
                        // SAFETY: as below: this task alone writes this len × hd block.
                        #[allow(unsafe_code)]
                        unsafe {
                            ctx.copy_block(o * h + hh * hd, h, out, len, hd)
                        };
                        return;
                    }
                    // scores = scale · Q Kᵀ
                    matmul_overwrite(scores, len, qb, 3 * h, 1, kb, 1, 3 * h, len, len, hd, scale);
                    softmax_rows(scores, len);
                    // ctx[o..o+len, hh·hd..(hh+1)·hd] = P V
                    // SAFETY: this task is the only one writing this block: tasks differ
                    // in sequence (disjoint row ranges o..o+len, as `offsets` are a prefix
                    // sum of the lengths) or in head (disjoint column ranges of width hd),
                    // and the matmul writes exactly the len × hd elements of the block.
                    // Nothing reads `ctx` until `for_each_init` has returned.
                    #[allow(unsafe_code)]
                    unsafe {
                        ctx.matmul_overwrite_block(
                            o * h + hh * hd,
                            h,
                            scores,
                            len,
                            1,
                            vb,
                            3 * h,
                            1,
                            len,
                            hd,
                            len,
                            1.0,
                        )
                    };
                },
            );
            // h = x + b_o + ctx · W_o ; LayerNorm
            let hbuf = &mut s.h[..t * h];
            hbuf.copy_from_slice(&s.x[..t * h]);
            add_rows(hbuf, &layer.b_o);
            lin(hbuf, &s.ctx[..t * h], &layer.w_o, Matrix::O);
            layer_norm_rows(hbuf, &layer.ln1_g, &layer.ln1_b, self.eps);
            // inter = gelu(h · W_i + b_i)
            let ib = &mut s.inter[..t * self.inter];
            fill_rows(ib, &layer.b_i);
            lin(ib, hbuf, &layer.w_i, Matrix::I);
            ib.par_chunks_mut(4096).for_each(gelu_in_place);
            // x = LayerNorm(h + b_out + inter · W_out)
            let x = &mut s.x[..t * h];
            x.copy_from_slice(hbuf);
            add_rows(x, &layer.b_out);
            lin(x, ib, &layer.w_out, Matrix::Out);
            layer_norm_rows(x, &layer.ln2_g, &layer.ln2_b, self.eps);
        }
        // Mean pooling.
        let x = &s.x[..t * h];
        Ok(seqs
            .iter()
            .zip(&offsets)
            .map(|(q, &o)| {
                let mut v = vec![0.0f32; h];
                for r in 0..q.len() {
                    for (a, b) in v.iter_mut().zip(&x[(o + r) * h..(o + r + 1) * h]) {
                        *a += b;
                    }
                }
                let n = q.len().max(1) as f32;
                v.iter_mut().for_each(|a| *a /= n);
                v
            })
            .collect())
    }
}

/// One linear layer's product, in the precision its weights are packed for.
struct Linear<'a> {
    par: gemm::Parallelism,
    threads: usize,
    lhs16: &'a mut Vec<u32>,
    lhs8: &'a mut int8::Scratch,
    fast: Option<&'a Fast>,
}

impl Linear<'_> {
    /// dst[t × n] += lhs[t × k] · w (w: [k × n] row-major `f32`, or its packed form).
    fn acc(self, dst: &mut [f32], lhs: &[f32], t: usize, w: &[f32], which: Matrix) {
        match self.fast {
            Some(f) => match &f.matrices[which as usize] {
                Packed::Bf16(p) => bf16::matmul_acc(dst, lhs, t, p, self.threads, self.lhs16),
                Packed::Int8(p) => int8::matmul_acc(dst, lhs, t, p, self.threads, self.lhs8),
            },
            None => {
                let k = lhs.len() / t.max(1);
                let n = dst.len() / t.max(1);
                matmul(dst, n, lhs, k, 1, w, n, 1, t, n, k, 1.0, self.par);
            }
        }
    }
}

fn fill_rows(dst: &mut [f32], row: &[f32]) {
    for r in dst.chunks_exact_mut(row.len()) {
        r.copy_from_slice(row);
    }
}

fn add_rows(dst: &mut [f32], row: &[f32]) {
    for r in dst.chunks_exact_mut(row.len()) {
        for (a, b) in r.iter_mut().zip(row) {
            *a += b;
        }
    }
}

fn layer_norm_rows(x: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
    x.par_chunks_mut(g.len() * 64)
        .for_each(|block| layer_norm_block(block, g, b, eps));
}

#[inline(always)]
fn layer_norm_block_body(block: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
    let n = g.len();
    for row in block.chunks_exact_mut(n) {
        let mean = sum_lanes(row) / n as f32;
        row.iter_mut().for_each(|v| *v -= mean);
        let mut acc = [0.0f32; LANES];
        let mut chunks = row.chunks_exact(LANES);
        for c in &mut chunks {
            for (a, v) in acc.iter_mut().zip(c) {
                *a += v * v;
            }
        }
        let sq = acc.iter().sum::<f32>() + chunks.remainder().iter().map(|v| v * v).sum::<f32>();
        let inv = 1.0 / (sq / n as f32 + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(g).zip(b) {
            *v = *v * inv * g + b;
        }
    }
}

/// exp(x) for f32, branch-free (vectorises); relative error about 2e-7 on [-87, 88].
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.0);
    // Round to nearest with the 1.5·2²³ trick: `f32::round` is a libm call and `as i32`
    // a saturating conversion, both of which block vectorisation. After the add, the low
    // mantissa bits of `t` hold n as a two's-complement offset.
    const MAGIC: f32 = 12_582_912.0;
    let t = x * std::f32::consts::LOG2_E + MAGIC;
    let n = t - MAGIC;
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    // Taylor/minimax polynomial of e^r on [-ln2/2, ln2/2].
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (0.166_666_67
                    + r * (0.041_666_52
                        + r * (0.008_333_78 + r * (0.001_394_36 + r * 0.000_198_4))))));
    let ni = t.to_bits().wrapping_sub(MAGIC.to_bits()) as i32; // n, in [-126, 127]
    let bits = ((ni + 127) as u32) << 23;
    p * f32::from_bits(bits)
}

/// Lane-parallel reductions: a plain `iter().sum()` over f32 is a serial chain that
/// the compiler may not reorder (so it would not vectorise).
const LANES: usize = 16;

#[inline(always)]
fn sum_lanes(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

#[inline(always)]
fn max_lanes(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a = if *v > *a { *v } else { *a };
        }
    }
    let m = acc.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    chunks.remainder().iter().copied().fold(m, f32::max)
}

#[inline(always)]
fn softmax_in_place_body(row: &mut [f32]) {
    let max = max_lanes(row);
    for v in row.iter_mut() {
        *v = exp_f32(*v - max);
    }
    let inv = 1.0 / sum_lanes(row);
    row.iter_mut().for_each(|v| *v *= inv);
}

/// Softmax of each row of a row-major matrix with `n` columns.
#[inline(always)]
fn softmax_rows_body(m: &mut [f32], n: usize) {
    for row in m.chunks_exact_mut(n) {
        softmax_in_place_body(row);
    }
}

/// erf via Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7).
#[inline(always)]
fn erf_f32(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let y = 1.0
        - (((((1.061_405_4 * t - 1.453_152_1) * t) + 1.421_413_7) * t - 0.284_496_74) * t
            + 0.254_829_6)
            * t
            * exp_f32(-a * a);
    y.copysign(x)
}

#[inline(always)]
fn gelu_in_place_body(xs: &mut [f32]) {
    for v in xs.iter_mut() {
        *v = 0.5 * *v * (1.0 + erf_f32(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Runs the body compiled for AVX-512 or AVX2+FMA when the CPU has them (the crate is
/// built for baseline x86-64, where these loops would only use SSE2).
macro_rules! multiversion {
    ($name:ident, $body:ident) => {
        multiversion!($name(), $body);
    };
    ($name:ident($($arg:ident: $ty:ty),*), $body:ident) => {
        #[allow(unsafe_code)]
        fn $name(xs: &mut [f32] $(, $arg: $ty)*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma")]
                fn v4(xs: &mut [f32] $(, $arg: $ty)*) {
                    $body(xs $(, $arg)*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn v3(xs: &mut [f32] $(, $arg: $ty)*) {
                    $body(xs $(, $arg)*)
                }
                if std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                {
                    // SAFETY: the CPU supports the enabled features (checked just above).
                    return unsafe { v4(xs $(, $arg)*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: as above.
                    return unsafe { v3(xs $(, $arg)*) };
                }
            }
            $body(xs $(, $arg)*)
        }
    };
}

multiversion!(gelu_in_place, gelu_in_place_body);
multiversion!(softmax_rows(n: usize), softmax_rows_body);
multiversion!(layer_norm_block(g: &[f32], b: &[f32], eps: f32), layer_norm_block_body);

/// An output buffer whose disjoint blocks are written by parallel tasks through a raw
/// pointer (no `&mut` to the shared buffer is ever created while they run).
struct SharedOut<'a> {
    ptr: *mut f32,
    len: usize,
    /// Holds the exclusive borrow of the buffer for as long as the tasks may write.
    _buf: std::marker::PhantomData<&'a mut [f32]>,
}

#[allow(unsafe_code)]
// SAFETY: `SharedOut` only hands out writes through `matmul_overwrite_block`, whose
// callers guarantee that concurrent calls write disjoint elements.
unsafe impl Sync for SharedOut<'_> {}

impl<'a> SharedOut<'a> {
    fn new(buf: &'a mut [f32]) -> Self {
        Self {
            ptr: buf.as_mut_ptr(),
            len: buf.len(),
            _buf: std::marker::PhantomData,
        }
    }

    /// Copies `src` (m × n, row-major) into the block of the buffer that starts at
    /// element `start`, with row stride `dst_rs`. The block's bounds are checked.
    ///
    /// # Safety
    /// No other thread may read or write any element of this block while the call runs.
    #[allow(unsafe_code)]
    unsafe fn copy_block(&self, start: usize, dst_rs: usize, src: &[f32], m: usize, n: usize) {
        if m == 0 || n == 0 {
            return;
        }
        assert!(src.len() >= m * n, "source smaller than {m} × {n}");
        assert!(
            n <= dst_rs || m == 1,
            "rows of {n} overlap at stride {dst_rs}"
        );
        let end = start + (m - 1) * dst_rs + n;
        assert!(end <= self.len, "block end {end} > {}", self.len);
        for r in 0..m {
            // SAFETY: row r spans start + r·dst_rs .. + n ≤ end ≤ len (checked above), in
            // the exclusively borrowed buffer; `src` is a shared borrow of another buffer.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    src.as_ptr().add(r * n),
                    self.ptr.add(start + r * dst_rs),
                    n,
                )
            }
        }
    }

    /// Writes `alpha · lhs · rhs` (m × n) into the block of the buffer that starts at
    /// element `start`, with row stride `dst_rs` (single-threaded). The block's bounds
    /// are checked against the buffer.
    ///
    /// # Safety
    /// No other thread may read or write any element of this block while the call runs
    /// (concurrent calls must target disjoint blocks).
    #[allow(unsafe_code, clippy::too_many_arguments)]
    unsafe fn matmul_overwrite_block(
        &self,
        start: usize,
        dst_rs: usize,
        lhs: &[f32],
        lhs_rs: usize,
        lhs_cs: usize,
        rhs: &[f32],
        rhs_rs: usize,
        rhs_cs: usize,
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
    ) {
        assert!(start <= self.len, "block start {start} > {}", self.len);
        // SAFETY: `start` is within the buffer (checked just above) and the gemm call
        // bounds-checks the block against the remaining `len - start` elements; the
        // buffer is exclusively borrowed for 'a, so `lhs`/`rhs` (shared borrows) cannot
        // alias it; exclusivity of the block among threads is the caller's promise.
        unsafe {
            gemm_raw(
                self.ptr.add(start),
                self.len - start,
                dst_rs,
                false,
                lhs,
                lhs_rs,
                lhs_cs,
                rhs,
                rhs_rs,
                rhs_cs,
                m,
                n,
                k,
                alpha,
                gemm::Parallelism::None,
            )
        }
    }
}

fn check(len: usize, rows: usize, cols: usize, rs: usize, cs: usize) {
    if rows > 0 && cols > 0 {
        let last = (rows - 1) * rs + (cols - 1) * cs;
        assert!(last < len, "matrix view out of bounds: {last} >= {len}");
    }
}

/// dst[m×n] (row stride dst_rs) += alpha · lhs[m×k] · rhs[k×n], with explicit strides.
#[allow(clippy::too_many_arguments)]
fn matmul(
    dst: &mut [f32],
    dst_rs: usize,
    lhs: &[f32],
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: &[f32],
    rhs_rs: usize,
    rhs_cs: usize,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    par: gemm::Parallelism,
) {
    gemm_checked(
        dst, dst_rs, true, lhs, lhs_rs, lhs_cs, rhs, rhs_rs, rhs_cs, m, n, k, alpha, par,
    )
}

/// dst = alpha · lhs · rhs (single-threaded).
#[allow(clippy::too_many_arguments)]
fn matmul_overwrite(
    dst: &mut [f32],
    dst_rs: usize,
    lhs: &[f32],
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: &[f32],
    rhs_rs: usize,
    rhs_cs: usize,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
) {
    gemm_checked(
        dst,
        dst_rs,
        false,
        lhs,
        lhs_rs,
        lhs_cs,
        rhs,
        rhs_rs,
        rhs_cs,
        m,
        n,
        k,
        alpha,
        gemm::Parallelism::None,
    )
}

#[allow(clippy::too_many_arguments, unsafe_code)]
fn gemm_checked(
    dst: &mut [f32],
    dst_rs: usize,
    accumulate: bool,
    lhs: &[f32],
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: &[f32],
    rhs_rs: usize,
    rhs_cs: usize,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    par: gemm::Parallelism,
) {
    // SAFETY: `dst` is borrowed mutably (valid for its length, not aliased by
    // `lhs`/`rhs` nor written by anyone else during the call).
    unsafe {
        gemm_raw(
            dst.as_mut_ptr(),
            dst.len(),
            dst_rs,
            accumulate,
            lhs,
            lhs_rs,
            lhs_cs,
            rhs,
            rhs_rs,
            rhs_cs,
            m,
            n,
            k,
            alpha,
            par,
        )
    }
}

/// dst[m×n] (row stride dst_rs) = or += alpha · lhs[m×k] · rhs[k×n], every view bounds-checked.
///
/// # Safety
/// `dst` must be valid for reads and writes of `dst_len` floats, must not overlap `lhs`
/// or `rhs`, and no other thread may access the m × n elements written during the call.
#[allow(clippy::too_many_arguments, unsafe_code)]
unsafe fn gemm_raw(
    dst: *mut f32,
    dst_len: usize,
    dst_rs: usize,
    accumulate: bool,
    lhs: &[f32],
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: &[f32],
    rhs_rs: usize,
    rhs_cs: usize,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    par: gemm::Parallelism,
) {
    check(dst_len, m, n, dst_rs, 1);
    check(lhs.len(), m, k, lhs_rs, lhs_cs);
    check(rhs.len(), k, n, rhs_rs, rhs_cs);
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: every element addressed by the three strided views was bounds-checked
    // above (`dst` is valid for `dst_len` floats, by the caller's contract); `dst` does
    // not overlap the inputs and nobody else touches the written elements (ditto).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            alpha,
            false,
            false,
            false,
            par,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::random;

    #[test]
    fn exp_accuracy() {
        let mut worst = 0.0f32;
        let mut x = -80.0f32;
        while x < 80.0 {
            let rel = ((exp_f32(x) - x.exp()) / x.exp()).abs();
            worst = worst.max(rel);
            x += 0.0137;
        }
        assert!(worst < 1e-6, "worst relative error {worst}");
        assert_eq!(exp_f32(-1000.0), exp_f32(-87.3));
    }

    #[test]
    fn erf_accuracy() {
        // Reference values of erf.
        for (x, e) in [
            (0.0f32, 0.0f32),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (-2.0, -0.995_322_3),
            (3.5, 0.999_999_3),
        ] {
            assert!(
                (erf_f32(x) - e).abs() < 3e-7,
                "erf({x}) = {} vs {e}",
                erf_f32(x)
            );
        }
    }

    /// The fused forward (packed sequences, attention heads in parallel writing
    /// interleaved blocks of one buffer) against candle's `BertModel` run on each
    /// sequence alone, on a small random BERT. No model files needed.
    #[test]
    fn fused_forward_matches_candle_reference() {
        use candle_core::{DType, Device, Tensor};
        // `inter` is whole bf16 panels (64), so the bf16 products run where the CPU has them.
        let (vocab, max_pos, layers, heads, inter) = (97, 80, 2, 12, 192);
        let config: candle_transformers::models::bert::Config =
            serde_json::from_value(serde_json::json!({
                "vocab_size": vocab,
                "hidden_size": HIDDEN,
                "num_hidden_layers": layers,
                "num_attention_heads": heads,
                "intermediate_size": inter,
                "hidden_act": "gelu",
                "hidden_dropout_prob": 0.0,
                "max_position_embeddings": max_pos,
                "type_vocab_size": 2,
                "initializer_range": 0.02,
                "layer_norm_eps": 1e-12,
                "pad_token_id": 0,
                "classifier_dropout": null,
                "model_type": "bert"
            }))
            .unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut map = HashMap::new();
        let mut put = |name: String, dims: &[usize], scale: f32, offset: f32| {
            let n = dims.iter().product();
            let v: Vec<f32> = random(n, scale, &mut seed)
                .into_iter()
                .map(|x| x + offset)
                .collect();
            map.insert(name, Tensor::from_vec(v, dims, &Device::Cpu).unwrap());
        };
        let h = HIDDEN;
        put(
            "embeddings.word_embeddings.weight".into(),
            &[vocab, h],
            1.0,
            0.0,
        );
        put(
            "embeddings.position_embeddings.weight".into(),
            &[max_pos, h],
            0.5,
            0.0,
        );
        put(
            "embeddings.token_type_embeddings.weight".into(),
            &[2, h],
            0.5,
            0.0,
        );
        put("embeddings.LayerNorm.weight".into(), &[h], 0.1, 1.0);
        put("embeddings.LayerNorm.bias".into(), &[h], 0.1, 0.0);
        for i in 0..layers {
            let l = |s: &str| format!("encoder.layer.{i}.{s}");
            for (name, out, inp) in [
                ("attention.self.query", h, h),
                ("attention.self.key", h, h),
                ("attention.self.value", h, h),
                ("attention.output.dense", h, h),
                ("intermediate.dense", inter, h),
                ("output.dense", h, inter),
            ] {
                put(l(&format!("{name}.weight")), &[out, inp], 0.08, 0.0);
                put(l(&format!("{name}.bias")), &[out], 0.1, 0.0);
            }
            for name in ["attention.output.LayerNorm", "output.LayerNorm"] {
                put(l(&format!("{name}.weight")), &[h], 0.1, 1.0);
                put(l(&format!("{name}.bias")), &[h], 0.1, 0.0);
            }
        }
        let fused = FusedBert::load(&map, &config, Precision::F32).unwrap();
        let fast: Vec<FusedBert> = [Precision::Bf16, Precision::Int8]
            .into_iter()
            .map(|p| FusedBert::load(&map, &config, p).unwrap())
            .collect();
        let vb = candle_nn::VarBuilder::from_tensors(map, DType::F32, &Device::Cpu);
        let reference = candle_transformers::models::bert::BertModel::load(vb, &config).unwrap();

        let mut ids_seed = 7u64;
        let seqs: Vec<Vec<u32>> = [1usize, 5, 17, 33, 64, 2, 80]
            .iter()
            .map(|&len| {
                random(len, 1.0, &mut ids_seed)
                    .iter()
                    .map(|x| ((x + 1.0) / 2.0 * (vocab - 1) as f32) as u32)
                    .collect()
            })
            .collect();
        let expected: Vec<Vec<f32>> = seqs
            .iter()
            .map(|q| {
                let ids = Tensor::new(q.as_slice(), &Device::Cpu)
                    .unwrap()
                    .unsqueeze(0)
                    .unwrap();
                let types = ids.zeros_like().unwrap();
                let out = reference.forward(&ids, &types, None).unwrap();
                out.mean(1).unwrap().squeeze(0).unwrap().to_vec1().unwrap()
            })
            .collect();

        let mut scratch = Scratch::default();
        let all: Vec<&[u32]> = seqs.iter().map(|q| q.as_slice()).collect();
        // Twice with other batches in between: the scratch buffers are reused.
        let some: Vec<&[u32]> = all.iter().rev().step_by(2).copied().collect();
        for (batch, threads) in [(&all, 1), (&some, 4), (&all, 4)] {
            let got = fused.forward(batch, threads, &mut scratch).unwrap();
            assert_eq!(got.len(), batch.len());
            for (q, v) in batch.iter().zip(&got) {
                let i = seqs.iter().position(|s| s.as_slice() == *q).unwrap();
                let worst = v
                    .iter()
                    .zip(&expected[i])
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(
                    worst < 2e-3,
                    "sequence {i} ({} tokens): max abs difference {worst}",
                    q.len()
                );
            }
        }
        // bf16 and int8 products: the same vectors up to the rounding of each factor.
        assert_eq!(fused.precision(), Precision::F32);
        let cosine = |a: &[f32], b: &[f32]| {
            let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
            let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
            dot / (norm(a) * norm(b))
        };
        for (model, (want, floor)) in fast
            .iter()
            .zip([(Precision::Bf16, 0.9995), (Precision::Int8, 0.9995)])
        {
            let ran = model.precision();
            assert_eq!(
                ran,
                if want.available() {
                    want
                } else {
                    Precision::F32
                }
            );
            for threads in [1, 4] {
                let got = model.forward(&all, threads, &mut scratch).unwrap();
                for (i, v) in got.iter().enumerate() {
                    let c = cosine(v, &expected[i]);
                    assert!(c > floor, "{ran:?}, sequence {i}: cosine {c}");
                    if ran != Precision::F32 {
                        assert!(c < 0.999_999_9, "{ran:?}, sequence {i}: no rounding seen");
                    }
                }
            }
        }
    }

    #[test]
    fn strided_matmul() {
        // [1 2; 3 4] · [5 6; 7 8]ᵀ (rhs read transposed through strides) + accumulate.
        let lhs = [1.0, 2.0, 3.0, 4.0];
        let rhs = [5.0, 6.0, 7.0, 8.0];
        let mut dst = [1.0, 1.0, 1.0, 1.0];
        matmul(
            &mut dst,
            2,
            &lhs,
            2,
            1,
            &rhs,
            1,
            2,
            2,
            2,
            2,
            1.0,
            gemm::Parallelism::None,
        );
        assert_eq!(dst, [18.0, 24.0, 40.0, 54.0]);
    }
}
