"""Pydantic models: what the JSON API and the forms accept, and what they answer."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasPath, BaseModel, ConfigDict, Field

MAX_PRICE = 1_000_000
PRICE_STEP = Decimal("0.01")
ITEMS_DEFAULT_LIMIT = 20
ITEMS_MAX_LIMIT = 100
# Ids and quantities live in 32-bit INTEGER columns.
MAX_INTEGER = 2**31 - 1
# The largest OFFSET SQLite and PostgreSQL take (a signed 64-bit integer).
MAX_OFFSET = 2**63 - 1
# Unknown body fields are ignored (the contract), and the document says so.
IGNORES_UNKNOWN_FIELDS = {"additionalProperties": True}


def _has_at_most_two_decimals(price: float) -> float:
    # repr() is the shortest text that reads back as the same float, so 0.07 counts as 0.07
    # even though 0.07 * 100 is not a whole float.
    if Decimal(repr(price)) != Decimal(repr(price)).quantize(PRICE_STEP):
        raise ValueError("Price must have at most 2 decimal places")
    return price


def _has_no_nul_character(text: str) -> str:
    # PostgreSQL cannot store NUL in text, so no database accepts it.
    if "\x00" in text:
        raise ValueError("Must not contain NUL characters")
    return text


# The pattern documents the NUL rule in the OpenAPI document; the validator enforces it.
_NO_NUL = Field(json_schema_extra={"pattern": "^[^\\u0000]*$"})
ItemName = Annotated[str, Field(min_length=1, max_length=100), _NO_NUL, AfterValidator(_has_no_nul_character)]
ItemDescription = Annotated[str, Field(max_length=1000), _NO_NUL, AfterValidator(_has_no_nul_character)]
ItemPrice = Annotated[
    float,
    Field(
        gt=0,
        le=MAX_PRICE,
        allow_inf_nan=False,
        description="At most 2 decimal places.",
        json_schema_extra={"multipleOf": 0.01},
    ),
    AfterValidator(_has_at_most_two_decimals),
]
ItemQuantity = Annotated[int, Field(ge=0, le=MAX_INTEGER)]
Credential = Annotated[str, Field(min_length=1), _NO_NUL, AfterValidator(_has_no_nul_character)]


class TokenRequest(BaseModel):
    """The form fields of POST /api/auth/token (OAuth2 password grant): unknown fields ignored."""

    model_config = ConfigDict(json_schema_extra=IGNORES_UNKNOWN_FIELDS)

    grant_type: Literal["password"] = "password"
    username: Credential
    password: Credential


class ItemIn(BaseModel):
    """The body of POST and PUT /api/items: strict JSON types, unknown fields ignored."""

    model_config = ConfigDict(strict=True, json_schema_extra=IGNORES_UNKNOWN_FIELDS)

    name: ItemName
    description: ItemDescription = ""
    price: ItemPrice
    quantity: ItemQuantity = 0

    def column_values(self) -> dict[str, Any]:
        """Return the Item columns this input sets, the price as an exact two-place decimal."""
        return {
            "name": self.name,
            "description": self.description,
            "price": Decimal(repr(self.price)).quantize(PRICE_STEP),
            "quantity": self.quantity,
        }


class ItemForm(ItemIn):
    """The new-item HTML form: the API's rules, applied to the text fields a browser posts."""

    model_config = ConfigDict(strict=False)


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    price: float
    quantity: int
    owner: str = Field(validation_alias=AliasPath("owner", "username"), description="Username")
    created_at: datetime


class ItemPage(BaseModel):
    items: list[ItemOut]
    total: int
    limit: int
    offset: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    is_staff: bool


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class Message(BaseModel):
    message: str


class WorldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    random_number: int = Field(serialization_alias="randomNumber")


class Waited(BaseModel):
    waited_ms: int


class Health(BaseModel):
    status: Literal["ok"]
    framework: str


class ErrorResponse(BaseModel):
    """The error envelope of every /api error except validation errors."""

    error: str = Field(
        description="not_authenticated, forbidden, not_found, method_not_allowed, bad_request, "
        "unsupported_media_type or payload_too_large"
    )


class ValidationErrorResponse(BaseModel):
    """The error envelope of a 422: every invalid field with its messages."""

    error: Literal["validation_error"]
    fields: dict[str, list[str]]
