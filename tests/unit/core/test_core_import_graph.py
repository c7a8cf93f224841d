"""What is deployed is only the product: no product module imports the development tooling.

The import graph (grimp, static: it sees imports inside functions too) of every first-party package the layer,
the function folders and the feed image hold. The layer leaves the tooling out (``infra.bundling
.DEV_ONLY_PATHS``), so a product module importing it would fail only once deployed; these tests fail first.
"""

from __future__ import annotations

import sys
from functools import cache

import grimp
import pytest

from infra.bundling import DEV_ONLY_PATHS, LAYER_PACKAGES, repo_root, runtime_distributions, top_level_modules

FIRST_PARTY = ("mantra", "frontend_api", "events", "functions")
# Only these may use the broker SDKs (the `feed` extra, installed in the Fargate image, not in the layer).
FEED_ONLY = ("mantra.feed.providers", "functions.broker_feed")


@cache
def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*FIRST_PARTY, include_external_packages=True, cache_dir=None)


def _dev_only_modules() -> tuple[str, ...]:
    """``DEV_ONLY_PATHS`` entries that are Python packages or modules, as dotted names."""
    root, out = repo_root(), []
    for path in DEV_ONLY_PATHS:
        for package, source in LAYER_PACKAGES.items():
            if not path.startswith(source + "/"):
                continue
            rest = path.removeprefix(source + "/").removesuffix(".py").replace("/", ".")
            if (root / path / "__init__.py").is_file() or path.endswith(".py"):
                out.append(f"{package}.{rest}")
    return tuple(out)


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _product_modules() -> list[str]:
    dev = _dev_only_modules()
    return sorted(
        m
        for m in _graph().modules
        if _within(m, FIRST_PARTY) and not _within(m, dev) and m not in FIRST_PARTY
    )


def _where(importer: str, imported: str) -> str:
    lines = [
        f"{d['importer']}:{d['line_number']}"
        for d in _graph().get_import_details(importer=importer, imported=imported)
    ]
    return f"{importer} -> {imported} ({', '.join(lines) or 'import'})"


def test_the_dev_only_paths_name_the_cli_the_local_runtime_and_the_standins() -> None:
    # Given the declared development tooling, Then it covers the three tooling packages the layer must not carry
    assert {"mantra.cli", "mantra.devtools", "mantra.runtime"} <= set(_dev_only_modules())
    # And every entry still exists (a renamed folder would silently ship again)
    missing = [p for p in DEV_ONLY_PATHS if not (repo_root() / p).exists()]
    assert missing == []


def test_no_product_module_imports_the_cli_the_local_runtime_or_the_standins() -> None:
    # Given the import graph of every product module (the first-party code less the development tooling)
    graph, dev = _graph(), _dev_only_modules()
    # When we collect each import of a dev-only module by a product module
    found = [
        _where(m, imported)
        for m in _product_modules()
        for imported in graph.find_modules_directly_imported_by(m)
        if _within(imported, dev)
    ]
    # Then there is none (a chain into the tooling must start with such a direct import)
    assert found == []


def test_the_layer_packages_import_neither_the_cdk_app_nor_the_function_folders() -> None:
    # Given the modules built into the layer (a Lambda has only its own folder besides the layer)
    graph = _graph()
    layer = [m for m in _product_modules() if _within(m, tuple(LAYER_PACKAGES))]
    # When we collect their imports of `infra` (the CDK app) and `functions` (the entry points)
    found = [
        _where(m, imported)
        for m in layer
        for imported in graph.find_modules_directly_imported_by(m)
        if _within(imported, ("infra", "functions"))
    ]
    # Then there are none
    assert found == []


def test_product_modules_import_only_the_standard_library_our_packages_and_the_pinned_runtime_deps() -> None:
    # Given what the layer installs (the runtime dependencies and what they pull in) and the feed image's extra
    runtime = top_level_modules(runtime_distributions(repo_root()))
    feed = top_level_modules(runtime_distributions(repo_root(), ("feed",)))
    allowed = set(sys.stdlib_module_names) | set(LAYER_PACKAGES) | {"__future__"}
    graph = _graph()
    # When we collect every third-party import of a product module outside what its runtime installs
    found = []
    for m in _product_modules():
        may_use = allowed | (feed if _within(m, FEED_ONLY) else runtime)
        for imported in graph.find_modules_directly_imported_by(m):
            top = imported.split(".")[0]
            if top not in FIRST_PARTY and top not in may_use:
                found.append(_where(m, imported))
    # Then there are none: no typer, rich, uvicorn, moto, aiosmtpd or CDK, and no broker SDK outside the feed
    assert found == []


@pytest.mark.parametrize(
    ("module", "tool"),
    [
        ("mantra.cli.main", "typer"),
        ("mantra.devtools.smtp_sink", "aiosmtpd"),
        ("mantra.cli.main", "mantra.runtime"),
    ],
)
def test_the_graph_sees_the_tooling_imports_it_guards_against(module: str, tool: str) -> None:
    # Given a dev-only module known to use a development tool, Then the graph has that edge (the checks above
    # would pass vacuously on a graph that missed imports)
    graph = _graph()
    assert any(_within(i, (tool,)) for i in graph.find_modules_directly_imported_by(module))
