"""bench/html_forms.py: forms read as a browser posts them, for the scenarios and the contract suite alike."""

from __future__ import annotations

from bench.html_forms import find_form, parse_forms

LOGIN_PAGE = """
<html><body>
<form method="post" action="/search"><input name="q"></form>
<form method="POST" action="/login">
  <input type="hidden" name="csrf_token" value="abc&amp;123">
  <input type="hidden" name="next" value="/items/">
  <input type="text" name="username">
  <input type="password" name="password">
  <button type="submit">Log in</button>
</form>
</body></html>
"""


def test_the_login_form_is_found_with_its_hidden_inputs() -> None:
    assert len(parse_forms(LOGIN_PAGE)) == 2
    form = find_form(LOGIN_PAGE, field_name="password")
    assert form is not None
    assert (form.action, form.method) == ("/login", "post")
    assert form.hidden == {"csrf_token": "abc&123", "next": "/items/"}
    assert find_form(LOGIN_PAGE, field_name="price") is None


ITEM_PAGE = """
<form method="post" action="/items/new">
  <input type="hidden" name="csrfmiddlewaretoken" value="t0k">
  <input name="name" value="Chair">
  <textarea name="description">Four legs &amp; a back</textarea>
  <select name="colour"><option value="red">red</option><option value="blue" selected>blue</option></select>
  <select name="size"><option value="s">s</option><option value="m">m</option></select>
  <input type="checkbox" name="in_stock" checked>
  <input type="checkbox" name="on_sale">
  <input type="submit" name="save" value="Save">
</form>
"""


def test_every_field_has_the_value_a_browser_would_post() -> None:
    form = find_form(ITEM_PAGE, field_name="name", action_part="/items")
    assert form is not None
    assert form.fields == {
        "csrfmiddlewaretoken": "t0k",
        "name": "Chair",
        "description": "Four legs & a back",
        "colour": "blue",
        "size": "s",
        "in_stock": "on",
    }
    assert form.csrf_fields() == {"csrfmiddlewaretoken": "t0k"}
    assert find_form(ITEM_PAGE, field_name="name", action_part="/login") is None
