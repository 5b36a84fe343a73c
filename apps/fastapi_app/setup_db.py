"""Create the schema and seed it from apps/seed_data.py: `python -m apps.fastapi_app.setup_db`.

Idempotent: tables are created when missing, and each table is seeded only while it is empty.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from apps import seed_data
from apps.fastapi_app.config import settings
from apps.fastapi_app.db import create_async_db_engine
from apps.fastapi_app.models import Base, Fortune, Item, User, World
from apps.fastapi_app.security import hash_password

logger = logging.getLogger(__name__)

# The async engine in either ORM mode (FASTAPI_ORM): setting up is not measured.
engine = create_async_db_engine()
session_factory = async_sessionmaker(engine)


async def _is_empty(session: AsyncSession, model: type[Base]) -> bool:
    return not await session.scalar(select(func.count()).select_from(model))


async def _seed_mixed_accounts(session: AsyncSession) -> None:
    """Add the mixed scenario's accounts that are missing, with the user password (see seed_data)."""
    usernames = seed_data.mixed_usernames()
    existing = set(await session.scalars(select(User.username).where(User.username.in_(usernames))))
    missing = [username for username in usernames if username not in existing]
    if not missing:
        return
    # One hash for every account: hashing 64 argon2id passwords (~0.1 s each) would add seconds to each
    # setup. The accounts differ, the stored hash repeats (the same password and salt); a login still
    # verifies it in full, at the same cost as any other account's.
    password_hash = hash_password(settings.user_password)
    await session.execute(
        insert(User),
        [{"username": username, "password_hash": password_hash, "is_staff": False} for username in missing],
    )


async def seed(session: AsyncSession) -> None:
    """Write the seed rows into every empty table, in one transaction."""
    if await _is_empty(session, World):
        rows = seed_data.world_rows()
        await session.execute(insert(World), [{"id": id_, "random_number": number} for id_, number in rows])
    if await _is_empty(session, Fortune):
        await session.execute(
            insert(Fortune), [{"id": id_, "message": message} for id_, message in seed_data.FORTUNES]
        )
    if await _is_empty(session, User):
        session.add_all(
            [
                User(
                    username=seed_data.ADMIN_USERNAME,
                    password_hash=hash_password(settings.admin_password),
                    is_staff=True,
                ),
                User(
                    username=seed_data.USER_USERNAME,
                    password_hash=hash_password(settings.user_password),
                    is_staff=False,
                ),
            ]
        )
        await session.flush()
    await _seed_mixed_accounts(session)
    if await _is_empty(session, Item):
        admin = await session.scalar(select(User).where(User.username == seed_data.ADMIN_USERNAME))
        assert admin is not None
        await session.execute(
            insert(Item),
            [
                {
                    "id": item.id,
                    "name": item.name,
                    "description": item.description,
                    "price": item.price,
                    "quantity": item.quantity,
                    "owner_id": admin.id,
                    "created_at": item.created_at,
                }
                for item in seed_data.items()
            ],
        )
        if engine.dialect.name == "postgresql":
            # The rows were written with explicit ids; move the sequence past them so that the
            # next item the API creates gets id 1001.
            await session.execute(
                text("SELECT setval(pg_get_serial_sequence('item', 'id'), (SELECT max(id) FROM item))")
            )
    await session.commit()


async def setup_database() -> None:
    """Create the missing tables, then seed the empty ones."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with session_factory() as session:
        await seed(session)
    await engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(setup_database())
    logger.info("database ready: %s", engine.url.render_as_string(hide_password=True))
