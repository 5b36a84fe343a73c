"""The project's URLconf: the admin, then the catalog app's routes."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("apps.django_app.catalog.urls")),
]

# Under /api a missing route answers the JSON envelope too (docs/contract.md).
handler404 = "apps.django_app.catalog.views.errors.page_not_found"
handler500 = "apps.django_app.catalog.views.errors.server_error"
