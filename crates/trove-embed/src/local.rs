//! all-MiniLM-L6-v2 on the CPU.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::fused::{FusedBert, Precision, Scratch};
use crate::{l2_normalize, EmbedError, Embedder};

/// Files [`LocalMiniLm::load`] reads from the model directory.
pub(crate) const REQUIRED_FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

/// sentence-transformers' `max_seq_length` for this model (the shipped tokenizer.json says
/// 128, which would silently cut longer chunks: it is overridden).
pub(crate) const MAX_TOKENS: usize = 256;
/// Sequences per forward pass.
pub(crate) const BATCH: usize = 32;
const MODEL_ID: &str = "local:all-MiniLM-L6-v2";

/// sentence-transformers/all-MiniLM-L6-v2 (384 dims) in-process: BERT forward, mean
/// pooling over the attention mask, L2 normalisation; at most 256 tokens per text
/// (longer texts are truncated, like sentence-transformers does).
///
/// Texts are tokenised, sorted by length and run in batches of 32 (the default fused
/// backend packs them without padding; the candle backend pads to the batch's longest
/// sequence). Results are returned in input order and do not depend on the batch they
/// ran in. Concurrent `embed` calls on one instance are serialised (one runs at a
/// time on the instance's thread pool).
pub struct LocalMiniLm {
    tokenizer: Tokenizer,
    engine: Engine,
    dims: usize,
    threads: usize,
    pool: rayon::ThreadPool,
    /// Serialises `embed` calls and holds the fused backend's reusable buffers. Taken
    /// *before* entering the pool: a lock taken inside rayon work can deadlock when a
    /// waiting worker steals another caller's job that wants the same lock.
    scratch: Mutex<Scratch>,
}

/// How [`LocalMiniLm`] computes the BERT forward pass. `FusedF32` and `Candle` give the
/// same vectors (cosine ≥ 0.99999 to each other and to sentence-transformers); bf16
/// products stay within 0.9999 of them, int8 products within 0.997 on real text
/// (BENCHMARKS.md, "Embedding speed").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LocalBackend {
    /// Hand-fused forward: no padding, no copies (the default), its linear layers in
    /// the fastest arithmetic the CPU has: int8 with AVX512-VNNI, else bf16 with
    /// AVX512-BF16, else `f32` (see BENCHMARKS.md for speed and agreement).
    #[default]
    Fused,
    /// The fused forward with bf16 products (`f32` where the CPU lacks AVX512-BF16).
    FusedBf16,
    /// The fused forward with `f32` products everywhere (the `gemm` crate).
    FusedF32,
    /// candle-transformers' `BertModel`, padded to the batch's longest sequence (reference).
    Candle,
}

enum Engine {
    Fused(Box<FusedBert>),
    Candle(Box<BertModel>),
}

impl std::fmt::Debug for LocalMiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalMiniLm")
            .field("dims", &self.dims)
            .field("threads", &self.threads)
            .field(
                "backend",
                &match self.engine {
                    Engine::Fused(ref m) => match m.precision() {
                        Precision::F32 => LocalBackend::FusedF32,
                        Precision::Bf16 => LocalBackend::FusedBf16,
                        Precision::Int8 => LocalBackend::Fused,
                    },
                    Engine::Candle(_) => LocalBackend::Candle,
                },
            )
            .finish_non_exhaustive()
    }
}

