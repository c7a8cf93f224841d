"""API Gateway HTTP API -> FastAPI (Mangum). The app is built on the first request, not at import."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum
from mantra.observability import powertools

logger, tracer, metrics = powertools("api")


@lru_cache
def asgi() -> Mangum:
    from frontend_api.app import create_app

    return Mangum(create_app(), lifespan="off")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(asgi()(event, cast(Any, context)))
