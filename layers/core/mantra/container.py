"""Wiring: settings -> repositories, adapters and services. Built once per process, lazily."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from mantra.alerts.dispatch import AlertDispatcher
from mantra.alerts.inbox import InboxService
from mantra.alerts.service import AlertService
from mantra.clock import Clock, SystemClock
from mantra.eventbus import OutboxFastPath, OutboxRelay
from mantra.health import HealthService, tcp_check
from mantra.market.ticks import TickProcessor
from mantra.ports import EmailSender
from mantra.scans.service import ScanService
from mantra.settings import Settings
from mantra.store import aws, repositories, tables

if TYPE_CHECKING:
    from mantra.access.apikeys import ApiKeyService
    from mantra.access.entitlements import PlanCatalog
    from mantra.access.ratelimit import RateLimiter
    from mantra.alerts.options import OptionAlerts
    from mantra.alerts.phone import PhoneVerification
    from mantra.alerts.plan_limits import PlanLimits
    from mantra.alerts.scheduled import ScheduledAlerts, SignalAlerts
    from mantra.alerts.sms import SmsAllowance
    from mantra.alerts.webhooks import WebhookChannel, WebhookDeliverer, WebhookRetry, WebhookService
    from mantra.auth.accounts import AccountService, IdentityProvider
    from mantra.auth.codes import CodeBook
    from mantra.auth.mfa import Mfa
    from mantra.auth.privacy import Privacy
    from mantra.auth.sessions import Sessions
    from mantra.backtests.service import BacktestJobs
    from mantra.billing.dunning import DunningService
    from mantra.billing.finance import FinanceReports
    from mantra.billing.gateway import StripeGateway
    from mantra.billing.metering import UsageMetering
    from mantra.billing.notices import BillingNotices
    from mantra.billing.service import BillingService
    from mantra.billing.webhook import StripeWebhookService
    from mantra.market.adjustments import AdjustedCandles
    from mantra.market.fo_contracts import FoLookup
    from mantra.market.option_chain import OptionChainService
    from mantra.market.universes import UniverseCatalog
    from mantra.store.billing_repository import DynamoBillingRepository
    from mantra.store.fo_repository import DynamoEqHistory, DynamoFoStore
    from mantra.watchlists.service import WatchlistService


@dataclass
class Container:
    settings: Settings
    clock: Clock

    def __post_init__(self) -> None:
        tables.configure(self.settings)

    # repositories
    @cached_property
    def instruments(self) -> repositories.DynamoInstrumentRepository:
        return repositories.DynamoInstrumentRepository()

    @cached_property
    def quotes(self) -> repositories.DynamoQuoteRepository:
        return repositories.DynamoQuoteRepository()

    @cached_property
    def candles(self) -> repositories.DynamoCandleRepository:
        return repositories.DynamoCandleRepository()

    @cached_property
    def adjusted_candles(self) -> AdjustedCandles:
        """Candles adjusted on read for splits, bonuses and rights: what scans, backtests and daily charts
        read (the store keeps bars as traded)."""
        from mantra.market.adjustments import AdjustedCandles, FactorBook
        from mantra.store.corporate_action_repository import DynamoCorporateActions
        from mantra.store.history_repository import DynamoHistoryLoads

        return AdjustedCandles(
            self.candles, FactorBook(DynamoCorporateActions(), DynamoHistoryLoads()), self.clock
        )

    @cached_property
    def alerts(self) -> repositories.DynamoAlertRepository:
        return repositories.DynamoAlertRepository()

    @cached_property
    def notifications(self) -> repositories.DynamoNotificationRepository:
        return repositories.DynamoNotificationRepository()

    @cached_property
    def users(self) -> repositories.DynamoUserRepository:
        return repositories.DynamoUserRepository()

    @cached_property
    def plans(self) -> repositories.DynamoPlanRepository:
        return repositories.DynamoPlanRepository()

    @cached_property
    def outbox(self) -> repositories.DynamoOutboxRepository:
        return repositories.DynamoOutboxRepository()

    @cached_property
    def feed_status(self) -> repositories.DynamoFeedStatusRepository:
        return repositories.DynamoFeedStatusRepository()

    # adapters
    @cached_property
    def event_publisher(self) -> aws.EventBridgePublisher:
        return aws.EventBridgePublisher(self.settings)

    @cached_property
    def email(self) -> EmailSender:
        if self.settings.email_transport == "smtp":
            from mantra.alerts.email import SmtpEmailSender

            return SmtpEmailSender(self.settings)
        return aws.SesEmailSender(self.settings)

    # services
    @cached_property
    def tick_processor(self) -> TickProcessor:
        return TickProcessor(
            self.quotes,
            self.candles,
            self.alerts,
            self.clock,
            alert_cache_s=self.settings.alert_cache_s,
            fast_path=OutboxFastPath(self.event_publisher, self.outbox),
        )

    @cached_property
    def outbox_relay(self) -> OutboxRelay:
        return OutboxRelay(self.event_publisher, self.outbox, self.clock)

    @cached_property
    def sns(self) -> aws.SnsSender:
        return aws.SnsSender(self.settings)

    @cached_property
    def dispatcher(self) -> AlertDispatcher:
        webhooks = getattr(self, "webhook_channel", None)  # the webhook channel plugs in when present
        return AlertDispatcher(
            self.notifications,
            self.users,
            self.email,
            self.clock,
            self.sns,
            webhooks,
            self.sms_allowance,
            self.settings.public_base_url,
        )

    @cached_property
    def sms_allowance(self) -> SmsAllowance:
        from mantra.alerts.sms import SmsAllowance
        from mantra.store.access_repository import DynamoQuotaCounter

        return SmsAllowance(DynamoQuotaCounter(), self.plans, self.clock)

    @cached_property
    def phone_verification(self) -> PhoneVerification:
        from mantra.alerts.phone import PhoneVerification
        from mantra.store.access_repository import DynamoPhoneChallenges

        s = self.settings
        return PhoneVerification(
            DynamoPhoneChallenges(),
            self.users,
            self.sns,
            self.clock,
            s.phone_code_ttl_s,
            s.phone_code_attempts,
        )

    @cached_property
    def alert_service(self) -> AlertService:
        return AlertService(
            self.alerts, self.instruments, self.plans, self.clock, self.users, self.scans, self.option_chains
        )

    @cached_property
    def inbox(self) -> InboxService:
        return InboxService(self.notifications)

    @cached_property
    def scans(self) -> ScanService:
        from mantra.market.history import HistoryLoader
        from mantra.store.history_repository import DynamoHistoryLoads
        from mantra.store.scan_repositories import DynamoScannerRepository, DynamoScanSignalRepository

        return ScanService(
            DynamoScannerRepository(),
            DynamoScanSignalRepository(),
            self.plans,
            self.outbox,
            HistoryLoader(self.adjusted_candles, DynamoHistoryLoads(), self.clock, self.fo_store),
            self.clock,
            self.universes.universe,
        )

    @cached_property
    def watchlists(self) -> WatchlistService:
        from mantra.store.watchlist_repository import DynamoWatchlistRepository
        from mantra.watchlists.service import WatchlistService

        return WatchlistService(DynamoWatchlistRepository(), self.instruments, self.plans, self.clock)

    # universes and F&O contract specs from the stored reports
    @cached_property
    def fo_store(self) -> DynamoFoStore:
        from mantra.store.fo_repository import DynamoFoStore

        return DynamoFoStore()

    @cached_property
    def eq_history(self) -> DynamoEqHistory:
        from mantra.store.fo_repository import DynamoEqHistory

        return DynamoEqHistory()

    @cached_property
    def universes(self) -> UniverseCatalog:
        from mantra.market.universes import UniverseCatalog

        return UniverseCatalog(self.fo_store, self.eq_history)

    @cached_property
    def fo_lookup(self) -> FoLookup:
        from mantra.market.fo_contracts import FoLookup

        return FoLookup(self.fo_store)

    @cached_property
    def backtests(self) -> BacktestJobs:
        from mantra.backtests.bars import StoredBars
        from mantra.backtests.service import BacktestJobs
        from mantra.store.backtest_repository import DynamoBacktestJobRepository

        return BacktestJobs(
            DynamoBacktestJobRepository(),
            self.plans,
            StoredBars(self.adjusted_candles),
            self.clock,
            self.fo_lookup.specs,
        )

    @cached_property
    def webhook_deliverer(self) -> WebhookDeliverer:
        from mantra.alerts.webhooks import WebhookDeliverer
        from mantra.alerts.webhooks.ssrf import UrlGuard
        from mantra.alerts.webhooks.transport import PinnedHttpSender
        from mantra.store.webhook_repository import (
            DynamoWebhookDeliveryRepository,
            DynamoWebhookEndpointRepository,
        )

        return WebhookDeliverer(
            DynamoWebhookEndpointRepository(),
            DynamoWebhookDeliveryRepository(),
            UrlGuard(self.settings.webhook_allowed_networks),
            PinnedHttpSender(),
            self.clock,
        )

    @cached_property
    def webhook_channel(self) -> WebhookChannel:
        from mantra.alerts.webhooks import WebhookChannel

        return WebhookChannel(self.webhook_deliverer)

    @cached_property
    def webhooks(self) -> WebhookService:
        from mantra.alerts.webhooks import WebhookService
        from mantra.alerts.webhooks.ssrf import UrlGuard

        return WebhookService(
            self.webhook_deliverer, UrlGuard(self.settings.webhook_allowed_networks), self.clock
        )

    @cached_property
    def webhook_retry(self) -> WebhookRetry:
        from mantra.alerts.webhooks import WebhookRetry

        return WebhookRetry(self.webhook_deliverer, self.clock)

    @cached_property
    def scheduled_alerts(self) -> ScheduledAlerts:
        from mantra.alerts.scheduled import ScheduledAlerts

        return ScheduledAlerts(self.alerts, self.scans, self.clock)

    @cached_property
    def option_alerts(self) -> OptionAlerts:
        from mantra.alerts.options import OptionAlerts

        return OptionAlerts(self.alerts, self.option_chains, self.instruments, self.clock)

    @cached_property
    def signal_alerts(self) -> SignalAlerts:
        from mantra.alerts.scheduled import SignalAlerts

        return SignalAlerts(self.alerts, self.clock)

    @cached_property
    def option_chains(self) -> OptionChainService:
        from mantra.market.option_chain import OptionChainService
        from mantra.market.past_chains import PastChains
        from mantra.store.chain_demand_repository import DynamoChainDemand
        from mantra.store.option_repository import DynamoChainQuotes, DynamoOptionContractRepository

        s = self.settings
        past = PastChains(
            self.fo_store, self.clock, s.risk_free_rate, s.iv_history_sessions, s.option_chain_expiries
        )
        return OptionChainService(
            DynamoOptionContractRepository(),
            DynamoChainQuotes(),
            self.clock,
            s.risk_free_rate,
            past=past,
            summarised_expiries=s.option_chain_expiries,
            demand=DynamoChainDemand(),
        )

    # billing (mantra.billing): Stripe through one gateway, state in the billing tables
    @cached_property
    def stripe(self) -> StripeGateway:
        from mantra.billing.gateway import StripeApiGateway

        return StripeApiGateway(
            aws.read_secret(self.settings, "stripe")["api_key"], self.settings.stripe_api_base
        )

    @cached_property
    def billing_store(self) -> DynamoBillingRepository:
        from mantra.store.billing_repository import DynamoBillingRepository

        return DynamoBillingRepository()

    @cached_property
    def billing(self) -> BillingService:
        from mantra.billing.service import BillingService

        return BillingService(self.billing_store, self.plans, self.stripe, self.settings, self.clock)

    @cached_property
    def stripe_webhooks(self) -> StripeWebhookService:
        from mantra.billing.webhook import StripeWebhookService

        secret = aws.read_secret(self.settings, "stripe")["webhook_secret"]
        return StripeWebhookService(self.billing_store, self.plans, secret, self.settings, self.clock)

    @cached_property
    def dunning(self) -> DunningService:
        from mantra.billing.dunning import DunningService

        return DunningService(self.billing_store, self.plans, self.stripe, self.settings, self.clock)

    @cached_property
    def metering(self) -> UsageMetering:
        from mantra.billing.metering import UsageMetering

        return UsageMetering(
            self.billing_store, self.plans, self.stripe, self.clock, self.settings.billing_free_plan
        )

    @cached_property
    def billing_notices(self) -> BillingNotices:
        from mantra.billing.notices import BillingNotices

        return BillingNotices(self.notifications, self.billing_store, self.email, self.clock)

    @cached_property
    def plan_limits(self) -> PlanLimits:
        from mantra.alerts.plan_limits import PlanLimits

        return PlanLimits(self.alerts, self.plans, self.notifications, self.users, self.clock)

    @cached_property
    def finance(self) -> FinanceReports:
        from mantra.billing.finance import FinanceReports

        return FinanceReports(self.billing_store, self.plans)

    @cached_property
    def health(self) -> HealthService:
        s = self.settings
        checks = {
            "dynamodb": lambda: (
                f"table {repositories.FeedStatusItem.describe_table()['TableName']} reachable"
            ),
            "kinesis": lambda: "stream {} is {}".format(
                s.name(s.tick_stream),
                aws.client("kinesis", s.region).describe_stream_summary(StreamName=s.name(s.tick_stream))[
                    "StreamDescriptionSummary"
                ]["StreamStatus"],
            ),
            "eventbridge": lambda: "bus {} reachable".format(
                aws.client("events", s.region).describe_event_bus(Name=s.name(s.event_bus))["Name"]
            ),
        }
        if s.email_transport == "smtp":
            checks["smtp"] = tcp_check(s.smtp_host, s.smtp_port)
        return HealthService(checks, self.feed_status, self.clock, s.feed_stale_after_s)

    # access (mantra.access): API keys and per-plan rate limits, state in the access tables
    @cached_property
    def api_keys(self) -> ApiKeyService:
        from mantra.access.apikeys import ApiKeyService
        from mantra.store.access_repository import DynamoApiKeyRepository

        return ApiKeyService(DynamoApiKeyRepository(), self.clock)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        from mantra.access.ratelimit import RateLimiter
        from mantra.store.access_repository import DynamoRateCounter

        return RateLimiter(DynamoRateCounter(), self.clock)

    # accounts (mantra.auth): sign-up, codes, sessions; Cognito in the cloud, the local issuer here
    @cached_property
    def account_codes(self) -> CodeBook:
        from mantra.auth.codes import CodeBook
        from mantra.store.account_repository import DynamoEmailCodes

        s = self.settings
        return CodeBook(
            DynamoEmailCodes(), self.email, self.clock, s.account_code_ttl_s, s.account_code_attempts
        )

    @cached_property
    def identity(self) -> IdentityProvider:
        from mantra.auth.accounts import LocalIdentity
        from mantra.store.account_repository import DynamoAccounts

        s = self.settings
        if s.cognito_user_pool_id:
            from mantra.store.cognito import CognitoIdentity

            return CognitoIdentity(s.region, s.auth_client_id, s.cognito_user_pool_id)
        return LocalIdentity(DynamoAccounts(), self.account_codes)

    @cached_property
    def accounts(self) -> AccountService:
        from mantra.auth.accounts import AccountService
        from mantra.store.account_repository import DynamoAccounts, DynamoAttemptCounter

        return AccountService(
            DynamoAccounts(),
            self.identity,
            self.account_codes,
            DynamoAttemptCounter(),
            self.clock,
            self.settings.billing_free_plan,
            self.sessions,
            self.mfa,
        )

    @cached_property
    def privacy(self) -> Privacy:
        from mantra.auth.privacy import Privacy
        from mantra.store.user_data import DynamoUserData

        return Privacy(DynamoUserData(), self.accounts, self.billing_store, self.clock)

    @cached_property
    def mfa(self) -> Mfa:
        from mantra.auth.mfa import Mfa
        from mantra.store.account_repository import DynamoAccounts

        return Mfa(DynamoAccounts(), self.clock)

    @cached_property
    def sessions(self) -> Sessions:
        from mantra.auth.sessions import Sessions
        from mantra.store.account_repository import DynamoRefreshTokens

        return Sessions(DynamoRefreshTokens(), self.clock, self.settings.refresh_ttl_s)

    @cached_property
    def plan_catalog(self) -> PlanCatalog:
        from mantra.access.entitlements import PlanCatalog

        return PlanCatalog(self.plans, self.clock)


_containers: dict[Settings, Container] = {}


def get_container(settings: Settings) -> Container:
    if settings not in _containers:
        _containers[settings] = Container(settings, SystemClock())
    return _containers[settings]
