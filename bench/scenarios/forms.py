"""HTML forms: form handling and session auth on the /items/ pages.

Every user starts logged in through /login (one login per process, shared), then browses the item pages,
posts valid new items (expects 303 to the new item) and invalid ones (expects the form again with an error
beside each bad field), always posting back the hidden inputs of the form it got, as a browser does.
"""

from __future__ import annotations

import random
import re

from locust import FastHttpUser, constant, task

from apps.seed_data import USER_USERNAME
from bench.html_forms import HtmlForm, find_form
from bench.scenarios.common import (
    WRITE_LOG,
    fail,
    header,
    html_body,
    new_item_fields,
    random_seeded_item_id,
    shared_session,
)

NAME = "forms"
TABLE_ROW = "forms"
WRITES = True
PER_DATABASE = True  # a database row: measured on every database of the profile

LIST_PATH = "/items/"
NEW_PATH = "/items/new"
PAGES = 50  # 1,000 seeded items, 20 a page
CREATED_LOCATION = re.compile(r"/items/(\d+)/?$")
ERROR_MARK = re.compile(r"""class=["'][^"']*\berror\b""")
INVALID_FIELDS = {"name": "", "description": "", "price": "not a price", "quantity": "-1"}
INVALID_FIELD_COUNT = 3  # name, price and quantity


def open_new_item_form(user: FastHttpUser) -> HtmlForm | None:
    """GET the new-item form; return it (with its hidden inputs), or None after marking a failure."""
    with user.client.get(NEW_PATH, catch_response=True) as response:
        html = html_body(response)
        form = find_form(html, field_name="name") if html is not None else None
        if html is not None and form is None:
            fail(response, "no form with a name field")
        return form


class FormsUser(FastHttpUser):
    wait_time = constant(0)
    username = USER_USERNAME

    def on_start(self) -> None:
        shared_session(self, username=self.username)

    @task(3)
    def list_items(self) -> None:
        page = random.randint(1, PAGES)
        with self.client.get(
            f"{LIST_PATH}?page={page}", name=f"{LIST_PATH}?page", catch_response=True
        ) as response:
            html = html_body(response)
            if html is not None and "<table" not in html:
                fail(response, "no table of items")

    @task(3)
    def read_item(self) -> None:
        item_id = random_seeded_item_id()
        with self.client.get(
            f"{LIST_PATH}{item_id}", name=f"{LIST_PATH}[id]", catch_response=True
        ) as response:
            html = html_body(response)
            if html is not None and f"Item {item_id}" not in html:
                fail(response, "the item's name is not on its page")

    @task(2)
    def create_item(self) -> None:
        form = open_new_item_form(self)
        if form is None:
            return
        item = new_item_fields()
        fields = {**form.hidden, **{key: str(value) for key, value in item.items()}}
        with (
            WRITE_LOG.unless_answered(WRITE_LOG.create_failed),
            self.client.post(
                form.action or NEW_PATH,
                data=fields,
                allow_redirects=False,
                name=NEW_PATH,
                catch_response=True,
            ) as response,
        ):
            location = header(response, "Location")
            created = CREATED_LOCATION.search(location)
            if response.status_code != 303 or created is None:
                fail(response, f"expected 303 to the new item, got {response.status_code}")
                WRITE_LOG.create_failed()
                return
            WRITE_LOG.item_saved(item)

    @task(1)
    def create_invalid_item(self) -> None:
        form = open_new_item_form(self)
        if form is None:
            return
        fields = {**form.hidden, **INVALID_FIELDS}
        with self.client.post(
            form.action or NEW_PATH,
            data=fields,
            allow_redirects=False,
            name=f"{NEW_PATH} (invalid)",
            catch_response=True,
        ) as response:
            html = html_body(response, statuses=frozenset({200, 422}))
            if html is None:
                WRITE_LOG.create_failed()
            elif len(ERROR_MARK.findall(html)) < INVALID_FIELD_COUNT:
                fail(response, "the form came back without an error beside each bad field")
            else:
                response.success()
