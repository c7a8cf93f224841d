"""Cognito user pool and app client: the cloud issuer of the JWTs the API validates."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct
from mantra.settings import Settings

from infra.constructs.common import acknowledge


class Identity(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, deletion_protection: bool = False
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            user_pool_name=settings.name("users"),
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=deletion_protection,
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is OPTIONAL by product decision (retail traders sign up self-service); TOTP is offered to "
            "every user and Plus-tier threat protection (FULL_FUNCTION) blocks or challenges risky sign-ins.",
        )
        self.client = self.user_pool.add_client(
            "App",
            user_pool_client_name=settings.name("app"),
            generate_secret=False,  # public web/mobile client
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=True),
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            enable_token_revocation=True,
        )

    @property
    def issuer_url(self) -> str:
        """The token issuer (``iss``); the JWKS lives at ``<issuer>/.well-known/jwks.json``."""
        region = Stack.of(self).region
        return f"https://cognito-idp.{region}.amazonaws.com/{self.user_pool.user_pool_id}"

    @property
    def client_id(self) -> str:
        return self.client.user_pool_client_id
