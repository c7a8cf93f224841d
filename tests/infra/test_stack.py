"""The synthesized template matches the catalog and table specs, with least privilege, nag- and lint-clean."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from infra_helpers import SMS_DLT_CONTEXT, STAGE, Synth
from mantra.catalog import (
    FUNCTIONS,
    SECRETS,
    STREAMS,
    TASKS,
    DynamoStreamTrigger,
    EventTrigger,
    HttpTrigger,
    KinesisTrigger,
    ScheduleTrigger,
    WebSocketTrigger,
    function,
)
from mantra.store.tables import table_specs

# Actions that have no resource-level permissions: the only statements allowed to use Resource "*".
RESOURCE_STAR_ALLOWED = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "dynamodb:ListStreams",
    "ecr:GetAuthorizationToken",
    "sns:Publish",  # SMS: phone numbers have no ARN
    "sns:ListPlatformApplications",
}
DDB_ITEM_WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
}
DDB_ITEM_READS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _refs(value: Any) -> set[str]:
    """Logical ids referenced (Ref / Fn::GetAtt) anywhere inside ``value``."""
    text = json.dumps(value)
    return set(re.findall(r'"Ref": "([A-Za-z0-9]+)"', text)) | set(
        re.findall(r'"Fn::GetAtt": \["([A-Za-z0-9]+)"', text)
    )


def _table_ids(synth: Synth) -> dict[str, str]:
    """logical id -> table base name."""
    prefix = f"mantra-{STAGE}-"
    return {
        lid: r["Properties"]["TableName"].removeprefix(prefix)
        for lid, r in synth.of_type("AWS::DynamoDB::Table").items()
    }


def _role_of_function(synth: Synth, name: str) -> str:
    role = synth.props(synth.function_id(name))["Role"]
    return role["Fn::GetAtt"][0]


# --- data -----------------------------------------------------------------------------------------


def test_every_model_has_an_on_demand_pitr_encrypted_retained_table(synth: Synth) -> None:
    # Given the table specs derived from the PynamoDB models
    specs = table_specs()
    # Then there is exactly one table per spec, configured from it
    assert len(synth.of_type("AWS::DynamoDB::Table")) == len(specs)
    for spec in specs:
        lid = synth.logical_id("AWS::DynamoDB::Table", TableName=f"mantra-{STAGE}-{spec.base_name}")
        resource = synth.resources[lid]
        props = resource["Properties"]
        assert resource["DeletionPolicy"] == "Retain"
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
        keys = {k["KeyType"]: k["AttributeName"] for k in props["KeySchema"]}
        assert keys["HASH"] == spec.partition_key.name
        assert keys.get("RANGE") == (spec.sort_key.name if spec.sort_key else None)
        types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        assert types[spec.partition_key.name] == spec.partition_key.type
        if spec.ttl_attribute:
            assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in props
        if spec.stream_view_type:
            assert props["StreamSpecification"] == {"StreamViewType": spec.stream_view_type}
        else:
            assert "StreamSpecification" not in props
        gsis = {g["IndexName"] for g in props.get("GlobalSecondaryIndexes", [])}
        assert gsis == {i.name for i in spec.indexes}


def test_tick_stream_is_encrypted_and_named_from_settings(synth: Synth) -> None:
    streams = synth.of_type("AWS::Kinesis::Stream")
    assert {s["Properties"]["Name"] for s in streams.values()} == {f"mantra-{STAGE}-{n}" for n in STREAMS}
    for stream in streams.values():
        assert stream["Properties"]["StreamEncryption"]["EncryptionType"] == "KMS"


# --- compute --------------------------------------------------------------------------------------


def test_every_catalog_function_is_a_traced_python_lambda_on_the_core_layer(synth: Synth) -> None:
    layer_ids = list(synth.of_type("AWS::Lambda::LayerVersion"))
    assert len(layer_ids) == 1
    assert len(synth.of_type("AWS::Lambda::Function")) == len(FUNCTIONS)
    for spec in FUNCTIONS:
        props = synth.props(synth.function_id(spec.name))
        assert props["Runtime"].startswith("python3.")
        assert props["Handler"] == "handler.lambda_handler"
        assert props["MemorySize"] == spec.memory_mb
        assert props["Timeout"] == spec.timeout_s
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Layers"] == [{"Ref": layer_ids[0]}]
        env = props["Environment"]["Variables"]
        assert env["MANTRA_STAGE"] == STAGE
        assert env["POWERTOOLS_SERVICE_NAME"] == spec.name
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "TradeMantra"
        assert env["MANTRA_EMAIL_TRANSPORT"] == "ses"
        log_group = synth.props(props["LoggingConfig"]["LogGroup"]["Ref"])
        assert log_group["LogGroupName"] == f"/aws/lambda/mantra-{STAGE}-{spec.name}"
        assert log_group["RetentionInDays"] > 0


def test_every_function_gets_the_dlt_registration_from_context_as_its_sms_settings(synth: Synth) -> None:
    # Given the DLT ids passed as CDK context; Then each function's MANTRA_* SMS settings carry them (+91 SMS works)
    wanted = {f"MANTRA_{key.upper()}": value for key, value in SMS_DLT_CONTEXT.items()}
    for logical_id, fn in synth.of_type("AWS::Lambda::Function").items():
        variables = fn["Properties"].get("Environment", {}).get("Variables", {})
        if "MANTRA_STAGE" not in variables:
            continue  # CDK's own helper functions (log retention, custom resources)
        assert {k: variables.get(k) for k in wanted} == wanted, logical_id


def test_without_dlt_context_no_sms_setting_is_set_and_an_empty_value_counts_as_absent() -> None:
    from aws_cdk import App

    from infra.config import InfraConfig

    # Given no registration, or an empty one; Then nothing is passed (the sender refuses +91 numbers itself)
    assert InfraConfig.from_context(App(context={"stage": "ci"}).node).sms_dlt == ()
    assert InfraConfig.from_context(App(context={"sms_sender_id": ""}).node).sms_dlt == ()
    assert InfraConfig.from_context(App(context={"sms_sender_id": "TRDMTR"}).node).sms_dlt == (
        ("sms_sender_id", "TRDMTR"),
    )


def test_authorized_api_function_gets_the_cognito_issuer_and_client_id(synth: Synth) -> None:
    pool_id = next(iter(synth.of_type("AWS::Cognito::UserPool")))
    client_id = next(iter(synth.of_type("AWS::Cognito::UserPoolClient")))
    for spec in FUNCTIONS:
        env = synth.props(synth.function_id(spec.name))["Environment"]["Variables"]
        authorized = any(
            (isinstance(t, HttpTrigger) and t.authorized) or isinstance(t, WebSocketTrigger)
            for t in spec.triggers
        )
        assert ("MANTRA_AUTH_ISSUER" in env) is authorized
        if authorized:
            assert "cognito-idp" in json.dumps(env["MANTRA_AUTH_ISSUER"])
            assert pool_id in _refs(env["MANTRA_AUTH_ISSUER"])
            assert env["MANTRA_AUTH_CLIENT_ID"] == {"Ref": client_id}


# --- triggers -------------------------------------------------------------------------------------


def test_stream_event_sources_report_item_failures_retry_finitely_bisect_and_dead_letter(
    synth: Synth,
) -> None:
    mappings = synth.of_type("AWS::Lambda::EventSourceMapping")
    checked = 0
    for spec in FUNCTIONS:
        for trigger in spec.triggers:
            if not isinstance(trigger, KinesisTrigger | DynamoStreamTrigger):
                continue
            fn = synth.function_id(spec.name)
            source = (
                {
                    "Fn::GetAtt": [
                        synth.logical_id("AWS::Kinesis::Stream", Name=f"mantra-{STAGE}-{trigger.stream}"),
                        "Arn",
                    ]
                }
                if isinstance(trigger, KinesisTrigger)
                else {
                    "Fn::GetAtt": [
                        synth.logical_id("AWS::DynamoDB::Table", TableName=f"mantra-{STAGE}-{trigger.table}"),
                        "StreamArn",
                    ]
                }
            )
            [props] = [
                m["Properties"]
                for m in mappings.values()
                if m["Properties"]["FunctionName"] == {"Ref": fn}
                and m["Properties"].get("EventSourceArn") == source
            ]
            assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            assert props["MaximumRetryAttempts"] == trigger.retry_attempts
            assert 0 <= props["MaximumRetryAttempts"] < 10_000
            assert props["BisectBatchOnFunctionError"] is trigger.bisect_on_error
            assert props["BatchSize"] == trigger.batch_size
            destination = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
            queue = synth.resources[destination]
            assert queue["Type"] == "AWS::SQS::Queue"
            assert queue["Properties"]["SqsManagedSseEnabled"] is True
            checked += 1
    assert checked >= 2


def test_event_triggers_route_bus_rules_through_a_queue_with_dlq(synth: Synth) -> None:
    [bus_id] = synth.of_type("AWS::Events::EventBus")
    rules = synth.of_type("AWS::Events::Rule")
    mappings = synth.of_type("AWS::Lambda::EventSourceMapping")
    triggers = [(s, t) for s in FUNCTIONS for t in s.triggers if isinstance(t, EventTrigger)]
    assert len(rules) == len(triggers) > 0
    for spec, trigger in triggers:
        queue_id = synth.logical_id("AWS::SQS::Queue", QueueName=f"mantra-{STAGE}-{trigger.queue}")
        queue = synth.props(queue_id)
        assert queue["SqsManagedSseEnabled"] is True
        assert queue["RedrivePolicy"]["maxReceiveCount"] == trigger.max_receive_count
        assert queue["VisibilityTimeout"] >= spec.timeout_s
        [rule] = [r["Properties"] for r in rules.values() if queue_id in _refs(r["Properties"]["Targets"])]
        assert rule["EventBusName"] == {"Ref": bus_id}
        assert rule["EventPattern"] == {"source": ["trade-mantra"], "detail-type": list(trigger.detail_types)}
        [mapping] = [
            m["Properties"] for m in mappings.values() if queue_id in _refs(m["Properties"]["EventSourceArn"])
        ]
        assert mapping["FunctionName"] == {"Ref": synth.function_id(spec.name)}
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] == trigger.batch_size
        concurrency = (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")
        assert concurrency == trigger.max_concurrency


def test_schedules_fire_catalog_crons_in_ist_with_a_role_that_only_invokes_its_function(synth: Synth) -> None:
    schedules = synth.of_type("AWS::Scheduler::Schedule")
    triggers = [(s, t) for s in FUNCTIONS for t in s.triggers if isinstance(t, ScheduleTrigger)]
    assert len(schedules) == len(triggers) > 0
    for spec, trigger in triggers:
        props = synth.props(
            synth.logical_id("AWS::Scheduler::Schedule", Name=f"mantra-{STAGE}-{trigger.name}")
        )
        assert props["ScheduleExpression"] == f"cron({trigger.cron})"
        assert props["ScheduleExpressionTimezone"] == "Asia/Kolkata" == trigger.timezone
        assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
        fn = synth.function_id(spec.name)
        assert props["Target"]["Arn"] == {"Fn::GetAtt": [fn, "Arn"]}
        role = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
        invoke = [s for s in synth.role_policies(role) if "lambda:InvokeFunction" in _as_list(s["Action"])]
        assert [s["Resource"] for s in invoke] == [{"Fn::GetAtt": [fn, "Arn"]}]
        others = {a for s in synth.role_policies(role) for a in _as_list(s["Action"])} - {
            "lambda:InvokeFunction"
        }
        assert others <= {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}  # its DLQ


def test_market_hours_scan_runs_in_ist_hours_every_day_as_the_catalog_says(synth: Synth) -> None:
    (trigger,) = [t for t in function("scheduled_scan").triggers if isinstance(t, ScheduleTrigger)]
    props = synth.props(synth.logical_id("AWS::Scheduler::Schedule", Name=f"mantra-{STAGE}-{trigger.name}"))
    assert props["ScheduleExpression"] == f"cron({trigger.cron})"
    assert " 9-19 ? * * *" in trigger.cron  # every day until 20:00: the handler asks the NSE calendar
    assert props["ScheduleExpressionTimezone"] == "Asia/Kolkata"


def test_http_routes_match_the_catalog_and_only_declared_routes_are_public(synth: Synth) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in synth.of_type("AWS::ApiGatewayV2::Route").values()
        if not r["Properties"]["RouteKey"].startswith("$")  # WebSocket routes: tests/infra/test_ws_infra.py
    }
    expected = {
        route: (spec.name, t.authorized)
        for spec in FUNCTIONS
        for t in spec.triggers
        if isinstance(t, HttpTrigger)
        for route in t.routes
    }
    assert set(routes) == set(expected)
    [authorizer_id] = synth.of_type("AWS::ApiGatewayV2::Authorizer")
    authorizer = synth.props(authorizer_id)
    assert authorizer["AuthorizerType"] == "JWT"
    assert "cognito-idp" in json.dumps(authorizer["JwtConfiguration"]["Issuer"])
    for route, (_, authorized) in expected.items():
        props = routes[route]
        if authorized:
            assert props["AuthorizationType"] == "JWT"
            assert props["AuthorizerId"] == {"Ref": authorizer_id}
        else:
            assert props["AuthorizationType"] == "NONE"
    assert routes["ANY /api/{proxy+}"]["AuthorizationType"] == "JWT"
    assert routes["POST /webhooks/stripe"]["AuthorizationType"] == "NONE"
    assert routes["ANY /v1/{proxy+}"]["AuthorizationType"] == "NONE"  # API keys: the app checks them


def test_http_api_stage_logs_access_and_throttles(synth: Synth) -> None:
    [stage] = [
        s
        for s in synth.of_type("AWS::ApiGatewayV2::Stage").values()
        if s["Properties"]["StageName"] == "$default"
    ]
    props = stage["Properties"]
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    assert "$context.requestId" in props["AccessLogSettings"]["Format"]
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert props["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0


def test_cognito_pool_has_strong_passwords_optional_mfa_and_threat_protection(synth: Synth) -> None:
    [pool] = synth.of_type("AWS::Cognito::UserPool").values()
    props = pool["Properties"]
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(
        policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    assert props["MfaConfiguration"] == "OPTIONAL"
    assert props["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"
    assert props["UserPoolTier"] == "PLUS"


# --- least privilege ------------------------------------------------------------------------------


def test_no_policy_uses_resource_star_except_for_actions_without_resource_level_permissions(
    synth: Synth,
) -> None:
    for lid, policy in synth.of_type("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = set(_as_list(statement["Action"]))
            assert not any("*" in a for a in actions - {"kms:GenerateDataKey*", "kms:ReEncrypt*"}), (
                lid,
                actions,
            )
            if "*" in _as_list(statement["Resource"]):
                assert actions <= RESOURCE_STAR_ALLOWED, (lid, actions)
            for resource in _as_list(statement["Resource"]):
                assert "index/*" not in json.dumps(resource), (lid, resource)


def test_functions_touch_only_the_tables_their_access_lists(synth: Synth) -> None:
    tables = _table_ids(synth)
    for spec in FUNCTIONS:
        read: set[str] = set()
        written: set[str] = set()
        for statement in synth.role_policies(_role_of_function(synth, spec.name)):
            actions = set(_as_list(statement["Action"]))
            names = {tables[r] for r in _refs(statement["Resource"]) if r in tables}
            if actions & DDB_ITEM_READS:
                read |= names
            if actions & DDB_ITEM_WRITES:
                written |= names
        assert read == set(spec.access.tables_read), spec.name
        assert written == set(spec.access.tables_write), spec.name


def test_secrets_are_named_per_stage_and_readable_only_where_access_lists_them(synth: Synth) -> None:
    secrets = synth.of_type("AWS::SecretsManager::Secret")
    by_id = {lid: s["Properties"]["Name"].rsplit("/", 1)[1] for lid, s in secrets.items()}
    assert sorted(s["Properties"]["Name"] for s in secrets.values()) == sorted(
        f"mantra/{STAGE}/{n}" for n in SECRETS
    )
    granted: dict[str, set[str]] = {}
    for spec in FUNCTIONS:
        role = _role_of_function(synth, spec.name)
        granted[spec.name] = {
            by_id[r] for s in synth.role_policies(role) for r in _refs(s["Resource"]) if r in by_id
        }
        assert granted[spec.name] == set(spec.access.secrets), spec.name
    for task in TASKS:
        [task_def] = [
            t["Properties"]
            for t in synth.of_type("AWS::ECS::TaskDefinition").values()
            if t["Properties"]["Family"] == f"mantra-{STAGE}-{task.name}"
        ]
        role = task_def["TaskRoleArn"]["Fn::GetAtt"][0]
        names = {by_id[r] for s in synth.role_policies(role) for r in _refs(s["Resource"]) if r in by_id}
        assert names == set(task.access.secrets)


def test_send_email_is_scoped_to_the_sender_identity(synth: Synth) -> None:
    [identity] = synth.of_type("AWS::SES::EmailIdentity").values()
    assert identity["Properties"]["EmailIdentity"] == "trademantra.in"
    for spec in FUNCTIONS:
        statements = [
            s
            for s in synth.role_policies(_role_of_function(synth, spec.name))
            if any(a.startswith("ses:") for a in _as_list(s["Action"]))
        ]
        assert bool(statements) is spec.access.send_email
        for s in statements:
            assert "identity/" in json.dumps(s["Resource"])


def test_sns_topics_are_encrypted_and_tls_only(synth: Synth) -> None:
    topics = synth.of_type("AWS::SNS::Topic")
    assert len(topics) == 2
    for topic in topics.values():
        assert "KmsMasterKeyId" in topic["Properties"]
    policies = json.dumps(list(synth.of_type("AWS::SNS::TopicPolicy").values()))
    assert policies.count('"aws:SecureTransport": "false"') == len(topics)


def test_queues_are_encrypted_and_tls_only(synth: Synth) -> None:
    queues = synth.of_type("AWS::SQS::Queue")
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    policies = json.dumps(list(synth.of_type("AWS::SQS::QueuePolicy").values()))
    assert policies.count('"aws:SecureTransport": "false"') == len(queues)


# --- feed -----------------------------------------------------------------------------------------


def test_feed_runs_one_fargate_task_with_circuit_breaker_logs_and_insights(synth: Synth) -> None:
    [cluster] = synth.of_type("AWS::ECS::Cluster").values()
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["Properties"]["ClusterSettings"]
    [service] = synth.of_type("AWS::ECS::Service").values()
    props = service["Properties"]
    assert props["DesiredCount"] == 1
    assert props["LaunchType"] == "FARGATE"
    assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert props["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    [task] = synth.of_type("AWS::ECS::TaskDefinition").values()
    [container] = task["Properties"]["ContainerDefinitions"]
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    log_group = container["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]
    assert synth.props(log_group)["RetentionInDays"] > 0
    role = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    actions = {a for s in synth.role_policies(role) for a in _as_list(s["Action"])}
    assert {"kinesis:PutRecord", "kinesis:PutRecords"} <= actions
    assert not any(a.startswith(("sqs:", "events:", "ses:")) for a in actions)


def test_vpc_spans_two_azs_with_flow_logs(synth: Synth) -> None:
    assert len(synth.of_type("AWS::EC2::VPC")) == 1
    assert len(synth.of_type("AWS::EC2::FlowLog")) == 1
    azs = {
        json.dumps(s["Properties"]["AvailabilityZone"]) for s in synth.of_type("AWS::EC2::Subnet").values()
    }
    assert len(azs) == 2
    assert 1 <= len(synth.of_type("AWS::EC2::NatGateway")) <= 1


# --- monitoring -----------------------------------------------------------------------------------


def test_alarms_cover_function_errors_iterator_age_dlqs_and_notify_the_ops_topic(synth: Synth) -> None:
    alarms = synth.of_type("AWS::CloudWatch::Alarm")
    ops = synth.logical_id("AWS::SNS::Topic", TopicName=f"mantra-{STAGE}-ops-alarms")
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": ops}]
        by_metric.setdefault(props["MetricName"], []).append(props)
    errors = {json.dumps(p["Dimensions"]) for p in by_metric["Errors"]}
    assert len(errors) == len(FUNCTIONS)
    tick = synth.function_id("tick_processor")
    assert any(tick in _refs(p["Dimensions"]) for p in by_metric["IteratorAge"])
    dlq_names = {
        q["Properties"]["QueueName"] for q in synth.of_type("AWS::SQS::Queue").values()
        if "RedrivePolicy" not in q["Properties"]
    }  # fmt: skip
    alarmed = {
        synth.props(_refs(p["Dimensions"]).pop())["QueueName"]
        for p in by_metric["ApproximateNumberOfMessagesVisible"]
    }
    assert alarmed == dlq_names
    assert all(p["Threshold"] == 1 for p in by_metric["ApproximateNumberOfMessagesVisible"])


# --- checks ---------------------------------------------------------------------------------------


def test_cdk_nag_has_no_unacknowledged_findings_and_every_acknowledgement_has_a_reason(synth: Synth) -> None:
    reports = {r["pluginName"]: r for r in synth.report["pluginReports"]}
    nag = reports["AwsSolutions"]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    for suppressed in nag.get("suppressedViolations", []):
        assert len(suppressed["reason"]) > 40, suppressed["acknowledgedId"]
    for report in reports.values():
        assert report["violations"] == [], report["pluginName"]
    # and no CDK warnings or errors were annotated anywhere
    annotations = [
        (path, entry["type"], entry["data"])
        for path, entries in synth.metadata.items()
        for entry in entries
        if entry["type"] in ("aws:cdk:warning", "aws:cdk:error")
    ]
    assert annotations == []


def test_cfn_lint_is_clean(synth: Synth) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "-i", "W3005", "--", str(synth.template_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("package", ["mantra", "frontend_api", "events"])
def test_core_layer_stages_our_packages(synth: Synth, package: str) -> None:
    from infra.bundling import LAYER_DIR, repo_root

    assert (repo_root() / LAYER_DIR / "python" / package / "__init__.py").is_file()


def _tables_touched(synth: Synth, role: str) -> tuple[set[str], set[str]]:
    tables = _table_ids(synth)
    read: set[str] = set()
    written: set[str] = set()
    for statement in synth.role_policies(role):
        actions = set(_as_list(statement["Action"]))
        names = {tables[r] for r in _refs(statement["Resource"]) if r in tables}
        if actions & DDB_ITEM_READS:
            read |= names
        if actions & DDB_ITEM_WRITES:
            written |= names
    return read, written


def test_watchlists_have_a_tenant_keyed_table_the_api_writes_and_the_feed_only_reads(synth: Synth) -> None:
    # Given the synthesized stack
    lid = synth.logical_id("AWS::DynamoDB::Table", TableName=f"mantra-{STAGE}-watchlists")
    keys = {k["KeyType"]: k["AttributeName"] for k in synth.props(lid)["KeySchema"]}
    # Then one watchlists table, partitioned by tenant
    assert keys == {"HASH": "tenant_id", "RANGE": "watchlist_id"}
    # And the API reads and writes it (the CRUD routes), while the feed task only reads it (and the quotes it
    # centres option bands on after a restart), writing neither
    api_read, api_written = _tables_touched(synth, _role_of_function(synth, "api"))
    assert "watchlists" in api_read and "watchlists" in api_written
    [task] = synth.of_type("AWS::ECS::TaskDefinition").values()
    feed_read, feed_written = _tables_touched(synth, task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0])
    assert {"watchlists", "quotes", "instruments"} <= feed_read
    assert feed_written == {"feed_status", "candles"}
