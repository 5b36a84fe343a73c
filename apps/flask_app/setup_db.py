"""Create the schema and seed it from apps/seed_data.py; running it twice changes nothing.

Usage: python -m apps.flask_app.setup_db   (reads DATABASE_URL, BENCH_ADMIN_PASSWORD, ...)
"""

from __future__ import annotations

import logging
import secrets

from flask import current_app
from sqlalchemy import func, insert, select, text

from apps import seed_data
from apps.flask_app import create_app
from apps.flask_app.auth import hash_password
from apps.flask_app.extensions import Base, db
from apps.flask_app.models import Fortune, Item, User, World

logger = logging.getLogger(__name__)


def _is_empty(model: type[Base]) -> bool:
    return db.session.scalar(select(func.count()).select_from(model)) == 0


def _seed_mixed_accounts() -> None:
    """Add the mixed scenario's accounts that are missing, with the user password (see seed_data)."""
    usernames = seed_data.mixed_usernames()
    existing = set(db.session.scalars(select(User.username).where(User.username.in_(usernames))))
    missing = [username for username in usernames if username not in existing]
    if not missing:
        return
    # One hash for every account: hashing 64 argon2id passwords (~0.1 s each) would add seconds to each
    # setup. The accounts differ, the stored hash repeats (the same password and salt); a login still
    # verifies it in full, at the same cost as any other account's.
    password_hash = hash_password(current_app.config["USER_PASSWORD"])
    db.session.execute(
        insert(User),
        [{"username": username, "password_hash": password_hash, "is_staff": False} for username in missing],
    )


def seed_database() -> None:
    """Create missing tables and fill the empty ones with the shared seed data."""
    db.create_all()
    if _is_empty(World):
        db.session.execute(
            insert(World),
            [{"id": row_id, "random_number": number} for row_id, number in seed_data.world_rows()],
        )
    if _is_empty(Fortune):
        db.session.execute(
            insert(Fortune),
            [{"id": row_id, "message": message} for row_id, message in seed_data.FORTUNES],
        )
    if _is_empty(User):
        db.session.add_all(
            [
                User(
                    username=seed_data.ADMIN_USERNAME,
                    password_hash=hash_password(current_app.config["ADMIN_PASSWORD"]),
                    is_staff=True,
                ),
                User(
                    username=seed_data.USER_USERNAME,
                    password_hash=hash_password(current_app.config["USER_PASSWORD"]),
                    is_staff=False,
                ),
            ]
        )
        db.session.flush()
    _seed_mixed_accounts()
    if _is_empty(Item):
        admin_id = db.session.scalar(select(User.id).filter_by(username=seed_data.ADMIN_USERNAME))
        db.session.execute(
            insert(Item),
            [
                {
                    "id": item.id,
                    "name": item.name,
                    "description": item.description,
                    "price": item.price,
                    "quantity": item.quantity,
                    "owner_id": admin_id,
                    "created_at": item.created_at,
                }
                for item in seed_data.items()
            ],
        )
        if db.engine.dialect.name == "postgresql":
            # The seed wrote explicit ids; move the sequence past them for the next INSERT.
            db.session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:table, 'id'), max(id)) FROM " + Item.__table__.name
                ),
                {"table": Item.__table__.name},
            )
    db.session.commit()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # The setup signs nothing; a throw-away key lets it run without BENCH_SECRET_KEY.
    app = create_app({"SECRET_KEY": secrets.token_hex()})
    with app.app_context():
        seed_database()
        logger.info("flask: schema and seed data ready at %s", db.engine.url)


if __name__ == "__main__":
    main()
