"""The items JSON API: list and read without a token, write with a bearer token (owner only)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import g, request
from flask_smorest import abort
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from apps.flask_app.auth import BEARER_SECURITY, token_required
from apps.flask_app.errors import ApiBlueprint, error_responses
from apps.flask_app.extensions import db, with_autocommit_session
from apps.flask_app.models import MAX_INTEGER, Item, item_or_404
from apps.flask_app.schemas import ItemInSchema, ItemPageSchema, ItemSchema, PageQuerySchema

blp = ApiBlueprint("items", __name__, url_prefix="/api/items", description="Items")
ITEM_URL = "/<item_id:item_id>"


class ItemIdConverter(IntegerConverter):
    """An item id in a URL: digits, as Werkzeug's int converter reads them (item_or_404 answers any it does
    not hold); registered as `item_id` so that the OpenAPI document gives the range (item_id_schema).
    """


def item_id_schema(converter: ItemIdConverter) -> dict[str, Any]:
    """Return the OpenAPI schema of an item id in a path: the contract's range, a positive 32-bit integer."""
    return {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER}


_JSON_BODY_ERRORS = error_responses(
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
)


@blp.before_request
def require_json_body() -> None:
    # webargs would silently treat a non-JSON body as missing fields (422); the contract says 415.
    if request.method in ("POST", "PUT") and not request.is_json:
        abort(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)


def _owned_item(item_id: int) -> Item:
    """Return the item when the token's user owns it; abort with 404 or 403 otherwise."""
    item = item_or_404(item_id)
    if item.owner_id != g.api_user.id:
        abort(HTTPStatus.FORBIDDEN)
    return item


@blp.get("")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(HTTPStatus.OK, ItemPageSchema)
@with_autocommit_session
def read_items(page: dict[str, int]) -> dict[str, Any]:
    """List items by id, a page at a time."""
    items = db.session.scalars(
        select(Item).order_by(Item.id).limit(page["limit"]).offset(page["offset"])
    ).all()
    total = db.session.scalar(select(func.count()).select_from(Item))
    return {"items": items, "total": total, **page}


@blp.post("")
@token_required
@blp.doc(security=BEARER_SECURITY, responses=_JSON_BODY_ERRORS)
@blp.arguments(ItemInSchema)
@blp.response(HTTPStatus.CREATED, ItemSchema)
def create_item(fields: dict[str, Any]) -> Item:
    """Create an item owned by the token's user."""
    item = Item(**fields, owner=g.api_user)
    db.session.add(item)
    db.session.commit()
    return item


@blp.get(ITEM_URL)
@blp.doc(responses=error_responses(HTTPStatus.NOT_FOUND))
@blp.response(HTTPStatus.OK, ItemSchema)
@with_autocommit_session
def read_item(item_id: int) -> Item:
    """Return one item."""
    return item_or_404(item_id)


@blp.put(ITEM_URL)
@token_required
@blp.doc(
    security=BEARER_SECURITY,
    responses={
        **_JSON_BODY_ERRORS,
        **error_responses(HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND),
    },
)
@blp.arguments(ItemInSchema)
@blp.response(HTTPStatus.OK, ItemSchema)
def replace_item(fields: dict[str, Any], item_id: int) -> Item:
    """Replace the whole item; only its owner may."""
    item = _owned_item(item_id)
    for name, value in fields.items():
        setattr(item, name, value)
    db.session.commit()
    return item


@blp.delete(ITEM_URL)
@token_required
@blp.doc(
    security=BEARER_SECURITY,
    responses=error_responses(HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND),
)
@blp.response(HTTPStatus.NO_CONTENT)
def delete_item(item_id: int) -> None:
    """Delete the item; only its owner may."""
    db.session.delete(_owned_item(item_id))
    db.session.commit()
