"""The broker feed: one Fargate task per ``TaskSpec``, holding the broker websocket from a private subnet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct
from mantra.catalog import TaskSpec
from mantra.settings import Settings

from infra.bundling import DEV_ONLY_PATHS
from infra.constructs.access import Resources, grant_access
from infra.constructs.common import acknowledge

# Docker build context is the repo root (the image installs the project); keep it small and stable, and leave
# the development tooling out, as the Lambda layer does.
DOCKER_EXCLUDE = [
    ".git", ".venv", ".bench-venv", "build", "cdk.out", ".data", ".standins", "tests", "bench", ".ci",
    "**/__pycache__", "**/*.pyc", ".mypy_cache", ".ruff_cache", ".pytest_cache", "*.egg-info", "node_modules",
    *DEV_ONLY_PATHS,
]  # fmt: skip


def task_package_dir(spec: TaskSpec) -> str:
    """``functions.broker_feed.main`` -> ``functions/broker_feed``."""
    return "/".join(spec.module.split(".")[:-1])


class FeedService(Construct):
    """VPC (2 AZs, one NAT, flow logs), ECS cluster with Container Insights, and a Fargate service per task.

    Each service runs exactly one task (one broker connection): a deployment stops the old task before
    starting the new one, and the circuit breaker rolls back a task that cannot start.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        tasks: Iterable[TaskSpec],
        repo_root: Path,
        resources: Resources,
        availability_zones: list[str],
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
        log_removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            log_group_name=f"/mantra/{settings.stage}/vpc-flow-logs",
            retention=log_retention,
            removal_policy=log_removal_policy,
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            availability_zones=availability_zones,
            nat_gateways=1,
            restrict_default_security_group=False,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=24
                ),
            ],
            flow_logs={
                "all": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        # DynamoDB traffic stays on the AWS network and off the NAT gateway.
        self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=settings.name("cluster"),
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.services: dict[str, ecs.FargateService] = {}
        self.task_roles: dict[str, iam.Role] = {}
        for spec in tasks:
            self._add_task(
                settings, spec, repo_root, resources, environment, log_retention, log_removal_policy
            )

    def _add_task(
        self,
        settings: Settings,
        spec: TaskSpec,
        repo_root: Path,
        resources: Resources,
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
        log_removal_policy: RemovalPolicy,
    ) -> None:
        deployed = settings.name(spec.name)
        dockerfile = f"{task_package_dir(spec)}/Dockerfile"
        if not (repo_root / dockerfile).is_file():
            raise FileNotFoundError(f"task {spec.name!r}: {repo_root / dockerfile} does not exist")
        task_role = iam.Role(
            self,
            f"{spec.name}-task-role",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"Fargate task {deployed}: least privilege from the task catalog",
        )
        grant_access(task_role, spec.access, resources)
        task_definition = ecs.FargateTaskDefinition(
            self,
            f"{spec.name}-task",
            family=deployed,
            cpu=spec.cpu,
            memory_limit_mib=spec.memory_mb,
            task_role=task_role,
            runtime_platform=ecs.RuntimePlatform(
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
                cpu_architecture=ecs.CpuArchitecture.X86_64,
            ),
        )
        log_group = logs.LogGroup(
            self,
            f"{spec.name}-logs",
            log_group_name=f"/mantra/{settings.stage}/{spec.name}",
            retention=log_retention,
            removal_policy=log_removal_policy,
        )
        task_definition.add_container(
            spec.name,
            image=ecs.ContainerImage.from_asset(str(repo_root), file=dockerfile, exclude=DOCKER_EXCLUDE),
            essential=True,
            logging=ecs.LogDriver.aws_logs(stream_prefix=spec.name, log_group=log_group),
            environment={**environment, "POWERTOOLS_SERVICE_NAME": spec.name},
        )
        acknowledge(
            task_definition,
            "AwsSolutions-ECS2",
            "The container environment holds only non-secret configuration (stage, region-derived names, "
            "Powertools service name); broker credentials are read from Secrets Manager by the task role.",
        )
        if task_definition.execution_role is not None:
            acknowledge(
                task_definition.execution_role,
                "AwsSolutions-IAM5[Resource::*]",
                "ecr:GetAuthorizationToken (image pull by the ECS agent) supports no resource-level "
                "permissions; the repository pull actions are scoped to the asset repository.",
            )
        service = ecs.FargateService(
            self,
            f"{spec.name}-service",
            service_name=deployed,
            cluster=self.cluster,
            task_definition=task_definition,
            desired_count=1,
            min_healthy_percent=0,  # one broker connection: never two feed tasks at once
            max_healthy_percent=100,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            assign_public_ip=False,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            platform_version=ecs.FargatePlatformVersion.LATEST,
        )
        self.services[spec.name] = service
        self.task_roles[spec.name] = task_role
