"""`/openapi.json` generated from the route table and the models it names: the paths and
methods are the routes themselves, the bodies and answers the msgspec models that validate and
describe them (msgspec.json.schema_components), so the document cannot drift from the code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.convertors import IntegerConvertor, StringConvertor
from starlette.routing import BaseRoute, Route

from hall.edge.params import Int64Convertor

__all__ = ["Doc", "QueryParam", "openapi_document"]


@dataclass(frozen=True, slots=True)
class QueryParam:
    name: str
    schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Doc:
    """What a route takes and answers. `answer` None with `media` JSON: any JSON object."""

    summary: str
    body: type | None = None
    answer: type | None = None
    status: int | None = None  # None: any 2xx
    media: str = "application/json"
    query: tuple[QueryParam, ...] = field(default=())
    path_enums: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _path_param(name: str, convertor: Any, enums: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    schema: dict[str, Any]
    if isinstance(convertor, Int64Convertor | IntegerConvertor):
        schema = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}
    elif name in enums:
        schema = {"type": "string", "enum": list(enums[name])}
    elif isinstance(convertor, StringConvertor):
        schema = {"type": "string", "minLength": 1, "pattern": "^[^/\\x00-\\x1f\\x7f]+$"}
    else:
        schema = {"type": "string"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def openapi_document(routes: list[BaseRoute], docs: dict[tuple[str, str], Doc],
                     error_model: type, include: tuple[str, ...]) -> dict[str, Any]:
    """OpenAPI 3.1 for every route whose path starts with one of `include`."""
    models: list[Any] = []
    for d in docs.values():
        models += [m for m in (d.body, d.answer) if m is not None]
    models.append(error_model)
    schemas, components = msgspec.json.schema_components(models, ref_template="#/components/schemas/{name}")
    ref = dict(zip(models, schemas, strict=True))
    error = {"description": "refused; final, do not retry", "content": {"application/json": {"schema": ref[error_model]}}}
    paths: dict[str, Any] = {}
    for route in routes:
        if not isinstance(route, Route) or not route.path.startswith(include):
            continue
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            d = docs.get((method, route.path)) or Doc(route.name.replace("_", " "))
            params = [_path_param(n, c, d.path_enums) for n, c in route.param_convertors.items()]
            params += [{"name": q.name, "in": "query", "required": False, "schema": q.schema,
                        "description": q.description} for q in d.query]
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                               "schema": {"type": "string", "minLength": 1, "maxLength": 150,
                                          "pattern": "^[\\x20-\\x7e]+$"}})
            if d.media == "application/json":
                answer: dict[str, Any] = ref[d.answer] if d.answer is not None else {"type": "object"}
            else:
                answer = {"type": "string"}
            op: dict[str, Any] = {
                "summary": d.summary,
                "operationId": f"{method.lower()}:{route.path}",
                "parameters": params,
                "responses": {str(d.status or "2XX"): {"description": "done", "content": {d.media: {"schema": answer}}},
                              "4XX": error},
            }
            if method in ("POST", "PUT", "PATCH"):
                body = ref[d.body] if d.body is not None else {"type": "object"}
                op["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
            paths.setdefault(re.sub(r"{(\w+):\w+}", r"{\1}", route.path), {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "政务服务大厅 hall server", "version": "1.0"},
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}, {}],
        "paths": paths,
    }
