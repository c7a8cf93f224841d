"""A local SMTP sink: every message accepted is written to a Maildir (what SES would have delivered)."""

from __future__ import annotations

import argparse
import mailbox
import signal
import threading
import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class MaildirHandler:
    def __init__(self, maildir: Path) -> None:
        self.box = mailbox.Maildir(maildir, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        msg = message_from_bytes(envelope.content, policy=default)
        msg["X-Sink-Received-Ms"] = str(time.time_ns() // 1_000_000)
        msg["X-Sink-Rcpt-To"] = ", ".join(envelope.rcpt_tos)
        self.box.add(msg)
        return "250 Message accepted for delivery"


def read_messages(maildir: Path) -> list[Any]:
    box = mailbox.Maildir(maildir, create=True)
    return [message_from_bytes(bytes(m), policy=default) for m in box]


def main() -> None:
    parser = argparse.ArgumentParser(description="SMTP sink writing to a Maildir")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--maildir", type=Path, required=True)
    args = parser.parse_args()
    controller = Controller(MaildirHandler(args.maildir), hostname=args.host, port=args.port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
