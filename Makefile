# socketbus — build, test and run targets. See README.md.
#
#   make demo     install what is missing (incl. .venv with python-socketio),
#                 build busd and busctl (release), run scripts/demo.sh: Redis
#                 (SOCKETBUS_REDIS_URL, else a private redis-server), busd, a
#                 python-socketio node and client, a busctl walk-through
#   make test     install what is missing (incl. Python test tools), build and run all tests
#   make install  build (release) and install busd and busctl under PREFIX (/usr/local)
#   make dist     dist/socketbus-<version>-linux-<arch>.tar.gz and a .deb of the same
#                 files (static Swift runtime, man pages, completions, the unit);
#                 `make dist-check` adds their test (Tests/Dist). docs/install.md
#   make fuzz     build the libFuzzer targets (Fuzz/) and run each for FUZZ_SECONDS
#                 (default 300); `make test` runs them 20 s each
#
# Variables: SWIFT (the swift driver), BUILD_DIR (SwiftPM scratch path),
# SWIFT_FLAGS (extra flags for every swift build/test), TEST_FLAGS (extra
# flags for `swift test`, e.g. TEST_FLAGS='--filter MsgPackTests'), COMMIT
# (the git commit busd reports in --version and socketbus_build_info;
# default: this checkout's HEAD, "unknown" outside git).

SWIFT ?= swift
BUILD_DIR ?= .build
SWIFT_FLAGS ?=
TEST_FLAGS ?=
LOG_DIR ?= $(BUILD_DIR)/logs

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

# Package.swift reads BUSD_BUILD_COMMIT: every swift build and test below
# (and any recipe that runs one) sees it. A new commit recompiles one C file
# (Sources/CBuildInfo) and relinks. Not SOCKETBUS_*: busd refuses SOCKETBUS_
# variables that name no setting, and test runs pass their environment on.
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
export BUSD_BUILD_COMMIT := $(COMMIT)

SPM := --scratch-path $(BUILD_DIR) $(SWIFT_FLAGS)

# The test suites and the real peers they drive (.venv, node modules, busd
# and busctl) are set up in scripts/run-tests.py.

PREFIX ?= /usr/local

.PHONY: install dist dist-check demo test build release bench bench-all fuzz format lint clean deps deps-test

deps:
	scripts/ensure-deps.sh

deps-test:
	scripts/ensure-deps.sh --python

demo:
	scripts/ensure-deps.sh --demo
	$(SWIFT) build $(SPM) -c release --product busd
	$(SWIFT) build $(SPM) -c release --product busctl
	BUSD="$(BUILD_DIR)/release/busd" BUSCTL="$(BUILD_DIR)/release/busctl" scripts/demo.sh

# Every suite runs even after one fails (scripts/run-tests.py lists them);
# output is also kept in $(LOG_DIR); the last line counts every suite:
# "make test: N passed, N failed, N skipped". Exit status 1 if any failed.
test: deps-test
	SWIFT="$(SWIFT)" BUILD_DIR="$(BUILD_DIR)" SWIFT_FLAGS="$(SWIFT_FLAGS)" TEST_FLAGS="$(TEST_FLAGS)" \
		LOG_DIR="$(LOG_DIR)" scripts/run-tests.py

# libFuzzer targets, built apart in .build-fuzz (scripts/fuzz.sh says where
# corpora, crash inputs and logs go).
FUZZ_SECONDS ?= 300
fuzz: deps
	SWIFT="$(SWIFT)" scripts/fuzz.sh $(FUZZ_SECONDS)

build: deps
	$(SWIFT) build $(SPM)

release: deps
	$(SWIFT) build $(SPM) -c release

# busd and busctl go to $(PREFIX)/lib/socketbus (where busd@.service runs
# busd); busctl is linked from $(PREFIX)/bin, which comes before systemd's
# /usr/bin/busctl on Debian's PATH and in sudo's secure_path. Then a note if
# `busctl` still finds another one first. DESTDIR: a staging root.
install: deps
	$(SWIFT) build $(SPM) -c release --product busd
	$(SWIFT) build $(SPM) -c release --product busctl
	install -d $(DESTDIR)$(PREFIX)/lib/socketbus $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD_DIR)/release/busd $(BUILD_DIR)/release/busctl $(DESTDIR)$(PREFIX)/lib/socketbus/
	ln -sfn ../lib/socketbus/busctl $(DESTDIR)$(PREFIX)/bin/busctl
	scripts/check-busctl-path.sh $(DESTDIR)$(PREFIX)/bin/busctl

# The tarball and the .deb (scripts/dist.sh says what goes in; the version is
# Sources/BusCore/SocketBusVersion.swift). A release build: minutes.
DIST_DIR ?= dist
dist:
	scripts/ensure-deps.sh --dist
	SWIFT="$(SWIFT)" BUILD_DIR="$(BUILD_DIR)" SWIFT_FLAGS="$(SWIFT_FLAGS)" DIST_DIR="$(DIST_DIR)" scripts/dist.sh

# make dist, then the test of what it made: the tarball's files, man pages,
# completions in bash/zsh/fish, lintian on the .deb, the .deb installed in a
# scratch root and its busd started against a redis-server of the test's own.
# `make test` runs this.
dist-check: dist deps-test
	SOCKETBUS_DIST_DIR="$(DIST_DIR)" .venv/bin/python -m pytest -q -p no:cacheprovider Tests/Dist

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
	rm -rf $(BUILD_DIR) bench/.build .build-fuzz $(DIST_DIR)
