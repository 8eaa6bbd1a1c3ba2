//! Throughput benchmark (not a test).
//!
//! ```sh
//! export TROVE_MODEL_DIR=/root/.cache/trove-model
//! cargo run --release -p trove-embed --example bench_embed -- [--threads 2] [--chunks 500] [--backend fused|bf16|f32|candle] [--queries N] [--peak]
//! ```
//! Embeds deterministic generated chunks of 100–200 words (max 256 tokens, batch 32)
//! and prints chunks/s and peak RSS. Uses mimalloc as the global allocator, as the
//! trove binary should. `--peak`: also the processor's int8 peak (`vpdpbusd` on every
//! thread, nothing but independent products) and the share of it the model's linear
//! layers reached in the run: how much faster the int8 forward could still get.

use std::time::Instant;

use trove_embed::{default_model_dir, Embedder, LocalBackend, LocalMiniLm};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WORDS: &[&str] = &[
    "the",
    "document",
    "index",
    "search",
    "local",
    "knowledge",
    "base",
    "user",
    "note",
    "file",
    "embedding",
    "vector",
    "query",
    "result",
    "page",
    "chapter",
    "garden",
    "river",
    "mountain",
    "engine",
    "worker",
    "thread",
    "database",
    "backup",
    "schedule",
    "invoice",
    "report",
    "meeting",
    "project",
    "deadline",
    "summary",
    "history",
    "science",
    "music",
    "kitchen",
    "recipe",
    "travel",
    "station",
    "library",
    "archive",
    "photograph",
    "letter",
    "contract",
    "customer",
    "market",
    "network",
    "server",
    "memory",
    "storage",
    "quickly",
    "carefully",
    "rarely",
    "often",
    "and",
    "or",
    "but",
    "with",
    "without",
    "because",
    "although",
    "therefore",
    "important",
    "simple",
    "complex",
    "ancient",
    "modern",
    "quiet",
    "bright",
    "heavy",
    "light",
    "runs",
    "keeps",
    "finds",
    "writes",
    "reads",
    "builds",
    "moves",
    "changes",
    "explains",
    "describes",
    "of",
    "in",
    "on",
    "to",
    "from",
    "for",
    "a",
    "an",
    "is",
    "was",
    "will",
    "be",
    "has",
    "had",
    "Zürich",
    "naïve",
    "2024",
];

/// Deterministic pseudo-random chunks (xorshift), 100–200 words each.
pub fn chunks(n: usize) -> Vec<String> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let len = 100 + (next() % 101) as usize;
            let mut s = String::new();
            for w in 0..len {
                if w > 0 {
                    s.push(if next() % 12 == 0 { '.' } else { ' ' });
                    s.push(' ');
                }
                s.push_str(WORDS[(next() % WORDS.len() as u64) as usize]);
            }
            s.push('.');
            s
        })
        .collect()
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// all-MiniLM-L6-v2's shape: the products of its linear layers per token (queries, keys,
/// values and output 384 × 384 each, feed-forward 384 × 1536 and back), six layers.
const LINEAR_MACS_PER_TOKEN: f64 = 6.0 * (4.0 * 384.0 * 384.0 + 2.0 * 384.0 * 1536.0);

