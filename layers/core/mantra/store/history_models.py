"""What the end-of-day ingest has loaded: one item per report file, so a re-run knows and changes nothing."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from mantra.store.models import BaseModel


class HistoryLoadItem(BaseModel):
    base_name = "history_loads"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "history_loads"

    source = UnicodeAttribute(hash_key=True)  # "nse_eod"
    report = UnicodeAttribute(range_key=True)  # "{session ISO date}#{file name}"
    kind = UnicodeAttribute()
    candles = NumberAttribute()
    problems = NumberAttribute()
    loaded_ms = NumberAttribute()
