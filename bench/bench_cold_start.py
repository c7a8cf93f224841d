"""Cold start of each function: a fresh interpreter imports the handler module and runs its init phase,
as Lambda's init does (network clients excluded: they point at nothing here). Also the layer's size."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import time, importlib, json, sys
t0 = time.perf_counter()
mod = importlib.import_module(sys.argv[1])
t1 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1000}))
"""


def measure(module: str, runs: int = 5) -> float:
    times = []
    env = {**os.environ, "AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "ap-south-1"}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE, module],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            check=True,
        )
        times.append(json.loads(out.stdout.strip().splitlines()[-1])["import_ms"])
    return statistics.median(times)


def dir_size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    sys.path.insert(0, str(REPO / "layers" / "core"))
    from mantra.catalog import FUNCTIONS

    bare = measure("json")
    print(f"{'function':<20} {'import + module init (median of 5)':>36}")
    print(f"{'(bare interpreter)':<20} {bare:>33.0f} ms")
    for spec in FUNCTIONS:
        print(f"{spec.name:<20} {measure(spec.module):>33.0f} ms")
    for label, module in (
        ("+ backtest engine", "mantra.quant.backtest.service"),
        ("+ FastAPI app", "frontend_api.app"),
    ):
        print(f"{label:<20} {measure(module):>33.0f} ms")
    deps = REPO / "build" / "layer-deps"
    ours = sum(dir_size_mb(REPO / p) for p in ("layers/core/mantra", "frontend_api", "events"))
    print(f"\nlayer, our code: {ours:.1f} MB unzipped")
    if deps.exists():
        print(
            f"layer, third-party wheels (build/layer-deps): {dir_size_mb(deps):.0f} MB unzipped (limit 250 MB)"
        )
    else:
        print("layer, third-party wheels: run `make layer` first to measure (last measured: 173 MB)")


if __name__ == "__main__":
    main()
