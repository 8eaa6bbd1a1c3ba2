//! Trove's text embeddings, computed in-process and offline.
//!
//! * [`LocalMiniLm`]: sentence-transformers/all-MiniLM-L6-v2 (384 dims) on the CPU from
//!   files on disk (fetch them with `scripts/fetch-model.sh`). Default backend: a fused
//!   BERT forward without padding ([`LocalBackend::Fused`]) whose linear layers run in
//!   the fastest arithmetic the CPU has: int8 (`vpdpbusd`, AVX512-VNNI), else bf16
//!   (`vdpbf16ps`, AVX512-BF16), else `f32` on candle's `gemm` kernels
//!   ([`LocalBackend::FusedF32`], which reproduces sentence-transformers to cosine
//!   ≥ 0.9999999; candle-transformers' `BertModel` is kept as [`LocalBackend::Candle`]).
//!   Measured on an AMD EPYC (Zen 4) VM, 2 threads, 500 chunks of 100–200 words (171
//!   tokens average), mimalloc: int8 ≈ 100 chunks/s (cosine to PyTorch ≥ 0.9977), bf16
//!   ≈ 70 (≥ 0.99997), f32 ≈ 45, PyTorch sentence-transformers ≈ 31 in the same session
//!   (`examples/bench_embed.rs`, `examples/bench_st.py`; BENCHMARKS.md).
//! * [`OpenAiCompatible`]: any server speaking the OpenAI `/v1/embeddings` API
//!   (Ollama, llama.cpp server, vLLM, OpenAI itself), with a client-side rate limit.
//!
//! Every [`Embedder`] returns L2-normalised vectors, so cosine similarity is a dot
//! product. The embedding-cache key is `(model_id, text_hash(text))`.
//!
//! This library never sets a global allocator. Binaries should: mimalloc made the local
//! model about 1.5× faster here (`#[global_allocator] static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;`).

use std::path::{Path, PathBuf};
use std::time::Duration;

mod bf16;
pub mod chat;
mod fused;
mod int8;
mod local;
mod openai;
mod ratelimit;
#[cfg(test)]
mod test_util;

pub use local::{LocalBackend, LocalMiniLm, TokenCounter};
pub use openai::{check_api_url, check_base_url, OpenAiCompatible, OpenAiConfig};

/// Errors of every embedder. [`EmbedError::is_transient`] tells a caller whether to
/// retry the same input later (after [`EmbedError::retry_after`] if given).
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The local model files are not in `dir`.
    #[error(
        "embedding model files not found in {dir} (need model.safetensors, tokenizer.json, config.json); reinstall Trove's package, run scripts/fetch-model.sh from a checkout, or set TROVE_MODEL_DIR"
    )]
    ModelMissing { dir: PathBuf },
    /// The local model files exist but could not be loaded.
    #[error("cannot load embedding model from {dir}: {message}")]
    ModelLoad { dir: PathBuf, message: String },
    /// Tokenisation failed.
    #[error("tokenizer error: {0}")]
    Tokenizer(String),
    /// The tensor computation failed.
    #[error("inference error: {0}")]
    Inference(String),
    /// Retry later: rate limited (HTTP 429), server error (5xx), timeout, connection failure.
    /// `message` is a whole sentence naming the service, without credentials.
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Retrying the same request will not help: bad API key, bad request, bad response.
    /// `message` is a whole sentence naming the service, without credentials.
    #[error("{message}")]
    Permanent { message: String },
    /// The provider's settings are unusable (e.g. a plain `http://` address of another
    /// computer); nothing was sent. `message` is a whole sentence, without credentials.
    #[error("{message}")]
    Config { message: String },
}

impl EmbedError {
    /// True when the same call may succeed later.
    pub fn is_transient(&self) -> bool {
        matches!(self, EmbedError::Transient { .. })
    }

    /// The delay the provider asked for (e.g. HTTP `Retry-After`), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            EmbedError::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A text-embedding model. Implementations are blocking: call them from a worker thread.
pub trait Embedder: Send + Sync {
    /// Stable identity of the model, part of the embedding-cache key:
    /// `"local:all-MiniLM-L6-v2"`, `"openai:<model>@<host>"`.
    fn model_id(&self) -> &str;
    /// Length of every returned vector.
    fn dims(&self) -> usize;
    /// One L2-normalised vector per input text, in input order. Batches internally.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Where the local model lives, first found of:
/// 1. `$TROVE_MODEL_DIR` if set (used as given, present or not);
/// 2. the user's copy, `$XDG_DATA_HOME/trove/models/all-MiniLM-L6-v2` (XDG_DATA_HOME
///    defaulting to `~/.local/share`), as `scripts/fetch-model.sh` writes it;
/// 3. the copy installed with the program: `<exe dir>/../share/trove/models/all-MiniLM-L6-v2`
///    (`/usr/share/trove/…` for `/usr/bin/trove`, as the .deb lays it out).
///
/// When none holds the model, the user's location (2), for the error message.
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TROVE_MODEL_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let user = user_model_dir();
    if model_present(&user) {
        return user;
    }
    match installed_model_dir() {
        Some(dir) if model_present(&dir) => dir,
        _ => user,
    }
}

/// The model in the user's data directory.
fn user_model_dir() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|d| !d.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("share"))
        })
        .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("trove").join(MODEL_SUBDIR)
}

const MODEL_SUBDIR: &str = "models/all-MiniLM-L6-v2";

/// The model shipped beside the running program (`<prefix>/bin/trove` →
/// `<prefix>/share/trove/models/all-MiniLM-L6-v2`), symlinks to the binary resolved.
pub fn installed_model_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?.canonicalize().ok()?;
    let prefix = exe.parent()?.parent()?;
    Some(prefix.join("share").join("trove").join(MODEL_SUBDIR))
}

/// True when `dir` holds the files [`LocalMiniLm::load`] needs.
pub fn model_present(dir: &Path) -> bool {
    local::REQUIRED_FILES.iter().all(|f| dir.join(f).is_file())
}

/// Lower-case hex SHA-256 of the UTF-8 text.
pub fn text_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Scales `v` to unit L2 norm (leaves an all-zero vector alone).
pub(crate) fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_hash_is_sha256_hex() {
        assert_eq!(
            text_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            text_hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn error_classification() {
        let t = EmbedError::Transient {
            message: "429".into(),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert!(t.is_transient());
        assert_eq!(t.retry_after(), Some(Duration::from_secs(3)));
        let p = EmbedError::Permanent {
            message: "401".into(),
        };
        assert!(!p.is_transient());
        assert_eq!(p.retry_after(), None);
        let m = EmbedError::ModelMissing {
            dir: PathBuf::from("/nope"),
        };
        assert!(!m.is_transient());
        assert!(m.to_string().contains("scripts/fetch-model.sh"));
    }

    #[test]
    fn model_present_needs_all_files() {
        let dir = std::env::temp_dir().join(format!("trove-embed-mp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(!model_present(&dir));
        for f in local::REQUIRED_FILES {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        assert!(model_present(&dir));
        std::fs::remove_file(dir.join("tokenizer.json")).unwrap();
        assert!(!model_present(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn normalize() {
        let mut v = vec![3.0, 4.0];
        l2_normalize(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
        let mut z = vec![0.0, 0.0];
        l2_normalize(&mut z);
        assert_eq!(z, vec![0.0, 0.0]);
    }
}
