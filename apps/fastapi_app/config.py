"""Settings read from the environment: BENCH_* variables, DATABASE_URL and FASTAPI_ORM."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from apps import seed_data, serving

APP_DIR = Path(__file__).resolve().parent

# The app's name is declared once, in the app.toml that bench/ reads; /health reports it.
with (APP_DIR / "app.toml").open("rb") as app_toml:
    APP_NAME: str = tomllib.load(app_toml)["name"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BENCH_")

    database_url: str = Field(default="sqlite:///./bench.sqlite3", validation_alias="DATABASE_URL")
    # No default: every worker must sign with the same key, and a key made up at start-up
    # would differ between workers. 32 bytes at least, the HMAC-SHA256 key size the JWTs need.
    # The alias makes a missing or short key show up under its variable name.
    secret_key: str = Field(min_length=32, validation_alias="BENCH_SECRET_KEY")
    admin_password: str = seed_data.DEFAULT_ADMIN_PASSWORD
    user_password: str = seed_data.DEFAULT_USER_PASSWORD
    inject_cpu_us: int = Field(default=0, ge=0)
    # BENCH_THREADS: the most requests the def endpoints run at once (main.py); BENCH_DB_POOL_SIZE, when
    # set, the connections each worker may hold, else as many as the threads (apps/serving.py).
    threads: int = Field(default=serving.DEFAULT_THREADS, ge=1)
    db_pool_size: int | None = Field(default=None, ge=1)
    # The ORM mode (orm_mode.py): async def endpoints on an AsyncSession, or def endpoints on a
    # Session in the thread pool. The alias names the variable in the error of any other value.
    orm: Literal["async", "sync"] = Field(default="async", validation_alias="FASTAPI_ORM")

    @property
    def db_connections(self) -> int:
        """Return the size of each worker's connection pool: BENCH_DB_POOL_SIZE, else BENCH_THREADS."""
        return self.db_pool_size or self.threads


settings = Settings()  # type: ignore[call-arg]  # the values come from the environment
