"""Built-in presets: at least 20, each compiles, fits the smallest plan budget and runs on its timeframe."""

from __future__ import annotations

import numpy as np
import pytest
from mantra.quant.scanner import Frame, Panel, compile_scan, run_compiled
from mantra.quant.scanner.cost import SMALLEST, budget_for
from mantra.quant.scanner.presets import BY_ID, PRESETS
from scanner_helpers import ist_ms, random_frame


@pytest.fixture(scope="module")
def daily() -> Panel:
    f = random_frame(t=700, n=40, seed=9)
    bench = np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, 700))) * 20000
    f = Frame("1d", f.index_ms, f.open, f.high, f.low, f.close, f.volume, None, bench)
    return Panel(tuple(f"S{i}" for i in range(40)), {"1d": f}, "1d")


@pytest.fixture(scope="module")
def intraday() -> Panel:
    idx = np.concatenate(
        [ist_ms(2026, 11, 2 + d, 9, 15) + np.arange(75, dtype=np.int64) * 300_000 for d in range(10)]
    )
    f = random_frame(t=len(idx), n=20, tf="5m", index=idx, seed=4, vol=0.004)
    return Panel(tuple(f"S{i}" for i in range(20)), {"5m": f}, "5m")


def test_there_are_at_least_twenty_presets_with_unique_ids():
    assert len(PRESETS) >= 20
    assert len(BY_ID) == len(PRESETS)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.preset_id)
def test_preset_compiles_within_the_smallest_budget_and_runs(preset, daily, intraday):
    compiled = compile_scan(preset.expression, preset.timeframe)
    assert compiled.cost <= SMALLEST
    panel = daily if preset.timeframe == "1d" else intraday
    outcome = run_compiled(compiled, panel)
    assert outcome.scanned == len(panel.symbols)
    assert outcome.mask.shape[1] == len(panel.symbols)


def test_presets_find_something_across_the_history(daily):
    # the mask covers every bar: over 700 sessions the daily presets fire somewhere
    fired = [
        p.preset_id
        for p in PRESETS
        if p.timeframe == "1d" and run_compiled(compile_scan(p.expression), daily).mask.any()
    ]
    assert len(fired) >= 18


def test_plan_budgets_grow_with_the_plan_and_a_plan_limit_overrides():
    assert budget_for("starter") < budget_for("pro") < budget_for("institutional")
    assert budget_for("unknown-plan") == SMALLEST
    assert budget_for("starter", {"scan_cost": 7}) == 7
