"""The instrument master from the brokers' own dumps, normalised to ``Instrument``; refresh and search.

Sources (``Settings.instrument_source``: one, or several separated by commas, the first being the primary):
- Angel One SmartAPI ``OpenAPIScripMaster.json``: a JSON array of rows with ``token, symbol, name, expiry``
  ("28NOV2026"), ``strike`` (paise as a decimal string, "2400000.000000" is 24,000.00), ``lotsize``,
  ``instrumenttype`` (OPTIDX, OPTSTK, FUTIDX, FUTSTK, AMXIDX, "" for cash), ``exch_seg`` (NSE, NFO, BSE, BFO,
  ...) and ``tick_size`` (paise as a decimal string: "5.000000" is 0.05 rupees; -1 on indices).
- Kite Connect ``instruments`` CSV: ``instrument_token, exchange_token, tradingsymbol, name, last_price,
  expiry`` (YYYY-MM-DD), ``strike`` (rupees), ``tick_size`` (rupees: "0.05"), ``lot_size, instrument_type`` (EQ,
  FUT, CE, PE), ``segment`` (NSE, BSE, INDICES, NFO-OPT, ...) and ``exchange``.

Money is converted exactly with ``Decimal``: a tick or strike that is not a whole number of paise is a bad row,
never rounded. A bad row is reported (``RowIssue``: row, column, value, why) and the rest of the dump loads.

Both normalise to the same symbols: cash equities keep the exchange symbol (RELIANCE), indices their NSE name
(NIFTY 50, NIFTY BANK), derivatives the exchange's trading symbol: monthly ``NIFTY26DEC24000CE`` and
``NIFTY26DECFUT``, weekly ``NIFTY26D0124000CE`` (year, month as 1-9/O/N/D, day). Instruments are keyed by
exchange and symbol (``NSE:RELIANCE``, ``BSE:RELIANCE``; see ``mantra.market.instruments``). ``token`` is the
primary broker's subscription token; ``broker_tokens`` holds every broker's: ``angel``, ``kite`` (Kite's
``instrument_token``) and ``kite_exchange`` (Kite's ``exchange_token``).
"""

from __future__ import annotations

import csv
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
from mantra.market.instruments import RESOLVE_ORDER, InstrumentMaster, instrument_key, make_instrument

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
    """The dump is not an Angel scrip master or a Kite instruments CSV (a bad row is a ``RowIssue`` instead)."""


@dataclass(frozen=True)
class RowIssue:
    """One row the dump could not give us: where it is, which column, what it held, and why it is refused.

    ``row`` is the line number in a Kite CSV (the header is line 1) and the 1-based position in Angel's array.
    """

    row: int
    column: str
    value: str
    reason: str

    def describe(self) -> str:
        return f"row {self.row}, column {self.column}, value {self.value!r}: {self.reason}"


class _Bad(Exception):
    """A field of one row is unusable: becomes a ``RowIssue``, the rest of the dump goes on."""

    def __init__(self, column: str, value: object, reason: str) -> None:
        super().__init__(reason)
        self.column, self.value, self.reason = column, "" if value is None else str(value), reason


@dataclass
class ParsedDump:
    source: str
    fmt: str  # "angel" | "kite": also the broker whose tokens the rows carry
    instruments: list[Instrument]
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> rows we do not carry (MCX, BE series)
    issues: list[RowIssue] = field(default_factory=list)  # rows that are malformed
    rows: list[int] = field(default_factory=list)  # the row each instrument came from (for duplicates)


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


# ------------------------------------------------------------------------------------------------ fields
def _decimal(column: str, value: object) -> Decimal:
    text = "" if value is None else str(value).strip()
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise _Bad(column, value, "not a number") from None
    if not d.is_finite():
        raise _Bad(column, value, "not a finite number")
    return d


def _whole(column: str, d: Decimal, value: object, unit: str) -> int:
    if d != d.to_integral_value():
        raise _Bad(column, value, f"not a whole number of {unit}")
    return int(d)


