"""A self-contained HTML report: metric cards, price with trades, equity vs buy & hold, drawdown, Monte Carlo.

Inline SVG drawn here (no CDN, no script from anywhere, works offline); hovering a marker or a bar shows its
details through SVG ``<title>``.  Long series are decimated to at most ~1,500 points per line, keeping each
bucket's high and low, so a 1e6-bar report stays a few hundred kB.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from mantra.quant.backtest.data import FloatArray
from mantra.quant.backtest.engine import REASONS

if TYPE_CHECKING:
    from mantra.quant.backtest.api import BacktestRun
    from mantra.quant.backtest.montecarlo import MonteCarloResult

W, PAD_L, PAD_R, PAD_T, PAD_B = 1100, 64, 16, 14, 26
GREEN, RED, BLUE, GREY, AMBER = "#16a34a", "#dc2626", "#2563eb", "#94a3b8", "#d97706"

CSS = """
:root{--bg:#f8fafc;--card:#fff;--ink:#0f172a;--mute:#64748b;--line:#e2e8f0}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);
font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Noto Sans",sans-serif}
main{max-width:1140px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:22px;margin:0 0 2px}h2{font-size:15px;margin:0 0 8px;color:var(--mute);font-weight:600;
text-transform:uppercase;letter-spacing:.04em}.sub{color:var(--mute);margin-bottom:18px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin-bottom:18px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 12px}
.card .k{color:var(--mute);font-size:12px}.card .v{font-size:21px;font-weight:650;margin-top:2px}
.pos{color:#15803d}.neg{color:#b91c1c}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 14px 8px;
margin-bottom:16px}svg{display:block;width:100%;height:auto}
svg text{font-size:11px;fill:#64748b}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);
text-align:right;white-space:nowrap}th{color:var(--mute);font-weight:600;position:sticky;top:0;background:#fff}
td:first-child,th:first-child{text-align:left}.scroll{max-height:420px;overflow:auto}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
@media(max-width:800px){.grid2{grid-template-columns:1fr}}
.legend{display:flex;gap:16px;color:var(--mute);font-size:12px;margin:2px 0 6px}
.legend i{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:5px;border-radius:2px}
.note{color:var(--mute);font-size:12px}
.heat td,.heat th{text-align:center;padding:4px 6px;font-size:12px}.heat td:first-child{font-weight:600}
"""


def _decimate(y: FloatArray, max_points: int = 1500) -> tuple[FloatArray, FloatArray]:
    """(x index, y) with at most ~max_points points, keeping each bucket's min and max."""
    n = y.shape[0]
    if n <= max_points:
        return np.arange(n, dtype=np.float64), y
    b = max(1, n // (max_points // 2))
    m = n // b
    blk = y[: m * b].reshape(m, b)
    lo_i = np.argmin(blk, axis=1) + np.arange(m) * b
    hi_i = np.argmax(blk, axis=1) + np.arange(m) * b
    idx = np.unique(np.concatenate([lo_i, hi_i, [n - 1]]))
    return idx.astype(np.float64), y[idx]


class _Frame:
    def __init__(self, n: int, lo: float, hi: float, height: int, log: bool = False) -> None:
        if hi <= lo:
            hi, lo = lo + 1.0, lo - 1.0
        pad = (hi - lo) * 0.05
        self.n, self.h, self.log = max(n - 1, 1), height, log
        self.lo, self.hi = lo - pad, hi + pad

    def x(self, i: float) -> float:
        return PAD_L + (W - PAD_L - PAD_R) * i / self.n

    def y(self, v: float) -> float:
        return PAD_T + (self.h - PAD_T - PAD_B) * (1 - (v - self.lo) / (self.hi - self.lo))


def _path(fr: _Frame, xs: FloatArray, ys: FloatArray) -> str:
    pts = " ".join(f"{fr.x(float(a)):.1f},{fr.y(float(b)):.1f}" for a, b in zip(xs, ys, strict=True))
    return f"M{pts.replace(' ', ' L')}"


def _nice_ticks(lo: float, hi: float, k: int = 5) -> list[float]:
    span = hi - lo
    if span <= 0 or not math.isfinite(span):
        return [lo]
    step = 10 ** math.floor(math.log10(span / k))
    for m in (1, 2, 2.5, 5, 10):
        if span / (step * m) <= k:
            step *= m
            break
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 1)]


def _axes(fr: _Frame, dates: Sequence[str], fmt: str) -> str:
    out = []
    for v in _nice_ticks(fr.lo, fr.hi):
        y = fr.y(v)
        out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eef2f7"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt.format(v)}</text>')
    n = len(dates)
    ticks = np.linspace(0, n - 1, min(7, n)).astype(int)
    for k, i in enumerate(ticks):
        anchor = "start" if k == 0 else "end" if k == len(ticks) - 1 else "middle"
        out.append(
            f'<text x="{fr.x(float(i)):.1f}" y="{fr.h - 6}" text-anchor="{anchor}">{dates[i][:10]}</text>'
        )
    return "".join(out)


def _svg(height: int, body: str, label: str) -> str:
    return f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="{html.escape(label)}">{body}</svg>'


def price_chart(run: BacktestRun, symbol: int = 0, height: int = 340) -> str:
    bars = run.bars
    c = bars.close[:, symbol]
    dates = [str(d) for d in bars.index]
    fr = _Frame(c.shape[0], float(np.min(bars.low[:, symbol])), float(np.max(bars.high[:, symbol])), height)
    xs, ys = _decimate(c)
    body = [_axes(fr, dates, "{:,.0f}")]
    tr = run.sim.trades.select(run.sim.trades.symbol == symbol)
    # holding periods shaded, trade lines coloured by outcome, entry/exit markers with tooltips
    for k in range(min(tr.n, 600)):
        e, x = int(tr.entry_bar[k]), int(tr.exit_bar[k])
        win = tr.pnl[k] >= 0
        colr = GREEN if win else RED
        body.append(
            f'<rect x="{fr.x(e):.1f}" y="{PAD_T}" width="{max(fr.x(x) - fr.x(e), 0.8):.1f}" '
            f'height="{height - PAD_T - PAD_B}" fill="{colr}" opacity="0.06"/>'
        )
    body.append(f'<path d="{_path(fr, xs, ys)}" fill="none" stroke="#334155" stroke-width="1.3"/>')
    for k in range(min(tr.n, 600)):
        e, x = int(tr.entry_bar[k]), int(tr.exit_bar[k])
        ep, xp = float(tr.entry_price[k]), float(tr.exit_price[k])
        win = tr.pnl[k] >= 0
        colr = GREEN if win else RED
        long = tr.direction[k] > 0
        body.append(
            f'<line x1="{fr.x(e):.1f}" y1="{fr.y(ep):.1f}" x2="{fr.x(x):.1f}" y2="{fr.y(xp):.1f}" '
            f'stroke="{colr}" stroke-width="1.6" stroke-dasharray="4 3"/>'
        )
        tip = (
            f"{'Long' if long else 'Short'} {tr.qty[k]:g} @ {ep:,.2f} on {dates[e][:10]} -> {xp:,.2f} on "
            f"{dates[x][:10]} ({REASONS[int(tr.reason[k])]}): P&L {tr.pnl[k]:,.2f} ({tr.ret[k] * 100:+.2f}%)"
        )
        ex, ey = fr.x(e), fr.y(ep)
        up = f"{ex:.1f},{ey + 2:.1f} {ex - 5:.1f},{ey + 11:.1f} {ex + 5:.1f},{ey + 11:.1f}"
        dn = f"{ex:.1f},{ey - 2:.1f} {ex - 5:.1f},{ey - 11:.1f} {ex + 5:.1f},{ey - 11:.1f}"
        body.append(
            f'<polygon points="{up if long else dn}" fill="{BLUE}">'
            f"<title>{html.escape(tip)}</title></polygon>"
        )
        body.append(
            f'<circle cx="{fr.x(x):.1f}" cy="{fr.y(xp):.1f}" r="4" fill="#fff" stroke="{colr}" '
            f'stroke-width="2"><title>{html.escape(tip)}</title></circle>'
        )
    return _svg(height, "".join(body), "price with trades")


def equity_chart(run: BacktestRun, height: int = 280) -> str:
    eq = run.equity
    cash = run.start_value
    c = run.bars.close
    bh = cash * np.mean(c / c[0], axis=1)
    lines: list[tuple[FloatArray, str, str]] = [(bh, GREY, "Buy & hold")]
    if run.benchmark is not None:
        lines.append((cash * run.benchmark / run.benchmark[0], AMBER, "Benchmark"))
    lines.append((eq, BLUE, "Strategy"))
    lo = min(float(np.min(v)) for v, _, _ in lines)
    hi = max(float(np.max(v)) for v, _, _ in lines)
    fr = _Frame(eq.shape[0], lo, hi, height)
    dates = [str(d) for d in run.bars.index]
    body = [_axes(fr, dates, "{:,.0f}")]
    body.append(
        '<defs><linearGradient id="eqg" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{BLUE}" stop-opacity="0.25"/>'
        f'<stop offset="1" stop-color="{BLUE}" stop-opacity="0"/></linearGradient></defs>'
    )
    xs, ys = _decimate(eq)
    base = fr.y(fr.lo)
    body.append(
        f'<path d="{_path(fr, xs, ys)} L{fr.x(float(xs[-1])):.1f},{base:.1f} L{fr.x(0):.1f},{base:.1f} Z" '
        'fill="url(#eqg)" stroke="none"/>'
    )
    y0 = fr.y(cash)
    body.append(
        f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y0:.1f}" y2="{y0:.1f}" '
        'stroke="#cbd5e1" stroke-dasharray="3 3"/>'
    )
    for v, colr, _ in lines:
        xs, ys = _decimate(v)
        wdt = 2.2 if colr == BLUE else 1.3
        body.append(f'<path d="{_path(fr, xs, ys)}" fill="none" stroke="{colr}" stroke-width="{wdt}"/>')
    legend = "".join(f'<span><i style="background:{colr}"></i>{name}</span>' for _, colr, name in lines)
    return f'<div class="legend">{legend}</div>' + _svg(height, "".join(body), "equity curve")


