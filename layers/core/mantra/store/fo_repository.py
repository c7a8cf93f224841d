"""Stored F&O reports (``fo_contracts`` + ``eod_sessions``/``fo``) and the EQ symbols with stored history
(``eod_sessions``/``cm``): the only code that reads or writes those tables."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from mantra.market.fo_contracts import FoContract, FoSession, OiSummary, oi_summary
from mantra.store import models as _registry  # noqa: F401 - the model registry first: it imports ours
from mantra.store.fo_models import EodSessionItem, FoContractItem

FO, CM, ALL = "fo", "cm", "_all"
OI_SERIES = "_oi"  # per session: every underlying's open interest in one item (no underlying starts with "_")
BEFORE_ALL = "_"  # every ISO date sorts before "_", the aggregate row "_all" after it


def _latest(report: str, on_or_before: date | None) -> EodSessionItem | None:
    cond = (
        EodSessionItem.session <= on_or_before.isoformat()
        if on_or_before is not None
        else EodSessionItem.session < BEFORE_ALL
    )
    for item in EodSessionItem.query(report, cond, scan_index_forward=False, limit=1):
        return item
    return None


def _int(x: Any) -> int | None:
    return None if x is None else int(x)


def _contracts_of(item: FoContractItem) -> list[FoContract]:
    name, expiry = item.series.rsplit("#", 1)
    day = date.fromisoformat(expiry)
    out = []
    for row in item.rows:
        instrument, strike, option_type, lot, settlement, oi = row[:6]
        # rows stored before the session's prices were kept have six fields
        close, prev, under, volume, change, contract_name = (*row[6:12], *([None] * 6))[:6]
        out.append(
            FoContract(
                instrument=instrument,
                underlying=name,
                expiry=day,
                strike_paise=None if strike is None else int(strike),
                option_type=option_type,
                lot_size=int(lot),
                settlement_paise=int(settlement),
                open_interest=int(oi),
                close_paise=_int(close),
                prev_close_paise=_int(prev),
                underlying_paise=_int(under),
                volume=_int(volume),
                change_in_oi=_int(change),
                name=contract_name,
            )
        )
    return out


class DynamoFoStore:
    def put_session(self, session: FoSession, contracts: Sequence[FoContract], now_ms: int) -> None:
        day = session.session.isoformat()
        groups: dict[tuple[str, date], list[list[Any]]] = defaultdict(list)
        for c in contracts:
            groups[(c.underlying, c.expiry)].append(
                [
                    c.instrument,
                    c.strike_paise,
                    c.option_type,
                    c.lot_size,
                    c.settlement_paise,
                    c.open_interest,
                    c.close_paise,
                    c.prev_close_paise,
                    c.underlying_paise,
                    c.volume,
                    c.change_in_oi,
                    c.name,
                ]
            )
        with FoContractItem.batch_write() as batch:
            for (underlying, expiry), rows in groups.items():
                batch.save(
                    FoContractItem(session=day, series=f"{underlying}#{expiry.isoformat()}", rows=rows)
                )
            batch.save(_oi_item(day, oi_summary(contracts)))
        # the summary last: a reader that finds the day finds its contracts
        EodSessionItem(
            report=FO,
            session=day,
            symbols=set(session.stock_futures) or None,
            indices=set(session.indices) or None,
            rows=session.contracts,
            source=session.source,
            loaded_ms=now_ms,
        ).save()

    def latest_session(self, on_or_before: date | None = None) -> FoSession | None:
        item = _latest(FO, on_or_before)
        if item is None:
            return None
        return FoSession(
            session=date.fromisoformat(item.session),
            stock_futures=frozenset(item.symbols or ()),
            indices=frozenset(item.indices or ()),
            contracts=int(item.rows),
            source=item.source,
        )

    def contracts(self, session: date, underlying: str) -> list[FoContract]:
        out = []
        for item in FoContractItem.query(
            session.isoformat(), FoContractItem.series.startswith(f"{underlying}#")
        ):
            out.extend(_contracts_of(item))
        return out

    def open_interest(self, sessions: int, on_or_before: date | None = None) -> list[OiSummary]:
        """The newest ``sessions`` stored F&O sessions' open interest per underlying, oldest first."""
        cond = (
            EodSessionItem.session <= on_or_before.isoformat()
            if on_or_before is not None
            else EodSessionItem.session < BEFORE_ALL
        )
        days = [
            i.session
            for i in EodSessionItem.query(
                FO, cond, scan_index_forward=False, limit=sessions, attributes_to_get=["session"]
            )
        ]
        found = {i.session: i for i in FoContractItem.batch_get([(d, OI_SERIES) for d in days])}
        out = []
        for day in sorted(days):
            item = found.get(day)
            if item is None:  # stored before the summary existed: summed from the day's contracts (readers of
                # this table only read it; the next load of that day's report writes the summary)
                item = _oi_item(day, oi_summary(self._all_contracts(date.fromisoformat(day))))
            out.append(OiSummary(date.fromisoformat(day), {k: tuple(v) for k, v in item.rows.items()}))
        return out

    def _all_contracts(self, session: date) -> list[FoContract]:
        out = []
        for item in FoContractItem.query(session.isoformat()):
            if item.series != OI_SERIES:
                out.extend(_contracts_of(item))
        return out

    def sessions(self, on_or_before: date, limit: int) -> list[date]:
        cond = EodSessionItem.session <= on_or_before.isoformat()
        items = EodSessionItem.query(FO, cond, scan_index_forward=False, limit=limit)
        return [date.fromisoformat(i.session) for i in items]


def _oi_item(day: str, summary: dict[str, tuple[int, int, int]]) -> FoContractItem:
    return FoContractItem(session=day, series=OI_SERIES, rows={k: list(v) for k, v in summary.items()})


class DynamoEqHistory:
    """Which EQ-series symbols have stored daily history, and the newest session loaded."""

    def add(self, sessions: Sequence[date], symbols: Iterable[str], source: str, now_ms: int) -> None:
        wanted = set(symbols)
        if wanted:
            EodSessionItem(CM, ALL).update(
                actions=[
                    EodSessionItem.symbols.add(wanted),
                    EodSessionItem.source.set(source),
                    EodSessionItem.rows.set(0),
                    EodSessionItem.loaded_ms.set(now_ms),
                ]
            )
        for day in sessions:
            EodSessionItem(report=CM, session=day.isoformat(), source=source, loaded_ms=now_ms).save()

    def eq_symbols(self) -> tuple[frozenset[str], date | None]:
        try:
            symbols = frozenset(EodSessionItem.get(CM, ALL).symbols or ())
        except EodSessionItem.DoesNotExist:
            return frozenset(), None
        latest = _latest(CM, None)
        return symbols, (date.fromisoformat(latest.session) if latest is not None else None)
