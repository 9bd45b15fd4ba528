"""scripts/check-runbook.py: what it finds in Swift sources, what it
reports missing or stale in a runbook, and the real docs/runbook.md."""

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "scripts" / "check-runbook.py"

spec = importlib.util.spec_from_file_location("check_runbook", SCRIPT)
check_runbook = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_runbook)


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run(sources, runbook):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--sources", str(sources), "--runbook", str(runbook)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout


BUSD = r'''
    enum Cause {
        case a, b
        var shout: String {
            switch self {
            case .a: "the disk is full"
            case .b: "the disk is gone"
            }
        }
    }
    func f(logger: Logger, failures: Int, level: Logger.Level) throws {
        logger.warning("disk on fire: \(x); call \(y.joined(separator: ")")) now", metadata: ["a": "b"])
        self.logger.error(
            "two parts " +
                "joined \(z)"
        )
        logger.critical("""
            a multi-line \
            message
            """)
        // logger.error("only a comment")
        /* logger.error("a block comment") */
        logger.info("not a warning")
        logger.log(level: failures == 0 ? .info : .debug, "quiet retry")
        logger.log(level: failures == 0 ? .warning : .debug, "loud first \(n)")
        logger.log(level: level, "\(cause.shout): \(error)")
        let text = #"logger.error("inside a raw string")"#
        refuseToStart("redis.thing: refused \(why)")
        FileHandle.standardError.write(Data("busd: cannot bind \(path)\n".utf8))
        logger.error(message)
        fputs("busd: cannot write the pid file\n", stderr)
        throw ExitCode(78)
    }
    func g() { Foundation.exit(9) }
'''

BUSCTL = r'''
    enum Codes { static let odd: Int32 = 7 }
    func h() throws {
        printError("busctl thing: no such thing \(name)")
        throw ExitCode(Codes.odd)
    }
'''

READINESS = r'''
    var reasons: [String] {
        var reasons: [String] = []
        if !a { reasons.append("the thing is not ready") }
        return reasons
    }
'''

EXPECTED_TEMPLATES = {
    ("log", "disk on fire: …; call … now"),
    ("log", "two parts joined …"),
    ("log", "a multi-line message"),
    ("log", "loud first …"),
    ("log", "the disk is full: …"),
    ("log", "the disk is gone: …"),
    ("stderr", "redis.thing: refused …"),
    ("stderr", "busd: cannot bind …"),
    ("stderr", "busd: cannot write the pid file"),
    ("stderr", "busctl thing: no such thing …"),
    ("readyz", "the thing is not ready"),
}

COMPLETE_RUNBOOK = """\
# runbook

## Things

""" + "\n".join(f"#### `{template}`\n\nWhat to do.\n" for _, template in sorted(EXPECTED_TEMPLATES)) + """
## Exit codes

### busd exit codes

| status | meaning |
|---|---|
| 0 | ok |
| 9 | nine |
| 64 | usage |
| 78 | config |

### busctl exit codes

| status | meaning |
|---|---|
| 0 | ok |
| 7 | odd |
| 64 | usage |
"""


def fake_sources(tmp_path):
    sources = tmp_path / "Sources"
    write(sources, "Busd/Daemon.swift", BUSD)
    write(sources, "BusCtl/Thing.swift", BUSCTL)
    write(sources, "BusCore/Readiness.swift", READINESS)
    return sources


def test_finds_every_message_at_warning_or_above_and_nothing_else(tmp_path):
    sources = fake_sources(tmp_path)
    items, _ = check_runbook.collect(check_runbook.Sources(sources))
    assert {(item.kind, item.template) for item in items} == EXPECTED_TEMPLATES
    levels = {item.template: item.level for item in items}
    assert levels["disk on fire: …; call … now"] == "warning"
    assert levels["a multi-line message"] == "critical"
    assert levels["loud first …"] == "warning"
    assert levels["the disk is full: …"] == "warning or above"


def test_finds_exit_statuses_of_each_program(tmp_path):
    sources = fake_sources(tmp_path).resolve()
    exits, notes = check_runbook.collect_exits(check_runbook.Sources(sources), sources)
    assert set(exits["busd"]) == {0, 9, 64, 78}
    assert set(exits["busctl"]) == {0, 7, 64}
    assert notes == []


def test_complete_runbook_passes(tmp_path):
    sources = fake_sources(tmp_path)
    runbook = write(tmp_path, "runbook.md", COMPLETE_RUNBOOK)
    status, out = run(sources, runbook)
    assert status == 0, out
    assert "covers 11 messages" in out
    # A message the script cannot read is named, not silently passed over.
    assert "Sources/Busd/Daemon.swift:30: .error(...) with a message that is not a literal" in out


def test_names_each_missing_message_and_exit_status(tmp_path):
    sources = fake_sources(tmp_path)
    text = COMPLETE_RUNBOOK.replace("#### `loud first …`", "").replace("| 7 | odd |\n", "")
    text = text.replace("#### `the thing is not ready`", "")
    runbook = write(tmp_path, "runbook.md", text)
    status, out = run(sources, runbook)
    assert status == 1
    missing = [line for line in out.splitlines() if line.startswith("  MISSING")]
    assert len(missing) == 3, out
    assert any("log line (warning) at Sources/Busd/Daemon.swift:" in m and "`loud first …`" in m for m in missing)
    assert any("/readyz reason" in m and "`the thing is not ready`" in m for m in missing)
    assert any("busctl exit status 7" in m and "Sources/BusCtl/Thing.swift:5" in m for m in missing)


def test_names_stale_entries(tmp_path):
    sources = fake_sources(tmp_path)
    text = COMPLETE_RUNBOOK.replace("## Exit codes", "#### `a line busd no longer writes`\n\n## Exit codes")
    text = text.replace("| 78 | config |", "| 78 | config |\n| 3 | gone |")
    runbook = write(tmp_path, "runbook.md", text)
    status, out = run(sources, runbook)
    assert status == 1
    stale = [line for line in out.splitlines() if line.startswith("  STALE")]
    assert len(stale) == 2, out
    assert any("`a line busd no longer writes`" in line for line in stale)
    assert any("busd exit status 3" in line for line in stale)


def test_the_real_runbook_covers_the_real_sources():
    status, out = run(ROOT / "Sources", ROOT / "docs" / "runbook.md")
    assert status == 0, out
