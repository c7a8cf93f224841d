"""Derivatives of an underlying from the instrument master's sparse ``by_underlying`` index (one query)."""

from __future__ import annotations

from mantra.domain import Instrument
from mantra.store.repositories import DynamoInstrumentRepository

DERIVATIVE_TYPES = frozenset({"FUT", "CE", "PE"})


class DynamoOptionContractRepository:
    def __init__(self) -> None:
        self._master = DynamoInstrumentRepository()

    def derivatives(self, underlying: str) -> list[Instrument]:
        out = [i for i in self._master.by_underlying(underlying) if i.instrument_type in DERIVATIVE_TYPES]
        out.sort(
            key=lambda i: (i.expiry or "", i.instrument_type != "FUT", i.strike_paise or 0, i.instrument_type)
        )
        return out
