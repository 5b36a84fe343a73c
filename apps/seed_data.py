"""The seed data every app writes: generated here once so that the three databases hold the same rows."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

WORLD_ROWS = 10_000
WORLD_SEED = 20240101
RANDOM_MAX = 10_000
ITEM_ROWS = 1_000

# Password hashing: argon2id with the same parameters in every app.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_COST = 65_536  # KiB
ARGON2_PARALLELISM = 4

ADMIN_USERNAME = "admin"
USER_USERNAME = "user"
DEFAULT_ADMIN_PASSWORD = "admin-password"
DEFAULT_USER_PASSWORD = "user-password"

# The mixed scenario's simulated users act as one account each (bench/scenarios/mixed.py): that many extra
# non-staff accounts, mixed-001 to mixed-064, all with the user password. At most this many users of mixed
# run as distinct accounts; beyond it they share.
MIXED_ACCOUNTS = 64


# Rows of one page of the admin's Item list, in every app (the admin scenario checks it).
ADMIN_PAGE_SIZE = 20

ADDITIONAL_FORTUNE = "Additional fortune added at request time."

FORTUNES: tuple[tuple[int, str], ...] = (
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"),
)

_ITEMS_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SeedItem:
    id: int
    name: str
    description: str
    price: Decimal
    quantity: int
    created_at: datetime


def world_rows() -> list[tuple[int, int]]:
    """Return the (id, randomNumber) pairs of the World table, the same on every call."""
    rng = random.Random(WORLD_SEED)
    return [(world_id, rng.randint(1, RANDOM_MAX)) for world_id in range(1, WORLD_ROWS + 1)]


def items() -> Iterator[SeedItem]:
    """Yield the 1,000 seeded items (all owned by the admin user)."""
    for item_id in range(1, ITEM_ROWS + 1):
        yield SeedItem(
            id=item_id,
            name=f"Item {item_id}",
            description=f"Seeded item number {item_id}.",
            price=Decimal(item_id * 37 % 100_000 + 99) / 100,
            quantity=item_id % 50,
            created_at=_ITEMS_EPOCH + timedelta(minutes=item_id),
        )


def mixed_username(index: int) -> str:
    """Return the username of mixed account index, 0 to MIXED_ACCOUNTS - 1: "mixed-001" to "mixed-064"."""
    if not 0 <= index < MIXED_ACCOUNTS:
        raise ValueError(f"mixed account index {index} is not in 0..{MIXED_ACCOUNTS - 1}")
    return f"mixed-{index + 1:03d}"


def mixed_usernames() -> list[str]:
    """Return the usernames of every mixed account, in index order."""
    return [mixed_username(index) for index in range(MIXED_ACCOUNTS)]


def clamp_queries(raw: str | None) -> int:
    """Return the row count of /queries and /updates: 1 for a non-integer or below 1, at most 500."""
    try:
        count = int(raw) if raw is not None else 1
    except ValueError:
        return 1
    return max(1, min(count, 500))


def random_world_id() -> int:
    """Return one random World id, for /db."""
    return random.randint(1, WORLD_ROWS)


def random_world_ids(count: int) -> list[int]:
    """Return count distinct random World ids, for /queries and /updates.

    Distinct, so that every row costs its own query (an ORM's identity map answers a repeated id from
    memory) and every updated row appears once in the response.
    """
    return random.sample(range(1, WORLD_ROWS + 1), count)


def new_random_number(old: int) -> int:
    """Return a random randomNumber in 1..RANDOM_MAX other than old, for /updates.

    Never the old value: an ORM that tracks changes sends no UPDATE for a row whose value did not change,
    and the rule is that every selected row is written.
    """
    number = random.randint(1, RANDOM_MAX - 1)
    return number + 1 if number >= old else number
