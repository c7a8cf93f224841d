"""Adding a FunctionSpec needs no infra change: a new function with every trigger kind and access synthesizes
nag-clean, wired like the catalog's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from infra_helpers import STAGE, Synth, synthesize
from mantra.catalog import (
    FUNCTIONS,
    Access,
    DynamoStreamTrigger,
    EventTrigger,
    FunctionSpec,
    HttpTrigger,
    ScheduleTrigger,
)

REPORTS = FunctionSpec(
    name="reports",
    handler="functions.api.handler:lambda_handler",  # reuses an existing code folder: contents do not matter
    description="A new function declared only in the catalog",
    triggers=(
        HttpTrigger(routes=("GET /reports/{id}",), authorized=True),
        HttpTrigger(routes=("POST /webhooks/partner",), authorized=False),
        ScheduleTrigger(name="reports-nightly", cron="0 18 ? * MON-FRI *", description="18:00 IST"),
        EventTrigger(detail_types=("signal.detected",), queue="reports"),
        DynamoStreamTrigger(table="outbox"),
    ),
    access=Access(
        tables_read=("users", "alerts"),
        tables_write=("signals",),
        put_events=True,
        send_email=True,
        publish_sns=True,
        secrets=("stripe",),
    ),
)


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk.out.extended"), functions=(*FUNCTIONS, REPORTS))


def test_a_new_catalog_function_is_wired_and_nag_clean_without_infra_changes(extended: Synth) -> None:
    # Given a FunctionSpec that only exists in the catalog, When the app synthesizes (nag runs inside synth),
    # Then its function, routes, schedule, queue and stream mapping exist
    fn = extended.function_id("reports")
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in extended.of_type("AWS::ApiGatewayV2::Route").values()
    }
    assert routes["GET /reports/{id}"]["AuthorizationType"] == "JWT"
    assert routes["POST /webhooks/partner"]["AuthorizationType"] == "NONE"
    schedule = extended.props(
        extended.logical_id("AWS::Scheduler::Schedule", Name=f"mantra-{STAGE}-reports-nightly")
    )
    assert schedule["ScheduleExpressionTimezone"] == "Asia/Kolkata"
    extended.logical_id("AWS::SQS::Queue", QueueName=f"mantra-{STAGE}-reports")
    mappings = [
        m["Properties"]
        for m in extended.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": fn}
    ]
    assert len(mappings) == 2
    assert all(m["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings)
    nag = {r["pluginName"]: r for r in extended.report["pluginReports"]}["AwsSolutions"]
    assert nag["violations"] == []


def test_a_new_function_gets_index_arns_by_name_not_wildcards(extended: Synth) -> None:
    role = extended.props(extended.function_id("reports"))["Role"]["Fn::GetAtt"][0]
    resources = json.dumps([s["Resource"] for s in extended.role_policies(role)])
    assert "/index/by_email" in resources
    assert "/index/active_by_symbol" in resources
    assert "index/*" not in resources


def test_layer_and_code_assets_exist(extended: Synth) -> None:
    assets = json.loads((extended.outdir / f"{extended.stack_name}.assets.json").read_text())
    assert len(assets["files"]) >= 2
    assert Path(extended.outdir).is_dir()
