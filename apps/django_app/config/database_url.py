"""DATABASE_URL to Django's DATABASES entry: a few lines instead of a dj-database-url dependency."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

SQLITE_ENGINE = "django.db.backends.sqlite3"
POSTGRESQL_ENGINE = "django.db.backends.postgresql"
POSTGRESQL_SCHEMES = frozenset({"postgres", "postgresql"})


def parse_database_url(url: str) -> dict[str, Any]:
    """Return the ENGINE, NAME, credentials and OPTIONS that a DATABASE_URL describes.

    `sqlite:////abs/path.sqlite3` names an absolute file and `sqlite:///./bench.sqlite3` a relative
    one; `postgresql://user:password@host:port/dbname?option=value` uses psycopg 3, the query
    string becoming connection options.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # The path after "sqlite://" starts with the "/" that separates it from the empty host.
        name = unquote(parts.path[1:])
        if not name:
            raise ValueError(f"DATABASE_URL {url!r} names no SQLite file")
        return {"ENGINE": SQLITE_ENGINE, "NAME": name, "OPTIONS": {}}
    if parts.scheme in POSTGRESQL_SCHEMES:
        return {
            "ENGINE": POSTGRESQL_ENGINE,
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": dict(parse_qsl(parts.query)),
        }
    raise ValueError(f"unsupported DATABASE_URL {url!r}: use sqlite:/// or postgresql://")
