//! LocalMiniLm against sentence-transformers' reference vectors, batch invariance,
//! semantic sanity. Needs the model files (scripts/fetch-model.sh, TROVE_MODEL_DIR).

mod common;

use common::{cosine, model, reference};
use trove_embed::Embedder;

#[test]
fn matches_sentence_transformers_reference() {
    let reference = reference();
    assert!(reference.items.len() >= 11);
    assert!(
        reference
            .items
            .iter()
            .any(|i| i.tokens_untruncated > 128 && i.tokens_untruncated <= 256),
        "fixture must hold an item between 128 and 256 tokens"
    );
    let m = model();
    assert_eq!(m.dims(), 384);
    assert_eq!(m.model_id(), "local:all-MiniLM-L6-v2");
    let texts: Vec<&str> = reference.items.iter().map(|i| i.text.as_str()).collect();
    // All at once (one batch, mixed lengths) and each alone.
    let together = m.embed(&texts).unwrap();
    assert_eq!(together.len(), texts.len());
    let mut min = f32::MAX;
    for (item, got) in reference.items.iter().zip(&together) {
        assert_eq!(got.len(), 384);
        let norm: f32 = got.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "not normalised: {norm}");
        let alone = &m.embed(&[item.text.as_str()]).unwrap()[0];
        for (how, v) in [("batched", got), ("alone", alone)] {
            let c = cosine(v, &item.embedding);
            println!(
                "{how:8} tokens={:4} cos={c:.8} {:?}",
                item.tokens_untruncated,
                item.text.chars().take(40).collect::<String>()
            );
            // The default backend multiplies in int8 or bf16 where the CPU can: every
            // text within the 0.995 (≥ 0.998 on an AVX512-VNNI CPU) but the empty
            // one (0.9938), which Trove never embeds (chunks are never empty, an empty
            // query does not search by meaning). The f32 products are held to 0.99999 in
            // `fused_and_candle_backends_agree`.
            let floor = if item.text.is_empty() { 0.99 } else { 0.995 };
            assert!(
                c >= floor,
                "{how}: cosine {c} < {floor} for {:?} ({} tokens)",
                item.text,
                item.tokens_untruncated
            );
            min = min.min(c);
        }
    }
    println!("minimum cosine vs sentence-transformers: {min:.8}");
}

#[test]
fn batch_invariance() {
    let m = model();
    let short = "Backups run every night at two.";
    let long = "The quarterly report covers revenue, churn, hiring and the infrastructure \
                migration. "
        .repeat(20);
    let medium = "A second, medium length sentence about the garden and its vegetables, \
                  tomatoes mostly.";
    let alone = m.embed(&[short]).unwrap().remove(0);
    let mut texts: Vec<&str> = vec![long.as_str(), medium, short, long.as_str()];
    // More than one batch too.
    let filler: Vec<String> = (0..40)
        .map(|i| format!("filler sentence number {i} about nothing in particular"))
        .collect();
    texts.extend(filler.iter().map(String::as_str));
    let batched = m.embed(&texts).unwrap();
    assert_eq!(batched.len(), texts.len());
    let c = cosine(&alone, &batched[2]);
    println!("alone vs batched cosine {c:.8}");
    assert!(c >= 0.9999, "cosine {c}");
    assert!(cosine(&batched[0], &batched[3]) >= 0.9999);
    // Output order follows input order.
    assert!(cosine(&batched[1], &m.embed(&[medium]).unwrap()[0]) >= 0.9999);
    assert!(cosine(&batched[2], &batched[0]) < 0.9);
    assert!(m.embed(&[]).unwrap().is_empty());
}

#[test]
fn semantic_sanity_paraphrase_ranks_first() {
    let m = model();
    // The query shares no word with its target.
    let query = "How do I fix a flat bicycle tyre?";
    let docs = [
        "Quarterly earnings rose thanks to strong cloud revenue.",
        "Repairing a punctured bike tire: remove the wheel, patch the inner tube, reinflate.",
        "The recipe needs two eggs, flour and a pinch of salt.",
        "Parliament passed the new budget after a long debate.",
        "Our cat sleeps most of the afternoon on the sofa.",
    ];
    let q = m.embed(&[query]).unwrap().remove(0);
    let d = m.embed(&docs).unwrap();
    let scores: Vec<f32> = d.iter().map(|v| cosine(&q, v)).collect();
    println!("scores {scores:?}");
    let best = scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(best, 1, "scores {scores:?}");
    assert!(
        scores[1]
            - scores
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != 1)
                .map(|(_, s)| *s)
                .fold(f32::MIN, f32::max)
            > 0.1
    );
}

