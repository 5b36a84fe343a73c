"""The JSON items API under /api/items: public reads, owner-only writes with a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from apps.fastapi_app.deps import CurrentUser, ItemId, require_json_body
from apps.fastapi_app.errors import error_responses
from apps.fastapi_app.models import Item, User
from apps.fastapi_app.orm_mode import with_autocommit_session, with_db_session
from apps.fastapi_app.schemas import (
    ITEMS_DEFAULT_LIMIT,
    ITEMS_MAX_LIMIT,
    MAX_OFFSET,
    ItemIn,
    ItemOut,
    ItemPage,
)

router = APIRouter(prefix="/api/items", tags=["items"])

# Writes resolve the bearer token (CurrentUser) before their handler looks the item up, so a
# client without a valid token never learns whether an item exists: 401 comes before 403 and 404.
JSON_BODY = [Depends(require_json_body)]


def get_item_or_404(session: Session, item_id: int) -> Item:
    """Return the item, or answer 404."""
    item = session.get(Item, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Item not found")
    return item


def check_owner(item: Item, user: User) -> None:
    """Answer 403 unless the user owns the item."""
    if item.owner_id != user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Not the owner of this item")


@router.get("", responses=error_responses(422))
@with_autocommit_session
def read_items(
    session: Session,
    limit: Annotated[int, Query(ge=1, le=ITEMS_MAX_LIMIT)] = ITEMS_DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ItemPage:
    """List the items in id order, a page at a time."""
    total = session.scalar(select(func.count()).select_from(Item))
    items = session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset))
    return ItemPage(
        items=[ItemOut.model_validate(item) for item in items],
        total=total or 0,
        limit=limit,
        offset=offset,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=JSON_BODY,
    responses=error_responses(400, 401, 413, 415, 422),
)
@with_db_session
def create_item(session: Session, user: CurrentUser, item_in: ItemIn) -> ItemOut:
    """Create an item owned by the token's user."""
    item = Item(**item_in.column_values(), owner=user)
    session.add(item)
    session.commit()
    return ItemOut.model_validate(item)


@router.get("/{item_id}", responses=error_responses(404))
@with_autocommit_session
def read_item(session: Session, item_id: ItemId) -> ItemOut:
    """Return one item."""
    return ItemOut.model_validate(get_item_or_404(session, item_id))


@router.put(
    "/{item_id}",
    dependencies=JSON_BODY,
    responses=error_responses(400, 401, 403, 404, 413, 415, 422),
)
@with_db_session
def replace_item(session: Session, user: CurrentUser, item_id: ItemId, item_in: ItemIn) -> ItemOut:
    """Replace every field of an item the token's user owns."""
    item = get_item_or_404(session, item_id)
    check_owner(item, user)
    for column, value in item_in.column_values().items():
        setattr(item, column, value)
    session.commit()
    return ItemOut.model_validate(item)


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404),
)
@with_db_session
def delete_item(session: Session, user: CurrentUser, item_id: ItemId) -> Response:
    """Delete an item the token's user owns."""
    item = get_item_or_404(session, item_id)
    check_owner(item, user)
    session.delete(item)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
