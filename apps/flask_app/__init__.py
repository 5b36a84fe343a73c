"""The Flask app of framework-bench: create_app() assembles the extensions and blueprints."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask
from sqlalchemy import make_url

from apps import seed_data, serving
from apps.flask_app import auth, forms, health, io, items, performance
from apps.flask_app.admin import init_admin
from apps.flask_app.docs import OPENAPI_SETTINGS, ContractPlugin, init_docs
from apps.flask_app.errors import reject_oversized_body
from apps.flask_app.extensions import api, configure_sqlite, csrf, db, login_manager
from apps.flask_app.json_provider import OrjsonProvider

DEFAULT_DATABASE_URL = "sqlite:///./bench.sqlite3"
MAX_BODY_BYTES = 1024 * 1024

# DATABASE_URL names the database the way every app receives it; this app's drivers are
# psycopg 3 and the standard library's sqlite3.
_SYNC_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


def sqlalchemy_database_url(database_url: str) -> str:
    """Return DATABASE_URL for SQLAlchemy: psycopg for PostgreSQL, an absolute SQLite path."""
    url = make_url(database_url)
    url = url.set(drivername=_SYNC_DRIVERS.get(url.drivername, url.drivername))
    # Flask-SQLAlchemy would resolve a relative SQLite path against the instance folder;
    # the contract means the working directory.
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=os.path.abspath(url.database))
    return url.render_as_string(hide_password=False)


def _configure(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    app.config.from_mapping(
        ADMIN_PASSWORD=seed_data.DEFAULT_ADMIN_PASSWORD,
        USER_PASSWORD=seed_data.DEFAULT_USER_PASSWORD,
        INJECT_CPU_US=0,
        THREADS=serving.DEFAULT_THREADS,
        DB_POOL_SIZE=None,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        # Flask's 500 kB cap on a single form field would undercut the 1 MiB body limit.
        MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES,
        SESSION_COOKIE_SAMESITE="Lax",
        # "stdlib": Flask's default provider (json); "orjson": the orjson variant's (json_provider.py).
        JSON_PROVIDER="stdlib",
        **OPENAPI_SETTINGS,
    )
    # BENCH_SECRET_KEY -> SECRET_KEY, BENCH_DB_POOL_SIZE -> DB_POOL_SIZE, ... The values stay
    # strings (loads=str): a password such as "true" must not turn into a boolean.
    app.config.from_prefixed_env("BENCH", loads=str)
    app.config.from_mapping(overrides or {})
    for key in ("INJECT_CPU_US", "THREADS"):
        app.config[key] = int(app.config[key])
    # As many connections per worker as gunicorn's --threads, BENCH_THREADS (apps/serving.py).
    app.config["DB_POOL_SIZE"] = int(app.config["DB_POOL_SIZE"] or app.config["THREADS"])
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("BENCH_SECRET_KEY must be set: it signs sessions, CSRF tokens and JWTs")

    app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_database_url(
        os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_size": app.config["DB_POOL_SIZE"],
        "max_overflow": 0,
        "pool_timeout": serving.DB_POOL_TIMEOUT_S,
    }
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_driver_name() == "psycopg":
        # psycopg prepares a statement once it has run 5 times on a connection; Django turns that off by
        # default (django/db/backends/postgresql/base.py), and so does this app, so that PostgreSQL parses
        # and plans each statement in every app (docs/contract.md, "SQL per request").
        app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] = {"prepare_threshold": None}


def _inject_cpu(app: Flask) -> None:
    """Burn INJECT_CPU_US microseconds of CPU before every request (tests the regression gate)."""
    burn_ns = app.config["INJECT_CPU_US"] * 1000
    if burn_ns <= 0:
        return

    @app.before_request
    def burn_cpu() -> None:
        deadline = time.perf_counter_ns() + burn_ns
        while time.perf_counter_ns() < deadline:
            pass


def _choose_json_provider(app: Flask) -> None:
    provider = app.config["JSON_PROVIDER"]
    if provider == "orjson":
        app.json = OrjsonProvider(app)
    elif provider != "stdlib":
        raise RuntimeError(f"BENCH_JSON_PROVIDER must be stdlib or orjson, not {provider!r}")


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Return the configured app; overrides (a config mapping) wins over the environment."""
    app = Flask(__name__)
    _configure(app, overrides)
    _choose_json_provider(app)
    _inject_cpu(app)

    app.before_request(reject_oversized_body)

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    login_manager.init_app(app)
    csrf.init_app(app)
    app.url_map.converters["item_id"] = items.ItemIdConverter
    api.init_app(app, spec_kwargs={"extra_plugins": [ContractPlugin()]})
    api.register_converter(items.ItemIdConverter, items.item_id_schema)

    # The API authenticates bearer tokens only, never the session cookie: it needs no CSRF token.
    for api_blueprint in (auth.api_blp, items.blp):
        api.register_blueprint(api_blueprint)
        csrf.exempt(api_blueprint)
    for blueprint in (performance.blp, auth.blp, forms.blp, io.blp, health.blp):
        app.register_blueprint(blueprint)
    init_admin(app)
    init_docs(app)
    return app
