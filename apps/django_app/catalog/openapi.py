"""What drf-spectacular leaves out of the OpenAPI document, so that it states every rule the API enforces.

- StrictCharField refuses NUL (DRF's ProhibitNullCharactersValidator, on every CharField): a pattern says so.
- StrictDecimalField's decimal places are a multipleOf; a minimum of one step is "above 0" (exclusiveMinimum).
  drf-spectacular writes a blank-allowed string with a pattern as `oneOf: [the pattern, the empty string]`,
  which no empty string passes (it matches both); the pattern alone says it, as it admits the empty string.
- Serializers ignore unknown fields (REST framework's way): every request body says additionalProperties.
- An item id is the column's range (the URL converter takes any digits; the lookup answers 404 outside it).
- gunicorn answers a request line over 4094 bytes with 414 before Django runs; Django answers a chunked body
  with 411 (docs/contract.md): both on the operations they can answer.

The extensions register themselves when this module is imported (CatalogConfig.ready); the hook is named in
SPECTACULAR_SETTINGS.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema

NO_NUL_PATTERN = "^[^\\u0000]*$"
REQUEST_COMPONENT_SUFFIX = "Request"  # COMPONENT_SPLIT_REQUEST's name for a body's component
# The contract's id range, a positive 32-bit integer (Django's BigAutoField column could hold more).
ITEM_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
URI_TOO_LONG = {"description": "URI Too Long: the request line is over 4094 bytes (answered by gunicorn)"}
# The error envelope, the component drf-spectacular names after ErrorSerializer.
ERROR_COMPONENT = "#/components/schemas/Error"
LENGTH_REQUIRED = "Length Required: a chunked body (length_required)"


class StrictCharFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "apps.django_app.catalog.serializers.StrictCharField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        return {**schema, "pattern": NO_NUL_PATTERN}


class StrictDecimalFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "apps.django_app.catalog.serializers.StrictDecimalField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        places = self.target.decimal_places
        if places is None:
            return schema
        schema["multipleOf"] = float(Decimal(1).scaleb(-places))
        return schema


def _above_zero(schema: dict[str, Any]) -> None:
    # With whole steps only, "at least one step" (MinValueValidator(0.01), mapped after the field extensions
    # run) and "above 0" are the same rule: written as the contract writes it, in OpenAPI 3.0's spelling.
    step, minimum = schema.get("multipleOf"), schema.get("minimum")
    if step is not None and minimum is not None and Decimal(str(minimum)) == Decimal(str(step)):
        schema["minimum"] = 0
        schema["exclusiveMinimum"] = True


def _without_empty_string_variant(schema: dict[str, Any]) -> dict[str, Any]:
    variants = schema.get("oneOf", [])
    empty = {"type": "string", "maxLength": 0}
    if len(variants) == 2 and variants[1] == empty and not variants[0].get("minLength"):
        rest = {key: value for key, value in schema.items() if key != "oneOf"}
        return {**variants[0], **rest}
    return schema


def document_contract(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the rules of the module docstring the generator cannot see."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        properties = schema.get("properties", {})
        for field_name, field in properties.items():
            properties[field_name] = _without_empty_string_variant(field)
        if name.endswith(REQUEST_COMPONENT_SUFFIX) and schema.get("type") == "object":
            schema.setdefault("additionalProperties", True)
            for field in schema.get("properties", {}).values():
                _above_zero(field)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("name") == "id":
                    parameter["schema"] = dict(ITEM_ID)
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses["411"] = {
                    "description": LENGTH_REQUIRED,
                    "content": {"application/json": {"schema": {"$ref": ERROR_COMPONENT}}},
                }
            responses["414"] = dict(URI_TOO_LONG)
    return result
