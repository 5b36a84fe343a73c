"""The JSON items API: /api/items and /api/items/{id} (REST framework generic views)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from apps.django_app.catalog.models import Item
from apps.django_app.catalog.permissions import IsOwnerOrReadOnly
from apps.django_app.catalog.serializers import (
    ErrorSerializer,
    ItemPageQuerySerializer,
    ItemPageSerializer,
    ItemSerializer,
)
from apps.django_app.catalog.views.base import PayloadLimitFirstMixin


def error_response(description: str) -> OpenApiResponse:
    """Return the OpenAPI description of an error answered with the envelope."""
    return OpenApiResponse(ErrorSerializer, description=description)


VALIDATION_ERROR = error_response("A field or query parameter is invalid (validation_error).")
BODY_ERRORS = {
    400: error_response("Malformed JSON (bad_request)."),
    413: error_response("The body is over 1 MiB (payload_too_large)."),
    415: error_response("The body is not application/json (unsupported_media_type)."),
    422: VALIDATION_ERROR,
}
NOT_AUTHENTICATED = error_response("No, malformed, expired or forged token (not_authenticated).")
FORBIDDEN = error_response("The item belongs to another user (forbidden).")
NOT_FOUND = error_response("No such item (not_found).")


class ItemListView(PayloadLimitFirstMixin, mixins.CreateModelMixin, GenericAPIView):
    """GET a page of items (no token needed); POST a new item owned by the token's user."""

    serializer_class = ItemSerializer
    permission_classes = [IsAuthenticatedOrReadOnly]

    def get_queryset(self) -> QuerySet[Item]:
        return Item.objects.select_related("owner").order_by("id")

    @extend_schema(
        operation_id="read_items",
        parameters=[ItemPageQuerySerializer],
        responses={200: ItemPageSerializer, 422: VALIDATION_ERROR},
    )
    def get(self, request: Request) -> Response:
        """Return a page of items in id order, with the total count; no token needed."""
        # A plain dict: REST framework reads an empty value in a QueryDict as "missing".
        query = ItemPageQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        items = self.get_queryset()[offset : offset + limit]
        page = {
            "items": self.get_serializer(items, many=True).data,
            "total": Item.objects.count(),
            "limit": limit,
            "offset": offset,
        }
        return Response(page)

    @extend_schema(
        operation_id="create_item",
        responses={201: ItemSerializer, 401: NOT_AUTHENTICATED, **BODY_ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Create an item owned by the token's user."""
        return self.create(request)

    def perform_create(self, serializer: BaseSerializer[Item]) -> None:
        serializer.save(owner=self.request.user)


class ItemDetailView(
    PayloadLimitFirstMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    GenericAPIView,
):
    """GET, PUT (replace the whole item) or DELETE one item; writing is for its owner only."""

    queryset = Item.objects.select_related("owner")
    serializer_class = ItemSerializer
    permission_classes = [IsAuthenticatedOrReadOnly, IsOwnerOrReadOnly]

    @extend_schema(operation_id="read_item", responses={200: ItemSerializer, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        """Return one item; no token needed."""
        return self.retrieve(request, pk=pk)

    @extend_schema(
        operation_id="replace_item",
        responses={
            200: ItemSerializer,
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            **BODY_ERRORS,
        },
    )
    def put(self, request: Request, pk: int) -> Response:
        """Replace the whole item (fields left out get their defaults); owner only."""
        return self.update(request, pk=pk)

    @extend_schema(
        operation_id="delete_item",
        responses={
            204: OpenApiResponse(description="Deleted; no body."),
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def delete(self, request: Request, pk: int) -> Response:
        """Delete the item; owner only."""
        return self.destroy(request, pk=pk)
