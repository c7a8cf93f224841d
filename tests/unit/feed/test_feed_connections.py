"""Planning a subscription change on open broker sockets: messages for what changed only, room used before a new
connection is opened, emptied connections closed, never more than the broker allows."""

from __future__ import annotations

import random

import pytest
from mantra.feed.connections import plan_connections

# Kite instrument tokens (exchange token x 256 + segment) and SmartAPI (exchange type, token) pairs
NIFTY_CE, NIFTY_PE, BANKNIFTY_FUT, RELIANCE = 16148994, 16149250, 12683010, 738561


def test_an_unchanged_subscription_sends_nothing() -> None:
    plan = plan_connections([(NIFTY_CE, RELIANCE)], [RELIANCE, NIFTY_CE], 3000, 3)
    assert plan.changes == 0 and plan.after == ((NIFTY_CE, RELIANCE),)


def test_a_swap_is_one_unsubscribe_and_one_subscribe_on_the_same_connection() -> None:
    plan = plan_connections([(NIFTY_CE, RELIANCE)], [RELIANCE, NIFTY_PE], 3000, 3)
    assert plan.unsubscribe == {0: (NIFTY_CE,)} and plan.subscribe == {0: (NIFTY_PE,)}
    assert plan.open == () and plan.close == () and plan.after == ((RELIANCE, NIFTY_PE),)


def test_new_instruments_fill_the_open_connections_before_a_new_one_is_opened() -> None:
    # Given two SmartAPI connections of 2, the first full and the second with one free place
    first, second = ((2, "63082"), (2, "63083")), ((1, "2885"),)
    new = [(2, "63084"), (2, "63085"), (2, "63086")]
    # When three instruments are added
    plan = plan_connections([first, second], [*first, *second, *new], 2, 3)
    # Then the second takes one and only the remaining two open a connection
    assert plan.subscribe == {1: (new[0],)} and plan.open == (tuple(new[1:]),)
    assert plan.unsubscribe == {} and plan.after == (first, (*second, new[0]), tuple(new[1:]))


def test_room_freed_by_an_unsubscribe_is_used_in_the_same_change() -> None:
    plan = plan_connections([(1, 2), (3, 4)], [1, 3, 4, 5], 2, 2)
    assert plan.unsubscribe == {0: (2,)} and plan.subscribe == {0: (5,)} and plan.open == ()


def test_an_emptied_connection_is_closed_but_the_last_one_stays_open() -> None:
    plan = plan_connections([(1, 2), (3, 4)], [3], 2, 3)
    assert plan.close == (0,) and plan.unsubscribe == {1: (4,)} and plan.after == ((3,),)
    nothing = plan_connections([(1, 2)], [], 2, 3)
    assert nothing.close == () and nothing.unsubscribe == {0: (1, 2)} and nothing.after == ((),)


def test_more_than_the_broker_allows_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 3 connections of 1000"):
        plan_connections([], range(3001), 1000, 3)


def test_random_changes_keep_every_wanted_instrument_once_and_stayers_in_place() -> None:
    rng = random.Random(15)
    universe = [(rng.choice((1, 2, 3, 4)), str(rng.randrange(1000, 99999))) for _ in range(400)]
    current: tuple[tuple[tuple[int, str], ...], ...] = ()
    for _ in range(200):
        wanted = rng.sample(universe, rng.randrange(0, 300))
        plan = plan_connections(current, wanted, 100, 3)
        flat = [k for conn in plan.after for k in conn]
        assert sorted(flat) == sorted(set(wanted)) and all(len(c) <= 100 for c in plan.after)
        assert len(plan.after) <= 3
        # an instrument that stays is never re-sent: no subscribe names it, and it is on the same socket
        for n, conn in enumerate(current):
            stayed = set(conn) & set(wanted)
            assert not stayed & {k for keys in plan.subscribe.values() for k in keys}
            assert not stayed & {k for keys in plan.open for k in keys}
            assert n not in plan.close or not stayed
        current = plan.after


def test_a_connection_emptied_by_the_change_is_closed_rather_than_refilled_when_another_has_room() -> None:
    plan = plan_connections([(1, 2), (3,)], [3, 4], 2, 3)
    assert plan.subscribe == {1: (4,)} and plan.close == (0,) and plan.after == ((3, 4),)
