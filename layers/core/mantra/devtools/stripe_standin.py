"""A small local Stripe: the API calls ``mantra.billing.gateway.StripeApiGateway`` makes, plus Checkout and
signed webhooks, so the billing flow runs end to end with no network.

Speaks Stripe's wire format (form-encoded bodies with ``a[b][0]=`` keys, Bearer ``sk_test_`` keys,
``Idempotency-Key`` replays, ``{"error": {...}}`` bodies) so the real ``stripe`` SDK works against it
unchanged. Stateful operations send webhooks signed exactly as Stripe signs them, from a background thread
with retries, never blocking the API response. Test helpers under ``/_test`` play the parts of time and the
card network: complete a checkout, end a trial or renew a period, fail a payment; and of the network and the
calendar: hold webhooks of some types and release them later (a late delivery), move the stand-in's clock on
(idempotency keys are kept for 24 hours, as Stripe keeps them).

Run: ``python -m mantra.devtools.stripe_standin --port 8103 --webhook-url URL [--webhook-secret S] [--state F]``.
Without ``--webhook-secret`` the secret is read, when first needed, from the local Secrets Manager secret
``stripe`` (``webhook_secret``), which bootstrap creates after the stand-ins start.
"""

from __future__ import annotations

import argparse
import heapq
import html
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mantra.billing import stripe_events as se

Json = dict[str, Any]
Transport = Callable[[str, bytes, dict[str, str]], int]  # (url, body, headers) -> HTTP status
SecretSource = Callable[[], str]

COLLECTIONS = (
    "customers",
    "products",
    "prices",
    "checkout_sessions",
    "portal_sessions",
    "subscriptions",
    "invoices",
    "invoiceitems",
)
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0)  # after the first attempt: six attempts in ~15 s
DUNNING_ATTEMPTS = 4  # after this many failed attempts Stripe stops retrying (next_payment_attempt null)
IDEMPOTENCY_TTL_S = 24 * 3_600  # Stripe prunes keys once they are at least 24 hours old


class StripeError(Exception):
    """Answered as Stripe answers: ``{"error": {"type", "message", "param"?, "code"?}}`` with a 4xx status."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        *,
        param: str | None = None,
        code: str | None = None,
        kind: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status, self.param, self.code, self.kind = status, param, code, kind

    def body(self) -> Json:
        err: Json = {"type": self.kind, "message": str(self)}
        if self.param:
            err["param"] = self.param
        if self.code:
            err["code"] = self.code
        return {"error": err}


def parse_form(pairs: list[tuple[str, str]]) -> Json:
    """Stripe's bracket encoding back into nested data: ``items[0][price]=p`` -> ``{"items": [{"price": "p"}]}``.

    Indexed keys become lists in index order; ``key[]`` appends. Values stay strings (as Stripe receives them).
    """
    root: Json = {}
    for raw_key, value in pairs:
        head, _, rest = raw_key.partition("[")
        parts = [head] + ([p.rstrip("]") for p in ("[" + rest).split("[")[1:]] if rest else [])
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # key[] : append
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _lists(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise StripeError(f"Invalid boolean: {value!r}", param=param)


def _int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(f"Invalid integer: {value!r}", param=param) from None


def _merge_metadata(current: dict[str, str], update: Any) -> dict[str, str]:
    """Stripe's metadata update: keys are set, an empty value unsets, ``metadata=""`` clears all."""
    if update == "":
        return {}
    if not isinstance(update, dict):
        raise StripeError("Invalid hash", param="metadata")
    merged = dict(current)
    for k, v in update.items():
        if v == "":
            merged.pop(k, None)
        else:
            merged[k] = str(v)
    return merged


