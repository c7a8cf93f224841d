"""The WebSocket API: routes from the catalog, token checked in $connect, ManageConnections scoped to this
API's connections, a logged and throttled stage, the push functions told the Management API endpoint."""

from __future__ import annotations

import json

from infra_helpers import STAGE, Synth
from mantra.catalog import FUNCTIONS, DynamoStreamTrigger, WebSocketTrigger, function


def _ws_api(synth: Synth) -> str:
    return synth.logical_id("AWS::ApiGatewayV2::Api", Name=f"mantra-{STAGE}-ws")


def test_websocket_routes_match_the_catalog_and_call_the_router(synth: Synth) -> None:
    api = _ws_api(synth)
    assert synth.props(api)["ProtocolType"] == "WEBSOCKET"
    assert synth.props(api)["RouteSelectionExpression"] == "$request.body.action"
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in synth.of_type("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == {"Ref": api}
    }
    declared = {k for s in FUNCTIONS for t in s.triggers if isinstance(t, WebSocketTrigger) for k in t.routes}
    assert set(routes) == declared == {"$connect", "$disconnect", "$default"}
    # $connect has no authorizer (WebSocket APIs have no JWT authorizer): the router validates the token
    assert all(r["AuthorizationType"] == "NONE" for r in routes.values())
    env = synth.props(synth.function_id("ws_router"))["Environment"]["Variables"]
    assert "cognito-idp" in json.dumps(env["MANTRA_AUTH_ISSUER"])
    assert "MANTRA_AUTH_CLIENT_ID" in env
    # only $default answers the client with the function's body
    responses = [
        r["Properties"]
        for r in synth.of_type("AWS::ApiGatewayV2::RouteResponse").values()
        if r["Properties"]["ApiId"] == {"Ref": api}
    ]
    assert len(responses) == 1 and responses[0]["RouteResponseKey"] == "$default"


def test_websocket_stage_logs_access_and_throttles(synth: Synth) -> None:
    api = _ws_api(synth)
    [stage] = [
        s["Properties"]
        for s in synth.of_type("AWS::ApiGatewayV2::Stage").values()
        if s["Properties"]["ApiId"] == {"Ref": api}
    ]
    assert stage["StageName"] == "live" and stage["AutoDeploy"] is True
    assert "$context.connectionId" in stage["AccessLogSettings"]["Format"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0


def test_only_push_and_cleanup_may_manage_connections_and_only_on_this_api(synth: Synth) -> None:
    api = _ws_api(synth)
    managers = set()
    for spec in FUNCTIONS:
        role = synth.props(synth.function_id(spec.name))["Role"]["Fn::GetAtt"][0]
        statements = [
            s for s in synth.role_policies(role) if "execute-api:ManageConnections" in json.dumps(s["Action"])
        ]
        if not statements:
            continue
        managers.add(spec.name)
        for s in statements:
            for resource in s["Resource"]:
                text = json.dumps(resource)
                assert {"Ref": api} in resource["Fn::Join"][1], text
                assert "/live/" in text and "@connections/*" in text
        env = synth.props(synth.function_id(spec.name))["Environment"]["Variables"]
        assert (
            "/live" in json.dumps(env["MANTRA_WS_ENDPOINT"])
            and {"Ref": api} in env["MANTRA_WS_ENDPOINT"]["Fn::Join"][1]
        )
    assert managers == {s.name for s in FUNCTIONS if s.access.manage_connections} == {"ws_push", "ws_cleanup"}


def test_push_reads_the_quote_candle_and_inbox_streams(synth: Synth) -> None:
    tables = {t.table for t in function("ws_push").triggers if isinstance(t, DynamoStreamTrigger)}
    assert tables == {"quotes", "candles", "notifications"}
    for table in tables:
        props = synth.props(synth.logical_id("AWS::DynamoDB::Table", TableName=f"mantra-{STAGE}-{table}"))
        assert props["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
