"""Bearer-token authentication and role guards for the Litestar app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware

from api.db import write_transaction
from api.errors import AuthenticationRequired, RoleNotAllowed
from api.people import service as people
from api.people.roles import Principal, Role
from api.settings import get_settings

APP_VERSION_HEADER = "x-app-version"

# Guards are coroutines: Litestar runs a plain function guard in a worker thread, a hop per request.
Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    """Resolve ``Authorization: Bearer <token>`` to a :class:`Principal`, or answer a coded 401."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        """Verify the token and keep the device's last-seen time and app version current."""
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationRequired("send Authorization: Bearer <token>")
        found = await people.authenticate(token.strip())
        device_id = found.principal.device_id
        if device_id is not None:
            version = connection.headers.get(APP_VERSION_HEADER)
            resolution = timedelta(seconds=get_settings().auth.device_seen_resolution_s)
            stale = found.last_seen_at is None or found.last_seen_at < datetime.now(UTC) - resolution
            if stale or (version and version != found.app_version):
                async with write_transaction():
                    await people.record_device_seen(device_id, version)
        return AuthenticationResult(user=found.principal, auth=found.credential_id)


def auth_middleware() -> DefineMiddleware:
    """The authentication middleware; routes opt out with ``opt={"exclude_from_auth": True}``."""
    return DefineMiddleware(BearerTokenMiddleware, exclude=["^/schema", "^/health$"])


def _caller(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The authenticated principal; None for an OPTIONS request, which the authentication middleware
    lets through unauthenticated (CORS preflight, tus discovery): it only learns the allowed methods.

    Guards declared on a controller also cover the OPTIONS handler Litestar adds to each path, where
    no user was ever set; reading ``connection.user`` there raised, a 500 on every such OPTIONS.
    """
    if connection.scope.get("method") == "OPTIONS":
        return None
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise AuthenticationRequired("send Authorization: Bearer <token>")
    return user


def allow(*roles: Role) -> Guard:
    """A guard letting only the given roles through (admins are never implied: list them)."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(r.value for r in allowed))

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = _caller(connection)
        if principal is not None and principal.role not in allowed:
            raise RoleNotAllowed(f"role {principal.role.value!r} may not use this route (allowed: {names})")

    guard.__name__ = f"allow_{'_'.join(sorted(r.value for r in allowed))}"
    return guard


async def device_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard for routes that only an enrolled collector device may call."""
    principal = _caller(connection)
    if principal is not None and (principal.device_id is None or principal.role is not Role.COLLECTOR):
        raise RoleNotAllowed("only an enrolled collector device may use this route")


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Dependency: the authenticated caller."""
    principal: Principal = request.user
    return principal


STAFF_MANAGERS = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
