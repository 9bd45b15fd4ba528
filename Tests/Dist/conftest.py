"""What `make dist` made (dist/ or $SOCKETBUS_DIST_DIR): the tarball unpacked,
the .deb installed into a scratch dpkg root. Without them every test skips:
`make dist-check` builds them first, once."""

import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / os.environ.get("SOCKETBUS_DIST_DIR", "dist")
VERSION = re.search(
    r'public static let string = "([^"]+)"', (ROOT / "Sources/BusCore/SocketBusVersion.swift").read_text()
).group(1)
sys.path.insert(0, str(ROOT / "Tests" / "PyHarness"))
from harness import free_port, wait_for  # noqa: E402,F401  (the tests import them from here)

TOOLS = ("busd", "busctl")
# busd and busctl refuse SOCKETBUS_* variables that name no setting, such as
# SOCKETBUS_DIST_DIR or make test's SOCKETBUS_BIN_DIR: they run without any.
TOOL_ENV = {name: value for name, value in os.environ.items() if not name.startswith("SOCKETBUS_")}


def run(*argv, **kwargs):
    """Runs argv, returns its stdout; fails the test with its output if it exits non-zero."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=kwargs.pop("timeout", 60), **kwargs)
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def needed_libraries(binary: Path):
    dynamic = run("readelf", "-d", str(binary))
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+)\]", dynamic)


def _made(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} missing: run `make dist-check`")
    return path


@pytest.fixture(scope="session")
def tarball() -> Path:
    return _made(DIST / f"socketbus-{VERSION}-linux-{platform.machine()}.tar.gz")


@pytest.fixture(scope="session")
def deb() -> Path:
    arch = run("dpkg", "--print-architecture").strip()
    return _made(DIST / f"socketbus_{VERSION}_{arch}.deb")


@pytest.fixture(scope="session")
def tree(tarball, tmp_path_factory) -> Path:
    """The tarball unpacked; the path of its one top directory."""
    target = tmp_path_factory.mktemp("tarball")
    with tarfile.open(tarball) as archive:
        archive.extractall(target, filter="tar")
    (top,) = target.iterdir()
    return top


def _host_state():
    """What installing into the scratch root must not change on this machine."""
    query = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", "socketbus"], capture_output=True, text=True)
    user = subprocess.run(["getent", "passwd", "socketbus"], capture_output=True, text=True).stdout
    return (query.stdout, user, Path("/usr/lib/socketbus").exists(), Path("/usr/bin/socketbus-busctl").exists())


@pytest.fixture(scope="session")
def scratch_root(deb, tmp_path_factory):
    """A dpkg root of the test's own with the .deb installed; maintainer
    scripts run outside a chroot with DPKG_ROOT set. The libraries it depends
    on are this machine's (checked in test_deb.py), hence --force-depends."""
    root = tmp_path_factory.mktemp("dpkg-root")
    admin = root / "var/lib/dpkg"
    for d in ("info", "updates", "triggers"):
        (admin / d).mkdir(parents=True)
    (admin / "status").touch()
    etc = root / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (etc / "group").write_text("root:x:0:\n")
    (etc / "shadow").write_text("root:*:20000:0:99999:7:::\n")
    (etc / "gshadow").write_text("root:*::\n")
    before = _host_state()
    dpkg = ["dpkg", f"--root={root}", "--force-not-root", "--force-script-chrootless", "--force-depends",
            f"--log={root / 'dpkg.log'}"]
    run(*dpkg, "--install", str(deb), timeout=120)
    assert _host_state() == before, "installing into the scratch root changed this machine"
    yield root, dpkg
    assert _host_state() == before, "the scratch root's tests changed this machine"


@pytest.fixture
def redis_port(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )

    def answers():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    try:
        wait_for(answers, what="redis-server")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)
