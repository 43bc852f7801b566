"""The route table: Confluent's Schema Registry paths and methods, mapped to handlers.

Subjects may hold any character, ``/`` and ``%`` included, sent percent-encoded
(``/subjects/a%2Fb/versions``). The server decodes a request's path before routing, which
would turn an encoded slash into a separator; :class:`EncodedSlashes` routes on the path
as sent instead, decoded but for ``%2F`` and ``%25``, which the subject convertor decodes.
"""

from __future__ import annotations

from urllib.parse import unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from evp.registry.handlers import (
    check_compatibility,
    delete_config,
    delete_mode,
    delete_subject,
    delete_version,
    get_config,
    get_mode,
    get_referenced_by,
    get_schema,
    get_schema_subjects,
    get_schema_text,
    get_schema_versions,
    get_version,
    get_version_schema,
    list_subjects,
    list_versions,
    lookup,
    put_config,
    put_mode,
    register,
    root,
    schema_types,
)

__all__ = ["ROUTES", "EncodedSlashes"]


class _SubjectConvertor(Convertor[str]):
    # Unlike Starlette's default, match the empty string too, so that an empty subject
    # reaches the handler and gets Confluent's 42208 rather than a bare 404.
    regex = "[^/]*"

    def convert(self, value: str) -> str:
        return unquote(value)

    def to_string(self, value: str) -> str:
        return value.replace("%", "%25").replace("/", "%2F")


register_url_convertor("evp_subject", _SubjectConvertor())


class EncodedSlashes:
    """ASGI middleware: route on the path as sent, keeping ``%2F`` (and ``%25``) encoded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and b"%" in raw:
            segments = raw.decode("utf-8", "replace").split("?", 1)[0].split("/")
            path = "/".join(_decoded_segment(segment) for segment in segments)
            scope = {**scope, "path": path}
        await self.app(scope, receive, send)


def _decoded_segment(segment: str) -> str:
    # Decoded as the server would, then "%" and "/" put back, so no segment splits.
    return unquote(segment).replace("%", "%25").replace("/", "%2F")


_SUBJECT = "{subject:evp_subject}"

ROUTES = [
    Route("/", root, methods=["GET"]),
    Route("/schemas/types", schema_types, methods=["GET"]),
    Route("/schemas/ids/{id}", get_schema, methods=["GET"]),
    Route("/schemas/ids/{id}/schema", get_schema_text, methods=["GET"]),
    Route("/schemas/ids/{id}/subjects", get_schema_subjects, methods=["GET"]),
    Route("/schemas/ids/{id}/versions", get_schema_versions, methods=["GET"]),
    Route("/subjects", list_subjects, methods=["GET"]),
    Route(f"/subjects/{_SUBJECT}", lookup, methods=["POST"]),
    Route(f"/subjects/{_SUBJECT}", delete_subject, methods=["DELETE"]),
    Route(f"/subjects/{_SUBJECT}/versions", list_versions, methods=["GET"]),
    Route(f"/subjects/{_SUBJECT}/versions", register, methods=["POST"]),
    Route(f"/subjects/{_SUBJECT}/versions/{{version}}", get_version, methods=["GET"]),
    Route(f"/subjects/{_SUBJECT}/versions/{{version}}", delete_version, methods=["DELETE"]),
    Route(f"/subjects/{_SUBJECT}/versions/{{version}}/schema", get_version_schema, methods=["GET"]),
    Route(
        f"/subjects/{_SUBJECT}/versions/{{version}}/referencedby",
        get_referenced_by,
        methods=["GET"],
    ),
    Route(
        f"/compatibility/subjects/{_SUBJECT}/versions/{{version}}",
        check_compatibility,
        methods=["POST"],
    ),
    Route(f"/compatibility/subjects/{_SUBJECT}/versions", check_compatibility, methods=["POST"]),
    Route("/config", get_config, methods=["GET"]),
    Route("/config", put_config, methods=["PUT"]),
    Route("/config", delete_config, methods=["DELETE"]),
    Route(f"/config/{_SUBJECT}", get_config, methods=["GET"]),
    Route(f"/config/{_SUBJECT}", put_config, methods=["PUT"]),
    Route(f"/config/{_SUBJECT}", delete_config, methods=["DELETE"]),
    Route("/mode", get_mode, methods=["GET"]),
    Route("/mode", put_mode, methods=["PUT"]),
    Route("/mode", delete_mode, methods=["DELETE"]),
    Route(f"/mode/{_SUBJECT}", get_mode, methods=["GET"]),
    Route(f"/mode/{_SUBJECT}", put_mode, methods=["PUT"]),
    Route(f"/mode/{_SUBJECT}", delete_mode, methods=["DELETE"]),
]
