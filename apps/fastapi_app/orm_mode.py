"""The ORM mode that FASTAPI_ORM selects, and the decorator that serves database code in it.

Each endpoint and dependency that reads the database is written once, as a plain function whose first
parameter is a `sqlalchemy.orm.Session`; `@with_db_session` gives FastAPI that function in the mode's form:

- async (the default): an `async def` on the request's AsyncSession (aiosqlite, asyncpg) that runs the
  function with `AsyncSession.run_sync`, in the session's greenlet on the event loop;
- sync: a `def` on the request's Session (sqlite3, psycopg), which FastAPI runs in Starlette's thread pool,
  as in FastAPI's SQL tutorial and its full-stack template.

Either way the request has one session, shared by the endpoint and its dependencies (FastAPI caches a
dependency per request), and closed when the request is done.

`@with_autocommit_session` does the same on a session whose connection is in DBAPI autocommit (SQLAlchemy's
`isolation_level="AUTOCOMMIT"` execution option): each statement commits on its own and the driver sends no
BEGIN and no ROLLBACK, which is what Django does by default. The read-only endpoints use it, so that a read
costs the same statements in every app (docs/contract.md, "SQL per request"); writes keep the transaction.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any, Concatenate, ParamSpec, TypeVar

from fastapi import Depends
from sqlalchemy import Engine
from sqlalchemy.engine.interfaces import IsolationLevel
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from apps.fastapi_app.config import settings
from apps.fastapi_app.db import create_async_db_engine, create_sync_db_engine

P = ParamSpec("P")
T = TypeVar("T")

# SQLAlchemy's name for the driver's autocommit mode; an engine copy with this execution option shares the
# pool of the engine it was made from.
AUTOCOMMIT: IsolationLevel = "AUTOCOMMIT"

E = TypeVar("E", Engine, AsyncEngine)


def autocommit_engine(engine: E) -> E:
    """Return engine in DBAPI autocommit, sharing its pool; on SQLite, engine itself: sqlite3 already sends
    no BEGIN before a SELECT, and switching would add a PRAGMA each time a connection goes back."""
    if engine.dialect.name == "sqlite":
        return engine
    return engine.execution_options(isolation_level=AUTOCOMMIT)


def _session_parameter(logic: Callable[..., Any]) -> tuple[inspect.Signature, str]:
    """Return logic's signature (annotations evaluated) and the name of its Session parameter."""
    signature = inspect.signature(logic, eval_str=True)
    first = next(iter(signature.parameters.values()), None)
    if first is None or first.annotation is not Session:
        raise TypeError(f"{logic.__qualname__}: the first parameter must be annotated Session")
    return signature, first.name


def _as_endpoint(
    endpoint: Callable[..., Any], logic: Callable[..., Any], *, session_annotation: Any
) -> Callable[..., Any]:
    """Return endpoint dressed as logic (name, docstring) with logic's signature, whose Session parameter
    is filled by the mode's session dependency: that signature is what FastAPI reads."""
    signature, session_name = _session_parameter(logic)
    parameters = [
        parameter.replace(annotation=session_annotation) if parameter.name == session_name else parameter
        for parameter in signature.parameters.values()
    ]
    functools.update_wrapper(endpoint, logic)
    endpoint.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return endpoint


