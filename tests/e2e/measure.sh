#!/usr/bin/env bash
# Measurement (not a test): memory of the real app idle with 10,000 items, and the time
# from adding 1,000 files (CLI, same database, while the app runs) to all rows being in the
# UI. Prints the numbers (and MEASURE_JSON=…). Same setup as run.sh (Xvfb, tauri-driver,
# throw-away HOME and database).
source "$(dirname "$0")/lib.sh"
e2e_setup

log "creating 10,000 + 1,000 small files"
python3 - "$E2E_DIR" <<'PY'
import os, sys
root = sys.argv[1]
for batch, n in (("base", 10000), ("late", 1000)):
    d = os.path.join(root, batch)
    os.makedirs(d, exist_ok=True)
    for i in range(n):
        with open(os.path.join(d, f"{batch}-{i:05d}.txt"), "w") as f:
            f.write(f"Small file {i} of {batch}.\n")
PY
"$APP" --db "$TROVE_DB" pause >/dev/null
t0=$(date +%s.%N)
"$APP" --db "$TROVE_DB" add "$E2E_DIR/base" >/dev/null
log "trove add of 10,000 files: $(python3 -c "print(round($(date +%s.%N)-$t0, 2))") s (queue paused: they stay pending)"

export E2E_TMP
node "$ROOT/tests/e2e/measure.mjs"
