"""The Trade Mantra stack: composes the domain constructs from the function catalog and table specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct
from mantra.catalog import (
    FUNCTIONS,
    SECRETS,
    STREAMS,
    TASKS,
    DynamoStreamTrigger,
    EventTrigger,
    FunctionSpec,
    HttpTrigger,
    KinesisTrigger,
    ScheduleTrigger,
    TaskSpec,
    WebSocketTrigger,
)
from mantra.settings import Settings
from mantra.store.tables import TableSpec, table_specs

from infra.config import InfraConfig
from infra.constructs.access import Resources
from infra.constructs.api import HttpApi
from infra.constructs.compute import Functions
from infra.constructs.data import DataTables
from infra.constructs.events import EventRouting
from infra.constructs.feed import FeedService
from infra.constructs.identity import Identity
from infra.constructs.monitoring import Monitoring
from infra.constructs.notify import Notifications
from infra.constructs.schedules import Schedules
from infra.constructs.secrets import PlatformSecrets
from infra.constructs.stream import MarketStreams, StreamConsumers
from infra.constructs.websocket import WebSocketPush

# Every trigger kind the stack knows how to wire; a new kind fails synth instead of being silently ignored.
HANDLED_TRIGGERS = (
    KinesisTrigger,
    DynamoStreamTrigger,
    ScheduleTrigger,
    EventTrigger,
    HttpTrigger,
    WebSocketTrigger,
)


class TradeMantraStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        settings: Settings,
        repo_root: Path,
        layer_dir: Path,
        functions: tuple[FunctionSpec, ...] = FUNCTIONS,
        tasks: tuple[TaskSpec, ...] = TASKS,
        tables: tuple[TableSpec, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        _check_triggers(functions)

        data = DataTables(
            self,
            "Data",
            settings=settings,
            specs=tables if tables is not None else table_specs(),
            deletion_protection=config.protect_data,
        )
        streams = MarketStreams(self, "Stream", settings=settings, names=STREAMS)
        secrets = PlatformSecrets(self, "Secrets", settings=settings, names=SECRETS)
        notify = Notifications(self, "Notify", settings=settings, sender_domain=config.sender_domain)
        identity = Identity(self, "Identity", settings=settings, deletion_protection=config.protect_data)
        routing = EventRouting(self, "Events", settings=settings)
        resources = Resources(data=data, streams=streams, bus=routing.bus, notify=notify, secrets=secrets)

        environment = {
            "MANTRA_STAGE": settings.stage,
            "MANTRA_EMAIL_TRANSPORT": "ses",
            "MANTRA_EMAIL_FROM": notify.sender_address,
            "POWERTOOLS_METRICS_NAMESPACE": "TradeMantra",
            **{f"MANTRA_{key.upper()}": value for key, value in config.sms_dlt},
        }
        auth_environment = {
            "MANTRA_AUTH_ISSUER": identity.issuer_url,
            "MANTRA_AUTH_CLIENT_ID": identity.client_id,
            # sign-up, confirmation and password reset go through the pool (mantra.store.cognito)
            "MANTRA_COGNITO_USER_POOL_ID": identity.user_pool.user_pool_id,
        }
        compute = Functions(
            self,
            "Compute",
            settings=settings,
            specs=functions,
            repo_root=repo_root,
            layer_dir=layer_dir,
            resources=resources,
            environment=environment,
            extra_environment={
                spec.name: auth_environment
                for spec in functions
                if any(
                    (isinstance(t, HttpTrigger) and t.authorized) or isinstance(t, WebSocketTrigger)
                    for t in spec.triggers
                )
            },
            log_retention=config.log_retention,
            log_removal_policy=config.log_removal_policy,
        )
        fns = compute.functions
        for spec in functions:
            if any(isinstance(t, HttpTrigger) and t.authorized for t in spec.triggers):
                # an e-mail change proven by our code is written to the pool (the only admin call the API makes)
                identity.user_pool.grant(fns[spec.name].function, "cognito-idp:AdminUpdateUserAttributes")

        routing.connect(fns)
        consumers = StreamConsumers(
            self, "StreamConsumers", settings=settings, functions=fns, streams=streams, data=data
        )
        schedules = Schedules(self, "Schedules", settings=settings, functions=fns)
        api = HttpApi(
            self,
            "Api",
            settings=settings,
            functions=fns,
            identity=identity,
            log_retention=config.log_retention,
            log_removal_policy=config.log_removal_policy,
            rate_limit=config.api_rate_limit,
            burst_limit=config.api_burst_limit,
        )
        websocket = WebSocketPush(
            self,
            "WebSocket",
            settings=settings,
            functions=fns,
            log_retention=config.log_retention,
            log_removal_policy=config.log_removal_policy,
            rate_limit=config.api_rate_limit,
            burst_limit=config.api_burst_limit,
        )
        feed_environment = {"MANTRA_STAGE": settings.stage, "POWERTOOLS_METRICS_NAMESPACE": "TradeMantra"}
        if config.feed_provider:
            feed_environment["MANTRA_FEED_PROVIDER"] = config.feed_provider
        feed = FeedService(
            self,
            "Feed",
            settings=settings,
            tasks=tasks,
            repo_root=repo_root,
            resources=resources,
            availability_zones=config.azs,
            environment=feed_environment,
            log_retention=config.log_retention,
            log_removal_policy=config.log_removal_policy,
        )
        dead_letter_queues = {
            **consumers.failure_queues,
            **routing.dead_letter_queues,
            **({"schedules": schedules.dead_letter_queue} if schedules.schedules else {}),
        }
        Monitoring(
            self,
            "Monitoring",
            settings=settings,
            functions=fns,
            dead_letter_queues=dead_letter_queues,
            services=feed.services,
            alarm_email=config.alarm_email,
        )

        CfnOutput(self, "ApiUrl", value=api.url)
        CfnOutput(self, "WebSocketUrl", value=websocket.url)
        CfnOutput(self, "UserPoolId", value=identity.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=identity.client_id)
        CfnOutput(self, "AuthIssuer", value=identity.issuer_url)
        CfnOutput(self, "EventBusName", value=routing.bus.event_bus_name)


def _check_triggers(functions: tuple[FunctionSpec, ...]) -> None:
    for spec in functions:
        for trigger in spec.triggers:
            if not isinstance(trigger, HANDLED_TRIGGERS):
                raise TypeError(f"{spec.name}: infra does not know how to wire a {type(trigger).__name__}")
