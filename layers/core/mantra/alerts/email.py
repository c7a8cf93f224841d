"""E-mail over SMTP: the local sink in development (SES in the cloud is ``store.aws.SesEmailSender``)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from mantra.settings import Settings


class SmtpEmailSender:
    def __init__(self, settings: Settings) -> None:
        self._host, self._port, self._from = settings.smtp_host, settings.smtp_port, settings.email_from

    def send(
        self, to: str, subject: str, text: str, headers: dict[str, str], html: str | None = None
    ) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self._from, to, subject
        for k, v in headers.items():
            msg[k] = v
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")  # multipart/alternative: text first, HTML preferred
        with smtplib.SMTP(self._host, self._port, timeout=5) as smtp:
            smtp.send_message(msg)
