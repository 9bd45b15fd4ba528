"""The tarball: its files, binaries with the Swift runtime inside, man pages
that render, completion scripts that load in bash, zsh and fish."""

import os
import shutil
import stat
import subprocess
import tarfile

import pytest
from conftest import TOOL_ENV, TOOLS, VERSION, needed_libraries, run

# Every file and link of the /usr/local tree, relative to its top directory.
FILES = {
    "bin/busctl",
    "lib/socketbus/busd",
    "lib/socketbus/busctl",
    "lib/systemd/system/busd@.service",
    "share/man/man8/busd.8",
    "share/man/man1/busctl.1",
    "share/bash-completion/completions/busd",
    "share/bash-completion/completions/busctl",
    "share/zsh/site-functions/_busd",
    "share/zsh/site-functions/_busctl",
    "share/fish/vendor_completions.d/busd.fish",
    "share/fish/vendor_completions.d/busctl.fish",
    "share/doc/socketbus/examples/busd.yaml",
    "share/doc/socketbus/examples/busd.env.example",
    "share/doc/socketbus/install.md",
}


def test_tarball_holds_the_install_tree_owned_by_root(tarball):
    with tarfile.open(tarball) as archive:
        members = archive.getmembers()
    top = f"socketbus-{VERSION}-linux-{os.uname().machine}"
    assert {m.name.split("/", 1)[0] for m in members} == {top}
    files = {m.name.split("/", 1)[1]: m for m in members if not m.isdir()}
    assert set(files) == FILES
    assert {(m.uid, m.gid) for m in members} == {(0, 0)}
    assert files["bin/busctl"].issym() and files["bin/busctl"].linkname == "../lib/socketbus/busctl"
    for tool in TOOLS:
        assert files[f"lib/socketbus/{tool}"].mode == 0o755


def test_binaries_carry_the_swift_runtime_and_run(tree):
    for tool in TOOLS:
        binary = tree / "lib/socketbus" / tool
        libraries = needed_libraries(binary)
        assert not [lib for lib in libraries if lib.startswith(("libswift", "libFoundation", "libdispatch"))]
        # The C libraries stay shared: the .deb's Depends name their packages.
        assert {"libhiredis.so.0.14", "libmsgpackc.so.2", "libcurl.so.4", "libssl.so.3"} <= set(libraries)
        assert "not found" not in run("ldd", str(binary))
        assert run(str(binary), "--version", env=TOOL_ENV).split()[0] == VERSION
    assert run(str(tree / "bin/busctl"), "--version", env=TOOL_ENV).split()[0] == VERSION


def test_unit_starts_the_installed_busd(tree):
    unit = (tree / "lib/systemd/system/busd@.service").read_text()
    assert "\nExecStart=/usr/local/lib/socketbus/busd --config /etc/socketbus/busd.yaml " in unit


@pytest.mark.parametrize("page, words", [
    ("man8/busd.8", ["busd", "--check-config", "--redis", "--log-format"]),
    ("man1/busctl.1", ["busctl", "nodes", "find-socket", "alert-test"]),
])
def test_man_page_renders(tree, page, words):
    path = tree / "share/man" / page
    # groff with every warning on: the plugin's mdoc must be clean.
    done = subprocess.run(["groff", "-mandoc", "-Tutf8", "-ww", "-z", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    if shutil.which("man") is None:
        pytest.skip("man not installed (man-db); groff checked the page")
    text = run("man", "-l", str(path), env={**os.environ, "MANPAGER": "cat", "MANWIDTH": "100", "LC_ALL": "C.UTF-8"})
    assert text.startswith(path.stem.upper()), text[:200]
    for word in words:
        assert word in text


def bash_complete(script, command, words):
    """Loads SCRIPT in a bare bash and asks its completion of COMMAND WORDS... ('' = the word being typed)."""
    line = " ".join([command, *words])
    program = f"""
        source {script}
        complete -p {command}
        spec=$(complete -p {command})
        function=${{spec##*-F }}; function=${{function%% *}}
        COMP_WORDS=({command} {' '.join(f"'{w}'" for w in words)})
        COMP_CWORD={len(words)}
        COMP_LINE='{line}'
        COMP_POINT=${{#COMP_LINE}}
        COMPREPLY=()
        "$function" {command} '{words[-1]}' '{words[-2] if len(words) > 1 else command}'
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    return run("bash", "--norc", "--noprofile", "-c", program).splitlines()


def test_bash_completion_completes_subcommands_and_options(tree):
    completions = tree / "share/bash-completion/completions"
    for tool in TOOLS:
        run("bash", "-n", str(completions / tool))
    out = bash_complete(completions / "busctl", "busctl", [""])
    assert out[0].startswith("complete ") and out[0].endswith(" busctl")
    assert {"nodes", "status", "find-socket", "emit"} <= set(out[1:])
    assert "--json" in bash_complete(completions / "busctl", "busctl", ["nodes", "--js"])
    assert "--check-config" in bash_complete(completions / "busd", "busd", ["--check-c"])


def test_zsh_completion_loads(tree):
    if shutil.which("zsh") is None:
        pytest.skip("zsh not installed (apt-get install zsh)")
    functions = tree / "share/zsh/site-functions"
    for tool in TOOLS:
        run("zsh", "-n", str(functions / f"_{tool}"))
    # compinit finds the files on fpath by their #compdef line.
    program = f"""
        fpath=({functions} $fpath)
        autoload -Uz compinit && compinit -u -d "$TMPDIR/zcompdump"
        print -r -- "$_comps[busd] $_comps[busctl]"
    """
    env = {"HOME": str(tree), "TMPDIR": str(tree), "PATH": os.environ["PATH"]}
    out = run("zsh", "-f", "-c", program, env=env).split("\n")
    assert out[0] == "_busd _busctl"


def test_fish_completion_completes_subcommands_and_options(tree):
    if shutil.which("fish") is None:
        pytest.skip("fish not installed (apt-get install fish)")
    completions = tree / "share/fish/vendor_completions.d"
    for tool in TOOLS:
        run("fish", "--no-execute", str(completions / f"{tool}.fish"))
    env = {"HOME": str(tree), "XDG_CONFIG_HOME": str(tree / ".config"), "PATH": os.environ["PATH"]}

    def complete(tool, line):
        out = run("fish", "--no-config", "-c", f"source {completions / tool}.fish; complete -C '{line}'", env=env)
        return {entry.split("\t")[0] for entry in out.splitlines()}

    assert {"nodes", "status", "find-socket", "emit"} <= complete("busctl", "busctl ")
    assert "--json" in complete("busctl", "busctl nodes --js")
    assert "--check-config" in complete("busd", "busd --check-c")


def test_examples_are_the_deploy_files(tree):
    from conftest import ROOT

    examples = tree / "share/doc/socketbus/examples"
    assert (examples / "busd.yaml").read_bytes() == (ROOT / "deploy/busd.yaml").read_bytes()
    assert (examples / "busd.env.example").read_bytes() == (ROOT / "deploy/busd.env.example").read_bytes()
    assert not stat.S_IMODE((examples / "busd.yaml").stat().st_mode) & 0o022
