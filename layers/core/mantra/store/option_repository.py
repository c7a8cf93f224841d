"""Derivatives of an underlying from the instrument master's sparse ``by_underlying`` index (one query), and
the quotes of a whole chain read in parallel batches."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from threading import Lock
from typing import Any

from mantra.domain import Instrument, Quote
from mantra.store.models import QuoteItem
from mantra.store.repositories import DynamoInstrumentRepository

DERIVATIVE_TYPES = frozenset({"FUT", "CE", "PE"})


class DynamoOptionContractRepository:
    def __init__(self) -> None:
        self._master = DynamoInstrumentRepository()

    def derivatives(self, underlying: str) -> list[Instrument]:
        out = [i for i in self._master.by_underlying(underlying) if i.instrument_type in DERIVATIVE_TYPES]
        out.sort(
            key=lambda i: (i.expiry or "", i.instrument_type != "FUT", i.strike_paise or 0, i.instrument_type)
        )
        return out


QUOTE_FIELDS = (
    "symbol", "ltp_paise", "open_paise", "high_paise", "low_paise", "prev_close_paise", "bid_paise", "ask_paise",
    "volume", "tick_ts_ms", "tick_id", "seq", "session_date", "oi", "oi_open",
)  # fmt: skip
BATCH = 100  # BatchGetItem's limit
READERS = 6  # batches in flight: a chain is ~600 quotes, six batches


def _num(attr: dict[str, Any] | None) -> int | None:
    return None if attr is None or "N" not in attr else int(attr["N"])


def _raw_quote(item: dict[str, dict[str, Any]]) -> Quote:
    """A stored quote straight from its raw item (our own writes: valid), without the dedupe memory."""
    n: dict[str, Any] = {
        k: _num(item.get(k)) for k in QUOTE_FIELDS if k not in ("symbol", "tick_id", "session_date")
    }
    return Quote.model_construct(
        symbol=item["symbol"]["S"],
        tick_id=item["tick_id"]["S"],
        session_date=item["session_date"]["S"],
        version=0,
        seen="",
        **n,
    )


class DynamoChainQuotes:
    """The quotes of a whole chain: its batches read in parallel, only the fields a chain shows, raw items
    turned straight into ``Quote``s (PynamoDB's model objects and one batch after another were most of a
    chain request's time)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._lock = Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(READERS, thread_name_prefix="chain-quotes")
            return self._pool

    @staticmethod
    def _batch(keys: list[str]) -> list[Quote]:
        conn = QuoteItem._get_connection()
        out: list[Quote] = []
        pending = keys
        for _ in range(8):  # unprocessed keys (throttling) are asked again
            # PynamoDB's stub says keys are strings; its code wants {hash key name: value} per key
            request: list[Any] = [{"symbol": k} for k in pending]
            page = conn.batch_get_item(request, attributes_to_get=list(QUOTE_FIELDS))
            out.extend(_raw_quote(i) for items in page.get("Responses", {}).values() for i in items)
            left = [
                k["symbol"]["S"] for t in page.get("UnprocessedKeys", {}).values() for k in t.get("Keys", ())
            ]
            if not left:
                return out
            pending = left
        raise RuntimeError(f"quotes: {len(pending)} keys still unprocessed after retries")

    def get_many(self, symbols: Iterable[str]) -> dict[str, Quote]:
        keys = sorted(set(symbols))
        if not keys:
            return {}
        chunks = [keys[i : i + BATCH] for i in range(0, len(keys), BATCH)]
        if len(chunks) == 1:
            return {q.symbol: q for q in self._batch(chunks[0])}
        return {q.symbol: q for part in self._executor().map(self._batch, chunks) for q in part}
