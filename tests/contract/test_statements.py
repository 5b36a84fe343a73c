"""How statements.py reads pg_stat_statements rows and the server log (no server: made-up lines)."""

from __future__ import annotations

import statements

PREFIX = "2026-12-07 16:56:57.228 UTC [18887] db=app "
OTHER_DATABASE = "2026-12-07 16:56:57.228 UTC [18890] db=other "


def test_the_order_collapses_runs_and_skips_details_other_databases_and_the_counter() -> None:
    lines = [
        PREFIX + "LOG:  statement: BEGIN ISOLATION LEVEL READ COMMITTED",
        PREFIX + "LOG:  execute <unnamed>: SELECT world.id, world.randomnumber ",
        "\tFROM world ",
        PREFIX + "DETAIL:  parameters: $1 = '6872'",
        PREFIX + "LOG:  execute <unnamed>: SELECT world.id FROM world",
        OTHER_DATABASE + "LOG:  statement: ROLLBACK",
        PREFIX + "LOG:  execute <unnamed>: UPDATE world SET randomnumber=$1 WHERE world.id = $2",
        PREFIX + "LOG:  statement: SELECT pg_stat_statements_reset()",
        PREFIX + "LOG:  statement: COMMIT",
    ]
    assert statements.order_and_preparation(lines, database="app") == (
        ("BEGIN", "SELECT", "UPDATE", "COMMIT"),
        False,
    )


def test_a_named_statement_is_prepared() -> None:
    psycopg = [PREFIX + "LOG:  execute _pg3_0: SELECT 1 FROM world"]
    asyncpg = [PREFIX + "LOG:  execute __asyncpg_stmt_1__: SELECT 1 FROM world"]
    simple = [PREFIX + "LOG:  statement: SELECT 1 FROM world"]
    assert statements.order_and_preparation(psycopg, database="app")[1] is True
    assert statements.order_and_preparation(asyncpg, database="app")[1] is True
    assert statements.order_and_preparation(simple, database="app")[1] is False


def test_counts_by_kind_on_the_table() -> None:
    rows = [
        ("BEGIN", 1, 0),
        ("COMMIT", 1, 0),
        ('SELECT "catalog_world"."id" FROM "catalog_world" WHERE "catalog_world"."id" = $1', 20, 20),
        ('UPDATE "catalog_world" SET "random_number" = CASE WHEN ... END', 1, 20),
        ("SELECT pg_stat_statements_reset()", 1, 1),
        ('SELECT "catalog_fortune"."id" FROM "catalog_fortune"', 1, 12),
    ]
    counted = statements.summarize(rows, table="catalog_world", log_lines=[], database="app")
    assert (counted.begins, counted.commits, counted.rollbacks) == (1, 1, 0)
    assert (counted.selects, counted.selected_rows, counted.updates, counted.updated_rows) == (20, 20, 1, 20)
    assert counted.others == 1  # the fortune SELECT: not on the table, and not the counter's own


def test_the_drivers_that_prepare() -> None:
    assert statements.driver_prepares("asyncpg")
    assert not statements.driver_prepares("psycopg, Django's pool")
