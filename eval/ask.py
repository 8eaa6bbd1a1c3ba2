#!/usr/bin/env python3
"""Ask without a chat endpoint over the evaluation library: how often Ask says "I don't
know" to questions the library answers and to off-topic ones, and how often the page that
answers a question is among the numbered passages a model would be given.

    python3 eval/ask.py --trove PATH --db DB [--model-dir DIR]

Runs `trove --json ask` once per question of python-docs/questions.tsv and
python-docs/offtopic.txt on a library run_trove.py has already ingested (chat-url must be
unset: nothing is sent anywhere). Standard library only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import library_run, load_offtopic, load_questions  # noqa: E402
from run_trove import hit_document  # noqa: E402


def ask(trove: str, db: str, question: str, env) -> dict:
    p = subprocess.run(
        [trove, "--db", db, "--json", "ask", "--", question],
        capture_output=True, text=True, env=env, timeout=300,
    )
    if p.returncode != 0:
        raise SystemExit(f"ask failed for {question!r}: {p.stderr.strip()}")
    a = json.loads(p.stdout)
    if a.get("endpoint") is not None:
        raise SystemExit("chat-url is set for this library: unset it (nothing may be sent)")
    return a


def main() -> int:
    args, env = library_run(__doc__.splitlines()[0])
    env.pop("TROVE_CHAT_URL", None)

    by_kind: dict[str, list[tuple[bool, bool]]] = {}
    for q in load_questions(args.questions):
        a = ask(args.trove, args.db, q.question, env)
        docs = [hit_document(p) for p in a["passages"]]
        by_kind.setdefault(q.kind, []).append((bool(a["relevant"]), q.target in docs))
    off_q = load_offtopic(args.offtopic)
    off = [bool(ask(args.trove, args.db, q, env)["relevant"]) for q in off_q]

    print("questions            answered (not \"I don't know\")   right page among the passages")
    everything = [r for rows in by_kind.values() for r in rows]
    for kind, rows in [*sorted(by_kind.items()), ("all", everything)]:
        n = len(rows)
        rel = sum(r for r, _ in rows)
        hit = sum(h for _, h in rows)
        print(f"{kind:<12} {n:4d}    {rel:4d} ({100 * rel / n:5.1f}%)                     "
              f"{hit:4d} ({100 * hit / n:5.1f}%)")
    print(f"off-topic    {len(off):4d}    {sum(off):4d} answered, {len(off) - sum(off)} \"I don't know\"")
    return 0


if __name__ == "__main__":
    sys.exit(main())