impl LocalMiniLm {
    /// Loads the model from `dir` (see [`crate::default_model_dir`]); computes on as many
    /// threads as the machine has cores.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Self::with_threads(dir, threads)
    }

    /// Like [`LocalMiniLm::load`] with a dedicated pool of `threads` compute threads
    /// (at least 1), e.g. to leave cores to the UI.
    pub fn with_threads(dir: &Path, threads: usize) -> Result<Self, EmbedError> {
        Self::with_backend(dir, threads, LocalBackend::default())
    }

    /// Like [`LocalMiniLm::with_threads`], choosing the compute backend.
    pub fn with_backend(
        dir: &Path,
        threads: usize,
        backend: LocalBackend,
    ) -> Result<Self, EmbedError> {
        if !crate::model_present(dir) {
            return Err(EmbedError::ModelMissing {
                dir: dir.to_path_buf(),
            });
        }
        let load_err = |message: String| EmbedError::ModelLoad {
            dir: dir.to_path_buf(),
            message,
        };
        let config: Config = serde_json::from_slice(
            &std::fs::read(dir.join("config.json"))
                .map_err(|e| load_err(format!("config.json: {e}")))?,
        )
        .map_err(|e| load_err(format!("config.json: {e}")))?;
        let tokenizer = load_tokenizer(&dir.join("tokenizer.json")).map_err(load_err)?;
        let weights = dir.join("model.safetensors");
        // SAFETY-free path: read the file instead of mmapping it (90 MB, once).
        let bytes =
            std::fs::read(&weights).map_err(|e| load_err(format!("model.safetensors: {e}")))?;
        let engine = match backend {
            LocalBackend::Candle => {
                let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu)
                    .map_err(|e| load_err(format!("model.safetensors: {e}")))?;
                let model = BertModel::load(vb, &config).map_err(|e| load_err(e.to_string()))?;
                Engine::Candle(Box::new(model))
            }
            LocalBackend::Fused | LocalBackend::FusedBf16 | LocalBackend::FusedF32 => {
                let map = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
                    .map_err(|e| load_err(format!("model.safetensors: {e}")))?;
                let precision = match backend {
                    LocalBackend::FusedF32 => Precision::F32,
                    LocalBackend::FusedBf16 if Precision::Bf16.available() => Precision::Bf16,
                    LocalBackend::FusedBf16 => Precision::F32,
                    _ => Precision::fastest(),
                };
                let model = FusedBert::load(&map, &config, precision).map_err(load_err)?;
                tracing::info!(
                    "embedding model loaded from {}: {:?} products (asked for {:?})",
                    dir.display(),
                    model.precision(),
                    precision
                );
                Engine::Fused(Box::new(model))
            }
        };
        let threads = threads.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("trove-embed-{i}"))
            .build()
            .map_err(|e| load_err(format!("thread pool: {e}")))?;
        Ok(Self {
            tokenizer,
            engine,
            dims: config.hidden_size,
            threads,
            pool,
            scratch: Mutex::new(Scratch::default()),
        })
    }

    /// Token ids of each text (special tokens included, truncated to 256).
    fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        Ok(encodings
            .into_iter()
            .map(|e| e.get_ids().to_vec())
            .collect())
    }

    /// Runs one batch (already sorted by length) padded to its longest sequence.
    fn forward_batch(
        &self,
        batch: &[&[u32]],
        scratch: &mut Scratch,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let model = match &self.engine {
            Engine::Candle(model) => model,
            Engine::Fused(model) => {
                let mut out = model
                    .forward(batch, self.threads, scratch)
                    .map_err(EmbedError::Inference)?;
                out.iter_mut().for_each(|v| l2_normalize(v));
                return Ok(out);
            }
        };
        let inf = |e: candle_core::Error| EmbedError::Inference(e.to_string());
        let n = batch.len();
        let len = batch.iter().map(|ids| ids.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0u32; n * len];
        let mut mask = vec![0u32; n * len];
        for (row, seq) in batch.iter().enumerate() {
            ids[row * len..row * len + seq.len()].copy_from_slice(seq);
            mask[row * len..row * len + seq.len()].fill(1);
        }
        let ids = Tensor::from_vec(ids, (n, len), &Device::Cpu).map_err(inf)?;
        let mask = Tensor::from_vec(mask, (n, len), &Device::Cpu).map_err(inf)?;
        let types = ids.zeros_like().map_err(inf)?;
        let hidden = model.forward(&ids, &types, Some(&mask)).map_err(inf)?;
        // Mean pooling over real tokens.
        let maskf = mask
            .to_dtype(DType::F32)
            .map_err(inf)?
            .unsqueeze(2)
            .map_err(inf)?;
        let summed = hidden
            .broadcast_mul(&maskf)
            .map_err(inf)?
            .sum(1)
            .map_err(inf)?;
        let counts = maskf.sum(1).map_err(inf)?;
        let pooled = summed.broadcast_div(&counts).map_err(inf)?;
        let mut out: Vec<Vec<f32>> = pooled.to_vec2().map_err(inf)?;
        out.iter_mut().for_each(|v| l2_normalize(v));
        Ok(out)
    }
}

/// Counts a text's tokens as the local model's tokenizer splits them, without truncation
/// and without the two special tokens every text gets: what a chunker needs to keep a chunk
/// inside the [`TokenCounter::max_tokens`] the model reads.
pub struct TokenCounter {
    tokenizer: Tokenizer,
}

impl TokenCounter {
    /// The tokenizer of the model in `dir` (only tokenizer.json is read).
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&path).map_err(|e| EmbedError::ModelLoad {
            dir: dir.to_path_buf(),
            message: format!("{}: {e}", path.display()),
        })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        Ok(Self { tokenizer })
    }

    /// Tokens of a text the model reads, special tokens not counted (256 minus [CLS] and
    /// [SEP]).
    pub fn max_tokens(&self) -> usize {
        MAX_TOKENS - 2
    }

    /// Tokens of `text` (special tokens not counted). A text the tokenizer refuses counts
    /// as one token per byte, which never undercounts.
    pub fn count(&self, text: &str) -> usize {
        self.tokenizer
            .encode(text, false)
            .map_or(text.len(), |e| e.get_ids().len())
    }
}

/// tokenizer.json with sentence-transformers' settings: truncation at 256 tokens, no
/// fixed padding (the shipped file pads and truncates to 128).
pub(crate) fn load_tokenizer(path: &PathBuf) -> Result<Tokenizer, String> {
    let mut tokenizer =
        Tokenizer::from_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MAX_TOKENS,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
            direction: TruncationDirection::Right,
        }))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(tokenizer)
}

impl Embedder for LocalMiniLm {
    fn model_id(&self) -> &str {
        MODEL_ID
    }

    fn dims(&self) -> usize {
        self.dims
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut scratch = self.scratch.lock().unwrap_or_else(|e| e.into_inner());
        let scratch = &mut *scratch;
        self.pool.install(|| {
            let tokens = self.tokenize(texts)?;
            // Longest first, so each batch is padded to a length close to its members'.
            let mut order: Vec<usize> = (0..texts.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].len()));
            let mut out = vec![Vec::new(); texts.len()];
            for chunk in order.chunks(BATCH) {
                let batch: Vec<&[u32]> = chunk.iter().map(|&i| tokens[i].as_slice()).collect();
                let vectors = self.forward_batch(&batch, scratch)?;
                for (&i, v) in chunk.iter().zip(vectors) {
                    out[i] = v;
                }
            }
            Ok(out)
        })
    }
}
