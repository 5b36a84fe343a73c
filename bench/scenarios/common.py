"""What several scenarios share: response checks, HTML form parsing, logging in, and the log of writes.

Locust itself is imported for type hints only, so that tests can import this module without the gevent
monkey-patching that importing Locust brings.
"""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookiejar import Cookie, CookieJar
from typing import TYPE_CHECKING, Any, TypeVar

from gevent.lock import Semaphore

from apps.seed_data import ADMIN_USERNAME, ITEM_ROWS, RANDOM_MAX, WORLD_ROWS
from bench.config import credentials_from_env
from bench.errors import ScenarioError
from bench.html_forms import find_form

if TYPE_CHECKING:
    from locust import FastHttpUser
    from locust.contrib.fasthttp import ResponseContextManager


LOGIN_PATH = "/login"
TOKEN_PATH = "/api/auth/token"
SEEDED_ITEMS = ITEM_ROWS

T = TypeVar("T")


# --- response checks ----------------------------------------------------------------------------------------


def fail(response: ResponseContextManager, message: str) -> None:
    """Mark a response as a failure with a short message that names the kind of fault (no ids in it)."""
    response.failure(message)  # type: ignore[no-untyped-call]  # Locust leaves it untyped


def header(response: ResponseContextManager, name: str) -> str:
    """Return a response header, or '' when it is absent."""
    return str(response.headers.get(name, "") or "") if response.headers is not None else ""


def content_type(response: ResponseContextManager) -> str:
    return header(response, "Content-Type")


def json_body(response: ResponseContextManager, *, status: int) -> Any:
    """Return the JSON body if the status and content type are right; else mark a failure and return None."""
    if response.status_code != status:
        fail(response, f"expected {status}, got {response.status_code}")
        return None
    if not content_type(response).startswith("application/json"):
        fail(response, f"expected application/json, got {content_type(response)!r}")
        return None
    try:
        return json.loads(response.content or b"")
    except ValueError:
        fail(response, "the body is not valid JSON")
        return None


def html_body(response: ResponseContextManager, *, statuses: frozenset[int] = frozenset({200})) -> str | None:
    """Return the HTML text if the status and content type are right; else mark a failure and return None."""
    if response.status_code not in statuses:
        fail(response, f"expected {'/'.join(map(str, sorted(statuses)))}, got {response.status_code}")
        return None
    if not content_type(response).startswith("text/html"):
        fail(response, f"expected text/html, got {content_type(response)!r}")
        return None
    return (response.content or b"").decode("utf-8", errors="replace")


def is_world_row(value: Any) -> bool:
    """Return True for a {"id", "randomNumber"} object with both in 1..10000."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("id"), int)
        and isinstance(value.get("randomNumber"), int)
        and 1 <= value["id"] <= WORLD_ROWS
        and 1 <= value["randomNumber"] <= RANDOM_MAX
    )


# --- logging in once per process ----------------------------------------------------------------------------


class _LoginCache:
    """Runs a login once per process and key; every other user waits for it and reuses the result.

    Users of a scenario that act as the same account share one login: the measured window then holds the
    steady-state requests, not a burst of password hashing at start (the auth scenario measures that on
    purpose). Logins under different keys (mixed gives each user its own account) run concurrently, and the
    load generator starts a cell's warm-up once none is in flight. The cache also numbers a scenario's users
    in this process (see mixed); a new cell clears both.
    """

    def __init__(self) -> None:
        self._values: dict[tuple[str, ...], Any] = {}
        self._key_locks: dict[tuple[str, ...], Semaphore] = {}
        self._numbers: dict[str, int] = {}
        self._in_flight = 0  # users inside get(): kept by clear(), it counts live greenlets
        self._lock = Semaphore()

    def get(self, key: tuple[str, ...], login: Callable[[], T]) -> T:
        self._in_flight += 1
        try:
            with self._lock:
                key_lock = self._key_locks.setdefault(key, Semaphore())
            with key_lock:
                if key not in self._values:
                    self._values[key] = login()
                value: T = self._values[key]
                return value
        finally:
            self._in_flight -= 1

    @property
    def in_flight(self) -> int:
        """Return how many users are logging in, or waiting for another's login, right now."""
        return self._in_flight

    def next_number(self, counter: str) -> int:
        """Return 0, then 1, 2, ... on each call with counter in this process, from 0 again after clear()."""
        number = self._numbers.get(counter, 0)
        self._numbers[counter] = number + 1  # no yield between the read and the write: greenlet-safe
        return number

    def clear(self) -> None:
        self._values.clear()
        self._key_locks.clear()
        self._numbers.clear()


LOGINS = _LoginCache()


def password_of(username: str) -> str:
    credentials = credentials_from_env()
    return credentials.admin_password if username == ADMIN_USERNAME else credentials.user_password


def fetch_token(user: FastHttpUser, *, username: str) -> str:
    """Return a bearer token for username from POST /api/auth/token."""
    with user.client.post(
        TOKEN_PATH,
        data={"username": username, "password": password_of(username)},
        catch_response=True,
        name=TOKEN_PATH,
    ) as response:
        body = json_body(response, status=200)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            fail(response, "no access_token in the answer")
            raise ScenarioError(f"could not get a token for {username}: status {response.status_code}")
        return str(body["access_token"])


