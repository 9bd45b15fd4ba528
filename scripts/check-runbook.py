#!/usr/bin/env python3
"""Checks that docs/runbook.md covers what busd and busctl can say at 3 a.m.

From the Swift sources it collects:

- every log message at warning or above: `logger.warning(...)`,
  `.error(...)`, `.critical(...)` on any receiver whose name has "log" in
  it, and `logger.log(level: ...)` unless the level is a literal below
  warning;
- every fatal line written to stderr: `refuseToStart(...)`,
  `FileHandle.standardError.write(Data("...".utf8))`, busctl's
  `printError(...)`;
- every `/readyz` reason: `reasons.append(...)` anywhere, and
  `lines.append(...)` in Sources/Busd/StatusPages*.swift;
- every exit status of busd (Sources/Busd, Sources/BusConfig) and of busctl
  (Sources/BusCtl, Sources/BusOptions): `ExitCode(N)`, `ExitCode(name)` with
  `let name: Int32 = N` in the same program's sources, `ExitCode.failure`,
  `exit(N)`, plus 0 and ArgumentParser's 64 (usage error).

A message becomes a template: its text with each interpolation `\\(...)`
written `…` and runs of white space made one space. A message whose text is
all interpolation (`"\\(cause.logText): \\(error)"`) is expanded through the
`var name: String` property it names, when one definition of it exists.

The runbook covers a message when an entry's heading is the template
between backticks: `#### `template``. It covers an exit status
when the table under `### busd exit codes` (or `### busctl exit codes`) has
a row `| N | ...`. Entries the sources no longer produce (a `####` heading
whose backticked text is no template, a table row for an unused status) are
reported as stale.

Exit status 0 when the runbook covers everything and has nothing stale, 1
otherwise (each gap on its own line, ready to paste), 2 on a usage error.
`--list` prints every item found instead.
"""

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ELLIPSIS = "…"
# Fewer letters than this outside interpolations: nothing an operator can search for.
MIN_FIXED_LETTERS = 6
PROGRAMS = {
    "busd": ["Busd", "BusConfig"],
    "busctl": ["BusCtl", "BusOptions"],
}
# ArgumentParser's own: 0 done, 64 (EX_USAGE) a flag or argument it refused.
ALWAYS_EXIT = {0: "ArgumentParser (success)", 64: "ArgumentParser (usage error, EX_USAGE)"}
NAMED_EXIT = {"success": 0, "failure": 1, "validationFailure": 64}


@dataclass(frozen=True)
class Item:
    kind: str  # "log", "stderr", "readyz"
    level: str  # warning, error, critical, "warning or above", "" for non-log
    template: str
    where: str

    def line(self):
        what = {"log": f"log line ({self.level})", "stderr": "stderr line", "readyz": "/readyz reason"}[self.kind]
        return f"{what} at {self.where}: `{self.template}`"


# --- Swift source reading -----------------------------------------------------


def mask(text):
    """The source with comments and the contents of string literals blanked
    (quotes and newlines kept, so offsets and line numbers stay), and the
    offsets where plain string literals start."""
    out = list(text)
    starts = []

    def blank(start, end):
        for k in range(start, end):
            if out[k] != "\n":
                out[k] = " "

    i, n = 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif text[i] == "#" and RAW_START.match(text, i):
            j = skip_raw_string(text, i)
            blank(i, j)
            i = j
        elif text[i] == '"':
            starts.append(i)
            quotes = 3 if text.startswith('"""', i) else 1
            _, j = parse_string(text, i)
            blank(i + quotes, max(i + quotes, j - quotes))
            i = j
        else:
            i += 1
    return "".join(out), starts


RAW_START = re.compile(r'#+"')
UNICODE_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]+)\}")


def skip_raw_string(text, i):
    hashes = RAW_START.match(text, i).group(0)[:-1]
    start = i + len(hashes)
    quotes = '"""' if text.startswith('"""', start) else '"'
    end = text.find(quotes + hashes, start + len(quotes))
    return len(text) if end < 0 else end + len(quotes) + len(hashes)


def skip_interpolation(text, i):
    """i is just after `\\(`; returns (expression text, index after its `)`)."""
    depth, j = 1, i
    while j < len(text):
        c = text[j]
        if c == '"':
            _, j = parse_string(text, j)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return text[i:j], j + 1
        j += 1
    return text[i:], len(text)


ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}


