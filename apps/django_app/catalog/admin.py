"""The Django admin (django.contrib.admin at /admin/): the auto-generated pages for items.

Open to staff only: the admin site's own check sends anonymous and non-staff users to its login page.
"""

from __future__ import annotations

from django.contrib import admin

from apps.django_app.catalog.models import Item


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "price", "quantity", "owner", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "description"]
    list_filter = ["owner", "created_at"]
    date_hierarchy = "created_at"
    raw_id_fields = ["owner"]
    readonly_fields = ["created_at"]
