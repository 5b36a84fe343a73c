"""The database engines of the two ORM modes: async (aiosqlite, asyncpg) and sync (sqlite3, psycopg)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from apps import serving
from apps.fastapi_app.config import settings

SQLITE_BUSY_TIMEOUT_MS = 30_000

# DATABASE_URL names the database the way every app receives it; each app picks its own driver.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}
_SYNC_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}


# psycopg prepares a statement on a connection once it has run 5 times there; Django turns that off by default
# (django/db/backends/postgresql/base.py: "Disable prepared statements by default"). None turns it off here
# too, so that PostgreSQL parses and plans each statement in every app (docs/contract.md, "SQL per request").
# asyncpg, the async mode's driver, always prepares: the contract states that difference.
_PSYCOPG_CONNECT_ARGS = {"prepare_threshold": None}


def _with_driver(database_url: str, drivers: Mapping[str, str]) -> URL:
    url = make_url(database_url)
    return url.set(drivername=drivers.get(url.drivername, url.drivername))


def async_database_url(database_url: str) -> URL:
    """Return DATABASE_URL with the async driver of its backend (aiosqlite or asyncpg)."""
    return _with_driver(database_url, _ASYNC_DRIVERS)


def sync_database_url(database_url: str) -> URL:
    """Return DATABASE_URL with the sync driver of its backend (sqlite3 or psycopg 3)."""
    return _with_driver(database_url, _SYNC_DRIVERS)


def _configure_sqlite_connection(dbapi_connection: Any, _connection_record: Any) -> None:
    # WAL lets readers run beside the writer, and the busy timeout makes the workers of a
    # multi-process server queue for the write lock instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # No fsync per commit (WAL stays consistent; SQLite's advice for WAL): the disk of a shared
    # machine made write-heavy cells vary by 12% from run to run. The same in every app.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _configure_connections(engine: Engine) -> None:
    # Both modes' engines pass here, so their SQLite connections are set up alike.
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite_connection)


def create_async_db_engine() -> AsyncEngine:
    """Return the engine of the async mode, on DATABASE_URL, with the pool of the settings."""
    engine = create_async_engine(
        async_database_url(settings.database_url),
        pool_size=settings.db_connections,
        max_overflow=0,
        pool_timeout=serving.DB_POOL_TIMEOUT_S,
    )
    _configure_connections(engine.sync_engine)
    return engine


def create_sync_db_engine() -> Engine:
    """Return the engine of the sync mode, on DATABASE_URL, with the pool of the settings."""
    url = sync_database_url(settings.database_url)
    engine = create_engine(
        url,
        pool_size=settings.db_connections,
        max_overflow=0,
        pool_timeout=serving.DB_POOL_TIMEOUT_S,
        connect_args=_PSYCOPG_CONNECT_ARGS if url.get_driver_name() == "psycopg" else {},
    )
    _configure_connections(engine)
    return engine
