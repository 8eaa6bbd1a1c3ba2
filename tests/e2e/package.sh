#!/usr/bin/env bash
# The product as people install it: build the .deb (scripts/deb.sh --debug), unpack it with
# dpkg -x into a temporary root, and use it with an empty HOME and no TROVE_* variables:
# - the package holds the binary, the menu entry, the icons and the embedding model, and
#   recommends Tesseract;
# - its CLI finds the model it carries (semantic search by meaning alone) and keeps its data
#   under ~/.local/share/trove;
# - its window, started as the menu entry starts it, finds the same item by meaning
#   (WebDriver under Xvfb; screenshots in artifacts/e2e/installed-*.png), opens a PDF hit
#   at its page in the desktop's viewer (a recording stand-in), and saves a setting that
#   `trove config get` then reads.
source "$(dirname "$0")/lib.sh"

need dpkg-deb "dpkg"
need Xvfb "apt-get install xvfb"
need WebKitWebDriver "apt-get install webkit2gtk-driver"
export PATH="$HOME/.cargo/bin:$PATH"
need tauri-driver "cargo install tauri-driver --locked"
ART="$ROOT/artifacts/e2e"
mkdir -p "$ART"
rm -f "$ART/installed-"*.png

need xdotool "apt-get install xdotool"
# PACKAGE_PROFILE=release tests the package people download (slower to build; what the
# figures in BENCHMARKS.md come from); the default is its debug twin.
if [ "${PACKAGE_PROFILE:-debug}" = release ]; then
  DEB="$("$ROOT/scripts/deb.sh")"
else
  DEB="$("$ROOT/scripts/deb.sh" --debug)"
fi
E2E_TMP="$(mktemp -d /tmp/trove-pkg.XXXXXX)"
trap cleanup EXIT INT TERM
fail() { log "FAILED: $*"; exit 1; }

log "unpacking $DEB"
dpkg-deb --info "$DEB" >"$E2E_TMP/info"
grep -q '^ Recommends:.*tesseract-ocr' "$E2E_TMP/info" || fail "the package does not recommend tesseract-ocr: $(cat "$E2E_TMP/info")"
grep -q '^ Suggests:.*libreoffice-writer' "$E2E_TMP/info" || fail "the package does not suggest LibreOffice: $(cat "$E2E_TMP/info")"
R="$E2E_TMP/root"
dpkg-deb -x "$DEB" "$R"
BIN="$R/usr/bin/trove"
[ -x "$BIN" ] || fail "no usr/bin/trove in the package"
DESKTOP="$(ls "$R"/usr/share/applications/*.desktop 2>/dev/null | head -n 1)"
[ -n "$DESKTOP" ] || fail "no menu entry (usr/share/applications/*.desktop)"
grep -q '^Exec=trove' "$DESKTOP" || fail "the menu entry does not start trove: $(grep ^Exec "$DESKTOP")"
for f in model.safetensors tokenizer.json config.json; do
  [ -s "$R/usr/share/trove/models/all-MiniLM-L6-v2/$f" ] || fail "the package lacks the model's $f"
done
zcat "$R/usr/share/man/man1/trove.1.gz" | grep -q '^\.TH trove 1' || fail "no manual page trove(1)"
grep -q 'trove' "$R/usr/share/bash-completion/completions/trove" || fail "no bash completion"
[ -s "$R/usr/share/zsh/vendor-completions/_trove" ] && [ -s "$R/usr/share/fish/vendor_completions.d/trove.fish" ] \
  || fail "no zsh or fish completion"

# A new user: nothing but a HOME, a PATH and a display, as a session gives a menu launch.
H="$E2E_TMP/home"
mkdir -p "$H" "$E2E_TMP/run" "$E2E_TMP/files" "$E2E_TMP/desktop"
# The desktop's programs, as stand-ins that record what they were asked to open: xdg-mime
# names Evince the PDF viewer; evince and xdg-open write their arguments to a log.
OPENED="$E2E_TMP/opened.log"
: >"$OPENED"
printf '#!/bin/sh\necho org.gnome.Evince.desktop\n' >"$E2E_TMP/desktop/xdg-mime"
printf '#!/bin/sh\necho "evince $*" >>"%s"\n' "$OPENED" >"$E2E_TMP/desktop/evince"
printf '#!/bin/sh\necho "xdg-open $*" >>"%s"\n' "$OPENED" >"$E2E_TMP/desktop/xdg-open"
chmod +x "$E2E_TMP/desktop/"*
chmod 700 "$E2E_TMP/run"
for d in $(seq 141 190); do
  [ -e "/tmp/.X11-unix/X$d" ] || [ -e "/tmp/.X$d-lock" ] || break
