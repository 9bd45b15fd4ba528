"""The wheel as pip installs it: built from a copy of this folder with
``python -m build --wheel --no-isolation`` (build and setuptools come from
scripts/requirements-test.txt), checked file by file and in its metadata,
then installed into a fresh venv and imported there with nothing importable
but the standard library and the distributions its Requires-Dist names
(and theirs): a module the package imports without declaring it fails."""

import base64
import email.parser
import hashlib
import importlib.metadata as metadata
import importlib.util
import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = "socketbus_connector"
PYPROJECT = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
VERSION = PYPROJECT["version"]
BOUND = 120  # seconds for any one step; the whole test takes a few


def run(*command, cwd=None):
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=BOUND)
    assert result.returncode == 0, f"{' '.join(map(str, command))}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The built wheel's path; the build runs on a copy, so the worktree gets no build/ or egg-info."""
    assert importlib.util.find_spec("build"), "the build module is missing: scripts/ensure-deps.sh --python installs it"
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    source.mkdir()
    shutil.copy(PROJECT / "pyproject.toml", source)
    shutil.copy(PROJECT / "README.md", source)
    shutil.copytree(PROJECT / PACKAGE, source / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp / "dist"), str(source))
    built = sorted((tmp / "dist").glob("*.whl"))
    assert len(built) == 1, built
    return built[0]


def read_metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        return email.parser.Parser().parsestr(archive.read(f"{PACKAGE}-{VERSION}.dist-info/METADATA").decode())


def runtime_requirements(message):
    """Requires-Dist without the extras' (what `pip install` of the wheel pulls in)."""
    environment = {**default_environment(), "extra": ""}
    requirements = [Requirement(line) for line in message.get_all("Requires-Dist") or []]
    return [r for r in requirements if r.marker is None or r.marker.evaluate(environment)]


def test_wheel_holds_the_package_and_its_metadata_only(wheel):
    assert wheel.name == f"{PACKAGE}-{VERSION}-py3-none-any.whl"
    sources = sorted(f"{PACKAGE}/{p.name}" for p in (PROJECT / PACKAGE).glob("*.py"))
    assert len(sources) >= 10
    info = f"{PACKAGE}-{VERSION}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(sources + [f"{info}/{n}" for n in ("METADATA", "WHEEL", "top_level.txt", "RECORD")])
        # The files are this folder's, and RECORD's hashes are theirs.
        for name in sources:
            assert archive.read(name) == (PROJECT / name).read_bytes(), name
        for line in archive.read(f"{info}/RECORD").decode().splitlines():
            name, digest, size = line.rsplit(",", 2)
            if name.endswith("/RECORD"):
                continue
            data = archive.read(name)
            expected = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert (digest, int(size)) == (expected, len(data)), name
        assert archive.read(f"{info}/top_level.txt").decode().split() == [PACKAGE]
        assert "Root-Is-Purelib: true" in archive.read(f"{info}/WHEEL").decode()


def test_wheel_metadata(wheel):
    message = read_metadata(wheel)
    assert message["Name"] == "socketbus-connector"
    assert message["Version"] == VERSION
    assert message["Requires-Python"] == ">=3.10"
    assert message.get_content_type() == "text/plain"  # the header; the body is README.md
    assert message["Description-Content-Type"] == "text/markdown"
    assert message.get_payload().strip() == (PROJECT / "README.md").read_text().strip()
    runtime = {canonicalize_name(r.name): str(r.specifier) for r in runtime_requirements(message)}
    assert runtime == {"python-socketio": "<6,>=5.12", "msgpack": "<2,>=1.0"}


def dependency_modules(requirements):
    """Top-level modules of the declared distributions and of what they require, as installed here."""
    wanted = [canonicalize_name(r.name) for r in requirements]
    closure = set()
    environment = {**default_environment(), "extra": ""}
    while wanted:
        name = wanted.pop()
        if name in closure:
            continue
        closure.add(name)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                wanted.append(canonicalize_name(requirement.name))
    modules = sorted(
        module
        for module, distributions in metadata.packages_distributions().items()
        if any(canonicalize_name(d) in closure for d in distributions)
    )
    # Where those distributions are installed (the fresh venv sees them through a .pth file).
    locations = sorted({str(metadata.distribution(name).locate_file("")) for name in closure})
    return closure, modules, locations


# Run by the fresh venv's interpreter: only the standard library, the
# installed wheel and the declared dependencies' modules may be imported.
IMPORT_CHECK = r"""
import importlib, importlib.metadata, json, pkgutil, sys
allowed = set(json.loads(sys.argv[1]))

class Undeclared:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in allowed or top in sys.stdlib_module_names or top == "socketbus_connector":
            return None
        raise ModuleNotFoundError(f"{name}: not from a declared dependency", name=name)

sys.meta_path.insert(0, Undeclared())
import socketbus_connector as package
for module in pkgutil.iter_modules(package.__path__):
    importlib.import_module(f"socketbus_connector.{module.name}")
missing = [name for name in package.__all__ if not hasattr(package, name)]
print(json.dumps({
    "file": package.__file__,
    "version": package.__version__,
    "installed": importlib.metadata.version("socketbus-connector"),
    "missing": missing,
    "modules": sorted(m for m in sys.modules if m.startswith("socketbus_connector")),
}))
"""


def test_wheel_installs_into_a_fresh_venv_and_imports_with_only_its_declared_dependencies(wheel, tmp_path):
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    # This interpreter's pip installs into the venv, from the wheel alone.
    run(sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--disable-pip-version-check",
        "--no-index", "--no-deps", str(wheel))
    requirements = runtime_requirements(read_metadata(wheel))
    closure, modules, locations = dependency_modules(requirements)
    assert {"python-socketio", "python-engineio", "msgpack"} <= closure
    site_packages = Path(run(str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    (site_packages / "declared-dependencies.pth").write_text("\n".join(locations) + "\n")
    # The declared versions are satisfied by what the venv sees.
    run(sys.executable, "-m", "pip", "--python", str(python), "check", "--disable-pip-version-check")

    report = json.loads(run(str(python), "-c", IMPORT_CHECK, json.dumps(modules), cwd=tmp_path))
    assert Path(report["file"]).is_relative_to(site_packages), report["file"]
    assert report["version"] == report["installed"] == VERSION
    assert report["missing"] == []
    expected = {PACKAGE} | {f"{PACKAGE}.{p.stem}" for p in (PROJECT / PACKAGE).glob("*.py") if p.stem != "__init__"}
    assert set(report["modules"]) == expected