def _paise_from_rupees(column: str, value: object) -> int:
    """Kite's rupee figures ("0.05", "23850.0") to paise, exactly: 0.033 rupees is refused, not rounded."""
    return _whole(column, _decimal(column, value) * 100, value, "paise")


def _paise(column: str, value: object) -> int:
    """Angel's paise figures ("5.000000", "2385000.000000") to int paise, exactly."""
    return _whole(column, _decimal(column, value), value, "paise")


def _positive(column: str, value: object, n: int) -> int:
    if n <= 0:
        raise _Bad(column, value, "must be positive")
    return n


def _lot(column: str, value: object) -> int:
    return _positive(column, value, _whole(column, _decimal(column, value), value, "units"))


def _token(column: str, value: object) -> str:
    text = "" if value is None else str(value).strip()
    if not text.isdigit():
        raise _Bad(column, value, "a token is digits")
    return text


# ------------------------------------------------------------------------------------------------ Angel
_ANGEL_COLUMNS = ("token", "symbol", "name", "expiry", "strike", "lotsize", "instrumenttype", "exch_seg")


def _angel_expiry(value: object) -> date:
    try:
        return datetime.strptime(str(value).strip().upper(), "%d%b%Y").date()
    except ValueError:
        raise _Bad("expiry", value, "not a date like 28NOV2026") from None


@dataclass(frozen=True)
class _AngelContract:
    row: int
    token: str
    exchange: str
    kind: str
    root: str
    expiry: date
    strike_paise: int | None
    lot: int
    tick: int


def _angel_row(n: int, row: Any) -> Instrument | _AngelContract | str:
    """One Angel row: a cash/index instrument, a contract (named in a second pass), or a skip reason."""
    if not isinstance(row, dict):
        raise _Bad("(row)", str(row)[:40], "not a JSON object")
    missing = [c for c in _ANGEL_COLUMNS if c not in row]
    if missing:
        raise _Bad(missing[0], None, "missing")
    seg = str(row["exch_seg"]).strip().upper()
    if seg not in EXCHANGES:
        return f"segment {seg or '?'}"
    itype = str(row["instrumenttype"]).strip().upper()
    symbol = str(row["symbol"]).strip()
    if not symbol:
        raise _Bad("symbol", row["symbol"], "empty")
    token = _token("token", row["token"])
    tokens = {"angel": token}
    if seg in ("NSE", "BSE"):
        if itype == "AMXIDX":  # indices do not trade: Angel gives tick -1, we keep the 5-paise default
            name = str(row.get("name") or symbol).strip()
            return make_instrument(
                symbol=symbol.upper(), token=token, exchange=seg, name=name, instrument_type="INDEX",
                broker_tokens=tokens,
            )  # fmt: skip
        if itype == "" and (symbol.endswith("-EQ") or seg == "BSE"):
            return make_instrument(
                symbol=symbol.removesuffix("-EQ"), token=token, exchange=seg,
                name=str(row.get("name") or symbol).strip(), instrument_type="EQ",
                lot_size=_lot("lotsize", row["lotsize"]),
                tick_size_paise=_positive("tick_size", row.get("tick_size"), _paise("tick_size", row.get("tick_size"))),
                broker_tokens=tokens,
            )  # fmt: skip
        return f"cash series {symbol.rsplit('-', 1)[-1] if '-' in symbol else itype}"
    if itype.startswith("FUT"):
        kind = "FUT"
    elif itype.startswith("OPT") and symbol[-2:] in ("CE", "PE"):
        kind = symbol[-2:]
    else:
        return f"derivative type {itype or '?'}"
    root = str(row["name"]).strip().upper()
    if not root:
        raise _Bad("name", row["name"], "a contract needs its underlying")
    strike = None
    if kind != "FUT":
        strike = _positive("strike", row["strike"], _paise("strike", row["strike"]))
    tick = row.get("tick_size")
    return _AngelContract(
        row=n, token=token, exchange=seg, kind=kind, root=root, expiry=_angel_expiry(row["expiry"]),
        strike_paise=strike, lot=_lot("lotsize", row["lotsize"]),
        tick=_positive("tick_size", tick, _paise("tick_size", tick)),
    )  # fmt: skip


