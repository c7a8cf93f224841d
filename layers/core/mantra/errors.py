"""Typed domain errors; the API maps them to HTTP status codes in one place."""

from __future__ import annotations


class MantraError(Exception):
    """Base class; ``message`` is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(MantraError):
    pass


class Conflict(MantraError):
    pass


class Invalid(MantraError):
    pass


class Unauthorized(MantraError):
    pass


class Forbidden(MantraError):
    pass


class LimitExceeded(MantraError):
    pass
