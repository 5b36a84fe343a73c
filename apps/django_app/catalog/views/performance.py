"""The classic benchmark test types: plaintext, json, db, queries, updates, fortunes (plain Django views)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from apps import seed_data
from apps.django_app.catalog.models import Fortune, World


def world_json(world: World) -> dict[str, int]:
    """Return a World row as the benchmark's JSON object."""
    return {"id": world.id, "randomNumber": world.random_number}


def read_plaintext(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"Hello, World!", content_type="text/plain")


def read_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"message": "Hello, World!"})


def read_db(request: HttpRequest) -> JsonResponse:
    return JsonResponse(world_json(World.objects.get(id=seed_data.random_world_id())))


def read_queries(request: HttpRequest) -> JsonResponse:
    count = seed_data.clamp_queries(request.GET.get("queries"))
    worlds = [world_json(World.objects.get(id=world_id)) for world_id in seed_data.random_world_ids(count)]
    return JsonResponse(worlds, safe=False)


def update_worlds(request: HttpRequest) -> JsonResponse:
    count = seed_data.clamp_queries(request.GET.get("queries"))
    # Distinct ids, in order: one new value per row, and concurrent updates lock rows alike.
    world_ids = sorted(seed_data.random_world_ids(count))
    # One transaction from the first read to the write, as the unit of work of the other apps has it
    # (docs/contract.md, "SQL per request"). bulk_update is what Django's docs advise for many rows
    # ("Update in bulk", topics/db/optimization): one UPDATE for all of them.
    with transaction.atomic():
        worlds = [World.objects.get(id=world_id) for world_id in world_ids]
        for world in worlds:
            world.random_number = seed_data.new_random_number(world.random_number)
        World.objects.bulk_update(worlds, ["random_number"])
    return JsonResponse([world_json(world) for world in worlds], safe=False)


def read_fortunes(request: HttpRequest) -> HttpResponse:
    fortunes = list(Fortune.objects.all())
    fortunes.append(Fortune(id=0, message=seed_data.ADDITIONAL_FORTUNE))
    fortunes.sort(key=lambda fortune: fortune.message)
    return render(request, "catalog/fortunes.html", {"fortunes": fortunes})
