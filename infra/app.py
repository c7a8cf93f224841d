"""The CDK app: ``python -m infra.app`` (what cdk.json runs) or ``mantra synth``; synthesizes offline.

cdk-nag's AWS Solutions pack runs as a policy-validation plugin: an unacknowledged finding fails synth.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks
from mantra.catalog import FUNCTIONS, FunctionSpec
from mantra.settings import Settings

from infra.bundling import repo_root as default_repo_root
from infra.bundling import stage_layer
from infra.config import InfraConfig
from infra.stack import TradeMantraStack


def cdk_json_context(root: Path) -> dict[str, Any]:
    """The ``context`` of cdk.json: the CLI passes it; a direct ``python -m infra.app`` run reads it here."""
    path = root / "cdk.json"
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text()).get("context", {}))


def build_app(
    outdir: str = "cdk.out",
    context: Mapping[str, Any] | None = None,
    repo_root: Path | None = None,
    functions: tuple[FunctionSpec, ...] = FUNCTIONS,
) -> tuple[App, TradeMantraStack]:
    """The app with its one stack; context overrides cdk.json. ``functions`` defaults to the catalog."""
    root = repo_root or default_repo_root()
    run_by_cli = "CDK_CONTEXT_JSON" in os.environ or "CDK_OUTDIR" in os.environ
    if run_by_cli:
        app = App(context=dict(context or {}))
    else:
        app = App(outdir=outdir, context={**cdk_json_context(root), **(context or {})})
    config = InfraConfig.from_context(app.node)
    settings = Settings.model_validate({"stage": config.stage, "AWS_REGION": config.region})

    stack = TradeMantraStack(
        app,
        f"TradeMantra-{config.stage}",
        stack_name=settings.name("platform"),
        description=f"Trade Mantra ({config.stage}): serverless trading platform",
        env=Environment(account=config.account, region=config.region),
        config=config,
        settings=settings,
        repo_root=root,
        layer_dir=stage_layer(root),
        functions=functions,
    )
    Tags.of(stack).add("project", "trade-mantra")
    Tags.of(stack).add("stage", config.stage)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def main(outdir: str = "cdk.out") -> None:
    app, _ = build_app(outdir)
    app.synth()


if __name__ == "__main__":
    main()
