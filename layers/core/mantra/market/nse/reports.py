"""Any NSE report, its kind recognised from its content (the header columns, and for UDiFF the segment).

A file's name says nothing reliable (downloads get renamed): ``detect_kind`` scores the header against every
known layout and takes the one it matches best, so a file with one column renamed is still recognised, and
its parser then names the missing column. A header that matches no layout well is refused, listing it.
"""

from __future__ import annotations

from mantra.market.nse import corporate_actions, full_bhavcopy, legacy_cm, udiff_cm, udiff_fo
from mantra.market.nse._table import Source, first_row, header_of, load_text
from mantra.market.nse.corporate_actions import CorporateAction
from mantra.market.nse.types import DailyBar, FoBar, ParseResult, ReportError, ReportKind

_UDIFF = "udiff"
_LAYOUTS: dict[str, tuple[str, ...]] = {
    ReportKind.FULL_BHAVCOPY: full_bhavcopy.COLUMNS,
    ReportKind.LEGACY_CM: legacy_cm.COLUMNS,
    _UDIFF: udiff_cm.COLUMNS,
    ReportKind.CORPORATE_ACTIONS_BC: corporate_actions.BC_COLUMNS,
    ReportKind.CORPORATE_ACTIONS_HISTORY: corporate_actions.HISTORY_COLUMNS,
}
_SEGMENTS = {udiff_cm.SEGMENT: ReportKind.UDIFF_CM, udiff_fo.SEGMENT: ReportKind.UDIFF_FO}
MIN_MATCH = 0.6  # share of a layout's columns a header must have to be taken for that layout

AnyResult = ParseResult[DailyBar] | ParseResult[FoBar] | ParseResult[CorporateAction]


def detect_kind_text(text: str, source: str) -> ReportKind:
    """The kind of a report from its text; ``ReportError`` naming the file when it is none we know."""
    header = {c.upper() for c in header_of(text)}
    if not header or header == {""}:
        raise ReportError(source, "empty file: no header line", line=1)
    scores = {
        kind: sum(c.upper() in header for c in columns) / len(columns) for kind, columns in _LAYOUTS.items()
    }
    kind, score = max(scores.items(), key=lambda kv: kv[1])
    if score < MIN_MATCH:
        shown = ", ".join(header_of(text))[:200]
        raise ReportError(source, f"not an NSE report layout this platform reads (header: {shown})", line=1)
    if kind != _UDIFF:
        return ReportKind(kind)
    segment = {k.upper(): v for k, v in first_row(text).items()}.get("SGMT", "")
    if segment not in _SEGMENTS:
        raise ReportError(source, f"UDiFF bhavcopy of segment {segment!r}: only CM and FO are read", line=2)
    return _SEGMENTS[segment]


def detect_kind(source: Source, name: str | None = None) -> ReportKind:
    """The kind of a report file (path or bytes; a zip holding one CSV is opened)."""
    text, label = load_text(source, name)
    return detect_kind_text(text, label)


def parse_report(source: Source, name: str | None = None) -> AnyResult:
    """Parse any report this package reads, recognising its kind from the content; ``result.kind`` says which."""
    text, label = load_text(source, name)
    kind = detect_kind_text(text, label)
    if kind is ReportKind.FULL_BHAVCOPY:
        return full_bhavcopy.parse_full_bhavcopy_text(text, label)
    if kind is ReportKind.UDIFF_CM:
        return udiff_cm.parse_udiff_cm_text(text, label)
    if kind is ReportKind.LEGACY_CM:
        return legacy_cm.parse_legacy_cm_text(text, label)
    if kind is ReportKind.UDIFF_FO:
        return udiff_fo.parse_udiff_fo_text(text, label)
    if kind is ReportKind.CORPORATE_ACTIONS_BC:
        return corporate_actions.parse_bc_text(text, label)
    return corporate_actions.parse_actions_history_text(text, label)
