"""Provision the stand-ins from the catalog and the models, then load demo data. Idempotent."""

from __future__ import annotations

import json
import secrets
from importlib import resources
from typing import Any

from botocore.exceptions import ClientError

from mantra.auth.passwords import hash_password
from mantra.billing.plans import load_catalogs
from mantra.catalog import FUNCTIONS, SECRETS, STREAMS, DynamoStreamTrigger, KinesisTrigger, event_queues
from mantra.clock import SystemClock, ist_from_ms
from mantra.devtools.nse_data import nse_reports_dir
from mantra.domain import Instrument, Role, User
from mantra.feed.options_sim import CHAINS, chain_instruments, expiry_for
from mantra.market.eod import EodLoader
from mantra.market.instrument_master import BUNDLED_KITE, load_dump, refresh
from mantra.market.instruments import demo_instruments
from mantra.market.universes import universe
from mantra.runtime.pollers import failures_queue
from mantra.settings import Settings
from mantra.store import tables
from mantra.store.aws import client
from mantra.store.models import ALL_MODELS
from mantra.store.repositories import (
    DynamoCandleRepository,
    DynamoInstrumentRepository,
    DynamoPlanRepository,
    DynamoUserRepository,
)

DEMO_PASSWORD = "mantra-demo"  # noqa: S105 - documented local-only password of the seeded users


def provision(settings: Settings) -> dict[str, Any]:
    created_tables = tables.create_all(settings)
    ddb = client("dynamodb", settings.region)
    for model in ALL_MODELS:
        _add_missing_indexes(ddb, model)
    for spec in tables.table_specs():
        if spec.stream_view_type:
            # a table made before its model declared a stream (an older .data/): turn the stream on
            desc = ddb.describe_table(TableName=settings.name(spec.base_name))["Table"]
            if not desc.get("StreamSpecification", {}).get("StreamEnabled"):
                ddb.update_table(
                    TableName=settings.name(spec.base_name),
                    StreamSpecification={"StreamEnabled": True, "StreamViewType": spec.stream_view_type},
                )
        if spec.ttl_attribute:
            name = settings.name(spec.base_name)
            ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                ddb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
                )

    kinesis = client("kinesis", settings.region)
    for stream in STREAMS:
        name = settings.name(stream)
        try:
            kinesis.create_stream(StreamName=name, ShardCount=2)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        kinesis.get_waiter("stream_exists").wait(
            StreamName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
        )

    sqs = client("sqs", settings.region)
    events = client("events", settings.region)
    bus = settings.name(settings.event_bus)
    try:
        events.create_event_bus(Name=bus)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise
    for queue, trig in event_queues().items():
        dlq_url = sqs.create_queue(QueueName=settings.name(f"{queue}-dlq"))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        url = sqs.create_queue(
            QueueName=settings.name(queue),
            Attributes={
                "VisibilityTimeout": "30",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(trig.max_receive_count)}
                ),
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule = settings.name(f"{queue}-rule")
        events.put_rule(
            Name=rule,
            EventBusName=bus,
            State="ENABLED",
            EventPattern=json.dumps(
                {"source": [settings.event_source], "detail-type": list(trig.detail_types)}
            ),
        )
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    # failure destinations of the stream consumers
    for fn in FUNCTIONS:
        if any(isinstance(t, KinesisTrigger | DynamoStreamTrigger) for t in fn.triggers):
            sqs.create_queue(QueueName=failures_queue(settings, fn.name))

    # the push platform application (in the cloud, ops create it with the FCM/APNs credentials)
    sns = client("sns", settings.region)
    apps = sns.list_platform_applications()["PlatformApplications"]
    if not any(a["PlatformApplicationArn"].endswith("/" + settings.name("push")) for a in apps):
        sns.create_platform_application(
            Name=settings.name("push"), Platform="GCM", Attributes={"PlatformCredential": "local-fcm-key"}
        )

    sm = client("secretsmanager", settings.region)
    defaults: dict[str, dict[str, str]] = {
        "stripe": {"webhook_secret": "whsec_local_" + secrets.token_hex(16), "api_key": "sk_test_local"},
        "broker": {"provider": "simulated"},
        "auth": {"issuer": "development"},
    }
    for name in SECRETS:
        secret_id = f"mantra/{settings.stage}/{name}"
        try:
            sm.describe_secret(SecretId=secret_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            sm.create_secret(Name=secret_id, SecretString=json.dumps(defaults.get(name, {})))
    return {"tables_created": created_tables}


def _add_missing_indexes(ddb: Any, model: Any) -> None:
    """A table made before its model declared an index (an older .data/): create the index."""
    schema = model._get_schema()
    existing = {
        g["IndexName"]
        for g in ddb.describe_table(TableName=model.Meta.table_name)["Table"].get(
            "GlobalSecondaryIndexes", []
        )
    }
    for gsi in schema["global_secondary_indexes"]:
        if gsi["index_name"] in existing:
            continue
        ddb.update_table(
            TableName=model.Meta.table_name,
            AttributeDefinitions=gsi["attribute_definitions"],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": gsi["index_name"],
                        "KeySchema": sorted(gsi["key_schema"], key=lambda k: k["KeyType"] != "HASH"),
                        "Projection": gsi["projection"],
                    }
                }
            ],
        )


