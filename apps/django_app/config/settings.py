"""Production settings, read from the environment that `bench serve` sets (docs/contract.md)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import django
from django.core.exceptions import ImproperlyConfigured

from apps import seed_data, serving
from apps.django_app.config.database_url import SQLITE_ENGINE, parse_database_url

APP_DIR = Path(__file__).resolve().parent.parent

# The app's name is declared once, in the app.toml that bench/ reads; /health reports it.
with (APP_DIR / "app.toml").open("rb") as app_toml:
    BENCH_APP_NAME: str = tomllib.load(app_toml)["name"]

try:
    SECRET_KEY = os.environ["BENCH_SECRET_KEY"]
except KeyError:
    # No made-up default: every worker must sign sessions, CSRF tokens and JWTs with the same key.
    raise ImproperlyConfigured("BENCH_SECRET_KEY must be set") from None

BENCH_ADMIN_PASSWORD = os.environ.get("BENCH_ADMIN_PASSWORD", seed_data.DEFAULT_ADMIN_PASSWORD)
BENCH_USER_PASSWORD = os.environ.get("BENCH_USER_PASSWORD", seed_data.DEFAULT_USER_PASSWORD)
BENCH_INJECT_CPU_US = int(os.environ.get("BENCH_INJECT_CPU_US", "0"))
# gunicorn's --threads, passed by the bench; each worker's pool holds as many connections unless
# BENCH_DB_POOL_SIZE says otherwise (apps/serving.py).
BENCH_THREADS = int(os.environ.get("BENCH_THREADS", serving.DEFAULT_THREADS))
BENCH_DB_POOL_SIZE = int(os.environ.get("BENCH_DB_POOL_SIZE") or BENCH_THREADS)

# config/asgi.py sets "asgi"; everything else (gunicorn, manage.py) runs the WSGI way.
SERVER_INTERFACE = os.environ.get("DJANGO_SERVER_INTERFACE", "wsgi")

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.django_app.catalog",
]

MIDDLEWARE = [
    # First, so that the injected CPU time is spent on every request (0 removes it from the chain).
    "apps.django_app.catalog.middleware.inject_cpu_middleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "apps.django_app.config.urls"
WSGI_APPLICATION = "apps.django_app.config.wsgi.application"

TEMPLATES = [
    {
        # With DEBUG off, Django wraps these loaders in its cached loader.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
_database = parse_database_url(os.environ.get("DATABASE_URL", "sqlite:///./bench.sqlite3"))
if _database["ENGINE"] == SQLITE_ENGINE:
    _database["OPTIONS"].update(
        {
            # WAL lets readers and one writer work at once; the busy timeout (seconds) makes a
            # writer wait for the lock instead of failing with "database is locked", and
            # IMMEDIATE takes that lock when a transaction starts, where waiting is possible.
            # synchronous=NORMAL: no fsync per commit, as in the other apps (docs/fairness.md).
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
        }
    )
    # Persistent connections live in the thread that opened them. gunicorn's gthread workers
    # keep their threads, so each keeps its connection; under ASGI every request runs its sync
    # code in a new thread, and Django's docs say to disable persistent connections there.
    _database["CONN_MAX_AGE"] = 0 if SERVER_INTERFACE == "asgi" else 600
    # Checks a reused persistent connection once per request before using it (free on SQLite).
    _database["CONN_HEALTH_CHECKS"] = True
elif django.VERSION < (5, 1):
    # Versions shim (docs/versions.md): Django before 5.1 has no connection pool, so PostgreSQL gets what
    # those releases' docs advise instead, persistent connections per thread (off under ASGI, as above).
    _database["CONN_MAX_AGE"] = 0 if SERVER_INTERFACE == "asgi" else 600
    _database["CONN_HEALTH_CHECKS"] = False
else:
    # PostgreSQL: Django's own psycopg 3 connection pool (Django 5.1+), the same under WSGI and
    # ASGI; BENCH_DB_POOL_SIZE caps the connections each worker process holds. A pool requires
    # CONN_MAX_AGE = 0: a request's connection goes back to the pool when the request ends. A request
    # waits at most DB_POOL_TIMEOUT_S for one, as in the SQLAlchemy apps (psycopg_pool's default: 30 s).
    _database["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": BENCH_DB_POOL_SIZE,
        "timeout": serving.DB_POOL_TIMEOUT_S,
    }
    _database["CONN_MAX_AGE"] = 0
    # No health check (Django's default): with a pool it costs a round trip per request, an empty query
    # psycopg_pool sends on every checkout, which SQLAlchemy's pool (no pool_pre_ping) does not send either.
    _database["CONN_HEALTH_CHECKS"] = False
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- authentication -------------------------------------------------------------------------
PASSWORD_HASHERS = ["apps.django_app.catalog.hashers.BenchArgon2PasswordHasher"]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/items/"
LOGOUT_REDIRECT_URL = "/login"
# The bench talks plain HTTP on loopback; behind TLS these cookies would also be Secure.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# The contract's limit: a body over 1 MiB is refused (413 under /api), exactly 1 MiB is accepted.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static files ---------------------------------------------------------------------------
# The setup command collects the admin's and Swagger UI's files here; config/wsgi.py and
# config/asgi.py serve them with ServeStatic wrapped around the application.
STATIC_URL = "static/"
STATIC_ROOT = APP_DIR / "staticfiles"

# --- REST framework and the OpenAPI document ------------------------------------------------
REST_FRAMEWORK = {
    # Bearer tokens only: no SessionAuthentication, so a session cookie neither authenticates
    # /api nor makes it need a CSRF token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.django_app.catalog.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PARSER_CLASSES": ["apps.django_app.catalog.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "apps.django_app.catalog.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Prices are JSON numbers, not strings.
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "framework-bench: Django",
    "DESCRIPTION": "The JSON API of docs/contract.md, served by Django REST framework.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components: the response has id, owner and created_at.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's files come from drf-spectacular-sidecar, served by the app: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # drf-spectacular's default hook, then the rules its generator cannot see (catalog/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.django_app.catalog.openapi.document_contract",
    ],
}

# --- logging --------------------------------------------------------------------------------
# No access log. Server errors go to stderr (the server's log), never into a response.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
}
