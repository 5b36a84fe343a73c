"""The HTML item pages: a paginated list, an item's page and the new-item form (Flask-WTF)."""

from __future__ import annotations

from decimal import Decimal
from http import HTTPStatus

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DecimalField, Field, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from apps.flask_app.extensions import db
from apps.flask_app.models import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PRICE_MAX,
    QUANTITY_MAX,
    Item,
    has_at_most_cents,
    is_storable_text,
    item_or_404,
)

ITEMS_PER_PAGE = 20

blp = Blueprint("forms", __name__, url_prefix="/items")


def storable_text(form: FlaskForm, field: Field) -> None:
    if field.data and not is_storable_text(field.data):
        raise ValidationError("Must not contain NUL characters.")


class ItemForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=NAME_MAX_LENGTH), storable_text])
    description = TextAreaField("Description", validators=[Length(max=DESCRIPTION_MAX_LENGTH), storable_text])
    price = DecimalField("Price", validators=[InputRequired()])
    quantity = IntegerField(
        "Quantity", default=0, validators=[Optional(), NumberRange(min=0, max=QUANTITY_MAX)]
    )

    def validate_price(self, field: DecimalField) -> None:
        price: Decimal | None = field.data
        if price is None:  # not a number: DecimalField has said so already
            return
        if not price.is_finite():
            raise ValidationError("Not a valid decimal value.")
        if not 0 < price <= PRICE_MAX:
            raise ValidationError(f"Must be greater than 0 and at most {PRICE_MAX:,}.")
        if not has_at_most_cents(price):
            raise ValidationError("Must have at most 2 decimal places.")


@blp.get("/")
@login_required
def list_items() -> str:
    page = db.paginate(select(Item).order_by(Item.id), per_page=ITEMS_PER_PAGE, max_per_page=ITEMS_PER_PAGE)
    return render_template("items/list.html", page=page)


@blp.get("/<int:item_id>")
@login_required
def read_item(item_id: int) -> str:
    return render_template("items/detail.html", item=item_or_404(item_id))


@blp.route("/new", methods=["GET", "POST"])
@login_required
def create_item() -> ResponseReturnValue:
    form = ItemForm()
    if form.validate_on_submit():
        item = Item(
            name=form.name.data,
            description=form.description.data or "",
            price=form.price.data,
            quantity=form.quantity.data or 0,
            owner=current_user._get_current_object(),
        )
        db.session.add(item)
        db.session.commit()
        return redirect(url_for(".read_item", item_id=item.id), HTTPStatus.SEE_OTHER)
    return render_template("items/new.html", form=form)
