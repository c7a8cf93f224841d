"""``mantra demo``: try the running local platform without typing prices.

``mantra demo alert RELIANCE`` reads the symbol's live price and sets a pair of alerts one tick either side of it
(crosses above and crosses below), so the very next move of the demo feed fires one of them, in the inbox and as
an e-mail in the SMTP sink. Everything goes through the platform's own HTTP API, as a user's calls would.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(
    help="Try the running local platform: alerts placed from the live price.", no_args_is_help=True
)
console = Console()


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


@app.command()
def alert(
    symbol: Annotated[str, typer.Argument(help="A streamed symbol, e.g. RELIANCE or NIFTY 50")],
    email: Annotated[
        str, typer.Option(help="The seeded user who owns the alerts")
    ] = "pro@demo.trademantra.in",
    ticks: Annotated[int, typer.Option(min=1, max=100, help="How many ticks from the live price")] = 1,
) -> None:
    """Set alerts a tick above and below SYMBOL's live price; the next move fires one of them."""
    import httpx

    from mantra.cli.main import local_token
    from mantra.settings import Settings

    base = f"http://127.0.0.1:{Settings().api_port}"
    headers = {"Authorization": f"Bearer {local_token(email)}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as api:
            quote = _ok(api.get(f"/api/quotes/{symbol}"), f"the live price of {symbol}")
            found = _ok(api.get("/api/instruments", params={"q": symbol}), f"the instrument {symbol}")
            step = _tick_size(found, symbol) * ticks
            ltp = Decimal(str(quote["ltp"]))
            made = []
            for condition, level in (("crosses_above", ltp + step), ("crosses_below", ltp - step)):
                body = {"symbol": symbol, "condition": condition, "price": str(level)}
                body["channels"] = ["in_app", "email"]  # type: ignore[assignment]
                made.append((condition, level, _ok(api.post("/api/alerts", json=body), "the alert")))
    except httpx.HTTPError as exc:
        _fail(f"cannot reach the platform at {base} ({type(exc).__name__}); is `make run` up?")
        return
    console.print(f"{symbol} trades at ₹{ltp}; alerts set for {email}:")
    for condition, level, alert in made:
        console.print(f"  {alert['alert_id']}  {condition.replace('_', ' ')} ₹{level}")
    console.print(
        "The next move fires one. Watch GET /api/notifications, or the e-mail in .data/mail/new/ "
        "(the market must be streaming: the demo feed runs whenever the platform does)."
    )


def _ok(resp: Any, what: str) -> Any:
    if resp.status_code >= 400:
        try:
            detail = resp.json().get("detail", resp.text)
        except ValueError:
            detail = resp.text
        _fail(f"could not get {what}: HTTP {resp.status_code} {detail}")
    return resp.json()


def _tick_size(instruments: Any, symbol: str) -> Decimal:
    rows = instruments if isinstance(instruments, list) else instruments.get("items", [])
    for row in rows:
        if str(row.get("symbol", "")).upper() == symbol.upper() and row.get("tick_size"):
            return Decimal(str(row["tick_size"]))
    _fail(f"{symbol} is not in the instrument master; GET /api/instruments?q={symbol} lists what is")
    raise AssertionError  # unreachable: _fail exits
