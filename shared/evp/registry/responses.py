"""Responses in Confluent's media types, and the JSON error body every failure gets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response

from evp.registry.errors import RegistryError

__all__ = ["MEDIA_TYPES", "error_response", "json_response", "negotiate", "raw_json_response"]

MEDIA_TYPES = (
    "application/vnd.schemaregistry.v1+json",
    "application/vnd.schemaregistry+json",
    "application/json",
)


def negotiate(accept: str | None) -> str:
    """The media type to answer an ``Accept`` header with (Confluent's v1 type by default)."""
    if not accept:
        return MEDIA_TYPES[0]
    offers: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept.split(",")):
        media, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        offers.append((-quality, position, media.strip().lower()))
    for _, _, media in sorted(offers):
        if media in MEDIA_TYPES:
            return media
        if media in ("*/*", "application/*"):
            return MEDIA_TYPES[0]
    return MEDIA_TYPES[0]


def json_response(
    connection: HTTPConnection,
    content: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``content`` as compact JSON in the media type the client accepts."""
    body = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
    return raw_json_response(connection, body, status, headers)


def raw_json_response(
    connection: HTTPConnection,
    body: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``body``, already JSON text, in the media type the client accepts."""
    media_type = negotiate(connection.headers.get("accept"))
    # "replace": an error message may quote input holding lone surrogates.
    return Response(body.encode(errors="replace"), status, headers=headers, media_type=media_type)


def error_response(
    connection: HTTPConnection, error: RegistryError, headers: Mapping[str, str] | None = None
) -> Response:
    """``{"error_code": …, "message": …}`` with the error's HTTP status."""
    return json_response(connection, error.body(), error.status, headers)
