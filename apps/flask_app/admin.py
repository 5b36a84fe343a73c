"""The Flask-Admin site at /admin/, for staff users logged in through /login."""

from __future__ import annotations

from typing import Any

from flask import Flask, has_app_context, redirect, request
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_login import current_user, login_url
from sqlalchemy import select
from werkzeug.wrappers import Response

from apps import seed_data
from apps.flask_app.extensions import db, login_manager
from apps.flask_app.models import Item, User


class StaffOnly:
    """Admin views open to logged-in staff; everyone else is sent to the login page."""

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated and current_user.is_staff)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Response:
        return redirect(login_url(login_manager.login_view, next_url=request.url))


class StaffIndexView(StaffOnly, AdminIndexView):
    pass


def owner_choices() -> list[tuple[int, str]]:
    """Return the users an item's owner can be, for the admin's owner filter (none before a request)."""
    if not has_app_context():  # Flask-Admin builds its filters once when the view is created
        return []
    return [(user.id, user.username) for user in db.session.scalars(select(User).order_by(User.username))]


class ItemAdmin(StaffOnly, ModelView):
    column_list = ("id", "name", "price", "quantity", "owner", "created_at")
    column_default_sort = "id"
    column_searchable_list = ("name", "description")
    # The same page in every app's admin: these columns, 20 rows, search, one filter (owner, a choice of
    # users), a count.
    column_filters = (FilterEqual(Item.owner_id, "Owner", options=owner_choices),)
    # Set once, when the item is created.
    form_excluded_columns = ("created_at",)
    page_size = seed_data.ADMIN_PAGE_SIZE

    @expose("/")
    def index_view(self) -> Any:
        # The owner filter's choices are read per request, as Django's and sqladmin's are: Flask-Admin
        # otherwise keeps the list it built at start-up.
        self._refresh_filters_cache()
        return super().index_view()


def init_admin(app: Flask) -> Admin:
    """Return the admin site, bound to app, with the Item views registered."""
    admin = Admin(app, name="framework-bench", index_view=StaffIndexView())
    admin.add_view(ItemAdmin(Item, db))
    return admin
