"""In-memory fakes of the scanner product's repositories, with the DynamoDB versions' contracts."""

from __future__ import annotations

from mantra.domain import Plan, Role, User
from mantra.scans.models import Every, Scanner, Signal


class Scanners:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Scanner] = {}

    def create(self, s: Scanner) -> None:
        self.items[(s.tenant_id, s.scanner_id)] = s

    def get(self, tenant_id: str, scanner_id: str) -> Scanner | None:
        return self.items.get((tenant_id, scanner_id))

    def list(self, tenant_id: str) -> list[Scanner]:
        return sorted((s for (t, _), s in self.items.items() if t == tenant_id), key=lambda s: s.created_ms)

    def count(self, tenant_id: str) -> int:
        return len(self.list(tenant_id))

    def update(self, s: Scanner) -> bool:
        if (s.tenant_id, s.scanner_id) not in self.items:
            return False
        self.items[(s.tenant_id, s.scanner_id)] = s
        return True

    def delete(self, tenant_id: str, scanner_id: str) -> bool:
        return self.items.pop((tenant_id, scanner_id), None) is not None

    def due(self, every: Every) -> list[Scanner]:
        return [s for s in self.items.values() if s.schedule is every and every is not Every.OFF]

    def record_run(self, tenant_id: str, scanner_id: str, at_ms: int, hits: tuple[str, ...]) -> None:
        s = self.items.get((tenant_id, scanner_id))
        if s is not None:
            self.items[(tenant_id, scanner_id)] = s.model_copy(
                update={"last_run_ms": at_ms, "last_hits": hits}
            )


class Signals:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Signal] = {}

    def put_if_absent(self, signal: Signal, ttl_days: int = 30) -> bool:
        key = (signal.tenant_id, f"{signal.detected_ms:013d}#{signal.scanner_id}#{signal.symbol}")
        if key in self.items:
            return False
        self.items[key] = signal
        return True

    def list(self, tenant_id: str, scanner_id: str | None, limit: int) -> list[Signal]:
        rows = [s for (t, k), s in sorted(self.items.items(), reverse=True) if t == tenant_id]
        return [s for s in rows if scanner_id is None or s.scanner_id == scanner_id][:limit]


class Outbox:
    def __init__(self) -> None:
        self.events: dict[str, tuple[str, dict[str, object]]] = {}

    def put_if_absent(self, event_id: str, detail_type: str, detail: dict[str, object], at_ms: int) -> bool:
        if event_id in self.events:
            return False
        self.events[event_id] = (detail_type, detail)
        return True


class Plans:
    def __init__(self, plans: list[Plan]) -> None:
        self.items = {p.plan_id: p for p in plans}

    def get(self, plan_id: str) -> Plan | None:
        return self.items.get(plan_id)

    def all(self) -> list[Plan]:
        return list(self.items.values())

    def put_many(self, plans: object) -> None:  # pragma: no cover
        raise NotImplementedError


def plan(plan_id: str, scanners: int, instruments: int = 500, **extra: int) -> Plan:
    return Plan(
        plan_id=plan_id,
        name=plan_id.title(),
        catalog="INR",
        currency="INR",
        price_minor=0,
        interval="month",
        rank=0,
        limits={"scanners": scanners, "instruments": instruments, **extra},
        features=("scanners",),
    )


def user(
    user_id: str = "usr_a", tenant_id: str = "ten_a", plan_id: str = "pro", email: str | None = None
) -> User:
    return User(
        user_id=user_id,
        email=email or f"{user_id}@demo.in",
        name=user_id,
        tenant_id=tenant_id,
        roles=frozenset({Role.TRADER}),
        plan_id=plan_id,
    )
