"""The Flask extensions, created unbound here and bound to the app in create_app()."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, event
from sqlalchemy.engine.interfaces import IsolationLevel
from sqlalchemy.orm import DeclarativeBase

from apps.flask_app.errors import EnvelopeApi

SQLITE_BUSY_TIMEOUT_MS = 30_000
# SQLAlchemy's name for the driver's autocommit mode.
AUTOCOMMIT: IsolationLevel = "AUTOCOMMIT"

P = ParamSpec("P")
T = TypeVar("T")


class Base(DeclarativeBase):
    pass


# A request ends right after its commit: expiring the objects would only make serializing them
# reload every row.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
login_manager = LoginManager()
csrf = CSRFProtect()
api = EnvelopeApi()


def _configure_sqlite_connection(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets readers run beside a writer; the busy timeout makes concurrent writers in
    # several worker processes wait for the lock instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # No fsync per commit (WAL stays consistent; SQLite's advice for WAL): the disk of a shared
    # machine made write-heavy cells vary by 12% from run to run. The same in every app.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def configure_sqlite(engine: Engine) -> None:
    """Give every new SQLite connection of engine WAL mode and a busy timeout."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite_connection)


def with_autocommit_session(view: Callable[P, T]) -> Callable[P, T]:
    """Return view run with the request's db.session in DBAPI autocommit (for read-only views).

    Each statement then commits on its own and psycopg sends no BEGIN and no ROLLBACK, which is what Django
    does by default (docs/contract.md, "SQL per request"). SQLAlchemy documents this per-transaction form:
    the execution option is given when the session first takes its connection, and the pool restores the
    connection's isolation level when the request ends. Views that write keep the transaction. On SQLite
    nothing changes: sqlite3 already sends no BEGIN before a SELECT, and switching would add a PRAGMA each
    time a connection goes back to the pool.
    """

    @functools.wraps(view)
    def run_in_autocommit(*args: P.args, **kwargs: P.kwargs) -> T:
        if db.session.get_bind().dialect.name != "sqlite":
            db.session.connection(execution_options={"isolation_level": AUTOCOMMIT})
        return view(*args, **kwargs)

    return run_in_autocommit
