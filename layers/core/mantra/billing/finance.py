"""The finance view: MRR, ARR, ARPU, churn, trial-to-paid conversion and revenue by stream, per IST month.

Computed from our own records, not from Stripe's dashboard: the subscription history (every state a webhook
applied, in Stripe time), the paid invoices and the metered usage charges. Money stays in integer minor units
per currency (INR and USD are never added together); rates are basis points.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable

from pydantic import BaseModel, Field

from mantra.billing.account import PAYING, STAGE
from mantra.billing.metering import period_bounds
from mantra.billing.ports import BillingStore, PlanSource
from mantra.billing.records import HistoryRow
from mantra.errors import Invalid

ENDED = frozenset({"canceled", "unpaid", "incomplete_expired"})
STREAM_COLUMNS = ("subscription", "trade_fee", "success_fee", "profit_share", "strategy_fee")


class MonthMetrics(BaseModel):
    month: str
    currency: str
    mrr_minor: int
    arr_minor: int
    paying_customers: int
    arpu_minor: int
    churned: int
    churn_rate_bps: int  # of the customers paying at the start of the month
    trials_started: int
    trials_ended: int
    trials_converted: int
    trial_conversion_bps: int  # of the trials that ended in the month
    revenue_minor: int  # collected: paid invoices created in the month
    revenue_by_stream: dict[str, int] = Field(default_factory=dict)
    metered_by_stream: dict[str, int] = Field(default_factory=dict)  # billed for the month's usage


def months(start: str, end: str) -> list[str]:
    period_bounds(start), period_bounds(end)  # validates both
    y, m = (int(x) for x in start.split("-"))
    ey, em = (int(x) for x in end.split("-"))
    if (y, m) > (ey, em):
        raise Invalid(f"start: {start} is after end {end}")
    out = []
    while (y, m) <= (ey, em):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + m // 12, m % 12 + 1)
        if len(out) > 120:
            raise Invalid("end: at most 120 months per report")
    return out


class _Timeline:
    """One subscription's states in Stripe time (ties broken by life stage, as the account does)."""

    def __init__(self, rows: Iterable[HistoryRow]) -> None:
        self.rows = sorted(rows, key=lambda r: (r.at_s, STAGE.get(r.status, 0)))
        self.tenant_id = self.rows[0].tenant_id

    def at(self, t_s: int) -> HistoryRow | None:
        found = None
        for r in self.rows:
            if r.at_s >= t_s:
                break
            found = r
        return found

    def trial_outcome(self) -> tuple[int | None, int | None, bool]:
        """(trial start, trial end, converted to paid)."""
        started = next((r.at_s for r in self.rows if r.status == "trialing"), None)
        if started is None:
            return None, None, False
        after = next(
            (r for r in self.rows if r.at_s >= started and r.status not in ("trialing", "incomplete")), None
        )
        if after is None:
            return started, None, False
        return started, after.at_s, after.status in PAYING


class FinanceReports:
    def __init__(self, store: BillingStore, plans: PlanSource) -> None:
        self._store, self._plans = store, plans

    def monthly(self, start: str, end: str, currency: str | None = None) -> list[MonthMetrics]:
        prices = {p.plan_id: (p.currency, p.price_minor) for p in self._plans.all()}
        by_sub: dict[str, list[HistoryRow]] = defaultdict(list)
        for row in self._store.history():
            by_sub[row.subscription_id].append(row)
        timelines = [_Timeline(rows) for rows in by_sub.values()]
        invoices = [i for i in self._store.invoices() if i.status == "paid"]
        currencies = sorted({c for c, _ in prices.values()} if currency is None else {currency.upper()})
        out: list[MonthMetrics] = []
        for month in months(start, end):
            start_ms, end_ms = period_bounds(month)
            s, e = start_ms // 1000, end_ms // 1000
            metered = self._store.charges_in(month)
            for cur in currencies:

                def paying(t: int, cur: str = cur) -> dict[str, int]:
                    found: dict[str, int] = {}
                    for tl in timelines:
                        row = tl.at(t)
                        if row and row.status in PAYING and row.plan_id in prices:
                            plan_cur, price = prices[row.plan_id]
                            if plan_cur == cur:
                                found[row.subscription_id] = price
                    return found

                at_start, at_end = paying(s), paying(e)
                mrr = sum(at_end.values())
                customers = len({tl.tenant_id for tl in timelines if tl.rows[0].subscription_id in at_end})
                churned = sum(
                    1
                    for tl in timelines
                    if tl.rows[0].subscription_id in at_start
                    and (r := tl.at(e)) is not None
                    and r.status in ENDED
                )
                started = ended = converted = 0
                for tl in timelines:
                    plan = tl.rows[-1].plan_id
                    if plan not in prices or prices[plan][0] != cur:
                        continue
                    t0, t1, paid = tl.trial_outcome()
                    started += t0 is not None and s <= t0 < e
                    if t1 is not None and s <= t1 < e:
                        ended += 1
                        converted += paid
                revenue: dict[str, int] = defaultdict(int)
                for inv in invoices:
                    if inv.currency == cur and s <= inv.created_s < e:
                        for line in inv.lines:
                            revenue[line.stream] += line.amount_minor
                billed: dict[str, int] = defaultdict(int)
                for c in metered:
                    if c.currency == cur:
                        billed[c.stream] += c.amount_minor
                out.append(
                    MonthMetrics(
                        month=month,
                        currency=cur,
                        mrr_minor=mrr,
                        arr_minor=mrr * 12,
                        paying_customers=customers,
                        arpu_minor=mrr // customers if customers else 0,
                        churned=churned,
                        churn_rate_bps=churned * 10_000 // len(at_start) if at_start else 0,
                        trials_started=started,
                        trials_ended=ended,
                        trials_converted=converted,
                        trial_conversion_bps=converted * 10_000 // ended if ended else 0,
                        revenue_minor=sum(revenue.values()),
                        revenue_by_stream=dict(revenue),
                        metered_by_stream=dict(billed),
                    )
                )
        return out


def to_csv(rows: list[MonthMetrics]) -> str:
    fields = [f for f in MonthMetrics.model_fields if f not in ("revenue_by_stream", "metered_by_stream")]
    header = [
        *fields,
        *(f"revenue_{s}_minor" for s in STREAM_COLUMNS),
        *(f"metered_{s}_minor" for s in STREAM_COLUMNS[1:]),
    ]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        data = r.model_dump()
        writer.writerow(
            [
                *(data[f] for f in fields),
                *(r.revenue_by_stream.get(s, 0) for s in STREAM_COLUMNS),
                *(r.metered_by_stream.get(s, 0) for s in STREAM_COLUMNS[1:]),
            ]
        )
    return buf.getvalue()
