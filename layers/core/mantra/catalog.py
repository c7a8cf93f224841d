"""The one catalog of functions and their triggers.

``infra/`` builds the CDK resources from it and the local runtime (``mantra dev``) wires the same handlers to the
local stand-ins from it. Table names here are the *base* names of the PynamoDB models (``store.tables``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class KinesisTrigger(_Frozen):
    kind: Literal["kinesis"] = "kinesis"
    stream: str
    batch_size: int = 500
    max_batching_window_s: int = 0
    retry_attempts: int = 3
    bisect_on_error: bool = True
    parallelization_factor: int = 1


class DynamoStreamTrigger(_Frozen):
    kind: Literal["dynamodb_stream"] = "dynamodb_stream"
    table: str
    batch_size: int = 100
    retry_attempts: int = 5
    bisect_on_error: bool = True
    max_batching_window_s: int = Field(
        0,
        ge=0,
        le=300,
        description="wait up to this long to fill a batch (Lambda's MaximumBatchingWindowInSeconds)",
    )


class ScheduleTrigger(_Frozen):
    """An EventBridge Scheduler cron, read in ``timezone`` (so market hours are written in IST)."""

    kind: Literal["schedule"] = "schedule"
    name: str
    cron: str = Field(description="EventBridge cron body: minutes hours day-of-month month day-of-week year")
    timezone: str = "Asia/Kolkata"
    description: str = ""


class EventTrigger(_Frozen):
    """Events on the bus matched by detail-type, buffered in an SQS queue (with a dead-letter queue)."""

    kind: Literal["event"] = "event"
    detail_types: tuple[str, ...]
    queue: str
    batch_size: int = 10
    max_receive_count: int = 5
    max_concurrency: int | None = Field(
        None,
        ge=2,
        le=1000,
        description="concurrent batches (Lambda's SQS ScalingConfig.MaximumConcurrency; local pollers)",
    )


class HttpTrigger(_Frozen):
    kind: Literal["http"] = "http"
    routes: tuple[str, ...]
    authorized: bool = Field(description="Behind the JWT authorizer (webhooks are not: they are signed)")


class WebSocketTrigger(_Frozen):
    """Routes of the API Gateway WebSocket API. The token is checked by the function on ``$connect`` (WebSocket
    APIs have no JWT authorizer); ``two_way`` routes send the function's response body back to the client."""

    kind: Literal["websocket"] = "websocket"
    routes: tuple[str, ...] = ("$connect", "$disconnect", "$default")
    two_way: tuple[str, ...] = ("$default",)


Trigger = (
    KinesisTrigger | DynamoStreamTrigger | ScheduleTrigger | EventTrigger | HttpTrigger | WebSocketTrigger
)


class Access(_Frozen):
    """What a function may touch: CDK turns this into least-privilege grants."""

    tables_read: tuple[str, ...] = ()
    tables_write: tuple[str, ...] = ()
    stream_write: bool = False
    put_events: bool = False
    send_email: bool = False
    publish_sns: bool = False
    secrets: tuple[str, ...] = ()
    manage_connections: bool = Field(
        False, description="execute-api:ManageConnections on the WebSocket API's connections (push, cleanup)"
    )


class FunctionSpec(_Frozen):
    name: str
    handler: str = Field(description="module:function, importable locally and inside the Lambda asset")
    description: str
    triggers: tuple[Trigger, ...]
    access: Access = Access()
    memory_mb: int = 512
    timeout_s: int = 30

    @property
    def module(self) -> str:
        return self.handler.split(":")[0]

    @property
    def attribute(self) -> str:
        return self.handler.split(":")[1]

    @property
    def asset_dir(self) -> str:
        """Folder under the repo root that becomes the function's code asset."""
        return "/".join(self.module.split(".")[:-1])


class TaskSpec(_Frozen):
    """A long-running container (Fargate in the cloud, a child process locally)."""

    name: str
    module: str
    description: str
    access: Access
    cpu: int = 256
    memory_mb: int = 512


