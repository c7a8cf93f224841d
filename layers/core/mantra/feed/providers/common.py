"""Shared by the broker adapters: quiet SDK logging (their loggers print request headers and bodies, which hold
credentials) and a scratch working directory (their constructors create ``./logs`` wherever they run)."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator

from mantra.domain import Instrument

_CWD_LOCK = threading.Lock()


def silence_sdk_logs() -> None:
    import logzero

    logzero.logger.disabled = True  # SmartAPI logs headers and params (password, TOTP) on request errors
    logging.getLogger("kiteconnect").setLevel(logging.CRITICAL)


@contextlib.contextmanager
def sdk_scratch_dir() -> Iterator[None]:
    """Run an SDK constructor in a private temporary directory (the Fargate task's /app is read-only to us)."""
    with _CWD_LOCK:
        before = os.getcwd()
        scratch = os.path.join(tempfile.gettempdir(), "mantra-broker-sdk")
        os.makedirs(scratch, exist_ok=True)
        os.chdir(scratch)
        try:
            yield
        finally:
            os.chdir(before)


def oi_contracts(oi_units: int | None, inst: Instrument) -> int | None:
    """Brokers report OI in units; our ``Tick.oi`` is contracts."""
    if oi_units is None or inst.instrument_type not in ("CE", "PE", "FUT"):
        return None
    return max(0, int(oi_units)) // max(1, inst.lot_size)
