"""The async engine and the per-request database session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import URL, event, make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from apps.fastapi_app.config import settings

SQLITE_BUSY_TIMEOUT_MS = 30_000

# DATABASE_URL names the database the way every app receives it; each app picks its own driver.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def async_database_url(database_url: str) -> URL:
    """Return DATABASE_URL with the async driver of its backend (aiosqlite or asyncpg)."""
    url = make_url(database_url)
    return url.set(drivername=_ASYNC_DRIVERS.get(url.drivername, url.drivername))


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


database_url = async_database_url(settings.database_url)
engine = create_async_engine(
    database_url,
    pool_size=settings.db_pool_size,
    max_overflow=0,
)
if database_url.get_backend_name() == "sqlite":
    event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)

# expire_on_commit=False: an async session cannot lazily reload attributes after a commit.
session_factory = async_sessionmaker(engine, expire_on_commit=False)


async def get_db_session() -> AsyncIterator[AsyncSession]:
    """Yield a database session that is closed when the request is done."""
    async with session_factory() as session:
        yield session
