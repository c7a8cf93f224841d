"""Corporate actions: every PURPOSE style the exchange uses, the real bc files, the history download, adjust().

The history download has no sample in the shared folder: the test writes one in its published layout with
actions that the equity samples themselves show (on each ex-date the unadjusted close drops by the factor):
Shriram Finance's 10 -> 2 split, Indraprastha Gas's 1:1 bonus, Kamdhenu's 10 -> 1 split, Senco Gold's 10 -> 5
split, Siemens' demerger (no ratio in the text: reported, never guessed).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from mantra.market.nse import (
    ActionKind,
    CorporateAction,
    DailyBar,
    ReportKind,
    RightsTerms,
    adjust,
    parse_actions_history,
    parse_bc_file,
    parse_full_bhavcopy,
    parse_purpose,
    parse_report,
    unique_actions,
)
from nse_builders import REAL_ACTIONS, equity_files, history_csv
from nse_files import nse_data_dir


def bc_files() -> list[Path]:
    return sorted((nse_data_dir() / "corporate_actions").glob("bc*.csv"))


@pytest.fixture(scope="module")
def sessions() -> list[DailyBar]:
    """Every EQ row of the 80 equity samples."""
    return [b for path in equity_files() for b in parse_full_bhavcopy(path).rows if b.series == "EQ"]


def _by_symbol(rows: list[DailyBar]) -> dict[str, list[DailyBar]]:
    out: dict[str, list[DailyBar]] = defaultdict(list)
    for b in rows:
        out[b.symbol].append(b)
    return {s: sorted(v, key=lambda b: b.trade_date) for s, v in out.items()}


# --- PURPOSE text -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kinds", "share_factor"),
    [
        ("FV SPLIT RS.10/- TO RS.2/-", [ActionKind.SPLIT], Fraction(10, 2)),
        ("FVSPLT FRM RS 10 TO RE 1", [ActionKind.SPLIT], Fraction(10, 1)),
        (
            "FACE VALUE SPLIT (SUB-DIVISION) - FROM RS 2/- PER SHARE TO RE 1/- PER SHARE",
            [ActionKind.SPLIT],
            Fraction(2, 1),
        ),
        ("FV SPLT FRM RS 10 TO RS 2", [ActionKind.SPLIT], Fraction(10, 2)),
        ("FVSPLT FRM RS 10 TO RS 5", [ActionKind.SPLIT], Fraction(10, 5)),
        ("BONUS 1:1", [ActionKind.BONUS], Fraction(1 + 1, 1)),
        ("BON 1:2", [ActionKind.BONUS], Fraction(1 + 2, 2)),
        ("BON 1:2/SPLIT RS.10TORS.2", [ActionKind.BONUS, ActionKind.SPLIT], Fraction(3, 2) * Fraction(10, 2)),
        ("CONSOLIDATION FROM RS 1 TO RS 10", [ActionKind.CONSOLIDATION], Fraction(1, 10)),
        ("INTDIV - RS 7 PER SH", [ActionKind.DIVIDEND], Fraction(1)),
        ("INT PAYMENT/PART REDMPTN", [ActionKind.INTEREST, ActionKind.REDEMPTION], Fraction(1)),
        ("AGM/DIVIDEND - RS 5 PER SHARE", [ActionKind.MEETING, ActionKind.DIVIDEND], Fraction(1)),
    ],
)
def test_purpose_styles_read_into_exact_factors(
    text: str, kinds: list[ActionKind], share_factor: Fraction
) -> None:
    purpose = parse_purpose(text)
    assert purpose.unparsed is None
    assert list(purpose.kinds) == kinds
    assert purpose.share_factor == share_factor and isinstance(purpose.share_factor, Fraction)
    assert purpose.adjusts_prices == (share_factor != 1)


def test_rights_keep_ratio_and_premium_as_data() -> None:
    purpose = parse_purpose("RIGHTS 45:301@PRM RS 290")
    assert purpose.kinds == (ActionKind.RIGHTS,) and purpose.adjusts_prices
    assert purpose.rights == RightsTerms(offered=45, held=301, premium_paise=290_00)
    assert purpose.share_factor == 1
    assert parse_purpose("RIGHTS 1:4 @ PAR").rights == RightsTerms(1, 4, 0)


@pytest.mark.parametrize(("cum", "face"), [(31_500, 1_000), (100_000, 1_000), (30_001, 1_000)])
def test_rights_factor_is_the_theoretical_ex_rights_one(cum: int, face: int) -> None:
    terms = RightsTerms(45, 301, 290_00)
    factor = terms.factor(cum, face)
    issue = face + terms.premium_paise
    # cum / TERP, TERP = (301 x cum + 45 x issue) / 346: so factor x (301 cum + 45 issue) = 346 cum exactly
    assert factor * (301 * cum + 45 * issue) == 346 * cum
    assert factor > 1


def test_rights_priced_at_or_above_the_market_do_not_move_the_price() -> None:
    assert RightsTerms(1, 4, 290_00).factor(30_000, 1_000) == 1
    assert RightsTerms(1, 4, 290_00).factor(25_000, 1_000) == 1


@pytest.mark.parametrize(
    "text",
    ["DEMERGER", "CAP RED", "SPLIT", "BONUS", "BONUS 1:0", "RIGHTS 1:4", "SOMETHING NEW", "", "BON 1:2/XYZ"],
)
def test_a_purpose_that_cannot_be_read_says_why_and_is_never_guessed(text: str) -> None:
    purpose = parse_purpose(text)
    assert purpose.unparsed and not purpose.adjusts_prices
    assert purpose.share_factor == 1 and purpose.rights is None


# --- the bc files as published ------------------------------------------------------------------------------------


def _purposes(path: Path) -> list[tuple[int, str, str]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        return [(reader.line_num, r["SYMBOL"], r["PURPOSE"]) for r in reader]


def test_every_purpose_in_the_bc_samples_is_read_or_knowingly_reported() -> None:
    texts = {text for path in bc_files() for _, _, text in _purposes(path)}
    unparsed = {t for t in texts if parse_purpose(t).unparsed}
    assert unparsed == {"CAP RED", "DEMERGER"}  # both change prices, neither says by how much
    adjusting = {t for t in texts if parse_purpose(t).adjusts_prices}
    assert adjusting == {
        "BONUS 1:1",
        "FV SPLT FRM RS 10 TO RS 2",
        "FVSPLT FRM RS 10 TO RS 5",
        "RIGHTS 45:301@PRM RS 290",
    }
    for text in texts - unparsed - adjusting:  # interest, redemption, dividends, buy-back, call money
        assert parse_purpose(text).kinds and not parse_purpose(text).adjusts_prices, text


def test_bc_file_rows_become_actions_and_unparsed_ones_name_file_line_symbol_text() -> None:
    for path in bc_files():
        result = parse_bc_file(path)
        raw = _purposes(path)
        assert result.kind is ReportKind.CORPORATE_ACTIONS_BC
        assert len(result.rows) + len(result.problems) == len(raw)
        bad = {(line, symbol, text) for line, symbol, text in raw if text in {"CAP RED", "DEMERGER"}}
        assert {(p.line, p.symbol, p.value) for p in result.problems} == bad
        assert all(p.source == str(path) and p.column == "PURPOSE" for p in result.problems)
        # a T-bill's redemption has a record date and no ex-date: kept, it moves no price
        assert all(a.ex_date is not None for a in result.rows if a.adjusts_prices)


def test_the_same_action_over_series_and_days_counts_once() -> None:
    actions = [a for path in bc_files() for a in parse_bc_file(path).rows if a.symbol == "LALPATHLAB"]
    assert len(actions) > 6  # EQ, BE, BL, IQ, T0, TL on each day
    (once,) = unique_actions(actions)
    assert once.ex_date == date(2025, 12, 19) and once.purpose.share_factor == 2


# --- the history download ---------------------------------------------------------------------------------------


def test_history_download_reads_face_value_and_dates_and_reports_what_it_cannot_read() -> None:
    rows = [
        *REAL_ACTIONS,
        ("KRISHIVAL", "Krishival Foods Limited", "RIGHTS 45:301@PRM RS 290", "10", "17-Dec-2025"),
    ]
    rows.insert(2, ("BADDATE", "Bad Date Ltd", "BONUS 1:1", "10", "32-Jan-2025"))
    result = parse_report(history_csv(rows), name="CF-CA-equities.csv")
    assert result.kind is ReportKind.CORPORATE_ACTIONS_HISTORY
    got = {a.symbol: a for a in result.rows if isinstance(a, CorporateAction)}
    assert set(got) == {"SHRIRAMFIN", "IGL", "KAMDHENU", "SENCO", "KRISHIVAL"}
    assert got["KRISHIVAL"].face_value_paise == 10_00 and got["SHRIRAMFIN"].ex_date == date(2025, 1, 10)
    assert [(p.line, p.column, p.symbol) for p in result.problems] == [
        (4, "EX-DATE", "BADDATE"),
        (7, "PURPOSE", "SIEMENS"),
    ]
    assert "CF-CA-equities.csv:7 column PURPOSE (SIEMENS)" in str(result.problems[1])


# --- adjust() on the real sessions --------------------------------------------------------------------------------


def _half_even(value: Fraction) -> int:
    return int((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(1), ROUND_HALF_EVEN))


def test_splits_and_bonuses_no_longer_look_like_crashes_after_adjusting(sessions: list[DailyBar]) -> None:
    actions = parse_actions_history(history_csv(REAL_ACTIONS), name="ca.csv").rows
    raw = _by_symbol(sessions)
    adjusted = _by_symbol(adjust(sessions, actions).rows)
    for action in actions:
        bars = raw[action.symbol]
        ex = next(i for i, b in enumerate(bars) if b.trade_date == action.ex_date)
        jump_raw = bars[ex].close_paise / bars[ex - 1].close_paise
        jump_adj = adjusted[action.symbol][ex].close_paise / adjusted[action.symbol][ex - 1].close_paise
        assert jump_raw < 0.6, (action.symbol, jump_raw)  # the unadjusted series "crashes"
        assert 0.8 < jump_adj < 1.25, (action.symbol, jump_adj)


def test_adjusting_is_exact_half_even_paise_and_leaves_other_symbols_alone(sessions: list[DailyBar]) -> None:
    actions = parse_actions_history(history_csv(REAL_ACTIONS), name="ca.csv").rows
    by_symbol = {a.symbol: a for a in actions}
    out = adjust(sessions, actions)
    assert out.unresolved == []
    assert len(out.rows) == len(sessions)
    for before, after in zip(sessions, out.rows, strict=True):
        action = by_symbol.get(before.symbol)
        if action is None or action.ex_date is None:
            assert after == before
            continue
        f = action.purpose.share_factor if before.trade_date < action.ex_date else Fraction(1)
        fp = action.purpose.share_factor if before.trade_date <= action.ex_date else Fraction(1)
        assert after.close_paise == _half_even(Fraction(before.close_paise) / f)
        assert after.open_paise == _half_even(Fraction(before.open_paise) / f)
        assert after.prev_close_paise == _half_even(Fraction(before.prev_close_paise) / fp)
        assert after.volume == _half_even(before.volume * f)
        assert after.turnover == before.turnover and after.trades == before.trades
    # the ex-date session's prev_close is the day before's close, adjusted alike
    shriram = [b for b in out.rows if b.symbol == "SHRIRAMFIN"]
    ex = next(i for i, b in enumerate(shriram) if b.trade_date == date(2025, 1, 10))
    assert shriram[ex].prev_close_paise == shriram[ex - 1].close_paise


def test_factors_accumulate_and_as_of_ignores_later_actions(sessions: list[DailyBar]) -> None:
    bars = [b for b in sessions if b.symbol == "SHRIRAMFIN"]
    split = ("SHRIRAMFIN", "Shriram Finance Limited", REAL_ACTIONS[0][2], "2", "10-Jan-2025")
    later = (
        "SHRIRAMFIN",
        "Shriram Finance Limited",
        "BON 1:2",
        "2",
        "03-Mar-2025",
    )  # a second action, for the test
    actions = parse_actions_history(history_csv([split, later]), name="ca.csv").rows
    both = adjust(bars, actions).rows
    first = bars[0]
    assert both[0].close_paise == _half_even(Fraction(first.close_paise) / (5 * Fraction(3, 2)))
    known_then = adjust(bars, actions, as_of=date(2025, 2, 1)).rows
    assert known_then[0].close_paise == _half_even(Fraction(first.close_paise) / 5)
    assert known_then[-1] == bars[-1]


def test_rights_need_the_cum_price_and_face_value(sessions: list[DailyBar]) -> None:
    bars = [b for b in sessions if b.symbol == "IGL"]
    ex_day = bars[30].trade_date
    text = "RIGHTS 1:5 @ PREMIUM RS 90/-"  # a hypothetical issue on real prices
    stamp = ex_day.strftime("%d-%b-%Y")
    with_fv = parse_actions_history(history_csv([("IGL", "Indraprastha Gas Limited", text, "2", stamp)])).rows
    out = adjust(bars, with_fv)
    assert out.unresolved == []
    cum = bars[30].prev_close_paise
    factor = RightsTerms(1, 5, 90_00).factor(cum, 2_00)
    assert out.rows[29].close_paise == _half_even(Fraction(bars[29].close_paise) / factor)
    assert out.rows[30] == bars[30]._replace(prev_close_paise=_half_even(Fraction(cum) / factor))
    # the bc file has no face value: the action is not applied and says why
    bc_text = f"SERIES,SYMBOL,SECURITY,RECORD_DT,BC_STRT_DT,BC_END_DT,EX_DT,ND_STRT_DT,ND_END_DT,PURPOSE\nEQ,IGL,Indraprastha Gas Limited,{ex_day},,,{ex_day},,,{text}\n"
    no_fv = parse_bc_file(bc_text.encode(), name="bc.csv").rows
    missing = adjust(bars, no_fv)
    assert missing.rows == bars
    assert [u.action.symbol for u in missing.unresolved] == ["IGL"] and "face value" in missing.unresolved[
        0
    ].reason
