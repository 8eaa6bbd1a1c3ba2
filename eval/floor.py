#!/usr/bin/env python3
"""Where the semantic leg's relevance floor should sit: the cosine similarity of the best
passage for questions the library answers (the evaluation questions) against questions it
cannot (python-docs/offtopic.txt), on a library run_trove.py has already ingested.

    python3 eval/floor.py --trove PATH --db DB [--model-dir DIR]

Prints both distributions (min / quartiles / max), and for candidate floors how many
answerable questions would lose their best hit and how many off-topic ones would still show
"close" matches. Standard library only.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import library_run, load_offtopic, load_questions  # noqa: E402


def top_similarity(trove: str, db: str, query: str, env) -> tuple[float | None, bool]:
    p = subprocess.run(
        [trove, "--db", db, "--json", "search", "--mode", "semantic", "--limit", "1", "--", query],
        capture_output=True, text=True, env=env, timeout=120,
    )
    if p.returncode != 0:
        raise SystemExit(f"search failed for {query!r}: {p.stderr.strip()}")
    r = json.loads(p.stdout)
    hits = r.get("hits") or []
    sim = hits[0].get("similarity") if hits else None
    return sim, bool(r.get("noCloseMatches"))


def spread(xs: list[float]) -> str:
    if not xs:
        return "(none)"
    q = statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0]] * 3
    return f"min {min(xs):.3f}  q1 {q[0]:.3f}  median {q[1]:.3f}  q3 {q[2]:.3f}  max {max(xs):.3f}"


def main() -> int:
    args, env = library_run(__doc__.splitlines()[0])
    answerable = [top_similarity(args.trove, args.db, q.question, env)[0]
                  for q in load_questions(args.questions)]
    answerable = [s for s in answerable if s is not None]
    off_q = load_offtopic(args.offtopic)
    off = [top_similarity(args.trove, args.db, q, env) for q in off_q]
    off_sims = [s for s, _ in off if s is not None]
    print(f"answerable questions ({len(answerable)}): best passage cosine {spread(answerable)}")
    print(f"off-topic questions ({len(off_sims)}):   best passage cosine {spread(off_sims)}")
    print(f"off-topic answered 'no close matches' by this build: {sum(n for _, n in off)} of {len(off)}")
    print("floor   answerable below (lose their best hit)   off-topic above (still 'close')")
    for floor in (0.20, 0.25, 0.30, 0.35, 0.40):
        below = sum(s < floor for s in answerable)
        above = sum(s >= floor for s in off_sims)
        print(f"{floor:.2f}    {below:3d} of {len(answerable)}                          {above:3d} of {len(off_sims)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
