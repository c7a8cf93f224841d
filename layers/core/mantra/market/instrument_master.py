"""The instrument master from the brokers' own dumps, normalised to ``Instrument``; refresh and search.

Sources (``Settings.instrument_source``):
- Angel One SmartAPI ``OpenAPIScripMaster.json``: a JSON array of rows with ``token, symbol, name, expiry``
  ("28NOV2026"), ``strike`` (paise as a decimal string, "2400000.000000" is 24,000.00), ``lotsize``,
  ``instrumenttype`` (OPTIDX, OPTSTK, FUTIDX, FUTSTK, AMXIDX, "" for cash), ``exch_seg`` (NSE, NFO, BSE, BFO,
  ...) and ``tick_size`` (paise).
- Kite Connect ``instruments`` CSV: ``instrument_token, exchange_token, tradingsymbol, name, last_price,
  expiry`` (YYYY-MM-DD), ``strike`` (rupees), ``tick_size`` (rupees), ``lot_size, instrument_type`` (EQ, FUT, CE,
  PE), ``segment`` (NSE, INDICES, NFO-OPT, ...) and ``exchange``.

Both normalise to the same symbols: cash equities keep the exchange symbol (RELIANCE), indices their NSE name
(NIFTY 50, NIFTY BANK), derivatives the exchange's trading symbol: monthly ``NIFTY26DEC24000CE`` and
``NIFTY26DECFUT``, weekly ``NIFTY26D0124000CE`` (year, month as 1-9/O/N/D, day). ``token`` is the broker's
subscription token (Angel ``token``, Kite ``instrument_token``): it is what a feed subscribes with.
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from threading import Lock
from typing import Any, Protocol

from pydantic import BaseModel

from mantra.domain import Instrument

BUNDLED_ANGEL = "bundled:angel_scrip_master_sample.json"
BUNDLED_KITE = "bundled:kite_instruments_sample.csv"
EXCHANGES = ("NSE", "BSE", "NFO", "BFO")
INSTRUMENT_TYPES = ("EQ", "INDEX", "FUT", "CE", "PE")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKLY_MONTH = "123456789OND"
# the index an index derivative is on (the spot symbol in our master)
INDEX_SPOT = {
    "NIFTY": "NIFTY 50",
    "BANKNIFTY": "NIFTY BANK",
    "FINNIFTY": "NIFTY FIN SERVICE",
    "MIDCPNIFTY": "NIFTY MID SELECT",
    "SENSEX": "SENSEX",
    "BANKEX": "BANKEX",
}


class DumpError(ValueError):
    """The dump is not an Angel scrip master or a Kite instruments CSV, or a row is malformed."""


@dataclass
class ParsedDump:
    source: str
    fmt: str  # "angel" | "kite"
    instruments: list[Instrument]
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> rows


# ------------------------------------------------------------------------------------------------ symbols
def contract_symbol(root: str, expiry: date, kind: str, strike_paise: int | None, monthly: bool) -> str:
    """The exchange trading symbol of a derivative: NIFTY26DEC24000CE, NIFTY26D0124000CE, NIFTY26DECFUT."""
    yy = f"{expiry.year % 100:02d}"
    if kind == "FUT":
        return f"{root}{yy}{MONTHS[expiry.month - 1]}FUT"
    if strike_paise is None:
        raise DumpError(f"{root} {expiry} {kind}: an option needs a strike")
    strike = _strike_text(strike_paise)
    if monthly:
        return f"{root}{yy}{MONTHS[expiry.month - 1]}{strike}{kind}"
    return f"{root}{yy}{WEEKLY_MONTH[expiry.month - 1]}{expiry.day:02d}{strike}{kind}"


def _strike_text(strike_paise: int) -> str:
    rupees = Decimal(strike_paise) / 100
    text = format(rupees.normalize(), "f")
    return text


def _monthly_dates(rows: Iterable[tuple[str, date, bool]]) -> set[tuple[str, date]]:
    """(root, expiry) pairs that are the month's expiry: a future's expiry, else the month's last expiry."""
    futures: dict[tuple[str, int, int], date] = {}
    last: dict[tuple[str, int, int], date] = {}
    for root, exp, is_future in rows:
        key = (root, exp.year, exp.month)
        if is_future:
            futures[key] = exp
        last[key] = max(last.get(key, exp), exp)
    return {(k[0], futures.get(k, d)) for k, d in last.items()}


