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


class RateLimited(MantraError):
    """Too many calls in the current window; the API answers 429 with ``Retry-After``."""

    def __init__(self, message: str, limit: int, reset_s: int, retry_after_s: int) -> None:
        super().__init__(message)
        self.limit, self.reset_s, self.retry_after_s = limit, reset_s, retry_after_s


class Unavailable(MantraError):
    """A service the request needs cannot be reached now; the API answers 503 with ``Retry-After``."""

    def __init__(self, message: str, retry_after_s: int = 30) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
