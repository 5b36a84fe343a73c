"""bench/run/datacheck.py: the database after a writing cell against what the scenario's answers reported."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from apps import seed_data
from bench.run.database import sqlite_url
from bench.run.datacheck import (
    OK,
    SKIPPED,
    Writes,
    check_database,
    check_items,
    check_world,
    merge_write_logs,
    money,
)


def seeded_world() -> list[tuple[int, int]]:
    return list(seed_data.world_rows())


def seeded_items() -> list[tuple[Any, ...]]:
    return [(i.id, i.name, i.description, i.price, i.quantity) for i in seed_data.items()]


def written(
    price: str = "12.50", quantity: int = 3, description: str = "Written by a bench scenario."
) -> dict[str, Any]:
    return {"description": description, "price": price, "quantity": quantity}


def row(item_id: int, name: str, fields: dict[str, Any]) -> tuple[Any, ...]:
    return (item_id, name, fields["description"], fields["price"], fields["quantity"])


def test_untouched_seed_is_ok() -> None:
    assert check_world(seeded_world(), Writes()) == []
    assert check_items(seeded_items(), Writes()) == []


def test_reported_world_updates_are_ok() -> None:
    rows = dict(seeded_world())
    rows[7] = 1234
    writes = Writes(world={7: {99, 1234}})  # two requests updated row 7; the last one won
    assert check_world(sorted(rows.items()), writes) == []


def test_a_world_row_nobody_reported_updating_is_a_problem() -> None:
    rows = dict(seeded_world())
    rows[8] = rows[8] % 10_000 + 1
    problems = check_world(sorted(rows.items()), Writes())
    assert problems and "id 8" in problems[0]


def test_failed_updates_explain_as_many_rows_as_they_asked_for() -> None:
    rows = dict(seeded_world())
    for world_id in (8, 9):
        rows[world_id] = rows[world_id] % 10_000 + 1
    assert check_world(sorted(rows.items()), Writes(failed_world_updates=2)) == []
    assert check_world(sorted(rows.items()), Writes(failed_world_updates=1)) != []


def test_an_updated_row_holding_none_of_the_reported_values_is_a_problem() -> None:
    rows = dict(seeded_world())
    rows[7] = 5
    assert check_world(sorted(rows.items()), Writes(world={7: {6}})) != []


def test_missing_and_duplicate_world_rows_are_problems() -> None:
    rows = seeded_world()
    assert any("rows instead" in p for p in check_world(rows[:-1], Writes()))
    assert any("duplicate" in p for p in check_world([*rows, rows[0]], Writes()))


def test_written_items_must_exist_as_written() -> None:
    rows = [*seeded_items(), (1001, "bench abc", "Written by a bench scenario.", 12.5, 3)]
    assert check_items(rows, Writes(items={"bench abc": written()})) == []
    assert check_items(rows, Writes(items={"bench abc": written(quantity=4)})) != []
    assert any("missing" in p for p in check_items(seeded_items(), Writes(items={"bench abc": written()})))


def test_deleted_items_must_be_gone() -> None:
    rows = [*seeded_items(), row(1001, "bench abc", written())]
    assert any("still there" in p for p in check_items(rows, Writes(deleted_items={"bench abc"})))
    assert check_items(seeded_items(), Writes(deleted_items={"bench abc"})) == []


def test_a_deleted_items_id_may_come_back_for_a_new_item() -> None:
    # SQLite gives the highest deleted id to the next new row: items are known by their unique name.
    rows = [*seeded_items(), row(1001, "bench new", written())]
    writes = Writes(items={"bench new": written()}, deleted_items={"bench old"})
    assert check_items(rows, writes) == []


def test_rows_nobody_reported_writing_are_a_problem_unless_a_create_failed() -> None:
    rows = [*seeded_items(), row(1001, "bench abc", written()), row(1002, "bench def", written())]
    writes = Writes(items={"bench abc": written()})
    assert any("nobody reported" in p for p in check_items(rows, writes))
    assert check_items(rows, Writes(items=writes.items, failed_creates=1)) == []


def test_an_item_written_twice_is_a_duplicate() -> None:
    rows = [*seeded_items(), row(1001, "bench abc", written()), row(1002, "bench abc", written())]
    problems = check_items(rows, Writes(items={"bench abc": written()}))
    assert any("written twice" in p for p in problems)


def test_uncertain_items_are_not_held_against_the_app() -> None:
    rows = [*seeded_items(), row(1001, "bench abc", written())]
    assert check_items(rows, Writes(uncertain_items={"bench abc"})) == []


def test_a_changed_seeded_item_is_a_problem() -> None:
    rows = seeded_items()
    rows[4] = (5, "renamed", *rows[4][2:])
    problems = check_items(rows, Writes())
    assert problems and "id 5" in problems[0]


def test_prices_compare_whatever_type_the_driver_returns() -> None:
    assert money(12.5) == money("12.50") == money(Decimal("12.5")) == Decimal("12.50")
    assert money("not a price") is None


def test_write_logs_of_several_processes_merge() -> None:
    merged = merge_write_logs(
        [
            {"world": {"7": [1, 2]}, "items": {"bench a": written()}, "failed_creates": 1},
            {"world": {"7": [3], "8": [4]}, "deleted_items": ["bench b"], "uncertain_items": ["bench c"]},
        ]
    )
    assert merged.world == {7: {1, 2, 3}, 8: {4}}
    assert merged.items == {"bench a": written()}
    assert (merged.deleted_items, merged.uncertain_items, merged.failed_creates) == (
        {"bench b"},
        {"bench c"},
        1,
    )


def make_database(path: Path, *, world_column: str = "random_number", change_item: bool = False) -> str:
    """Create an SQLite database shaped like one app's (Django-style names), seeded; return its URL."""
    with sqlite3.connect(path) as connection:
        connection.execute(f'CREATE TABLE catalog_world (id INTEGER PRIMARY KEY, "{world_column}" INTEGER)')
        connection.execute(
            "CREATE TABLE catalog_item (id INTEGER PRIMARY KEY, name TEXT, description TEXT, "
            "price DECIMAL, quantity INTEGER, owner_id INTEGER, created_at TEXT)"
        )
        connection.execute("CREATE TABLE catalog_fortune (id INTEGER PRIMARY KEY, message TEXT)")
        connection.executemany("INSERT INTO catalog_world VALUES (?, ?)", seed_data.world_rows())
        connection.executemany(
            "INSERT INTO catalog_item VALUES (?, ?, ?, ?, ?, 1, '2026-01-01')",
            [(i.id, i.name, i.description, str(i.price), i.quantity) for i in seed_data.items()],
        )
        if change_item:
            connection.execute("UPDATE catalog_item SET quantity = quantity + 1 WHERE id = 3")
    return sqlite_url(path)


@pytest.mark.parametrize("world_column", ["random_number", "randomNumber", "randomnumber"])
def test_tables_are_found_by_their_columns(tmp_path: Path, world_column: str) -> None:
    url = make_database(tmp_path / "db.sqlite3", world_column=world_column)
    assert check_database(url, Writes()) == OK


def test_check_database_reports_a_changed_row(tmp_path: Path) -> None:
    url = make_database(tmp_path / "db.sqlite3", change_item=True)
    result = check_database(url, Writes())
    assert result != OK and "id 3" in result


def test_a_database_without_the_tables_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    sqlite3.connect(path).close()
    assert check_database(sqlite_url(path), Writes()).startswith(SKIPPED)
