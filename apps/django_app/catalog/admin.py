"""The Django admin (django.contrib.admin at /admin/): the auto-generated pages for items.

Open to staff only: the admin site's own check sends anonymous and non-staff users to its login page.
"""

from __future__ import annotations

from django.contrib import admin

from apps import seed_data
from apps.django_app.catalog.models import Item


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    # The same page as the other apps' admins: these columns, 20 rows a page, a search over name and
    # description, one filter (by owner) and a full count; Django's default of 100 rows and a date
    # hierarchy would make its page do five times the work.
    list_display = ["id", "name", "price", "quantity", "owner", "created_at"]
    list_per_page = seed_data.ADMIN_PAGE_SIZE
    list_select_related = ["owner"]
    search_fields = ["name", "description"]
    list_filter = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["created_at"]
    # One COUNT(*) a page, as sqladmin and Flask-Admin run: by default the changelist counts the filtered
    # items and then all of them again ("99 results (103 total)"), the same query twice on an unfiltered page.
    show_full_result_count = False
