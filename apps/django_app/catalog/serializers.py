"""REST framework serializers: the API's validation, with strict JSON types.

DRF's fields coerce by default (the string "12" is a valid number, 12 a valid name, 3.0 a valid
integer); the contract wants JSON's own types, so the fields below refuse anything else.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from rest_framework import serializers

from apps.django_app.catalog.models import Item

INTEGER_PATTERN = re.compile(r"[+-]?[0-9]+")
# SQL's OFFSET is a 64-bit integer: beyond it the database would fail, so the API refuses it.
OFFSET_MAX = 2**63 - 1


class StrictCharField(serializers.CharField):
    """A JSON string, kept as sent (DRF would turn numbers into text and trim whitespace)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDecimalField(serializers.DecimalField):
    """A JSON number (not a string, not a boolean), read as a Decimal."""

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not a string, not a boolean, not a float such as 3.0."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class QueryIntegerField(serializers.IntegerField):
    """An integer query parameter: digits only (DRF would also take "5.0")."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or not INTEGER_PATTERN.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose fields, built from the model, take strict JSON types."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.DecimalField: StrictDecimalField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
    }


class ItemSerializer(StrictModelSerializer):
    """An item: the body of POST and PUT /api/items (a PUT replaces the whole item) and the answer."""

    owner = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="The username of the owner."
    )

    class Meta:
        model = Item
        fields = ["id", "name", "description", "price", "quantity", "owner", "created_at"]
        read_only_fields = ["id", "created_at"]
        # Explicit defaults, so that a PUT without them resets them as a POST would set them.
        extra_kwargs = {"description": {"default": ""}, "quantity": {"default": 0}}


class ItemPageQuerySerializer(serializers.Serializer):
    """The query string of GET /api/items."""

    limit = QueryIntegerField(min_value=1, max_value=100, default=20)
    offset = QueryIntegerField(min_value=0, max_value=OFFSET_MAX, default=0)


class ItemPageSerializer(serializers.Serializer):
    """One page of items, in id order."""

    items = ItemSerializer(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class UserSerializer(serializers.ModelSerializer):
    """The user a token belongs to (GET /api/me)."""

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "is_staff"]


class CredentialsSerializer(serializers.Serializer):
    """The form fields of POST /api/auth/token (OAuth2 password grant)."""

    grant_type = serializers.ChoiceField(choices=["password"], default="password")
    username = StrictCharField()
    password = StrictCharField(style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    """A bearer token for the API."""

    access_token = serializers.CharField()
    token_type = serializers.CharField(help_text='Always "bearer".')


class ErrorSerializer(serializers.Serializer):
    """The envelope of every error under /api (and of /io's 422)."""

    error = serializers.CharField(help_text="A code such as validation_error or not_found.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For validation_error: each invalid field with its messages.",
    )
