"""What an OpenAPI document promises about each /api operation, written the same way whatever wrote it.

FastAPI writes OpenAPI 3.1, flask-smorest and drf-spectacular 3.0: the same rule can be spelled differently
(`exclusiveMinimum: true` beside `minimum` in 3.0 is `exclusiveMinimum: <number>` in 3.1; a single allowed
value is `const`, `enum: [x]`; references to components). `operation_shape` resolves references and reduces an
operation to what a client may send and may get back: the parameters and request body fields with their
constraints, whether a token is required, the status codes and their media types. Titles, descriptions and
formats (int64, double, password) are left out: they constrain nothing a client sends.

The contract's shape of every operation is `CONTRACT`; docs/contract.md "API documentation" says the same in
words. Statuses that only one app's stack answers are in `STACK_STATUSES`.
"""

from __future__ import annotations

import re
from typing import Any

NO_NUL = "^[^\\u0000]*$"
MAX_INTEGER = 2**31 - 1
MAX_OFFSET = 2**63 - 1
JSON = ("application/json",)
NO_BODY: tuple[str, ...] = ()
FORM = "application/x-www-form-urlencoded"
# The keywords that constrain a value, as written in OpenAPI 3.1 (3.0's are converted).
CONSTRAINTS = (
    "type",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "multipleOf",
)

ITEM_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": NO_NUL},
    "description": {"type": "string", "maxLength": 1000, "pattern": NO_NUL, "default": ""},
    "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000, "multipleOf": 0.01},
    "quantity": {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER, "default": 0},
}
ITEM_BODY = {
    "media": ("application/json",),
    "required": ("name", "price"),
    "additionalProperties": True,
    "fields": ITEM_FIELDS,
}
ITEM_ID = {"id": {"in": "path", "required": True, "type": "integer", "minimum": 1, "maximum": MAX_INTEGER}}


def _responses(*statuses: str, **media: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    # Every documented status answers JSON unless named in media (keyword s204=NO_BODY).
    return {status: media.get(f"s{status}", JSON) for status in statuses}


CONTRACT: dict[str, dict[str, Any]] = {
    "POST /api/auth/token": {
        "token": False,
        "parameters": {},
        "body": {
            "media": (FORM,),
            "required": ("password", "username"),
            "additionalProperties": True,
            "fields": {
                "grant_type": {"type": "string", "enum": ("password",), "default": "password"},
                "username": {"type": "string", "minLength": 1, "pattern": NO_NUL},
                "password": {"type": "string", "minLength": 1, "pattern": NO_NUL},
            },
        },
        "responses": _responses("200", "400", "401", "413", "415", "422"),
    },
    "GET /api/me": {
        "token": True,
        "parameters": {},
        "body": None,
        "responses": _responses("200", "401"),
    },
    "GET /api/items": {
        "token": False,
        "parameters": {
            "limit": {
                "in": "query",
                "required": False,
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
                "default": 20,
            },
            "offset": {
                "in": "query",
                "required": False,
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_OFFSET,
                "default": 0,
            },
        },
        "body": None,
        "responses": _responses("200", "422"),
    },
    "POST /api/items": {
        "token": True,
        "parameters": {},
        "body": ITEM_BODY,
        "responses": _responses("201", "400", "401", "413", "415", "422"),
    },
    "GET /api/items/{id}": {
        "token": False,
        "parameters": ITEM_ID,
        "body": None,
        "responses": _responses("200", "404"),
    },
    "PUT /api/items/{id}": {
        "token": True,
        "parameters": ITEM_ID,
        "body": ITEM_BODY,
        "responses": _responses("200", "400", "401", "403", "404", "413", "415", "422"),
    },
    "DELETE /api/items/{id}": {
        "token": True,
        "parameters": ITEM_ID,
        "body": None,
        "responses": _responses("204", "401", "403", "404", s204=NO_BODY),
    },
}
BODY_OPERATIONS = ("POST /api/auth/token", "POST /api/items", "PUT /api/items/{id}")
# Statuses one app's stack answers and documents, the others' never do (docs/contract.md):
# 411 where Django refuses a chunked body; 414 from gunicorn (Flask's and Django's recommended server) on a
# request line over 4094 bytes, before any app code runs, so it has no body the app chose.
STACK_STATUSES: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "django": {
        **{operation: {"414": NO_BODY} for operation in CONTRACT},
        **{operation: {"411": JSON, "414": NO_BODY} for operation in BODY_OPERATIONS},
    },
    "flask": {operation: {"414": NO_BODY} for operation in CONTRACT},
}


