"""Admin: a staff user logged in through /login opens the admin's auto-generated Item list, one page of
ADMIN_PAGE_SIZE items (the same page size, columns, filter and count in every app).

Only the list page is measured: it is the one page made the same in the three admins (docs/contract.md). The
admin index is not (Django's builds the app list and reads the recent actions; sqladmin's and Flask-Admin's
are nearly empty), so it is no longer one task in five here. Each app's figure is its admin package's:
sqladmin, Flask-Admin, django.contrib.admin (app.toml [labels]).
"""

from __future__ import annotations

import re

from locust import FastHttpUser, constant, task

from apps.seed_data import ADMIN_PAGE_SIZE, ADMIN_USERNAME
from bench.config import HEALTH_PATH, load_app
from bench.errors import ScenarioError
from bench.scenarios.common import LOGINS, fail, html_body, shared_session

NAME = "admin"
TABLE_ROW = "admin"
WRITES = False
PER_DATABASE = True  # a database row: measured on every database of the profile
# The admin packages (sqladmin, Flask-Admin, django.contrib.admin) do most of the work, not the framework: the
# report's overall scores are given with and without this scenario.
THIRD_PARTY = True

# A seeded item's name in a cell of the list: "Item 17" between tags, in all three admins.
ITEM_CELL = re.compile(r">\s*Item (\d+)\s*<")


def fetch_admin_list_url(user: FastHttpUser) -> str:
    """Return the admin Item list URL of the app under test: /health names the app, its app.toml the URL."""
    with user.client.get(HEALTH_PATH, catch_response=True) as response:
        try:
            app_name = str(response.json()["framework"])
        except (ValueError, KeyError, TypeError):
            fail(response, "GET /health did not name the app")
            raise ScenarioError("cannot tell which app this is: GET /health has no 'framework'") from None
    return load_app(app_name).admin_list_url


class AdminUser(FastHttpUser):
    wait_time = constant(0)
    username = ADMIN_USERNAME

    def on_start(self) -> None:
        self.list_url = LOGINS.get(("admin-list-url", str(self.host)), lambda: fetch_admin_list_url(self))
        shared_session(self, username=self.username)

    @task
    def read_item_list(self) -> None:
        with self.client.get(self.list_url, name="admin item list", catch_response=True) as response:
            html = html_body(response)
            if html is None:
                return
            rows = len(set(ITEM_CELL.findall(html)))
            if rows != ADMIN_PAGE_SIZE:
                fail(response, f"the admin's Item list shows {rows} seeded items, not {ADMIN_PAGE_SIZE}")
