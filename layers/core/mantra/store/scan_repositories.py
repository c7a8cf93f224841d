"""DynamoDB repositories of the scanner product (implement ``mantra.scans.ports``)."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pynamodb.exceptions import DeleteError, PutError

from mantra.scans.models import Every, Scanner, Signal
from mantra.store.scan_models import ScannerItem, ScanSignalItem


def _change_pct(i: ScanSignalItem) -> Decimal | None:
    if i.change_pct is not None:
        return Decimal(i.change_pct)
    return None if i.change_bps is None else Decimal(int(i.change_bps)) / 100  # stored before change_pct


def _conditional_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class DynamoScannerRepository:
    def create(self, scanner: Scanner) -> None:
        self._to_item(scanner).save(condition=ScannerItem.scanner_id.does_not_exist())

    def get(self, tenant_id: str, scanner_id: str) -> Scanner | None:
        try:
            return self._to_domain(ScannerItem.get(tenant_id, scanner_id))
        except ScannerItem.DoesNotExist:
            return None

    def list(self, tenant_id: str) -> list[Scanner]:
        return sorted((self._to_domain(i) for i in ScannerItem.query(tenant_id)), key=lambda s: s.created_ms)

    def count(self, tenant_id: str) -> int:
        return sum(1 for _ in ScannerItem.query(tenant_id, attributes_to_get=["scanner_id"]))

    def update(self, scanner: Scanner) -> bool:
        try:
            self._to_item(scanner).save(condition=ScannerItem.scanner_id.exists())
            return True
        except PutError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def delete(self, tenant_id: str, scanner_id: str) -> bool:
        try:
            ScannerItem(tenant_id, scanner_id).delete(condition=ScannerItem.scanner_id.exists())
            return True
        except DeleteError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def due(self, every: Every) -> builtins.list[Scanner]:
        if every is Every.OFF:
            return []
        return [self._to_domain(i) for i in ScannerItem.due_by_schedule.query(every.value)]

    def record_run(self, tenant_id: str, scanner_id: str, at_ms: int, hits: tuple[str, ...]) -> None:
        try:
            ScannerItem(tenant_id, scanner_id).update(
                actions=[ScannerItem.last_run_ms.set(at_ms), ScannerItem.last_hits.set(list(hits))],
                condition=ScannerItem.scanner_id.exists(),
            )
        except Exception as exc:  # deleted while it ran: nothing to record
            if not _conditional_failed(getattr(exc, "cause", exc)) and not _conditional_failed(exc):
                raise

    @staticmethod
    def _to_item(s: Scanner) -> ScannerItem:
        return ScannerItem(
            s.tenant_id,
            s.scanner_id,
            user_id=s.user_id,
            name=s.name,
            expression=s.expression,
            timeframe=s.timeframe,
            universe=s.universe,
            schedule=s.schedule.value,
            cost=s.cost,
            created_ms=s.created_ms,
            updated_ms=s.updated_ms,
            last_run_ms=s.last_run_ms,
            last_hits=list(s.last_hits),
            due_every=None if s.schedule is Every.OFF else s.schedule.value,
        )

    @staticmethod
    def _to_domain(i: ScannerItem) -> Scanner:
        return Scanner(
            tenant_id=i.tenant_id,
            scanner_id=i.scanner_id,
            user_id=i.user_id,
            name=i.name,
            expression=i.expression,
            timeframe=i.timeframe,
            universe=i.universe,
            schedule=Every(i.schedule),
            cost=int(i.cost),
            created_ms=int(i.created_ms),
            updated_ms=int(i.updated_ms),
            last_run_ms=None if i.last_run_ms is None else int(i.last_run_ms),
            last_hits=tuple(i.last_hits or ()),
        )


class DynamoScanSignalRepository:
    def put_if_absent(self, signal: Signal, ttl_days: int = 30) -> bool:
        s = signal
        item = ScanSignalItem(
            s.tenant_id,
            f"{s.detected_ms:013d}#{s.scanner_id}#{s.symbol}",
            signal_id=s.signal_id,
            scanner_id=s.scanner_id,
            scanner_name=s.scanner_name,
            user_id=s.user_id,
            symbol=s.symbol,
            timeframe=s.timeframe,
            price_paise=s.price_paise,
            change_pct=None if s.change_pct is None else str(s.change_pct),
            detected_ms=s.detected_ms,
            bar_ms=s.bar_ms,
        )
        item.expires_at = datetime.fromtimestamp(s.detected_ms / 1000, tz=UTC) + timedelta(days=ttl_days)
        try:
            item.save(condition=ScanSignalItem.sort_key.does_not_exist())
            return True
        except PutError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def list(self, tenant_id: str, scanner_id: str | None, limit: int) -> list[Signal]:
        cond = (ScanSignalItem.scanner_id == scanner_id) if scanner_id else None
        items = ScanSignalItem.query(tenant_id, filter_condition=cond, scan_index_forward=False)
        out: list[Signal] = []
        for i in items:
            out.append(
                Signal(
                    tenant_id=i.tenant_id,
                    signal_id=i.signal_id,
                    scanner_id=i.scanner_id,
                    scanner_name=i.scanner_name,
                    user_id=i.user_id,
                    symbol=i.symbol,
                    timeframe=i.timeframe,
                    price_paise=int(i.price_paise),
                    change_pct=_change_pct(i),
                    detected_ms=int(i.detected_ms),
                    bar_ms=int(i.bar_ms),
                )
            )
            if len(out) >= limit:
                break
        return out
