"""Access tokens: the development issuer signs Cognito-shaped RS256 tokens; one validator checks both.

The validator accepts only RS256 with a key from the issuer's key set, and checks issuer, expiry, ``token_use``
and ``client_id`` exactly as it does for Cognito access tokens, so local sign-in exercises the cloud path.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from mantra.domain import User
from mantra.errors import Unauthorized


class KeySource(Protocol):
    def key_for(self, kid: str) -> Any: ...


class JwksUrlKeys:
    """Cognito: fetch and cache the pool's JWKS."""

    def __init__(self, url: str) -> None:
        self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)

    def key_for(self, kid: str) -> Any:
        try:
            return self._client.get_signing_key(kid).key
        except jwt.PyJWKClientError as exc:
            raise Unauthorized("token signed with an unknown key") from exc


class StaticKeys:
    def __init__(self, jwks: dict[str, Any]) -> None:
        self._keys = {k["kid"]: RSAAlgorithm.from_jwk(json.dumps(k)) for k in jwks["keys"]}

    def key_for(self, kid: str) -> Any:
        try:
            return self._keys[kid]
        except KeyError as exc:
            raise Unauthorized("token signed with an unknown key") from exc


class DevIssuer:
    """Holds an RSA key (a PEM file in the data folder) and issues access tokens for seeded users."""

    def __init__(self, private_pem: bytes, issuer: str, client_id: str, ttl_s: int) -> None:
        self._key = serialization.load_pem_private_key(private_pem, password=None)
        self.issuer, self.client_id, self.ttl_s = issuer, client_id, ttl_s
        public_jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))  # type: ignore[arg-type]
        self.kid = "dev-" + public_jwk["n"][:16]
        self.jwks = {"keys": [{**public_jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    @classmethod
    def from_file(cls, path: Path, issuer: str, client_id: str, ttl_s: int) -> DevIssuer:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            path.write_bytes(pem)
            path.chmod(0o600)
        return cls(path.read_bytes(), issuer, client_id, ttl_s)

    def issue(self, user: User, now_s: int) -> str:
        claims = {
            "sub": user.user_id,
            "iss": self.issuer,
            "client_id": self.client_id,
            "token_use": "access",
            "scope": "openid email",
            "username": user.email,
            "cognito:groups": sorted(r.value for r in user.roles),
            "iat": now_s,
            "auth_time": now_s,
            "exp": now_s + self.ttl_s,
            "jti": secrets.token_hex(12),
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})  # type: ignore[arg-type]


class TokenValidator:
    def __init__(self, keys: KeySource, issuer: str, client_id: str, leeway_s: int = 30) -> None:
        self._keys, self._issuer, self._client_id, self._leeway = keys, issuer, client_id, leeway_s

    def validate(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed bearer token") from exc
        if header.get("alg") != "RS256":
            raise Unauthorized(f"token algorithm {header.get('alg')!r} is not accepted")
        key = self._keys.key_for(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        if claims.get("token_use") != "access":
            raise Unauthorized("an access token is required")
        if claims.get("client_id") != self._client_id:
            raise Unauthorized("token was issued for another client")
        return claims