def parse_string(text, i):
    """A string literal at text[i] ('"' or '\"\"\"'): (parts, index after it),
    parts a list of ("text", s) and ("expr", e)."""
    multi = text.startswith('"""', i)
    j = i + (3 if multi else 1)
    parts, buf = [], []
    while j < len(text):
        if multi and text.startswith('"""', j):
            j += 3
            break
        c = text[j]
        if not multi and c == '"':
            j += 1
            break
        if c == "\\":
            nxt = text[j + 1 : j + 2]
            if nxt == "(":
                if buf:
                    parts.append(("text", "".join(buf)))
                    buf = []
                expr, j = skip_interpolation(text, j + 2)
                parts.append(("expr", expr.strip()))
                continue
            if multi and nxt == "\n":  # line continuation
                j += 2
                continue
            if nxt == "u":
                m = UNICODE_ESCAPE.match(text, j)
                if m:
                    buf.append(chr(int(m.group(1), 16)))
                    j += len(m.group(0))
                    continue
            buf.append(ESCAPES.get(nxt, nxt))
            j += 2
            continue
        buf.append(c)
        j += 1
    if buf:
        parts.append(("text", "".join(buf)))
    return parts, j


def parse_message(text, i):
    """The message argument starting at or after text[i]: string literals
    joined by `+`, and what follows up to the argument's end is ignored.
    Returns parts, or None when the argument is not a literal."""
    parts = []
    j = i
    while True:
        while j < len(text) and text[j] in " \t\r\n":
            j += 1
        if text.startswith('"', j):
            more, j = parse_string(text, j)
            parts += more
        else:
            return parts or None
        k = j
        while k < len(text) and text[k] in " \t\r\n":
            k += 1
        if text.startswith("+", k) and not text.startswith("+=", k):
            j = k + 1
            continue
        return parts


def skip_argument(text, i):
    """Index after the top-level comma ending the argument at text[i]."""
    depth, j = 0, i
    while j < len(text):
        c = text[j]
        if c == '"':
            _, j = parse_string(text, j)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return j
            depth -= 1
        elif c == "," and depth == 0:
            return j + 1
        j += 1
    return j


def template_of(parts):
    text = "".join(s if kind == "text" else ELLIPSIS for kind, s in parts)
    return " ".join(text.split())


def fixed_letters(parts):
    return sum(ch.isalpha() for kind, s in parts if kind == "text" for ch in s)


class Sources:
    def __init__(self, root):
        self.root = root
        self.files = {}
        self.string_starts = {}
        for path in sorted(root.rglob("*.swift")):
            text = path.read_text(encoding="utf-8", errors="replace")
            masked, starts = mask(text)
            self.files[path] = (text, masked)
            self.string_starts[path] = starts
        self._string_properties = None

    def where(self, path, offset):
        text = self.files[path][0]
        return f"{path.relative_to(self.root.parent)}:{text.count(chr(10), 0, offset) + 1}"

    def string_property(self, name):
        """The literals a `var name: String { ... }` can return, when exactly
        one such property exists; else None."""
        if self._string_properties is None:
            found = {}
            for path, (text, masked) in self.files.items():
                for m in re.finditer(r"\bvar\s+(\w+)\s*:\s*String\s*\{", masked):
                    body_end = matching_brace(masked, m.end() - 1)
                    literals = []
                    j = m.end()
                    while j < body_end:
                        if masked[j] == '"':
                            parts, j = parse_string(text, j)
                            literals.append(parts)
                        else:
                            j += 1
                    found.setdefault(m.group(1), []).append(literals)
            self._string_properties = found
        bodies = self._string_properties.get(name, [])
        return bodies[0] if len(bodies) == 1 and bodies[0] else None


def matching_brace(masked, i):
    depth, j = 0, i
    while j < len(masked):
        c = masked[j]
        if c == '"':
            j = skip_plain_string(masked, j)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return j


def skip_plain_string(text, j):
    _, end = parse_string(text, j)
    return end


def expand(parts, sources):
    """Templates for a message; an all-interpolation message is expanded
    through the String property its interpolations name."""
    if fixed_letters(parts) >= MIN_FIXED_LETTERS:
        return [parts]
    for index, (kind, expr) in enumerate(parts):
        if kind != "expr":
            continue
        name = expr.split(".")[-1]
        if not re.fullmatch(r"\w+", name):
            continue
        literals = sources.string_property(name)
        if literals:
            return [parts[:index] + literal + parts[index + 1 :] for literal in literals]
    return [parts]