#[test]
fn missing_model_is_a_clear_error() {
    let dir = std::env::temp_dir().join("trove-embed-no-model-here");
    let err = trove_embed::LocalMiniLm::load(&dir).unwrap_err();
    assert!(
        matches!(err, trove_embed::EmbedError::ModelMissing { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("fetch-model.sh"));
}

#[test]
fn fused_and_candle_backends_agree() {
    use trove_embed::{LocalBackend, LocalMiniLm};
    let candle = LocalMiniLm::with_backend(&common::model_dir(), 2, LocalBackend::Candle).unwrap();
    let reference = reference();
    let mut texts: Vec<&str> = reference.items.iter().map(|i| i.text.as_str()).collect();
    let extra: Vec<String> = (0..30).map(|i| "word ".repeat(i * 9 + 1)).collect();
    texts.extend(extra.iter().map(String::as_str));
    let f32s = LocalMiniLm::with_backend(&common::model_dir(), 2, LocalBackend::FusedF32).unwrap();
    let b = candle.embed(&texts).unwrap();
    // The empty text is held apart: see `matches_sentence_transformers_reference`.
    let min = |a: &[Vec<f32>]| {
        a.iter()
            .zip(&b)
            .zip(&texts)
            .filter(|(_, t)| !t.is_empty())
            .map(|((x, y), _)| cosine(x, y))
            .fold(f32::MAX, f32::min)
    };
    let exact = min(&f32s.embed(&texts).unwrap());
    println!("fused f32 vs candle minimum cosine {exact:.8}");
    assert!(exact >= 0.99999, "{exact}");
    // The default: int8/bf16 products where the CPU has them (the bar: 0.995).
    let fast = min(&model().embed(&texts).unwrap());
    println!("fused (default) vs candle minimum cosine {fast:.8}");
    assert!(fast >= 0.995, "{fast}");
}

#[test]
fn concurrent_callers_do_not_deadlock() {
    // Regression: a lock taken inside the rayon pool deadlocked when several threads
    // called embed at once (a waiting worker stole another caller's job).
    let m = model();
    let want = m.embed(&["concurrency check"]).unwrap().remove(0);
    let (tx, rx) = std::sync::mpsc::channel();
    for i in 0..6 {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let texts: Vec<String> = (0..40)
                .map(|j| format!("thread {i} text {j} about trains"))
                .collect();
            let mut refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            refs.push("concurrency check");
            let out = model().embed(&refs).unwrap();
            tx.send(out.last().unwrap().clone()).unwrap();
        });
    }
    drop(tx);
    for _ in 0..6 {
        let v = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("concurrent embed calls did not finish (deadlock?)");
        assert!(cosine(&v, &want) >= 0.9999);
    }
}

/// The .deb ships the model in half precision (scripts/model-f16.py): loaded from that copy,
/// the vectors of the reference texts stay within cosine 0.995 of sentence-transformers'.
#[test]
fn the_half_precision_copy_in_the_package_matches_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/model-f16.py");
    let st = std::process::Command::new("python3")
        .arg(script)
        .arg(common::model_dir())
        .arg(dir.path())
        .status()
        .expect("python3 runs scripts/model-f16.py");
    assert!(st.success());
    let f32_size = std::fs::metadata(common::model_dir().join("model.safetensors"))
        .unwrap()
        .len();
    let f16_size = std::fs::metadata(dir.path().join("model.safetensors"))
        .unwrap()
        .len();
    assert!(
        f16_size * 2 < f32_size + 1_000_000,
        "{f16_size} is not half of {f32_size}"
    );
    let half = trove_embed::LocalMiniLm::with_threads(dir.path(), 2).expect("load the f16 copy");
    let reference = reference();
    let texts: Vec<&str> = reference.items.iter().map(|i| i.text.as_str()).collect();
    let got = half.embed(&texts).unwrap();
    let mut min = f32::MAX;
    for (item, v) in reference.items.iter().zip(&got) {
        let c = cosine(v, &item.embedding);
        // f16 weights, then int8 or bf16 products where the CPU has them; the empty text
        // is held apart (see `matches_sentence_transformers_reference`).
        if item.text.is_empty() {
            assert!(c >= 0.99, "f16 copy: cosine {c} for the empty text");
        } else {
            min = min.min(c);
        }
    }
    println!("minimum cosine, f16 copy vs sentence-transformers: {min:.6}");
    assert!(min >= 0.995, "f16 copy: minimum cosine {min}");
}