/// int8 products per second the processor does with `vpdpbusd` on `threads` threads at
/// once (each thread 12 independent accumulators, enough to hide the instruction's
/// latency), the best of three runs of about half a second, or None without AVX-512 VNNI.
fn vnni_peak(threads: usize) -> Option<f64> {
    if !trove_common::cpu::avx512_vnni() {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[allow(unsafe_code)]
        #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
        unsafe fn spin(rounds: u64) -> i32 {
            use std::arch::x86_64::*;
            let a = _mm512_set1_epi8(3);
            let b = _mm512_set1_epi8(5);
            let mut acc = [_mm512_setzero_si512(); 12];
            for _ in 0..rounds {
                for x in &mut acc {
                    *x = _mm512_dpbusd_epi32(*x, a, b);
                }
            }
            acc.iter().fold(0, |s, x| s ^ _mm512_reduce_add_epi32(*x))
        }
        const ROUNDS: u64 = 100_000_000;
        let best = (0..3)
            .map(|_| {
                let t = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        // SAFETY: the CPU has AVX-512 F, BW and VNNI (checked above).
                        #[allow(unsafe_code)]
                        s.spawn(|| {
                            std::hint::black_box(unsafe { spin(std::hint::black_box(ROUNDS)) })
                        });
                    }
                });
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        Some(threads as f64 * ROUNDS as f64 * 12.0 * 64.0 / best)
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

fn main() {
    let mut threads = 2;
    let mut n = 500;
    let mut backend = LocalBackend::Fused;
    let mut dump: Option<String> = None;
    let mut vectors_out: Option<String> = None;
    let mut queries = 0usize;
    let mut peak = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().unwrap().parse().unwrap(),
            "--chunks" => n = args.next().unwrap().parse().unwrap(),
            "--backend" => {
                backend = match args.next().unwrap().as_str() {
                    "candle" => LocalBackend::Candle,
                    "f32" => LocalBackend::FusedF32,
                    "bf16" => LocalBackend::FusedBf16,
                    _ => LocalBackend::Fused,
                }
            }
            // Write the chunks as JSON (to run Python on the very same texts).
            "--dump" => dump = Some(args.next().unwrap()),
            // Write the vectors as JSON (to compare with Python's on the same texts).
            "--vectors" => vectors_out = Some(args.next().unwrap()),
            // Also time N one-text calls of two words (a search query's embedding).
            "--queries" => queries = args.next().unwrap().parse().unwrap(),
            "--peak" => peak = true,
            other => panic!("unknown argument {other}"),
        }
    }
    let texts = chunks(n);
    if let Some(path) = dump {
        let json = format!(
            "[{}]",
            texts
                .iter()
                .map(|t| format!("{t:?}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        std::fs::write(path, json).unwrap();
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let model =
        LocalMiniLm::with_backend(&default_model_dir(), threads, backend).expect("load model");
    // Warm-up (thread pool, first allocations).
    model.embed(&refs[..8.min(refs.len())]).unwrap();
    let t = Instant::now();
    let out = model.embed(&refs).unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(out.len(), n);
    if let Some(path) = vectors_out {
        let rows: Vec<String> = out
            .iter()
            .map(|v| {
                format!(
                    "[{}]",
                    v.iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
            .collect();
        std::fs::write(path, format!("[{}]", rows.join(","))).unwrap();
    }
    if queries > 0 {
        let mut times: Vec<f64> = (0..queries)
            .map(|i| {
                let q = format!(
                    "{} {}",
                    WORDS[i % WORDS.len()],
                    WORDS[(i * 7 + 3) % WORDS.len()]
                );
                let t = Instant::now();
                model.embed(&[q.as_str()]).unwrap();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let at = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
        println!(
            "queries={queries} (two-word texts) p50={:.2} ms p99={:.2} ms",
            at(0.5),
            at(0.99)
        );
    }
    let words: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    println!(
        "backend={backend:?} threads={threads} chunks={n} avg_words={:.0} time={secs:.2}s \
         throughput={:.1} chunks/s peak_rss={:.0} MB",
        words as f64 / n as f64,
        n as f64 / secs,
        peak_rss_mb()
    );
    if peak {
        let counter = trove_embed::TokenCounter::load(&default_model_dir()).expect("tokenizer");
        // The model reads at most 256 tokens, [CLS] and [SEP] included.
        let tokens: usize = texts
            .iter()
            .map(|t| counter.count(t).min(counter.max_tokens()) + 2)
            .sum();
        let linear = tokens as f64 * LINEAR_MACS_PER_TOKEN / secs;
        match vnni_peak(threads) {
            Some(p) => println!(
                "tokens={tokens} linear-layer products {:.0} GMAC/s over the whole run; \
                 vpdpbusd alone on {threads} threads {:.0} GMAC/s: {:.0} % of that peak",
                linear / 1e9,
                p / 1e9,
                100.0 * linear / p
            ),
            None => println!(
                "tokens={tokens} linear-layer products {:.0} GMAC/s over the whole run; no AVX-512 VNNI",
                linear / 1e9
            ),
        }
    }
}
