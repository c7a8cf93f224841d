"""Deployment configuration read from CDK context (``-c stage=prod``); defaults live in cdk.json."""

from __future__ import annotations

import os
from dataclasses import dataclass

from aws_cdk import Fn, RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Node

DEFAULT_REGION = "ap-south-1"
DEFAULT_SENDER_DOMAIN = "trademantra.in"

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
}


# CDK context keys (``-c sms_sender_id=TRDMTR``) that become the functions' MANTRA_* SMS settings
SMS_DLT_KEYS = ("sms_dlt_entity_id", "sms_dlt_alert_template_id", "sms_dlt_code_template_id", "sms_sender_id")


@dataclass(frozen=True)
class InfraConfig:
    stage: str = "dev"
    region: str = DEFAULT_REGION
    account: str | None = None
    sender_domain: str = DEFAULT_SENDER_DOMAIN
    alarm_email: str | None = None
    log_retention_days: int = 30
    api_rate_limit: int = 50
    api_burst_limit: int = 100
    availability_zones: tuple[str, ...] = ()
    feed_provider: str | None = None
    # India's DLT registration for SMS (not secrets: printed on every message's route); empty = not registered,
    # and the SMS sender then refuses +91 numbers rather than send what operators drop
    sms_dlt: tuple[tuple[str, str], ...] = ()

    @property
    def protect_data(self) -> bool:
        """Production keeps deletion protection on and retains its logs."""
        return self.stage == "prod"

    @property
    def azs(self) -> list[str]:
        """Two AZs without a context lookup (synth stays offline): the first two of ``Fn::GetAZs`` at deploy
        time, unless the ``availability_zones`` context names them."""
        if self.availability_zones:
            return list(self.availability_zones)
        return [Fn.select(i, Fn.get_azs()) for i in range(2)]

    @property
    def log_retention(self) -> logs.RetentionDays:
        try:
            return _RETENTION[self.log_retention_days]
        except KeyError:
            raise ValueError(
                f"log_retention_days={self.log_retention_days} is not one of {sorted(_RETENTION)}"
            ) from None

    @property
    def log_removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.protect_data else RemovalPolicy.DESTROY

    @classmethod
    def from_context(cls, node: Node) -> InfraConfig:
        def get(key: str) -> str | None:
            value = node.try_get_context(key)
            return None if value in (None, "") else str(value)

        azs = get("availability_zones")
        return cls(
            stage=get("stage") or cls.stage,
            region=get("region") or os.environ.get("CDK_DEFAULT_REGION") or DEFAULT_REGION,
            account=get("account") or os.environ.get("CDK_DEFAULT_ACCOUNT"),
            sender_domain=get("sender_domain") or DEFAULT_SENDER_DOMAIN,
            alarm_email=get("alarm_email"),
            log_retention_days=int(get("log_retention_days") or cls.log_retention_days),
            api_rate_limit=int(get("api_rate_limit") or cls.api_rate_limit),
            api_burst_limit=int(get("api_burst_limit") or cls.api_burst_limit),
            availability_zones=tuple(a.strip() for a in azs.split(",")) if azs else (),
            feed_provider=get("feed_provider"),
            sms_dlt=tuple((key, value) for key in SMS_DLT_KEYS if (value := get(key))),
        )