def contract_shape(app: str, operation: str) -> dict[str, Any]:
    """Return the shape the contract gives one operation in one app's document."""
    shape = dict(CONTRACT[operation])
    extra = STACK_STATUSES.get(app, {}).get(operation, {})
    shape["responses"] = dict(sorted({**shape["responses"], **extra}.items()))
    return shape


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Return node with its $ref followed (repeatedly) within the document."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _single(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Return a schema of one variant where the document wraps it.

    `allOf: [X]` (3.0's way to put a default beside a reference) is X; `anyOf: [X, {type: null}]` (3.1's
    optional) is X with "nullable".
    """
    schema = resolve(document, schema)
    for keyword in ("allOf", "anyOf"):
        variants = [resolve(document, variant) for variant in schema.get(keyword, [])]
        if not variants:
            continue
        rest = {key: value for key, value in schema.items() if key != keyword}
        nullable = [variant for variant in variants if variant.get("type") == "null"]
        kept = [variant for variant in variants if variant.get("type") != "null"]
        if len(kept) == 1:
            return {**kept[0], **rest, **({"nullable": True} if nullable else {})}
    return schema


def value_shape(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Return the constraints of one value's schema, 3.0 and 3.1 spellings made one."""
    schema = _single(document, schema)
    shape: dict[str, Any] = {key: schema[key] for key in CONSTRAINTS if key in schema}
    if shape.get("exclusiveMinimum") is True:  # OpenAPI 3.0: the minimum itself is excluded
        shape["exclusiveMinimum"] = shape.pop("minimum")
    elif shape.get("exclusiveMinimum") is False:
        del shape["exclusiveMinimum"]
    if "const" in schema:
        shape["enum"] = (schema["const"],)
    elif "enum" in schema:
        shape["enum"] = tuple(schema["enum"])
    if "default" in schema:
        shape["default"] = schema["default"]
    if schema.get("nullable"):
        shape["nullable"] = True
    for key in ("minimum", "exclusiveMinimum", "maximum", "multipleOf"):
        if isinstance(shape.get(key), float) and shape[key].is_integer():
            shape[key] = int(shape[key])
    return shape


def normalized_path(path: str) -> str:
    """Return the path with its parameter named {id} and no trailing slash."""
    return re.sub(r"\{[^}]+\}", "{id}", path.rstrip("/") or "/")


def operations(document: dict[str, Any]) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Return each operation of the document as "METHOD /path" -> (operation, its path's parameters)."""
    found = {}
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}:
                found[f"{method.upper()} {normalized_path(path)}"] = (operation, shared)
    return found


def _requires_token(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    requirements = operation.get("security", document.get("security", []))
    # An empty requirement ({}) among them makes the token optional: the operation needs none.
    return bool(requirements) and all(requirements)


def _body_shape(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    body = resolve(document, operation.get("requestBody"))
    if not body:
        return None
    content = body.get("content", {})
    schemas = [resolve(document, media.get("schema", {})) for media in content.values()]
    # Every media type of a body carries the same schema in the three apps; the first one stands for them.
    schema = schemas[0] if schemas else {}
    return {
        "media": tuple(sorted(content)),
        "required": tuple(sorted(schema.get("required", []))),
        "additionalProperties": schema.get("additionalProperties"),
        "fields": {
            name: value_shape(document, field)
            for name, field in schema.get("properties", {}).items()
            if not _single(document, field).get("readOnly")
        },
    }


def _parameter_shapes(
    document: dict[str, Any], operation: dict[str, Any], shared: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    shapes = {}
    for parameter in [*shared, *operation.get("parameters", [])]:
        parameter = resolve(document, parameter)
        if parameter["in"] not in {"query", "path"}:
            continue
        name = "id" if parameter["in"] == "path" else parameter["name"]
        shapes[name] = {
            "in": parameter["in"],
            "required": bool(parameter.get("required", False)),
            **value_shape(document, parameter.get("schema", {})),
        }
    return shapes


def operation_shape(document: dict[str, Any], key: str) -> dict[str, Any]:
    """Return what the document promises about one operation ("METHOD /path", path parameter as {id})."""
    operation, shared = operations(document)[key]
    return {
        "token": _requires_token(document, operation),
        "parameters": _parameter_shapes(document, operation, shared),
        "body": _body_shape(document, operation),
        "responses": {
            status: tuple(sorted(resolve(document, response).get("content", {})))
            for status, response in sorted(operation.get("responses", {}).items())
        },
    }
