"""What is deployed is only the product: the staged Lambda layer and the feed image's build context hold none of
the development tooling (``infra.bundling.DEV_ONLY_PATHS``), and every entry point imports from them alone.

The import check runs in a fresh interpreter without ``site`` (so no editable install, no .pth files), with the
staged layer and the function's own folder on the path, as Lambda has them, and the installed third-party
packages reachable only when the layer's pinned runtime dependencies pull them in: a product module importing
the CLI, a stand-in, typer or uvicorn fails here, not in the cloud.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from infra_helpers import Synth
from mantra.catalog import FUNCTIONS, TASKS

from infra.bundling import (
    DEV_ONLY_PATHS,
    LAYER_PACKAGES,
    repo_root,
    runtime_distributions,
    stage_layer,
    top_level_modules,
)
from infra.constructs.feed import task_package_dir

# Run in the clean interpreter: block every installed top-level module the deployed runtime does not have, put
# the given folders first on the path, import each entry point, then say where our own modules came from.
_PROBE = r"""
import importlib, importlib.abc, json, sys
args = json.loads(sys.argv[1])
blocked = frozenset(args["blocked"])

class NotDeployed(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"{name} is not deployed (not in the layer's runtime dependencies)", name=name)
        return None

sys.meta_path.insert(0, NotDeployed())
sys.path[:0] = args["roots"]
sys.path += args["site"]
failures = {}
for entry in args["entries"]:
    sys.path.insert(0, entry["dir"])
    try:
        module = importlib.import_module(entry["module"])
        target = getattr(module, entry["attribute"])
        if entry.get("call"):
            target()
    except BaseException as exc:  # an entry point that cannot load, whatever the reason
        failures[entry["name"]] = f"{type(exc).__name__}: {exc}"
    finally:
        sys.path.remove(entry["dir"])
        for name in [m for m in sys.modules if m == entry["module"] or m.startswith(entry["module"] + ".")]:
            del sys.modules[name]
ours = {
    name: getattr(module, "__file__", None) or ""
    for name, module in sys.modules.items()
    if name.split(".")[0] in args["first_party"]
}
print(json.dumps({"failures": failures, "ours": ours}))
"""


def _blocked(allowed: frozenset[str]) -> list[str]:
    from importlib import metadata

    installed = set(metadata.packages_distributions())
    # our own packages come from the folders given, never from the editable install
    return sorted((installed | {"functions", "infra", "tests", "bench"}) - allowed)


def _probe(
    roots: list[Path], entries: list[dict[str, object]], allowed: frozenset[str]
) -> dict[str, dict[str, str]]:
    paths = sysconfig.get_paths()
    args = {
        "roots": [str(r) for r in roots],
        "site": sorted({paths["purelib"], paths["platlib"]}),
        "blocked": _blocked(allowed),
        "entries": entries,
        "first_party": [*LAYER_PACKAGES, "functions", "infra"],
    }
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_REGION": "ap-south-1",
        "AWS_DEFAULT_REGION": "ap-south-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "layer-probe",
    }
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-c", _PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=str(roots[0]),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    out: dict[str, dict[str, str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layer staged the way synth stages it, into a folder of its own."""
    return stage_layer(repo_root(), tmp_path_factory.mktemp("layer") / "layer") / "python"


def _in_layer(path: str) -> Path | None:
    """Where a repo path lands in the layer (``layers/core/mantra/cli`` -> ``mantra/cli``), if it does."""
    for package, source in LAYER_PACKAGES.items():
        if path.startswith(source + "/"):
            return Path(package) / path.removeprefix(source + "/")
    return None


def test_the_staged_layer_holds_the_product_and_none_of_the_development_tooling(layer: Path) -> None:
    # Given the layer staged from the repository
    # Then the product is there: the catalog, the services, the API, the event contracts and the plan data
    for product in (
        "mantra/catalog.py",
        "mantra/alerts/plan_limits.py",
        "frontend_api/app.py",
        "events/contracts.py",
    ):
        assert (layer / product).is_file(), product
    assert (layer / "mantra/data/plans.json").is_file()
    # And none of the CLI, the local runtime, the stand-ins, the demo users or the sample events and prices
    dev = [p for p in map(_in_layer, DEV_ONLY_PATHS) if p is not None]
    assert {Path("mantra/cli"), Path("mantra/devtools"), Path("mantra/runtime")} <= set(dev)
    assert [str(p) for p in dev if (layer / p).exists()] == []


def test_no_product_file_reads_a_data_file_the_layer_leaves_out() -> None:
    # Given the data files that are development-only (demo users, sample prices)
    left_out = [Path(p).name for p in DEV_ONLY_PATHS if Path(p).suffix in (".json", ".csv")]
    assert left_out
    # When we look for their names in the layer's Python sources (outside the tooling itself)
    dev_dirs = tuple(repo_root() / p for p in DEV_ONLY_PATHS)
    readers = [
        f"{f.relative_to(repo_root())}: {name}"
        for source in LAYER_PACKAGES.values()
        for f in (repo_root() / source).rglob("*.py")
        if not any(f.is_relative_to(d) for d in dev_dirs)
        for name in left_out
        if name in f.read_text()
    ]
    # Then no product module reads one (it would be missing once deployed)
    assert readers == []


