"""Staging of the core Lambda layer, offline and without Docker.

The layer is a plain folder ``build/layer/python/`` holding copies of the first-party packages (``mantra``,
``frontend_api``, ``events``) less the development tooling (``DEV_ONLY_PATHS``), plus, when present, the third-party runtime dependencies that
``install_layer_deps`` pip-installs for the Lambda platform into ``build/layer-deps/`` (``make layer``).
Synth works without those dependencies (the layer then only holds our own code), so CI and tests stay offline.

Runtime and wheel platform are chosen together: numpy 2.4 ships only ``manylinux_2_28`` wheels
(glibc >= 2.28), which the Python 3.11 Lambda runtime (Amazon Linux 2, glibc 2.26) cannot load; the
Python 3.12 runtime runs on Amazon Linux 2023 (glibc 2.34), which also runs the ``manylinux2014`` wheels of
the other dependencies.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

# One place for the Lambda runtime and the matching wheel tags (infra.constructs.compute reads these too).
LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_ARCHITECTURE = "x86_64"
# pip does not widen a custom --platform to older manylinux tags, so name both: numpy 2.4 only has
# manylinux_2_28 wheels, pydantic-core only manylinux2014 (= manylinux_2_17) ones.
WHEEL_PLATFORMS = (f"manylinux_2_28_{LAMBDA_ARCHITECTURE}", f"manylinux2014_{LAMBDA_ARCHITECTURE}")

# package name inside the layer -> folder relative to the repo root
LAYER_PACKAGES: dict[str, str] = {
    "mantra": "layers/core/mantra",
    "frontend_api": "frontend_api",
    "events": "events",
}

# Development tooling that lives beside the product code but is never deployed: the CLI, the local runtime
# (pollers, cron, gateway), the stand-ins (DynamoDB Local, moto, the Stripe stand-in, the SMTP sink, bootstrap),
# the demo users they seed and the sample events and price files tests and ``mantra invoke`` read. Paths are
# relative to the repository root. The layer and the Fargate image's build context (infra.constructs.feed) both
# leave them out; tests/unit/core/test_import_graph.py proves no product module imports them.
DEV_ONLY_PATHS: tuple[str, ...] = (
    "layers/core/mantra/cli",
    "layers/core/mantra/devtools",
    "layers/core/mantra/runtime",
    "layers/core/mantra/data/users_demo.json",
    "layers/core/mantra/data/sample_stock_daily.csv",
    "layers/core/mantra/data/sample_nifty50_daily.csv",
    "events/samples",
)

# Lambda: function code + layers must stay under 250 MB unzipped; leave room for the function code.
MAX_LAYER_BYTES = 240 * 1024 * 1024

LAYER_DIR = Path("build/layer")
LAYER_DEPS_DIR = Path("build/layer-deps")

_IGNORE = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache", "*.egg-info"
)


def runtime_dependencies(repo_root: Path | str) -> list[str]:
    """The pinned runtime requirements, read from ``[project].dependencies`` in pyproject.toml."""
    repo_root = Path(repo_root)
    with (repo_root / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    return [str(d) for d in project.get("dependencies", [])]


def runtime_distributions(repo_root: Path | str, extras: tuple[str, ...] = ()) -> frozenset[str]:
    """The distributions the runtime requirements (plus the ``[project.optional-dependencies]`` groups named in
    ``extras``) pull in, followed through this environment's installed metadata: what ``make layer`` installs
    (``extras=("feed",)``: what the Fargate image installs). Normalized names.

    A requirement whose marker does not hold here, or that is not installed, is left out.
    """
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    repo_root = Path(repo_root)
    with (repo_root / "pyproject.toml").open("rb") as f:
        optional = tomllib.load(f)["project"].get("optional-dependencies", {})
    wanted = [Requirement(r) for r in runtime_dependencies(repo_root)]
    wanted += [Requirement(r) for extra in extras for r in optional[extra]]
    found: dict[str, set[str]] = {}  # distribution -> the extras asked of it
    while wanted:
        req = wanted.pop()
        name = canonicalize_name(req.name)
        if name in found and set(req.extras) <= found[name]:
            continue  # seen already, with these extras
        asked = found.setdefault(name, set())
        asked |= set(req.extras)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            dep = Requirement(line)
            envs = [{"extra": e} for e in sorted(asked)] or [{"extra": ""}]
            if dep.marker is None or any(dep.marker.evaluate(env) for env in envs):
                wanted.append(dep)
    return frozenset(n for n in found if _installed(n))


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def top_level_modules(distributions: frozenset[str]) -> frozenset[str]:
    """The importable top-level names these installed distributions provide."""
    from packaging.utils import canonicalize_name

    return frozenset(
        module
        for module, dists in metadata.packages_distributions().items()
        if any(canonicalize_name(d) in distributions for d in dists)
    )


def install_layer_deps(repo_root: Path | str, *, python: str = sys.executable) -> Path:
    """pip-install the runtime dependencies as Lambda-compatible binary wheels into ``build/layer-deps``.

    Needs the package index (the only networked step); synth never calls it.
    """
    target = Path(repo_root).resolve() / LAYER_DEPS_DIR
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    cmd = [
        python, "-m", "pip", "install",
        "--target", str(target),
        *(arg for platform in WHEEL_PLATFORMS for arg in ("--platform", platform)),
        "--implementation", "cp",
        "--python-version", LAMBDA_PYTHON_VERSION,
        "--only-binary=:all:",
        "--no-compile",
        "--upgrade",
        *runtime_dependencies(repo_root),
    ]  # fmt: skip
    subprocess.run(cmd, check=True)
    return target


def _first_party_ignore(repo_root: Path) -> Callable[[str, list[str]], set[str]]:
    """``copytree``'s ignore for our packages: bytecode and caches, and every ``DEV_ONLY_PATHS`` entry."""
    dev_only = {repo_root / path for path in DEV_ONLY_PATHS}

    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        return set(_IGNORE(directory, names)) | {name for name in names if here / name in dev_only}

    return ignore


