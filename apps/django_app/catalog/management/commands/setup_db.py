"""`manage.py setup_db`: migrate, collect static files and seed the data; running it again changes nothing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.core.management.color import no_style
from django.db import connection, transaction

from apps import seed_data
from apps.django_app.catalog.models import Fortune, Item, World


class Command(BaseCommand):
    help = "Create the schema, collect the static files and seed the tables that are empty."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        # A deployment step: the admin's and Swagger UI's files, served by ServeStatic.
        call_command("collectstatic", interactive=False, verbosity=0)
        with transaction.atomic():
            seed_tables()


def seed_tables() -> None:
    """Write the shared seed data (apps/seed_data.py) into every table that is still empty."""
    user_model = get_user_model()
    # The admin first, so that the ids are 1 (admin) and 2 (user) as in the other apps.
    admin_user = user_model.objects.filter(username=seed_data.ADMIN_USERNAME).first()
    if admin_user is None:
        admin_user = user_model.objects.create_superuser(
            username=seed_data.ADMIN_USERNAME, password=settings.BENCH_ADMIN_PASSWORD
        )
    if not user_model.objects.filter(username=seed_data.USER_USERNAME).exists():
        user_model.objects.create_user(
            username=seed_data.USER_USERNAME, password=settings.BENCH_USER_PASSWORD
        )
    seed_mixed_accounts()
    if not World.objects.exists():
        World.objects.bulk_create(
            [World(id=world_id, random_number=number) for world_id, number in seed_data.world_rows()],
            batch_size=1000,
        )
    if not Fortune.objects.exists():
        Fortune.objects.bulk_create(
            [Fortune(id=fortune_id, message=message) for fortune_id, message in seed_data.FORTUNES]
        )
    if not Item.objects.exists():
        Item.objects.bulk_create(
            [
                Item(
                    id=item.id,
                    name=item.name,
                    description=item.description,
                    price=item.price,
                    quantity=item.quantity,
                    owner=admin_user,
                    created_at=item.created_at,
                )
                for item in seed_data.items()
            ],
            batch_size=500,
        )
    # Rows written with explicit ids leave PostgreSQL's sequences behind (loaddata does the same).
    reset_sql = connection.ops.sequence_reset_sql(no_style(), [World, Fortune, Item])
    if reset_sql:
        with connection.cursor() as cursor:
            for statement in reset_sql:
                cursor.execute(statement)


def seed_mixed_accounts() -> None:
    """Add the mixed scenario's accounts that are missing, with the user password (see seed_data)."""
    user_model = get_user_model()
    usernames = seed_data.mixed_usernames()
    existing = set(user_model.objects.filter(username__in=usernames).values_list("username", flat=True))
    missing = [username for username in usernames if username not in existing]
    if not missing:
        return
    # One hash for every account: hashing 64 argon2id passwords (~0.1 s each) would add seconds to each
    # setup. The accounts differ, the stored hash repeats (the same password and salt); a login still
    # verifies it in full, at the same cost as any other account's.
    password_hash = make_password(settings.BENCH_USER_PASSWORD)
    user_model.objects.bulk_create(
        [user_model(username=username, password=password_hash) for username in missing]
    )
