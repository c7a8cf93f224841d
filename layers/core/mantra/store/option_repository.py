"""Option contracts from the instrument master, by underlying and expiry.

A scan with a filter for now (the master is thousands of rows); when the instrument master gains an index
by underlying, only this module changes.
"""

from __future__ import annotations

from mantra.domain import Instrument
from mantra.store.models import InstrumentItem
from mantra.store.repositories import DynamoInstrumentRepository

OPTION_TYPES = ("CE", "PE")


class DynamoOptionContractRepository:
    def contracts(self, underlying: str, expiry: str | None = None) -> list[Instrument]:
        cond = (InstrumentItem.underlying == underlying.upper()) & InstrumentItem.instrument_type.is_in(
            *OPTION_TYPES
        )
        if expiry is not None:
            cond = cond & (InstrumentItem.expiry == expiry)
        out = [DynamoInstrumentRepository._to_domain(i) for i in InstrumentItem.scan(cond)]
        out.sort(key=lambda i: (i.expiry or "", i.strike_paise or 0, i.instrument_type))
        return out

    def expiries(self, underlying: str) -> list[str]:
        return sorted({i.expiry for i in self.contracts(underlying) if i.expiry})