def parse_angel(rows: Sequence[Any], source: str = "angel") -> ParsedDump:
    out = ParsedDump(source, "angel", [])
    contracts: list[_AngelContract] = []
    for n, row in enumerate(rows, start=1):
        try:
            got = _angel_row(n, row)
        except _Bad as bad:
            out.issues.append(RowIssue(n, bad.column, bad.value, bad.reason))
            continue
        if isinstance(got, str):
            out.skipped[got] += 1
        elif isinstance(got, _AngelContract):
            contracts.append(got)
        else:
            out.instruments.append(got)
            out.rows.append(n)
    # Angel's symbols put the day in every contract; ours are the exchange's, which tell monthlies apart
    monthly = _monthly_dates((c.root, c.expiry, c.kind == "FUT") for c in contracts)
    for c in contracts:
        out.instruments.append(
            make_instrument(
                symbol=contract_symbol(c.root, c.expiry, c.kind, c.strike_paise, (c.root, c.expiry) in monthly),
                token=c.token, exchange=c.exchange, name=c.root, instrument_type=c.kind, lot_size=c.lot,
                tick_size_paise=c.tick, underlying=c.root, expiry=c.expiry.isoformat(),
                strike_paise=c.strike_paise, broker_tokens={"angel": c.token},
            )
        )  # fmt: skip
        out.rows.append(c.row)
    return out


# ------------------------------------------------------------------------------------------------ Kite
_KITE_COLUMNS: tuple[str, ...] = (
    "instrument_token", "exchange_token", "tradingsymbol", "name", "expiry", "strike", "tick_size", "lot_size",
    "instrument_type", "segment", "exchange",
)  # fmt: skip


def _kite_row(row: dict[str | None, Any]) -> Instrument | str:
    if None in row:
        raise _Bad("(row)", ",".join(row[None]), "more fields than the header")
    short = [c for c in _KITE_COLUMNS if row.get(c) is None]
    if short:
        raise _Bad(short[0], None, "missing: fewer fields than the header")
    exchange, segment = row["exchange"].strip().upper(), row["segment"].strip().upper()
    if exchange not in EXCHANGES:
        return f"segment {segment or '?'}"
    itype, symbol = row["instrument_type"].strip().upper(), row["tradingsymbol"].strip()
    if not symbol:
        raise _Bad("tradingsymbol", symbol, "empty")
    token = _token("instrument_token", row["instrument_token"])
    tokens = {"kite": token, "kite_exchange": _token("exchange_token", row["exchange_token"])}
    name = row["name"].strip()
    if segment == "INDICES":  # indices do not trade: Kite gives tick 0, lot 0
        return make_instrument(
            symbol=symbol, token=token, exchange=exchange, name=name or symbol, instrument_type="INDEX",
            broker_tokens=tokens,
        )  # fmt: skip
    if itype == "EQ" and segment == exchange:
        if "-" in symbol:
            return f"cash series {symbol.rsplit('-', 1)[-1]}"
        return make_instrument(
            symbol=symbol, token=token, exchange=exchange, name=name or symbol, instrument_type="EQ",
            lot_size=_lot("lot_size", row["lot_size"]),
            tick_size_paise=_positive("tick_size", row["tick_size"], _paise_from_rupees("tick_size", row["tick_size"])),
            broker_tokens=tokens,
        )  # fmt: skip
    if itype in ("FUT", "CE", "PE") and exchange in ("NFO", "BFO"):
        try:
            exp = date.fromisoformat(row["expiry"].strip())
        except ValueError:
            raise _Bad("expiry", row["expiry"], "not a date like 2026-12-29") from None
        root = name.upper()
        if not root:
            raise _Bad("name", name, "a contract needs its underlying")
        strike = None
        if itype != "FUT":
            strike = _positive("strike", row["strike"], _paise_from_rupees("strike", row["strike"]))
        return make_instrument(
            symbol=symbol, token=token, exchange=exchange, name=root, instrument_type=itype,
            lot_size=_lot("lot_size", row["lot_size"]),
            tick_size_paise=_positive("tick_size", row["tick_size"], _paise_from_rupees("tick_size", row["tick_size"])),
            underlying=root, expiry=exp.isoformat(), strike_paise=strike, broker_tokens=tokens,
        )  # fmt: skip
    return f"type {itype} in {segment}"


