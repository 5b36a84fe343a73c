"""The catalog's routes: the benchmark endpoints, /api, the HTML pages and the API documentation."""

from __future__ import annotations

from django.contrib.auth.views import LogoutView
from django.urls import include, path

from apps.django_app.catalog.views import auth, docs, forms, health, io, items, performance

app_name = "catalog"

# No trailing slashes under /api, as in docs/contract.md.
api_urlpatterns = [
    path("auth/token", auth.TokenView.as_view(), name="api-token"),
    path("me", auth.MeView.as_view(), name="api-me"),
    path("items", items.ItemListView.as_view(), name="api-items"),
    path("items/<int:pk>", items.ItemDetailView.as_view(), name="api-item"),
]

urlpatterns = [
    path("plaintext", performance.read_plaintext, name="plaintext"),
    path("json", performance.read_json, name="json"),
    path("db", performance.read_db, name="db"),
    path("queries", performance.read_queries, name="queries"),
    path("updates", performance.update_worlds, name="updates"),
    path("fortunes", performance.read_fortunes, name="fortunes"),
    path("io", io.wait_io, name="io"),
    path("health", health.read_health, name="health"),
    path("api/", include(api_urlpatterns)),
    path("openapi.json", docs.read_openapi, name=docs.SCHEMA_URL_NAME),
    path("docs", docs.read_docs, name="docs"),
    path("login", auth.SessionLoginView.as_view(), name="login"),
    path("logout", LogoutView.as_view(), name="logout"),
    path("items/", forms.ItemListView.as_view(), name="item-list"),
    path("items/new", forms.ItemCreateView.as_view(), name="item-create"),
    path("items/<int:pk>", forms.ItemDetailView.as_view(), name="item-detail"),
]
