"""The HTML item pages: a paginated list, an item, and the new-item form (class-based views)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import HttpResponse
from django.views.generic import CreateView, DetailView, ListView

from apps.django_app.catalog.forms import ItemForm
from apps.django_app.catalog.http import HttpResponseSeeOther
from apps.django_app.catalog.models import Item

ITEMS_PER_PAGE = 20


class ItemListView(LoginRequiredMixin, ListView):
    paginate_by = ITEMS_PER_PAGE

    def get_queryset(self) -> QuerySet[Item]:
        return Item.objects.select_related("owner").order_by("id")


class ItemDetailView(LoginRequiredMixin, DetailView):
    queryset = Item.objects.select_related("owner")


class ItemCreateView(LoginRequiredMixin, CreateView):
    form_class = ItemForm
    template_name = "catalog/item_form.html"

    def form_valid(self, form: ItemForm) -> HttpResponse:
        form.instance.owner = self.request.user
        self.object = form.save()
        return HttpResponseSeeOther(self.object.get_absolute_url())