class Deliverer:
    """Delivers events in a background thread, in the order they were made; a failed delivery is retried with
    backoff without holding up the events behind it."""

    def __init__(
        self,
        url: str | None,
        secret: SecretSource,
        on_result: Callable[[str, Json], None],
        transport: Transport | None = None,
        delays_s: tuple[float, ...] = RETRY_DELAYS_S,
    ) -> None:
        self._url, self._secret, self._on_result = url, secret, on_result
        self._transport = transport or _http_post
        self._delays = delays_s
        self._heap: list[tuple[float, int, Json, int]] = []  # (due, seq, event, attempt)
        self._seq = 0
        self._busy = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._holding = False
        self._hold: set[str] | None = None
        self._held: list[Json] = []
        self._thread = threading.Thread(target=self._run, name="stripe-webhooks", daemon=True)
        self._thread.start()

    def hold(self, types: set[str] | None) -> None:
        """Keep back events of these types (None: every type) until ``release``: a delivery that is late."""
        with self._cond:
            self._hold = set(types) if types is not None else None
            self._holding = True

    def release(self) -> list[str]:
        """Stop holding and send what was held, in the order it was made. Returns the event ids released."""
        with self._cond:
            held, self._held, self._holding = self._held, [], False
            for event in held:
                self._seq += 1
                heapq.heappush(self._heap, (time.monotonic(), self._seq, event, 0))
            self._cond.notify()
        return [e["id"] for e in held]

    def enqueue(self, event: Json) -> None:
        if not self._url:
            self._on_result(event["id"], {"status": "not_sent", "last_error": "no --webhook-url"})
            return
        with self._cond:
            if self._holding and (self._hold is None or event["type"] in self._hold):
                self._held.append(event)
                return
            self._seq += 1
            heapq.heappush(self._heap, (time.monotonic(), self._seq, event, 0))
            self._cond.notify()

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """True once nothing is queued or being sent (tests; retries still waiting count as queued)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._heap or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._stopped:
                    return
                _, _, event, attempt = heapq.heappop(self._heap)
                self._busy += 1
            try:
                self._attempt(event, attempt)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, event: Json, attempt: int) -> None:
        body = json.dumps(event, separators=(",", ":")).encode()
        status: int | None = None
        error: str | None = None
        try:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": se.sign(body, self._secret(), int(time.time())),
            }
            assert self._url is not None
            status = self._transport(self._url, body, headers)
        except Exception as exc:  # any failure of the receiver is retried, as Stripe does
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        retry = not ok and attempt < len(self._delays)
        result: Json = {
            "status": "delivered" if ok else ("retrying" if retry else "failed"),
            "attempts": attempt + 1,
            "last_status_code": status,
            "last_error": error if error else (None if ok else f"HTTP {status}"),
            "last_attempt_at": int(time.time()),
        }
        self._on_result(event["id"], result)
        if retry:
            with self._cond:
                self._seq += 1
                due = time.monotonic() + self._delays[attempt]
                heapq.heappush(self._heap, (due, self._seq, event, attempt + 1))
                self._cond.notify()


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    return httpx.post(url, content=body, headers=headers, timeout=10).status_code


class StripeStandin:
    """The state and the operations; ``app`` is the HTTP face. Thread-safe behind one lock."""

    def __init__(
        self,
        *,
        webhook_url: str | None,
        webhook_secret: SecretSource,
        state_file: Path | None = None,
        clock: Callable[[], float] = time.time,
        transport: Transport | None = None,
        retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S,
    ) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._state_file = state_file
        self._pending: list[Json] = []  # events made by the running operation, sent once it is saved
        self.state: Json = {name: {} for name in COLLECTIONS}
        self.state.update({"events": [], "idempotency": {}})
        if state_file is not None and state_file.exists():
            self.state.update(json.loads(state_file.read_text()))
        self.deliverer = Deliverer(
            webhook_url, webhook_secret, self._delivery_result, transport, retry_delays_s
        )
        for record in self.state["events"]:  # undelivered when the last run stopped: send again
            if record["delivery"]["status"] in ("pending", "retrying"):
                self.deliverer.enqueue(record["event"])
        self.app = self._build_app()

    # ---- state ----------------------------------------------------------------------------------------
    def now(self) -> int:
        return int(self._clock()) + int(self.state.get("clock_offset_s", 0))

    def advance_clock(self, seconds: int) -> Json:
        """Time passes for the stand-in (object times, idempotency-key expiry); signatures keep real time."""
        if seconds < 0:
            raise StripeError("The clock only moves forward.", param="seconds")
        self.state["clock_offset_s"] = int(self.state.get("clock_offset_s", 0)) + seconds
        return {"now": self.now(), "offset_s": self.state["clock_offset_s"]}

    def replay(self, slot: str) -> Json | None:
        """The saved answer for an idempotency key, unless it is 24 hours old (then it is forgotten)."""
        saved: Json | None = self.state["idempotency"].get(slot)
        if saved is not None and self.now() - int(saved.get("created", self.now())) >= IDEMPOTENCY_TTL_S:
            del self.state["idempotency"][slot]
            return None
        return saved

    def _save(self) -> None:
        if self._state_file is None:
            return
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state))
        os.replace(tmp, self._state_file)

    def _get(self, collection: str, obj_id: str, param: str = "id") -> Json:
        found: Json | None = self.state[collection].get(obj_id)
        if found is None:
            kind = collection.rstrip("s").replace("_", " ")
            raise StripeError(f"No such {kind}: '{obj_id}'", 404, param=param, code="resource_missing")
        return found

    def _emit(self, event_type: str, obj: Json, ctx: Json, previous: Json | None = None) -> Json:
        event = se.build_event(
            event_type,
            obj,
            created=self.now(),
            previous_attributes=previous,
            request_id=ctx.get("request_id"),
            idempotency_key=ctx.get("idempotency_key"),
        )
        self.state["events"].append(
            {"event": event, "delivery": {"status": "pending", "attempts": 0, "last_status_code": None}}
        )
        self._pending.append(event)
        return event

    def _delivery_result(self, event_id: str, result: Json) -> None:
        with self._lock:
            for record in reversed(self.state["events"]):
                if record["event"]["id"] == event_id:
                    record["delivery"].update(result)
                    break
            self._save()

    def run(self, operation: Callable[[], Any]) -> Any:
        """One operation under the lock; its events are queued for delivery only once the state is saved."""
        with self._lock:
            self._pending = []
            result = operation()
            self._save()
            pending, self._pending = self._pending, []
        for event in pending:
            self.deliverer.enqueue(event)
        return result

    # ---- API operations ----------------------------------------------------------------------------------
    def create_customer(self, p: Json) -> Json:
        customer = {
            "id": se.new_id("cus"),
            "object": "customer",
            "created": self.now(),
            "email": p.get("email"),
            "invoice_prefix": se.new_id("x")[2:10].upper(),
            "name": p.get("name"),
            "description": p.get("description"),
            "livemode": False,
            "metadata": _merge_metadata({}, p.get("metadata", {})),
        }
        self.state["customers"][customer["id"]] = customer
        return customer

    def create_product(self, p: Json) -> Json:
        if not p.get("name"):
            raise StripeError("Missing required param: name.", param="name")
        product = {
            "id": p.get("id") or se.new_id("prod"),
            "object": "product",
            "active": _bool(p.get("active", "true"), "active"),
            "created": self.now(),
            "description": p.get("description"),
            "livemode": False,
            "metadata": _merge_metadata({}, p.get("metadata", {})),
            "name": p["name"],
        }
        self.state["products"][product["id"]] = product
        return product

    def create_price(self, p: Json) -> Json:
        if "unit_amount" not in p:
            raise StripeError("Missing required param: unit_amount.", param="unit_amount")
        if not p.get("currency"):
            raise StripeError("Missing required param: currency.", param="currency")
        if p.get("product"):
            product_id = str(p["product"])
            self._get("products", product_id, "product")
        elif isinstance(p.get("product_data"), dict):
            product_id = self.create_product(p["product_data"])["id"]
        else:
            raise StripeError("You must specify either product or product_data.", param="product")
        lookup_key = p.get("lookup_key") or None
        if lookup_key:
            holder = self._price_by_lookup_key(lookup_key)
            if holder is not None:
                if not _bool(p.get("transfer_lookup_key", "false"), "transfer_lookup_key"):
                    raise StripeError(
                        f"A price ({holder['id']}) already uses the lookup key {lookup_key!r}; "
                        "pass transfer_lookup_key=true to move it.",
                        param="lookup_key",
                    )
                holder["lookup_key"] = None
        recurring = p.get("recurring")
        interval = recurring.get("interval") if isinstance(recurring, dict) else None
        if interval is not None and interval not in se.INTERVAL_SECONDS:
            raise StripeError(f"Invalid recurring[interval]: {interval!r}", param="recurring[interval]")
        price = se.price(
            price_id=se.new_id("price"),
            lookup_key=lookup_key,
            unit_amount=_int(p["unit_amount"], "unit_amount"),
            currency=str(p["currency"]),
            interval=interval,
            product=product_id,
            created=self.now(),
            active=_bool(p.get("active", "true"), "active"),
            nickname=p.get("nickname"),
        )
        price["metadata"] = _merge_metadata({}, p.get("metadata", {}))
        self.state["prices"][price["id"]] = price
        return price

    def _price_by_lookup_key(self, key: str) -> Json | None:
        return next((x for x in self.state["prices"].values() if x["lookup_key"] == key), None)

    def list_prices(self, q: Json) -> list[Json]:
        keys = q.get("lookup_keys")
        keys = set(keys if isinstance(keys, list) else [keys]) if keys else None
        active = _bool(q["active"], "active") if "active" in q else None
        return [
            x
            for x in self.state["prices"].values()
            if (keys is None or x["lookup_key"] in keys) and (active is None or x["active"] == active)
        ]

    def create_checkout_session(self, p: Json, base_url: str) -> Json:
        if p.get("mode") != "subscription":
            raise StripeError("The stand-in supports mode=subscription only.", param="mode")
        customer = str(p.get("customer") or "")
        self._get("customers", customer, "customer")
        items = p.get("line_items")
        if not isinstance(items, list) or not items or not items[0].get("price"):
            raise StripeError("Missing required param: line_items[0][price].", param="line_items")
        price = self._get("prices", str(items[0]["price"]), "line_items[0][price]")
        if not price.get("recurring"):
            raise StripeError("mode=subscription needs a recurring price.", param="line_items[0][price]")
        sub_data = p.get("subscription_data") or {}
        trial_days = _int(sub_data.get("trial_period_days", 0), "subscription_data[trial_period_days]")
        if not p.get("success_url"):
            raise StripeError("Missing required param: success_url.", param="success_url")
        session_id = se.new_id("cs_test")
        session = se.checkout_session(
            session_id=session_id,
            customer=customer,
            client_reference_id=p.get("client_reference_id"),
            created=self.now(),
            metadata=_merge_metadata({}, p.get("metadata", {})),
            status="open",
            url=f"{base_url.rstrip('/')}/checkout/{session_id}",
            success_url=p.get("success_url"),
            cancel_url=p.get("cancel_url"),
            amount_total=0 if trial_days else price["unit_amount"],
            currency=price["currency"],
        )
        session["_line_price"] = price["id"]  # private fields start with "_" and are never served
        session["_trial_days"] = trial_days
        session["_subscription_metadata"] = _merge_metadata({}, sub_data.get("metadata", {}))
        self.state["checkout_sessions"][session_id] = session
        return session

    def complete_checkout(self, session_id: str, ctx: Json) -> Json:
        """The customer paid: a subscription (trialing when the session asked for a trial), its first invoice,
        and ``checkout.session.completed``, ``customer.subscription.created``, ``invoice.paid`` in that order."""
        session = self._get("checkout_sessions", session_id)
        if session["status"] != "open":
            raise StripeError(f"Checkout session {session_id} is {session['status']}, not open.")
        price = self._get("prices", session["_line_price"])
        now = self.now()
        trial_days = int(session["_trial_days"])
        trial_end = now + trial_days * 86_400 if trial_days else None
        sub = se.subscription(
            customer=session["customer"],
            price=price,
            created=now,
            period_start=now,
            period_end=trial_end or now + se.INTERVAL_SECONDS[price["recurring"]["interval"]],
            status="trialing" if trial_end else "active",
            metadata=session["_subscription_metadata"],
            trial_start=now if trial_end else None,
            trial_end=trial_end,
        )
        line = self._price_line(
            price, now, sub["current_period_end"], amount=0 if trial_end else price["unit_amount"]
        )
        if trial_end:
            line["description"] = f"Trial period for {self._product_name(price)}"
        inv = self._new_invoice(sub, [line], "subscription_create", status="paid")
        sub["latest_invoice"] = inv["id"]
        self.state["subscriptions"][sub["id"]] = sub
        session.update(
            status="complete",
            subscription=sub["id"],
            url=None,
            payment_status="no_payment_required" if inv["amount_due"] == 0 else "paid",
        )
        self._emit("checkout.session.completed", _public(session), ctx)
        self._emit("customer.subscription.created", sub, ctx)
        self._emit("invoice.paid", inv, ctx)
        return _public(session)

    def create_portal_session(self, p: Json, base_url: str) -> Json:
        customer = str(p.get("customer") or "")
        self._get("customers", customer, "customer")
        portal_id = se.new_id("bps")
        portal = {
            "id": portal_id,
            "object": "billing_portal.session",
            "created": self.now(),
            "customer": customer,
            "livemode": False,
            "return_url": p.get("return_url"),
            "url": f"{base_url.rstrip('/')}/portal/{portal_id}",
        }
        self.state["portal_sessions"][portal_id] = portal
        return portal

    def update_subscription(self, sub_id: str, p: Json, ctx: Json) -> Json:
        sub = self._get("subscriptions", sub_id)
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise StripeError(
                "A canceled subscription can only update its cancellation_details and metadata."
            )
        before = se._copy(sub)
        previous: Json = {}
        if "metadata" in p:
            sub["metadata"] = _merge_metadata(sub["metadata"], p["metadata"])
        if "cancel_at_period_end" in p:
            cancel = _bool(p["cancel_at_period_end"], "cancel_at_period_end")
            sub["cancel_at_period_end"] = cancel
            sub["cancel_at"] = sub["current_period_end"] if cancel else None
            sub["canceled_at"] = (sub["canceled_at"] or self.now()) if cancel else None
        items = p.get("items")
        if items:
            if not isinstance(items, list):
                raise StripeError("Invalid array", param="items")
            change = items[0]
            item = sub["items"]["data"][0]
            if change.get("id") and change["id"] != item["id"]:
                raise StripeError(
                    f"Subscription item {change['id']} is not part of {sub_id}.", param="items[0][id]"
                )
            if change.get("price") and change["price"] != item["price"]["id"]:
                new_price = self._get("prices", str(change["price"]), "items[0][price]")
                old_price = item["price"]
                item["price"] = se._copy(new_price)
                behavior = p.get("proration_behavior", "create_prorations")
                if behavior != "none" and sub["status"] != "trialing":
                    self._prorate(sub, old_price, new_price)
            if "quantity" in change:
                item["quantity"] = _int(change["quantity"], "items[0][quantity]")
        for key in ("metadata", "cancel_at_period_end", "cancel_at", "canceled_at", "items"):
            if sub[key] != before[key]:
                previous[key] = before[key]
        if previous:
            self._emit("customer.subscription.updated", sub, ctx, previous)
        return sub

    def _prorate(self, sub: Json, old_price: Json, new_price: Json) -> None:
        """Stripe's create_prorations: credit the unused time on the old price, charge the remaining time on the
        new one, as pending invoice items the next invoice collects. Integer minor units, rounded half up."""
        start, end, now = sub["current_period_start"], sub["current_period_end"], self.now()
        total = max(1, end - start)
        remaining = min(total, max(0, end - now))
        period = {"start": max(now, start), "end": end}
        when = time.strftime("%d %b %Y", time.gmtime(period["start"]))
        for price, sign, label in ((old_price, -1, "Unused time on"), (new_price, 1, "Remaining time on")):
            amount = sign * ((int(price["unit_amount"]) * remaining + total // 2) // total)
            self._new_invoice_item(
                customer=sub["customer"],
                amount=amount,
                currency=price["currency"],
                description=f"{label} {self._product_name(price)} after {when}",
                metadata={},
                price=price,
                proration=True,
                subscription=sub["id"],
                period=period,
            )

    def cancel_subscription(self, sub_id: str, ctx: Json, ended_at: int | None = None) -> Json:
        sub = self._get("subscriptions", sub_id)
        if sub["status"] == "canceled":
            raise StripeError(f"Subscription {sub_id} is already canceled.", code="resource_missing")
        now = self.now()
        sub.update(
            status="canceled",
            ended_at=ended_at or now,
            canceled_at=sub["canceled_at"] or now,
            cancel_at=None,
        )
        self._emit("customer.subscription.deleted", sub, ctx)
        return sub

    def create_invoice_item(self, p: Json) -> Json:
        customer = str(p.get("customer") or "")
        self._get("customers", customer, "customer")
        if "amount" not in p:
            raise StripeError("Missing required param: amount.", param="amount")
        if not p.get("currency"):
            raise StripeError("Missing required param: currency.", param="currency")
        now = self.now()
        return self._new_invoice_item(
            customer=customer,
            amount=_int(p["amount"], "amount"),
            currency=str(p["currency"]),
            description=p.get("description"),
            metadata=_merge_metadata({}, p.get("metadata", {})),
            price=None,
            proration=False,
            subscription=p.get("subscription"),
            period={"start": now, "end": now},
        )

    def _new_invoice_item(
        self,
        *,
        customer: str,
        amount: int,
        currency: str,
        description: str | None,
        metadata: dict[str, str],
        price: Json | None,
        proration: bool,
        subscription: str | None,
        period: Json,
    ) -> Json:
        item = {
            "id": se.new_id("ii"),
            "object": "invoiceitem",
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer,
            "date": self.now(),
            "description": description,
            "invoice": None,
            "livemode": False,
            "metadata": metadata,
            "period": period,
            "price": se._copy(price) if price else None,
            "proration": proration,
            "quantity": 1,
            "subscription": subscription,
        }
        self.state["invoiceitems"][item["id"]] = item
        return item

    def list_invoice_items(self, q: Json) -> list[Json]:
        """Stripe's list: by customer, invoice, pending and ``created`` (on the item's ``date``), newest first."""
        pending = _bool(q["pending"], "pending") if "pending" in q else None
        found = [
            x
            for x in self.state["invoiceitems"].values()
            if (not q.get("customer") or x["customer"] == q["customer"])
            and (not q.get("invoice") or x["invoice"] == q["invoice"])
            and (pending is None or (x["invoice"] is None) == pending)
            and _in_range(x["date"], q.get("created"), "created")
        ]
        return sorted(found, key=lambda x: -int(x["date"]))

    def list_invoices(self, q: Json) -> list[Json]:
        return [
            x
            for x in self.state["invoices"].values()
            if (not q.get("customer") or x["customer"] == q["customer"])
            and (not q.get("subscription") or x["subscription"] == q["subscription"])
            and (not q.get("status") or x["status"] == q["status"])
        ]

    def pay_invoice(self, invoice_id: str, ctx: Json) -> Json:
        """``POST /v1/invoices/{id}/pay``: the open invoice is collected (the customer fixed their card).
        ``invoice.paid``, then, if its subscription was past_due on it, ``customer.subscription.updated``."""
        inv = self._get("invoices", invoice_id)
        if inv["status"] == "paid":
            raise StripeError("Invoice is already paid.", code="invoice_already_paid")
        if inv["status"] != "open":
            raise StripeError(f"Invoice {invoice_id} is {inv['status']}; only open invoices can be paid.")
        now = self.now()
        inv.update(
            status="paid",
            paid=True,
            amount_paid=inv["amount_due"],
            amount_remaining=0,
            attempt_count=inv["attempt_count"] + 1,
            attempted=True,
            next_payment_attempt=None,
            last_payment_error=None,
        )
        inv["status_transitions"]["paid_at"] = now
        self._emit("invoice.paid", inv, ctx)
        sub = self.state["subscriptions"].get(inv.get("subscription") or "")
        if sub is not None and sub["status"] == "past_due" and sub["latest_invoice"] == inv["id"]:
            sub["status"] = "active"
            self._emit("customer.subscription.updated", sub, ctx, {"status": "past_due"})
        return inv

    def subscription(self, sub_id: str, q: Json) -> Json:
        """A subscription, with ``expand[]=latest_invoice`` answered as Stripe does (the object in place)."""
        sub = self._get("subscriptions", sub_id)
        expand = q.get("expand") or []
        expand = expand if isinstance(expand, list) else [expand]
        if "latest_invoice" in expand and sub.get("latest_invoice"):
            return {**sub, "latest_invoice": se._copy(self._get("invoices", sub["latest_invoice"]))}
        return sub

    # ---- test helpers: time passes, cards fail ---------------------------------------------------------
    def advance(self, sub_id: str, ctx: Json) -> Json:
        """The period (or the trial) ends: renew into the next period and collect the price plus every pending
        invoice item of the customer on one paid invoice. A subscription set to cancel at period end ends."""
        sub = self._get("subscriptions", sub_id)
        if sub["status"] == "canceled":
            raise StripeError(f"Subscription {sub_id} is canceled; nothing to advance.")
        if sub["cancel_at_period_end"]:
            return {"subscription": self.cancel_subscription(sub_id, ctx, sub["current_period_end"])}
        before = se._copy(sub)
        item = sub["items"]["data"][0]
        price = item["price"]
        start = sub["current_period_end"]
        end = start + se.INTERVAL_SECONDS[price["recurring"]["interval"]]
        sub.update(status="active", current_period_start=start, current_period_end=end)
        item.update(current_period_start=start, current_period_end=end)
        lines = [self._price_line(price, start, end, price["unit_amount"])]
        pending = [
            x
            for x in self.state["invoiceitems"].values()
            if x["customer"] == sub["customer"] and x["invoice"] is None
        ]
        for x in pending:
            lines.append(
                se.invoice_line(
                    amount=x["amount"],
                    currency=x["currency"],
                    description=x["description"] or "",
                    period_start=x["period"]["start"],
                    period_end=x["period"]["end"],
                    price=x["price"],
                    proration=x["proration"],
                    metadata=x["metadata"],
                    invoice_item=x["id"],
                )
            )
        inv = self._new_invoice(sub, lines, "subscription_cycle", status="paid")
        for x in pending:
            x["invoice"] = inv["id"]
        sub["latest_invoice"] = inv["id"]
        previous = {
            k: before[k]
            for k in ("status", "current_period_start", "current_period_end", "items", "latest_invoice")
            if before[k] != sub[k]
        }
        self._emit("customer.subscription.updated", sub, ctx, previous)
        self._emit("invoice.paid", inv, ctx)
        return {"subscription": sub, "invoice": inv}

    def fail_payment(self, sub_id: str, ctx: Json) -> Json:
        """A renewal charge is declined: an open invoice (or the next attempt at the open one), then
        ``invoice.payment_failed`` and, when the status changes, ``customer.subscription.updated`` (past_due)."""
        sub = self._get("subscriptions", sub_id)
        if sub["status"] == "canceled":
            raise StripeError(f"Subscription {sub_id} is canceled; nothing to charge.")
        now = self.now()
        inv = next(
            (x for x in self.list_invoices({"subscription": sub_id, "status": "open"})),
            None,
        )
        if inv is None:
            price = sub["items"]["data"][0]["price"]
            start, end = sub["current_period_start"], sub["current_period_end"]
            line = self._price_line(price, start, end, price["unit_amount"])
            inv = self._new_invoice(sub, [line], "subscription_cycle", status="open", attempt_count=0)
        inv["attempt_count"] += 1
        inv["attempted"] = True
        final = inv["attempt_count"] >= DUNNING_ATTEMPTS
        inv["next_payment_attempt"] = None if final else now + 3 * 86_400
        inv["last_finalization_error"] = None
        inv["last_payment_error"] = {"code": "card_declined", "message": "Your card was declined."}
        self._emit("invoice.payment_failed", inv, ctx)
        if sub["status"] != "past_due":
            previous = {"status": sub["status"], "latest_invoice": sub["latest_invoice"]}
            sub.update(status="past_due", latest_invoice=inv["id"])
            self._emit("customer.subscription.updated", sub, ctx, previous)
        return {"subscription": sub, "invoice": inv}

    def trial_will_end(self, sub_id: str, ctx: Json) -> Json:
        sub = self._get("subscriptions", sub_id)
        if sub["status"] != "trialing":
            raise StripeError(f"Subscription {sub_id} is {sub['status']}, not trialing.")
        self._emit("customer.subscription.trial_will_end", sub, ctx)
        return {"subscription": sub}

    # ---- helpers ---------------------------------------------------------------------------------------
    def _product_name(self, price: Json) -> str:
        product = self.state["products"].get(price.get("product") or "")
        return str(product["name"]) if product else str(price.get("lookup_key") or price["id"])

    def _price_line(self, price: Json, start: int, end: int, amount: int) -> Json:
        return se.invoice_line(
            amount=amount,
            currency=price["currency"],
            description=f"1 × {self._product_name(price)}",  # noqa: RUF001 - Stripe's own wording
            period_start=start,
            period_end=end,
            price=price,
        )

    def _new_invoice(
        self, sub: Json, lines: list[Json], reason: str, *, status: str, attempt_count: int = 1
    ) -> Json:
        inv = se.invoice(
            customer=sub["customer"],
            subscription_id=sub["id"],
            lines=lines,
            currency=sub["items"]["data"][0]["price"]["currency"],
            created=self.now(),
            period_start=sub["current_period_start"],
            period_end=sub["current_period_end"],
            status=status,
            billing_reason=reason,
            attempt_count=attempt_count,
            metadata=sub["metadata"],
            number=self._next_invoice_number(sub["customer"]),
        )
        self.state["invoices"][inv["id"]] = inv
        return inv

    def _next_invoice_number(self, customer_id: str) -> str:
        """Stripe numbers a customer's invoices in sequence behind the customer's invoice prefix."""
        customer = self.state["customers"].get(customer_id) or {}
        prefix = customer.get("invoice_prefix") or customer_id.split("_")[-1][:8].upper()
        count = sum(1 for x in self.state["invoices"].values() if x["customer"] == customer_id)
        return f"{prefix}-{count + 1:04d}"

    # ---- HTTP ------------------------------------------------------------------------------------------
    def _build_app(self) -> Starlette:
        s = self

        def api(
            handler: Callable[[Request, Json, Json], Any], *, idempotent: bool = True
        ) -> Callable[[Request], Any]:
            async def endpoint(request: Request) -> Response:
                request_id = se.new_id("req")
                auth = request.headers.get("authorization", "")
                if not auth.startswith("Bearer sk_test_"):
                    return _error(
                        StripeError(
                            "Invalid API Key provided (the stand-in takes any sk_test_... key).",
                            401,
                            kind="invalid_request_error",
                        ),
                        request_id,
                    )
                key = request.headers.get("idempotency-key")
                slot = f"{request.method} {request.url.path} {key}" if key and idempotent else None
                if request.method in ("POST", "DELETE") and slot:
                    with s._lock:
                        saved = s.replay(slot)
                    if saved is not None:
                        return JSONResponse(
                            saved["body"],
                            saved["status"],
                            headers={"Request-Id": saved["request_id"], "Idempotent-Replayed": "true"},
                        )
                raw = (await request.body()).decode() if request.method == "POST" else request.url.query
                params = parse_form(parse_qsl(raw, keep_blank_values=True))
                ctx = {"request_id": request_id, "idempotency_key": key}

                def operation() -> Any:
                    body = handler(request, params, ctx)
                    if request.method in ("POST", "DELETE") and slot:
                        s.state["idempotency"][slot] = {
                            "status": 200,
                            "body": body,
                            "request_id": request_id,
                            "created": s.now(),
                        }
                    return body

                try:
                    body = s.run(operation)
                except StripeError as exc:
                    return _error(exc, request_id)
                return JSONResponse(body, headers={"Request-Id": request_id})

            return endpoint

        def helper(handler: Callable[[Request, Json], Any]) -> Callable[[Request], Any]:
            async def endpoint(request: Request) -> Response:
                ctx: Json = {"request_id": None, "idempotency_key": None}
                try:
                    body = s.run(lambda: _public(handler(request, ctx)))
                except StripeError as exc:
                    return _error(exc, None)
                return JSONResponse(body)

            return endpoint

        def pid(request: Request) -> str:
            return str(request.path_params["id"])

        def listing(url: str, data: list[Json], params: Json) -> Json:
            limit = _int(params.get("limit", 10), "limit")
            after = params.get("starting_after")
            if after:  # cursor pagination, as the SDK's auto_paging_iter asks for the next page
                ids = [x["id"] for x in data]
                if after not in ids:
                    raise StripeError(f"No such object: '{after}'", 404, param="starting_after")
                data = data[ids.index(after) + 1 :]
            return {
                "object": "list",
                "data": [_public(x) for x in data[:limit]],
                "has_more": len(data) > limit,
                "url": url,
            }

        async def checkout_page(request: Request) -> Response:
            with s._lock:
                session = s.state["checkout_sessions"].get(pid(request))
                if session is None:
                    return HTMLResponse("<h1>No such checkout session</h1>", 404)
                price = s.state["prices"][session["_line_price"]]
                name = s._product_name(price)
            major, minor = divmod(int(price["unit_amount"]), 100)
            amount = f"{major}.{minor:02d} {price['currency'].upper()} per {price['recurring']['interval']}"
            days = int(session["_trial_days"])
            trial = f"<p>{days}-day free trial, then {html.escape(amount)}</p>" if days else ""
            if session["status"] != "open":
                return HTMLResponse(
                    f"<h1>{html.escape(name)}</h1><p>This checkout is {session['status']}.</p>"
                )
            cancel = html.escape(session.get("cancel_url") or "/")
            return HTMLResponse(
                f"<!doctype html><title>Checkout (local Stripe)</title><h1>{html.escape(name)}</h1>"
                f"<p>{html.escape(amount)}</p>{trial}"
                f'<form method="post" action="/checkout/{html.escape(session["id"])}/complete">'
                '<button type="submit">Pay (test card 4242)</button></form>'
                f'<p><a href="{cancel}">Cancel</a></p>'
            )

        async def checkout_complete_form(request: Request) -> Response:
            ctx: Json = {"request_id": None, "idempotency_key": None}
            try:
                session = s.run(lambda: s.complete_checkout(pid(request), ctx))
            except StripeError as exc:
                return HTMLResponse(f"<p>{html.escape(str(exc))}</p>", exc.status)
            target = str(session.get("success_url") or "/").replace("{CHECKOUT_SESSION_ID}", session["id"])
            return RedirectResponse(target, 303)

        async def portal_page(request: Request) -> Response:
            with s._lock:
                portal = s.state["portal_sessions"].get(pid(request))
                if portal is None:
                    return HTMLResponse("<h1>No such portal session</h1>", 404)
                subs = [x for x in s.state["subscriptions"].values() if x["customer"] == portal["customer"]]
            rows = "".join(
                f"<li>{html.escape(x['id'])}: {html.escape(x['status'])}, "
                f"{html.escape(str(x['items']['data'][0]['price'].get('lookup_key')))}</li>"
                for x in subs
            )
            back = html.escape(portal.get("return_url") or "/")
            return HTMLResponse(
                f"<!doctype html><title>Billing portal (local Stripe)</title><h1>Your subscriptions</h1>"
                f'<ul>{rows or "<li>none</li>"}</ul><p><a href="{back}">Back</a></p>'
            )

        async def events(request: Request) -> Response:
            with s._lock:
                records = se._copy(s.state["events"])
            kind = request.query_params.get("type")
            return JSONResponse(
                {
                    "object": "list",
                    "data": [
                        {**r["event"], "delivery": r["delivery"]}
                        for r in records
                        if not kind or r["event"]["type"] == kind
                    ],
                }
            )

        async def hold(request: Request) -> Response:
            """``?type=invoice.payment_failed&type=...`` (none: every type) is held back until released."""
            types = set(request.query_params.getlist("type")) or None
            s.deliverer.hold(types)
            return JSONResponse({"holding": sorted(types) if types else "all"})

        async def release(request: Request) -> Response:
            return JSONResponse({"released": s.deliverer.release()})

        routes = [
            Route("/v1/customers", api(lambda r, p, c: s.create_customer(p)), methods=["POST"]),
            Route("/v1/customers/{id}", api(lambda r, p, c: s._get("customers", pid(r))), methods=["GET"]),
            Route("/v1/products", api(lambda r, p, c: s.create_product(p)), methods=["POST"]),
            Route("/v1/prices", api(lambda r, p, c: s.create_price(p)), methods=["POST"]),
            Route(
                "/v1/prices",
                api(lambda r, p, c: listing("/v1/prices", s.list_prices(p), p)),
                methods=["GET"],
            ),
            Route("/v1/prices/{id}", api(lambda r, p, c: s._get("prices", pid(r))), methods=["GET"]),
            Route(
                "/v1/checkout/sessions",
                api(lambda r, p, c: _public(s.create_checkout_session(p, str(r.base_url)))),
                methods=["POST"],
            ),
            Route(
                "/v1/checkout/sessions/{id}",
                api(lambda r, p, c: _public(s._get("checkout_sessions", pid(r)))),
                methods=["GET"],
            ),
            Route(
                "/v1/billing_portal/sessions",
                api(lambda r, p, c: s.create_portal_session(p, str(r.base_url))),
                methods=["POST"],
            ),
            Route(
                "/v1/subscriptions",
                api(
                    lambda r, p, c: listing(
                        "/v1/subscriptions",
                        [
                            x
                            for x in s.state["subscriptions"].values()
                            if not p.get("customer") or x["customer"] == p["customer"]
                        ],
                        p,
                    )
                ),
                methods=["GET"],
            ),
            Route(
                "/v1/subscriptions/{id}",
                api(lambda r, p, c: s.subscription(pid(r), p)),
                methods=["GET"],
            ),
            Route(
                "/v1/subscriptions/{id}",
                api(lambda r, p, c: s.update_subscription(pid(r), p, c)),
                methods=["POST"],
            ),
            Route(
                "/v1/subscriptions/{id}",
                api(lambda r, p, c: s.cancel_subscription(pid(r), c)),
                methods=["DELETE"],
            ),
            Route("/v1/invoiceitems", api(lambda r, p, c: s.create_invoice_item(p)), methods=["POST"]),
            Route(
                "/v1/invoiceitems",
                api(lambda r, p, c: listing("/v1/invoiceitems", s.list_invoice_items(p), p)),
                methods=["GET"],
            ),
            Route(
                "/v1/invoices",
                api(lambda r, p, c: listing("/v1/invoices", s.list_invoices(p), p)),
                methods=["GET"],
            ),
            Route("/v1/invoices/{id}", api(lambda r, p, c: s._get("invoices", pid(r))), methods=["GET"]),
            Route("/v1/invoices/{id}/pay", api(lambda r, p, c: s.pay_invoice(pid(r), c)), methods=["POST"]),
            Route("/checkout/{id}", checkout_page, methods=["GET"]),
            Route("/checkout/{id}/complete", checkout_complete_form, methods=["POST"]),
            Route("/portal/{id}", portal_page, methods=["GET"]),
            Route(
                "/_test/checkout/{id}/complete",
                helper(lambda r, c: s.complete_checkout(pid(r), c)),
                methods=["POST"],
            ),
            Route(
                "/_test/subscriptions/{id}/advance",
                helper(lambda r, c: s.advance(pid(r), c)),
                methods=["POST"],
            ),
            Route(
                "/_test/subscriptions/{id}/fail_payment",
                helper(lambda r, c: s.fail_payment(pid(r), c)),
                methods=["POST"],
            ),
            Route(
                "/_test/subscriptions/{id}/trial_will_end",
                helper(lambda r, c: s.trial_will_end(pid(r), c)),
                methods=["POST"],
            ),
            Route("/_test/events", events, methods=["GET"]),
            Route("/_test/webhooks/hold", hold, methods=["POST"]),
            Route("/_test/webhooks/release", release, methods=["POST"]),
            Route(
                "/_test/clock/advance", helper(lambda r, c: s.advance_clock(_seconds(r))), methods=["POST"]
            ),
            Route("/_test/health", lambda r: JSONResponse({"ok": True}), methods=["GET"]),
        ]
        return Starlette(routes=routes)


def _in_range(value: int, bounds: Any, param: str) -> bool:
    """Stripe's range filters: ``created=<ts>`` or ``created[gte|gt|lte|lt]=<ts>``."""
    if bounds is None or bounds == "":
        return True
    if not isinstance(bounds, dict):
        return value == _int(bounds, param)
    checks = {"gte": value.__ge__, "gt": value.__gt__, "lte": value.__le__, "lt": value.__lt__}
    for op, limit in bounds.items():
        if op not in checks:
            raise StripeError(f"Invalid {param}[{op}]", param=f"{param}[{op}]")
        if not checks[op](_int(limit, f"{param}[{op}]")):
            return False
    return True


