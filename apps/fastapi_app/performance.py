"""The classic web-framework benchmark endpoints: plaintext, json, db, queries, updates, fortunes."""

from __future__ import annotations

from operator import attrgetter

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from apps import seed_data
from apps.fastapi_app.models import Fortune, World
from apps.fastapi_app.orm_mode import with_autocommit_session, with_db_session
from apps.fastapi_app.schemas import Message, WorldOut
from apps.fastapi_app.templating import templates

router = APIRouter(tags=["performance"])


@router.get("/plaintext", response_class=PlainTextResponse)
async def read_plaintext() -> PlainTextResponse:
    """Answer Hello, World! as plain text."""
    return PlainTextResponse("Hello, World!")


@router.get("/json")
async def read_json() -> Message:
    """Answer a JSON object built for this request."""
    return Message(message="Hello, World!")


@router.get("/db")
@with_autocommit_session
def read_random_world(session: Session) -> WorldOut:
    """Return one random World row."""
    world = session.get_one(World, seed_data.random_world_id())
    return WorldOut.model_validate(world)


@router.get("/queries")
@with_autocommit_session
def read_random_worlds(session: Session, queries: str | None = None) -> list[WorldOut]:
    """Return N random World rows, one query each (N clamped to 1..500)."""
    count = seed_data.clamp_queries(queries)
    return [
        WorldOut.model_validate(session.get_one(World, world_id))
        for world_id in seed_data.random_world_ids(count)
    ]


@router.get("/updates")
@with_db_session
def update_random_worlds(session: Session, queries: str | None = None) -> list[WorldOut]:
    """Give N random World rows a new random number, persisted in one transaction."""
    count = seed_data.clamp_queries(queries)
    worlds = [session.get_one(World, world_id) for world_id in seed_data.random_world_ids(count)]
    for world in worlds:
        world.random_number = seed_data.new_random_number(world.random_number)
    # The unit of work sends the UPDATEs in primary-key order, so concurrent requests take the
    # row locks in the same order and cannot deadlock each other on PostgreSQL.
    session.commit()
    return [WorldOut.model_validate(world) for world in worlds]


@router.get("/fortunes", response_class=HTMLResponse)
@with_autocommit_session
def read_fortunes(session: Session, request: Request) -> HTMLResponse:
    """Render every fortune plus one added now, sorted by message, through an HTML template."""
    fortunes = list(session.scalars(select(Fortune)))
    fortunes.append(Fortune(id=0, message=seed_data.ADDITIONAL_FORTUNE))
    fortunes.sort(key=attrgetter("message"))
    return templates.TemplateResponse(request, "fortunes.html", {"fortunes": fortunes})
