"""After a writing cell: is the database what the scenario's answers said it wrote, and nothing else?

Checks that what the scenario wrote exists with the values it sent, that what it deleted is gone, that rows it
did not touch still hold the seed, and that there are no duplicates. Table and column names are each
framework's own choice, so the World and Item tables are found by their columns' names (randomNumber,
randomnumber and random_number are the same column). Comparing is pure (check_world,
check_items); reading the database is the thin outer layer (check_database).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from apps import seed_data
from bench.run.database import kind_of

OK = "ok"
SKIPPED = "skipped"
WORLD_COLUMNS = frozenset({"id", "randomnumber"})
ITEM_COLUMNS = frozenset({"id", "name", "description", "price", "quantity"})
CENTS = Decimal("0.01")
MAX_PROBLEMS_SHOWN = 3


@dataclass
class Writes:
    """The write logs of every load process of a cell, merged (see bench.scenarios.common.WriteLog)."""

    world: dict[int, set[int]] = field(default_factory=dict)  # World id -> every randomNumber reported
    failed_world_updates: int = 0
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # item name -> fields last written
    deleted_items: set[str] = field(default_factory=set)
    uncertain_items: set[str] = field(default_factory=set)
    failed_creates: int = 0


def merge_write_logs(logs: Iterable[Mapping[str, Any]]) -> Writes:
    """Return the union of write logs as sent by load processes (WriteLog.to_message())."""
    writes = Writes()
    for entry in logs:
        for key, values in entry.get("world", {}).items():
            writes.world.setdefault(int(key), set()).update(int(value) for value in values)
        writes.failed_world_updates += int(entry.get("failed_world_updates", 0))
        writes.items.update(entry.get("items", {}))
        writes.deleted_items.update(entry.get("deleted_items", []))
        writes.uncertain_items.update(entry.get("uncertain_items", []))
        writes.failed_creates += int(entry.get("failed_creates", 0))
    return writes


def money(value: Any) -> Decimal | None:
    """Return a price as a Decimal with 2 places, whatever type the driver returned it as."""
    try:
        return Decimal(str(value)).quantize(CENTS)
    except (InvalidOperation, ValueError):
        return None


def check_world(rows: Sequence[tuple[int, int]], writes: Writes) -> list[str]:
    """Return what is wrong with the World table's (id, randomNumber) rows after the cell."""
    problems = []
    seed = dict(seed_data.world_rows())
    current = dict(rows)
    if len(rows) != len(current):
        problems.append(f"World: {len(rows) - len(current)} duplicate id(s)")
    if current.keys() != seed.keys():
        problems.append(f"World: {len(current)} rows instead of ids 1..{len(seed)}")
    wrong = [
        world_id
        for world_id, values in writes.world.items()
        if world_id in current and current[world_id] not in values
    ]
    if wrong:
        problems.append(
            f"World: {len(wrong)} updated row(s) hold a value no answer reported (e.g. id {wrong[0]})"
        )
    unexplained = [
        world_id
        for world_id, number in current.items()
        if world_id not in writes.world and seed.get(world_id) != number
    ]
    if len(unexplained) > writes.failed_world_updates:
        problems.append(
            f"World: {len(unexplained)} row(s) changed that no answer reported (e.g. id {unexplained[0]})"
        )
    return problems


def _item_values(row: Sequence[Any]) -> dict[str, Any]:
    """Return the written fields of an (id, name, description, price, quantity) row, comparable to the log."""
    _, _, description, price, quantity = row
    return {"description": description or "", "price": money(price), "quantity": int(quantity)}


