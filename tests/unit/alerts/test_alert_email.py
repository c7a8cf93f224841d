"""The alert e-mail: text and HTML parts, the moment in IST, a link back to the alert, and the market's state
(closed after the bell, on weekends and exchange holidays, with when it next opens)."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes
from email.policy import default

import pytest
from mantra.alerts.email_body import alert_email, market_note
from mantra.clock import IST
from mantra.domain import Notification
from mantra.market.calendar import default_calendar


def _ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=IST).timestamp() * 1000)


def _note(body: str = "RELIANCE traded at ₹1290.05 at 14 Feb 2025 10:00:01 IST.") -> Notification:
    return Notification(
        notification_id="trg_1",
        tenant_id="ten_a",
        user_id="usr_a",
        kind="alert.triggered",
        title="RELIANCE crossed above ₹1290.00",
        body=body,
        data={},
        read=False,
        created_ms=0,
        delivered_ms=0,
    )


@pytest.mark.parametrize(
    "at,expected",
    [
        ((2025, 2, 14, 10, 0), None),  # a Friday, in the session
        ((2025, 2, 14, 8, 30), "opens today at 09:15 IST"),
        ((2025, 2, 14, 15, 30), "opens on Monday 17 Feb at 09:15 IST"),  # the bell: closed from 15:30
        ((2025, 2, 24, 16, 0), "opens tomorrow at 09:15 IST"),
        ((2025, 2, 25, 16, 0), "opens on Thursday 27 Feb at 09:15 IST"),  # 26 Feb: Mahashivratri holiday
    ],
)
def test_the_market_note_says_when_the_market_next_opens(at, expected) -> None:
    note = market_note(_ms(*at), default_calendar())
    if expected is None:
        assert note is None
    else:
        assert note is not None and note.endswith(expected + ".") and note.startswith("The market is closed")


def test_the_email_has_both_parts_with_the_time_in_ist_and_a_link_to_the_alert() -> None:
    mail = alert_email(
        _note(), "Priya", "alr_9", "trg_1", _ms(2025, 2, 14, 15, 45, 2), "https://api.example.in/"
    )
    assert mail.subject == "Trade Mantra alert: RELIANCE crossed above ₹1290.00"
    assert "Friday 14 Feb 2025, 15:45:02 IST" in mail.text
    assert "https://api.example.in/api/alerts/alr_9" in mail.text
    assert "The market is closed now; it opens on Monday 17 Feb at 09:15 IST." in mail.text
    assert "<a href='https://api.example.in/api/alerts/alr_9'>" in mail.html
    assert "Friday 14 Feb 2025, 15:45:02 IST" in mail.html and "market is closed" in mail.html


def test_user_text_is_escaped_in_the_html() -> None:
    mail = alert_email(
        _note("note: <script>alert(1)</script>"), "<b>x</b>", "alr_1", "t", _ms(2025, 2, 14, 10), ""
    )
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html and "&lt;b&gt;" in mail.html


def test_smtp_sends_multipart_alternative(monkeypatch) -> None:
    from mantra.alerts.email import SmtpEmailSender
    from mantra.settings import Settings

    sent: list[bytes] = []

    class FakeSmtp:
        def __init__(self, *a, **k) -> None: ...
        def __enter__(self):
            return self

        def __exit__(self, *a) -> None: ...
        def send_message(self, msg) -> None:
            sent.append(msg.as_bytes())

    monkeypatch.setattr("smtplib.SMTP", FakeSmtp)
    SmtpEmailSender(Settings()).send("a@b.in", "s", "plain words", {"X-A": "1"}, html="<p>rich words</p>")
    msg = message_from_bytes(sent[0], policy=default)
    assert msg.get_content_type() == "multipart/alternative" and msg["X-A"] == "1"
    assert msg.get_body(("plain",)).get_content().strip() == "plain words"
    assert msg.get_body(("html",)).get_content().strip() == "<p>rich words</p>"
