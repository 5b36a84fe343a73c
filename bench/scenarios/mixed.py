"""Mixed: one site's traffic, read-mostly, each simulated user logged in as its own account.

Where the weights come from. The read/write proportion is YCSB's workload B, "read mostly": 95% reads, 5%
writes (Cooper et al., "Benchmarking Cloud Serving Systems with YCSB", SoCC 2010; its example is photo
tagging: adding a tag is a write, most operations read tags). How the reads and the writes divide among this
site's requests is a choice of this bench, not a measurement of any real site: a little over half of the
reads go to the JSON API (item pages of 20, single items, the caller's own account), over a third to the
HTML pages a browser session reads (item list and item pages, /fortunes), and a few to the TechEmpower-like
ORM reads (/db, /queries); the writes are mostly item creations, updates and deletions through the API and
the forms, with a few invalid submissions (refused with 422 or the form again) and /updates. Each entry is
a task of another scenario, unchanged, so a request here costs what it costs there. Plaintext, JSON
serialization, /io and the docs are left out: they are not pages or API calls of the site itself.

The weights are per mille of the tasks a user picks (they sum to 1000: 950 reads, 50 writes). A form
submission also fetches its form first (a read, as a browser does) and a user with no item of its own yet
skips an update or a delete, so the requests sent are within a few per mille of that.

Think time: each user waits 5-15 ms (10 ms on average) between tasks, as a client does between actions. At
the profiles' 32 users the server stays the bottleneck: a server answering X requests/s in S = 1/X s each
is saturated from N = X * (S + 10 ms) users on, 4 at 300 req/s and 11 at 1000 req/s; 32 users saturate
every server below about 3000 req/s. (At a sweep's 8 users a fast server may not be saturated: that is
what the sweep shows.)

Accounts: every user logs in (a token and a form session) as its own account, seed_data.mixed_username(k);
the items it creates are owned by that account, and it updates and deletes only its own. Logins happen at
start (password hashing has its own scenario, auth); the users of a cell take the accounts in turn (see
account_index), so that up to seed_data.MIXED_ACCOUNTS users never share one. Beyond that they share
accounts, which changes no answer: each user still touches only the items it created.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from locust import FastHttpUser, between

from apps.seed_data import MIXED_ACCOUNTS, mixed_username
from bench.scenarios.api import ApiUser
from bench.scenarios.common import LOGINS, shared_session, shared_token
from bench.scenarios.db import DbUser
from bench.scenarios.forms import FormsUser
from bench.scenarios.fortunes import FortunesUser
from bench.scenarios.me import MeUser
from bench.scenarios.queries import QueriesUser
from bench.scenarios.updates import UpdatesUser

NAME = "mixed"
TABLE_ROW = "use_case"
WRITES = True
# Most of its requests read or write the database: measured on every database of the profile.
PER_DATABASE = True

WEIGHT_TOTAL = 1000  # per mille

READ_WEIGHTS: dict[Callable[[Any], None], int] = {
    # JSON API, with a token: 550
    ApiUser.list_items: 200,
    ApiUser.read_item: 250,
    MeUser.read_me: 100,
    # HTML pages, with a session: 350
    FormsUser.list_items: 150,
    FormsUser.read_item: 150,
    FortunesUser.read_fortunes: 50,
    # TechEmpower-like ORM reads: 50
    DbUser.read_world: 30,
    QueriesUser.read_worlds: 20,
}

WRITE_WEIGHTS: dict[Callable[[Any], None], int] = {
    # JSON API: 30
    ApiUser.create_item: 12,
    ApiUser.update_own_item: 8,
    ApiUser.delete_own_item: 6,
    ApiUser.create_invalid_item: 4,
    # HTML forms: 14
    FormsUser.create_item: 10,
    FormsUser.create_invalid_item: 4,
    # /updates, twenty World rows: 6
    UpdatesUser.update_worlds: 6,
}

MIX: dict[Callable[[Any], None], int] = {**READ_WEIGHTS, **WRITE_WEIGHTS}

ACCOUNT_COUNTER = "mixed-account"


def account_index(*, worker_index: int, user_number: int) -> int:
    """Return the mixed account (0 to MIXED_ACCOUNTS - 1) of a process's user_number-th user of a cell.

    One Locust process numbers its users 0, 1, 2, ...; with distributed load each worker process starts
    at its own offset, the bit-reversed worker index (0, 32, 16, 48, 8, ... of 64): W workers, each with at
    most MIXED_ACCOUNTS / 2**ceil(log2(W)) users (32 for two workers, 16 for up to four), never share an
    account, and Locust spreads a cell's users evenly over its workers. A worker count is not known to a
    worker, hence offsets that suit any count.
    """
    bits = MIXED_ACCOUNTS.bit_length() - 1
    offset = int(f"{max(worker_index, 0) % MIXED_ACCOUNTS:0{bits}b}"[::-1], 2) if bits else 0
    return (offset + user_number) % MIXED_ACCOUNTS


class MixedUser(FastHttpUser):
    wait_time = between(0.005, 0.015)
    # Locust picks a task uniformly from this list: a task listed n times has weight n.
    tasks = [task for task, weight in MIX.items() for _ in range(weight)]

    def on_start(self) -> None:
        # A local runner's index is 0; a worker's comes with its master's first answer.
        worker_index = getattr(self.environment.runner, "worker_index", 0)
        index = account_index(worker_index=worker_index, user_number=LOGINS.next_number(ACCOUNT_COUNTER))
        self.username = mixed_username(index)
        # The attributes the borrowed tasks use (see ApiUser.on_start and FormsUser.on_start).
        self.auth_headers = {"Authorization": f"Bearer {shared_token(self, username=self.username)}"}
        self.own_items: dict[int, str] = {}
        shared_session(self, username=self.username)
