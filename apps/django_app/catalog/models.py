"""The ORM models: the benchmark tables (World, Fortune) and the items owned by django.contrib.auth users."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

# The item rules shared by the JSON API, the HTML form and the column sizes.
NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 1000
# Above 0 with at most two decimals: the smallest price is one cent.
PRICE_MIN = Decimal("0.01")
PRICE_MAX = Decimal(1_000_000)
PRICE_MAX_DIGITS = 10
PRICE_DECIMAL_PLACES = 2
# The largest value of an integer column on every database.
QUANTITY_MAX = 2**31 - 1


class World(models.Model):
    random_number = models.IntegerField()

    def __str__(self) -> str:
        return f"World {self.pk}"


class Fortune(models.Model):
    message = models.CharField(max_length=2048)

    def __str__(self) -> str:
        return self.message


class Item(models.Model):
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.CharField(max_length=DESCRIPTION_MAX_LENGTH, blank=True, default="")
    price = models.DecimalField(
        max_digits=PRICE_MAX_DIGITS,
        decimal_places=PRICE_DECIMAL_PLACES,
        validators=[MinValueValidator(PRICE_MIN), MaxValueValidator(PRICE_MAX)],
    )
    quantity = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(QUANTITY_MAX)])
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="items")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:item-detail", kwargs={"pk": self.pk})