def shared_token(user: FastHttpUser, *, username: str) -> str:
    """Return a token for username, fetched once per process and host."""
    return LOGINS.get(("token", str(user.host), username), lambda: fetch_token(user, username=username))


def log_in_with_form(user: FastHttpUser, *, username: str) -> list[Cookie]:
    """Log in through /login as a browser does (posting back the form's hidden inputs); return the cookies."""
    with user.client.get(LOGIN_PATH, catch_response=True, name=LOGIN_PATH) as response:
        html = html_body(response)
        form = find_form(html, field_name="password") if html is not None else None
        if form is None:
            fail(response, "no login form with a password field")
            raise ScenarioError(f"GET {LOGIN_PATH}: no login form (status {response.status_code})")
    fields = {**form.hidden, "username": username, "password": password_of(username)}
    with user.client.post(
        form.action or LOGIN_PATH, data=fields, allow_redirects=False, catch_response=True, name=LOGIN_PATH
    ) as response:
        if response.status_code != 303:
            fail(response, f"login: expected 303, got {response.status_code}")
            raise ScenarioError(f"POST {LOGIN_PATH} as {username}: status {response.status_code}")
    return list(user.client.cookiejar)


def shared_session(user: FastHttpUser, *, username: str) -> None:
    """Give the user a logged-in session for username, logging in once per process and host."""
    cookies = LOGINS.get(
        ("session", str(user.host), username), lambda: log_in_with_form(user, username=username)
    )
    set_cookies(user.client.cookiejar, cookies)


def set_cookies(jar: CookieJar, cookies: list[Cookie]) -> None:
    for cookie in cookies:
        jar.set_cookie(cookie)


# --- items --------------------------------------------------------------------------------------------------


def new_item_fields(*, name: str | None = None) -> dict[str, Any]:
    """Return a valid item (JSON types) with a new unique name, or the given one (an update keeps it)."""
    return {
        "name": name or f"bench {uuid.uuid4().hex[:16]}",
        "description": "Written by a bench scenario.",
        "price": random.randint(100, 99_999) / 100,
        "quantity": random.randint(0, 500),
    }


def random_seeded_item_id() -> int:
    return random.randint(1, SEEDED_ITEMS)


# --- what the scenarios wrote, for the data check -----------------------------------------------------------


@dataclass
class WriteLog:
    """Every write a scenario made in this process, as its answers showed it: the data check's reference.

    A write whose answer was wrong may or may not have happened; it is counted as uncertain, and the data
    check tolerates exactly that much.
    """

    # World id -> every randomNumber an /updates answer reported for it
    world: dict[int, set[int]] = field(default_factory=dict)
    failed_world_updates: int = 0  # rows asked for by /updates requests that failed
    # Items are known by their name, unique to each item a scenario creates and kept by its updates: the
    # database may give a deleted item's id to the next new one (SQLite does), a name is never reused.
    # name -> the item's fields as last written by its owner (description, price as a string, quantity)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted_items: set[str] = field(default_factory=set)
    uncertain_items: set[str] = field(default_factory=set)
    failed_creates: int = 0

    def world_updated(self, world_id: int, random_number: int) -> None:
        self.world.setdefault(world_id, set()).add(random_number)

    def world_update_failed(self, rows: int) -> None:
        self.failed_world_updates += rows

    def item_saved(self, fields: dict[str, Any]) -> None:
        name = fields["name"]
        self.uncertain_items.discard(name)
        self.items[name] = {
            "description": fields.get("description", ""),
            "price": str(Decimal(str(fields["price"])).quantize(Decimal("0.01"))),
            "quantity": int(fields.get("quantity", 0)),
        }

    def item_deleted(self, name: str) -> None:
        self.items.pop(name, None)
        self.uncertain_items.discard(name)
        self.deleted_items.add(name)

    def item_uncertain(self, name: str) -> None:
        self.items.pop(name, None)
        self.uncertain_items.add(name)

    def create_failed(self) -> None:
        self.failed_creates += 1

    @contextlib.contextmanager
    def unless_answered(self, on_unanswered: Callable[[], None]) -> Iterator[None]:
        """Call on_unanswered when the request never gets its answer.

        At the end of a cell Locust kills users still waiting after the stop timeout (GreenletExit): their
        request may or may not have been written.
        """
        try:
            yield
        except BaseException:
            on_unanswered()
            raise

    def to_message(self) -> dict[str, Any]:
        """Return the log as JSON-ready data (the shape bench.datacheck reads)."""
        return {
            "world": {str(key): sorted(values) for key, values in self.world.items()},
            "failed_world_updates": self.failed_world_updates,
            "items": dict(self.items),
            "deleted_items": sorted(self.deleted_items),
            "uncertain_items": sorted(self.uncertain_items),
            "failed_creates": self.failed_creates,
        }

    def clear(self) -> None:
        self.world.clear()
        self.failed_world_updates = 0
        self.items.clear()
        self.deleted_items.clear()
        self.uncertain_items.clear()
        self.failed_creates = 0


WRITE_LOG = WriteLog()
