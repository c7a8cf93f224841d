"""The alert e-mail a person reads: HTML with a plain-text part, the time in IST, a link back to the alert, and
what the market is doing (an alert that fired on the closing print, or out of hours, says the market is closed
and when it next opens)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from mantra.clock import IST, ist_from_ms
from mantra.domain import Notification
from mantra.market.calendar import NseCalendar, default_calendar


@dataclass(frozen=True)
class AlertEmail:
    subject: str
    text: str
    html: str


def market_note(at_ms: int, calendar: NseCalendar) -> str | None:
    """None while the market is open at ``at_ms``; otherwise when it next opens (IST)."""
    if calendar.in_session(at_ms):
        return None
    when = ist_from_ms(at_ms).replace(tzinfo=None)
    for ahead in range(31):  # the longest NSE closure is a few days; a month is plenty
        day = when.date() + timedelta(days=ahead)
        for window in sorted(calendar.sessions(day), key=lambda w: w.open):
            if datetime.combine(day, window.open) > when:
                label = "today" if ahead == 0 else "tomorrow" if ahead == 1 else f"on {day:%A %d %b}"
                return f"The market is closed now; it opens {label} at {window.open:%H:%M} IST."
    return "The market is closed now."


def alert_email(
    note: Notification,
    user_name: str,
    alert_id: str,
    trigger_id: str,
    at_ms: int,
    base_url: str,
    calendar: NseCalendar | None = None,
) -> AlertEmail:
    cal = calendar or default_calendar()
    when = datetime.fromtimestamp(at_ms / 1000, IST).strftime("%A %d %b %Y, %H:%M:%S IST")
    link = f"{base_url.rstrip('/')}/api/alerts/{alert_id}"
    closed = market_note(at_ms, cal)
    lines = [f"Hello {user_name},", "", note.body, "", f"When: {when}"]
    if closed:
        lines.append(closed)
    lines += ["", f"See or change the alert: {link}", "", f"Alert {alert_id} · trigger {trigger_id}"]
    html = (
        "<!doctype html><html><body style='font-family:system-ui,Arial,sans-serif;line-height:1.5'>"
        f"<p>Hello {escape(user_name)},</p>"
        f"<h2 style='margin:0 0 .5em'>{escape(note.title)}</h2>"
        f"<p>{escape(note.body)}</p>"
        f"<p><strong>When:</strong> {escape(when)}</p>"
        + (f"<p style='color:#8a5a00'>{escape(closed)}</p>" if closed else "")
        + f"<p><a href='{escape(link, quote=True)}'>See or change the alert</a></p>"
        f"<p style='color:#777;font-size:small'>Alert {escape(alert_id)} · trigger {escape(trigger_id)}</p>"
        "</body></html>"
    )
    return AlertEmail(f"Trade Mantra alert: {note.title}", "\n".join(lines) + "\n", html)
