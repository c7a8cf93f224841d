"""The instrument master's daily load, the whole path ``instrument_refresh`` runs, on a full-size Kite dump.

    .venv/bin/python bench/bench_instrument_master.py              # ~150,000 rows
    .venv/bin/python bench/bench_instrument_master.py --rows 50000

The dump (Kite's ``instruments`` CSV, written to a temp file) is built from the exchange's real files in
``../shared/data/nse``: every F&O contract of the ten F&O bhavcopies (real symbols, expiries, strikes, lot
sizes and exchange tokens, ``FinInstrmId``), each series' strike ladder carried into the next months' expiries
until the row target is met; every security of the latest equity bhavcopy on NSE (other series as ``-BE`` rows,
which Kite lists and we skip) and its EQ names again on BSE, side by side; the NSE indices; SENSEX/BANKEX
options on BFO; and MCX/CDS rows we do not carry. Kite's instrument_token is exchange_token * 256 + segment.

Timed, each in a fresh interpreter so its peak RSS is its own:
- **function, in-memory store**: ``load_dumps`` (read + parse) + ``refresh`` (merge, diff, write) into a dict
  store: the function's own CPU and memory (in Lambda the table lives in DynamoDB, not in the process); then the
  daily steady state (the same dump again: every row read back and compared, nothing written);
- **function, moto DynamoDB**: the same through the real ``DynamoInstrumentRepository`` (PynamoDB batch writes,
  a full scan) on moto's in-process DynamoDB; its RSS includes moto holding the whole table;
- **pandas**: ``pandas.read_csv`` of the same file (parsing only, no validation, no store), the peer figure.
Peak memory is compared with the function's configured memory and time with its timeout (the catalog's
``FunctionSpec``, which ``infra/constructs/compute.py`` turns into the Lambda's ``memory_size``/``timeout``).
"""

from __future__ import annotations

import argparse
import calendar
import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TODAY = date(2025, 2, 14)  # the session of the last F&O bhavcopy: every contract in the dump is live on it
HEADER = (
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,"
    "instrument_type,segment,exchange"
)
SEGMENT_CODE = {"NSE": 1, "NFO": 2, "CDS": 3, "BSE": 4, "BFO": 5, "MCX": 7, "INDICES": 9}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


# ------------------------------------------------------------------------------------------------ the dump
def _rss_kb() -> int:
    """This process's peak RSS. VmHWM, not getrusage's ru_maxrss: that one survives exec, so a child started
    from this (large) parent would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def _equity_tick(price: Decimal) -> str:
    """NSE's price-banded tick (2025): 0.01 under 250, 0.05 to 1,000, 0.10 to 5,000, then coarser."""
    for limit, tick in ((250, "0.01"), (1000, "0.05"), (5000, "0.10"), (10000, "0.50"), (20000, "1.00")):
        if price < limit:
            return tick
    return "5.00"


def _last_thursday(year: int, month: int) -> date:
    d = date(year, month, calendar.monthrange(year, month)[1])
    return d - timedelta(days=(d.weekday() - 3) % 7)


def _strike_text(strike: Decimal) -> str:
    return format(strike.normalize(), "f")


def _fo_contracts(data: Path) -> dict[str, dict[str, str]]:
    """Every contract of the ten F&O bhavcopies, by its exchange token, as the latest session lists it.

    A contract can change token between sessions (GAIL's April options did): the latest token is the one a
    dump of the day would carry, so the union is by trading symbol, newest last.
    """
    by_name: dict[str, dict[str, str]] = {}
    for path in sorted((data / "fo").glob("BhavCopy_NSE_FO_*.csv.zip")):
        with zipfile.ZipFile(path) as z:
            text = z.read(z.namelist()[0]).decode()
        for r in csv.DictReader(io.StringIO(text)):
            by_name[r["FinInstrmNm"]] = r
    return {r["FinInstrmId"]: r for r in by_name.values()}


def _kite_row(token: int, segment: str, exchange: str, *fields: object) -> str:
    code = SEGMENT_CODE["INDICES" if segment == "INDICES" else exchange]
    return ",".join([str(token * 256 + code), str(token), *map(str, fields), segment, exchange])


