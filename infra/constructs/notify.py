"""Outbound notification channels: SES e-mail identity and the SNS topic for SMS/push."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from constructs import Construct
from mantra.settings import Settings


class Notifications(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, sender_domain: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.sender_domain = sender_domain
        self.email_identity = ses.EmailIdentity(
            self, "SenderDomain", identity=ses.Identity.domain(sender_domain)
        )
        # The AWS-managed SNS key: publishers need no KMS permissions (a customer key would add kms:* grants).
        self.key = kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns")
        self.topic = sns.Topic(
            self,
            "Push",
            topic_name=settings.name("push"),
            display_name="Trade Mantra",
            master_key=self.key,
            enforce_ssl=True,
        )

    @property
    def sender_address(self) -> str:
        return f"alerts@{self.sender_domain}"

    def grant_send_email(self, grantee: iam.IGrantable) -> None:
        """ses:SendEmail/SendRawEmail on the sender identity's ARN only."""
        self.email_identity.grant_send_email(grantee)

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        self.topic.grant_publish(grantee)
