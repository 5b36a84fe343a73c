"""The HTML side: session login and logout, the item pages and form, CSRF protection of every form POST."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from html_forms import error_messages, find_form, log_in, redirect_path, submit_form
from targets import USER, AppServer

CSRF_REJECTED = (400, 403)
LOGIN_REDIRECTS = (302, 303, 307)
NEW_ITEM = {"name": "Form widget", "description": "Posted by a form.", "price": "4.25", "quantity": "7"}


def total_items(client: httpx.Client) -> int:
    total: int = client.get("/api/items").json()["total"]
    return total


def assert_login_redirect(response: httpx.Response) -> None:
    assert response.status_code in LOGIN_REDIRECTS, f"{response.status_code}: {response.text[:500]}"
    assert redirect_path(response) == "/login"


def assert_logged_out(client: httpx.Client) -> None:
    assert_login_redirect(client.get("/items/"))


def without_csrf(form_fields: dict[str, str], hidden: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in form_fields.items() if name not in hidden}


# --- login and logout ------------------------------------------------------------------------------------


def test_login_page_shows_the_form(client: httpx.Client) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    form = find_form(response.text, field_name="password")
    assert form.method == "post"
    assert "username" in form.fields
    assert form.csrf_fields(), f"no CSRF token among the hidden inputs {form.hidden}"


def test_login_sets_a_session_and_redirects_to_the_items(client: httpx.Client, app_server: AppServer) -> None:
    response = log_in(client, username=USER, password=app_server.password_of(USER))
    assert response.status_code == 303, response.text
    assert redirect_path(response) == "/items/"
    assert "set-cookie" in response.headers
    page = client.get("/items/")
    assert page.status_code == 200
    assert USER in page.text  # the nav shows the username


@pytest.mark.parametrize(
    "credentials",
    [{"username": USER, "password": "wrong-password"}, {"username": "nobody", "password": "x"}],
    ids=["wrong-password", "unknown-user"],
)
def test_login_with_wrong_credentials_shows_the_form_again(
    client: httpx.Client, credentials: dict[str, str]
) -> None:
    response = log_in(client, **credentials)
    assert response.status_code in (200, 401, 422), response.text
    find_form(response.text, field_name="password")
    # An error message: an element of class "error", or wording that the blank login page does not have.
    wording = re.compile(r"invalid|incorrect|wrong|error", re.IGNORECASE)
    blank = client.get("/login").text
    assert any(error_messages(response.text)) or (wording.search(response.text) and not wording.search(blank))
    assert_logged_out(client)


def test_login_without_csrf_token_is_rejected(client: httpx.Client, app_server: AppServer) -> None:
    page = client.get("/login")
    form = find_form(page.text, field_name="password")
    form.fields = without_csrf(form.fields, form.hidden)
    credentials = {"username": USER, "password": app_server.password_of(USER)}
    response = submit_form(client, page=page, form=form, values=credentials)
    assert response.status_code in CSRF_REJECTED, response.text
    assert_logged_out(client)


def test_login_with_a_forged_csrf_token_is_rejected(client: httpx.Client, app_server: AppServer) -> None:
    page = client.get("/login")
    form = find_form(page.text, field_name="password")
    forged = {name: "forged" + value[::-1] for name, value in form.csrf_fields().items()}
    credentials = {"username": USER, "password": app_server.password_of(USER)}
    response = submit_form(client, page=page, form=form, values={**credentials, **forged})
    assert response.status_code in CSRF_REJECTED, response.text
    assert_logged_out(client)


@contextmanager
def _logged_in_browser(app_server: AppServer) -> Iterator[httpx.Client]:
    # Logout tests end their session: they log in on their own.
    with app_server.client() as browser:
        assert log_in(browser, username=USER, password=app_server.password_of(USER)).status_code == 303
        yield browser


def test_logout_ends_the_session(app_server: AppServer) -> None:
    with _logged_in_browser(app_server) as browser:
        page = browser.get("/items/")
        form = find_form(page.text, action_part="logout")
        assert form.csrf_fields(), f"no CSRF token in the logout form {form}"
        response = submit_form(browser, page=page, form=form)
        assert response.status_code in (302, 303), response.text
        assert redirect_path(response) == "/login"
        assert_logged_out(browser)


def test_logout_without_csrf_token_is_rejected(app_server: AppServer) -> None:
    with _logged_in_browser(app_server) as browser:
        page = browser.get("/items/")
        form = find_form(page.text, action_part="logout")
        form.fields = without_csrf(form.fields, form.hidden)
        response = submit_form(browser, page=page, form=form)
        assert response.status_code in CSRF_REJECTED, response.text
        assert browser.get("/items/").status_code == 200  # still logged in


# --- pages that need a login -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/items/", "/items/?page=2", "/items/1", "/items/new"])
def test_anonymous_visitors_are_sent_to_login(client: httpx.Client, path: str) -> None:
    assert_login_redirect(client.get(path))


def test_anonymous_form_post_writes_nothing(client: httpx.Client) -> None:
    # With the CSRF token of the login page, so that only the missing login stops the request.
    page = client.get("/login")
    csrf = find_form(page.text, field_name="password").csrf_fields()
    before = total_items(client)
    response = client.post("/items/new", data={**NEW_ITEM, **csrf})
    if response.status_code not in CSRF_REJECTED:
        assert_login_redirect(response)
    assert total_items(client) == before


ITEM_LINK = re.compile(r"""href=["'](?:https?://[^/"']+)?/items/(\d+)/?["']""")


def test_items_list_and_detail(user_browser: httpx.Client) -> None:
    page = user_browser.get("/items/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    first_ids = set(ITEM_LINK.findall(page.text))
    assert len(first_ids) == 20, first_ids
    second = user_browser.get("/items/", params={"page": 2})
    assert second.status_code == 200
    second_ids = set(ITEM_LINK.findall(second.text))
    assert len(second_ids) == 20, second_ids
    assert not first_ids & second_ids
    detail = user_browser.get("/items/1")
    assert detail.status_code == 200
    assert "Item 1" in detail.text
    assert user_browser.get("/items/99999999").status_code == 404


LINK = re.compile(r"""(?:href|action)=["']([^"']*)["']""")


def test_the_list_page_links_the_same_paths_in_every_app(user_browser: httpx.Client) -> None:
    # Each app builds these links with its framework's reverse lookup (url_for, url_path_for, {% url %}),
    # one per link, so every app's list page does the same URL-building work (docs/contract.md).
    page = user_browser.get("/items/", params={"page": 2})
    assert page.status_code == 200
    items = [f"/items/{item_id}" for item_id in range(21, 41)]
    navigation = ["/items/", "/items/new", "/logout"]
    pagination = ["/items/?page=1", "/items/?page=3"]
    assert sorted(LINK.findall(page.text)) == sorted([*navigation, *items, *pagination])


# --- the new-item form -----------------------------------------------------------------------------------


def _new_item_form(browser: httpx.Client) -> tuple[httpx.Response, Any]:
    page = browser.get("/items/new")
    assert page.status_code == 200, page.text
    form = find_form(page.text, field_name="name")
    assert {"name", "description", "price", "quantity"} <= set(form.fields), form.fields
    assert form.csrf_fields(), f"no CSRF token among the hidden inputs {form.hidden}"
    return page, form


def test_a_valid_form_creates_the_item(user_browser: httpx.Client, client: httpx.Client) -> None:
    page, form = _new_item_form(user_browser)
    before = total_items(client)
    response = submit_form(user_browser, page=page, form=form, values=NEW_ITEM)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/items/(\d+)", redirect_path(response))
    assert match, response.headers["location"]
    item_id = int(match.group(1))
    assert total_items(client) == before + 1
    item = client.get(f"/api/items/{item_id}").json()
    assert item["name"] == NEW_ITEM["name"]
    assert item["description"] == NEW_ITEM["description"]
    assert item["price"] == pytest.approx(4.25)
    assert item["quantity"] == 7
    assert item["owner"] == USER
    detail = user_browser.get(f"/items/{item_id}")
    assert detail.status_code == 200
    assert NEW_ITEM["name"] in detail.text


@pytest.mark.parametrize(
    ("values", "invalid"),
    [
        ({"name": "", "price": "abc", "quantity": "-1"}, 3),
        ({"name": "x" * 101}, 1),
        ({"price": "1.234"}, 1),
        ({"price": "0"}, 1),
        ({"quantity": "3.5"}, 1),
        ({"description": "d" * 1001}, 1),
    ],
    ids=["three-fields", "name-101", "price-3-decimals", "price-0", "quantity-3.5", "description-1001"],
)
def test_an_invalid_form_is_shown_again_with_errors(
    user_browser: httpx.Client, client: httpx.Client, values: dict[str, str], invalid: int
) -> None:
    page, form = _new_item_form(user_browser)
    before = total_items(client)
    response = submit_form(user_browser, page=page, form=form, values={**NEW_ITEM, **values})
    assert response.status_code in (200, 422), response.text
    messages = [message for message in error_messages(response.text) if message]
    assert len(messages) >= invalid, f"expected {invalid} error message(s), found {messages}"
    find_form(response.text, field_name="name")
    assert total_items(client) == before


@pytest.mark.parametrize("csrf", ["missing", "forged"])
def test_a_form_post_without_a_valid_csrf_token_writes_nothing(
    user_browser: httpx.Client, client: httpx.Client, csrf: str
) -> None:
    page, form = _new_item_form(user_browser)
    if csrf == "missing":
        form.fields = without_csrf(form.fields, form.hidden)
        values = NEW_ITEM
    else:
        values = {**NEW_ITEM, **{name: "forged" + value[::-1] for name, value in form.csrf_fields().items()}}
    before = total_items(client)
    response = submit_form(user_browser, page=page, form=form, values=values)
    assert response.status_code in CSRF_REJECTED, response.text
    assert total_items(client) == before