def drawdown_chart(run: BacktestRun, height: int = 170) -> str:
    dd = run.drawdown * 100
    fr = _Frame(dd.shape[0], float(min(dd.min(), -1.0)), 0.0, height)
    dates = [str(d) for d in run.bars.index]
    xs, ys = _decimate(dd)
    top = fr.y(0.0)
    k = int(np.argmin(dd))
    body = [
        _axes(fr, dates, "{:.0f}%"),
        f'<path d="{_path(fr, xs, ys)} L{fr.x(float(xs[-1])):.1f},{top:.1f} L{fr.x(0):.1f},{top:.1f} Z" '
        f'fill="{RED}" fill-opacity="0.18" stroke="{RED}" stroke-width="1.2"/>',
        f'<circle cx="{fr.x(k):.1f}" cy="{fr.y(float(dd[k])):.1f}" r="4" fill="{RED}">'
        f"<title>max drawdown {dd[k]:.2f}% on {dates[k][:10]}</title></circle>",
    ]
    return _svg(height, "".join(body), "drawdown")


def histogram(values: FloatArray, marker: float | None, height: int = 200, bins: int = 40) -> str:
    v = values[np.isfinite(values)] * 100
    counts, edges = np.histogram(v, bins=bins)
    top = max(int(counts.max()), 1)
    inner_w = W - PAD_L - PAD_R
    inner_h = height - PAD_T - PAD_B
    bw = inner_w / bins
    body = []
    for i, cnt in enumerate(counts):
        h = inner_h * cnt / top
        colr = GREEN if edges[i] >= 0 else RED
        body.append(
            f'<rect x="{PAD_L + i * bw + 1:.1f}" y="{PAD_T + inner_h - h:.1f}" width="{bw - 2:.1f}" '
            f'height="{h:.1f}" fill="{colr}" opacity="0.7" rx="2">'
            f"<title>{edges[i]:.1f}% .. {edges[i + 1]:.1f}%: "
            f"{int(cnt)} runs</title></rect>"
        )
    lo, hi = float(edges[0]), float(edges[-1])
    for t in _nice_ticks(lo, hi, 8):
        x = PAD_L + inner_w * (t - lo) / (hi - lo if hi > lo else 1)
        body.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{t:.0f}%</text>')
    if marker is not None and hi > lo:
        x = PAD_L + inner_w * (marker * 100 - lo) / (hi - lo)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD_T}" y2="{PAD_T + inner_h}" '
            f'stroke="{BLUE}" stroke-width="2">'
            f"<title>actual {marker * 100:.2f}%</title></line>"
        )
    return _svg(height, "".join(body), "histogram")


