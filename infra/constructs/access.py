"""Turns a catalog ``Access`` into least-privilege grants on the platform's resources."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from mantra.catalog import Access

from infra.constructs.data import DataTables
from infra.constructs.notify import Notifications
from infra.constructs.secrets import PlatformSecrets
from infra.constructs.stream import MarketStreams


@dataclass(frozen=True)
class Resources:
    """What a function or task may be granted access to."""

    data: DataTables
    streams: MarketStreams
    bus: events.EventBus
    notify: Notifications
    secrets: PlatformSecrets


def grant_access(grantee: iam.IGrantable, access: Access, resources: Resources) -> None:
    """Exactly what ``access`` lists, each on the specific resource ARN."""
    resources.data.grant_read(grantee, *access.tables_read)
    resources.data.grant_write(grantee, *access.tables_write)
    if access.stream_write:
        resources.streams.grant_write(grantee)
    if access.put_events:
        resources.bus.grant_put_events_to(grantee)
    if access.send_email:
        resources.notify.grant_send_email(grantee)
    if access.publish_sns:
        resources.notify.grant_publish(grantee)
    for name in access.secrets:
        resources.secrets.grant_read(grantee, name)
