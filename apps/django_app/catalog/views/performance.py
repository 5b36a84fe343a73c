"""The classic benchmark test types: plaintext, json, db, queries, updates, fortunes (plain Django views)."""

from __future__ import annotations

from contextlib import nullcontext

from django.db import connection, transaction
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
    # The transaction starts where the other apps' driver starts it (docs/contract.md, "SQL per request"):
    # on PostgreSQL before the first read; on SQLite at the write, as sqlite3 begins only there (and an
    # IMMEDIATE transaction, settings.py, would hold SQLite's write lock across the reads).
    with transaction.atomic() if connection.vendor == "postgresql" else nullcontext():
        worlds = [World.objects.get(id=world_id) for world_id in world_ids]
        for world in worlds:
            world.random_number = seed_data.new_random_number(world.random_number)
        # savepoint=False: inside the PostgreSQL transaction this adds no SAVEPOINT. bulk_update is what
        # Django's docs advise for many rows ("Update in bulk", topics/db/optimization): one UPDATE.
        with transaction.atomic(savepoint=False):
            World.objects.bulk_update(worlds, ["random_number"])
    return JsonResponse([world_json(world) for world in worlds], safe=False)


def read_fortunes(request: HttpRequest) -> HttpResponse:
    fortunes = list(Fortune.objects.all())
    fortunes.append(Fortune(id=0, message=seed_data.ADDITIONAL_FORTUNE))
    fortunes.sort(key=lambda fortune: fortune.message)
    return render(request, "catalog/fortunes.html", {"fortunes": fortunes})
