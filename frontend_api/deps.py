"""FastAPI dependencies as type aliases: the container, the signed-in user, entitlements, roles, rate limits.

Two ways in, each on its own path prefix:

- ``/api/...`` with ``Authorization: Bearer <access token>`` (in the cloud, behind the Cognito JWT authorizer);
- ``/v1/...`` with ``X-API-Key: <key>`` (plans with ``api_access``). ``ApiKeyPaths`` serves ``/v1/x`` as
  ``/api/x`` and marks the request, so a key is accepted only on ``/v1`` and a bearer token only on ``/api``.

Every authenticated request counts against the tenant's hourly limit (one atomic write); ``ApiKeyPaths`` puts
the ``X-RateLimit-*`` headers on the response.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from mantra.access.ratelimit import RateDecision, RateLimiter
from mantra.auth.tokens import TokenValidator
from mantra.container import Container
from mantra.domain import Plan, Role, User
from mantra.errors import Forbidden, Unauthorized
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key (POST /api/keys); accepted on /v1/... paths only, e.g. GET /v1/quotes/RELIANCE",
)

KEY_PATH = "/v1"
BEARER_PATH = "/api"
VIA_API_KEY = "mantra.via_api_key"  # ASGI scope flag set by ApiKeyPaths: the client called /v1/...
STATE_PLAN = "mantra_caller_plan"
STATE_RATE = "mantra_rate_limit"


def via_api_key(request: Request) -> bool:
    return bool(request.scope.get(VIA_API_KEY))


class ApiKeyPaths:
    """ASGI middleware: ``/v1/...`` is served by the ``/api/...`` routes, for clients that sign with a key.

    It also adds the rate-limit headers that the ``current_user`` dependency left in the request state to the
    response, whatever produced it (a model, a ``Response``, an error handler).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        scope[VIA_API_KEY] = False
        path: str = scope["path"]
        if path == KEY_PATH or path.startswith(KEY_PATH + "/"):
            scope["path"] = BEARER_PATH + path[len(KEY_PATH) :]
            raw = scope.get("raw_path")
            if raw is not None:
                scope["raw_path"] = BEARER_PATH.encode() + raw[len(KEY_PATH) :]
            scope[VIA_API_KEY] = True
        state: dict[str, Any] = scope.setdefault("state", {})

        async def send_with_rate_headers(message: Message) -> None:
            decision: RateDecision | None = state.get(STATE_RATE)
            if message["type"] == "http.response.start" and decision is not None:
                headers = MutableHeaders(scope=message)
                for name, value in decision.headers().items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_rate_headers)


def container(request: Request) -> Container:
    c: Container = request.app.state.container
    return c


def validator(request: Request) -> TokenValidator:
    v: TokenValidator = request.app.state.validator
    return v


Services = Annotated[Container, Depends(container)]


def caller_plan(request: Request, services: Container, user: User) -> Plan:
    """The caller's plan, read once per request (entitlements and the rate limiter share it)."""
    plan: Plan | None = getattr(request.state, STATE_PLAN, None)
    if plan is None or plan.plan_id != user.plan_id:
        plan = services.plan_catalog.get(user.plan_id)
        setattr(request.state, STATE_PLAN, plan)
    return plan


def _from_token(services: Container, tokens: TokenValidator, token: str | None, key: str | None) -> User:
    if not token:
        if key:
            raise Unauthorized(
                "API keys are accepted on /v1/... only (same routes); on /api send a bearer token"
            )
        raise Unauthorized("sign in: send Authorization: Bearer <access token> (POST /auth/token issues one)")
    claims = tokens.validate(token)
    user = services.users.get(str(claims["sub"]))
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    return user


def _from_key(request: Request, services: Container, key: str | None) -> User:
    if not key:
        raise Unauthorized(
            "send X-API-Key: <key> on /v1/... (POST /api/keys creates one); bearer tokens use /api"
        )
    api_key = services.api_keys.authenticate(key)
    user = services.users.get(api_key.user_id)
    if user is None:
        raise Unauthorized(f"API key {api_key.prefix}…: its user no longer exists")
    services.plan_catalog.require(caller_plan(request, services, user), "api_access")
    return user


def current_user(
    request: Request,
    services: Services,
    tokens: Annotated[TokenValidator, Depends(validator)],
    token: Annotated[str | None, Depends(oauth2)],
    key: Annotated[str | None, Depends(api_key_header)],
) -> User:
    """The caller, by bearer token on /api or by API key on /v1; one call counted against their plan's limit."""
    user = (
        _from_key(request, services, key)
        if via_api_key(request)
        else _from_token(services, tokens, token, key)
    )
    limiter: RateLimiter | None = getattr(services, "rate_limiter", None)  # test doubles may leave it out
    if limiter is not None:
        decision = limiter.hit(user.tenant_id, caller_plan(request, services, user))
        setattr(request.state, STATE_RATE, decision)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def Entitled(feature: str) -> Any:  # noqa: N802 (reads as a type in signatures: Annotated[User, Entitled(...)])
    """A dependency: the caller, if their plan includes ``feature``; else 403 naming the plan that unlocks it.

    Use on a router (``APIRouter(dependencies=[Entitled("webhooks")])``) or a parameter
    (``user: Annotated[User, Entitled("api_access")]``).
    """

    def entitled(request: Request, user: CurrentUser, services: Services) -> User:
        services.plan_catalog.require(caller_plan(request, services, user), feature)
        return user

    entitled.__name__ = f"entitled_{feature}"
    entitled.plan_feature = feature  # type: ignore[attr-defined]  # read by frontend_api.plan_docs
    return Depends(entitled)


def RequireRole(*roles: Role) -> Any:  # noqa: N802 (like Entitled)
    """A dependency: the caller, if they hold one of ``roles``; anyone else gets 403 (deny by default)."""
    if not roles:
        raise ValueError("RequireRole() needs at least one role, e.g. RequireRole(Role.FINANCE, Role.ADMIN)")
    wanted = frozenset(roles)
    names = " or ".join(sorted(r.value for r in wanted))

    def role(user: CurrentUser) -> User:
        if user.roles & wanted:
            return user
        held = ", ".join(sorted(r.value for r in user.roles)) or "none"
        raise Forbidden(f"this needs the {names} role (you have: {held})")

    role.__name__ = f"role_{'_or_'.join(sorted(r.value for r in wanted))}"
    return Depends(role)


def signed_in_session(request: Request, user: CurrentUser) -> User:
    """The caller, signed in with a bearer token: an API key cannot manage keys (a leaked key cannot mint more)."""
    if via_api_key(request):
        raise Forbidden(
            "API keys are managed signed in: call /api/keys with a bearer token, not /v1 with a key"
        )
    return user


SignedIn = Annotated[User, Depends(signed_in_session)]


def require_mfa(user: SignedIn) -> User:
    """The caller, signed in, with two-factor on: what live trading and API key creation need (403 otherwise)."""
    if not user.mfa_enabled:
        raise Forbidden(
            "this needs two-factor sign-in: turn it on with POST /api/me/mfa/totp, then confirm a code with "
            "POST /api/me/mfa/totp/verify"
        )
    return user


MfaUser = Annotated[User, Depends(require_mfa)]