LOG_CALL = re.compile(r"\b(\w*[Ll]og\w*)\s*\.\s*(warning|error|critical)\s*\(")
LOG_LEVEL_CALL = re.compile(r"\b\w*[Ll]og\w*\s*\.\s*log\s*\(\s*level\s*:\s*")
STDERR_CALLS = [
    re.compile(r"(?<!func )\brefuseToStart\s*\("),
    re.compile(r"(?<!func )\bprintError\s*\("),
    re.compile(r"\bstandardError\s*\.\s*write\s*\(\s*Data\s*\("),
    re.compile(r"\bfputs\s*\("),
]


def collect(sources):
    items, unchecked = [], []

    def add(kind, level, parts, path, offset):
        where = sources.where(path, offset)
        for variant in expand(parts, sources):
            if fixed_letters(variant) < MIN_FIXED_LETTERS:
                unchecked.append(f"{where}: `{template_of(variant)}` has no fixed text to look up")
                continue
            items.append(Item(kind, level, template_of(variant), where))

    for path, (text, masked) in sources.files.items():
        for m in LOG_CALL.finditer(masked):
            parts = parse_message(text, m.end())
            if parts:
                add("log", m.group(2), parts, path, m.start())
            else:
                unchecked.append(f"{sources.where(path, m.start())}: .{m.group(2)}(...) with a message that is not a literal")
        for m in LOG_LEVEL_CALL.finditer(masked):
            after = skip_argument(text, m.end())
            named = set(re.findall(r"\.(trace|debug|info|notice|warning|error|critical)\b", masked[m.end() : after]))
            high = [level for level in ("critical", "error", "warning") if level in named]
            if named and not high:
                continue  # e.g. `failures == 0 ? .info : .debug`
            parts = parse_message(text, after)
            if parts:
                # A level held in a variable may be warning or above.
                add("log", "/".join(reversed(high)) if high else "warning or above", parts, path, m.start())
            else:
                unchecked.append(f"{sources.where(path, m.start())}: .log(level:...) with a message that is not a literal")
        for pattern in STDERR_CALLS:
            for m in pattern.finditer(masked):
                parts = parse_message(text, m.end())
                if parts:
                    add("stderr", "", parts, path, m.start())
        # busd's fatal lines built as text first (`"busd: configuration error: \\($0)\\n"`).
        if path.relative_to(sources.root).parts[0] == "Busd":
            for start in sources.string_starts[path]:
                if text.startswith('"busd: ', start):
                    parts, _ = parse_string(text, start)
                    add("stderr", "", parts, path, start)
        readyz = [re.compile(r"\breasons\s*\.\s*append\s*\(")]
        if path.name.startswith("StatusPages"):
            readyz.append(re.compile(r"\blines\s*\.\s*append\s*\("))
        for pattern in readyz:
            for m in pattern.finditer(masked):
                parts = parse_message(text, m.end())
                if parts:
                    add("readyz", "", parts, path, m.start())
    # One entry per template (the first place it is written).
    unique = {}
    for item in items:
        unique.setdefault((item.kind, item.template), item)
    return list(unique.values()), unchecked


EXIT_LITERAL = re.compile(r"\bExitCode\s*\(\s*(\d+)\s*\)")
EXIT_NAMED = re.compile(r"\bExitCode\s*\(\s*([A-Za-z_][\w.]*)\s*\)")
EXIT_MEMBER = re.compile(r"\bExitCode\s*\.\s*(\w+)")
EXIT_CALL = re.compile(r"(?<![\w.])(?:Foundation\s*\.\s*)?exit\s*\(\s*(\d+)\s*\)")


def collect_exits(sources, source_root):
    """{program: {code: where}}, and notes on statuses whose value is not a literal."""
    exits, notes = {}, []
    for program, folders in PROGRAMS.items():
        codes = dict(ALWAYS_EXIT)
        files = [
            (path, text, masked)
            for path, (text, masked) in sources.files.items()
            if path.relative_to(source_root).parts[0] in folders
        ]
        constants = {}
        for _, text, masked in files:
            for m in re.finditer(r"\blet\s+(\w+)\s*:\s*Int32\s*=\s*(\d+)\b", masked):
                constants.setdefault(m.group(1), set()).add(int(m.group(2)))
        for path, text, masked in files:
            for pattern in (EXIT_LITERAL, EXIT_CALL):
                for m in pattern.finditer(masked):
                    codes.setdefault(int(m.group(1)), sources.where(path, m.start()))
            for m in EXIT_NAMED.finditer(masked):
                name = m.group(1).split(".")[-1]
                values = constants.get(name, set())
                if len(values) == 1:
                    codes.setdefault(next(iter(values)), sources.where(path, m.start()))
                elif name not in ("exit", "code", "status") or not values:
                    notes.append(f"{program}: {sources.where(path, m.start())}: ExitCode({m.group(1)}) has no literal value here")
            for m in EXIT_MEMBER.finditer(masked):
                if m.group(1) in NAMED_EXIT:
                    codes.setdefault(NAMED_EXIT[m.group(1)], sources.where(path, m.start()))
        exits[program] = codes
    return exits, notes


