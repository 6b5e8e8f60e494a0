"""The OpenAPI document says exactly what the server does: closed request schemas, local times of
day, a coded 400 on every route that parses parameters, no body on a 204, the streamed import body.

Clients and the schemathesis fuzz tests generate requests from this document, so each place it
promised more than the server accepts (unknown fields, a body on a 204) was a schema break.
"""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, RequestBody, Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

REQUEST_BODY_OPT = "openapi_request_body"
"""``opt`` key of a handler that reads its body itself: the RequestBody to document."""

# Names a handler's signature may hold that are not request parameters.
_NOT_PARAMETERS = frozenset({"principal", "request", "data", "state", "scope", "headers", "cookies", "query", "body"})


LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$"


class LocalTimeSchemaPlugin(OpenAPISchemaPlugin):
    """A ``datetime.time`` is a local time of day, ``HH:MM:SS`` on the wire (msgspec's encoding).

    Litestar documents it as ``format: duration``, which no time of day matches, and JSON Schema's
    ``format: time`` requires a UTC offset that a local shift start has not: a pattern says it.
    """

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        """Plain ``time`` fields."""
        return field_definition.annotation is time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        """A string of the local time pattern."""
        return Schema(type=OpenAPIType.STRING, pattern=LOCAL_TIME_PATTERN, description="local time, HH:MM:SS")


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """Structs decoded with ``forbid_unknown_fields`` are documented as closed objects."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        """The Struct's schema, with ``additionalProperties: false`` when unknown fields are refused."""
        schema = super().to_openapi_schema(field_definition, schema_creator)
        config = getattr(field_definition.type_, "__struct_config__", None)
        if config is not None and config.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


def parses_parameters(handler: Any, path_parameters: object) -> bool:
    """Whether Litestar validates path or query parameters for this handler (a coded 400 when bad)."""
    if path_parameters:
        return True
    names = set(handler.parsed_fn_signature.parameters) - _NOT_PARAMETERS - set(handler.resolve_dependencies())
    return bool(names)


def text_body(description: str, *media_types: str) -> RequestBody:
    """A required request body of raw text in one of ``media_types``."""
    content = {media: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)) for media in media_types}
    return RequestBody(content=content, description=description, required=True)


def finish_openapi(app: Litestar) -> None:
    """Build the document once and correct what Litestar cannot infer: 204s have no body, and
    handlers that stream their body document it through ``opt``."""
    openapi = app.plugins.get(OpenAPIPlugin).provide_openapi()
    for route in app.routes:
        path_item = (openapi.paths or {}).get(route.path_format)
        if path_item is None:
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in handler.http_methods:
                operation = getattr(path_item, method.lower(), None)
                if operation is None:
                    continue
                body = handler.opt.get(REQUEST_BODY_OPT)
                if isinstance(body, RequestBody):
                    operation.request_body = body
                no_content = (operation.responses or {}).get("204")
                if isinstance(no_content, OpenAPIResponse):
                    no_content.content = None