class OrmMode(ABC):
    """What the app needs of an ORM mode: its engine, its endpoints, a session outside a request."""

    engine: Engine | AsyncEngine

    @abstractmethod
    def with_db_session(self, logic: Callable[..., T]) -> Callable[..., Any]:
        """Return logic as an endpoint or dependency of this mode, given the request's session."""

    @abstractmethod
    def with_autocommit_session(self, logic: Callable[..., T]) -> Callable[..., Any]:
        """Return logic as an endpoint of this mode, given a session in autocommit (for reads only)."""

    @abstractmethod
    async def run(self, logic: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Return what logic gives on a session of its own, without blocking the event loop."""

    @abstractmethod
    async def dispose(self) -> None:
        """Close the engine's pooled connections."""


class AsyncOrm(OrmMode):
    """async def endpoints on SQLAlchemy's AsyncSession: the app as FastAPI's async story tells it."""

    def __init__(self) -> None:
        self.engine: AsyncEngine = create_async_db_engine()
        # expire_on_commit=False: an async session cannot lazily reload attributes after a commit.
        self.session_factory = async_sessionmaker(self.engine, expire_on_commit=False)
        self.autocommit_session_factory = async_sessionmaker(
            autocommit_engine(self.engine), expire_on_commit=False
        )
        self.session_annotation = Annotated[AsyncSession, Depends(self.get_session)]
        self.autocommit_session_annotation = Annotated[AsyncSession, Depends(self.get_autocommit_session)]

    async def get_session(self) -> AsyncIterator[AsyncSession]:
        """Yield a database session that is closed when the request is done."""
        async with self.session_factory() as session:
            yield session

    async def get_autocommit_session(self) -> AsyncIterator[AsyncSession]:
        """Yield a database session in autocommit that is closed when the request is done."""
        async with self.autocommit_session_factory() as session:
            yield session

    @staticmethod
    def _on_session(logic: Callable[..., T], *, session_annotation: Any) -> Callable[..., Any]:
        session_name = _session_parameter(logic)[1]

        async def run_on_async_session(**values: Any) -> T:
            session: AsyncSession = values.pop(session_name)
            return await session.run_sync(logic, **values)

        return _as_endpoint(run_on_async_session, logic, session_annotation=session_annotation)

    def with_db_session(self, logic: Callable[..., T]) -> Callable[..., Any]:
        return self._on_session(logic, session_annotation=self.session_annotation)

    def with_autocommit_session(self, logic: Callable[..., T]) -> Callable[..., Any]:
        return self._on_session(logic, session_annotation=self.autocommit_session_annotation)

    async def run(self, logic: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self.session_factory() as session:
            return await session.run_sync(logic, *args, **kwargs)

    async def dispose(self) -> None:
        await self.engine.dispose()


class SyncOrm(OrmMode):
    """def endpoints on a sync Session in Starlette's thread pool: FastAPI's SQL tutorial."""

    def __init__(self) -> None:
        self.engine: Engine = create_sync_db_engine()
        # The same as the async mode's, so that both modes send the same statements.
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.autocommit_session_factory = sessionmaker(autocommit_engine(self.engine), expire_on_commit=False)
        self.session_annotation = Annotated[Session, Depends(self.get_session)]
        self.autocommit_session_annotation = Annotated[Session, Depends(self.get_autocommit_session)]

    def get_session(self) -> Iterator[Session]:
        """Yield a database session that is closed when the request is done (in the thread pool)."""
        with self.session_factory() as session:
            yield session

    def get_autocommit_session(self) -> Iterator[Session]:
        """Yield a database session in autocommit that is closed when the request is done."""
        with self.autocommit_session_factory() as session:
            yield session

    @staticmethod
    def _on_session(logic: Callable[..., T], *, session_annotation: Any) -> Callable[..., Any]:
        def run_on_session(**values: Any) -> T:
            return logic(**values)

        return _as_endpoint(run_on_session, logic, session_annotation=session_annotation)

    def with_db_session(self, logic: Callable[..., T]) -> Callable[..., Any]:
        return self._on_session(logic, session_annotation=self.session_annotation)

    def with_autocommit_session(self, logic: Callable[..., T]) -> Callable[..., Any]:
        return self._on_session(logic, session_annotation=self.autocommit_session_annotation)

    async def run(self, logic: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        def run_on_new_session() -> T:
            with self.session_factory() as session:
                return logic(session, *args, **kwargs)

        return await run_in_threadpool(run_on_new_session)

    async def dispose(self) -> None:
        self.engine.dispose()


# Only the configured mode's engine is made, so a worker never imports the other mode's drivers.
orm: OrmMode = SyncOrm() if settings.orm == "sync" else AsyncOrm()
with_db_session = orm.with_db_session
with_autocommit_session = orm.with_autocommit_session
