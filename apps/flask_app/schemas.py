"""marshmallow schemas of the JSON API: what a request may carry and what a response holds."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import validate

from apps.flask_app.models import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PRICE_MAX,
    QUANTITY_MAX,
    has_at_most_cents,
    is_storable_text,
)

DEFAULT_PAGE_LIMIT = 20
MAX_PAGE_LIMIT = 100
# The largest OFFSET SQLite and PostgreSQL take (a signed 64-bit integer).
MAX_OFFSET = 2**63 - 1

_DECIMAL_INTEGER = re.compile(r"-?[0-9]+")
# How the OpenAPI document states is_storable_text's NUL rule (a lone surrogate has no JSON Schema pattern).
NO_NUL_PATTERN = "^[^\\u0000]*$"
PRICE_STEP = 0.01


class QueryInteger(ma.fields.Integer):
    """An integer query parameter written with decimal digits only.

    int() alone would also take " 7", "+7" and "1_000".
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str) or not _DECIMAL_INTEGER.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class JsonNumber(ma.fields.Decimal):
    """A decimal that travels as a JSON number both ways.

    On the way in a string is not a number (marshmallow's Decimal would parse it; its number
    fields already reject booleans); on the way out it is a float, since Flask's JSON encoder
    would write a Decimal as a string.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> float | None:
        return None if value is None else float(value)


class Text(ma.fields.String):
    """A string the database can store (see is_storable_text)."""

    default_error_messages = {"unstorable": "Must not contain NUL characters or lone surrogates."}

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": NO_NUL_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not is_storable_text(text):
            raise self.make_error("unstorable")
        return text


def validate_cents(value: Decimal) -> None:
    if not has_at_most_cents(value):
        raise ma.ValidationError("Must have at most 2 decimal places.")


class ItemInSchema(ma.Schema):
    """The body of POST and PUT /api/items: a whole item."""

    class Meta:
        unknown = ma.EXCLUDE

    name = Text(required=True, validate=validate.Length(min=1, max=NAME_MAX_LENGTH))
    description = Text(load_default="", validate=validate.Length(max=DESCRIPTION_MAX_LENGTH))
    price = JsonNumber(
        required=True,
        validate=[validate.Range(min=0, min_inclusive=False, max=PRICE_MAX), validate_cents],
        metadata={
            "description": "Greater than 0, at most 1,000,000, at most 2 decimal places",
            # apispec writes the Range bounds but not that the minimum is exclusive, nor the cents.
            "exclusiveMinimum": True,
            "multipleOf": PRICE_STEP,
        },
    )
    quantity = ma.fields.Integer(
        strict=True, load_default=0, validate=validate.Range(min=0, max=QUANTITY_MAX)
    )


class ItemSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    description = ma.fields.String()
    price = JsonNumber()
    quantity = ma.fields.Integer()
    owner = ma.fields.String(attribute="owner.username")
    created_at = ma.fields.AwareDateTime(format="iso")


class PageQuerySchema(ma.Schema):
    limit = QueryInteger(load_default=DEFAULT_PAGE_LIMIT, validate=validate.Range(min=1, max=MAX_PAGE_LIMIT))
    offset = QueryInteger(load_default=0, validate=validate.Range(min=0, max=MAX_OFFSET))


class ItemPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ItemSchema))
    total = ma.fields.Integer()
    limit = ma.fields.Integer()
    offset = ma.fields.Integer()


class TokenRequestSchema(ma.Schema):
    """The OAuth2 password grant's form fields."""

    class Meta:
        unknown = ma.EXCLUDE

    grant_type = ma.fields.String(load_default="password", validate=validate.OneOf(["password"]))
    username = Text(required=True, validate=validate.Length(min=1))
    password = Text(required=True, validate=validate.Length(min=1))


class TokenSchema(ma.Schema):
    access_token = ma.fields.String()
    token_type = ma.fields.String()


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    is_staff = ma.fields.Boolean()
