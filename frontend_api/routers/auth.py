"""Development issuer: the OAuth2 password flow for seeded users (Cognito replaces it in the cloud)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from mantra.auth.passwords import verify_password
from mantra.auth.tokens import DevIssuer
from mantra.errors import NotFound, Unauthorized

from frontend_api.deps import CurrentUser, Services
from frontend_api.errors import answers
from frontend_api.schemas import MeOut, TokenOut

router = APIRouter(tags=["auth"])


def dev_issuer(request: Request) -> DevIssuer:
    issuer: DevIssuer | None = request.app.state.dev_issuer
    if issuer is None:
        raise NotFound("the development issuer is off here; sign in through Cognito")
    return issuer


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses=answers(401, 404),
    summary="Sign in (OAuth2 password flow)",
)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    services: Services,
    issuer: Annotated[DevIssuer, Depends(dev_issuer)],
) -> TokenOut:
    found = services.users.by_email(form.username)
    if found is None or not verify_password(form.password, found[1]):
        raise Unauthorized("wrong e-mail or password")
    return TokenOut(
        access_token=issuer.issue(found[0], services.clock.now_ms() // 1000), expires_in=issuer.ttl_s
    )


@router.get(
    "/auth/.well-known/jwks.json",
    responses=answers(404),
    summary="The development issuer's public keys",
)
def jwks(issuer: Annotated[DevIssuer, Depends(dev_issuer)]) -> dict[str, Any]:
    return issuer.jwks


@router.get("/api/me", response_model=MeOut, summary="Who am I?")
def me(user: CurrentUser) -> MeOut:
    return MeOut(
        user_id=user.user_id,
        email=user.email,
        name=user.name,
        tenant_id=user.tenant_id,
        roles=sorted(r.value for r in user.roles),
        plan_id=user.plan_id,
    )
