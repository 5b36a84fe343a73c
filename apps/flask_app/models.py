"""The ORM models: the benchmark tables (World, Fortune) and the application tables (User, Item)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import abort
from flask_login import UserMixin
from sqlalchemy import DateTime, ForeignKey, Numeric, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from apps.flask_app.extensions import db

# The item rules shared by the JSON API, the HTML form and the column sizes.
NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 1000
PRICE_MAX = Decimal(1_000_000)
PRICE_DECIMAL_PLACES = 2
# The largest value an integer column holds on every database (PostgreSQL's integer).
MAX_INTEGER = 2**31 - 1
QUANTITY_MAX = MAX_INTEGER


def is_storable_text(text: str) -> bool:
    """Return whether every database can store text: no NUL character, no lone surrogate.

    JSON can carry both ("\\u0000", "\\ud800"); PostgreSQL refuses the first, UTF-8 the second.
    """
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def has_at_most_cents(value: Decimal) -> bool:
    """Return whether value has at most two decimal places, that is value times 100 is whole."""
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN and infinities
        return False
    # Count trailing zeros exactly, so that "10.500" passes without rounding anything.
    significant = "".join(map(str, digits)).rstrip("0")
    return exponent + len(digits) - len(significant) >= -PRICE_DECIMAL_PLACES


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime that always comes back in UTC.

    SQLite stores no offset and PostgreSQL answers in the session's time zone; the API
    promises UTC either way.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class World(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    random_number: Mapped[int] = mapped_column("randomnumber")

    def to_json(self) -> dict[str, int]:
        """Return the row as the benchmark's JSON object."""
        return {"id": self.id, "randomNumber": self.random_number}


class Fortune(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    message: Mapped[str] = mapped_column(String(2048))


class User(UserMixin, db.Model):
    __tablename__ = "app_user"  # "user" is a reserved word in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_staff: Mapped[bool] = mapped_column(default=False)

    def __str__(self) -> str:
        return self.username


class Item(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX_LENGTH), default="")
    price: Mapped[Decimal] = mapped_column(Numeric(10, PRICE_DECIMAL_PLACES))
    quantity: Mapped[int] = mapped_column(default=0)
    owner_id: Mapped[int] = mapped_column(ForeignKey(User.id), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    # Every representation of an item (API, pages, admin) shows its owner's username.
    owner: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    def __str__(self) -> str:
        return self.name


def item_or_404(item_id: int) -> Item:
    """Return the item with this id, or abort with 404."""
    # Larger ids cannot exist, and SQLite cannot even bind integers past 2**63.
    if item_id > MAX_INTEGER:
        abort(404)
    return db.get_or_404(Item, item_id)
