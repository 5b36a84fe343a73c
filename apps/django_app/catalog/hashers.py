"""Password hashing: Django's argon2id hasher with the parameters every app of the bench uses."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher

from apps import seed_data


class BenchArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with time_cost 3, memory_cost 64 MiB, parallelism 4 (Django's own are 2, 100 MiB, 8).

    The algorithm name stays "argon2", so the stored hashes are ordinary Django argon2 hashes.
    """

    time_cost = seed_data.ARGON2_TIME_COST
    memory_cost = seed_data.ARGON2_MEMORY_COST
    parallelism = seed_data.ARGON2_PARALLELISM