# --- the runbook -----------------------------------------------------------------


def runbook_headings(text):
    """The backticked text of each `####` heading, with its line number."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#### "):
            m = re.search(r"`([^`]+)`", line)
            if m:
                out.append((" ".join(m.group(1).split()), number))
    return out


def runbook_exit_rows(text):
    """{program: {code: line number}} from the tables under `### <program> exit codes`."""
    rows, program = {}, None
    for number, line in enumerate(text.splitlines(), 1):
        heading = re.match(r"#{2,3} (\w+) exit codes\s*$", line)
        if heading:
            program = heading.group(1)
            rows.setdefault(program, {})
            continue
        if line.startswith("#"):
            program = None
            continue
        m = re.match(r"\|\s*(\d+)\s*\|", line)
        if program and m:
            rows[program].setdefault(int(m.group(1)), number)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, default=ROOT / "Sources")
    parser.add_argument("--runbook", type=Path, default=ROOT / "docs" / "runbook.md")
    parser.add_argument("--list", action="store_true", help="print every item found in the sources")
    args = parser.parse_args(argv)
    sources = Sources(args.sources.resolve())
    items, unchecked = collect(sources)
    exits, exit_notes = collect_exits(sources, args.sources.resolve())

    if args.list:
        for item in sorted(items, key=lambda i: (i.kind, i.where)):
            print(item.line())
        for program, codes in exits.items():
            for code, where in sorted(codes.items()):
                print(f"{program} exit {code} ({where})")
        for note in dict.fromkeys(unchecked + exit_notes):
            print(f"note: {note}")
        return 0

    try:
        runbook = args.runbook.read_text(encoding="utf-8")
    except OSError as error:
        print(f"check-runbook: cannot read {args.runbook}: {error}")
        return 1
    name = args.runbook.name
    headings = runbook_headings(runbook)
    known = {template for template, _ in headings}
    missing = [item for item in items if item.template not in known]
    templates = {item.template for item in items}
    stale = [(t, n) for t, n in headings if t not in templates]
    rows = runbook_exit_rows(runbook)
    missing_exits, stale_exits = [], []
    for program, codes in exits.items():
        documented = rows.get(program)
        if documented is None:
            missing_exits.append(f"no `### {program} exit codes` table")
            continue
        for code, where in sorted(codes.items()):
            if code not in documented:
                missing_exits.append(f"{program} exit status {code} (used at {where}): a row `| {code} | ... |` under `### {program} exit codes`")
        for code, number in sorted(documented.items()):
            if code not in codes:
                stale_exits.append(f"{name}:{number}: {program} exit status {code} is documented but the sources never use it")

    notes = [f"note (not checked): {note}" for note in dict.fromkeys(unchecked + exit_notes)]
    problems = len(missing) + len(stale) + len(missing_exits) + len(stale_exits)
    if problems == 0:
        print(
            f"runbook: {name} covers {len(items)} messages "
            f"({sum(i.kind == 'log' for i in items)} log lines, {sum(i.kind == 'stderr' for i in items)} stderr lines, "
            f"{sum(i.kind == 'readyz' for i in items)} /readyz reasons) and "
            + ", ".join(f"{len(c)} {p} exit statuses" for p, c in exits.items())
        )
        print("\n".join(notes), end="\n" if notes else "")
        return 0
    if missing:
        print(
            f"{name} lacks {len(missing)} message(s); for each, add under its subsystem a heading line "
            "'#### ' followed by the text between backticks as shown, then what it means and what to do:"
        )
        for item in sorted(missing, key=lambda i: i.where):
            print(f"  MISSING {item.line()}")
    if missing_exits:
        print(f"{name} lacks {len(missing_exits)} exit status(es):")
        for line in missing_exits:
            print(f"  MISSING {line}")
    if stale or stale_exits:
        print(f"{name} has {len(stale) + len(stale_exits)} stale entr(y/ies) the sources no longer produce:")
        for template, number in stale:
            print(f"  STALE {name}:{number}: `{template}`")
        for line in stale_exits:
            print(f"  STALE {line}")
    print("\n".join(notes), end="\n" if notes else "")
    print(f"runbook: {problems} problem(s)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
