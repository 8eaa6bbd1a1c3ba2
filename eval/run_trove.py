#!/usr/bin/env python3
"""Run the Python-docs retrieval evaluation against the `trove` CLI.

Standard library only. Steps:

1. ingest (unless --skip-ingest): ``trove --db DB add -`` with every ``CORPUS/*.html`` on
   stdin, one path a line (``--add-args``: as arguments, in batches), then
   ``trove --db DB work --until-idle`` (timed), then ``trove --db DB --json list`` for the
   item and chunk counts;
2. for every question and mode (keyword, semantic, hybrid):
   ``trove --db DB --json search --mode MODE --limit 10 [SEARCH_ARGS] -- QUESTION``;
   the document of a hit is the base name of its ``location`` (else its ``name``);
3. MRR@10 and Recall@5 per mode, overall and per kind (common.py, the same code as
   reference.py); a table on stdout, everything in the JSON file given by --out.

A search that exits non-zero, or prints something that is not the expected JSON, is an
error: it is shown with its stderr, the question scores 0 in that mode, and the script exits
with status 1 at the end. If a response says it searched in another mode than asked (e.g.
semantic search falling back to keyword because the model is missing) that is shown too.

Example:
    python3 eval/run_trove.py --trove target/release/trove --db /tmp/trove-eval.db \\
        --out /tmp/trove-eval.json
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402

DEFAULT_CORPUS = "/usr/share/doc/python3/html/library"
DEFAULT_QUESTIONS = os.path.join(HERE, "python-docs", "questions.tsv")
MODES = ("keyword", "semantic", "hybrid")


class TroveError(Exception):
    pass


def run(cmd: list[str], *, stdin: str | None = None, timeout: float | None = None, env=None):
    try:
        return subprocess.run(
            cmd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except FileNotFoundError as e:
        raise TroveError(f"cannot run {cmd[0]!r}: {e}") from None
    except subprocess.TimeoutExpired:
        raise TroveError(f"timed out after {timeout}s: {shlex.join(cmd)}") from None


def describe_failure(cmd: list[str], p: subprocess.CompletedProcess) -> str:
    err = (p.stderr or "").strip()
    out = (p.stdout or "").strip()
    msg = f"`{shlex.join(cmd)}` exited with status {p.returncode}"
    if err:
        msg += "\n    stderr: " + err[-2000:].replace("\n", "\n            ")
    if out:
        msg += "\n    stdout: " + out[:500].replace("\n", "\n            ")
    return msg


def parse_json(text: str, what: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        # Some tools print a line or two before the JSON: try the last line that parses.
        for line in reversed(text.strip().splitlines()):
            line = line.strip()
            if line.startswith(("{", "[")):
                try:
                    return json.loads(line)
                except json.JSONDecodeError:
                    continue
        snippet = text.strip()[:300] or "(nothing)"
        raise TroveError(f"{what}: the output is not JSON ({e}); it begins: {snippet}") from None


def find_hits(resp) -> tuple[list, dict]:
    """The hit list of a search response, wherever it is: ``{"hits": [...]}``, one level
    down (``{"result": {"hits": [...]}}``), or a bare list. Returns (hits, the object that
    held them)."""
    if isinstance(resp, list):
        return resp, {}
    if isinstance(resp, dict):
        if isinstance(resp.get("hits"), list):
            return resp["hits"], resp
        for v in resp.values():
            if isinstance(v, dict) and isinstance(v.get("hits"), list):
                return v["hits"], v
        for v in resp.values():
            if isinstance(v, list) and all(isinstance(h, dict) for h in v) and v and (
                "location" in v[0] or "name" in v[0]
            ):
                return v, resp
    keys = ", ".join(resp.keys()) if isinstance(resp, dict) else type(resp).__name__
    raise TroveError(f"no `hits` list in the search response (top-level keys: {keys})")


def hit_document(hit: dict) -> str:
    """The document of a hit: base name of its location (a path or file:// URL), else its
    name."""
    loc = hit.get("location") or hit.get("path") or ""
    if isinstance(loc, str) and loc:
        if loc.startswith("file://"):
            loc = urllib.parse.unquote(urllib.parse.urlparse(loc).path)
        base = os.path.basename(loc.rstrip("/"))
        if base:
            return base
    name = hit.get("name") or ""
    if isinstance(name, str) and name:
        return os.path.basename(name)
    raise TroveError(f"a hit has neither `location` nor `name`: {json.dumps(hit)[:200]}")


def first(d: dict, *keys, default=None):
    for k in keys:
        if k in d:
            return d[k]
    return default


def ingest(args, base: list[str], env) -> dict:
    files = sorted(glob.glob(os.path.join(args.corpus, "*.html")))
    if not files:
        raise TroveError(f"no *.html in {args.corpus} (apt-get install python3-doc)")
    info: dict = {"files": len(files)}

    t = time.perf_counter()
    added = skipped = 0
    batches = (
        [files[i : i + args.add_batch] for i in range(0, len(files), args.add_batch)]
        if args.add_args
        else [None]
    )
    for batch in batches:
        if batch is None:
            cmd = base + ["--json", "add", "-"]
            p = run(cmd, stdin="".join(f + "\n" for f in files), env=env)
        else:
            cmd = base + ["--json", "add", "--"] + batch
            p = run(cmd, env=env)
        if p.returncode != 0:
            raise TroveError("add failed: " + describe_failure(cmd, p))
        try:
            report = parse_json(p.stdout, "trove add")
            added += len(report.get("added", []))
            for s in report.get("skipped", []):
                skipped += 1
                common.eprint(f"  skipped {first(s, 'input', default='?')}: {first(s, 'reason', default='?')}")
        except (TroveError, AttributeError) as e:
            common.eprint(f"warning: could not read the add report ({e}); going on")
    info["add_s"] = time.perf_counter() - t
    info["added"] = added
    info["skipped"] = skipped
    common.eprint(f"added {added} of {len(files)} files ({skipped} skipped) in {info['add_s']:.1f}s")

    # Processing: extraction, chunking, indexing, embedding. Its stderr goes straight to
    # ours (logs, a progress bar if any) so a long run shows signs of life.
    cmd = base + ["--json", "work", "--until-idle"] + shlex.split(args.work_args)
    common.eprint(f"running: {shlex.join(cmd)}")
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None, text=True, env=env)
    except FileNotFoundError as e:
        raise TroveError(f"cannot run {cmd[0]!r}: {e}") from None
    info["work_s"] = time.perf_counter() - t
    if p.returncode != 0:
        raise TroveError(f"`{shlex.join(cmd)}` exited with status {p.returncode} (its stderr is above)")
    try:
        info["work_summary"] = parse_json(p.stdout, "trove work")
    except TroveError:
        info["work_summary"] = p.stdout.strip()
    common.eprint(f"work --until-idle: {info['work_s']:.1f}s; summary: {json.dumps(info['work_summary'])}")
    return info


def library_counts(base: list[str], env) -> dict:
    """Items by status and total chunks, from `trove --json list` (best effort)."""
    cmd = base + ["--json", "list", "--limit", "100000"]
    p = run(cmd, env=env, timeout=300)
    if p.returncode != 0:
        common.eprint("warning: " + describe_failure(cmd, p))
        return {}
    try:
        items = parse_json(p.stdout, "trove list")
    except TroveError as e:
        common.eprint(f"warning: {e}")
        return {}
    if isinstance(items, dict):
        items = first(items, "items", default=[])
    by_status: dict[str, int] = {}
    chunks = 0
    failed = []
    for it in items if isinstance(items, list) else []:
        st = str(it.get("status", "?"))
        by_status[st] = by_status.get(st, 0) + 1
        chunks += int(first(it, "chunkCount", "chunk_count", default=0) or 0)
        if st == "failed":
            failed.append({"location": it.get("location"), "error": it.get("error")})
    return {"items": len(items), "by_status": by_status, "chunks": chunks, "failed": failed}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trove", required=True, help="path to the trove binary")
    ap.add_argument("--db", required=True, help="database file (fresh unless --skip-ingest)")
    ap.add_argument("--questions", default=DEFAULT_QUESTIONS)
    ap.add_argument("--corpus", default=DEFAULT_CORPUS, help="folder of *.html pages")
    ap.add_argument("--out", required=True, help="JSON results file")
    ap.add_argument("--skip-ingest", action="store_true", help="reuse an existing, processed DB")
    ap.add_argument("--replace-db", action="store_true", help="delete DB (and its -wal/-shm) first")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated (default: all three)")
    ap.add_argument("--limit", type=int, default=common.MRR_DEPTH, help="hits asked per search")
    ap.add_argument("--search-args", default="", help="extra arguments for `search`, one shell-quoted string")
    ap.add_argument("--work-args", default="", help="extra arguments for `work --until-idle`")
    ap.add_argument("--add-args", action="store_true", help="pass paths to `add` as arguments instead of stdin")
    ap.add_argument("--add-batch", type=int, default=100, help="paths per `add` call with --add-args")
    ap.add_argument("--model-dir", default=None, help="set TROVE_MODEL_DIR for every trove call")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per search")
    ap.add_argument("--max-errors", type=int, default=10, help="stop after this many failed searches")
    ap.add_argument("--reference", default=None, help="a reference.py JSON: print its table too")
    ap.add_argument("--misses", action="store_true", help="list the questions each mode missed")
    args = ap.parse_args()

    trove = args.trove
    if os.sep in trove and not os.access(trove, os.X_OK):
        sys.exit(f"error: {trove} is not an executable file")
    env = dict(os.environ)
    if args.model_dir:
        env["TROVE_MODEL_DIR"] = os.path.abspath(args.model_dir)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        if m not in MODES:
            sys.exit(f"error: unknown mode {m!r} (want {', '.join(MODES)})")
    try:
        questions = common.load_questions(args.questions, args.corpus)
    except ValueError as e:
        sys.exit(f"error: {e}")

    db = os.path.abspath(args.db)
    if not args.skip_ingest and os.path.exists(db):
        if args.replace_db:
            for suffix in ("", "-wal", "-shm", "-journal"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
        else:
            sys.exit(f"error: {db} exists: pass --skip-ingest to reuse it, or --replace-db to start afresh")
    if args.skip_ingest and not os.path.exists(db):
        sys.exit(f"error: --skip-ingest but {db} does not exist")
    base = [trove, "--db", db]

    config: dict = {
        "system": "trove",
        "trove": os.path.abspath(trove) if os.sep in trove else trove,
        "db": db,
        "corpus": os.path.abspath(args.corpus),
        "questions": os.path.abspath(args.questions),
        "limit": args.limit,
        "search_args": args.search_args,
        "machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname())},
    }
    try:
        p = run([trove, "--version"], timeout=30, env=env)
        config["version"] = (p.stdout or p.stderr).strip()
    except TroveError as e:
        sys.exit(f"error: {e}")

    timings: dict = {}
    try:
        if not args.skip_ingest:
            ing = ingest(args, base, env)
            config["ingest"] = ing
            timings["add_s"] = ing["add_s"]
            timings["work_s"] = ing["work_s"]
    except TroveError as e:
        common.eprint(f"error: {e}")
        return 2
    counts = library_counts(base, env)
    config["library"] = counts
    if counts:
        common.eprint(
            f"library: {counts['items']} items {counts['by_status']}, {counts['chunks']:,} chunks"
        )
        for f in counts["failed"][:10]:
            common.eprint(f"  failed: {f['location']}: {f['error']}")

    extra = shlex.split(args.search_args)
    rankings: dict[str, dict[str, list[str]]] = {m: {} for m in modes}
    latencies: dict[str, list[float]] = {m: [] for m in modes}
    notices: dict[str, dict[str, int]] = {m: {} for m in modes}
    served_modes: dict[str, dict[str, int]] = {m: {} for m in modes}
    errors: list[dict] = []
    t_search = time.perf_counter()
    for mode in modes:
        for q in questions:
            if len(errors) >= args.max_errors:
                break
            cmd = base + ["--json", "search", "--mode", mode, "--limit", str(args.limit)] + extra + ["--", q.question]
            t = time.perf_counter()
            try:
                p = run(cmd, timeout=args.timeout, env=env)
                latencies[mode].append(time.perf_counter() - t)
                if p.returncode != 0:
                    raise TroveError(describe_failure(cmd, p))
                resp = parse_json(p.stdout, f"search {q.id} ({mode})")
                hits, holder = find_hits(resp)
                docs = [hit_document(h) for h in hits if isinstance(h, dict)]
            except TroveError as e:
                common.eprint(f"error: question {q.id}, mode {mode}: {e}")
                errors.append({"id": q.id, "mode": mode, "error": str(e)})
                continue
            served = holder.get("mode")
            if served is not None:
                served_modes[mode][str(served)] = served_modes[mode].get(str(served), 0) + 1
            notice = holder.get("notice")
            if notice:
                if notice not in notices[mode]:
                    common.eprint(f"note ({mode}): {notice}")
                notices[mode][notice] = notices[mode].get(notice, 0) + 1
            rankings[mode][q.id] = common.doc_ranking(docs)
        if len(errors) >= args.max_errors:
            common.eprint(f"error: {len(errors)} searches failed; stopping (see above)")
            break
    timings["search_total_s"] = time.perf_counter() - t_search
    for mode in modes:
        other = {k: v for k, v in served_modes[mode].items() if k != mode}
        if other:
            common.eprint(f"WARNING: asked for {mode}, Trove answered in mode(s) {other} — that row is not {mode} search")

    result = common.evaluate(questions, rankings)
    n_chunks = f", {counts['chunks']:,} chunks" if counts else ""
    print(common.format_table(result["summary"], f"trove ({len(questions)} questions{n_chunks})"))
    if args.misses:
        for mode in modes:
            print(f"\nmissed by {mode} (target not in top 5):")
            print(common.format_misses(result["per_question"], mode))
    lat = {}
    for mode, xs in latencies.items():
        if xs:
            xs_sorted = sorted(xs)
            lat[mode] = {
                "n": len(xs),
                "mean_s": statistics.fmean(xs),
                "median_s": statistics.median(xs),
                "p95_s": xs_sorted[min(len(xs) - 1, int(0.95 * len(xs)))],
            }
    timings["search_latency"] = lat
    parts = []
    if "work_s" in timings:
        parts.append(f"add {timings['add_s']:.1f}s, work --until-idle {timings['work_s']:.1f}s")
    parts += [f"{m} search median {v['median_s'] * 1000:.0f} ms (p95 {v['p95_s'] * 1000:.0f} ms, process start included)" for m, v in lat.items()]
    print("\ntimings: " + "; ".join(parts))
    if args.reference:
        try:
            with open(args.reference, encoding="utf-8") as f:
                ref = json.load(f)
            ref_chunks = ref.get("config", {}).get("chunks")
            print()
            print(common.format_table(ref["summary"], f"reference ({args.reference}{f', {ref_chunks:,} chunks' if ref_chunks else ''})"))
        except (OSError, KeyError, json.JSONDecodeError) as e:
            common.eprint(f"warning: cannot read the reference results {args.reference}: {e}")

    result["config"] = config
    result["timings"] = timings
    result["notices"] = notices
    result["served_modes"] = served_modes
    result["errors"] = errors
    common.write_json(args.out, result)
    common.eprint(f"wrote {args.out}")
    if errors:
        common.eprint(f"{len(errors)} search(es) failed: the scores above count them as misses")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
