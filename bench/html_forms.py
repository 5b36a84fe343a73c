"""HTML forms read as a browser reads them: the load scenarios and the contract suite post them back alike.

A browser posts every named field of a form with its current value (text inputs, checked boxes, textareas,
the selected option), hidden ones included: that is how a CSRF token travels. Buttons are not posted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

# Hidden inputs whose name says they carry the CSRF token: csrf_token (Flask-WTF and FastAPI apps),
# csrfmiddlewaretoken (Django).
CSRF_NAME_PARTS = ("csrf", "token")


@dataclass
class HtmlForm:
    """A form as a browser would post it: where, how, and every field's current value."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # every field a browser posts, with its value
    hidden: dict[str, str] = field(default_factory=dict)  # the hidden ones among them (a CSRF token)

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


def find_form(html: str, *, field_name: str | None = None, action_part: str | None = None) -> HtmlForm | None:
    """Return the first form that has the field field_name and whose action contains action_part, or None."""
    for form in parse_forms(html):
        if field_name is not None and field_name not in form.fields:
            continue
        if action_part is not None and action_part not in form.action:
            continue
        return form
    return None
