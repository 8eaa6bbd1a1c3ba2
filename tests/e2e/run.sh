#!/usr/bin/env bash
# End-to-end test of the real desktop app (Tauri window under Xvfb, driven through
# tauri-driver/WebKitWebDriver). Self-contained given the apt packages (xvfb,
# webkit2gtk-driver, libwebkit2gtk-4.1-dev) and Node 20.
#   tests/e2e/run.sh                      run it (screenshots in artifacts/e2e/)
#   tests/e2e/run.sh --docs-screenshot    also rewrite docs/screenshot.png
# Exit status is non-zero on any failure.
source "$(dirname "$0")/lib.sh"

DOCS=""
[ "${1:-}" = "--docs-screenshot" ] && DOCS="$ROOT/docs/screenshot.png" && mkdir -p "$ROOT/docs"

ART="$ROOT/artifacts/e2e"
mkdir -p "$ART"
rm -f "$ART"/*.png
export ART

e2e_setup

log "pre-adding files through the CLI"
F="$E2E_DIR"
printf 'Alpha notes about the feathered serpent Quetzalcoatl and Mesoamerican calendars.\n\nA second paragraph with more words to index.\n' >"$F/alpha.txt"
printf '# Notes\n\nMarkdown notes about gardening: tomatoes, basil and compost.\n' >"$F/notes.md"
printf '%%PDF-1.7 garbage' >"$F/broken.pdf"
"$APP" --db "$TROVE_DB" add "$F/alpha.txt" "$F/notes.md" "$F/broken.pdf" >&2

log "driving the app"
set +e
DOCS_SCREENSHOT="$DOCS" node "$ROOT/tests/e2e/e2e.mjs"
rc=$?
set -e
if [ $rc -ne 0 ]; then
  log "FAILED (rc $rc); logs:"
  tail -n 30 "$E2E_TMP/tauri-driver.log" >&2 || true
fi

# A damaged database: the app opened from the menu says so in a window (nobody sees
# stderr), changes nothing, and quits when the window is closed.
if [ $rc -eq 0 ]; then
  log "a damaged database: the app explains in a window"
  damaged_db_window damaged-database "$E2E_TMP/damaged/trove.db" "$APP" --db "$E2E_TMP/damaged/trove.db" || rc=1
fi
log "screenshots in $ART"
exit $rc
