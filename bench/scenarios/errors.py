"""Errors: the api workload with a stated share of requests the app must refuse (422, 404 and 401).

Nobody measures the error path (HttpArena #785): what a framework spends on a request it turns away. Half of
the requests are api's happy path, its tasks at their own weights (listing, reading, creating, updating and
deleting own items); the other half fail on purpose, each kind under a request name of its own so that it
is counted apart:

- 20% `/api/items [422]`: POST of an invalid item (api's), answered 422 `validation_error` naming every bad
  field;
- 15% `/api/items/[id] [404]`: GET, PUT (a valid item) or DELETE, with a valid token, of an id no run
  reaches, answered 404 `not_found`;
- 15% `/api/items [401]`: POST of a valid item with no token or a forged one (signed with another key),
  answered 401 `not_authenticated` with `WWW-Authenticate: Bearer`.

Such a request is a success only when the app answers its status with the contract's error envelope
(docs/contract.md, "JSON API under /api"). The runner checks after each cell that every kind's observed
share of the requests is its stated one within a binomial tolerance (bench.run.validity.share_error).

Each user deals its requests from shuffled decks of DECK_SIZE (20: 4 invalid, 3 missing, 3 unauthenticated,
10 happy-path requests), so that every 20 requests of a user hold the stated shares exactly: independent
draws from the same seeds strayed 1.5 points from them in every window of a few thousand requests (within
the check's tolerance, but the same in every cell). The order within a deck, and the happy path's task, come
from a random.Random of the user's own, seeded by its place in the cell (worker index and user number): a
cell deals the same sequence every time it runs. Left out of the overall score: half of it is api's
workload, which the score already counts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from collections.abc import Callable
from typing import Any

from locust import FastHttpUser, constant, task

from apps.seed_data import USER_USERNAME
from bench.scenarios.api import INVALID_FIELDS, INVALID_ITEM, ITEMS_PATH, ApiUser
from bench.scenarios.common import (
    LOGINS,
    WRITE_LOG,
    fail,
    header,
    json_body,
    new_item_fields,
    shared_token,
)

NAME = "errors"
TABLE_ROW = "validation"
WRITES = True
PER_DATABASE = True  # a database row, like api: measured on every database of the profile
IN_SCORE = False  # half of its requests are api's, which the score counts already

# The share of the requests of each failure kind, by the request name it is counted under. A literal (the
# runner reads it from this file without importing Locust) and the only place the names are written.
FAILURE_SHARES = {
    "/api/items [422]": 0.20,
    "/api/items/[id] [404]": 0.15,
    "/api/items [401]": 0.15,
}
VALIDATION_NAME, MISSING_NAME, UNAUTHENTICATED_NAME = FAILURE_SHARES
HAPPY_PATH = "happy path"  # the kind of the rest: one of api's tasks
DECK_SIZE = 20  # requests per shuffled deck: each share times this is a whole number

# api's tasks but its invalid item, which is this scenario's 422 kind; each at its @task weight.
HAPPY_TASKS: tuple[Callable[[Any], None], ...] = (
    ApiUser.list_items,
    ApiUser.read_item,
    ApiUser.create_item,
    ApiUser.update_own_item,
    ApiUser.delete_own_item,
)
# Ids no run reaches, inside a 32-bit id column: a larger one could fail in the database driver, not 404.
MISSING_IDS = (1_000_000_000, 2_000_000_000)
MISSING_METHODS = ("GET", "PUT", "DELETE")
# Who a forged token claims to be, until when (2100-01-01: not expired), and the key it is signed with: not
# the server's, so the signature check is what refuses it.
FORGED_CLAIMS = {"sub": "1", "exp": 4_102_444_800}
FORGED_KEY = b"not the server's key, and 32 bytes or more as HS256 wants"
FORGED_SHARE = 0.5  # of the 401 requests: the others carry no token at all
RNG_COUNTER = "errors-user"


def forged_token(*, claims: dict[str, Any] = FORGED_CLAIMS, key: bytes = FORGED_KEY) -> str:
    """Return an HS256 JWT of claims signed with key: well formed, forged for a server with another key."""

    def encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    header_part = encode(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload_part = encode(json.dumps(claims, separators=(",", ":")).encode())
    signed = f"{header_part}.{payload_part}"
    signature = hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()
    return f"{signed}.{encode(signature)}"


FORGED_TOKEN = forged_token()


def new_deck(rng: random.Random) -> list[str]:
    """Return the kinds of DECK_SIZE requests (FAILURE_SHARES names, HAPPY_PATH for the rest), each as many
    times as its share says, in a random order."""
    deck = [name for name, share in FAILURE_SHARES.items() for _ in range(round(share * DECK_SIZE))]
    deck += [HAPPY_PATH] * (DECK_SIZE - len(deck))
    rng.shuffle(deck)
    return deck


class KindDeck:
    """Deals one user's request kinds: one shuffled deck after another."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.cards: list[str] = []

    def deal(self) -> str:
        """Return the next request's kind."""
        if not self.cards:
            self.cards = new_deck(self.rng)
        return self.cards.pop()