def parse_kite(text: str, source: str = "kite") -> ParsedDump:
    out = ParsedDump(source, "kite", [])
    # lines, not io.StringIO: StringIO holds the text again at 4 bytes a character (~90 MB for a full dump)
    reader = csv.DictReader(text.splitlines(keepends=True))
    missing = set(_KITE_COLUMNS) - set(reader.fieldnames or ())
    if missing:
        raise DumpError(f"not a Kite instruments CSV: missing columns {', '.join(sorted(missing))}")
    for row in reader:
        try:
            got = _kite_row(row)
        except _Bad as bad:
            out.issues.append(RowIssue(reader.line_num, bad.column, bad.value, bad.reason))
            continue
        if isinstance(got, str):
            out.skipped[got] += 1
        else:
            out.instruments.append(got)
            out.rows.append(reader.line_num)
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
        first = next((r for r in rows if isinstance(r, dict)), None)
        if rows and (first is None or not {"token", "symbol", "exch_seg"} <= set(first)):
            raise DumpError(f"{name}: a JSON array, but not Angel's scrip master (no token/symbol/exch_seg)")
        return parse_angel(rows, name)
    if stripped.startswith("instrument_token"):
        return parse_kite(stripped, name)
    raise DumpError(f"{name}: neither an Angel scrip master (JSON array) nor a Kite instruments CSV")


def load_dump(source: str) -> ParsedDump:
    name, text = _read_source(source or BUNDLED_ANGEL)
    return parse_dump(text, name)


def load_dumps(sources: str) -> list[ParsedDump]:
    """Every dump a comma-separated ``instrument_source`` names, the first (primary) first."""
    names = [s.strip() for s in (sources or BUNDLED_ANGEL).split(",") if s.strip()]
    return [load_dump(s) for s in names]


@dataclass
class MergedDumps:
    """Several brokers' dumps as one master, with what each dump could not give us."""

    master: InstrumentMaster
    dumps: list[ParsedDump]
    duplicates: list[tuple[str, RowIssue]] = field(default_factory=list)  # (source, issue)

    @property
    def issues(self) -> list[tuple[str, RowIssue]]:
        return [(d.source, i) for d in self.dumps for i in d.issues] + self.duplicates


def merge_dumps(dumps: Sequence[ParsedDump]) -> MergedDumps:
    """One master from every dump; a key a dump lists twice is a row issue (the first row is kept)."""
    master = InstrumentMaster()
    merged = MergedDumps(master, list(dumps))
    for dump in dumps:
        first_row: dict[str, int] = {}
        rows = dump.rows if len(dump.rows) == len(dump.instruments) else [0] * len(dump.instruments)
        for inst, row in zip(dump.instruments, rows, strict=True):
            key = instrument_key(inst)
            if not master.add(inst, dump.fmt):
                column = "symbol" if dump.fmt == "angel" else "tradingsymbol"
                again = RowIssue(
                    row, column, inst.symbol, f"{key} again (first on row {first_row.get(key, 0)})"
                )
                merged.duplicates.append((dump.source, again))
            else:
                first_row.setdefault(key, row)
    return merged


# ------------------------------------------------------------------------------------------------ refresh
class MasterStore(Protocol):
    def all(self) -> list[Instrument]: ...
    def put_many(self, instruments: Iterable[Instrument]) -> int: ...


