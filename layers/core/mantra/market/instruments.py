"""Instrument master: the bundled demo set (the broker dump loaders plug in here)."""

from __future__ import annotations

import json
from importlib import resources

from mantra.domain import Instrument
from mantra.money import to_paise


def demo_instruments() -> list[tuple[Instrument, int]]:
    """Instruments with the base price the simulated market starts from."""
    raw = json.loads(resources.files("mantra.data").joinpath("instruments_demo.json").read_text())
    out = []
    for row in raw:
        base = to_paise(row.pop("base_price"))
        out.append((Instrument(**row), base))
    return out
