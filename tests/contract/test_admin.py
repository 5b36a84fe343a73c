"""The admin: open to a staff user logged in through /login, closed to anonymous and non-staff users."""

from __future__ import annotations

import re

import httpx
import pytest
import statements
from html_forms import REDIRECT_STATUSES
from stored_rows import count_items, item_table
from targets import AppServer

from apps.seed_data import ADMIN_PAGE_SIZE

SEEDED_ITEM_NAME = re.compile(r"Item \d+")
REFUSALS = (401, 403, 404)


def admin_pages(app_server: AppServer) -> list[str]:
    return ["/admin/", app_server.spec.admin_list_url]


def test_staff_opens_the_admin_and_its_item_list(app_server: AppServer, admin_browser: httpx.Client) -> None:
    index = admin_browser.get("/admin/", follow_redirects=True)
    assert index.status_code == 200, index.text[:1000]
    assert index.headers["content-type"].startswith("text/html")
    listing = admin_browser.get(app_server.spec.admin_list_url, follow_redirects=True)
    assert listing.status_code == 200, listing.text[:1000]
    assert SEEDED_ITEM_NAME.search(listing.text), listing.text[:2000]


ITEM_CELL = re.compile(r">\s*Item (\d+)\s*<")  # a seeded item's name in a cell of the list


def test_the_item_list_is_one_page_of_the_same_size_in_every_app(
    app_server: AppServer, admin_browser: httpx.Client
) -> None:
    listing = admin_browser.get(app_server.spec.admin_list_url, follow_redirects=True)
    assert listing.status_code == 200, listing.text[:1000]
    shown = sorted({int(item_id) for item_id in ITEM_CELL.findall(listing.text)})
    # Ordered by id, ADMIN_PAGE_SIZE rows: the first page holds the first seeded items.
    assert shown == list(range(1, ADMIN_PAGE_SIZE + 1)), shown
    # Other tests of the target may have created items: the count shown is the table's, whatever it holds.
    total = count_items(app_server.database_url)
    assert str(total) in listing.text or f"{total:,}" in listing.text, (
        f"the page shows the full count, {total}"
    )


@pytest.mark.postgres_only
def test_the_item_list_counts_the_items_once(app_server: AppServer, admin_browser: httpx.Client) -> None:
    # sqladmin and Flask-Admin count the (filtered) items once a page; Django's changelist would count them
    # twice on an unfiltered page unless show_full_result_count is off.
    postgres_url = app_server.database_url
    table = item_table(postgres_url)
    statements.reset(postgres_url)
    listing = admin_browser.get(app_server.spec.admin_list_url, follow_redirects=True)
    assert listing.status_code == 200, listing.text[:1000]
    assert statements.row_counts(postgres_url, table=table) == 1


def assert_refused(response: httpx.Response) -> None:
    """A redirect to a login page, 401, 403 or 404, and never the admin's content."""
    if response.status_code in REDIRECT_STATUSES:
        assert "login" in response.headers["location"], response.headers["location"]
    else:
        assert response.status_code in REFUSALS, f"{response.status_code}: {response.text[:1000]}"
    assert not SEEDED_ITEM_NAME.search(response.text), response.text[:2000]


@pytest.mark.parametrize("page", ["index", "item list"])
def test_anonymous_visitors_are_refused(app_server: AppServer, client: httpx.Client, page: str) -> None:
    path = admin_pages(app_server)[0 if page == "index" else 1]
    assert_refused(client.get(path))


@pytest.mark.parametrize("page", ["index", "item list"])
def test_non_staff_users_are_refused(app_server: AppServer, user_browser: httpx.Client, page: str) -> None:
    path = admin_pages(app_server)[0 if page == "index" else 1]
    assert_refused(user_browser.get(path))


def test_an_api_token_does_not_open_the_admin(
    app_server: AppServer, client: httpx.Client, admin_auth: dict[str, str]
) -> None:
    assert_refused(client.get(app_server.spec.admin_list_url, headers=admin_auth))