# ------------------------------------------------------------------------------------------------ Angel
def _angel_decimal(value: Any, row: dict[str, Any], name: str) -> Decimal:
    try:
        return Decimal(str(value).strip() or "0")
    except InvalidOperation as exc:
        raise DumpError(f"Angel row {row.get('token')!r}: {name}={value!r} is not a number") from exc


def _angel_expiry(text: str) -> date:
    return datetime.strptime(text.strip().upper(), "%d%b%Y").date()


def parse_angel(rows: Sequence[dict[str, Any]], source: str = "angel") -> ParsedDump:
    out = ParsedDump(source, "angel", [])
    derivatives: list[tuple[dict[str, Any], str, date, str]] = []
    for row in rows:
        seg = str(row.get("exch_seg", "")).upper()
        itype = str(row.get("instrumenttype", "")).upper()
        symbol = str(row.get("symbol", "")).strip()
        token = str(row.get("token", "")).strip()
        if not symbol or not token:
            out.skipped["no symbol or token"] += 1
            continue
        if seg not in EXCHANGES:
            out.skipped[f"segment {seg or '?'}"] += 1
            continue
        tick = _angel_decimal(row.get("tick_size", "0"), row, "tick_size")
        lot = int(_angel_decimal(row.get("lotsize", "1"), row, "lotsize")) or 1
        if seg in ("NSE", "BSE"):
            if itype == "AMXIDX":
                out.instruments.append(
                    Instrument(
                        symbol=symbol.upper(),
                        token=token,
                        exchange=seg,
                        name=str(row.get("name") or symbol).strip(),
                        instrument_type="INDEX",
                        lot_size=1,
                        tick_size_paise=int(tick) if tick > 0 else 5,
                    )
                )
            elif itype == "" and (symbol.endswith("-EQ") or seg == "BSE"):
                out.instruments.append(
                    Instrument(
                        symbol=symbol.removesuffix("-EQ"),
                        token=token,
                        exchange=seg,
                        name=str(row.get("name") or symbol).strip(),
                        instrument_type="EQ",
                        lot_size=lot,
                        tick_size_paise=int(tick) if tick > 0 else 5,
                    )
                )
            else:
                out.skipped[f"cash series {symbol.rsplit('-', 1)[-1] if '-' in symbol else itype}"] += 1
            continue
        if itype.startswith("FUT"):
            kind = "FUT"
        elif itype.startswith("OPT") and symbol[-2:] in ("CE", "PE"):
            kind = symbol[-2:]
        else:
            out.skipped[f"derivative type {itype or '?'}"] += 1
            continue
        root = str(row.get("name", "")).strip().upper()
        try:
            exp = _angel_expiry(str(row.get("expiry", "")))
        except ValueError:
            out.skipped["bad expiry"] += 1
            continue
        derivatives.append((row, kind, exp, root))
    monthly = _monthly_dates((root, exp, kind == "FUT") for _, kind, exp, root in derivatives)
    for row, kind, exp, root in derivatives:
        strike_paise = None
        if kind != "FUT":
            strike_paise = int(_angel_decimal(row.get("strike"), row, "strike"))
        tick = _angel_decimal(row.get("tick_size", "5"), row, "tick_size")
        out.instruments.append(
            Instrument(
                symbol=contract_symbol(root, exp, kind, strike_paise, (root, exp) in monthly),
                token=str(row["token"]).strip(),
                exchange=str(row["exch_seg"]).upper(),
                name=root,
                instrument_type=kind,
                lot_size=int(_angel_decimal(row.get("lotsize", "1"), row, "lotsize")) or 1,
                tick_size_paise=int(tick) if tick > 0 else 5,
                underlying=root,
                expiry=exp.isoformat(),
                strike_paise=strike_paise,
            )
        )
    return out


# ------------------------------------------------------------------------------------------------ Kite
def _rupees_to_paise(value: str, what: str) -> int:
    try:
        return int((Decimal(value.strip() or "0") * 100).to_integral_value())
    except InvalidOperation as exc:
        raise DumpError(f"Kite row: {what}={value!r} is not a number") from exc