def simulated_option_contracts(settings: Settings, now_ms: int) -> list[Instrument]:
    """The contracts the simulated feed will quote today, so option chains find them in the master."""
    bases = {i.symbol: price for i, price in demo_instruments()}
    out: list[Instrument] = []
    for name in (c.strip() for c in settings.feed_option_chains.split(",")):
        if name in CHAINS and CHAINS[name].index_symbol in bases:
            spec = CHAINS[name]
            out += chain_instruments(spec, bases[spec.index_symbol], expiry_for(now_ms, spec))
    return out


def seed(settings: Settings) -> dict[str, int]:
    tables.configure(settings)
    instruments = DynamoInstrumentRepository()
    # the demo set the simulated market trades, then the brokers' dumps (equities, indices, NFO contracts),
    # each adding its own tokens, then today's simulated option contracts
    now_ms = SystemClock().now_ms()
    today = ist_from_ms(now_ms).date()
    n_instruments = instruments.put_many(i for i, _ in demo_instruments())
    for source in dict.fromkeys([settings.instrument_source, BUNDLED_KITE]):
        n_instruments += refresh(instruments, load_dump(source), today).added
    n_instruments += instruments.put_many(simulated_option_contracts(settings, now_ms))
    plans = load_catalogs()
    DynamoPlanRepository().put_many(plans)
    users_repo = DynamoUserRepository()
    raw_users = json.loads(resources.files("mantra.data").joinpath("users_demo.json").read_text())
    now = SystemClock().now_ms()
    for raw in raw_users:
        user = User(**{**raw, "roles": frozenset(Role(r) for r in raw["roles"])})
        if users_repo.get(user.user_id) is None:
            users_repo.put(user, hash_password(DEMO_PASSWORD), now)
    history = seed_history(settings)
    return {
        "instruments": n_instruments,
        "plans": len(plans),
        "users": len(raw_users),
        "daily_candles": history,
    }


def seed_history(settings: Settings) -> int:
    """Real daily history for the demo's universes (demo and NIFTY 50) from the exchange's own reports, and
    the newest F&O report there (lot sizes, expiries and the ``fno`` universe; one day is a second's writes).

    Nothing is generated: without the reports the store stays empty and scans say which symbols have no data.
    """
    from mantra.store.fo_repository import DynamoEqHistory, DynamoFoStore

    folder = nse_reports_dir(settings)
    if folder is None or not (folder / "equity").is_dir():
        return 0
    symbols = frozenset(universe("demo").symbols) | frozenset(universe("nifty50").symbols)
    from mantra.store.corporate_action_repository import DynamoCorporateActions

    now = SystemClock().now_ms()
    loader = EodLoader(
        DynamoCandleRepository(),
        symbols,
        fo=DynamoFoStore(),
        eq=DynamoEqHistory(),
        factors=DynamoCorporateActions(),
    )
    report = loader.load([folder / "equity"], now_ms=now)
    newest_fo = (
        sorted((folder / "fo").glob("BhavCopy_NSE_FO_*.csv.zip"))[-1:] if (folder / "fo").is_dir() else []
    )
    actions = [folder / "corporate_actions"] if (folder / "corporate_actions").is_dir() else []
    loader.load([*newest_fo, *actions], now_ms=now)  # after the bars: a rights factor reads the close before
    return report.candles