def choose_happy_task(rng: random.Random) -> Callable[[Any], None]:
    """Return one of api's happy-path tasks, at the weights api gives them."""
    weights = [int(getattr(happy_task, "locust_task_weight", 1)) for happy_task in HAPPY_TASKS]
    return rng.choices(HAPPY_TASKS, weights=weights)[0]


def user_rng(*, worker_index: int, user_number: int) -> random.Random:
    """Return the random draws of a cell's user_number-th user of a load process (the same on every run)."""
    return random.Random(f"{NAME}:{worker_index}:{user_number}")


def error_code(response: Any, *, status: int) -> tuple[str, dict[str, Any]]:
    """Return (the envelope's error code, the envelope) of an error answer; ("", {}) after marking a failure
    when the status, content type or body is not an error envelope."""
    body = json_body(response, status=status)
    if body is None:
        return "", {}
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        fail(response, f"{status} without an error envelope")
        return "", {}
    return body["error"], body


class ErrorsUser(FastHttpUser):
    wait_time = constant(0)
    username = USER_USERNAME

    def on_start(self) -> None:
        token = shared_token(self, username=self.username)
        # The attributes api's tasks use (see ApiUser.on_start).
        self.auth_headers = {"Authorization": f"Bearer {token}"}
        self.own_items: dict[int, str] = {}
        # A local runner's index is 0; a worker's comes with its master's first answer.
        worker_index = getattr(self.environment.runner, "worker_index", 0)
        self.rng = user_rng(worker_index=worker_index, user_number=LOGINS.next_number(RNG_COUNTER))
        self.kinds = KindDeck(self.rng)

    @task
    def send_request(self) -> None:
        kind = self.kinds.deal()
        if kind == VALIDATION_NAME:
            self.create_invalid_item()
        elif kind == MISSING_NAME:
            self.touch_missing_item()
        elif kind == UNAUTHENTICATED_NAME:
            self.create_without_valid_token()
        else:
            choose_happy_task(self.rng)(self)

    def create_invalid_item(self) -> None:
        with (
            WRITE_LOG.unless_answered(WRITE_LOG.create_failed),
            self.client.post(
                ITEMS_PATH,
                json=INVALID_ITEM,
                headers=self.auth_headers,
                name=VALIDATION_NAME,
                catch_response=True,
            ) as response,
        ):
            code, body = error_code(response, status=422)
            if not code:
                WRITE_LOG.create_failed()  # an invalid item that was not refused may have been written
            elif code != "validation_error" or not set(body.get("fields") or {}) >= INVALID_FIELDS:
                fail(response, "422 without validation_error naming name, price and quantity")
            else:
                response.success()

    def touch_missing_item(self) -> None:
        method = self.rng.choice(MISSING_METHODS)
        url = f"{ITEMS_PATH}/{self.rng.randint(*MISSING_IDS)}"
        fields = new_item_fields() if method == "PUT" else None
        with (
            WRITE_LOG.unless_answered(WRITE_LOG.create_failed),
            self.client.request(
                method, url, json=fields, headers=self.auth_headers, name=MISSING_NAME, catch_response=True
            ) as response,
        ):
            code, _ = error_code(response, status=404)
            if not code:
                if method == "PUT":
                    WRITE_LOG.create_failed()  # a PUT that was not refused may have written a row
            elif code != "not_found":
                fail(response, f"404 with error {code!r}, not not_found")
            else:
                response.success()

    def create_without_valid_token(self) -> None:
        forged = self.rng.random() < FORGED_SHARE
        headers = {"Authorization": f"Bearer {FORGED_TOKEN}"} if forged else {}
        with (
            WRITE_LOG.unless_answered(WRITE_LOG.create_failed),
            self.client.post(
                ITEMS_PATH,
                json=new_item_fields(),
                headers=headers,
                name=UNAUTHENTICATED_NAME,
                catch_response=True,
            ) as response,
        ):
            code, _ = error_code(response, status=401)
            if not code:
                WRITE_LOG.create_failed()  # a write the app did not refuse may have happened
            elif code != "not_authenticated":
                fail(response, f"401 with error {code!r}, not not_authenticated")
            elif not header(response, "WWW-Authenticate").startswith("Bearer"):
                fail(response, "401 without WWW-Authenticate: Bearer")
            else:
                response.success()