def parse_kite(text: str, source: str = "kite") -> ParsedDump:
    out = ParsedDump(source, "kite", [])
    reader = csv.DictReader(io.StringIO(text))
    missing = {"instrument_token", "tradingsymbol", "instrument_type", "segment", "exchange"} - set(
        reader.fieldnames or ()
    )
    if missing:
        raise DumpError(f"not a Kite instruments CSV: missing columns {', '.join(sorted(missing))}")
    for row in reader:
        exchange, segment = row["exchange"].upper(), row["segment"].upper()
        itype, symbol = row["instrument_type"].upper(), row["tradingsymbol"].strip()
        if exchange not in EXCHANGES:
            out.skipped[f"segment {segment or '?'}"] += 1
            continue
        tick = _rupees_to_paise(row.get("tick_size", "0"), "tick_size")
        lot = int(Decimal(row.get("lot_size") or "1")) or 1
        common: dict[str, Any] = {
            "symbol": symbol,
            "token": row["instrument_token"].strip(),
            "exchange": exchange,
        }
        if segment == "INDICES":
            out.instruments.append(
                Instrument(
                    **common, name=row.get("name") or symbol, instrument_type="INDEX", tick_size_paise=5
                )
            )
        elif itype == "EQ" and segment == exchange:
            if "-" in symbol:
                out.skipped[f"cash series {symbol.rsplit('-', 1)[-1]}"] += 1
                continue
            out.instruments.append(
                Instrument(
                    **common,
                    name=row.get("name") or symbol,
                    instrument_type="EQ",
                    lot_size=lot,
                    tick_size_paise=tick or 5,
                )
            )
        elif itype in ("FUT", "CE", "PE") and exchange in ("NFO", "BFO"):
            try:
                exp = date.fromisoformat(row["expiry"].strip())
            except ValueError:
                out.skipped["bad expiry"] += 1
                continue
            root = (row.get("name") or "").strip().upper()
            out.instruments.append(
                Instrument(
                    **common,
                    name=root,
                    instrument_type=itype,
                    lot_size=lot,
                    tick_size_paise=tick or 5,
                    underlying=root,
                    expiry=exp.isoformat(),
                    strike_paise=None if itype == "FUT" else _rupees_to_paise(row["strike"], "strike"),
                )
            )
        else:
            out.skipped[f"type {itype} in {segment}"] += 1
    return out


# ------------------------------------------------------------------------------------------------ loading
def _read_source(source: str) -> tuple[str, str]:
    """(name, text) of a bundled sample, a local path or an http(s) URL."""
    if source.startswith("bundled:"):
        name = source.removeprefix("bundled:")
        return name, resources.files("mantra.data").joinpath(name).read_text()
    if source.startswith(("https://", "http://")):
        with urllib.request.urlopen(source, timeout=60) as resp:  # noqa: S310 - the scheme is checked above
            return source, resp.read().decode("utf-8")
    return source, Path(source).read_text(encoding="utf-8")


