# Shared by run.sh and measure.sh: build what is missing, start Xvfb and tauri-driver on free
# ports/displays, clean up on exit. Source it; then call e2e_setup.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/trove-target}"
# TROVE_PROFILE=release measures/tests the optimised build (what the .deb ships).
PROFILE="${TROVE_PROFILE:-debug}"
PROFILE_DIR="$CARGO_TARGET_DIR/$PROFILE"
APP="$PROFILE_DIR/trove"
PIDS=()

log() { printf '\033[1m[e2e]\033[0m %s\n' "$*" >&2; }

cleanup() {
  local pid
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
  done
  sleep 0.3
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] || continue
    kill -9 "$pid" 2>/dev/null || true
  done
  # Any app left by a session that did not close (only those running from our temp HOME).
  if [ -n "${E2E_TMP:-}" ]; then
    for p in $(pgrep -f -- "--db $E2E_TMP/" || true); do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$E2E_TMP"
  fi
}

need() { command -v "$1" >/dev/null 2>&1 || { echo "missing: $1 ($2)" >&2; exit 2; }; }

ui_stale() {
  [ -f "$ROOT/ui/dist/index.html" ] || return 0
  [ -n "$(find "$ROOT/ui/src" "$ROOT/ui/index.html" "$ROOT/ui/package-lock.json" -newer "$ROOT/ui/dist/index.html" -print -quit)" ]
}

build_all() {
  if ui_stale; then
    log "building ui/dist"
    (cd "$ROOT/ui" && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build) >&2
  fi
  log "cargo build -p trove ($PROFILE, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
  if [ "$PROFILE" = release ]; then
    (cd "$ROOT" && cargo build --release -p trove) >&2
  else
    (cd "$ROOT" && cargo build -p trove) >&2
  fi
  if ! command -v tauri-driver >/dev/null 2>&1; then
    log "cargo install tauri-driver --locked"
    cargo install tauri-driver --locked >&2
  fi
}

# damaged_db_window NAME CMD…: CMD (the app, with a damaged database) must show the window
# "Trove cannot open its library" (nobody sees a menu-launched app's stderr), change
# nothing, and exit 1 once the window is closed. Screenshot to $ART/NAME.png. Returns 1 on
# failure (after logging why).
damaged_db_window() {
  local name="$1" bad="$2"; shift 2
  mkdir -p "$(dirname "$bad")"
  head -c 65536 /dev/urandom >"$bad"
  local before w="" app_pid app_rc ok=0
  before="$(sha256sum "$bad")"
  "$@" >"$E2E_TMP/$name.log" 2>&1 &
  app_pid=$!
  for _ in $(seq 150); do
    w="$(xdotool search --name "Trove cannot open its library" 2>/dev/null | head -1 || true)"
    [ -n "$w" ] && break
    sleep 0.2
  done
  if [ -z "$w" ]; then
    log "FAILED: no error window for a damaged database ($name)"
    kill "$app_pid" 2>/dev/null || true
    return 1
  fi
  command -v import >/dev/null && import -window "$w" "$ART/$name.png" 2>/dev/null || true
  xdotool windowfocus "$w" 2>/dev/null || true
  xdotool key Return
  set +e; wait "$app_pid"; app_rc=$?; set -e
  if [ "$app_rc" -ne 1 ]; then log "FAILED: the app exited with $app_rc, not 1 ($name)"; ok=1; fi
  if [ "$before" != "$(sha256sum "$bad")" ]; then log "FAILED: the damaged file was changed ($name)"; ok=1; fi
  [ $ok -eq 0 ] && log "ok: error window shown, file untouched, exit 1 ($name)"
  return $ok
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

e2e_setup() {
  need Xvfb "apt-get install xvfb"
  need WebKitWebDriver "apt-get install webkit2gtk-driver"
  need node "Node 20"
  need python3 "python3"
  export PATH="$HOME/.cargo/bin:$PATH"
  build_all
  need tauri-driver "cargo install tauri-driver --locked"

  E2E_TMP="$(mktemp -d /tmp/trove-e2e.XXXXXX)"
  trap cleanup EXIT INT TERM
  # Never the real user's data: a throw-away HOME, XDG dirs and database.
  export HOME="$E2E_TMP/home" XDG_DATA_HOME="$E2E_TMP/home/.local/share" XDG_CONFIG_HOME="$E2E_TMP/home/.config" \
    XDG_CACHE_HOME="$E2E_TMP/home/.cache" XDG_RUNTIME_DIR="$E2E_TMP/run"
  mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  export TROVE_DB="$E2E_TMP/db/trove.db"
  mkdir -p "$E2E_TMP/db" "$E2E_TMP/files"
  # No session bus: single-instance and notifications degrade to "launch normally"/"no popup".
  unset DBUS_SESSION_BUS_ADDRESS || true
  export NO_AT_BRIDGE=1 WEBKIT_DISABLE_COMPOSITING_MODE=1

  local d
  for d in $(seq 90 140); do
    [ -e "/tmp/.X11-unix/X$d" ] || [ -e "/tmp/.X$d-lock" ] || break
  done
  Xvfb ":$d" -screen 0 1280x800x24 -nolisten tcp >"$E2E_TMP/xvfb.log" 2>&1 &
  PIDS+=($!)
  export DISPLAY=":$d"
  for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$d" ] && break; sleep 0.1; done

  WD_PORT="$(free_port)"
  NATIVE_PORT="$(free_port)"
  tauri-driver --port "$WD_PORT" --native-port "$NATIVE_PORT" >"$E2E_TMP/tauri-driver.log" 2>&1 &
  PIDS+=($!)
  export WD_URL="http://127.0.0.1:$WD_PORT"
  for _ in $(seq 100); do curl -fs "$WD_URL/status" >/dev/null 2>&1 && break; sleep 0.1; done
  export TROVE_APP="$APP" E2E_DIR="$E2E_TMP/files"
  log "Xvfb $DISPLAY, tauri-driver $WD_URL, db $TROVE_DB"
}
