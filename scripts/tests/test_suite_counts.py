"""The count parsers of scripts/run-tests.py on outputs captured from the
real runners (scripts/tests/outputs/: swift test with XCTest and
swift-testing, node --test, pytest -q, deploy/validate.sh)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import suite_counts as counts  # noqa: E402

OUTPUTS = Path(__file__).resolve().parent / "outputs"


def output(name):
    return (OUTPUTS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "parse, name, expected",
    [
        # 16 swift-testing tests, no XCTest ("Executed 0 tests").
        (counts.parse_swift, "swift-passed.txt", counts.Counts(16, 0, 0)),
        # XCTest: 3 run, 1 failed, 1 skipped; swift-testing: 4 tests, 2 failed
        # (one parameterized, its 3 cases one test), 1 skipped.
        (counts.parse_swift, "swift-failed.txt", counts.Counts(2, 3, 2)),
        # Crashed after one test passed: no run line; the crash is a failure.
        (counts.parse_swift, "swift-crashed.txt", counts.Counts(1, 1, 0)),
        (counts.parse_node, "node-passed.txt", counts.Counts(78, 0, 0)),
        # A todo counts as skipped.
        (counts.parse_node, "node-failed.txt", counts.Counts(1, 1, 2)),
        (counts.parse_pytest, "pytest-passed.txt", counts.Counts(96, 0, 0)),
        # 1 failed + 1 error; 1 skipped + 1 xfailed.
        (counts.parse_pytest, "pytest-failed.txt", counts.Counts(1, 2, 2)),
        (counts.parse_pytest, "pytest-none.txt", None),
        (counts.parse_validate, "deploy-passed.txt", counts.Counts(13, 0, 1)),
        # scripts/fuzz.sh: one test per fuzz target.
        (counts.parse_fuzz, "fuzz-passed.txt", counts.Counts(3, 0, 0)),
        (counts.parse_fuzz, "fuzz-failed.txt", counts.Counts(2, 1, 0)),
        # Tests/Interop/upstream/run.py: not applicable counts as skipped; no sources: one skipped.
        (counts.parse_upstream, "upstream-ran.txt", counts.Counts(499, 73, 24)),
        (counts.parse_upstream, "upstream-skipped.txt", counts.Counts(0, 0, 1)),
    ],
)
def test_captured_outputs(parse, name, expected):
    assert parse(output(name)) == expected


def test_no_count_is_one_failure():
    for parse in (counts.parse_swift, counts.parse_node, counts.parse_pytest, counts.parse_validate, counts.parse_fuzz,
                  counts.parse_upstream):
        assert parse("error: compile command failed\n") is None
    assert counts.settle(None, 1) == counts.Counts(0, 1, 0)
    assert counts.settle(None, 0) == counts.Counts(0, 1, 0)


def test_a_failed_exit_without_a_failure_counts_one():
    assert counts.settle(counts.Counts(5, 0, 1), 1) == counts.Counts(5, 1, 1)
    assert counts.settle(counts.Counts(5, 2, 1), 1) == counts.Counts(5, 2, 1)
    assert counts.settle(counts.Counts(5, 0, 0), 0) == counts.Counts(5, 0, 0)


def test_colours_and_the_spec_reporter():
    assert counts.parse_pytest("\x1b[32m3 passed\x1b[0m, \x1b[33m1 warning\x1b[0m in 0.5s\n") == counts.Counts(3, 0, 0)
    assert counts.parse_pytest("==== 2 failed, 3 passed in 1.20s ====\n") == counts.Counts(3, 2, 0)
    assert counts.parse_node("ℹ pass 4\nℹ fail 1\nℹ cancelled 1\nℹ skipped 0\n") == counts.Counts(4, 2, 0)


def test_a_runner_without_counts_is_one_check():
    assert counts.settle(counts.parse_one_check("Done 1000 runs in 3 second(s)\n", 0), 0) == counts.Counts(1, 0, 0)
    assert counts.settle(counts.parse_one_check("==1== ERROR: libFuzzer: deadly signal\n", 1), 1) == counts.Counts(0, 1, 0)


def test_the_summary_line_form():
    assert str(counts.Counts(3, 1, 2)) == "3 passed, 1 failed, 2 skipped"
