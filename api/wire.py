"""JSON and MessagePack from the same msgspec Structs, chosen by ``Content-Type`` and ``Accept``.

Litestar decodes a handler's ``data`` through ``Request.json()`` and then converts the builtins to
the annotated Struct. :class:`WireRequest` makes that call speak MessagePack when the body says so;
:class:`WireResponse` encodes to MessagePack when the client's ``Accept`` prefers it. Handlers stay
unaware of the wire format, and the OpenAPI schema documents both media types.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import SerializationException
from litestar.response.base import ASGIResponse
from litestar.serialization import default_serializer, encode_msgpack
from litestar.utils.helpers import get_enum_string_value

from api.errors import InvalidRequestBody, MalformedBody, UnsupportedMediaType

MSGPACK_TYPES = frozenset({"application/msgpack", "application/x-msgpack", "application/vnd.msgpack"})
JSON_TYPES = frozenset({"application/json", "text/json"})


def _media(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def is_msgpack(content_type: str) -> bool:
    """True for the MessagePack media types."""
    return _media(content_type) in MSGPACK_TYPES


def _is_json(content_type: str) -> bool:
    media = _media(content_type)
    return media in JSON_TYPES or media.endswith("+json")


def preferred_msgpack(accept: str) -> str | None:
    """The MessagePack type the Accept header ranks above JSON (ties go to the first listed), if any."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept.split(",")):
        pieces = part.split(";")
        media = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media in MSGPACK_TYPES or media in JSON_TYPES:
            candidate = (quality, -position, media)
            if quality > 0 and (best is None or candidate[:2] > best[:2]):
                best = candidate
    return best[2] if best is not None and best[2] in MSGPACK_TYPES else None


class WireRequest(Request[Any, Any, Any]):
    """A request whose ``json()`` also understands MessagePack bodies."""

    async def json(self) -> Any:
        """Decode the body by its Content-Type: MessagePack, JSON, or refuse the media type."""
        content_type = self.headers.get("content-type", "")
        try:
            if is_msgpack(content_type):
                return _without_nul(await self.msgpack())
            if content_type and not _is_json(content_type) and await self.body():
                raise UnsupportedMediaType(
                    f"Content-Type {_media(content_type)!r} is not supported; "
                    "send application/json or application/msgpack"
                )
            decoded = await super().json()
            # JSON can carry a NUL only escaped; look closer only then.
            return _without_nul(decoded) if b"\\u0000" in await self.body() else decoded
        except SerializationException as exc:
            kind = "MessagePack" if is_msgpack(content_type) else "JSON"
            raise MalformedBody(f"the body is not valid {kind}: {exc.detail or exc}") from None


def _without_nul(value: Any) -> Any:
    """The decoded body, unless a string in it (value or key) holds a NUL character: no text the
    server keeps may (PostgreSQL refuses it, so it would fail as a 500 deep inside a handler)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise InvalidRequestBody("text may not contain NUL characters")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


class WireResponse(Response[Any]):
    """A response that switches from JSON to MessagePack when the client asks for it."""

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        """Pick the media type from the request's Accept header, then render as usual."""
        chosen = get_enum_string_value(self.media_type or kwargs.get("media_type") or MediaType.JSON)
        if chosen.startswith(MediaType.JSON.value):
            msgpack_type = preferred_msgpack(request.headers.get("accept", ""))
            if msgpack_type is not None:
                self.media_type = kwargs["media_type"] = msgpack_type
        return super().to_asgi_response(app, request, **kwargs)

    def render(self, content: Any, media_type: str, enc_hook: Any = default_serializer) -> bytes:
        """Encode MessagePack under any of its media type names (Litestar knows only one)."""
        if media_type in MSGPACK_TYPES:
            return encode_msgpack(content, enc_hook)
        return super().render(content, media_type, enc_hook)
