"""The WebSocket API (API Gateway v2), routes from catalog ``WebSocketTrigger``s.

WebSocket APIs have no JWT authorizer: the ``$connect`` function validates the access token (Cognito's, with
the same ``TokenValidator`` the REST API uses) from ``?token=`` and answers 401 to refuse the upgrade. Functions
that push (``Access.manage_connections``) may call ``execute-api:ManageConnections`` on this API's
connections only, and find its Management API endpoint in ``MANTRA_WS_ENDPOINT``.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import RemovalPolicy, Stack, Token
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct
from mantra.catalog import WebSocketTrigger
from mantra.settings import Settings

from infra.constructs.common import CatalogFunction, JsonAccessLogs, acknowledge

STAGE_NAME = "live"
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
    '"routeKey":"$context.routeKey","eventType":"$context.eventType","status":"$context.status",'
    '"connectionId":"$context.connectionId","integrationError":"$context.integrationErrorMessage",'
    '"latencyMs":"$context.integrationLatency"}'
)


class WebSocketPush(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        functions: Mapping[str, CatalogFunction],
        log_retention: logs.RetentionDays,
        log_removal_policy: RemovalPolicy,
        rate_limit: int,
        burst_limit: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.WebSocketApi(
            self,
            "WebSocket",
            api_name=settings.name("ws"),
            description="Trade Mantra real-time push: quotes, candles and the in-app inbox",
            route_selection_expression="$request.body.action",
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{settings.name('ws')}",
            retention=log_retention,
            removal_policy=log_removal_policy,
        )
        self.stage = apigw.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            detailed_metrics_enabled=True,
            throttle=apigw.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
            access_log_settings=JsonAccessLogs(self.access_logs, ACCESS_LOG_FORMAT),
        )
        self.routes: dict[str, str] = {}  # route key -> function
        for name, cf in functions.items():
            triggers = [t for t in cf.spec.triggers if isinstance(t, WebSocketTrigger)]
            if not triggers:
                continue
            integration = integrations.WebSocketLambdaIntegration(f"{name}-integration", cf.function)
            for trigger in triggers:
                for route_key in trigger.routes:
                    self._add_route(route_key, name, trigger, integration)

        stack = Stack.of(self)
        self.endpoint = (
            f"https://{self.api.api_id}.execute-api.{stack.region}.{stack.url_suffix}/{STAGE_NAME}"
        )
        connections_arn = stack.format_arn(
            service="execute-api",
            resource=self.api.api_id,
            resource_name=f"{STAGE_NAME}/POST/@connections/*",
        )
        manage_arns = [
            connections_arn,
            stack.format_arn(
                service="execute-api",
                resource=self.api.api_id,
                resource_name=f"{STAGE_NAME}/GET/@connections/*",
            ),
            stack.format_arn(
                service="execute-api",
                resource=self.api.api_id,
                resource_name=f"{STAGE_NAME}/DELETE/@connections/*",
            ),
        ]
        # how cdk-nag names these ARNs in its findings
        region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
        api_logical_id = stack.resolve(stack.get_logical_id(self.api.node.default_child))  # type: ignore[arg-type]
        nag_prefix = f"arn:<AWS::Partition>:execute-api:{region}:<AWS::AccountId>:<{api_logical_id}>"
        for name, cf in functions.items():
            if not cf.spec.access.manage_connections:
                continue
            cf.function.add_environment("MANTRA_WS_ENDPOINT", self.endpoint)
            cf.role.add_to_principal_policy(
                iam.PolicyStatement(actions=["execute-api:ManageConnections"], resources=manage_arns)
            )
            for method in ("POST", "GET", "DELETE"):
                acknowledge(
                    cf.role,
                    f"AwsSolutions-IAM5[Resource::{nag_prefix}/{STAGE_NAME}/{method}/@connections/*]",
                    f"{name} may {method} any connection of this one WebSocket API stage (send a frame, check "
                    "or close a stale one): connection ids are created by clients at run time, so the ARN ends "
                    "in a connection wildcard.",
                )

    def _add_route(
        self,
        route_key: str,
        name: str,
        trigger: WebSocketTrigger,
        integration: integrations.WebSocketLambdaIntegration,
    ) -> None:
        if route_key in self.routes:
            raise ValueError(
                f"websocket route {route_key!r} is declared twice ({self.routes[route_key]} and {name})"
            )
        route = self.api.add_route(
            route_key, integration=integration, return_response=route_key in trigger.two_way
        )
        reason = (
            f"{route_key} of {name}: WebSocket APIs offer no JWT/Cognito authorizer, so the $connect function "
            "validates the Cognito access token from ?token= with the REST API's TokenValidator and refuses "
            "the upgrade with 401."
            if route_key == "$connect"
            else f"{route_key} of {name}: API Gateway only lets $connect carry an authorizer; every later "
            "frame belongs to a connection whose token was already validated on $connect."
        )
        acknowledge(route, "AwsSolutions-APIG4", reason)
        self.routes[route_key] = name

    @property
    def url(self) -> str:
        return f"{self.api.api_endpoint}/{STAGE_NAME}"