def monthly_returns_table(run: BacktestRun) -> str:
    """Calendar heat map of monthly returns (rows: years, columns: months, last column: the year)."""
    idx = run.bars.index
    eq = run.equity
    months = idx.astype("datetime64[M]")
    if months[0] == months[-1]:
        return ""
    ends = np.flatnonzero(np.concatenate([months[1:] != months[:-1], [True]]))
    end_eq = eq[ends]
    start_eq = np.concatenate([[run.start_value], end_eq[:-1]])
    rets = end_eq / start_eq - 1.0
    labels = months[ends]
    years = sorted({int(str(m)[:4]) for m in labels})
    cell: dict[tuple[int, int], float] = {}
    for m, r in zip(labels, rets, strict=True):
        cell[(int(str(m)[:4]), int(str(m)[5:7]))] = float(r)
    scale = max(max((abs(v) for v in cell.values()), default=0.0), 1e-9)

    def td(v: float | None) -> str:
        if v is None:
            return "<td></td>"
        a = min(abs(v) / scale, 1.0) * 0.75 + 0.08
        rgb = "22,163,74" if v >= 0 else "220,38,38"
        return f'<td style="background:rgba({rgb},{a:.2f})">{v * 100:+.1f}%</td>'

    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    head = "<tr><th>year</th>" + "".join(f"<th>{n}</th>" for n in names) + "<th>year</th></tr>"
    body = []
    for y in years:
        vals = [cell.get((y, m)) for m in range(1, 13)]
        yr = float(np.prod([1 + v for v in vals if v is not None]) - 1)
        body.append(
            f"<tr><td>{y}</td>" + "".join(td(v) for v in vals) + f"<td><b>{yr * 100:+.1f}%</b></td></tr>"
        )
    return f'<table class="heat">{head}{"".join(body)}</table>'


