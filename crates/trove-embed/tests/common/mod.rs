//! Shared test helpers (included with `mod common;`).
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use trove_embed::{default_model_dir, model_present, LocalMiniLm};

/// The model directory; panics (fails the test) with instructions when the files are missing.
pub fn model_dir() -> PathBuf {
    let dir = default_model_dir();
    assert!(
        model_present(&dir),
        "all-MiniLM-L6-v2 model files not found in {} — run `scripts/fetch-model.sh` \
         (or `scripts/fetch-model.sh DIR` and set TROVE_MODEL_DIR=DIR)",
        dir.display()
    );
    dir
}

/// One model per test binary, 2 compute threads.
pub fn model() -> &'static LocalMiniLm {
    static MODEL: OnceLock<LocalMiniLm> = OnceLock::new();
    MODEL.get_or_init(|| LocalMiniLm::with_threads(&model_dir(), 2).expect("load model"))
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

/// `tests/fixtures/minilm-reference.json`: texts with sentence-transformers' token counts
/// (special tokens included) and vectors.
#[derive(serde::Deserialize)]
pub struct Reference {
    pub items: Vec<Item>,
}

#[derive(serde::Deserialize)]
pub struct Item {
    pub text: String,
    pub tokens_untruncated: usize,
    pub embedding: Vec<f32>,
}

pub fn reference() -> Reference {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/minilm-reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