def test_every_catalog_function_and_the_api_app_import_from_the_staged_layer_alone(layer: Path) -> None:
    # Given the staged layer, each function's own folder, and only the layer's runtime dependencies installed
    root = repo_root()
    allowed = top_level_modules(runtime_distributions(root)) | set(LAYER_PACKAGES)
    entries: list[dict[str, object]] = [
        {
            "name": spec.name,
            "dir": str(root / spec.asset_dir),
            "module": spec.module.rsplit(".", 1)[-1],  # Lambda imports `handler` from the function's folder
            "attribute": spec.attribute,
        }
        for spec in FUNCTIONS
    ]
    # and the FastAPI app, built (every router imported) the way the api function builds it on first request
    entries.append(
        {
            "name": "api app",
            "dir": str(root / "functions/api"),
            "module": "handler",
            "attribute": "asgi",
            "call": True,
        }
    )
    # When a clean interpreter imports each entry point
    out = _probe([layer], entries, frozenset(allowed))
    # Then every one loads
    assert out["failures"] == {}
    assert len(entries) == len(FUNCTIONS) + 1 >= 10
    # And every first-party module came from the layer (none from the repository's tooling or the venv)
    outside = {n: f for n, f in out["ours"].items() if f and not Path(f).is_relative_to(layer)}
    assert outside == {}
    assert "mantra.container" in out["ours"] and "frontend_api.app" in out["ours"]


def test_an_import_of_the_tooling_fails_the_layer_probe(layer: Path, tmp_path: Path) -> None:
    # Given a function folder whose handler imports the local runtime (as a careless handler might)
    fn = tmp_path / "careless"
    fn.mkdir()
    (fn / "handler.py").write_text("from mantra.runtime import pollers\nlambda_handler = None\n")
    allowed = top_level_modules(runtime_distributions(repo_root())) | set(LAYER_PACKAGES)
    entry: dict[str, object] = {
        "name": "careless",
        "dir": str(fn),
        "module": "handler",
        "attribute": "lambda_handler",
    }
    # When the probe imports it from the staged layer, Then it fails, naming the missing module
    failures = _probe([layer], [entry], frozenset(allowed))["failures"]
    assert "mantra.runtime" in failures["careless"]


def _docker_context(synth: Synth) -> Path:
    [manifest] = synth.outdir.glob("*.assets.json")
    images = json.loads(manifest.read_text())["dockerImages"]
    assert len(images) == len(TASKS) == 1
    [image] = images.values()
    return synth.outdir / image["source"]["directory"]


def test_the_feed_image_build_context_holds_none_of_the_development_tooling(synth: Synth) -> None:
    # Given the Docker build context synth staged for the feed task's image
    context = _docker_context(synth)
    # Then it has the Dockerfile, the project and the feed code
    [task] = TASKS
    assert (context / task_package_dir(task) / "Dockerfile").is_file()
    assert (context / "pyproject.toml").is_file() and (
        context / "layers/core/mantra/feed/runner.py"
    ).is_file()
    # And none of the CLI, the local runtime, the stand-ins, the demo users or the samples
    assert [p for p in DEV_ONLY_PATHS if (context / p).exists()] == []


def test_the_feed_task_imports_from_its_image_context_alone(synth: Synth) -> None:
    # Given the image's build context (the image pip-installs exactly that) and the runtime + feed dependencies
    context = _docker_context(synth)
    [task] = TASKS
    allowed = (
        top_level_modules(runtime_distributions(repo_root(), ("feed",))) | set(LAYER_PACKAGES) | {"functions"}
    )
    module, attribute = task.module, "build"
    entry: dict[str, object] = {
        "name": task.name,
        "dir": str(context),
        "module": module,
        "attribute": attribute,
    }
    # When a clean interpreter imports the task's main and both broker providers it can fail over between
    providers: list[dict[str, object]] = [
        {"name": m, "dir": str(context), "module": f"mantra.feed.providers.{m}", "attribute": "__name__"}
        for m in ("angel", "kite")
    ]
    out = _probe([context / "layers/core", context], [entry, *providers], frozenset(allowed))
    # Then they load, from the context only
    assert out["failures"] == {}
    outside = {n: f for n, f in out["ours"].items() if f and not Path(f).is_relative_to(context)}
    assert outside == {}


def test_the_feed_image_does_not_install_a_console_script_into_the_tooling() -> None:
    # Given the console scripts pyproject declares and the feed task's Dockerfile
    with (repo_root() / "pyproject.toml").open("rb") as f:
        scripts: dict[str, str] = tomllib.load(f)["project"].get("scripts", {})
    [task] = TASKS
    dockerfile = (repo_root() / task_package_dir(task) / "Dockerfile").read_text()
    dev_packages = {
        f"{package}.{p.removeprefix(source + '/').replace('/', '.')}"
        for p in DEV_ONLY_PATHS
        for package, source in LAYER_PACKAGES.items()
        if p.startswith(source + "/")
    }
    # Then each script that points into the (excluded) tooling is removed again after `pip install`
    broken = [
        name for name, target in scripts.items() if target.split(":")[0].rsplit(".", 1)[0] in dev_packages
    ]
    assert broken, "pyproject declares the `mantra` CLI"
    assert [name for name in broken if f"rm -f /usr/local/bin/{name}" not in dockerfile] == []
