"""The classic web-framework benchmark endpoints: plaintext, json, db, queries, updates, fortunes."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy import select

from apps import seed_data
from apps.flask_app.extensions import db, with_autocommit_session
from apps.flask_app.models import Fortune, World

blp = Blueprint("performance", __name__)


@blp.get("/plaintext")
def read_plaintext() -> Response:
    return Response("Hello, World!", mimetype="text/plain")


@blp.get("/json")
def read_json() -> Response:
    return jsonify(message="Hello, World!")


@blp.get("/db")
@with_autocommit_session
def read_db() -> Response:
    world = db.session.get_one(World, seed_data.random_world_id())
    return jsonify(world.to_json())


@blp.get("/queries")
@with_autocommit_session
def read_queries() -> Response:
    count = seed_data.clamp_queries(request.args.get("queries"))
    worlds = [db.session.get_one(World, world_id) for world_id in seed_data.random_world_ids(count)]
    return jsonify([world.to_json() for world in worlds])


@blp.get("/updates")
def update_worlds() -> Response:
    count = seed_data.clamp_queries(request.args.get("queries"))
    worlds = [db.session.get_one(World, world_id) for world_id in seed_data.random_world_ids(count)]
    for world in worlds:
        world.random_number = seed_data.new_random_number(world.random_number)
    # The unit of work writes the rows in primary-key order, so that concurrent requests
    # lock them in the same order and never deadlock.
    db.session.commit()
    return jsonify([world.to_json() for world in worlds])


@blp.get("/fortunes")
@with_autocommit_session
def read_fortunes() -> str:
    fortunes = list(db.session.scalars(select(Fortune)))
    fortunes.append(Fortune(id=0, message=seed_data.ADDITIONAL_FORTUNE))
    fortunes.sort(key=lambda fortune: fortune.message)
    return render_template("fortunes.html", fortunes=fortunes)