def stage_layer(repo_root: Path | str, layer_dir: Path | str | None = None) -> Path:
    """Build ``<layer_dir>/python/`` from our packages, less the development tooling (+ ``build/layer-deps``
    if installed).

    ``layer_dir`` defaults to ``<repo_root>/build/layer`` (what synth deploys); tests stage into a temporary
    folder. Returns the layer folder. Rebuilt from scratch on every call, so removed modules never linger.
    """
    repo_root = Path(repo_root).resolve()
    layer = Path(layer_dir).resolve() if layer_dir is not None else repo_root / LAYER_DIR
    python_dir = layer / "python"
    if layer.exists():
        shutil.rmtree(layer)
    python_dir.mkdir(parents=True)

    deps = repo_root / LAYER_DEPS_DIR
    if deps.is_dir():
        shutil.copytree(deps, python_dir, dirs_exist_ok=True, ignore=_IGNORE)

    ignore = _first_party_ignore(repo_root)
    for package, source in LAYER_PACKAGES.items():
        src = repo_root / source
        if not (src / "__init__.py").is_file():
            raise FileNotFoundError(f"layer package {package!r} not found at {src}")
        # first-party code wins over anything of the same name in the deps
        shutil.copytree(src, python_dir / package, dirs_exist_ok=True, ignore=ignore)

    size = sum(f.stat().st_size for f in python_dir.rglob("*") if f.is_file())
    if size > MAX_LAYER_BYTES:
        raise ValueError(f"the core layer is {size / 2**20:.0f} MB unzipped; Lambda allows 250 MB in all")
    return layer


def repo_root() -> Path:
    """The repository root (this file lives in ``<root>/infra/``)."""
    return Path(__file__).resolve().parent.parent
