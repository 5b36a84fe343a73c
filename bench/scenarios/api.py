"""JSON API: data validation, ORM and token auth together on /api/items.

Every user takes a token on start (one login per process, shared), then lists and reads items, creates valid
ones, sends invalid ones (a success only when the app answers 422 naming every bad field), and updates and
deletes items it created itself, so that concurrent users never touch each other's rows.
"""

from __future__ import annotations

import random
from typing import Any

from locust import FastHttpUser, constant, task

from apps.seed_data import USER_USERNAME
from bench.scenarios.common import (
    SEEDED_ITEMS,
    WRITE_LOG,
    fail,
    json_body,
    new_item_fields,
    random_seeded_item_id,
    shared_token,
)

NAME = "api"
TABLE_ROW = "validation"
WRITES = True
PER_DATABASE = True  # a database row: measured on every database of the profile

ITEMS_PATH = "/api/items"
ITEM_NAME = "/api/items/[id]"
PAGE_SIZE = 20
INVALID_ITEM = {"name": "", "price": -1, "quantity": "many"}
INVALID_FIELDS = frozenset({"name", "price", "quantity"})
ITEM_KEYS = frozenset({"id", "name", "description", "price", "quantity", "owner", "created_at"})


def matches(body: Any, sent: dict[str, Any]) -> bool:
    """Return True when an item answer has every field and the values that were sent."""
    return (
        isinstance(body, dict)
        and body.keys() >= ITEM_KEYS
        and isinstance(body["id"], int)
        and body["name"] == sent["name"]
        and body["quantity"] == sent["quantity"]
        and isinstance(body["price"], int | float)
        and abs(body["price"] - sent["price"]) < 0.005
    )


class ApiUser(FastHttpUser):
    wait_time = constant(0)
    username = USER_USERNAME

    def on_start(self) -> None:
        token = shared_token(self, username=self.username)
        self.auth_headers = {"Authorization": f"Bearer {token}"}
        self.own_items: dict[int, str] = {}  # id -> name of the items this user created

    @task(4)
    def list_items(self) -> None:
        offset = random.randint(0, SEEDED_ITEMS - PAGE_SIZE)
        url = f"{ITEMS_PATH}?limit={PAGE_SIZE}&offset={offset}"
        with self.client.get(url, name=f"{ITEMS_PATH}?limit&offset", catch_response=True) as response:
            body = json_body(response, status=200)
            if body is None:
                return
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                fail(response, "no items list")
            elif len(body["items"]) != PAGE_SIZE or body.get("offset") != offset:
                fail(response, "wrong page")

    @task(4)
    def read_item(self) -> None:
        item_id = random_seeded_item_id()
        with self.client.get(f"{ITEMS_PATH}/{item_id}", name=ITEM_NAME, catch_response=True) as response:
            body = json_body(response, status=200)
            if body is not None and (not isinstance(body, dict) or body.get("id") != item_id):
                fail(response, "wrong item")

    @task(2)
    def create_item(self) -> None:
        fields = new_item_fields()
        with (
            WRITE_LOG.unless_answered(WRITE_LOG.create_failed),
            self.client.post(
                ITEMS_PATH, json=fields, headers=self.auth_headers, catch_response=True
            ) as response,
        ):
            body = json_body(response, status=201)
            if body is None:
                WRITE_LOG.create_failed()
                return
            if not matches(body, fields) or body.get("owner") != self.username:
                fail(response, "the created item differs from what was sent")
                WRITE_LOG.item_uncertain(fields["name"])
                return
            self.own_items[body["id"]] = fields["name"]
            WRITE_LOG.item_saved(fields)

    @task(1)
    def create_invalid_item(self) -> None:
        with self.client.post(
            ITEMS_PATH,
            json=INVALID_ITEM,
            headers=self.auth_headers,
            name=f"{ITEMS_PATH} (invalid)",
            catch_response=True,
        ) as response:
            body = json_body(response, status=422)
            if body is None:
                WRITE_LOG.create_failed()  # an invalid item that was not refused may have been written
                return
            errors = body if isinstance(body, dict) else {}
            named = set(errors.get("fields") or {})
            if errors.get("error") != "validation_error" or not named >= INVALID_FIELDS:
                fail(response, "422 without validation_error naming name, price and quantity")
            else:
                response.success()

    @task(1)
    def update_own_item(self) -> None:
        if not self.own_items:
            return
        item_id, name = random.choice(list(self.own_items.items()))
        fields = new_item_fields(name=name)
        with (
            WRITE_LOG.unless_answered(lambda: WRITE_LOG.item_uncertain(name)),
            self.client.put(
                f"{ITEMS_PATH}/{item_id}",
                json=fields,
                headers=self.auth_headers,
                name=ITEM_NAME,
                catch_response=True,
            ) as response,
        ):
            body = json_body(response, status=200)
            if body is not None and matches(body, fields) and body["id"] == item_id:
                WRITE_LOG.item_saved(fields)
                return
            if body is not None:
                fail(response, "the updated item differs from what was sent")
            WRITE_LOG.item_uncertain(name)

    @task(1)
    def delete_own_item(self) -> None:
        if not self.own_items:
            return
        item_id = random.choice(list(self.own_items))
        name = self.own_items.pop(item_id)
        with (
            WRITE_LOG.unless_answered(lambda: WRITE_LOG.item_uncertain(name)),
            self.client.delete(
                f"{ITEMS_PATH}/{item_id}", headers=self.auth_headers, name=ITEM_NAME, catch_response=True
            ) as response,
        ):
            if response.status_code != 204:
                fail(response, f"expected 204, got {response.status_code}")
                WRITE_LOG.item_uncertain(name)
                return
            if response.content:
                fail(response, "204 with a body")
            WRITE_LOG.item_deleted(name)
