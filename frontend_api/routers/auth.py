"""Accounts: sign-up and confirmation, password reset (Cognito or the local issuer behind one port), and the
development issuer's OAuth2 password flow (Cognito issues tokens in the cloud)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.security import OAuth2PasswordRequestForm
from mantra.auth.tokens import DevIssuer
from mantra.clock import utc_from_ms
from mantra.domain import User
from mantra.errors import NotFound, Unauthorized

from frontend_api.deps import CurrentUser, Services, SignedIn
from frontend_api.errors import answers
from frontend_api.schemas import (
    AcceptedOut,
    CodeIn,
    CodeSentOut,
    ConfirmIn,
    DeletedOut,
    EmailChangeIn,
    EmailIn,
    MeOut,
    PasswordIn,
    RefreshIn,
    ResetIn,
    SignUpIn,
    TokenOut,
    TotpOut,
)

router = APIRouter(tags=["auth"])


def dev_issuer(request: Request) -> DevIssuer:
    issuer: DevIssuer | None = request.app.state.dev_issuer
    if issuer is None:
        raise NotFound("the development issuer is off here; sign in through Cognito")
    return issuer


def me_out(user: User) -> MeOut:
    return MeOut(
        user_id=user.user_id,
        email=user.email,
        name=user.name,
        tenant_id=user.tenant_id,
        roles=sorted(r.value for r in user.roles),
        plan_id=user.plan_id,
        mfa_enabled=user.mfa_enabled,
    )


@router.post(
    "/auth/signup",
    response_model=CodeSentOut,
    status_code=202,
    responses=answers(409, 429),
    summary="Open an account: a 6-digit code is e-mailed to confirm it",
    description="The password needs at least 12 characters, with a lower-case letter, an upper-case letter, "
    "a digit and a symbol. The account gets its own tenant and the free plan (Starter), with the first paid "
    "plan's trial on offer. A taken e-mail is 409, confirmed or not. Codes expire after 15 minutes.",
)
def signup(body: SignUpIn, services: Services) -> CodeSentOut:
    done = services.accounts.sign_up(body.name, body.email, body.password)
    expires = None if done.code_expires_ms is None else utc_from_ms(done.code_expires_ms)
    return CodeSentOut(email=done.email, expires_at=expires, next="POST /auth/confirm {email, code}")


@router.post(
    "/auth/confirm",
    response_model=MeOut,
    responses=answers(403, 422),
    summary="Confirm an account with the e-mailed code; then POST /auth/token signs in",
    description="Five wrong codes spend the code (403): ask for a new one with POST /auth/resend.",
)
def confirm(body: ConfirmIn, services: Services) -> MeOut:
    return me_out(services.accounts.confirm(body.email, body.code))


@router.post(
    "/auth/resend",
    response_model=AcceptedOut,
    status_code=202,
    responses=answers(429),
    summary="E-mail a new confirmation code (one a minute, five a day)",
)
def resend(body: EmailIn, services: Services) -> AcceptedOut:
    services.accounts.resend(body.email)
    return AcceptedOut(detail="if an unconfirmed account has this e-mail, a new code is on its way")


@router.post(
    "/auth/password/forgot",
    response_model=AcceptedOut,
    status_code=202,
    summary="E-mail a password reset code (always 202: it does not say whether the account exists)",
)
def forgot(body: EmailIn, services: Services) -> AcceptedOut:
    services.accounts.forgot(body.email)
    return AcceptedOut(detail="if an account has this e-mail, a reset code is on its way")


@router.post(
    "/auth/password/reset",
    status_code=204,
    responses=answers(403, 422),
    summary="Set a new password with the e-mailed code; every session of the account ends",
)
def reset(body: ResetIn, services: Services) -> None:
    services.accounts.reset(body.email, body.code, body.new_password)


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses=answers(401, 404, 429),
    summary="Sign in (OAuth2 password flow)",
    description="`totp`: the 6-digit code of your authenticator app, once MFA is on.",
)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    services: Services,
    issuer: Annotated[DevIssuer, Depends(dev_issuer)],
    totp: Annotated[str | None, Form(description="the authenticator code, once MFA is on")] = None,
) -> TokenOut:
    found = services.accounts.sign_in(form.username, form.password, totp)
    return TokenOut(
        access_token=issuer.issue(found.user, services.clock.now_ms() // 1000),
        expires_in=issuer.ttl_s,
        refresh_token=services.sessions.start(found.user.user_id),
    )


@router.post(
    "/auth/refresh",
    response_model=TokenOut,
    responses=answers(401, 404),
    summary="Trade a refresh token for a new access token and refresh token (each refresh token works once)",
    description="Presenting a refresh token a second time ends its whole session (it may have been copied).",
)
def refresh(
    body: RefreshIn, services: Services, issuer: Annotated[DevIssuer, Depends(dev_issuer)]
) -> TokenOut:
    user_id, next_token = services.sessions.rotate(body.refresh_token)
    user = services.users.get(user_id)
    if user is None:
        raise Unauthorized("refresh_token: its account no longer exists")
    return TokenOut(
        access_token=issuer.issue(user, services.clock.now_ms() // 1000),
        expires_in=issuer.ttl_s,
        refresh_token=next_token,
    )


@router.post(
    "/auth/logout",
    status_code=204,
    responses=answers(404),
    summary="End a session: its refresh tokens stop working (access tokens run out within the hour)",
)
def logout(body: RefreshIn, services: Services, issuer: Annotated[DevIssuer, Depends(dev_issuer)]) -> None:
    services.sessions.end(body.refresh_token)


@router.get(
    "/auth/.well-known/jwks.json",
    responses=answers(404),
    summary="The development issuer's public keys",
)
def jwks(issuer: Annotated[DevIssuer, Depends(dev_issuer)]) -> dict[str, Any]:
    return issuer.jwks


@router.get("/api/me", response_model=MeOut, summary="Who am I?")
def me(user: CurrentUser) -> MeOut:
    return me_out(user)


@router.post(
    "/api/me/email",
    response_model=CodeSentOut,
    status_code=202,
    responses=answers(409, 429),
    summary="Change my e-mail: a code goes to the new address (your password is asked for)",
)
def change_email(body: EmailChangeIn, services: Services, user: SignedIn) -> CodeSentOut:
    sent = services.accounts.request_email_change(user, body.new_email, body.password)
    return CodeSentOut(
        email=sent.email, expires_at=utc_from_ms(sent.expires_ms), next="POST /api/me/email/confirm {code}"
    )


@router.post(
    "/api/me/email/confirm",
    response_model=MeOut,
    responses=answers(403, 409),
    summary="Confirm my new e-mail with the code sent to it",
)
def confirm_email(body: CodeIn, services: Services, user: SignedIn) -> MeOut:
    email = services.accounts.confirm_email_change(user, body.code)
    return me_out(user.model_copy(update={"email": email}))


@router.post(
    "/api/me/mfa/totp",
    response_model=TotpOut,
    status_code=201,
    responses=answers(409),
    summary="Set up two-factor (TOTP): a secret for an authenticator app; on once a code is confirmed",
)
def totp_enroll(services: Services, user: SignedIn) -> TotpOut:
    enrolled = services.mfa.enroll(user)
    return TotpOut(secret=enrolled.secret, otpauth_uri=enrolled.otpauth_uri)


@router.post(
    "/api/me/mfa/totp/verify",
    response_model=MeOut,
    responses=answers(409),
    summary="Turn two-factor on with a code from the app; from then on POST /auth/token needs `totp`",
)
def totp_verify(body: CodeIn, services: Services, user: SignedIn) -> MeOut:
    services.mfa.confirm(user, body.code)
    return me_out(user.model_copy(update={"mfa_enabled": True}))


@router.get(
    "/api/me/export",
    response_model=dict[str, Any],
    summary="Everything we hold about me, as JSON",
    description="Profile, preferences, alerts, notifications, scanners, watchlists, API keys (metadata, never "
    "the keys), webhook endpoints (without secrets), the billing account and invoices.",
)
def export(services: Services, user: SignedIn) -> dict[str, Any]:
    return services.privacy.export(user)


@router.delete(
    "/api/me",
    response_model=DeletedOut,
    responses=answers(409),
    summary="Delete my account and my data (password needed); what the law makes us keep is listed",
)
def delete_me(body: PasswordIn, services: Services, user: SignedIn) -> DeletedOut:
    done = services.privacy.delete(user, body.password)
    return DeletedOut(deleted=done.deleted, kept=done.kept)
