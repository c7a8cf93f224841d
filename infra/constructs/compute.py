"""The core Lambda layer and one Lambda function per catalog ``FunctionSpec``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from mantra.catalog import DynamoStreamTrigger, FunctionSpec
from mantra.settings import Settings

from infra.bundling import LAMBDA_PYTHON_VERSION
from infra.constructs.access import Resources, grant_access
from infra.constructs.common import CatalogFunction, acknowledge

RUNTIME = lambda_.Runtime(f"python{LAMBDA_PYTHON_VERSION}", lambda_.RuntimeFamily.PYTHON)
ARCHITECTURE = lambda_.Architecture.X86_64
_ASSET_EXCLUDE = ["__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache"]


def lambda_handler_string(spec: FunctionSpec) -> str:
    """``functions.api.handler:lambda_handler`` -> ``handler.lambda_handler`` (the asset is the folder)."""
    return f"{spec.module.rsplit('.', 1)[-1]}.{spec.attribute}"


class Functions(Construct):
    """Python Lambda functions sharing the core layer: X-Ray tracing, own log group with retention, own role.

    Each role starts empty (no AWS managed policies): it may write its own log group, send traces, and touch
    exactly what the catalog's ``Access`` lists.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        specs: Iterable[FunctionSpec],
        repo_root: Path,
        layer_dir: Path,
        resources: Resources,
        environment: Mapping[str, str],
        extra_environment: Mapping[str, Mapping[str, str]],
        log_retention: logs.RetentionDays,
        log_removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.layer = lambda_.LayerVersion(
            self,
            "CoreLayer",
            layer_version_name=settings.name("core"),
            code=lambda_.Code.from_asset(str(layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Trade Mantra core: mantra, frontend_api, events and the pinned runtime dependencies",
        )
        self.functions: dict[str, CatalogFunction] = {}
        for spec in specs:
            asset = repo_root / spec.asset_dir
            if not asset.is_dir():
                raise FileNotFoundError(f"function {spec.name!r}: code folder {asset} does not exist")
            deployed_name = settings.name(spec.name)
            log_group = logs.LogGroup(
                self,
                f"{spec.name}-logs",
                log_group_name=f"/aws/lambda/{deployed_name}",
                retention=log_retention,
                removal_policy=log_removal_policy,
            )
            role = iam.Role(
                self,
                f"{spec.name}-role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"Lambda {deployed_name}: least privilege from the function catalog",
            )
            fn = lambda_.Function(
                self,
                spec.name,
                function_name=deployed_name,
                description=spec.description,
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                handler=lambda_handler_string(spec),
                code=lambda_.Code.from_asset(str(asset), exclude=_ASSET_EXCLUDE),
                layers=[self.layer],
                memory_size=spec.memory_mb,
                timeout=Duration.seconds(spec.timeout_s),
                tracing=lambda_.Tracing.ACTIVE,
                role=role,
                log_group=log_group,
                environment={
                    **environment,
                    "POWERTOOLS_SERVICE_NAME": spec.name,
                    **extra_environment.get(spec.name, {}),
                },
            )
            log_group.grant_write(role)
            grant_access(role, spec.access, resources)
            self._acknowledge(spec, fn, role)
            self.functions[spec.name] = CatalogFunction(spec=spec, function=fn, role=role)

    @staticmethod
    def _acknowledge(spec: FunctionSpec, fn: lambda_.Function, role: iam.Role) -> None:
        star = [
            "X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no "
            "resource-level permissions (Resource *)"
        ]
        if any(isinstance(t, DynamoStreamTrigger) for t in spec.triggers):
            star.append("the DynamoDB event source needs dynamodb:ListStreams, which likewise only takes *")
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]", "; ".join(star) + ".")
        acknowledge(
            fn,
            "AwsSolutions-L1",
            f"Pinned to python{LAMBDA_PYTHON_VERSION} on purpose: the core layer's binary wheels (numpy 2.4, "
            "TA-Lib, pydantic-core, cryptography) are built for exactly this runtime; upgrading is a "
            "deliberate change of infra.bundling.LAMBDA_PYTHON_VERSION and the layer.",
        )
