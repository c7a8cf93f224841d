"""The Cognito adapter against moto's in-process Cognito: the cloud path of sign-up and confirmation."""

from __future__ import annotations

import boto3
import pytest
from mantra.auth.accounts import Credentials
from mantra.domain import Role, User
from mantra.errors import Conflict
from mantra.store.cognito import CognitoIdentity
from moto import mock_aws

REGION = "ap-south-1"


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_COGNITO_IDP"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name=REGION)
        pool_id = idp.create_user_pool(PoolName="mantra-test-users", UsernameAttributes=["email"])[
            "UserPool"
        ]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        yield idp, pool_id, CognitoIdentity(REGION, client_id, pool_id, client=idp)


def test_sign_up_registers_in_the_pool_and_confirm_confirms_it(pool) -> None:
    idp, pool_id, cognito = pool
    # Given a sign-up through the adapter
    sub = cognito.register("ignored", "asha@example.in", "Asha Rao", "Nifty-50-at-Dawn")
    # Then the pool holds an unconfirmed user whose sub is the id the users table is keyed by
    user = idp.admin_get_user(UserPoolId=pool_id, Username="asha@example.in")
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs["sub"] == sub and attrs["name"] == "Asha Rao"
    assert user["UserStatus"] == "UNCONFIRMED"
    assert cognito.send_first(sub, "asha@example.in") is None  # Cognito mailed the code itself
    # When confirmed / Then the pool says so
    cognito.confirm(sub, "asha@example.in", "123456")
    assert idp.admin_get_user(UserPoolId=pool_id, Username="asha@example.in")["UserStatus"] == "CONFIRMED"


def test_a_taken_email_is_a_conflict_not_cognitos_error(pool) -> None:
    _, _, cognito = pool
    cognito.register("x", "asha@example.in", "Asha", "Nifty-50-at-Dawn")
    with pytest.raises(Conflict, match="email"):
        cognito.register("y", "asha@example.in", "Someone", "Nifty-50-at-Dawn")


def test_an_email_change_is_written_to_the_pool_as_verified(pool) -> None:
    idp, pool_id, cognito = pool
    cognito.register("x", "asha@example.in", "Asha", "Nifty-50-at-Dawn")
    cognito.email_changed("x", "asha@example.in", "asha.rao@example.in")
    user = idp.admin_get_user(UserPoolId=pool_id, Username="asha.rao@example.in")
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs["email"] == "asha.rao@example.in" and attrs["email_verified"] == "true"


def test_the_password_is_checked_by_cognito_not_by_a_local_hash(pool) -> None:
    _, _, cognito = pool
    sub = cognito.register("x", "asha@example.in", "Asha", "Nifty-50-at-Dawn")
    cognito.confirm(sub, "asha@example.in", "123456")
    found = Credentials(
        user=User(
            user_id=sub,
            email="asha@example.in",
            name="Asha",
            tenant_id="tnt_a",
            roles=frozenset({Role.TRADER}),
            plan_id="starter",
        ),
        password_hash="stale-hash-from-sign-up",
        pending=False,
        created_ms=0,
    )
    assert cognito.password_ok(found, "Nifty-50-at-Dawn") is True
    assert cognito.password_ok(found, "Wrong-password-1") is False
