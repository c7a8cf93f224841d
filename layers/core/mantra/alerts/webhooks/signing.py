"""Standard Webhooks signatures (https://www.standardwebhooks.com/): what we send and what receivers check.

``webhook-signature`` is ``v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>``; the key is the base64
part after ``whsec_``. Several signatures may be sent space-separated (we do so during a secret rotation), and a
receiver accepts the message when any one of them verifies with its secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping

PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 5 * 60


class VerificationError(ValueError):
    pass


def generate_secret(n_bytes: int = 24) -> str:
    """A new endpoint secret: ``whsec_`` + base64 of 24 random bytes (the spec allows 24 to 64)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(n_bytes)).decode()


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of the message with one secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_headers(secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of one delivery attempt, one signature per live secret (newest first)."""
    sigs = [signature(s, msg_id, timestamp, body) for s in secrets_]
    if not sigs:
        raise ValueError("an endpoint needs at least one secret to sign with")
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": " ".join(sigs)}


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now_s: int,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> None:
    """What a receiver does: raise ``VerificationError`` unless one signature matches and the time is recent.

    Header names are matched case-insensitively; comparisons are constant-time.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id, ts_text, sig_header = (
            lower["webhook-id"],
            lower["webhook-timestamp"],
            lower["webhook-signature"],
        )
    except KeyError as exc:
        raise VerificationError(f"missing header {exc.args[0]}") from None
    try:
        timestamp = int(ts_text)
    except ValueError:
        raise VerificationError("webhook-timestamp is not an integer") from None
    if abs(now_s - timestamp) > tolerance_s:
        raise VerificationError("webhook-timestamp is outside the tolerance (replayed or clock skew)")
    expected = signature(secret, msg_id, timestamp, body).encode()
    for candidate in sig_header.split(" "):
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return
    raise VerificationError("no signature matches")