def build_dump(target_rows: int, data: Path) -> list[str]:
    rows: list[str] = []
    # cash: the latest equity bhavcopy, NSE, and its EQ names on BSE beside them
    latest = max(
        (data / "equity").glob("sec_bhavdata_full_*.csv"), key=lambda p: (p.stem[-4:], p.stem[-6:-4])
    )
    eq: list[tuple[str, Decimal]] = []
    with latest.open() as f:
        for n, r in enumerate(csv.DictReader(f, skipinitialspace=True)):
            sym, series, close = r["SYMBOL"].strip(), r["SERIES"].strip(), Decimal(r["CLOSE_PRICE"].strip())
            name = sym if series == "EQ" else f"{sym}-{series}"
            rows.append(
                _kite_row(100_000 + n, "NSE", "NSE", name, sym, close, "", 0, _equity_tick(close), 1, "EQ")
            )
            if series == "EQ":
                eq.append((sym, close))
    for n, (sym, close) in enumerate(eq):
        rows.append(_kite_row(500_000 + n, "BSE", "BSE", sym, sym, close, "", 0, "0.05", 1, "EQ"))
    with (data / "index_constituents.csv").open() as f:
        indices = sorted({r["INDICES"].strip() for r in csv.DictReader(f)})
    for n, name in enumerate([*indices, "NIFTY FIN SERVICE", "NIFTY MID SELECT"]):
        rows.append(_kite_row(1_000 + n, "INDICES", "NSE", name, name, 0, "", 0, 0, 0, "EQ"))
    for n, name in enumerate(("SENSEX", "BANKEX")):
        rows.append(_kite_row(1 + n, "INDICES", "BSE", name, name, 0, "", 0, 0, 0, "EQ"))
    # derivatives: every real contract, then each series' ladder carried into later monthly expiries
    contracts = _fo_contracts(data)
    series: dict[str, list[dict[str, str]]] = {}
    for token, r in contracts.items():
        kind = r["OptnTp"] or "FUT"
        strike = "0" if kind == "FUT" else r["StrkPric"]
        rows.append(
            _kite_row(int(token), f"NFO-{'FUT' if kind == 'FUT' else 'OPT'}", "NFO", r["FinInstrmNm"],
                      r["TckrSymb"], 0, r["XpryDt"], strike, "0.05", r["NewBrdLotQty"], kind)
        )  # fmt: skip
        series.setdefault(r["TckrSymb"], []).append(r)
    next_token = max(int(t) for t in contracts) + 1
    extra_months = 1
    bfo_token = 1_100_000
    while len(rows) < target_rows * 0.9 and extra_months <= 24:
        for sym, rs in sorted(series.items()):
            last = max(r["XpryDt"] for r in rs)
            ladder = [r for r in rs if r["XpryDt"] == last]
            y, m = divmod(date.fromisoformat(last).month - 1 + extra_months, 12)
            exp = _last_thursday(date.fromisoformat(last).year + y, m + 1)
            for r in ladder:
                kind = r["OptnTp"] or "FUT"
                yy, mon = f"{exp.year % 100:02d}", MONTHS[exp.month - 1]
                if kind == "FUT":
                    symbol, strike = f"{sym}{yy}{mon}FUT", "0"
                else:
                    strike = r["StrkPric"]
                    symbol = f"{sym}{yy}{mon}{_strike_text(Decimal(strike))}{kind}"
                seg = f"NFO-{'FUT' if kind == 'FUT' else 'OPT'}"
                rows.append(
                    _kite_row(next_token, seg, "NFO", symbol, sym, 0, exp.isoformat(), strike, "0.05",
                              r["NewBrdLotQty"], kind)
                )  # fmt: skip
                next_token += 1
        extra_months += 1
    # BSE's index options (SENSEX lot 20, BANKEX lot 30), weekly, on Fridays
    friday = TODAY + timedelta(days=(4 - TODAY.weekday()) % 7)
    w = 0
    while len(rows) < target_rows * 0.95:
        exp = friday + timedelta(weeks=w)
        for root, spot, step, lot in (("SENSEX", 76_000, 100, 20), ("BANKEX", 55_000, 100, 30)):
            for k in range(-150, 151):
                strike = spot + k * step
                for kind in ("CE", "PE"):
                    yy, mm = f"{exp.year % 100:02d}", "123456789OND"[exp.month - 1]
                    symbol = f"{root}{yy}{mm}{exp.day:02d}{strike}{kind}"
                    rows.append(
                        _kite_row(bfo_token, "BFO", "BFO", symbol, root, 0, exp.isoformat(), strike, "0.05", lot,
                                  kind)
                    )  # fmt: skip
                    bfo_token += 1
        w += 1
    # segments we do not carry (commodities, currency), as a full dump lists them
    n = 0
    while len(rows) < target_rows:
        exp = _last_thursday(2025 + n // 600 % 2, 3 + n // 1200 % 9)
        seg = "MCX" if n % 2 else "CDS"
        rows.append(
            _kite_row(200_000 + n, seg, seg, f"GOLD{n}", "GOLD", 0, exp.isoformat(), 0, "1", 1, "FUT")
        )
        n += 1
    return rows[:target_rows]


# ------------------------------------------------------------------------------------------------ phases
class DictStore:
    """A table held in the process, as compact as a remote one: each item a JSON string, read back into a
    validated ``Instrument`` per item as ``DynamoInstrumentRepository.all`` builds one per scanned item. Its
    own footprint (``held_mb``) is reported, so what remains is the function's."""

    def __init__(self) -> None:
        from mantra.domain import Instrument
        from mantra.market.instruments import storage_key

        self.items: dict[str, bytes] = {}
        self._key, self._cls = storage_key, Instrument

    def all(self) -> list[Any]:
        return [self._cls.model_validate_json(v) for v in self.items.values()]

    def put_many(self, instruments: Iterable[Any]) -> int:
        n = 0
        for i in instruments:
            self.items[self._key(i)] = i.model_dump_json().encode()
            n += 1
        return n

    def held_mb(self) -> float:
        return (sum(len(v) + 33 for v in self.items.values()) + 100 * len(self.items)) / 2**20


def _phase_function(path: str, store_kind: str) -> dict[str, object]:
    from mantra.market.instrument_master import load_dumps, refresh

    if store_kind == "moto":
        for var in [v for v in os.environ if v.startswith("AWS_ENDPOINT_URL")]:
            del os.environ[var]
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(var, "moto")  # moto takes any credentials
        from moto import mock_aws

        mock = mock_aws()
        mock.start()
        from mantra.settings import Settings
        from mantra.store import tables
        from mantra.store.repositories import DynamoInstrumentRepository

        tables.create_all(Settings())
        store: object = DynamoInstrumentRepository()
    else:
        store = DictStore()
    base_kb = _rss_kb()
    t0 = time.perf_counter()
    dumps = load_dumps(path)
    t1 = time.perf_counter()
    first = refresh(store, dumps, TODAY)  # type: ignore[arg-type]
    t2 = time.perf_counter()
    peak_kb = _rss_kb()
    del dumps
    t3 = time.perf_counter()
    second = refresh(store, load_dumps(path), TODAY)  # type: ignore[arg-type]
    t4 = time.perf_counter()
    return {
        "parse_s": t1 - t0, "first_s": t2 - t0, "second_s": t4 - t3, "base_mb": base_kb / 1024,
        "peak_mb": peak_kb / 1024, "peak_all_mb": _rss_kb() / 1024, "loaded": first.loaded,
        "written": first.written, "written_again": second.written, "skipped": sum(first.skipped.values()),
        "bad_rows": first.bad_rows, "by_exchange": first.by_exchange, "by_type": first.by_type,
        "held_mb": store.held_mb() if isinstance(store, DictStore) else 0.0,
    }  # fmt: skip


def _phase_pandas(path: str) -> dict[str, object]:
    import pandas as pd

    base_kb = _rss_kb()
    t0 = time.perf_counter()
    df = pd.read_csv(path)
    t1 = time.perf_counter()
    return {"parse_s": t1 - t0, "rows": len(df), "base_mb": base_kb / 1024, "peak_mb": _rss_kb() / 1024}


def _child(phase: str, path: str) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--phase", phase, "--file", path]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=REPO)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=150_000)
    ap.add_argument("--moto-rows", type=int, default=5_000, help="rows (every k-th of the dump) run on moto")
    ap.add_argument("--phase", choices=("memory", "moto", "pandas"), help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        got = _phase_pandas(args.file) if args.phase == "pandas" else _phase_function(args.file, args.phase)
        print(json.dumps(got))
        return

    from mantra.catalog import function
    from mantra.devtools.nse_data import nse_reports_dir
    from mantra.settings import Settings

    data = nse_reports_dir(Settings())
    if data is None:
        sys.exit("no shared/data/nse folder beside this checkout (or set MANTRA_NSE_DATA_DIR)")
    spec = function("instrument_refresh")
    t0 = time.perf_counter()
    rows = build_dump(args.rows, data)
    with tempfile.NamedTemporaryFile("w", suffix=".csv", prefix="kite-instruments-", delete=False) as f:
        f.write(HEADER + "\n" + "\n".join(rows) + "\n")
    path = f.name
    # moto's in-process DynamoDB takes minutes for 150,000 items: it runs on an even sample of the same rows
    step = max(1, len(rows) // max(1, args.moto_rows))
    with tempfile.NamedTemporaryFile("w", suffix=".csv", prefix="kite-sample-", delete=False) as f:
        f.write(HEADER + "\n" + "\n".join(rows[::step]) + "\n")
    moto_path = f.name
    size_mb = os.path.getsize(path) / 1e6
    print(
        f"dump: {len(rows):,} Kite rows, {size_mb:.1f} MB, built in {time.perf_counter() - t0:.1f} s ({path})"
    )
    print(f"instrument_refresh configured: {spec.memory_mb} MB memory, {spec.timeout_s} s timeout\n")
    try:
        mem = _child("memory", path)
        moto = _child("moto", moto_path)
        peer = _child("pandas", path)
    finally:
        os.unlink(path)
        os.unlink(moto_path)
    print(f"loaded {mem['loaded']:,} instruments ({mem['by_exchange']}), {mem['skipped']:,} rows skipped "
          f"(other segments, -BE series), {mem['bad_rows']} bad rows; types {mem['by_type']}")  # fmt: skip
    print("| case | time | vs timeout | peak RSS (process) | vs memory |")
    print("|---|---|---|---|---|")

    def line(name: str, seconds: float, peak: float) -> None:
        print(f"| {name} | {seconds:.2f} s | {100 * seconds / spec.timeout_s:.1f} % of {spec.timeout_s} s "
              f"| {peak:.0f} MB | {100 * peak / spec.memory_mb:.0f} % of {spec.memory_mb} MB |")  # fmt: skip

    line("ours, parse only (read + validate + Instrument)", float(mem["parse_s"]), float(mem["peak_mb"]))  # type: ignore[arg-type]
    line("ours, whole load, in-memory store (first day)", float(mem["first_s"]), float(mem["peak_mb"]))  # type: ignore[arg-type]
    line(
        "ours, whole load, in-memory store (next day, unchanged)",
        float(mem["second_s"]),
        float(mem["peak_all_mb"]),
    )  # type: ignore[arg-type]
    line(
        f"ours, whole load, moto DynamoDB, every {step}th row (first day, {moto['written']:,} items written)",
        float(moto["first_s"]),
        float(moto["peak_mb"]),
    )  # type: ignore[arg-type]
    line(
        f"ours, whole load, moto DynamoDB, every {step}th row (next day, {moto['written_again']} written)",
        float(moto["second_s"]),
        float(moto["peak_all_mb"]),
    )  # type: ignore[arg-type]
    line(
        f"pandas.read_csv, same file ({peer['rows']:,} rows, parse only)",
        float(peer["parse_s"]),
        float(peer["peak_mb"]),
    )  # type: ignore[arg-type]
    per_item_ms = (
        1000 * (float(moto["first_s"]) - float(mem["first_s"]) / step) / max(1, int(moto["written"]))
    )  # type: ignore[arg-type]
    print(f"\ninterpreter + imports before the load: ours {mem['base_mb']:.0f} MB, with moto {moto['base_mb']:.0f} MB,"
          f" pandas {peer['base_mb']:.0f} MB; the in-memory table itself holds ~{mem['held_mb']:.0f} MB")  # fmt: skip
    print(f"moto store cost: {per_item_ms:.2f} ms per item written beyond the in-memory load "
          f"(x {mem['written']:,} items = {per_item_ms * int(mem['written']) / 1000:.0f} s if the full dump went to moto)")  # type: ignore[arg-type]  # fmt: skip


if __name__ == "__main__":
    main()