def _seconds(request: Request) -> int:
    return _int(request.query_params.get("seconds", "0"), "seconds")


def _public(obj: Any) -> Any:
    """The object as served: the stand-in's private bookkeeping fields (``_...``) left out."""
    if isinstance(obj, dict):
        return {k: _public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [_public(v) for v in obj]
    return obj


def _error(exc: StripeError, request_id: str | None) -> JSONResponse:
    headers = {"Request-Id": request_id} if request_id else {}
    return JSONResponse(exc.body(), exc.status, headers=headers)


def secret_from_secrets_manager(name: str = "stripe") -> SecretSource:
    """Read ``webhook_secret`` from the platform's secret when first needed (bootstrap creates it after the
    stand-ins start), then keep it."""
    cache: dict[str, str] = {}

    def get() -> str:
        if "v" not in cache:
            from mantra.settings import Settings
            from mantra.store.aws import read_secret

            cache["v"] = str(read_secret(Settings(), name)["webhook_secret"])
        return cache["v"]

    return get


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - a process entry point
    parser = argparse.ArgumentParser(description="Local Stripe stand-in for Trade Mantra")
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--webhook-url", default=None, help="where signed events are POSTed")
    parser.add_argument(
        "--webhook-secret",
        default=None,
        help="endpoint secret (whsec_...); default: read from the local Secrets Manager secret 'stripe'",
    )
    parser.add_argument("--state", type=Path, default=None, help="JSON file that keeps state across restarts")
    args = parser.parse_args(argv)
    fixed = str(args.webhook_secret or "")
    secret = (lambda: fixed) if fixed else secret_from_secrets_manager()
    standin = StripeStandin(webhook_url=args.webhook_url, webhook_secret=secret, state_file=args.state)
    import uvicorn

    uvicorn.run(standin.app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":  # pragma: no cover
    main()
