"""Outbox -> event bus. Events are written to the outbox in the same step as the state that caused them, and
reach the bus in one of two ways:

- the writer publishes them itself right after committing (``OutboxFastPath``) and marks the rows published;
  this is the fast path for latency-critical events (a triggered alert), and it may fail without loss;
- the outbox relay reads every new row from the table's stream and publishes what is not marked: the safety
  net. A row published on both paths (the relay looked before the mark landed) is delivered twice, and
  consumers are idempotent on the event id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from pydantic import BaseModel, Field, field_validator

from mantra.clock import Clock
from mantra.ports import EventPublisher, OutboxMarks

log = logging.getLogger(__name__)


class OutboxEvent(BaseModel):
    event_id: str = Field(min_length=1)
    detail_type: str = Field(min_length=1)
    detail: dict[str, object]

    @field_validator("detail", mode="before")
    @classmethod
    def _decode(cls, value: object) -> object:
        # the outbox stores the detail as a JSON string attribute
        return json.loads(value) if isinstance(value, str) else value


def _entries(events: Sequence[OutboxEvent]) -> list[tuple[str, str, dict[str, object]]]:
    return [(e.event_id, e.detail_type, e.detail) for e in events]


class OutboxRelay:
    def __init__(self, publisher: EventPublisher, marks: OutboxMarks, clock: Clock) -> None:
        self._publisher, self._marks, self._clock = publisher, marks, clock

    def relay(self, events: Sequence[OutboxEvent]) -> list[str]:
        """Publish the events nobody has published yet, and mark them, so a stream record delivered again (a
        retry after a neighbour failed, a redriven batch) goes out once; return the ids the bus refused."""
        if not events:
            return []
        done = self._marks.published([e.event_id for e in events])
        todo = [e for e in events if e.event_id not in done]
        if not todo:
            return []
        refused = self._publisher.publish(_entries(todo))
        sent = [e.event_id for e in todo if e.event_id not in set(refused)]
        try:
            if sent:
                self._marks.mark_published(sent, self._clock.now_ms())
        except Exception:  # they are out; a redelivery may send them again, and consumers are idempotent
            log.warning("marking %d relayed event(s) failed", len(sent), exc_info=True)
        return refused


class OutboxFastPath:
    """Publish just-committed outbox events at once instead of waiting for the stream. Never raises: what does
    not get out here, the relay publishes from the stream."""

    def __init__(self, publisher: EventPublisher, marks: OutboxMarks) -> None:
        self._publisher, self._marks = publisher, marks

    def publish(self, events: Sequence[OutboxEvent], at_ms: int) -> int:
        if not events:
            return 0
        try:
            refused = set(self._publisher.publish(_entries(events)))
            sent = [e.event_id for e in events if e.event_id not in refused]
            self._marks.mark_published(sent, at_ms)
        except Exception:
            log.warning(
                "publishing %d event(s) at once failed; the outbox relay will", len(events), exc_info=True
            )
            return 0
        return len(sent)
