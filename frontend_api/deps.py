"""FastAPI dependencies as type aliases: the container, the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from mantra.auth.tokens import TokenValidator
from mantra.container import Container
from mantra.domain import User
from mantra.errors import Unauthorized

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def container(request: Request) -> Container:
    c: Container = request.app.state.container
    return c


def validator(request: Request) -> TokenValidator:
    v: TokenValidator = request.app.state.validator
    return v


Services = Annotated[Container, Depends(container)]


def current_user(
    services: Services,
    tokens: Annotated[TokenValidator, Depends(validator)],
    token: Annotated[str | None, Depends(oauth2)],
) -> User:
    if not token:
        raise Unauthorized("sign in: send Authorization: Bearer <access token> (POST /auth/token issues one)")
    claims = tokens.validate(token)
    user = services.users.get(str(claims["sub"]))
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
