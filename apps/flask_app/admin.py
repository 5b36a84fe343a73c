"""The Flask-Admin site at /admin/, for staff users logged in through /login."""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, request
from flask_admin import Admin, AdminIndexView
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterConverter
from flask_admin.model.filters import convert
from flask_login import current_user, login_url
from werkzeug.wrappers import Response

from apps.flask_app.extensions import db, login_manager
from apps.flask_app.models import Item


class StaffOnly:
    """Admin views open to logged-in staff; everyone else is sent to the login page."""

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated and current_user.is_staff)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Response:
        return redirect(login_url(login_manager.login_view, next_url=request.url))


class StaffIndexView(StaffOnly, AdminIndexView):
    pass


class UtcDateTimeFilterConverter(FilterConverter):
    """Flask-Admin picks filters by column type name; UtcDateTime gets the DateTime filters."""

    @convert("utcdatetime")
    def conv_utc_datetime(self, column: Any, name: str, **kwargs: Any) -> list[BaseSQLAFilter]:
        return self.conv_datetime(column, name, **kwargs)


class ItemAdmin(StaffOnly, ModelView):
    column_list = ("id", "name", "price", "quantity", "owner", "created_at")
    column_default_sort = "id"
    column_searchable_list = ("name", "description")
    column_filters = ("price", "quantity", "created_at")
    filter_converter = UtcDateTimeFilterConverter()
    # Set once, when the item is created.
    form_excluded_columns = ("created_at",)
    page_size = 20


def init_admin(app: Flask) -> Admin:
    """Return the admin site, bound to app, with the Item views registered."""
    admin = Admin(app, name="framework-bench", index_view=StaffIndexView())
    admin.add_view(ItemAdmin(Item, db))
    return admin
