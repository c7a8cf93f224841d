"""Configuration, read once at the edge (handler, CLI, app factory) and passed in.

Every AWS endpoint comes from the standard ``AWS_ENDPOINT_URL*`` variables, which boto3 reads itself;
nothing here branches on "local". Table and resource names are derived from one ``stage`` prefix.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MANTRA_", extra="ignore", frozen=True)

    stage: str = Field("dev", description="Prefix of every table, stream, bus and queue name.")
    region: str = Field("ap-south-1", alias="AWS_REGION")

    # Market data plane
    tick_stream: str = "ticks"
    feed_provider: str = Field("simulated", description="simulated | replay")
    feed_interval_ms: int = 200
    feed_seed: int = 7
    feed_stale_after_s: float = 5.0

    # Events and delivery
    event_bus: str = "events"
    event_source: str = "trade-mantra"
    alert_dispatch_queue: str = "alert-dispatch"
    email_transport: str = Field("ses", description="ses in the cloud; smtp for the local sink")
    email_from: str = "alerts@trademantra.in"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    public_base_url: str = "http://127.0.0.1:8000"
    webhook_allowed_networks: tuple[str, ...] = Field(
        (),
        description='Networks webhooks may reach despite the SSRF rules: tests and local only, e.g. ["127.0.0.0/8"]',
    )

    # Identity: Cognito in the cloud, the development issuer locally; validated the same way.
    auth_issuer: str = "http://127.0.0.1:8000/auth"
    auth_client_id: str = "mantra-dev-client"
    auth_jwks_url: str = ""
    dev_issuer_key_file: Path | None = None
    dev_signing_key: SecretStr | None = None
    token_ttl_s: int = 3600

    # Local platform
    data_dir: Path = Path(".data")
    standins_dir: Path = Path(".standins")
    api_port: int = 8000
    dynamodb_port: int = 8100
    kinesis_port: int = 8101
    moto_port: int = 8102

    @property
    def jwks_url(self) -> str:
        return self.auth_jwks_url or f"{self.auth_issuer}/.well-known/jwks.json"

    def name(self, base: str) -> str:
        """The deployed name of a table, stream, bus or queue."""
        return f"mantra-{self.stage}-{base}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