def _fmt(v: object, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if pct and isinstance(v, float):
        return f"{v * 100:.2f}%"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return html.escape(str(v))


PCT_KEYS = {
    "total_return",
    "cagr",
    "volatility",
    "max_drawdown",
    "win_rate",
    "avg_trade",
    "best_trade",
    "worst_trade",
    "exposure",
    "buy_and_hold_return",
    "benchmark_return",
    "alpha",
    "risk_free",
}


def _card(label: str, value: float | None, pct: bool = True, signed: bool = True) -> str:
    cls = ""
    if signed and value is not None and math.isfinite(value):
        cls = "pos" if value > 0 else "neg" if value < 0 else ""
    return (
        f'<div class="card"><div class="k">{label}</div><div class="v {cls}">{_fmt(value, pct)}</div></div>'
    )


def render_html(run: BacktestRun, mc: MonteCarloResult | None = None, title: str | None = None) -> str:
    m = run.metrics
    params = ", ".join(f"{k}={v}" for k, v in run.params.items())
    name = title or f"{run.strategy}({params}) on {', '.join(run.bars.symbols)}"
    period = f"{str(run.bars.index[0])[:10]} to {str(run.bars.index[-1])[:10]} - {run.bars.n_bars:,} bars"
    cfg = run.sim.config
    cards = "".join(
        [
            _card("Total return", m.total_return),
            _card("CAGR", m.cagr),
            _card("Sharpe", m.sharpe, pct=False),
            _card("Max drawdown", m.max_drawdown),
            _card("Win rate", m.win_rate, signed=False),
            _card("Profit factor", m.profit_factor, pct=False, signed=False),
            _card("Trades", float(m.trades), pct=False, signed=False).replace(".00<", "<"),
            _card("Buy & hold", m.buy_and_hold_return),
        ]
    )
    rows = "".join(
        f"<tr><td>{html.escape(k.replace('_', ' '))}</td><td>{_fmt(v, k in PCT_KEYS)}</td></tr>"
        for k, v in m.as_dict().items()
        if k != "sharpe_definition"
    )
    trades = run.trade_records()
    trows = "".join(
        f"<tr><td>{t['symbol']}</td><td>{t['direction']}</td><td>{t['entry_time'][:10]}</td>"
        f"<td>{t['entry_price']:,.2f}</td><td>{t['exit_time'][:10]}</td><td>{t['exit_price']:,.2f}</td>"
        f"<td>{t['qty']:g}</td><td>{t['costs']:,.2f}</td>"
        f'<td class="{"pos" if t["pnl"] >= 0 else "neg"}">{t["pnl"]:,.2f}</td>'
        f"<td>{t['return'] * 100:+.2f}%</td><td>{t['exit_reason']}</td></tr>"
        for t in trades[:500]
    )
    more = f'<p class="note">showing 500 of {len(trades)} trades</p>' if len(trades) > 500 else ""
    mc_html = ""
    if mc is not None:
        rq, dq = mc.return_quantiles, mc.drawdown_quantiles
        mc_html = (
            f"<section><h2>Monte Carlo - {mc.n:,} runs, {mc.method} resampling, seed {mc.seed}</h2>"
            '<div class="grid2"><div>'
            '<div class="note">Total return distribution (blue line: this backtest)</div>'
            f"{histogram(mc.returns, mc.actual_return)}</div>"
            '<div><div class="note">Max drawdown distribution</div>'
            f"{histogram(mc.max_drawdowns, mc.actual_max_drawdown)}</div></div>"
            f'<p class="note">Return 5th / 50th / 95th percentile: {rq[0] * 100:.1f}% / {rq[1] * 100:.1f}% / '
            f"{rq[2] * 100:.1f}%; max drawdown median {dq[0] * 100:.1f}%, 1-in-20 worst {dq[1] * 100:.1f}%; "
            f"probability of ruin (equity touching {mc.ruin_level * 100:.0f}% of start): "
            f"{mc.prob_ruin * 100:.1f}%"
            "</p></section>"
        )
    monthly = monthly_returns_table(run) if run.bars.n_bars <= 200_000 else ""
    payoff = ""
    if "payoff_svg" in run.extras:
        payoff = (
            "<section><h2>Payoff at expiry - last cycle</h2>"
            f'<div style="max-width:760px">{run.extras["payoff_svg"]}</div>'
            '<p class="note">P&amp;L of one cycle at expiry against the underlying price, premiums included; '
            "the dashed line is the spot when the position was opened.</p></section>"
        )
    warn = "".join(f'<p class="note">warning: {html.escape(w)}</p>' for w in run.bars.warnings)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(name)} - Trade Mantra backtest</title><style>{CSS}</style></head>
