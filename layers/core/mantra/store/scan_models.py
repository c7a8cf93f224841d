"""PynamoDB models of the scanner product: saved scanners and the signals their scheduled runs detect.

Both are tenant-scoped: the partition key is the tenant id, so one tenant's query never reads another's items.
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from mantra.store.models import BaseModel, TTLAttribute


class ScannerDueIndex(GlobalSecondaryIndex["ScannerItem"]):
    """Sparse: only scheduled scanners carry ``due_every`` ("1m" | "5m" | "15m"), so a run reads just those."""

    class Meta:
        index_name = "due_by_schedule"
        projection = AllProjection()

    due_every = UnicodeAttribute(hash_key=True)
    scanner_id = UnicodeAttribute(range_key=True)


class ScannerItem(BaseModel):
    base_name = "scanners"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "scanners"

    tenant_id = UnicodeAttribute(hash_key=True)
    scanner_id = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    expression = UnicodeAttribute()
    timeframe = UnicodeAttribute()
    universe = UnicodeAttribute()
    schedule = UnicodeAttribute()
    cost = NumberAttribute()
    created_ms = NumberAttribute()
    updated_ms = NumberAttribute()
    last_run_ms = NumberAttribute(null=True)
    last_hits = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    due_every = UnicodeAttribute(null=True)
    due_by_schedule = ScannerDueIndex()


class ScanSignalItem(BaseModel):
    base_name = "scan_signals"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "scan_signals"

    tenant_id = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)  # "{detected_ms:013d}#{scanner_id}#{symbol}": newest last
    signal_id = UnicodeAttribute()
    scanner_id = UnicodeAttribute()
    scanner_name = UnicodeAttribute()
    user_id = UnicodeAttribute()
    symbol = UnicodeAttribute()
    timeframe = UnicodeAttribute()
    price_paise = NumberAttribute()
    change_bps = NumberAttribute(null=True)  # signals stored before change_pct: whole basis points
    change_pct = UnicodeAttribute(null=True)  # Decimal text, unrounded
    detected_ms = NumberAttribute()
    bar_ms = NumberAttribute()
    expires_at = TTLAttribute()


SCAN_MODELS: tuple[type[BaseModel], ...] = (ScannerItem, ScanSignalItem)