MARKET_HOURS_EVERY_5_MIN = "0/5 9-15 ? * MON-FRI *"
# every day, 09:00-19:59 IST: the handler asks the NSE calendar whether a session (a weekday's, a weekend
# special session's, a Muhurat evening's) is open at that minute
MARKET_HOURS_EVERY_MINUTE = "0/1 9-19 ? * * *"
WEBHOOK_TABLES = ("webhook_endpoints", "webhook_deliveries")
WS_TABLES = ("ws_connections", "ws_topics")
ACCESS_TABLES = ("api_keys", "rate_counters")
ACCOUNT_TABLES = ("account_emails", "account_codes", "refresh_tokens")  # sign-up, codes, sessions
BILLING_TABLES = ("billing_accounts", "subscription_history", "invoices", "usage_charges")

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="tick_processor",
        handler="functions.tick_processor.handler:lambda_handler",
        description="Ticks from Kinesis -> candles, latest quotes, streaming price alerts",
        triggers=(KinesisTrigger(stream="ticks"),),
        access=Access(
            tables_read=("alerts", "quotes", "candles"),
            tables_write=("quotes", "candles", "alerts", "outbox"),
            put_events=True,  # a trigger goes on the bus at once; the outbox relay is the safety net
        ),
        memory_mb=1024,
        timeout_s=60,
    ),
    FunctionSpec(
        name="outbox_relay",
        handler="functions.outbox_relay.handler:lambda_handler",
        description="Publishes events written to the outbox table onto the event bus (transactional outbox)",
        triggers=(DynamoStreamTrigger(table="outbox"),),
        access=Access(tables_read=("outbox",), put_events=True),  # reads the publish marks
    ),
    FunctionSpec(
        name="alert_dispatch",
        handler="functions.alert_dispatch.handler:lambda_handler",
        description="Delivers triggered alerts: inbox, e-mail, SMS, push and webhooks, each channel on its own"
        " (one failing channel never holds back the others)",
        # one alert per invocation, several at once: a burst of triggers is delivered side by side, not one
        # after another inside a batch (a record's wait would grow with its place in the batch)
        triggers=(
            EventTrigger(
                detail_types=("alert.triggered",), queue="alert-dispatch", batch_size=1, max_concurrency=4
            ),
        ),
        access=Access(
            tables_read=("users", "notifications", "idempotency", *WEBHOOK_TABLES),
            tables_write=("notifications", "idempotency", *WEBHOOK_TABLES),
            send_email=True,
            publish_sns=True,
        ),
    ),
    FunctionSpec(
        name="scheduled_scan",
        handler="functions.scheduled_scan.handler:lambda_handler",
        description="Saved scanners due now and the movers scan; new hits become signals and signal.detected events",
        triggers=(
            ScheduleTrigger(
                name="scan-every-minute",
                cron=MARKET_HOURS_EVERY_MINUTE,
                description="Every minute, 09:00-19:59 IST, every day; runs while an NSE session (weekday, weekend"
                " special, Muhurat) is open; saved scanners run on their 1/5/15",
            ),
        ),
        access=Access(
            # history_loads: the history version the daily-bar cache and the factor book follow;
            # eod_sessions: saved scanners on the fno / nse_eq universes; fo_contracts: futures OI (unusual_oi)
            tables_read=(
                "instruments",
                "quotes",
                "candles",
                "corporate_actions",
                "history_loads",
                "scanners",
                "alerts",
                "eod_sessions",
                "fo_contracts",
            ),
            tables_write=("signals", "outbox", "scanners", "scan_signals", "alerts"),
        ),
        timeout_s=120,
    ),
    FunctionSpec(
        name="instrument_refresh",
        handler="functions.instrument_refresh.handler:lambda_handler",
        description="Reloads the instrument master before the session opens",
        triggers=(
            ScheduleTrigger(
                name="instruments-daily",
                cron="30 8 ? * MON-FRI *",
                description="08:30 IST, Monday to Friday",
            ),
        ),
        access=Access(tables_read=("instruments",), tables_write=("instruments",)),
        timeout_s=300,
        # a full dump (~150,000 rows) parsed beside the whole table read back peaks near 500 MB
        # (bench/bench_instrument_master.py): 512 would be at the edge on an ordinary day
        memory_mb=1024,
    ),
    FunctionSpec(
        name="eod_ingest",
        handler="functions.eod_ingest.handler:lambda_handler",
        description="Loads the session's end-of-day reports from the exchange (1d candles, F&O contracts), once each",
        triggers=(
            ScheduleTrigger(
                name="eod-evening",
                cron="30 19 ? * * *",  # every day: the handler skips days without a session
                description="19:30 IST on every NSE session day (weekend and Muhurat sessions too), after the"
                " exchange publishes the day's reports",
            ),
        ),
        access=Access(
            tables_read=("history_loads", "candles"),  # candles: a rights factor's cum-rights close
            tables_write=(
                "candles",
                "history_loads",
                "fo_contracts",
                "eod_sessions",
                "corporate_actions",
            ),
        ),
        memory_mb=1024,
        timeout_s=300,
    ),
    FunctionSpec(
        name="signal_alerts",
        handler="functions.signal_alerts.handler:lambda_handler",
        description="Fires the alerts that follow a scanner when it finds new hits",
        triggers=(EventTrigger(detail_types=("signal.detected",), queue="signal-alerts"),),
        access=Access(tables_read=("alerts",), tables_write=("alerts", "outbox")),
    ),
    FunctionSpec(
        name="backtest_runner",
        handler="functions.backtest_runner.handler:lambda_handler",
        description="Runs queued backtest jobs and stores their results",
        triggers=(
            EventTrigger(
                detail_types=("backtest.requested",), queue="backtests", batch_size=1, max_receive_count=4
            ),
        ),
        access=Access(
            tables_read=("backtest_jobs", "candles", "corporate_actions", "history_loads"),
            tables_write=("backtest_jobs",),
        ),
        memory_mb=2048,
        timeout_s=300,
    ),
    FunctionSpec(
        name="webhook_retry",
        handler="functions.webhook_retry.handler:lambda_handler",
        description="Sends due webhook retries (claimed one by one), disables endpoints that answer 410 Gone",
        triggers=(
            ScheduleTrigger(
                name="webhook-retry-every-minute",
                cron="0/1 * * * ? *",
                description="Every minute, all day",
            ),
        ),
        access=Access(tables_read=WEBHOOK_TABLES, tables_write=WEBHOOK_TABLES),
        timeout_s=60,
    ),
    FunctionSpec(
        name="stripe_webhook",
        handler="functions.stripe_webhook.handler:lambda_handler",
        description="Stripe events, verified on the raw body, applied once each in any order (subscriptions, "
        "invoices, dunning start); notices go to the outbox in the same transaction",
        triggers=(HttpTrigger(routes=("POST /webhooks/stripe",), authorized=False),),
        access=Access(
            tables_read=("billing_events", "users", "plans", *BILLING_TABLES),
            tables_write=("billing_events", "users", "outbox", *BILLING_TABLES),
            secrets=("stripe",),
        ),
    ),
    FunctionSpec(
        name="api",
        handler="functions.api.handler:lambda_handler",
        description="The REST API (FastAPI via Mangum)",
        triggers=(
            HttpTrigger(routes=("GET /api/health", "ANY /auth/{proxy+}"), authorized=False),
            # the front door, the OpenAPI document and the docs pages with their bundled assets
            HttpTrigger(
                routes=(
                    "GET /",
                    "GET /openapi.json",
                    "GET /docs",
                    "GET /docs/{proxy+}",
                    "GET /redoc",
                    "GET /static/docs/{proxy+}",
                ),
                authorized=False,
            ),
            HttpTrigger(routes=("ANY /api/{proxy+}",), authorized=True),
            # programmatic clients: the same routes with X-API-Key, checked by the app (hashed keys, plan-gated)
            HttpTrigger(routes=("ANY /v1/{proxy+}",), authorized=False),
        ),
        access=Access(
            tables_read=(
                "instruments",
                "quotes",
                "candles",
                "corporate_actions",
                "history_loads",
                "alerts",
                "notifications",
                "users",
                "plans",
                "feed_status",
                "signals",
                "scanners",
                "scan_signals",
                "backtest_jobs",
                *WEBHOOK_TABLES,
                *ACCESS_TABLES,
                *BILLING_TABLES,
                "trades",
                "strategy_deployments",
                "fo_contracts",  # lot sizes and expiries, the fno universe
                "eod_sessions",  # the fno and nse_eq universes
                "watchlists",
                *ACCOUNT_TABLES,
            ),
            # outbox: backtest submissions write their job and its event in one transaction
            tables_write=(
                "alerts",
                "notifications",
                "scanners",
                "users",
                "backtest_jobs",
                *ACCOUNT_TABLES,
                "scan_signals",  # account deletion erases the user's signals
                "outbox",
                *WEBHOOK_TABLES,
                *ACCESS_TABLES,
                "billing_accounts",  # the Stripe customer, created on first checkout
                "watchlists",
                "chain_demand",  # an option chain asked for while not streamed: the feed subscribes it
            ),
            publish_sns=True,  # registering push devices
            secrets=("auth", "stripe"),
        ),
        memory_mb=1024,
    ),
)


