"""End-of-day history load, the whole command a user runs, on the exchange's real files.

    .venv/bin/python bench/bench_eod_load.py             # the 80 equity sessions in ../shared/data/nse/equity
    .venv/bin/python bench/bench_eod_load.py --files 10  # the first 10 only

Starts the local stand-ins on free ports (in memory), provisions the tables, then times, in the same run:
- **ours, whole command**: ``mantra history load <folder>`` as a subprocess (parse every file, recognise its
  layout, build every symbol's and series' 1d candle, write them all to DynamoDB Local), wall clock;
- **ours, parse only**: ``parse_report`` over the same files in this process;
- **pandas**: ``pandas.read_csv(..., skipinitialspace=True)`` over the same files (parsing only: pandas
  has no store to write to; the comparison for the parse step is the fair one).
Then loads the same files again (recognised as loaded: skipped), and again with ``--force`` (every item
rewritten with the same values: the item count does not change).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _files(folder: Path, n: int | None) -> list[Path]:
    files = sorted(
        folder.glob("sec_bhavdata_full_*.csv"), key=lambda p: datetime.strptime(p.stem[-8:], "%d%m%Y")
    )
    return files[:n] if n else files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=None, help="only the first N sessions")
    ap.add_argument("--data", type=Path, default=None, help="folder of full bhavcopies")
    args = ap.parse_args()

    from mantra.devtools import bootstrap, standins
    from mantra.devtools.nse_data import nse_reports_dir
    from mantra.settings import Settings, get_settings
    from mantra.store import aws, tables

    folder = args.data or (nse_reports_dir(Settings()) or Path("missing")) / "equity"
    files = _files(folder, args.files)
    if not files:
        sys.exit(f"no sec_bhavdata_full_*.csv files in {folder}")
    work = Path(tempfile.mkdtemp(prefix="bench-eod-"))
    load_dir = work / "reports"
    load_dir.mkdir()
    for f in files:
        (load_dir / f.name).symlink_to(f.resolve())

    ports = {
        k: standins.free_port()
        for k in ("dynamodb_port", "kinesis_port", "moto_port", "smtp_port", "stripe_port")
    }
    base = Settings(data_dir=work, standins_dir=REPO / ".standins", stage="bench", **ports)  # type: ignore[arg-type]
    env = {
        **standins.endpoint_env(base),
        **standins.local_settings_env(base),
        "MANTRA_STAGE": "bench",
        **{f"MANTRA_{k.upper()}": str(v) for k, v in ports.items()},
    }
    os.environ.update(env)
    get_settings.cache_clear()
    aws.client.cache_clear()
    settings = Settings()
    print(f"starting stand-ins for {len(files)} sessions ...", flush=True)
    procs = standins.start_all(settings, in_memory=True, log_dir=work / "logs")
    try:
        bootstrap.provision(settings)
        tables.configure(settings)
        mantra = [sys.executable, "-m", "mantra.cli.main", "history", "load", str(load_dir)]
        t0 = time.perf_counter()
        first = subprocess.run(mantra, env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True)
        ours = time.perf_counter() - t0
        if first.returncode != 0:
            sys.exit(first.stdout + first.stderr)
        t0 = time.perf_counter()
        subprocess.run(mantra, env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True)
        rerun = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run(
            [*mantra, "--force"], env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True
        )
        forced = time.perf_counter() - t0

        from mantra.market.nse import parse_report

        t0 = time.perf_counter()
        rows = sum(len(parse_report(f).rows) for f in files)
        parse = time.perf_counter() - t0

        import pandas as pd

        t0 = time.perf_counter()
        peer_rows = sum(len(pd.read_csv(f, skipinitialspace=True)) for f in files)
        peer = time.perf_counter() - t0

        from mantra.store.models import CandleItem

        stored = CandleItem.count()
    finally:
        standins.stop_all(procs)
    print(first.stdout.strip().splitlines()[-1] if first.stdout.strip() else "")
    print(f"{'case':<52} {'seconds':>9}")
    print(f"{'ours: mantra history load (parse + write), whole':<52} {ours:>9.2f}")
    print(f"{'ours: the same load again (files known: skipped)':<52} {rerun:>9.2f}")
    print(f"{'ours: again with --force (same items rewritten)':<52} {forced:>9.2f}")
    print(f"{'ours: parse_report only, ' + str(rows) + ' rows':<52} {parse:>9.2f}")
    print(f"{'pandas.read_csv only, ' + str(peer_rows) + ' rows':<52} {peer:>9.2f}")
    print(f"candles stored: {stored:,} (after three loads)")


if __name__ == "__main__":
    main()
