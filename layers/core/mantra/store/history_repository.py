"""The record of loaded end-of-day reports (``history_loads``): written once per report, first record wins."""

from __future__ import annotations

from mantra.market.eod import FileLoad
from mantra.store import models as _registry  # noqa: F401 - the model registry first: it imports ours
from mantra.store.history_models import HistoryLoadItem

VERSION_KEY = ("_version", "history")  # a counter every recorded load moves (see market.bar_cache)


class DynamoHistoryLoads:
    def current(self) -> int:
        """The history version: moves whenever a load is recorded, so cached daily bars are read again."""
        try:
            return int(HistoryLoadItem.get(*VERSION_KEY).candles)
        except HistoryLoadItem.DoesNotExist:
            return 0

    def bump(self, now_ms: int) -> None:
        HistoryLoadItem(*VERSION_KEY).update(
            actions=[
                HistoryLoadItem.candles.add(1),
                HistoryLoadItem.kind.set("version"),
                HistoryLoadItem.problems.set(0),
                HistoryLoadItem.loaded_ms.set(now_ms),
            ]
        )

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
        self.bump(now_ms)
        return True