# Billing: the monthly metering run, the daily dunning sweep, the notices they and the webhooks raise.
BILLING_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="billing_cycle",
        handler="functions.billing_cycle.handler:lambda_handler",
        description="Meters the month that closed (trade, success, profit-share, strategy fees) into Stripe "
        "invoice items, once per tenant, month and stream",
        triggers=(
            ScheduleTrigger(
                name="billing-cycle-monthly",
                cron="30 0 1 * ? *",
                description="00:30 IST on the 1st: the previous IST calendar month",
            ),
        ),
        access=Access(
            tables_read=("plans", "trades", "strategy_deployments", *BILLING_TABLES),
            tables_write=("usage_charges", "billing_accounts"),
            secrets=("stripe",),
        ),
        timeout_s=900,
    ),
    FunctionSpec(
        name="dunning_sweep",
        handler="functions.dunning_sweep.handler:lambda_handler",
        description="Accounts past their dunning grace period move to the free plan; Stripe is cancelled",
        triggers=(
            ScheduleTrigger(name="dunning-daily", cron="0 9 * * ? *", description="09:00 IST, every day"),
        ),
        access=Access(
            tables_read=("users", "plans", "billing_accounts"),
            tables_write=("users", "billing_accounts", "outbox"),
            secrets=("stripe",),
        ),
        timeout_s=300,
    ),
    FunctionSpec(
        name="plan_limits",
        handler="functions.plan_limits.handler:lambda_handler",
        description="After a plan change, pauses the newest alerts over the new plan's limit and tells their users",
        triggers=(EventTrigger(detail_types=("plan.changed",), queue="plan-changes"),),
        access=Access(
            tables_read=("alerts", "plans", "notifications", "users"),
            tables_write=("alerts", "notifications"),
        ),
    ),
    FunctionSpec(
        name="billing_notices",
        handler="functions.billing_notices.handler:lambda_handler",
        description="Billing notices (payment failed, downgraded, trial ending) -> inbox and e-mail, once each",
        triggers=(EventTrigger(detail_types=("billing.notice",), queue="billing-notices"),),
        access=Access(
            tables_read=("users", "notifications"),
            tables_write=("notifications",),
            send_email=True,
        ),
    ),
)

