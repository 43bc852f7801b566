"""The HTTP handlers: request parts in, :class:`~evp.registry.service.Registry` calls, JSON out.

Handlers never decide registry semantics themselves. The :func:`endpoint` decorator
records what each handler reads and whether it writes: the OpenAPI document and the
read-only-user check both come from that record. Paths are in :mod:`evp.registry.routes`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from evp.registry.auth import authorize_write
from evp.registry.errors import (
    MalformedRequestError,
    SchemaNotFoundError,
    SchemaTooLargeError,
    UnprocessableRequestError,
)
from evp.registry.requests import SchemaRequest, parse_version
from evp.registry.responses import json_response, raw_json_response
from evp.registry.service import MAX_SCHEMA_BYTES, RegisteredVersion, Registry

__all__ = ["EndpointInfo", "endpoint"]

# JSON escaping can double a schema's size; past this the body cannot hold a valid schema.
MAX_BODY_BYTES = 4 * MAX_SCHEMA_BYTES

Handler = Callable[[Request], Awaitable[Response]]

# ASCII digits only: str.isdigit() also accepts "¹", which int() refuses.
_ID = re.compile(r"[0-9]{1,10}")


@dataclass(frozen=True)
class EndpointInfo:
    """What an endpoint accepts: query parameters, whether a JSON body, whether it writes."""

    query: tuple[str, ...] = ()
    body: str | None = None
    writes: bool = False


def endpoint(
    *, query: tuple[str, ...] = (), body: str | None = None, writes: bool = False
) -> Callable[[Handler], Handler]:
    """Declare a handler's inputs; handlers that write refuse read-only users."""
    info = EndpointInfo(query, body, writes)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(request: Request) -> Response:
            if info.writes:
                authorize_write(request)
            return await handler(request)

        run.endpoint_info = info  # type: ignore[attr-defined]
        return run

    return decorate


# -- request parts -------------------------------------------------------------------


def _registry(request: Request) -> Registry:
    registry: Registry = request.state.registry
    return registry


def _flag(request: Request, name: str) -> bool:
    # Confluent's Python client sends "True"/"False"; Jersey parses booleans case-blind.
    return request.query_params.get(name, "").strip().lower() == "true"


def _page(request: Request, items: list[Any]) -> list[Any]:
    try:
        offset = max(int(request.query_params.get("offset", 0)), 0)
        limit = int(request.query_params.get("limit", -1))
    except ValueError:
        return items
    return items[offset:] if limit < 0 else items[offset : offset + limit]


def _schema_id(request: Request) -> int:
    raw = request.path_params["id"]
    if not _ID.fullmatch(raw) or not 0 < int(raw) < 2**31:
        raise SchemaNotFoundError(raw)
    return int(raw)


async def _body(request: Request) -> Any:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise SchemaTooLargeError(size, MAX_SCHEMA_BYTES)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise UnprocessableRequestError("a JSON request body is required")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise MalformedRequestError(f"Unrecognized JSON in request body: {error}") from error


async def _schema_request(request: Request) -> SchemaRequest:
    return SchemaRequest.from_json(await _body(request))


def _version_json(found: RegisteredVersion) -> dict[str, Any]:
    content: dict[str, Any] = {
        "subject": found.subject,
        "version": found.version,
        "id": found.id,
        "schema": found.schema,
    }
    if found.references:
        content["references"] = [ref.to_json() for ref in found.references]
    if found.deleted:
        content["deleted"] = True
    return content


# -- schemas -------------------------------------------------------------------------


@endpoint()
async def root(request: Request) -> Response:
    """Root resource; answers an empty object, as Confluent's does."""
    return json_response(request, {})


@endpoint()
async def schema_types(request: Request) -> Response:
    """List the schema types this registry supports."""
    return json_response(request, ["AVRO"])


