"""Django forms: the HTML new-item form, with the API's rules (kept on the model's fields)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from apps.django_app.catalog.models import Item


class CentsField(forms.DecimalField):
    """A price with at most two decimals, where "10.500" counts as 10.5 (its value times 100 is whole)."""

    def to_python(self, value: Any) -> Decimal | None:
        number = super().to_python(value)
        # Trailing zeros are not decimals of the value; without them the places check is exact.
        return number.normalize() if number is not None and number.is_finite() else number


class ItemForm(forms.ModelForm):
    class Meta:
        model = Item
        fields = ["name", "description", "price", "quantity"]
        field_classes = {"price": CentsField}
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