def check_items(rows: Sequence[Sequence[Any]], writes: Writes) -> list[str]:
    """Return what is wrong with the Item table's (id, name, description, price, quantity) rows.

    Seeded items are known by their id; items a scenario wrote by their name, unique to each of them.
    """
    problems = []
    ids = [int(row[0]) for row in rows]
    if len(ids) != len(set(ids)):
        problems.append(f"Item: {len(ids) - len(set(ids))} duplicate id(s)")
    seed = {
        item.id: (
            item.name,
            {"description": item.description, "price": money(item.price), "quantity": item.quantity},
        )
        for item in seed_data.items()
    }
    seeded = {int(row[0]): (row[1], _item_values(row)) for row in rows if int(row[0]) in seed}
    changed_seed = [item_id for item_id, expected in seed.items() if seeded.get(item_id) != expected]
    if changed_seed:
        problems.append(
            f"Item: {len(changed_seed)} seeded item(s) changed or missing (e.g. id {changed_seed[0]})"
        )

    written: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if int(row[0]) not in seed:
            written.setdefault(str(row[1]), []).append(_item_values(row))
    duplicated = [name for name, versions in written.items() if len(versions) > 1]
    if duplicated:
        problems.append(f"Item: {len(duplicated)} name(s) written twice (e.g. {duplicated[0]!r})")
    missing = [name for name in writes.items if name not in written]
    if missing:
        problems.append(f"Item: {len(missing)} written item(s) missing (e.g. {missing[0]!r})")
    differ = [
        name
        for name, sent in writes.items.items()
        if name in written and written[name][0] != {**sent, "price": money(sent["price"])}
    ]
    if differ:
        problems.append(f"Item: {len(differ)} item(s) differ from what was written (e.g. {differ[0]!r})")
    undeleted = [name for name in writes.deleted_items if name in written]
    if undeleted:
        problems.append(f"Item: {len(undeleted)} deleted item(s) still there (e.g. {undeleted[0]!r})")
    unexplained = [
        name for name in written if name not in writes.items and name not in writes.uncertain_items
    ]
    if len(unexplained) > writes.failed_creates:
        problems.append(
            f"Item: {len(unexplained)} row(s) nobody reported writing (e.g. {unexplained[0]!r}); "
            f"failed or unanswered creates explain at most {writes.failed_creates}"
        )
    return problems


def summarize(problems: Sequence[str]) -> str:
    """Return 'ok', or the first problems and how many more there are."""
    if not problems:
        return OK
    shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    return shown + (f" (+{more} more)" if more > 0 else "")


# --- reading the database -----------------------------------------------------------------------------------


class Database(Protocol):
    def tables(self) -> list[str]: ...
    def columns(self, table: str) -> list[str]: ...
    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...


class SqliteDatabase:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def tables(self) -> list[str]:
        return [row[0] for row in self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")]

    def columns(self, table: str) -> list[str]:
        return [str(row[1]) for row in self.rows(f"PRAGMA table_info({quote(table)})")]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.connection.execute(sql).fetchall())


class PostgresDatabase:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def tables(self) -> list[str]:
        return [
            row[0]
            for row in self.rows(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        ]

    def columns(self, table: str) -> list[str]:
        result = self.connection.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        )
        return [str(row[0]) for row in result.fetchall()]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.connection.execute(sql).fetchall())


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@contextlib.contextmanager
def open_database(database_url: str) -> Iterator[Database]:
    """Yield a read connection to DATABASE_URL (sqlite:////path or postgresql://...)."""
    if kind_of(database_url) == "sqlite":
        path = database_url.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as connection:
            yield SqliteDatabase(connection)
    else:
        import psycopg  # only PostgreSQL runs need it

        with psycopg.connect(database_url) as connection:
            yield PostgresDatabase(connection)


def normalized(column: str) -> str:
    """Return a column name without case or underscores: randomNumber, randomnumber, random_number agree."""
    return column.lower().replace("_", "")


def find_table(db: Database, wanted: frozenset[str], *, exact: bool) -> tuple[str, dict[str, str]] | None:
    """Return (table, {normalized column: column}) of the table whose columns match wanted."""
    for table in db.tables():
        columns = {normalized(name): name for name in db.columns(table)}
        if (columns.keys() == wanted) if exact else (wanted <= columns.keys()):
            return table, columns
    return None


def select(table: str, columns: Mapping[str, str], names: Iterable[str]) -> str:
    return f"SELECT {', '.join(quote(columns[name]) for name in names)} FROM {quote(table)}"


def check_database(database_url: str, writes: Writes) -> str:
    """Return 'ok', 'skipped (why)' or what is wrong with the database after a writing cell.

    A table that is not found is not checked, and the result says so ('ok; no Item table found').
    """
    problems: list[str] = []
    missing: list[str] = []
    with open_database(database_url) as db:
        world = find_table(db, WORLD_COLUMNS, exact=True)
        item = find_table(db, ITEM_COLUMNS, exact=False)
        if world is None:
            missing.append("World")
        else:
            world_rows = [(int(a), int(b)) for a, b in db.rows(select(*world, ("id", "randomnumber")))]
            problems += check_world(world_rows, writes)
        if item is None:
            missing.append("Item")
        else:
            problems += check_items(
                db.rows(select(*item, ("id", "name", "description", "price", "quantity"))), writes
            )
    if len(missing) == 2:
        return f"{SKIPPED} (no World or Item table found by its columns)"
    result = summarize(problems)
    return f"{result}; no {missing[0]} table found by its columns" if missing and result == OK else result