def parse_dump(text: str, name: str = "dump") -> ParsedDump:
    """Angel JSON or Kite CSV, told apart by content (not by the file name)."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise DumpError(f"{name}: looks like JSON but does not parse: {exc}") from exc
        if rows and not {"token", "symbol", "exch_seg"} <= set(rows[0]):
            raise DumpError(f"{name}: a JSON array, but not Angel's scrip master (no token/symbol/exch_seg)")
        return parse_angel(rows, name)
    if stripped.startswith("instrument_token"):
        return parse_kite(stripped, name)
    raise DumpError(f"{name}: neither an Angel scrip master (JSON array) nor a Kite instruments CSV")


def load_dump(source: str) -> ParsedDump:
    name, text = _read_source(source or BUNDLED_ANGEL)
    return parse_dump(text, name)


# ------------------------------------------------------------------------------------------------ refresh
class MasterStore(Protocol):
    def all(self) -> list[Instrument]: ...
    def put_many(self, instruments: Iterable[Instrument]) -> int: ...


class RefreshReport(BaseModel):
    source: str
    format: str
    loaded: int
    added: int
    changed: int
    unchanged: int
    written: int
    not_in_dump: int  # kept, never removed blindly (expired contracts age out by their expiry)
    skipped: dict[str, int]
    by_type: dict[str, int]


def refresh(store: MasterStore, dump: ParsedDump, today: date | None = None) -> RefreshReport:
    """Upsert the dump: write only what is new or changed; keep fields the dump lacks (ISIN); remove nothing.

    A contract that expired before ``today`` (the IST session date, from the caller's clock) is skipped: a
    broker's dump of the day lists none, and an old or bundled dump must not bring dead expiries back.
    """
    current = {i.symbol: i for i in store.all()}
    seen: dict[str, Instrument] = {}
    skipped = Counter(dump.skipped)
    cutoff = today.isoformat() if today is not None else None
    for inst in dump.instruments:
        if cutoff is not None and inst.expiry is not None and inst.expiry < cutoff:
            skipped["expired"] += 1
            continue
        old = current.get(inst.symbol)
        # keep every broker's token: the dump adds its own beside those loaded from the other brokers' dumps
        tokens = {**(old.broker_tokens if old else {}), dump.fmt: inst.token}
        inst = inst.model_copy(update={"broker_tokens": tokens, "token": old.token if old else inst.token})
        if old is not None and inst.isin is None and old.isin is not None:
            inst = inst.model_copy(update={"isin": old.isin})
        seen[inst.symbol] = inst  # a symbol listed twice: the last row wins
    added = [i for s, i in seen.items() if s not in current]
    changed = [i for s, i in seen.items() if s in current and current[s] != i]
    written = store.put_many([*added, *changed]) if added or changed else 0
    return RefreshReport(
        source=dump.source,
        format=dump.fmt,
        loaded=len(seen),
        added=len(added),
        changed=len(changed),
        unchanged=len(seen) - len(added) - len(changed),
        written=written,
        not_in_dump=sum(1 for s in current if s not in seen),
        skipped=dict(skipped),
        by_type=dict(Counter(i.instrument_type for i in seen.values())),
    )


# ------------------------------------------------------------------------------------------------ search
class SearchableMaster(Protocol):
    def all(self) -> list[Instrument]: ...
    def by_underlying(self, underlying: str, expiry: str | None = None) -> list[Instrument]: ...


@dataclass(frozen=True)
class InstrumentQuery:
    q: str = ""
    exchange: str | None = None
    instrument_type: str | None = None
    underlying: str | None = None
    expiry: str | None = None
    limit: int = 50


class InstrumentCatalog:
    """Search over an in-process snapshot of the master (reloaded at most once per ``ttl_s``).

    Text search filters the snapshot in memory: no table scan per request. Derivatives of one underlying come
    from the table's ``by_underlying`` index (cached per underlying and expiry for the same TTL), falling back
    to the snapshot if the index is not there yet (a local table created before the index existed).
    """

    def __init__(
        self, store: SearchableMaster, ttl_s: float = 60.0, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._store, self._ttl, self._now = store, ttl_s, now
        self._snapshot: tuple[float, list[Instrument]] | None = None
        self._chains: dict[tuple[str, str | None], tuple[float, list[Instrument]]] = {}
        self._lock = Lock()
        self.loads = 0  # snapshot loads (a test and the bench read this)

    def snapshot(self) -> list[Instrument]:
        with self._lock:
            now = self._now()
            if self._snapshot is None or now - self._snapshot[0] >= self._ttl:
                self._snapshot = (now, sorted(self._store.all(), key=lambda i: i.symbol))
                self.loads += 1
            return self._snapshot[1]

    def derivatives(self, underlying: str, expiry: str | None) -> list[Instrument]:
        key = (underlying, expiry)
        now = self._now()
        hit = self._chains.get(key)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        try:
            rows = self._store.by_underlying(underlying, expiry)
        except Exception:  # the index may be missing on an old local table: use the snapshot
            rows = [
                i
                for i in self.snapshot()
                if i.underlying == underlying and (expiry is None or i.expiry == expiry)
            ]
        self._chains[key] = (now, rows)
        return rows

    def search(self, query: InstrumentQuery) -> list[Instrument]:
        q = query.q.strip().upper()
        underlying = query.underlying.strip().upper() if query.underlying else None
        rows = self.derivatives(underlying, query.expiry) if underlying else self.snapshot()
        exchange = query.exchange.upper() if query.exchange else None
        itype = query.instrument_type.upper() if query.instrument_type else None
        out = [
            i
            for i in rows
            if (exchange is None or i.exchange == exchange)
            and (itype is None or i.instrument_type == itype)
            and (query.expiry is None or i.expiry == query.expiry)
            and (not q or q in i.symbol.upper() or q in i.name.upper())
        ]
        out.sort(key=lambda i: _rank(i, q))
        return out[: query.limit]

    def invalidate(self) -> None:
        with self._lock:
            self._snapshot = None
            self._chains.clear()


_TYPE_ORDER = {"INDEX": 0, "EQ": 1, "FUT": 2, "CE": 3, "PE": 3}


def _rank(i: Instrument, q: str) -> tuple[int, int, str, int, str]:
    s = i.symbol.upper()
    match = 0 if s == q else 1 if s.startswith(q) else 2 if q in s else 3
    return (match, _TYPE_ORDER.get(i.instrument_type, 4), i.expiry or "", i.strike_paise or 0, s)
