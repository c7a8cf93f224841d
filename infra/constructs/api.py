"""HTTP API (API Gateway v2), routes from catalog ``HttpTrigger``s; authorized routes use the Cognito JWT."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_logs as logs
from constructs import Construct
from mantra.catalog import HttpTrigger
from mantra.settings import Settings

from infra.constructs.common import CatalogFunction, JsonAccessLogs, acknowledge
from infra.constructs.identity import Identity

ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
    '"method":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status",'
    '"protocol":"$context.protocol","responseLength":"$context.responseLength",'
    '"latencyMs":"$context.responseLatency","integrationError":"$context.integrationErrorMessage",'
    '"authorizerError":"$context.authorizer.error","sub":"$context.authorizer.claims.sub"}'
)


def parse_route(route: str) -> tuple[apigw.HttpMethod, str]:
    """``"GET /api/health"`` -> (GET, "/api/health")."""
    method, _, path = route.strip().partition(" ")
    if not path.startswith("/"):
        raise ValueError(f"route {route!r} must look like 'METHOD /path'")
    return apigw.HttpMethod[method.upper()], path.strip()


class HttpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        functions: Mapping[str, CatalogFunction],
        identity: Identity,
        log_retention: logs.RetentionDays,
        log_removal_policy: RemovalPolicy,
        rate_limit: int,
        burst_limit: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.HttpApi(
            self,
            "Http",
            api_name=settings.name("api"),
            description="Trade Mantra REST API and webhooks",
            create_default_stage=False,
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{settings.name('api')}",
            retention=log_retention,
            removal_policy=log_removal_policy,
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            detailed_metrics_enabled=True,
            throttle=apigw.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
            access_log_settings=JsonAccessLogs(self.access_logs, ACCESS_LOG_FORMAT),
        )
        self.authorizer = authorizers.HttpUserPoolAuthorizer(
            "Cognito",
            identity.user_pool,
            authorizer_name="cognito",
            user_pool_clients=[identity.client],
        )
        self.routes: dict[str, tuple[str, bool]] = {}  # "GET /api/health" -> (function, authorized)
        for name, cf in functions.items():
            http = [t for t in cf.spec.triggers if isinstance(t, HttpTrigger)]
            if not http:
                continue
            integration = integrations.HttpLambdaIntegration(f"{name}-integration", cf.function)
            for trigger in http:
                for route in trigger.routes:
                    self._add_route(route, name, cf, trigger, integration)

    def _add_route(
        self,
        route: str,
        name: str,
        cf: CatalogFunction,
        trigger: HttpTrigger,
        integration: integrations.HttpLambdaIntegration,
    ) -> None:
        if route in self.routes:
            raise ValueError(f"route {route!r} is declared twice ({self.routes[route][0]} and {name})")
        method, path = parse_route(route)
        created = self.api.add_routes(
            path=path,
            methods=[method],
            integration=integration,
            authorizer=self.authorizer if trigger.authorized else apigw.HttpNoneAuthorizer(),
        )
        if not trigger.authorized:
            for r in created:
                acknowledge(
                    r,
                    "AwsSolutions-APIG4",
                    f"{route} is public by catalog declaration (authorized=False) for {name}: "
                    f"{cf.spec.description}. Webhooks are verified by signature on the raw body, sign-in "
                    "routes must be reachable before a token exists, health carries no user data.",
                )
        self.routes[route] = (name, trigger.authorized)

    @property
    def url(self) -> str:
        return self.api.api_endpoint
