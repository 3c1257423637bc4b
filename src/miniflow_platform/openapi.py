"""The served OpenAPI document: FastAPI's, with every error response declared per route.

Rules (a route may declare more itself, e.g. 409 where its state can clash): 401 on
every authenticated route, 404 where the path names a resource, 413 and 422 where a
body or parameters are read. All use the one error shape, ``ErrorResponse``; FastAPI's
own ``HTTPValidationError`` is replaced, since its 422s are answered in that shape too.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from miniflow_platform.errors import ErrorResponse, responses

PUBLIC_PATHS = frozenset({"/healthz"})
METHODS = ("get", "put", "post", "delete", "patch")


def build(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    schemas["ErrorResponse"] = ErrorResponse.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    for sub, sub_schema in schemas["ErrorResponse"].pop("$defs", {}).items():
        schemas[sub] = sub_schema
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            wanted: set[int] = set()
            if path not in PUBLIC_PATHS:
                wanted.add(401)
            if "{" in path:
                wanted.add(404)
            if op.get("parameters") or op.get("requestBody"):
                wanted.add(422)
            if op.get("requestBody"):
                wanted.update((400, 413))
            out = op.setdefault("responses", {})
            for status, entry in responses(*sorted(wanted)).items():
                out.setdefault(str(status), {"description": entry["description"]})
            for status, entry in out.items():
                if status[0] in "45":
                    entry["content"] = {"application/json": {"schema": error_ref}}
            if path not in PUBLIC_PATHS:
                op["security"] = [{"HTTPBearer": []}]
    return doc
