"""The brokers' binary tick formats, written as their servers send them (read from the SDK parsers):
SmartWebSocketV2 SNAP_QUOTE (379 bytes, little-endian) and Kite full-mode quote packets (big-endian)."""

from __future__ import annotations

import struct


def angel_snap_quote(
    token: str, exchange_type: int, ltp: int, ts_ms: int, *, qty: int = 0, volume: int = 0, open_: int = 0,
    close: int = 0, oi: int = 0, bid: int = 0, ask: int = 0, seq: int = 1,
) -> bytes:  # fmt: skip
    """Prices in paise. Best five: flag 1 = buy, 0 = sell, 10 entries of 20 bytes at offset 147."""
    head = struct.pack("<BB", 3, exchange_type) + token.encode().ljust(25, b"\0")
    body = struct.pack("<qqq", seq, ts_ms, ltp)
    body += struct.pack("<qqq", qty, ltp, volume) + struct.pack("<dd", 0.0, 0.0)
    body += struct.pack("<qqqq", open_, ltp, ltp, close)
    body += struct.pack("<qqq", ts_ms // 1000, oi, 0)
    depth = b""
    for i in range(10):
        buy = i < 5
        price = (bid - 5 * i if buy else ask + 5 * (i - 5)) if (bid if buy else ask) else 0
        depth += struct.pack("<HqqH", 1 if buy else 0, 100, max(0, price), 3)
    tail = struct.pack("<qqqq", 0, 0, 0, 0)
    packet = head + body + depth + tail
    assert len(packet) == 379, len(packet)
    return packet


def kite_full_quote(
    token: int, ltp: int, ts_s: int, *, qty: int = 0, volume: int = 0, open_: int = 0, close: int = 0,
    oi: int = 0, bid: int = 0, ask: int = 0,
) -> bytes:  # fmt: skip
    """One 184-byte full-mode packet; prices in paise (the SDK divides by 100 for NSE/NFO)."""
    p = struct.pack(">IIIIIII", token, ltp, qty, ltp, volume, 0, 0)
    p += struct.pack(">IIII", open_, ltp, ltp, close)
    p += struct.pack(">IIIII", ts_s, oi, oi, oi, ts_s)
    for i in range(10):
        buy = i < 5
        price = bid - 5 * i if buy else ask + 5 * (i - 5)
        p += struct.pack(">IIHH", 100, max(0, price), 2, 0)
    assert len(p) == 184, len(p)
    return p


def kite_message(*packets: bytes) -> bytes:
    return struct.pack(">H", len(packets)) + b"".join(struct.pack(">H", len(p)) + p for p in packets)
