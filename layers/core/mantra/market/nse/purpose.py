"""The free-text ``PURPOSE`` of an NSE corporate action, read into what it does to prices.

The exchange has written the same actions in many styles over the years (``FV SPLIT RS.10/- TO RS.2/-``,
``FVSPLT FRM RS 10 TO RE 1``, ``FACE VALUE SPLIT (SUB-DIVISION) - FROM RS 2/- PER SHARE TO RE 1/- PER SHARE``,
``BONUS 1:1``, ``BON 1:2``, ``RIGHTS 45:301@PRM RS 290``, ``BON 1:2/SPLIT RS.10TORS.2``, ...). A purpose is cut
into parts at ``/`` (but not the ``/-`` of ``RS.10/-``), `` AND `` and ``&``; each part is either

- a price-adjusting action with its terms: a split or consolidation (old and new face value), a bonus
  (``a:b``: ``a`` new shares for every ``b`` held), rights (``a:b`` at a premium, or at par);
- an action known not to change the price series (dividends, interest, redemption, buy-back, call money on
  partly-paid shares, meetings, distributions);
- or not understood: then the whole purpose is *unparsed* and says why. Nothing is guessed: a demerger or a
  capital reduction changes the price, but its ratio is not in the text, so it is reported too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction


class ActionKind(StrEnum):
    """What one part of a purpose is."""

    SPLIT = "split"
    CONSOLIDATION = "consolidation"
    BONUS = "bonus"
    RIGHTS = "rights"
    DIVIDEND = "dividend"
    INTEREST = "interest"
    REDEMPTION = "redemption"
    BUYBACK = "buyback"
    CALL_MONEY = "call_money"
    MEETING = "meeting"
    DISTRIBUTION = "distribution"


ADJUSTING = frozenset({ActionKind.SPLIT, ActionKind.CONSOLIDATION, ActionKind.BONUS, ActionKind.RIGHTS})


@dataclass(frozen=True, slots=True)
class RightsTerms:
    """``offered`` new shares for every ``held``, issued at face value + ``premium_paise`` (0: at par).

    The price factor is the standard theoretical ex-rights one, which needs the cum-rights price (the last
    close before the ex-date) and the face value: see ``factor``.
    """

    offered: int
    held: int
    premium_paise: int

    def factor(self, cum_price_paise: int, face_value_paise: int) -> Fraction:
        """cum / TERP, TERP = (held x cum + offered x issue) / (held + offered); 1 when the issue price is not
        below the cum price (the rights are worth nothing and the price does not drop)."""
        if cum_price_paise <= 0:
            raise ValueError(f"cum-rights price must be positive, got {cum_price_paise} paise")
        issue = face_value_paise + self.premium_paise
        if issue >= cum_price_paise:
            return Fraction(1)
        terp = Fraction(self.held * cum_price_paise + self.offered * issue, self.held + self.offered)
        return Fraction(cum_price_paise) / terp


@dataclass(frozen=True, slots=True)
class Purpose:
    """A purpose read: its parts' kinds, the exact share multiplier of its splits and bonuses, its rights.

    ``share_factor`` multiplies the share count (a 10 -> 2 split: 5; a 1:2 bonus: 3/2): prices before the
    ex-date are divided by it and volumes multiplied. ``unparsed`` says why the text was not understood (then
    nothing else is to be used).
    """

    text: str
    kinds: tuple[ActionKind, ...] = ()
    share_factor: Fraction = Fraction(1)
    rights: RightsTerms | None = None
    unparsed: str | None = None

    @property
    def adjusts_prices(self) -> bool:
        return self.unparsed is None and any(k in ADJUSTING for k in self.kinds)


_PARTS = re.compile(r"\s*(?:/(?!-)|\bAND\b|&|\+)\s*")
_AMOUNT = r"(?:RS|RE|INR)\.?\s*(\d+(?:\.\d+)?)"
_SPLIT_WORD = re.compile(r"\b(?:FV|FACE\s*VALUE|STOCK|SHARE)?\s*(?:SPLIT|SPLT|SUB-?\s*DIVISION)|\bFVSPLI?T\b")
_CONSOLIDATION_WORD = re.compile(r"\bCONSOLIDAT(?:ION|E)\b|\bCONSL?D\b")
_AMOUNTS = re.compile(_AMOUNT)
_BONUS = re.compile(r"^\s*BO?N(?:US)?\b(?:\s*ISSUE)?\s*-?\s*(\d+)\s*:\s*(\d+)\s*$")
_RIGHTS = re.compile(
    r"^\s*R(?:I)?G?HTS?\b(?:\s*ISSUE)?\s*-?\s*(\d+)\s*:\s*(\d+)\s*"
    r"(?:@\s*(?:(PAR)|(?:PRM|PREM(?:IUM)?)\.?\s*(?:OF\s*)?"
    + _AMOUNT
    + r")\s*(?:/-)?\s*(?:PER\s*SH(?:ARE)?)?)?\s*$"
)
# Parts that never change the price series (each checked on a whole part, after the adjusting ones).
_NON_ADJUSTING: tuple[tuple[ActionKind, re.Pattern[str]], ...] = (
    (ActionKind.DIVIDEND, re.compile(r"DIV(?!ISION)|\bDVD\b")),
    (ActionKind.INTEREST, re.compile(r"\bINT(?:EREST|RST|ST)?\s*(?:PAYMENT|PAYMNT|PYMNT|PYMT|PMT)?\b")),
    (ActionKind.REDEMPTION, re.compile(r"\b(?:PART\s*|PRT\s*)?RE?DE?MP?TI?O?N\b|\bMATURITY\b")),
    (ActionKind.BUYBACK, re.compile(r"\bBUY\s*-?\s*BACK\b")),
    (ActionKind.CALL_MONEY, re.compile(r"\b(?:FIRST|SECOND|THIRD|FINAL|1ST|2ND|3RD)\b.*\b(?:CL|CALL)\b")),
    (
        ActionKind.MEETING,
        re.compile(r"^\s*(?:AGM|EGM|ANNUAL\s+GENERAL\s+MEETING|EXTRA\s*ORDINARY\s+GENERAL\s+MEETING)\b"),
    ),
    (ActionKind.DISTRIBUTION, re.compile(r"\bDISTRIBUTION\b|\bRETURN\s+OF\s+CAPITAL\b")),
)
# Known to change prices but with no ratio in the text: reported, never guessed.
_UNQUANTIFIED = re.compile(
    r"\bDEMERGER\b|\bCAP(?:ITAL)?\s*RED(?:UCTION|N)?\b|\bAMALGAMATION\b|\bMERGER\b|\bSCHEME\s+OF\s+ARRANGEMENT\b"
)


def _face_value_change(part: str) -> tuple[Fraction, Fraction] | None:
    """The (old, new) face values of a split/consolidation part: exactly two amounts, in that order."""
    compact = re.sub(r"(\d)\s*TO\s*(?=RS|RE)", r"\1 TO ", part)  # RS.10TORS.2
    found = _AMOUNTS.findall(compact)
    if len(found) != 2:
        return None
    old, new = (Fraction(Decimal(a)) for a in found)
    if old <= 0 or new <= 0:
        return None
    return old, new


def parse_purpose(text: str) -> Purpose:
    """Read one ``PURPOSE``. Unknown or incomplete parts make the whole purpose ``unparsed``, with the reason."""
    clean = " ".join(text.upper().split())
    if not clean:
        return Purpose(text, unparsed="empty purpose")

    def fail(reason: str, part: str) -> Purpose:
        return Purpose(text, unparsed=reason if part == clean else f"{reason} (in {part!r})")

    kinds: list[ActionKind] = []
    share = Fraction(1)
    rights: RightsTerms | None = None
    for part in (p for p in _PARTS.split(clean) if p.strip(" -")):
        if _SPLIT_WORD.search(part) or _CONSOLIDATION_WORD.search(part):
            change = _face_value_change(part)
            if change is None:
                return fail("split/consolidation without an old and a new face value", part)
            old, new = change
            if old == new:
                return fail("face value unchanged", part)
            kinds.append(ActionKind.SPLIT if old > new else ActionKind.CONSOLIDATION)
            share *= old / new
        elif m := _BONUS.match(part):
            a, b = int(m[1]), int(m[2])
            if a <= 0 or b <= 0:
                return fail("bonus ratio must be positive", part)
            kinds.append(ActionKind.BONUS)
            share *= Fraction(a + b, b)
        elif m := _RIGHTS.match(part):
            a, b = int(m[1]), int(m[2])
            if a <= 0 or b <= 0 or rights is not None:
                return fail("rights ratio must be positive, once", part)
            if m[3] is None and m[4] is None:
                return fail("rights without an issue price (premium or par)", part)
            premium = 0 if m[3] else int(Decimal(m[4]) * 100)
            kinds.append(ActionKind.RIGHTS)
            rights = RightsTerms(a, b, premium)
        elif _UNQUANTIFIED.search(part):
            return fail("changes prices but its ratio is not in the text", part)
        else:
            kind = next((k for k, pattern in _NON_ADJUSTING if pattern.search(part)), None)
            if kind is None:
                return fail("not a purpose this parser knows", part)
            kinds.append(kind)
    return Purpose(text, tuple(kinds), share, rights)
