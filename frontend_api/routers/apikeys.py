"""API keys for programmatic clients (plans with API access): create (shown once), list, revoke.

Keys are managed signed in (a bearer token on /api/keys); a client then calls the same routes under /v1 with
``X-API-Key: <key>``, e.g. ``GET /v1/quotes/RELIANCE``.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from mantra.access.apikeys import ApiKey
from mantra.clock import utc_from_ms
from pydantic import BaseModel, Field

from frontend_api.deps import Entitled, MfaUser, Services, SignedIn

router = APIRouter(tags=["api keys"], dependencies=[Entitled("api_access")])


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["research notebook"])


class ApiKeyOut(BaseModel):
    key_id: str = Field(examples=["3f2a9c01d4e5"])
    name: str = Field(examples=["research notebook"])
    prefix: str = Field(
        examples=["tm_live_3f2a9c01d4e5_Mf9K"], description="the key's first characters, to recognise it"
    )
    created_at: datetime
    last_used_at: datetime | None = Field(description="updated at most once a minute")
    revoked: bool
    revoked_at: datetime | None

    @classmethod
    def of(cls, k: ApiKey) -> ApiKeyOut:
        return cls(
            key_id=k.key_id,
            name=k.name,
            prefix=k.prefix,
            created_at=utc_from_ms(k.created_ms),
            last_used_at=None if k.last_used_ms is None else utc_from_ms(k.last_used_ms),
            revoked=k.revoked,
            revoked_at=None if k.revoked_ms is None else utc_from_ms(k.revoked_ms),
        )


class ApiKeyWithSecretOut(ApiKeyOut):
    key: str = Field(
        examples=["tm_live_3f2a9c01d4e5_Mf9KQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwVq1bX0c7dE"],
        description="The whole key, shown only in this answer (only its hash is stored). "
        "Send it as X-API-Key on /v1/... routes.",
    )


@router.post(
    "/api/keys",
    response_model=ApiKeyWithSecretOut,
    status_code=201,
    summary="Create an API key (the key is shown only in this answer; needs two-factor on)",
)
def create(body: ApiKeyIn, user: MfaUser, services: Services) -> ApiKeyWithSecretOut:
    key, full = services.api_keys.create(user, body.name)
    return ApiKeyWithSecretOut(**ApiKeyOut.of(key).model_dump(), key=full)


@router.get("/api/keys", response_model=list[ApiKeyOut], summary="Your account's API keys (never the keys)")
def list_keys(user: SignedIn, services: Services) -> list[ApiKeyOut]:
    return [ApiKeyOut.of(k) for k in services.api_keys.list(user)]


@router.delete(
    "/api/keys/{key_id}", status_code=204, summary="Revoke an API key (it answers 401 from now on)"
)
def revoke(key_id: str, user: SignedIn, services: Services) -> Response:
    services.api_keys.revoke(user, key_id)
    return Response(status_code=204)
