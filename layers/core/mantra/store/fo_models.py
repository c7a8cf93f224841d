"""Stored exchange reports beyond candles: F&O contracts per day, and a per-report index of sessions.

``fo_contracts``: one item per (session, underlying, expiry), its contracts as compact rows, so a day of about
40,000 contracts is under a thousand items (one batch-write second) and an underlying's chain is one query.
``eod_sessions``: one item per stored report session (``report`` = ``fo`` / ``cm``), with the F&O day's
stock-future and index underlyings; ``cm``/``_all`` holds every EQ symbol with stored history (a string set,
grown with ADD, so loading a day twice changes nothing).
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute

from mantra.store.models import BaseModel


class FoContractItem(BaseModel):
    base_name = "fo_contracts"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "fo_contracts"

    session = UnicodeAttribute(hash_key=True)  # "2025-02-14" (IST session date)
    series = UnicodeAttribute(range_key=True)  # "NIFTY#2025-02-27": underlying#expiry
    # [[instrument, strike_paise|null, option_type|null, lot_size, settlement_paise, open_interest], ...]
    rows = JSONAttribute()


class EodSessionItem(BaseModel):
    base_name = "eod_sessions"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "eod_sessions"

    report = UnicodeAttribute(hash_key=True)  # "fo" | "cm"
    session = UnicodeAttribute(range_key=True)  # ISO date, or "_all" (sorts after every date)
    symbols = UnicodeSetAttribute(null=True)  # fo: underlyings with stock futures; cm/_all: EQ symbols
    indices = UnicodeSetAttribute(null=True)  # fo: index underlyings
    rows = NumberAttribute(default=0)
    source = UnicodeAttribute(default="")
    loaded_ms = NumberAttribute(default=0)


FO_MODELS: tuple[type[BaseModel], ...] = (FoContractItem, EodSessionItem)
