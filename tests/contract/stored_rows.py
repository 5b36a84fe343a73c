"""Read rows straight from an app's database: what /updates persisted, the seeded World rows, password hashes.

Table and column names are each framework's choice. The World table is the one whose name ends in "world", its
number column the one named randomNumber in any case, with or without an underscore. The users table is the
one with a username column, its hash the column whose name contains "password".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator
from contextlib import closing, contextmanager
from typing import Any

from bench.run.database import kind_of


def _normalized(name: str) -> str:
    return name.lower().replace("_", "")


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class _Database:
    """A small common face over sqlite3 and psycopg: columns by table, and queries with ? or %s."""

    def __init__(self, connection: Any, *, placeholder: str, columns: dict[str, list[str]]) -> None:
        self.connection = connection
        self.placeholder = placeholder
        self.columns = columns

    def rows(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.connection.execute(sql.replace("?", self.placeholder), parameters)]

    def world(self) -> tuple[str, str, str]:
        """Return (table, id column, randomNumber column)."""
        for table, names in sorted(self.columns.items()):
            by_normalized = {_normalized(name): name for name in names}
            if table.lower().endswith("world") and {"id", "randomnumber"} <= set(by_normalized):
                return table, by_normalized["id"], by_normalized["randomnumber"]
        raise AssertionError(f"no World table with id and randomNumber columns among {sorted(self.columns)}")

    def items(self) -> str:
        """Return the items table: its name ends in "item", and it has name, price and quantity columns."""
        for table, names in sorted(self.columns.items()):
            if table.lower().endswith("item") and {"name", "price", "quantity"} <= set(names):
                return table
        raise AssertionError(f"no item table with name, price and quantity among {sorted(self.columns)}")

    def users(self) -> tuple[str, str, str]:
        """Return (table, username column, password hash column)."""
        for table, names in sorted(self.columns.items()):
            hashes = [name for name in names if "password" in name.lower()]
            if "username" in names and hashes:
                return table, "username", hashes[0]
        raise AssertionError(
            f"no users table with username and password columns among {sorted(self.columns)}"
        )


@contextmanager
def _open(database_url: str) -> Iterator[_Database]:
    if kind_of(database_url) == "sqlite":
        with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30)) as connection:
            tables = [
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            columns = {
                table: [row[1] for row in connection.execute(f"PRAGMA table_info({_quoted(table)})")]
                for table in tables
            }
            yield _Database(connection, placeholder="?", columns=columns)
        return
    import psycopg

    with psycopg.connect(database_url) as connection:
        columns: dict[str, list[str]] = {}
        for table, column in connection.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        ):
            columns.setdefault(table, []).append(column)
        yield _Database(connection, placeholder="%s", columns=columns)


def read_random_numbers(database_url: str, ids: Collection[int] | None = None) -> dict[int, int]:
    """Return {id: randomNumber} of the given World rows (default: all), as stored in the database now."""
    with _open(database_url) as database:
        table, id_column, number_column = database.world()
        rows = database.rows(f"SELECT {_quoted(id_column)}, {_quoted(number_column)} FROM {_quoted(table)}")
    wanted = None if ids is None else set(ids)
    return {int(row_id): int(number) for row_id, number in rows if wanted is None or row_id in wanted}


def world_table(database_url: str) -> str:
    """Return the name of the World table."""
    with _open(database_url) as database:
        return database.world()[0]


def item_table(database_url: str) -> str:
    """Return the name of the items table."""
    with _open(database_url) as database:
        return database.items()


def count_items(database_url: str) -> int:
    """Return how many items the database holds now."""
    with _open(database_url) as database:
        ((count,),) = database.rows(f"SELECT count(*) FROM {_quoted(database.items())}")
        return int(count)


def table_named(database_url: str, *, suffix: str) -> str:
    """Return the name of the one table whose name ends in suffix (e.g. "fortune": catalog_fortune)."""
    with _open(database_url) as database:
        names = [table for table in database.columns if _normalized(table).endswith(_normalized(suffix))]
    assert len(names) == 1, f"tables ending in {suffix!r}: {names}"
    return names[0]


def read_password_hashes(database_url: str) -> dict[str, str]:
    """Return {username: stored password hash}."""
    with _open(database_url) as database:
        table, username_column, hash_column = database.users()
        rows = database.rows(
            f"SELECT {_quoted(username_column)}, {_quoted(hash_column)} FROM {_quoted(table)}"
        )
    return {str(username): str(password_hash) for username, password_hash in rows}
