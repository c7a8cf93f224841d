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
    feed_provider: str = Field(
        "simulated",
        description='Failover order of providers, e.g. "angel,kite": angel | kite | simulated | replay',
    )
    feed_interval_ms: int = 200
    feed_seed: int = 7
    feed_stale_after_s: float = 5.0
    instrument_source: str = Field(
        "bundled:angel_scrip_master_sample.json",
        description="The instrument master dump: a path or http(s) URL of Angel One's OpenAPIScripMaster.json "
        "or a Kite instruments CSV, or bundled:<file> for a sample shipped in mantra/data",
    )
    eod_source: str = Field(
        "https://nsearchives.nseindia.com/products/content|https://nsearchives.nseindia.com/content/cm",
        description="Where eod_ingest fetches each session's reports: https:// archive bases separated by |, "
        "tried in turn, or a folder (locally: the repository's shared/data/nse)",
    )
    risk_free_rate: float = Field(0.065, description="annual, decimal: option IVs and Greeks")
    option_chain_expiries: int = Field(3, ge=1, description="nearest expiries an option chain summarises")
    iv_history_sessions: int = Field(
        252, ge=1, description="past F&O report sessions an ATM IV percentile/rank is measured over"
    )
    feed_failover_after_s: float = Field(10.0, description="No tick this long in market hours: fail over")
    feed_flush_ms: int = Field(
        50,
        description="the feed publishes at least this often (sooner when feed_batch ticks wait): tick latency",
    )
    feed_batch: int = 500
    feed_subscription_refresh_s: float = 60.0
    feed_backoff_cap_s: float = 60.0
    feed_login_retry_s: float = Field(300.0, description="How often a provider that needs login is retried")
    feed_option_chains: str = Field("", description='Simulated index option chains, e.g. "NIFTY,BANKNIFTY"')
    feed_chain_underlyings: str = Field(
        "NIFTY,BANKNIFTY,FINNIFTY,MIDCPNIFTY,SENSEX",
        description="Live option chains a broker feed subscribes (their NFO/BFO contracts from the instrument "
        "master), in priority order; F&O stocks users watch are added after them. Empty: none",
    )
    feed_chain_expiries: int = Field(2, ge=1, le=6, description="Nearest live expiries of each chain")
    feed_chain_strikes: int = Field(10, ge=0, le=100, description="Listed strikes either side of the ATM")
    feed_chain_hysteresis: float = Field(
        0.25,
        ge=0,
        lt=1,
        description="The strike band moves when spot is past the midpoint to the next strike by this share of "
        "the gap (no churn around a midpoint)",
    )
    feed_replay_file: Path | None = Field(None, description="JSON lines of Tick for the replay provider")
    feed_replay_speed: float = 1.0
    feed_history_sessions: int = Field(
        5,
        ge=0,
        le=250,
        description="Sessions of 1-minute bars the feed backfills from the first broker's history API for each "
        "newly subscribed instrument (outages are repaired too); 0 turns broker history off",
    )
    # Broker endpoints: empty = the SDK's own (tests point them at loopback servers)
    angel_api_url: str = ""
    angel_ws_url: str = ""
    kite_api_url: str = ""
    kite_ws_url: str = ""

    alert_cache_s: float = Field(
        1.0,
        ge=0,
        description="tick_processor keeps each instrument's active alerts this long (0: every batch)",
    )

    # Events and delivery
    event_bus: str = "events"
    event_source: str = "trade-mantra"
    alert_dispatch_queue: str = "alert-dispatch"
    email_transport: str = Field("ses", description="ses in the cloud; smtp for the local sink")
    email_from: str = "alerts@trademantra.in"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    public_base_url: str = "http://127.0.0.1:8000"
    # SMS to Indian numbers (+91) must carry the sender's TRAI DLT registration, or operators drop it
    sms_dlt_entity_id: str = Field("", description="DLT principal entity id (SNS: AWS.MN.SMS.EntityId)")
    sms_dlt_alert_template_id: str = Field("", description="DLT template id of alert messages")
    sms_dlt_code_template_id: str = Field("", description="DLT template id of phone verification codes")
    sms_sender_id: str = Field("", description="DLT-registered header, e.g. TRDMTR (AWS.SNS.SMS.SenderID)")
    phone_code_ttl_s: int = Field(600, ge=60, description="a phone verification code expires after this")
    phone_code_attempts: int = Field(5, ge=1, description="wrong codes allowed before a new one is needed")
    webhook_allowed_networks: tuple[str, ...] = Field(
        (),
        description='Networks webhooks may reach despite the SSRF rules: tests and local only, e.g. ["127.0.0.0/8"]',
    )

    # Billing: Stripe in the cloud; locally the Stripe stand-in (mantra.devtools.stripe_standin) on stripe_port
    stripe_api_base: str = Field(
        "", description="empty = api.stripe.com; locally http://127.0.0.1:{stripe_port}"
    )
    billing_grace_days: int = Field(7, description="past_due this long -> downgraded to the free plan")
    billing_free_plan: str = "starter"

    # Real-time push: the WebSocket stage's Management API endpoint (the local gateway locally)
    ws_endpoint: str = Field(
        "", description="https://{api}.execute-api.{region}.amazonaws.com/{stage}; locally the API's base URL"
    )
    ws_connection_lifetime_s: int = 7200  # API Gateway closes a WebSocket connection after 2 h
    ws_max_topics: int = 100

    # Identity: Cognito in the cloud, the development issuer locally; validated the same way.
    auth_issuer: str = "http://127.0.0.1:8000/auth"
    auth_client_id: str = "mantra-dev-client"
    auth_jwks_url: str = ""
    dev_issuer_key_file: Path | None = None
    dev_signing_key: SecretStr | None = None
    token_ttl_s: int = 3600
    cognito_user_pool_id: str = Field(
        "", description="set in the cloud: sign-up and password reset go through this Cognito pool"
    )
    account_code_ttl_s: int = Field(900, ge=60, description="an e-mailed account code expires after this")
    account_code_attempts: int = Field(5, ge=1, description="wrong codes allowed before a new one is needed")
    refresh_ttl_s: int = Field(30 * 86_400, description="a session's refresh token lasts this long")

    # Local platform
    data_dir: Path = Path(".data")
    standins_dir: Path = Path(".standins")
    api_port: int = 8000
    dynamodb_port: int = 8100
    kinesis_port: int = 8101
    moto_port: int = 8102
    stripe_port: int = 8103
    # the exchange's daily reports the demo seeds its history from; unset: shared/data/nse beside the checkout
    nse_data_dir: Path | None = None

    @property
    def jwks_url(self) -> str:
        return self.auth_jwks_url or f"{self.auth_issuer}/.well-known/jwks.json"

    def name(self, base: str) -> str:
        """The deployed name of a table, stream, bus or queue."""
        return f"mantra-{self.stage}-{base}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
