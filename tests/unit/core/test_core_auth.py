"""Passwords (scrypt) and access tokens: RS256 only, issuer, expiry, client, token_use, key id."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from core_fakes import make_user
from cryptography.hazmat.primitives import serialization
from mantra.auth.passwords import hash_password, verify_password
from mantra.auth.tokens import DevIssuer, StaticKeys, TokenValidator
from mantra.errors import Unauthorized

ISSUER, CLIENT = "https://issuer.test/auth", "client-test"


@pytest.fixture(scope="module")
def stored_hash() -> str:
    return hash_password("mantra-demo")


def test_a_password_verifies_against_its_own_hash_only(stored_hash: str) -> None:
    assert verify_password("mantra-demo", stored_hash)
    assert not verify_password("mantra-demo ", stored_hash)
    assert not verify_password("", stored_hash)


def test_hashes_are_salted_so_equal_passwords_differ(stored_hash: str) -> None:
    assert stored_hash.startswith("scrypt$16384$8$1$")
    assert hash_password("mantra-demo", salt=b"0123456789abcdef") != hash_password(
        "mantra-demo", salt=b"x" * 16
    )


@pytest.mark.parametrize("bad", ["", "plain", "bcrypt$1$2$3$4$5", "scrypt$a$b"])
def test_a_malformed_or_foreign_hash_never_verifies(bad: str) -> None:
    assert verify_password("anything", bad) is False


def test_a_stored_hash_with_corrupt_parameters_does_not_verify_rather_than_raise() -> None:
    assert verify_password("anything", "scrypt$x$8$1$c2FsdA==$ZGlnZXN0") is False


# --- tokens -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def issuer(dev_key_file) -> DevIssuer:
    return DevIssuer.from_file(dev_key_file, ISSUER, CLIENT, ttl_s=3600)


@pytest.fixture(scope="module")
def validator(issuer: DevIssuer) -> TokenValidator:
    return TokenValidator(StaticKeys(issuer.jwks), ISSUER, CLIENT)


def _now() -> int:
    return int(time.time())


def _sign(issuer: DevIssuer, **overrides) -> str:
    """A token signed with the trusted key, claims overridden (None removes a claim)."""
    claims = jwt.decode(issuer.issue(make_user(), _now()), options={"verify_signature": False})
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, issuer._key, algorithm="RS256", headers={"kid": issuer.kid})


def test_a_token_from_the_dev_issuer_validates_with_cognito_shaped_claims(issuer, validator) -> None:
    claims = validator.validate(issuer.issue(make_user(), _now()))
    assert (claims["sub"], claims["token_use"], claims["client_id"]) == ("usr_a", "access", CLIENT)
    assert claims["cognito:groups"] == ["trader"] and claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(issuer.issue(make_user(), _now()))["kid"] == issuer.kid


def test_the_jwks_publishes_only_the_public_key(issuer) -> None:
    (key,) = issuer.jwks["keys"]
    assert (key["kty"], key["alg"], key["use"], key["kid"]) == ("RSA", "RS256", "sig", issuer.kid)
    assert "d" not in key and "p" not in key


def test_an_existing_key_file_is_reused_not_regenerated(dev_key_file, issuer) -> None:
    again = DevIssuer.from_file(dev_key_file, ISSUER, CLIENT, ttl_s=60)
    assert again.kid == issuer.kid


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_alg_none_is_refused(issuer, validator) -> None:
    # Given a token with alg "none" and no signature, claiming to be valid
    claims = jwt.decode(issuer.issue(make_user(), _now()), options={"verify_signature": False})
    token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': issuer.kid})}.{_b64(claims)}."
    # When validated / Then it is refused for its algorithm
    with pytest.raises(Unauthorized, match="'none' is not accepted"):
        validator.validate(token)


def test_hs256_signed_with_the_public_key_is_refused(issuer, validator) -> None:
    # Given the classic confusion attack: HS256 keyed with the published RSA public key
    claims = jwt.decode(issuer.issue(make_user(), _now()), options={"verify_signature": False})
    public_pem = issuer._key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': issuer.kid})}.{_b64(claims)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(Unauthorized, match="'HS256' is not accepted"):
        validator.validate(token)


def test_an_expired_token_is_refused(issuer, validator) -> None:
    # Given a token that expired an hour ago (well past the 30 s leeway)
    token = issuer.issue(make_user(), _now() - 7200)
    with pytest.raises(Unauthorized, match="token expired"):
        validator.validate(token)


def test_a_token_within_the_leeway_is_still_accepted(issuer, validator) -> None:
    token = _sign(issuer, exp=_now() - 10)
    assert validator.validate(token)["sub"] == "usr_a"


def test_a_token_from_another_issuer_is_refused(issuer, validator) -> None:
    with pytest.raises(Unauthorized, match="invalid token"):
        validator.validate(_sign(issuer, iss="https://evil.test/auth"))


def test_a_token_for_another_client_is_refused(issuer, validator) -> None:
    with pytest.raises(Unauthorized, match="another client"):
        validator.validate(_sign(issuer, client_id="someone-else"))


@pytest.mark.parametrize("token_use", ["id", None])
def test_only_access_tokens_are_accepted(issuer, validator, token_use) -> None:
    with pytest.raises(Unauthorized, match="access token is required"):
        validator.validate(_sign(issuer, token_use=token_use))


def test_a_token_without_a_subject_is_refused(issuer, validator) -> None:
    with pytest.raises(Unauthorized, match="invalid token"):
        validator.validate(_sign(issuer, sub=None))


def test_a_token_with_an_unknown_kid_is_refused(issuer, validator, other_rsa_pem) -> None:
    stranger = DevIssuer(other_rsa_pem, ISSUER, CLIENT, 3600)
    with pytest.raises(Unauthorized, match="unknown key"):
        validator.validate(stranger.issue(make_user(), _now()))


def test_a_token_signed_by_another_key_under_the_trusted_kid_is_refused(
    issuer, validator, other_rsa_pem
) -> None:
    stranger = DevIssuer(other_rsa_pem, ISSUER, CLIENT, 3600)
    claims = jwt.decode(stranger.issue(make_user(), _now()), options={"verify_signature": False})
    token = jwt.encode(claims, stranger._key, algorithm="RS256", headers={"kid": issuer.kid})
    with pytest.raises(Unauthorized, match="invalid token"):
        validator.validate(token)


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c"])
def test_garbage_is_refused_as_malformed(validator, garbage) -> None:
    with pytest.raises(Unauthorized):
        validator.validate(garbage)


def test_a_tampered_payload_is_refused(issuer, validator) -> None:
    header, _, sig = issuer.issue(make_user(), _now()).split(".")
    claims = jwt.decode(issuer.issue(make_user(), _now()), options={"verify_signature": False})
    forged = f"{header}.{_b64({**claims, 'sub': 'usr_admin'})}.{sig}"
    with pytest.raises(Unauthorized, match="invalid token"):
        validator.validate(forged)
