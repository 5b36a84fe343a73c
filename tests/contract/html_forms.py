"""Post HTML forms back as a browser does (bench/html_forms.py reads them), and log in through /login."""

from __future__ import annotations

from collections.abc import Mapping
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from bench import html_forms
from bench.html_forms import HtmlForm

REDIRECT_STATUSES = (301, 302, 303, 307, 308)


def find_form(html: str, *, field_name: str | None = None, action_part: str | None = None) -> HtmlForm:
    """Return the first form with the field field_name and an action containing action_part; fail if none."""
    form = html_forms.find_form(html, field_name=field_name, action_part=action_part)
    if form is None:
        raise AssertionError(
            f"no form with field {field_name!r} and action containing {action_part!r} in:\n{html}"
        )
    return form


def submit_form(
    client: httpx.Client, *, page: httpx.Response, form: HtmlForm, values: Mapping[str, str] | None = None
) -> httpx.Response:
    """Post a form back as a browser does: its own fields (hidden ones included) overridden by values."""
    target = urljoin(str(page.url), form.action or str(page.url))
    data = {**form.fields, **(values or {})}
    if form.method == "get":
        return client.get(target, params=data)
    return client.post(target, data=data)


def log_in(client: httpx.Client, *, username: str, password: str) -> httpx.Response:
    """Fill in and post the login form of /login; return the answer (303 on success)."""
    page = client.get("/login")
    assert page.status_code == 200, page.text
    form = find_form(page.text, field_name="password")
    return submit_form(client, page=page, form=form, values={"username": username, "password": password})


def redirect_path(response: httpx.Response) -> str:
    """Return the path a redirect points to (Location may be absolute or relative)."""
    assert response.status_code in REDIRECT_STATUSES, f"{response.status_code}: {response.text[:500]}"
    return urlsplit(urljoin(str(response.url), response.headers["location"])).path


class _ErrorCollector(HTMLParser):
    """Collects the text of the elements whose class list contains 'error'."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.messages: list[str] = []
        self._open: list[tuple[str, int]] = []  # (tag, index in messages) of open error elements

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if "error" in classes:
            self._open.append((tag, len(self.messages)))
            self.messages.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for _, index in self._open:
            self.messages[index] += data


def error_messages(html: str) -> list[str]:
    """Return the texts of the elements with class 'error' (one per invalid field in a re-rendered form)."""
    collector = _ErrorCollector()
    collector.feed(html)
    collector.close()
    return [message.strip() for message in collector.messages]
