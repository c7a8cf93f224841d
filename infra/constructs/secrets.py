"""Secrets Manager secrets (broker, Stripe, auth), named ``mantra/<stage>/<name>``; set by operators."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from mantra.settings import Settings

from infra.constructs.common import acknowledge, lookup


def secret_name(settings: Settings, name: str) -> str:
    return f"mantra/{settings.stage}/{name}"


class PlatformSecrets(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, names: Iterable[str]
    ) -> None:
        super().__init__(scope, construct_id)
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for name in names:
            secret = secretsmanager.Secret(
                self,
                name,
                secret_name=secret_name(settings, name),
                description=f"Trade Mantra {settings.stage}: {name} credentials (set by an operator)",
                removal_policy=RemovalPolicy.RETAIN,
            )
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                f"The {name!r} secret holds credentials issued by an external party (broker API key and TOTP "
                "seed, Stripe API and webhook keys, identity signing material); no rotation Lambda can mint "
                "new ones, so operators rotate them at the provider and update the secret (runbook).",
            )
            self.secrets[name] = secret

    def grant_read(self, grantee: iam.IGrantable, name: str) -> None:
        lookup(self.secrets, name, "secret").grant_read(grantee)
