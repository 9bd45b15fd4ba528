# socketbus — build, test and run targets. See README.md.
#
#   make demo     install what is missing (incl. .venv with python-socketio),
#                 build busd and busctl (release), run scripts/demo.sh: Redis
#                 (SOCKETBUS_REDIS_URL, else a private redis-server), busd, a
#                 python-socketio node and client, a busctl walk-through
#   make test     install what is missing (incl. Python test tools), build and run all tests
#   make fuzz     build the libFuzzer targets (Fuzz/) and run each for FUZZ_SECONDS
#                 (default 300); `make test` runs them 20 s each
#
# Variables: SWIFT (the swift driver), BUILD_DIR (SwiftPM scratch path),
# SWIFT_FLAGS (extra flags for every swift build/test), TEST_FLAGS (extra
# flags for `swift test`, e.g. TEST_FLAGS='--filter MsgPackTests').

SWIFT ?= swift
BUILD_DIR ?= .build
SWIFT_FLAGS ?=
TEST_FLAGS ?=
LOG_DIR ?= $(BUILD_DIR)/logs

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

SPM := --scratch-path $(BUILD_DIR) $(SWIFT_FLAGS)

# The test suite drives real peers: Python tools from .venv and Debian's
# node modules (node-socket.io-parser lives under /usr/share/nodejs).
TEST_ENV := PATH="$(CURDIR)/.venv/bin:$$PATH" NODE_PATH="/usr/share/nodejs$${NODE_PATH:+:$$NODE_PATH}"
# Where the connector and end-to-end tests find busd and busctl.
BIN_ENV := SOCKETBUS_BIN_DIR="$(abspath $(BUILD_DIR))/debug"

.PHONY: demo test build release bench bench-all fuzz format lint clean deps deps-test

deps:
	scripts/ensure-deps.sh

deps-test:
	scripts/ensure-deps.sh --python

demo:
	scripts/ensure-deps.sh --demo
	$(SWIFT) build $(SPM) -c release --product busd
	$(SWIFT) build $(SPM) -c release --product busctl
	BUSD="$(BUILD_DIR)/release/busd" BUSCTL="$(BUILD_DIR)/release/busctl" scripts/demo.sh

# Output is also kept in $(LOG_DIR); the test runner's summary stays the last line.
test: deps-test
	@mkdir -p $(LOG_DIR)
	@echo "make test: output kept in $(LOG_DIR)/build-tests.log and $(LOG_DIR)/test.log"
	$(SWIFT) build $(SPM) --build-tests 2>&1 | tee $(LOG_DIR)/build-tests.log
	$(TEST_ENV) $(BIN_ENV) deploy/validate.sh 2>&1 | tee $(LOG_DIR)/deploy.log
	$(TEST_ENV) $(SWIFT) test $(SPM) $(TEST_FLAGS) 2>&1 | tee $(LOG_DIR)/test.log
	$(TEST_ENV) $(BIN_ENV) node --test clients/node/test/ 2>&1 | tee $(LOG_DIR)/node-connector.log | tail -n 9
	$(TEST_ENV) $(BIN_ENV) python -m pytest -q -p no:cacheprovider clients/python/tests 2>&1 | tee $(LOG_DIR)/python-connector.log
	$(TEST_ENV) $(BIN_ENV) python -m pytest -q -p no:cacheprovider Tests/EndToEnd 2>&1 | tee $(LOG_DIR)/e2e.log
	$(TEST_ENV) $(BIN_ENV) CHAOS_OUTAGES=$${CHAOS_OUTAGES:-5} python -m pytest -q -p no:cacheprovider Tests/Chaos 2>&1 | tee $(LOG_DIR)/chaos.log

# libFuzzer targets, built apart in .build-fuzz (scripts/fuzz.sh says where
# corpora, crash inputs and logs go).
FUZZ_SECONDS ?= 300
fuzz: deps
	SWIFT="$(SWIFT)" scripts/fuzz.sh $(FUZZ_SECONDS)

build: deps
	$(SWIFT) build $(SPM)

release: deps
	$(SWIFT) build $(SPM) -c release

# Every benchmark with progress lines (bench/README.md has the figures);
# bench-all adds callgrind instruction counts and 20 chaos outages.
bench: deps
	bench/run-all.sh

bench-all: deps-test build
	bench/run-all.sh --callgrind --chaos

format:
	@if $(SWIFT) format --version >/dev/null 2>&1; then \
		$(SWIFT) format --in-place --recursive Sources Tests bench/Sources; \
	else \
		echo "swift format is not available; nothing formatted"; \
	fi

lint:
	$(SWIFT) format lint --recursive Sources Tests

clean:
	rm -rf $(BUILD_DIR) bench/.build .build-fuzz
