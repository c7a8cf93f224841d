"""The tick path's cache of active alerts: read once per TTL, updated in place when this consumer fires."""

from __future__ import annotations

from mantra.domain import Alert, AlertCondition, AlertStatus, Channel
from mantra.market.ticks import ActiveAlerts


def alert(alert_id: str, symbol: str = "SBIN", recurring: bool = False) -> Alert:
    return Alert(
        tenant_id="t",
        alert_id=alert_id,
        user_id="u",
        symbol=symbol,
        condition=AlertCondition.CROSSES_ABOVE,
        level_paise=80_000,
        channels=(Channel.IN_APP,),
        note=None,
        status=AlertStatus.ACTIVE,
        created_ms=1,
        recurring=recurring,
    )


class CountingAlerts:
    def __init__(self, by_symbol: dict[str, list[Alert]]) -> None:
        self.by_symbol, self.reads = by_symbol, 0

    def active_for_symbols(self, symbols: list[str]) -> dict[str, list[Alert]]:
        self.reads += 1
        return {s: list(self.by_symbol[s]) for s in symbols if self.by_symbol.get(s)}


def test_without_a_ttl_every_batch_reads() -> None:
    repo = CountingAlerts({"SBIN": [alert("a")]})
    cache = ActiveAlerts(repo, 0)  # type: ignore[arg-type]
    cache.for_symbols(["SBIN"]), cache.for_symbols(["SBIN"])
    assert repo.reads == 2


def test_within_the_ttl_only_unseen_symbols_are_read() -> None:
    repo = CountingAlerts({"SBIN": [alert("a")], "TCS": [alert("b", "TCS")]})
    cache = ActiveAlerts(repo, 60)  # type: ignore[arg-type]
    assert set(cache.for_symbols(["SBIN"])) == {"SBIN"}
    repo.by_symbol["SBIN"].append(alert("new"))  # created meanwhile: seen after the TTL, not before
    got = cache.for_symbols(["SBIN", "TCS"])
    assert repo.reads == 2 and [a.alert_id for a in got["SBIN"]] == ["a"] and "TCS" in got


def test_an_expired_entry_is_read_again() -> None:
    repo = CountingAlerts({"SBIN": [alert("a")]})
    cache = ActiveAlerts(repo, 1e-9)  # type: ignore[arg-type]
    cache.for_symbols(["SBIN"])
    repo.by_symbol["SBIN"].append(alert("new"))
    assert [a.alert_id for a in cache.for_symbols(["SBIN"])["SBIN"]] == ["a", "new"]


def test_what_this_consumer_fires_leaves_or_updates_the_cache_at_once() -> None:
    once, again = alert("once"), alert("again", recurring=True)
    repo = CountingAlerts({"SBIN": [once, again]})
    cache = ActiveAlerts(repo, 60)  # type: ignore[arg-type]
    cache.for_symbols(["SBIN"])
    cache.fired([once, again], at_ms=5_000)
    [kept] = cache.for_symbols(["SBIN"])["SBIN"]
    assert (kept.alert_id, kept.triggered_ms, kept.trigger_count) == ("again", 5_000, 1)
    assert repo.reads == 1
