"""Shared pieces of the retrieval evaluation: questions, metrics, tables, JSON.

Used by reference.py (the Python baseline) and run_trove.py (Trove itself), so both score
the same way. Standard library only.

Metrics are at the DOCUMENT level: each question has exactly one target page, a ranking is
a list of document names (file names relative to the corpus folder, e.g. ``bisect.html``),
each at most once, best first.

- MRR@10: 1/rank of the target if it is in the first 10 documents, else 0; averaged.
- Recall@5: 1 if the target is in the first 5 documents, else 0; averaged (with one relevant
  document per question this is the hit rate at 5).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from dataclasses import dataclass
from typing import Iterable, Sequence

KINDS = ("lexical", "paraphrase")
MRR_DEPTH = 10
RECALL_DEPTH = 5
HEADER = ["id", "kind", "target", "question"]


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    target: str
    question: str


def load_questions(path: str, corpus: str | None = None) -> list[Question]:
    """Read questions.tsv (``id<TAB>kind<TAB>target<TAB>question`` with a header line).

    Checks the header, the kinds, unique ids, and (if ``corpus`` is given) that every target
    file exists there. Raises ValueError with every problem found."""
    problems: list[str] = []
    questions: list[Question] = []
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or [c.strip() for c in rows[0]] != HEADER:
        raise ValueError(f"{path}: the first line must be {'<TAB>'.join(HEADER)}")
    seen: set[str] = set()
    for n, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 4:
            problems.append(f"line {n}: {len(row)} columns, want 4")
            continue
        qid, kind, target, text = (c.strip() for c in row)
        if kind not in KINDS:
            problems.append(f"line {n}: kind {kind!r} is not one of {', '.join(KINDS)}")
        if qid in seen:
            problems.append(f"line {n}: duplicate id {qid!r}")
        seen.add(qid)
        if not text:
            problems.append(f"line {n}: empty question")
        if corpus is not None and not os.path.isfile(os.path.join(corpus, target)):
            problems.append(f"line {n}: target {target!r} not found in {corpus}")
        questions.append(Question(qid, kind, target, text))
    if problems:
        raise ValueError(f"{path}:\n  " + "\n  ".join(problems))
    if not questions:
        raise ValueError(f"{path}: no questions")
    return questions


def library_run(description: str) -> tuple[argparse.Namespace, dict[str, str]]:
    """Arguments of the scripts that query an already built library through the CLI
    (``--trove``, ``--db``, ``--model-dir``, ``--questions``, ``--offtopic``) and the
    environment to run ``trove`` in (``TROVE_MODEL_DIR`` set from ``--model-dir``)."""
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--trove", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--model-dir")
    ap.add_argument("--questions", default=os.path.join(here, "python-docs", "questions.tsv"))
    ap.add_argument("--offtopic", default=os.path.join(here, "python-docs", "offtopic.txt"))
    args = ap.parse_args()
    env = dict(os.environ)
    if args.model_dir:
        env["TROVE_MODEL_DIR"] = args.model_dir
    return args, env


def load_offtopic(path: str) -> list[str]:
    """The off-topic questions: one a line, blank lines skipped."""
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def doc_ranking(docs_in_order: Iterable[str], depth: int = MRR_DEPTH) -> list[str]:
    """Documents in order of first appearance (a chunk ranking mapped to its documents, or
    hits already grouped per document), cut at ``depth``."""
    out: list[str] = []
    seen: set[str] = set()
    for d in docs_in_order:
        if d in seen:
            continue
        seen.add(d)
        out.append(d)
        if len(out) >= depth:
            break
    return out


def target_rank(ranking: Sequence[str], target: str) -> int | None:
    """1-based rank of ``target`` in a document ranking, or None."""
    try:
        return ranking.index(target) + 1
    except ValueError:
        return None


def question_scores(rank: int | None) -> dict[str, float]:
    """The per-question metric values for a target at ``rank`` (None: not found)."""
    return {
        f"mrr@{MRR_DEPTH}": (1.0 / rank) if rank is not None and rank <= MRR_DEPTH else 0.0,
        f"recall@{RECALL_DEPTH}": 1.0 if rank is not None and rank <= RECALL_DEPTH else 0.0,
    }


def evaluate(
    questions: Sequence[Question], rankings: dict[str, dict[str, list[str]]]
) -> dict:
    """Score every mode.

    ``rankings[mode][question_id]`` is that question's document ranking (best first).
    A question missing from a mode (an error) scores 0 there and is counted in ``errors``.

    Returns ``{"summary": {mode: {group: {"mrr@10", "recall@5", "n"}}},
    "per_question": [...]}`` where group is ``all``, ``lexical`` or ``paraphrase``."""
    summary: dict[str, dict[str, dict[str, float]]] = {}
    per_question: list[dict] = []
    for q in questions:
        entry = {"id": q.id, "kind": q.kind, "target": q.target, "question": q.question, "modes": {}}
        for mode, by_q in rankings.items():
            ranking = by_q.get(q.id)
            rank = target_rank(ranking, q.target) if ranking is not None else None
            entry["modes"][mode] = {
                "rank": rank,
                "top5": (ranking or [])[:RECALL_DEPTH],
                "error": ranking is None,
            }
        per_question.append(entry)
    for mode, by_q in rankings.items():
        groups: dict[str, dict[str, float]] = {}
        for group in ("all",) + KINDS:
            qs = [q for q in questions if group == "all" or q.kind == group]
            if not qs:
                continue
            totals = {f"mrr@{MRR_DEPTH}": 0.0, f"recall@{RECALL_DEPTH}": 0.0}
            errors = 0
            for q in qs:
                ranking = by_q.get(q.id)
                if ranking is None:
                    errors += 1
                    rank = None
                else:
                    rank = target_rank(ranking, q.target)
                for k, v in question_scores(rank).items():
                    totals[k] += v
            groups[group] = {k: v / len(qs) for k, v in totals.items()}
            groups[group]["n"] = len(qs)
            if errors:
                groups[group]["errors"] = errors
        summary[mode] = groups
    return {"summary": summary, "per_question": per_question}


def format_table(summary: dict, title: str = "") -> str:
    """The results table both scripts print: one row per mode, MRR@10 and Recall@5 overall
    and per kind."""
    groups = ("all",) + KINDS
    counts = {}
    for mode_groups in summary.values():
        for g in groups:
            if g in mode_groups:
                counts[g] = int(mode_groups[g]["n"])
    head1 = f"{'mode':<10}"
    head2 = f"{'':<10}"
    for g in groups:
        label = f"{g} (n={counts.get(g, 0)})"
        head1 += f" | {label:^17}"
        head2 += f" | {'MRR@10':>8} {'R@5':>8}"
    lines = []
    if title:
        lines.append(title)
    lines += [head1, head2, "-" * len(head1)]
    for mode, mode_groups in summary.items():
        row = f"{mode:<10}"
        for g in groups:
            m = mode_groups.get(g)
            if m is None:
                row += f" | {'-':>8} {'-':>8}"
            else:
                row += f" | {m[f'mrr@{MRR_DEPTH}']:>8.3f} {m[f'recall@{RECALL_DEPTH}']:>8.3f}"
        errs = mode_groups.get("all", {}).get("errors")
        if errs:
            row += f"   ({errs} error(s))"
        lines.append(row)
    return "\n".join(lines)


def format_misses(per_question: list[dict], mode: str, limit: int = 200) -> str:
    """A short list of the questions whose target was not in a mode's top 5."""
    lines = []
    for e in per_question:
        m = e["modes"].get(mode)
        if m is None or (m["rank"] is not None and m["rank"] <= RECALL_DEPTH):
            continue
        where = "error" if m["error"] else (f"rank {m['rank']}" if m["rank"] else "not in top 10")
        lines.append(
            f"  {e['id']:<5} {e['kind']:<10} {e['target']:<28} {where:<14} "
            f"top: {', '.join(m['top5'][:3])}  | {e['question']}"
        )
        if len(lines) >= limit:
            break
    return "\n".join(lines)


def write_json(path: str, payload: dict) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=2, ensure_ascii=False)
        f.write("\n")


def eprint(*args) -> None:
    print(*args, file=sys.stderr, flush=True)
