"""The corporate-action factors table (implements ``mantra.market.adjustments.FactorStore``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from fractions import Fraction

from mantra.market.adjustments import Factor
from mantra.store import models as _registry  # noqa: F401 - the model registry first: it imports ours
from mantra.store.corporate_action_models import CorporateActionItem


def _key(f: Factor) -> str:
    return f"{f.ex_date.isoformat()}#{' '.join(f.purpose.upper().split())}"


class DynamoCorporateActions:
    def put_many(self, factors: Sequence[Factor], now_ms: int) -> int:
        """Writes every factor (the same action again writes the same item: a re-load changes nothing)."""
        with CorporateActionItem.batch_write() as batch:
            for f in factors:
                batch.save(
                    CorporateActionItem(
                        f.symbol,
                        _key(f),
                        ex_date=f.ex_date.isoformat(),
                        numerator=str(f.ratio.numerator),
                        denominator=str(f.ratio.denominator),
                        purpose=f.purpose,
                        source=f.source,
                        loaded_ms=now_ms,
                    )
                )
        return len(factors)

    def all(self) -> list[Factor]:
        # a few thousand items at most (every split and bonus the exchange has listed): one scan
        return [
            Factor(
                symbol=i.symbol,
                ex_date=date.fromisoformat(i.ex_date),
                ratio=Fraction(int(i.numerator), int(i.denominator)),
                purpose=i.purpose,
                source=i.source,
            )
            for i in CorporateActionItem.scan()
        ]
