"""The record of loaded end-of-day reports (``history_loads``): written once per report, first record wins."""

from __future__ import annotations

from mantra.market.eod import FileLoad
from mantra.store import models as _registry  # noqa: F401 - the model registry first: it imports ours
from mantra.store.history_models import HistoryLoadItem


class DynamoHistoryLoads:
    def recorded(self, source: str, key: str) -> bool:
        try:
            HistoryLoadItem.get(source, key)
        except HistoryLoadItem.DoesNotExist:
            return False
        return True

    def record(self, source: str, key: str, load: FileLoad, now_ms: int) -> bool:
        from pynamodb.exceptions import PutError

        item = HistoryLoadItem(
            source=source,
            report=key,
            kind=load.kind or "",
            candles=load.candles,
            problems=len(load.problems),
            loaded_ms=now_ms,
        )
        try:
            item.save(condition=HistoryLoadItem.report.does_not_exist())
        except PutError:
            return False  # recorded meanwhile by another attempt: the first record stands
        return True
