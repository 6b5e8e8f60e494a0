"""The one composition point: the Litestar app with every context's routes and the engines."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from api.auth import auth_middleware, provide_principal
from api.cases.routes import ROUTES as CASE_ROUTES
from api.db import is_sqlite, start_engine, stop_engine
from api.dispatch.routes import ROUTES as VISIT_ROUTES
from api.errors import (
    AuthenticationRequired,
    InternalError,
    InvalidRequestBody,
    MalformedBody,
    RequestBodyTooLarge,
    RoleNotAllowed,
    TokenRevoked,
    UnsupportedMediaType,
    exception_handlers,
)
from api.evidence.routes import ROUTES as EVIDENCE_ROUTES
from api.health.routes import health
from api.http import errors, merge_responses, reject_nul
from api.migrations import upgrade
from api.openapi import ClosedStructSchemaPlugin, LocalTimeSchemaPlugin, finish_openapi, parses_parameters
from api.outcomes.routes import ROUTES as OUTCOME_ROUTES
from api.people.errors import DeviceRevoked, UserInactive
from api.people.routes import DeviceController, TeamController, TokenController, UserController
from api.qc.routes import ROUTES as QC_ROUTES
from api.queue.backends import start_backend, stop_backend
from api.queue.catalogue import register_all
from api.routing.routes import ROUTES as ROUTING_ROUTES
from api.settings import Settings, get_settings
from api.sync.routes import ROUTES as SYNC_ROUTES
from api.webhooks.routes import ROUTES as WEBHOOK_ROUTES
from api.wire import WireRequest, WireResponse

log = logging.getLogger(__name__)

ROUTE_HANDLERS: list[Any] = [
    health,
    TeamController,
    UserController,
    TokenController,
    DeviceController,
    *CASE_ROUTES,
    *VISIT_ROUTES,
    *OUTCOME_ROUTES,
    *QC_ROUTES,
    *WEBHOOK_ROUTES,
    *SYNC_ROUTES,
    *EVIDENCE_ROUTES,
    *ROUTING_ROUTES,
]


def _lifespan(settings: Settings, *, run_jobs: bool) -> Any:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        opened = await start_engine(settings.database)
        if is_sqlite():
            await upgrade()  # the embedded mode migrates itself; PostgreSQL uses `fieldvisit db upgrade`
        backend = await start_backend(settings, schedules=run_jobs)
        app.state.queue = backend
        try:
            yield
        finally:
            await stop_backend(backend)
            if opened:
                await stop_engine()

    return lifespan


def create_app(
    settings: Settings | None = None, *, extra_handlers: list[Any] | None = None, run_schedules: bool = True
) -> Litestar:
    """Build the application. ``extra_handlers`` lets tests mount probe routes on the real stack."""
    settings = settings or get_settings()
    register_all()
    app = Litestar(
        route_handlers=[*ROUTE_HANDLERS, *(extra_handlers or [])],
        lifespan=[_lifespan(settings, run_jobs=run_schedules)],
        middleware=[reject_nul, auth_middleware()],
        dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
        exception_handlers=exception_handlers(),
        plugins=[ClosedStructSchemaPlugin(), LocalTimeSchemaPlugin()],
        request_class=WireRequest,
        response_class=WireResponse,
        request_max_body_size=settings.http.max_body_bytes,
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=1024, gzip_compress_level=6, exclude_opt_key="skip_compression"
        ),
        openapi_config=OpenAPIConfig(
            title="fieldvisit",
            version="1",
            description=(
                "Server of the fieldvisit offline-first field-visit app. Every /v1 endpoint speaks JSON "
                "and MessagePack (Content-Type / Accept: application/msgpack). Errors are "
                '`{"error", "code", "detail"}` with stable codes.'
            ),
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", description="staff or device token")
                }
            ),
            security=[{"bearer": []}],
        ),
    )
    document_common_errors(app)
    finish_openapi(app)
    return app


_AUTH_ERRORS = errors(AuthenticationRequired, TokenRevoked, DeviceRevoked, UserInactive, RoleNotAllowed)
_BODY_ERRORS = errors(InvalidRequestBody, MalformedBody, RequestBodyTooLarge, UnsupportedMediaType)
_PARAMETER_ERRORS = errors(InvalidRequestBody)
_ALWAYS = errors(InternalError)


def document_common_errors(app: Litestar) -> None:
    """Add the errors every route shares (auth, body decoding, 500) to each route's OpenAPI entry."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            groups = [_ALWAYS]
            if not handler.opt.get("exclude_from_auth"):
                groups.append(_AUTH_ERRORS)
            if parses_parameters(handler, getattr(route, "path_parameters", None)):
                groups.append(_PARAMETER_ERRORS)
            if "data" in handler.parsed_fn_signature.parameters:
                groups.append(_BODY_ERRORS)
            handler.responses = merge_responses(*groups, handler.responses or {})