# Real-time push: the WebSocket API's routes, the fan-out from the table streams, the stale-connection sweep.
WS_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="ws_router",
        handler="functions.ws_router.handler:lambda_handler",
        description="WebSocket $connect (token checked), $disconnect and $default (subscribe, unsubscribe, ping)",
        triggers=(WebSocketTrigger(),),
        access=Access(tables_read=("users", "instruments", *WS_TABLES), tables_write=WS_TABLES),
        timeout_s=10,
    ),
    FunctionSpec(
        name="ws_push",
        handler="functions.ws_push.handler:lambda_handler",
        description="Quote, candle and inbox changes -> frames to the subscribed WebSocket connections",
        triggers=(
            DynamoStreamTrigger(table="quotes", batch_size=500, retry_attempts=1),
            # every batch of ticks rewrites five candles per instrument: push them at most once a second
            DynamoStreamTrigger(table="candles", batch_size=500, retry_attempts=1, max_batching_window_s=1),
            DynamoStreamTrigger(table="notifications", batch_size=100, retry_attempts=3),
        ),
        access=Access(tables_read=WS_TABLES, tables_write=WS_TABLES, manage_connections=True),
        timeout_s=30,
    ),
    FunctionSpec(
        name="ws_cleanup",
        handler="functions.ws_cleanup.handler:lambda_handler",
        description="Removes WebSocket connections past their lifetime or unreachable, and their subscriptions",
        triggers=(
            ScheduleTrigger(
                name="ws-cleanup-every-5-min", cron="0/5 * * * ? *", description="Every 5 minutes, all day"
            ),
        ),
        access=Access(tables_read=WS_TABLES, tables_write=WS_TABLES, manage_connections=True),
        timeout_s=120,
    ),
)
FUNCTIONS = (*FUNCTIONS, *WS_FUNCTIONS, *BILLING_FUNCTIONS)

TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        name="broker_feed",
        module="functions.broker_feed.main",
        description="Holds the admin broker connection and publishes ticks to Kinesis",
        access=Access(
            # the subscription follows what users watch (alerts, watchlists, scanners) and the option chains
            # (centred on the last stored quote after a restart); broker history fills the candles' gaps
            tables_read=(
                "instruments",
                "alerts",
                "watchlists",
                "chain_demand",
                "scanners",
                "quotes",
                "candles",
            ),
            tables_write=("feed_status", "candles"),
            stream_write=True,
            secrets=("broker",),
        ),
    ),
)

STREAMS: tuple[str, ...] = ("ticks",)
SECRETS: tuple[str, ...] = ("broker", "stripe", "auth")


def function(name: str) -> FunctionSpec:
    for spec in FUNCTIONS:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in FUNCTIONS)
    raise KeyError(f"unknown function {name!r}; known functions: {known}")


def event_queues() -> dict[str, EventTrigger]:
    return {t.queue: t for f in FUNCTIONS for t in f.triggers if isinstance(t, EventTrigger)}
