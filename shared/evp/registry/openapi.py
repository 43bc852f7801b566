"""The OpenAPI document, generated from the routes actually served.

Paths and methods come from the route table, summaries from handler docstrings, and
parameters and bodies from what each handler declared with
:func:`~evp.registry.routes.endpoint`; nothing is written twice, so nothing can drift.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from starlette.routing import BaseRoute
from starlette.schemas import BaseSchemaGenerator

from evp.registry.handlers import EndpointInfo

__all__ = ["openapi_document"]

_PATH_PARAMETER = re.compile(r"{(\w+)}")

_COMPONENTS: dict[str, Any] = {
    "schemas": {
        "SchemaReference": {
            "type": "object",
            "required": ["name", "subject", "version"],
            "properties": {
                "name": {"type": "string"},
                "subject": {"type": "string"},
                "version": {"type": "integer", "format": "int32"},
            },
        },
        "RegisterSchemaRequest": {
            "type": "object",
            "required": ["schema"],
            "properties": {
                "schema": {"type": "string", "description": "The Avro schema, as JSON text"},
                "schemaType": {"type": "string", "enum": ["AVRO"]},
                "references": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/SchemaReference"},
                },
                "id": {"type": "integer", "description": "IMPORT mode only"},
                "version": {"type": "integer", "description": "IMPORT mode only"},
            },
        },
        "ConfigUpdateRequest": {
            "type": "object",
            "description": "Any subset of the fields; absent ones keep their value, null clears",
            "properties": {
                "compatibility": {"type": "string"},
                "alias": {"type": "string"},
                "normalize": {"type": "boolean"},
                "validateFields": {"type": "boolean"},
                "validateNewSchemas": {"type": "boolean"},
                "validateRules": {"type": "boolean"},
                "compatibilityGroup": {"type": "string"},
                "defaultMetadata": {"type": "object"},
                "overrideMetadata": {"type": "object"},
                "defaultRuleSet": {"type": "object"},
                "overrideRuleSet": {"type": "object"},
            },
        },
        "ModeUpdateRequest": {"type": "object", "properties": {"mode": {"type": "string"}}},
        "ErrorMessage": {
            "type": "object",
            "properties": {
                "error_code": {"type": "integer"},
                "message": {"type": "string"},
            },
        },
    },
    "responses": {
        "Error": {
            "description": "Confluent-style error: 4xx for bad input, 50001 for the store",
            "content": {
                "application/vnd.schemaregistry.v1+json": {
                    "schema": {"$ref": "#/components/schemas/ErrorMessage"}
                }
            },
        }
    },
    "securitySchemes": {"basic": {"type": "http", "scheme": "basic"}},
}


class _Generator(BaseSchemaGenerator):
    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        paths: dict[str, dict[str, Any]] = {}
        for found in self.get_endpoints(routes):
            paths.setdefault(found.path, {})[found.http_method] = _operation(
                found.path, found.http_method, found.func
            )
        return {"paths": paths}


def openapi_document(routes: list[BaseRoute], *, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3 document describing ``routes``."""
    document = _Generator().get_schema(routes)
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version},
        "paths": document["paths"],
        "components": _COMPONENTS,
        "security": [{}, {"basic": []}],
    }


def _operation(path: str, method: str, func: Any) -> dict[str, Any]:
    info: EndpointInfo = getattr(func, "endpoint_info", EndpointInfo())
    summary, _, description = (inspect.getdoc(func) or "").partition("\n")
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAMETER.findall(path)
    ] + [{"name": name, "in": "query", "schema": {"type": "string"}} for name in info.query]
    slug = re.sub(r"[^a-zA-Z0-9]+", "_", path).strip("_") or "root"
    operation: dict[str, Any] = {
        "operationId": f"{method}_{slug}",
        "summary": summary,
        "parameters": parameters,
        "responses": {
            "200": {"description": "Success"},
            "default": {"$ref": "#/components/responses/Error"},
        },
    }
    if description.strip():
        operation["description"] = description.strip()
    if info.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                media: {"schema": {"$ref": f"#/components/schemas/{info.body}"}}
                for media in ("application/vnd.schemaregistry.v1+json", "application/json")
            },
        }
    if info.writes:
        operation["x-evp-writes"] = True
    return operation
