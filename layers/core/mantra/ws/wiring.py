"""Settings -> the WebSocket services, built once per process, lazily (the Lambda handlers and the local
gateway call the same ``get_ws``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from mantra.auth.tokens import DevIssuer, JwksUrlKeys, KeySource, StaticKeys, TokenValidator
from mantra.container import Container, get_container
from mantra.settings import Settings
from mantra.store.ws_repository import ApiGatewayManagement, DynamoConnectionRepository
from mantra.ws.service import WsCleanup, WsFanout, WsSessions


def token_validator(settings: Settings) -> TokenValidator:
    """The REST API's validator, built the same way: the development issuer's keys locally, Cognito's JWKS in
    the cloud; issuer, client id, ``token_use`` and expiry checked identically."""
    keys: KeySource
    if settings.dev_issuer_key_file is not None:
        dev = DevIssuer.from_file(
            settings.dev_issuer_key_file, settings.auth_issuer, settings.auth_client_id, settings.token_ttl_s
        )
        keys = StaticKeys(dev.jwks)
    else:
        keys = JwksUrlKeys(settings.jwks_url)
    return TokenValidator(keys, settings.auth_issuer, settings.auth_client_id)


@dataclass
class WsServices:
    settings: Settings
    container: Container

    @cached_property
    def connections(self) -> DynamoConnectionRepository:
        return DynamoConnectionRepository()

    @cached_property
    def sessions(self) -> WsSessions:
        return WsSessions(
            self.connections,
            token_validator(self.settings),
            self.container.users,
            self.container.instruments,
            self.container.clock,
            lifetime_s=self.settings.ws_connection_lifetime_s,
            max_topics=self.settings.ws_max_topics,
        )

    @cached_property
    def management(self) -> ApiGatewayManagement:
        return ApiGatewayManagement(self.settings)

    @cached_property
    def fanout(self) -> WsFanout:
        return WsFanout(self.connections, self.management)

    @cached_property
    def cleanup(self) -> WsCleanup:
        return WsCleanup(self.connections, self.management, self.container.clock)


_services: dict[Settings, WsServices] = {}


def get_ws(settings: Settings) -> WsServices:
    if settings not in _services:
        _services[settings] = WsServices(settings, get_container(settings))
    return _services[settings]
