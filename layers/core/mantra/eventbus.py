"""The outbox relay's service: outbox rows (from the table's stream) -> events on the bus."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import BaseModel, Field, field_validator

from mantra.ports import EventPublisher


class OutboxEvent(BaseModel):
    event_id: str = Field(min_length=1)
    detail_type: str = Field(min_length=1)
    detail: dict[str, object]

    @field_validator("detail", mode="before")
    @classmethod
    def _decode(cls, value: object) -> object:
        # the outbox stores the detail as a JSON string attribute
        return json.loads(value) if isinstance(value, str) else value


class PublishFailed(Exception):
    pass


class OutboxRelay:
    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    def relay(self, events: Sequence[OutboxEvent]) -> None:
        failed = self._publisher.publish([(e.event_id, e.detail_type, e.detail) for e in events])
        if failed:
            raise PublishFailed(f"bus refused {len(failed)} event(s): {', '.join(failed[:5])}")
