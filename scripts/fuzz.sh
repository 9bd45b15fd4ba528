#!/usr/bin/env bash
# Builds the fuzz targets (Fuzz/, libFuzzer) and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default: FUZZ_SECONDS, else 20); TARGETs among codec,
# local-frame, route (default: all). `make test` runs it with the default,
# `make fuzz` with FUZZ_SECONDS=300. Exits non-zero when a target crashed
# (or the build failed); the last line is `fuzz: N passed, N failed`,
# counting targets.
#
# Kept under FUZZ_BUILD_DIR (default .build-fuzz, never committed):
#   corpus/<target>/      what the fuzzer learnt, reused by the next run
#   seeds/<target>/       made afresh by scripts/fuzz-seeds.py from the vectors
#   artifacts/<target>-*  crash inputs: minimize with
#                         .build-fuzz/release/fuzz-<target> -minimize_crash=1 -max_total_time=60 FILE
#                         then keep the input in Fuzz/regressions/<target>/
#   logs/fuzz-<target>.log
#
# FUZZ_ROUTE_LONG_STRINGS=1 and FUZZ_ROUTE_OVERSIZED_FRAMES=1 let the route
# target reach known failures it skips otherwise (Fuzz/Sources/FuzzRoute/KnownTraps.swift).
set -euo pipefail

cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-${FUZZ_SECONDS:-20}}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(codec local-frame route)
SWIFT=${SWIFT:-swift}
BUILD=${FUZZ_BUILD_DIR:-.build-fuzz}
PYTHON=${PYTHON:-python3}

mkdir -p "$BUILD/logs" "$BUILD/artifacts"
# Release: about twice the executions per second of a debug build, and the
# same traps (preconditions and integer conversions stay checked at -O);
# -enable-testing for the route target's `@testable import BusCore`.
# lld: SwiftPM renames each executable's main, and the fuzzer runtime then
# needs LLVMFuzzerTestOneInput resolved at link time (see Fuzz/README.md).
echo "fuzz: building ${TARGETS[*]} (-sanitize=fuzzer,address) in $BUILD"
build_start=$(date +%s)
if ! "$SWIFT" build --package-path Fuzz --scratch-path "$BUILD" -c release -Xswiftc -enable-testing \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld >"$BUILD/logs/fuzz-build.log" 2>&1; then
    tail -n 30 "$BUILD/logs/fuzz-build.log"
    echo "fuzz: 0 passed, ${#TARGETS[@]} failed (build failed, see $BUILD/logs/fuzz-build.log)"
    exit 1
fi
echo "fuzz: built in $(($(date +%s) - build_start)) s"

rm -rf "$BUILD/seeds"
"$PYTHON" scripts/fuzz-seeds.py "$BUILD/seeds"

passed=0
failed=0
for target in "${TARGETS[@]}"; do
    mkdir -p "$BUILD/corpus/$target"
    log="$BUILD/logs/fuzz-$target.log"
    # Swift's backtracer hangs under libFuzzer's signal handlers: off.
    # -timeout: an input taking 10 s counts as a failure (a hang).
    dict=()
    [ "$target" = local-frame ] || dict=(-dict=Fuzz/dicts/adapter.dict)
    status=0
    SWIFT_BACKTRACE=enable=no "$BUILD/release/fuzz-$target" \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$target-" "${dict[@]}" \
        "$BUILD/corpus/$target" "$BUILD/seeds/$target" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
    if [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
        echo "fuzz: $target passed: ${runs:-?} runs, ${speed:-?} exec/s, ${coverage:-no coverage line} (${SECONDS_PER_TARGET} s)"
    else
        failed=$((failed + 1))
        echo "fuzz: $target FAILED (exit $status) after ${runs:-?} runs; log $log"
        # Release builds name the failure in the stack ("Swift runtime failure"), the next frame its place.
        grep -m 2 -A 1 -E 'Fatal error|Swift runtime failure' "$log" | cut -c 1-200 || true
        grep -E 'ERROR: |Test unit written' "$log" | head -n 4 || true
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
