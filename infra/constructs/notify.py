"""Outbound notification channels: SES e-mail identity and the SNS topic for SMS/push."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from constructs import Construct
from mantra.settings import Settings

from infra.constructs.common import acknowledge


class Notifications(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, sender_domain: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.sender_domain = sender_domain
        self.push_application_name = settings.name("push")
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
        """Publish to the topic, to this stage's push endpoints, and SMS (which has no resource ARN)."""
        self.topic.grant_publish(grantee)
        stack = Stack.of(self)
        app = self.push_application_name
        app_arn = stack.format_arn(
            service="sns", resource="app", resource_name=f"*/{app}", arn_format=ArnFormat.SLASH_RESOURCE_NAME
        )
        endpoints = stack.format_arn(
            service="sns",
            resource="endpoint",
            resource_name=f"*/{app}/*",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        principal = grantee.grant_principal
        principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:CreatePlatformEndpoint"], resources=[app_arn])
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sns:Publish", "sns:DeleteEndpoint", "sns:GetEndpointAttributes"],
                resources=[endpoints],
            )
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:Publish", "sns:ListPlatformApplications"], resources=["*"])
        )
        region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
        account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
        prefix = f"arn:<AWS::Partition>:sns:{region}:{account}"
        if isinstance(grantee, Construct):
            acknowledge(
                grantee,
                "AwsSolutions-IAM5[Resource::*]",
                "SMS goes to phone numbers, which have no ARN, and ListPlatformApplications takes no "
                "resource; X-Ray trace writes likewise accept no resource ARN",
            )
            acknowledge(
                grantee,
                f"AwsSolutions-IAM5[Resource::{prefix}:endpoint/*/{app}/*]",
                "Push endpoints are created per device at run time under this stage's own platform "
                "application; the wildcard is scoped to that application",
            )
            acknowledge(
                grantee,
                f"AwsSolutions-IAM5[Resource::{prefix}:app/*/{app}]",
                "The platform application is created by operations with FCM or APNs credentials; only "
                "its platform segment (GCM or APNS) is a wildcard",
            )
