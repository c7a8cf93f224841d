"""The API keeps its contract: schemathesis over the whole OpenAPI document, in-process against the ASGI app
wired to the real stand-ins, signed in as a seeded user of its own (so the authenticated paths are exercised,
not only the 401s).

Every operation, with data that fits its schema and data that does not, must answer: no server error, a body
that matches the documented schema for its status, and only statuses the document lists. Bounded in time
(a fixed number of examples per operation, no shrinking) and deterministic (derandomized), for CI:
``make contract`` runs this file alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from mantra.auth.passwords import hash_password
from mantra.clock import SystemClock
from mantra.container import Container
from mantra.domain import Role, User
from mantra.settings import Settings
from mantra.store.repositories import DynamoUserRepository
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from frontend_api.app import create_app

pytestmark = pytest.mark.contract

EXAMPLES_PER_OPERATION = 10
# Checks of what the schema cannot say, left out: a request that fits the schema may still be refused (an unknown
# symbol or plan is a 422 naming the field), and pydantic's lax parsing accepts some values the schema types
# more narrowly (a number for a date-time). Everything else runs: server errors, status codes, bodies, content
# types, headers, auth (without credentials: 401), unsupported methods (405 with every allowed method).
NOT_CONTRACT = [positive_data_acceptance, negative_data_rejection]
# its own user and tenant (every feature, both staff roles), so what the fuzzer creates, cancels or deletes
# touches no other test's seeded user
CONTRACT_USER = User(
    user_id="usr_contract",
    email="contract@demo.trademantra.in",
    name="Chetan Contract",
    tenant_id="tnt_contract",
    roles=frozenset({Role.TRADER, Role.ADMIN, Role.FINANCE}),
    plan_id="institutional",
)
PASSWORD = "mantra-contract"


@pytest.fixture(scope="module")
def contract_app(platform: Settings) -> FastAPI:
    container = Container(platform, SystemClock())
    if container.users.get(CONTRACT_USER.user_id) is None:
        DynamoUserRepository().put(CONTRACT_USER, hash_password(PASSWORD), container.clock.now_ms())
    return create_app(platform, container)


@pytest.fixture(scope="module")
def bearer(contract_app: FastAPI) -> Iterator[dict[str, str]]:
    with TestClient(contract_app) as client:
        resp = client.post("/auth/token", data={"username": CONTRACT_USER.email, "password": PASSWORD})
        assert resp.status_code == 200, resp.text
        yield {"Authorization": f"Bearer {resp.json()['access_token']}"}


# The document is the app's own; it does not depend on how the app is wired, so it is read at collection (one
# pytest test per operation) from an app that is never called, and every case is sent to the app wired to the
# stand-ins (``test_the_fuzzed_document_is_the_served_one`` holds the two to the same document).
DOCUMENT = create_app(Settings(), container=cast(Container, object())).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=EXAMPLES_PER_OPERATION,
    deterministic=True,
    no_shrink=True,
)


def test_the_fuzzed_document_is_the_served_one(contract_app: FastAPI) -> None:
    # Given the app wired to the stand-ins / When it serves its document / Then it is the one fuzzed here
    with TestClient(contract_app) as client:
        assert client.get("/openapi.json").json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_only_documented_statuses_and_bodies(
    case: Any, contract_app: FastAPI, bearer: dict[str, str]
) -> None:
    # Given any request the document describes, valid or not, from a signed-in caller
    # When it is sent / Then no server error, the body fits its documented schema, and the status is documented
    # (GET /api/health answers its documented 503 here, the feed not running: a 5xx it documents is no fault)
    documented_5xx = [not_a_server_error] if case.operation.path == "/api/health" else []
    case.call_and_validate(app=contract_app, headers=bearer, excluded_checks=NOT_CONTRACT + documented_5xx)
