"""Staging of the core Lambda layer, offline and without Docker.

The layer is a plain folder ``build/layer/python/`` holding copies of the first-party packages (``mantra``,
``frontend_api``, ``events``) plus, when present, the third-party runtime dependencies that
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


def stage_layer(repo_root: Path | str) -> Path:
    """Build ``build/layer/python/`` from our packages (+ ``build/layer-deps`` if installed).

    Returns ``build/layer``.

    Rebuilt from scratch on every call, so removed modules never linger in the layer.
    """
    repo_root = Path(repo_root).resolve()
    layer = repo_root / LAYER_DIR
    python_dir = layer / "python"
    if layer.exists():
        shutil.rmtree(layer)
    python_dir.mkdir(parents=True)

    deps = repo_root / LAYER_DEPS_DIR
    if deps.is_dir():
        shutil.copytree(deps, python_dir, dirs_exist_ok=True, ignore=_IGNORE)

    for package, source in LAYER_PACKAGES.items():
        src = repo_root / source
        if not (src / "__init__.py").is_file():
            raise FileNotFoundError(f"layer package {package!r} not found at {src}")
        # first-party code wins over anything of the same name in the deps
        shutil.copytree(src, python_dir / package, dirs_exist_ok=True, ignore=_IGNORE)

    size = sum(f.stat().st_size for f in python_dir.rglob("*") if f.is_file())
    if size > MAX_LAYER_BYTES:
        raise ValueError(f"the core layer is {size / 2**20:.0f} MB unzipped; Lambda allows 250 MB in all")
    return layer


def repo_root() -> Path:
    """The repository root (this file lives in ``<root>/infra/``)."""
    return Path(__file__).resolve().parent.parent