done
Xvfb ":$d" -screen 0 1280x800x24 -nolisten tcp >"$E2E_TMP/xvfb.log" 2>&1 &
export DISPLAY=":$d" # for xdotool and import here; the app gets it through USER_ENV
PIDS+=($!)
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$d" ] && break; sleep 0.1; done
USER_ENV=(env -i "HOME=$H" "PATH=$R/usr/bin:$E2E_TMP/desktop:/usr/local/bin:/usr/bin:/bin" "DISPLAY=:$d"
  "XDG_RUNTIME_DIR=$E2E_TMP/run" "LANG=C.UTF-8" "NO_AT_BRIDGE=1" "WEBKIT_DISABLE_COMPOSITING_MODE=1")
trove() { "${USER_ENV[@]}" trove "$@"; }

F="$E2E_TMP/files"
printf 'Canine companions love to play fetch in the park and chase squirrels along the path.\n' >"$F/pets.txt"
printf 'Quarterly tax forms are due at the end of the fiscal period; keep receipts for deductions.\n' >"$F/taxes.txt"
log "the package's CLI: add, process, search by meaning"
t_first="$(date +%s.%N)"
pets="$(trove --json add "$F/pets.txt" | python3 -c 'import json,sys; print(json.load(sys.stdin)["added"][0]["id"])')"
trove add "$F/taxes.txt" >/dev/null
cp "$ROOT/tests/fixtures/pdf/libreoffice.pdf" "$F/report.pdf"
pdf="$(trove --json add "$F/report.pdf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["added"][0]["id"])')"
trove work --until-idle >/dev/null
[ -f "$H/.local/share/trove/trove.db" ] || fail "no database in ~/.local/share/trove: $(find "$H" -maxdepth 4)"
top="$(trove --json search dog --mode semantic | python3 -c 'import json,sys; h=json.load(sys.stdin)["hits"]; print(h[0]["itemId"] if h else "")')"
[ "$top" = "$pets" ] || fail "semantic search for 'dog' gave '$top', expected $pets"
log "ok: CLI found $pets by meaning with the packaged model"
log "measured: first use to a semantic hit (add 3 files, process them, search) $(python3 -c "print(round($(date +%s.%N)-$t_first, 2))") s"

# The packaged binary as an MCP server (what an LLM client starts) and Ask without an endpoint.
mcp_top="$(printf '%s\n' \
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"package.sh","version":"1"}}}' \
  '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
  '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"search","arguments":{"query":"dog","mode":"semantic"}}}' \
  | trove mcp 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("id") == 2:
        hits = m["result"]["structuredContent"]["hits"]
        print(hits[0]["item"] if hits else "")')"
[ "$mcp_top" = "$pets" ] || fail "trove mcp: semantic search for 'dog' gave '$mcp_top', expected $pets"
log "ok: the packaged trove mcp answers an MCP client's search by meaning"
ask_out="$(trove ask "dogs playing fetch in the park" 2>/dev/null)"
case "$ask_out" in
  "Top passages for your question:"*pets.txt*) log "ok: trove ask without an endpoint shows the top passages" ;;
  *) fail "trove ask without an endpoint printed: $ask_out" ;;
esac

log "the package's window (WebDriver, same environment)"
WD_PORT="$(free_port)"
"${USER_ENV[@]}" "$(command -v tauri-driver)" --port "$WD_PORT" --native-port "$(free_port)" >"$E2E_TMP/tauri-driver.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$WD_PORT/status" >/dev/null 2>&1 && break; sleep 0.1; done
set +e
TROVE_APP="$BIN" WD_URL="http://127.0.0.1:$WD_PORT" ART="$ART" MEANING_ITEM="$pets" PDF_ITEM="$pdf" \
  OPENED="$OPENED" node "$ROOT/tests/e2e/installed.mjs"
rc=$?
set -e
[ $rc -eq 0 ] || { tail -n 30 "$E2E_TMP/tauri-driver.log" >&2; fail "the installed window (rc $rc)"; }
# The window wrote its log where Settings says (nobody sees a menu-launched app's stderr).
ls "$H"/.local/state/trove/trove.*.log >/dev/null 2>&1 || fail "no log file in ~/.local/state/trove: $(find "$H" -maxdepth 4 -name '*.log')"
grep -q "Trove starting" "$H"/.local/state/trove/trove.*.log || fail "the log file lacks the start line"
# The setting changed in the window is the one the command line reads.
got="$(trove config get rate-limit)"
[ "$got" = "0.5" ] || fail "the window saved rate-limit 0.5, trove config get says '$got'"
log "ok: a setting saved in the window is what trove config get reads"

# A damaged library where a new user's would be: the app opened from the menu explains.
H2="$E2E_TMP/home2"
mkdir -p "$H2"
damaged_db_window installed-damaged-database "$H2/.local/share/trove/trove.db" \
  env -i "HOME=$H2" "PATH=$R/usr/bin:$E2E_TMP/desktop:/usr/local/bin:/usr/bin:/bin" "DISPLAY=:$d" \
  "XDG_RUNTIME_DIR=$E2E_TMP/run" "LANG=C.UTF-8" "NO_AT_BRIDGE=1" "WEBKIT_DISABLE_COMPOSITING_MODE=1" trove \
  || fail "the installed app did not explain a damaged library"
log "ok: package $(du -h "$DEB" | cut -f1), screenshots in $ART"