@endpoint(query=("subject", "fetchMaxId"))
async def get_schema(request: Request) -> Response:
    """Get the schema with a global id (schemaType is omitted for Avro); subject=S adds the
    subject and version holding it under S, and fetchMaxId=true the highest id held."""
    registry = _registry(request)
    subject = request.query_params.get("subject")
    content: dict[str, Any] = {}
    if subject is None:
        stored = await registry.schema(_schema_id(request))
    else:
        stored, holder = await registry.schema_in(_schema_id(request), subject)
        content |= {"subject": holder.subject, "version": holder.version}
    content["schema"] = stored.text
    if stored.references:
        content["references"] = [ref.to_json() for ref in stored.references]
    if _flag(request, "fetchMaxId"):
        content["maxId"] = await registry.max_schema_id()
    return json_response(request, content)


@endpoint(query=("subject",))
async def get_schema_text(request: Request) -> Response:
    """Get only the schema text with a global id, unescaped."""
    stored = await _registry(request).schema(_schema_id(request))
    return raw_json_response(request, stored.text)


@endpoint(query=("deleted", "subject", "offset", "limit"))
async def get_schema_subjects(request: Request) -> Response:
    """List the subjects holding a schema id."""
    usages = await _registry(request).usages(_schema_id(request), deleted=_flag(request, "deleted"))
    return json_response(request, _page(request, list(dict.fromkeys(u.subject for u in usages))))


@endpoint(query=("deleted", "subject", "offset", "limit"))
async def get_schema_versions(request: Request) -> Response:
    """List the subject versions holding a schema id."""
    usages = await _registry(request).usages(_schema_id(request), deleted=_flag(request, "deleted"))
    pairs = [{"subject": u.subject, "version": u.version} for u in usages]
    return json_response(request, _page(request, pairs))


# -- subjects ------------------------------------------------------------------------


@endpoint(query=("subjectPrefix", "deleted", "deletedOnly", "offset", "limit"))
async def list_subjects(request: Request) -> Response:
    """List subjects; deleted=true includes soft-deleted ones."""
    subjects = await _registry(request).subjects(
        prefix=request.query_params.get("subjectPrefix", ""),
        deleted=_flag(request, "deleted"),
        deleted_only=_flag(request, "deletedOnly") or _flag(request, "deleted_only"),
    )
    return json_response(request, _page(request, subjects))


@endpoint(query=("deleted", "deletedOnly", "offset", "limit"))
async def list_versions(request: Request) -> Response:
    """List the versions of a subject."""
    versions = await _registry(request).versions(
        request.path_params["subject"],
        deleted=_flag(request, "deleted"),
        deleted_only=_flag(request, "deletedOnly") or _flag(request, "deleted_only"),
    )
    return json_response(request, _page(request, versions))


@endpoint(query=("normalize", "force"), body="RegisterSchemaRequest", writes=True)
async def register(request: Request) -> Response:
    """Register a schema under a subject; answers its global id. force=true skips the
    compatibility check."""
    schema_request = await _schema_request(request)
    schema_id = await _registry(request).register(
        request.path_params["subject"],
        schema_request,
        normalize=_flag(request, "normalize"),
        force=_flag(request, "force"),
    )
    return json_response(request, {"id": schema_id})


@endpoint(query=("deleted",))
async def get_version(request: Request) -> Response:
    """Get a version of a subject (a number, latest or -1)."""
    found = await _registry(request).version(
        request.path_params["subject"],
        parse_version(request.path_params["version"]),
        deleted=_flag(request, "deleted"),
    )
    return json_response(request, _version_json(found))


@endpoint(query=("deleted",))
async def get_version_schema(request: Request) -> Response:
    """Get only the schema text of a version of a subject, unescaped."""
    found = await _registry(request).version(
        request.path_params["subject"],
        parse_version(request.path_params["version"]),
        deleted=_flag(request, "deleted"),
    )
    return raw_json_response(request, found.schema)


@endpoint(query=("offset", "limit"))
async def get_referenced_by(request: Request) -> Response:
    """List the ids of schemas that reference a version of a subject."""
    ids = await _registry(request).referenced_by(
        request.path_params["subject"], parse_version(request.path_params["version"])
    )
    return json_response(request, _page(request, ids))


