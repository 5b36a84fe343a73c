"""Mixed: a weighted mix of the other scenarios' requests, as one site's traffic.

Read-mostly: JSON API and HTML page reads dominate; a few writes through the API and the forms; /io stands
for calls to other services. Logins happen once at start (password hashing has its own scenario, auth).
The weights below are percentages of the requests a user picks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from locust import FastHttpUser, constant

from apps.seed_data import USER_USERNAME
from bench.scenarios.api import ApiUser
from bench.scenarios.common import shared_session, shared_token
from bench.scenarios.db import DbUser
from bench.scenarios.docs import DocsUser
from bench.scenarios.forms import FormsUser
from bench.scenarios.fortunes import FortunesUser
from bench.scenarios.io_wait import IoUser
from bench.scenarios.json_serialization import JsonUser
from bench.scenarios.me import MeUser
from bench.scenarios.plaintext import PlaintextUser
from bench.scenarios.queries import QueriesUser
from bench.scenarios.updates import UpdatesUser

NAME = "mixed"
TABLE_ROW = "use_case"
WRITES = True

MIX: tuple[tuple[Callable[[Any], None], int], ...] = (
    (PlaintextUser.read_plaintext, 2),
    (JsonUser.read_json, 10),
    (DbUser.read_world, 10),
    (QueriesUser.read_worlds, 5),
    (UpdatesUser.update_worlds, 2),
    (FortunesUser.read_fortunes, 8),
    (ApiUser.list_items, 10),
    (ApiUser.read_item, 12),
    (ApiUser.create_item, 4),
    (ApiUser.create_invalid_item, 2),
    (ApiUser.update_own_item, 2),
    (ApiUser.delete_own_item, 2),
    (MeUser.read_me, 6),
    (FormsUser.list_items, 8),
    (FormsUser.read_item, 8),
    (FormsUser.create_item, 2),
    (FormsUser.create_invalid_item, 1),
    (DocsUser.read_openapi, 1),
    (IoUser.wait_for_io, 5),
)


class MixedUser(FastHttpUser):
    wait_time = constant(0)
    username = USER_USERNAME
    # Locust picks a task uniformly from this list: a task listed n times has weight n.
    tasks = [task for task, weight in MIX for _ in range(weight)]

    def on_start(self) -> None:
        # The attributes the borrowed tasks use (see ApiUser.on_start and FormsUser.on_start).
        self.auth_headers = {"Authorization": f"Bearer {shared_token(self, username=self.username)}"}
        self.own_items: dict[int, str] = {}
        shared_session(self, username=self.username)
