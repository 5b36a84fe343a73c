"""Read World rows straight from an app's database, to check that /updates persists what it answers.

Table and column names are each framework's choice: the World table is the one whose name ends in "world", its
number column the one named randomNumber in any case, with or without an underscore.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from contextlib import closing

from bench.database import kind_of


def _normalized(name: str) -> str:
    return name.lower().replace("_", "")


def _pick_world_columns(columns_by_table: dict[str, list[str]]) -> tuple[str, str, str]:
    """Return (table, id column, randomNumber column)."""
    for table, columns in sorted(columns_by_table.items()):
        if not table.lower().endswith("world"):
            continue
        by_normalized = {_normalized(column): column for column in columns}
        if "id" in by_normalized and "randomnumber" in by_normalized:
            return table, by_normalized["id"], by_normalized["randomnumber"]
    raise AssertionError(f"no World table with id and randomNumber columns among {sorted(columns_by_table)}")


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def read_random_numbers(database_url: str, ids: Collection[int]) -> dict[int, int]:
    """Return {id: randomNumber} of the given World rows, as stored in the database now."""
    wanted = sorted(set(ids))
    if kind_of(database_url) == "sqlite":
        path = database_url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(path, timeout=30)) as connection:
            tables = [
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            columns = {
                table: [row[1] for row in connection.execute(f"PRAGMA table_info({_quoted(table)})")]
                for table in tables
            }
            table, id_column, number_column = _pick_world_columns(columns)
            placeholders = ",".join("?" for _ in wanted)
            rows = connection.execute(
                f"SELECT {_quoted(id_column)}, {_quoted(number_column)} FROM {_quoted(table)} "
                f"WHERE {_quoted(id_column)} IN ({placeholders})",
                wanted,
            ).fetchall()
        return {int(row_id): int(number) for row_id, number in rows}

    import psycopg

    with psycopg.connect(database_url) as connection:
        columns = {}
        for table, column in connection.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        ):
            columns.setdefault(table, []).append(column)
        table, id_column, number_column = _pick_world_columns(columns)
        rows = connection.execute(
            f"SELECT {_quoted(id_column)}, {_quoted(number_column)} FROM {_quoted(table)} "
            f"WHERE {_quoted(id_column)} = ANY(%s)",
            (wanted,),
        ).fetchall()
    return {int(row_id): int(number) for row_id, number in rows}
