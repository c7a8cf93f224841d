"""The core layer is staged from our packages (+ pip-installed deps when present) without any network."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra import bundling


def _fake_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    real = bundling.repo_root()
    root.mkdir()
    shutil.copy(real / "pyproject.toml", root / "pyproject.toml")
    for source in bundling.LAYER_PACKAGES.values():
        (root / source).mkdir(parents=True)
        (root / source / "__init__.py").write_text("# first party\n")
    (root / "layers/core/mantra/__pycache__").mkdir()
    (root / "layers/core/mantra/__pycache__/x.cpython-311.pyc").write_bytes(b"")
    return root


def test_runtime_dependencies_come_from_pyproject() -> None:
    deps = bundling.runtime_dependencies(bundling.repo_root())
    assert any(d.startswith("pydantic==") for d in deps)
    assert not any(d.startswith(("aws-cdk-lib", "pytest", "cdk-nag")) for d in deps)


def test_stage_layer_copies_our_packages_under_python_and_skips_bytecode(tmp_path: Path) -> None:
    root = _fake_repo(tmp_path)
    layer = bundling.stage_layer(root)
    assert layer == root / "build/layer"
    for package in bundling.LAYER_PACKAGES:
        assert (layer / "python" / package / "__init__.py").is_file()
    assert not (layer / "python/mantra/__pycache__").exists()


def test_stage_layer_includes_installed_deps_but_our_code_wins(tmp_path: Path) -> None:
    root = _fake_repo(tmp_path)
    deps = root / "build/layer-deps"
    (deps / "pydantic").mkdir(parents=True)
    (deps / "pydantic/__init__.py").write_text("")
    (deps / "events").mkdir()
    (deps / "events/__init__.py").write_text("# a third-party 'events' package\n")
    layer = bundling.stage_layer(root)
    assert (layer / "python/pydantic/__init__.py").is_file()
    assert (layer / "python/events/__init__.py").read_text() == "# first party\n"


def test_install_layer_deps_asks_pip_for_lambda_platform_binary_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _fake_repo(tmp_path)
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(bundling.subprocess, "run", fake_run)
    target = bundling.install_layer_deps(str(root))  # `make layer` passes "."
    [cmd] = calls
    assert target == root / "build/layer-deps"
    assert cmd[cmd.index("--target") + 1] == str(target)
    platforms = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--platform"]
    assert platforms == ["manylinux_2_28_x86_64", "manylinux2014_x86_64"]
    assert cmd[cmd.index("--python-version") + 1] == bundling.LAMBDA_PYTHON_VERSION
    assert "--only-binary=:all:" in cmd
    assert set(bundling.runtime_dependencies(root)) <= set(cmd)


def test_synth_fails_on_an_unacknowledged_nag_finding(tmp_path: Path) -> None:
    # Given an app with the same nag plugin and a queue without a DLQ (AwsSolutions-SQS3)
    from aws_cdk import App, Stack, Validations
    from aws_cdk import aws_sqs as sqs
    from cdk_nag import AwsSolutionsChecks

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Probe")
    sqs.Queue(stack, "Queue", enforce_ssl=True)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    # When it synthesizes, Then synth fails (so a passing synth means no unacknowledged finding)
    with pytest.raises(RuntimeError, match=r"(?s)ValidationFailed.*AwsSolutions-SQS3"):
        app.synth()