MAX_LISTED = 200  # issues and conflicts listed in a report (all are counted): a log line stays readable


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
    by_exchange: dict[str, int] = {}
    bad_rows: int = 0
    issues: list[str] = []  # "<source>: row 17, column tick_size, value '0.033': not a whole number of paise"
    conflicts: int = 0
    conflict_list: list[str] = []  # "NFO:NIFTY26DECFUT: lot_size differs (angel says 75, kite says 65)"


def refresh(
    store: MasterStore, dumps: ParsedDump | Sequence[ParsedDump], today: date | None = None
) -> RefreshReport:
    """Upsert the dumps: write only what is new or changed; keep fields the dump lacks (ISIN); remove nothing.

    Instruments are keyed by exchange and symbol (``NSE:RELIANCE`` and ``BSE:RELIANCE`` are both kept). Given
    several brokers' dumps, each instrument carries every broker's token; where they disagree on lot or tick
    size the first dump's value is kept and the disagreement is listed in ``conflicts``.

    A contract that expired before ``today`` (the IST session date, from the caller's clock) is skipped: a
    broker's dump of the day lists none, and an old or bundled dump must not bring dead expiries back.
    """
    parsed = [dumps] if isinstance(dumps, ParsedDump) else list(dumps)
    merged = merge_dumps(parsed)
    current = {instrument_key(i): i for i in store.all()}
    seen: dict[str, Instrument] = {}
    skipped: Counter[str] = Counter()
    for d in parsed:
        skipped.update(d.skipped)
    cutoff = today.isoformat() if today is not None else None
    for inst in merged.master:
        if cutoff is not None and inst.expiry is not None and inst.expiry < cutoff:
            skipped["expired"] += 1
            continue
        key = instrument_key(inst)
        old = current.get(key)
        if old is not None:
            # keep every broker's token (the dump adds its own beside the other brokers'), the first token and
            # the ISIN; copy only when that changes something (a full dump is ~150,000 instruments)
            tokens = {**old.broker_tokens, **inst.broker_tokens}
            update: dict[str, Any] = {}
            if tokens != inst.broker_tokens:
                update["broker_tokens"] = tokens
            if old.token != inst.token:
                update["token"] = old.token
            if inst.isin is None and old.isin is not None:
                update["isin"] = old.isin
            if update:
                inst = inst.model_copy(update=update)
        seen[key] = inst
    added = [i for k, i in seen.items() if k not in current]
    changed = [i for k, i in seen.items() if k in current and current[k] != i]
    written = store.put_many([*added, *changed]) if added or changed else 0
    issues = merged.issues
    conflicts = merged.master.conflicts
    return RefreshReport(
        source=",".join(d.source for d in parsed),
        format="+".join(d.fmt for d in parsed),
        loaded=len(seen),
        added=len(added),
        changed=len(changed),
        unchanged=len(seen) - len(added) - len(changed),
        written=written,
        not_in_dump=sum(1 for k in current if k not in seen),
        skipped=dict(skipped),
        by_type=dict(Counter(i.instrument_type for i in seen.values())),
        by_exchange=dict(Counter(i.exchange for i in seen.values())),
        bad_rows=len(issues),
        issues=[f"{src}: {i.describe()}" for src, i in issues[:MAX_LISTED]],
        conflicts=len(conflicts),
        conflict_list=[c.describe() for c in conflicts[:MAX_LISTED]],
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
                self._snapshot = (now, sorted(self._store.all(), key=lambda i: (i.symbol, i.exchange)))
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


_EXCHANGE_ORDER = {e: n for n, e in enumerate(RESOLVE_ORDER)}


def _rank(i: Instrument, q: str) -> tuple[int, int, str, int, str, int]:
    s = i.symbol.upper()
    match = 0 if s == q else 1 if s.startswith(q) else 2 if q in s else 3
    return (
        match, _TYPE_ORDER.get(i.instrument_type, 4), i.expiry or "", i.strike_paise or 0, s,
        _EXCHANGE_ORDER.get(i.exchange, 9),  # NSE:RELIANCE before BSE:RELIANCE
    )  # fmt: skip