@endpoint(query=("permanent",), writes=True)
async def delete_version(request: Request) -> Response:
    """Delete a version of a subject (soft, or permanent after a soft delete)."""
    version = await _registry(request).delete_version(
        request.path_params["subject"],
        parse_version(request.path_params["version"]),
        permanent=_flag(request, "permanent"),
    )
    return json_response(request, version)


@endpoint(query=("normalize", "deleted"), body="RegisterSchemaRequest")
async def lookup(request: Request) -> Response:
    """Find the version of a subject holding a given schema."""
    schema_request = await _schema_request(request)
    found = await _registry(request).lookup(
        request.path_params["subject"],
        schema_request,
        normalize=_flag(request, "normalize"),
        deleted=_flag(request, "deleted"),
    )
    return json_response(request, _version_json(found))


@endpoint(query=("permanent",), writes=True)
async def delete_subject(request: Request) -> Response:
    """Delete a subject (soft, or permanent after a soft delete); answers the versions."""
    versions = await _registry(request).delete_subject(
        request.path_params["subject"], permanent=_flag(request, "permanent")
    )
    return json_response(request, versions)


# -- compatibility ------------------------------------------------------------------


@endpoint(query=("verbose", "normalize"), body="RegisterSchemaRequest")
async def check_compatibility(request: Request) -> Response:
    """Test a schema against one version of a subject, or against the versions its level names."""
    schema_request = await _schema_request(request)
    raw_version = request.path_params.get("version")
    result = await _registry(request).test_compatibility(
        request.path_params["subject"],
        schema_request,
        None if raw_version is None else parse_version(raw_version),
        normalize=_flag(request, "normalize"),
    )
    content: dict[str, Any] = {"is_compatible": result.is_compatible}
    if _flag(request, "verbose"):
        content["messages"] = result.messages()
    return json_response(request, content)


# -- config and mode ----------------------------------------------------------------


@endpoint(query=("defaultToGlobal",))
async def get_config(request: Request) -> Response:
    """Get the config (compatibility level and settings), global or of a subject."""
    config = await _registry(request).config(
        request.path_params.get("subject"), default_to_global=_flag(request, "defaultToGlobal")
    )
    return json_response(request, config.to_json())


@endpoint(body="ConfigUpdateRequest", writes=True)
async def put_config(request: Request) -> Response:
    """Change the fields given of the config, global or of a subject; echoes the new config."""
    config = await _registry(request).update_config(
        await _body(request), request.path_params.get("subject")
    )
    return json_response(request, config.to_update_json())


@endpoint(writes=True)
async def delete_config(request: Request) -> Response:
    """Remove a subject's config (or reset the global one); answers the old one."""
    config = await _registry(request).delete_config(request.path_params.get("subject"))
    return json_response(request, config.to_json())


@endpoint(query=("defaultToGlobal",))
async def get_mode(request: Request) -> Response:
    """Get the mode, global or of a subject."""
    mode = await _registry(request).mode(
        request.path_params.get("subject"), default_to_global=_flag(request, "defaultToGlobal")
    )
    return json_response(request, {"mode": mode.value})


@endpoint(query=("force",), body="ModeUpdateRequest", writes=True)
async def put_mode(request: Request) -> Response:
    """Set the mode, global or of a subject; IMPORT on a non-empty registry needs force=true."""
    body = await _body(request)
    if not isinstance(body, dict):
        raise UnprocessableRequestError("the request body must be a JSON object")
    # "mode": null clears the mode; a body without "mode" names no valid mode.
    value = body.get("mode", "")
    mode = await _registry(request).set_mode(
        value,
        request.path_params.get("subject"),
        force=_flag(request, "force"),
    )
    return json_response(request, {"mode": mode.value})


@endpoint(query=("recursive",), writes=True)
async def delete_mode(request: Request) -> Response:
    """Remove a subject's mode (or reset the global one, with recursive=true every subject's
    too); answers the old one."""
    mode = await _registry(request).delete_mode(
        request.path_params.get("subject"), recursive=_flag(request, "recursive")
    )
    return json_response(request, {"mode": mode.value})