<body><main>
<h1>{html.escape(name)}</h1>
<div class="sub">{period} &middot; cash {cfg.cash:,.0f} &middot; costs: {type(cfg.costs).__name__}
&middot; fills: {cfg.fill.replace("_", " ")}</div>
<div class="cards">{cards}</div>
<section><h2>Price and trades</h2>
<div class="legend"><span><i style="background:{BLUE}"></i>entry</span>
<span><i style="background:{GREEN}"></i>winning exit</span>
<span><i style="background:{RED}"></i>losing exit</span>
<span class="note">hover a marker for details</span></div>
{price_chart(run)}</section>
{payoff}<section><h2>Equity</h2>{equity_chart(run)}</section>
<section><h2>Drawdown</h2>{drawdown_chart(run)}</section>
{f"<section><h2>Monthly returns</h2>{monthly}</section>" if monthly else ""}
{mc_html}
<div class="grid2">
<section><h2>Metrics</h2><div class="scroll"><table>{rows}</table></div>
<p class="note">{html.escape(m.sharpe_definition)}</p></section>
<section><h2>Trades</h2><div class="scroll"><table>
<tr><th>symbol</th><th>side</th><th>entry</th><th>price</th>
<th>exit</th><th>price</th><th>qty</th><th>costs</th><th>P&amp;L</th><th>return</th><th>reason</th></tr>
{trows}</table></div>{more}</section>
</div>{warn}
</main></body></html>
"""
