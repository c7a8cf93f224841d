"""In-memory stand-ins for the webhook repositories, the HTTP sender, the clock and DNS."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import timebase
from mantra.alerts.webhooks import WebhookChannel, WebhookDeliverer, WebhookRetry, WebhookService
from mantra.alerts.webhooks.models import (
    Attempt,
    Delivery,
    DeliveryStatus,
    EndpointStatus,
    SigningSecret,
    WebhookEndpoint,
)
from mantra.alerts.webhooks.schedule import RetrySchedule
from mantra.alerts.webhooks.ssrf import Target, UrlGuard
from mantra.alerts.webhooks.transport import HttpResult
from mantra.clock import ManualClock
from mantra.domain import Role, User

T0 = timebase.SESSION_10AM  # a Monday in a full trading week after the test moment


def resolver(table: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"NXDOMAIN {host}")
        return table[host]

    return resolve


PUBLIC_DNS = {"hooks.example.in": ["203.0.113.10"], "bot.example.com": ["198.51.100.7"]}
# 203.0.113.0/24 and 198.51.100.0/24 are documentation ranges (not global): the fakes allow them explicitly
DOC_NETS = ("203.0.113.0/24", "198.51.100.0/24")


class MemoryEndpoints:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], WebhookEndpoint] = {}

    def create(self, endpoint: WebhookEndpoint) -> None:
        self.items[(endpoint.tenant_id, endpoint.endpoint_id)] = endpoint

    def get(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        return self.items.get((tenant_id, endpoint_id))

    def list(self, tenant_id: str) -> list[WebhookEndpoint]:
        return [e for (t, _), e in sorted(self.items.items()) if t == tenant_id]

    def count(self, tenant_id: str) -> int:
        return len(self.list(tenant_id))

    def delete(self, tenant_id: str, endpoint_id: str) -> bool:
        return self.items.pop((tenant_id, endpoint_id), None) is not None

    def set_secrets(self, tenant_id: str, endpoint_id: str, secrets: list[SigningSecret]) -> bool:
        e = self.get(tenant_id, endpoint_id)
        if e is None:
            return False
        self.create(e.model_copy(update={"secrets": tuple(secrets)}))
        return True

    def disable(self, tenant_id: str, endpoint_id: str, reason: str, at_ms: int) -> None:
        e = self.get(tenant_id, endpoint_id)
        if e is not None:
            self.create(
                e.model_copy(
                    update={
                        "status": EndpointStatus.DISABLED,
                        "disabled_reason": reason,
                        "disabled_ms": at_ms,
                    }
                )
            )


class MemoryDeliveries:
    def __init__(self) -> None:
        self.items: dict[str, Delivery] = {}

    def put_if_absent(self, delivery: Delivery, keep_days: int) -> bool:
        if delivery.message_id in self.items:
            return False
        self.items[delivery.message_id] = delivery
        return True

    def get(self, message_id: str) -> Delivery | None:
        return self.items.get(message_id)

    def due(self, now_ms: int, limit: int) -> list[Delivery]:
        due = [
            d
            for d in self.items.values()
            if d.status is DeliveryStatus.PENDING
            and d.next_attempt_ms is not None
            and d.next_attempt_ms <= now_ms
        ]
        return sorted(due, key=lambda d: d.next_attempt_ms or 0)[:limit]

    def claim(self, message_id: str, expected_next_ms: int, lease_until_ms: int) -> bool:
        d = self.items.get(message_id)
        if d is None or d.status is not DeliveryStatus.PENDING or d.next_attempt_ms != expected_next_ms:
            return False
        self.items[message_id] = d.model_copy(update={"next_attempt_ms": lease_until_ms})
        return True

    def record(
        self,
        message_id: str,
        lease_until_ms: int,
        attempts: Sequence[Attempt] | None,
        status: DeliveryStatus,
        next_attempt_ms: int | None,
    ) -> bool:
        d = self.items[message_id]
        if d.status is not DeliveryStatus.PENDING or d.next_attempt_ms != lease_until_ms:
            return False
        update: dict[str, object] = {"status": status, "next_attempt_ms": next_attempt_ms}
        if attempts is not None:
            update["attempts"] = tuple(attempts)
        self.items[message_id] = d.model_copy(update=update)
        return True

    def for_endpoint(self, tenant_id: str, endpoint_id: str, limit: int) -> list[Delivery]:
        mine = [d for d in self.items.values() if (d.tenant_id, d.endpoint_id) == (tenant_id, endpoint_id)]
        return sorted(mine, key=lambda d: -d.created_ms)[:limit]


@dataclass
class Sent:
    target: Target
    body: bytes
    headers: dict[str, str]


@dataclass
class ScriptedSender:
    """Answers with the scripted status codes in turn (None: a timeout), then repeats the last one."""

    script: list[int | None] = field(default_factory=lambda: [200])
    sent: list[Sent] = field(default_factory=list)

    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> HttpResult:
        code = self.script[min(len(self.sent), len(self.script) - 1)]
        self.sent.append(Sent(target, body, headers))
        if code is None:
            return HttpResult(None, "timeout (ReadTimeout)", 5000)
        return HttpResult(code, None, 12)


@dataclass
class World:
    clock: ManualClock
    endpoints: MemoryEndpoints
    deliveries: MemoryDeliveries
    sender: ScriptedSender
    deliverer: WebhookDeliverer
    service: WebhookService
    channel: WebhookChannel
    retry: WebhookRetry


def world(script: list[int | None] | None = None, seed: int = 7) -> World:
    clock, endpoints, deliveries = ManualClock(T0), MemoryEndpoints(), MemoryDeliveries()
    sender = ScriptedSender(script or [200])
    guard = UrlGuard(DOC_NETS, resolver(PUBLIC_DNS))
    deliverer = WebhookDeliverer(
        endpoints, deliveries, guard, sender, clock, RetrySchedule(rng=random.Random(seed))
    )
    return World(
        clock,
        endpoints,
        deliveries,
        sender,
        deliverer,
        WebhookService(deliverer, guard, clock),
        WebhookChannel(deliverer, max_parallel=1),
        WebhookRetry(deliverer, clock, workers=1),
    )


def user(tenant: str = "t_pro", user_id: str = "u_pro") -> User:
    return User(
        user_id=user_id,
        email=f"{user_id}@demo.trademantra.in",
        name="Pro",
        tenant_id=tenant,
        roles=frozenset({Role.TRADER}),
        plan_id="pro",
    )
