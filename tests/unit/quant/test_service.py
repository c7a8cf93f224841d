from __future__ import annotations

import csv
import json
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from mantra.quant.backtest import BacktestConfig, FractionalCommission, load_csv, run_backtest
from mantra.quant.backtest.service import (
    BacktestJobError,
    BacktestJobSpec,
    BacktestResult,
    paise,
    run_backtest_job,
)
from quant_helpers import NIFTY_CSV, STOCK_CSV


def _bars(path: Any) -> list[dict[str, Any]]:
    out = []
    with open(path) as fh:
        for r in csv.DictReader(fh):
            ms = int(np.datetime64(r["Date"], "ms").astype(np.int64))
            out.append(
                {
                    "start_ms": ms,
                    "open_paise": round(float(r["Open"]) * 100),
                    "high_paise": round(float(r["High"]) * 100),
                    "low_paise": round(float(r["Low"]) * 100),
                    "close_paise": round(float(r["Close"]) * 100),
                    "volume": int(r["Volume"]),
                    "symbol": "ignored",
                    "ticks": 5,  # extra Candle fields are ignored
                }
            )
    return out


STOCK = _bars(STOCK_CSV)


def _spec(**kw: Any) -> BacktestJobSpec:
    base: dict[str, Any] = {
        "job_id": "bt-1",
        "strategy": "sma_cross",
        "params": {"fast": 10, "slow": 20},
        "series": [{"symbol": "SAMPLE", "bars": STOCK}],
        "cash_paise": 1_000_000,
        "costs": {"model": "fractional", "commission": "0.002"},
    }
    base.update(kw)
    return BacktestJobSpec.model_validate(base)


def test_job_matches_the_library_run_in_paise() -> None:
    # Given the sample as paise bars, When the job runs
    res = run_backtest_job(_spec())
    # Then the figures are the library's, in paise
    lib = run_backtest(
        load_csv(STOCK_CSV),
        "sma_cross",
        {"fast": 10, "slow": 20},
        BacktestConfig(cash=10_000, costs=FractionalCommission(0.002)),
    )
    assert res.metrics.end_value_paise == paise(lib.metrics.end_value)
    assert res.metrics.trades == lib.metrics.trades and len(res.trades) == lib.sim.trades.n
    assert res.trades[0].entry_price_paise == round(lib.sim.trades.entry_price[0] * 100)
    assert res.job_id == "bt-1" and res.equity[-1].equity_paise == res.metrics.end_value_paise
    assert "Sharpe" in res.metrics.sharpe_definition


def test_result_round_trips_through_json() -> None:
    res = run_backtest_job(_spec(monte_carlo={"runs": 200, "seed": 3}, series_points=50))
    text = res.model_dump_json()
    again = BacktestResult.model_validate_json(text)
    assert again == res
    assert len(res.equity) <= 50 and res.monte_carlo is not None
    assert json.loads(text)["metrics"]["total_costs_paise"] > 0


def test_same_spec_same_result() -> None:
    spec = _spec(monte_carlo={"runs": 100, "seed": 9})
    assert run_backtest_job(spec) == run_backtest_job(spec)


def test_indian_costs_benchmark_optimise_and_walk_forward() -> None:
    nifty = _bars(NIFTY_CSV)
    res = run_backtest_job(
        _spec(
            costs={"model": "india", "segment": "equity_delivery"},
            benchmark={"symbol": "NIFTY 50", "bars": nifty},
            optimize={"grid": {"fast": [5, 10], "slow": ["20", "40"]}, "train_bars": 250, "test_bars": 60},
            include_report_html=True,
        )
    )
    assert res.metrics.beta is not None
    assert res.optimize is not None and res.optimize.walk_forward and len(res.optimize.walk_forward) == 4
    assert res.params == res.optimize.top[0].params
    assert res.report_html and res.report_html.startswith("<!DOCTYPE html>")
    assert res.cost_rates_as_of


def test_unknown_parameter_and_bad_bars_are_job_errors() -> None:
    with pytest.raises(BacktestJobError, match="did you mean fast"):
        run_backtest_job(_spec(params={"fsat": 10}))
    bad = [dict(b) for b in STOCK]
    bad[5]["high_paise"] = bad[5]["low_paise"] - 100
    with pytest.raises(BacktestJobError, match="series SAMPLE bar #5: bad prices"):
        run_backtest_job(_spec(series=[{"symbol": "SAMPLE", "bars": bad}]))
    assert (
        run_backtest_job(_spec(series=[{"symbol": "SAMPLE", "bars": bad}], drop_bad_bars=True)).bars
        == len(STOCK) - 1
    )


def test_unsorted_and_duplicated_bars_are_sorted_and_deduplicated_with_warnings() -> None:
    shuffled = [*reversed(STOCK), STOCK[3]]
    res = run_backtest_job(_spec(series=[{"symbol": "SAMPLE", "bars": shuffled}]))
    assert res.bars == len(STOCK)
    assert any("sorted" in w for w in res.warnings) and any("duplicate" in w for w in res.warnings)


def test_spec_validation_rejects_nonsense() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        _spec(cash_paise=0)
    with pytest.raises(ValidationError):
        _spec(costs={"model": "fractional", "commission": "1.5"})
    with pytest.raises(ValidationError):
        _spec(series=[{"symbol": "A", "bars": STOCK[:1]}])
    with pytest.raises(ValidationError):
        _spec(unknown_field=1)


def test_option_job_returns_a_payoff_diagram() -> None:
    res = run_backtest_job(
        _spec(
            strategy="iron_condor",
            params={"lot_size": 250, "strike_step": 20},
            cash_paise=200_000_000,
            costs={},
        )
    )
    assert res.payoff_svg and res.payoff_svg.startswith("<svg")
    assert res.metrics.trades >= 15


def test_paise_rounding_is_half_even_and_exact() -> None:
    assert paise(0.125) == 12 and paise(0.135) == 14 and paise(-2.5) == -250
    assert Decimal(paise(1234.56)) == Decimal(123456)
