"""Read HTML forms and post them back as a browser does.

A browser posts every named input of the form with its value, hidden ones included: that is how a CSRF token
travels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

# Hidden inputs whose name says they carry the CSRF token: csrf_token (Flask-WTF and FastAPI apps),
# csrfmiddlewaretoken (Django).
CSRF_NAME_PARTS = ("csrf", "token")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


@dataclass
class HtmlForm:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)

    def csrf_fields(self) -> dict[str, str]:
        """Return the hidden inputs that carry a CSRF token."""
        return {
            name: value
            for name, value in self.hidden.items()
            if any(part in name.lower() for part in CSRF_NAME_PARTS)
        }


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self._current: HtmlForm | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._current = HtmlForm(
                action=attributes.get("action", ""), method=attributes.get("method", "get").lower()
            )
            self.forms.append(self._current)
            return
        form = self._current
        if form is None:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            value = attributes.get("value", "on" if kind in ("checkbox", "radio") else "")
            form.fields[name] = value
            if kind == "hidden":
                form.hidden[name] = value
        elif tag == "textarea" and name:
            self._textarea = name
            form.fields[name] = ""
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = attributes.get("value", "")
            if self._first_option is None:
                self._first_option = value
                form.fields.setdefault(self._select, value)
            if "selected" in attributes:
                form.fields[self._select] = value

    def handle_data(self, data: str) -> None:
        if self._current is not None and self._textarea is not None:
            self._current.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def parse_forms(html: str) -> list[HtmlForm]:
    """Return every form of an HTML page with its fields' current values."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def find_form(html: str, *, field_name: str | None = None, action_part: str | None = None) -> HtmlForm:
    """Return the first form that has the field field_name and whose action contains action_part."""
    for form in parse_forms(html):
        if field_name is not None and field_name not in form.fields:
            continue
        if action_part is not None and action_part not in form.action:
            continue
        return form
    raise AssertionError(
        f"no form with field {field_name!r} and action containing {action_part!r} in:\n{html}"
    )


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
