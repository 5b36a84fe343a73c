"""The HTML item pages: a paginated list, a detail page and the new-item form (session login)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from apps.fastapi_app.csrf import verify_csrf_token
from apps.fastapi_app.deps import ItemId, SessionUser, get_session_user
from apps.fastapi_app.models import Item
from apps.fastapi_app.orm_mode import with_db_session
from apps.fastapi_app.schemas import ItemForm
from apps.fastapi_app.templating import templates

ITEMS_PER_PAGE = 20

router = APIRouter(prefix="/items", include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
@with_db_session
def read_item_list(
    session: Session,
    request: Request,
    user: SessionUser,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """Show a page of items (the last one for a page number past the end)."""
    total = session.scalar(select(func.count()).select_from(Item)) or 0
    page_count = max(1, -(-total // ITEMS_PER_PAGE))
    page = min(page, page_count)
    items = session.scalars(
        select(Item).order_by(Item.id).limit(ITEMS_PER_PAGE).offset((page - 1) * ITEMS_PER_PAGE)
    )
    return templates.TemplateResponse(
        request,
        "items/list.html",
        {"user": user, "items": list(items), "page": page, "page_count": page_count},
    )


def _render_item_form(
    request: Request,
    *,
    user: SessionUser,
    values: dict[str, str],
    errors: dict[str, list[str]],
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "items/new.html",
        {"user": user, "values": values, "errors": errors},
        status_code=status_code,
    )


# Declared before /{item_id} so that "new" is never read as an id.
@router.get("/new", response_class=HTMLResponse)
async def read_new_item_form(request: Request, user: SessionUser) -> HTMLResponse:
    """Show the empty new-item form."""
    return _render_item_form(request, user=user, values={}, errors={})


# The login check comes first, so that an anonymous visitor is sent to /login, not refused.
@router.post("/new", dependencies=[Depends(get_session_user), Depends(verify_csrf_token)])
@with_db_session
def create_item_from_form(
    session: Session,
    request: Request,
    user: SessionUser,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    price: Annotated[str, Form()] = "",
    quantity: Annotated[str, Form()] = "0",
) -> Response:
    """Create an item and go to its page, or show the form again with each field's errors."""
    values = {"name": name, "description": description, "price": price, "quantity": quantity}
    try:
        item_form = ItemForm.model_validate(values)
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            errors.setdefault(str(error["loc"][0]), []).append(error["msg"])
        return _render_item_form(
            request,
            user=user,
            values=values,
            errors=errors,
            status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        )
    item = Item(**item_form.column_values(), owner=user)
    session.add(item)
    session.commit()
    return RedirectResponse(
        request.app.url_path_for("read_item_page", item_id=item.id), status_code=status.HTTP_303_SEE_OTHER
    )


@router.get("/{item_id}", response_class=HTMLResponse)
@with_db_session
def read_item_page(session: Session, request: Request, user: SessionUser, item_id: ItemId) -> HTMLResponse:
    """Show one item."""
    item = session.get(Item, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Item not found")
    return templates.TemplateResponse(request, "items/detail.html", {"user": user, "item": item})
