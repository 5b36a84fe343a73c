"""What every /api view shares: the request body's limits, checked before anything else."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.request import Request

from apps.django_app.catalog.exceptions import LengthRequired, PayloadTooLarge

# A refused body is still read and thrown away, up to this much, so that the connection can
# carry the client's next request (gunicorn closes a keep-alive connection whose request body
# was left unread). Past this, the server closes the connection.
DISCARD_MAX_BYTES = 8 * 1024 * 1024
DISCARD_CHUNK_BYTES = 64 * 1024


def discard_unread_body(request: Request) -> int:
    """Read and drop what is left of the request body (up to DISCARD_MAX_BYTES); return how much."""
    # Under WSGI, from the server's stream: Django reads no further than the Content-Length. Under
    # ASGI, Django has read the whole body before calling the view, into the request's own stream.
    stream = request.META.get("wsgi.input")
    read = stream.read if stream is not None else request.read
    remaining = max(DISCARD_MAX_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    discarded = 0
    while remaining > 0:
        chunk = read(min(DISCARD_CHUNK_BYTES, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        discarded += len(chunk)
    return discarded


class PayloadLimitFirstMixin:
    """Checks the request body before authentication, permissions and parsing.

    The contract answers an oversized body 413 before anything else (a 401 included). Django
    checks DATA_UPLOAD_MAX_MEMORY_SIZE against the Content-Length when the body is read, raising
    RequestDataTooBig, which the API's exception handler turns into the 413 envelope. Django reads
    a body by its Content-Length only (under WSGI it never sees a chunked one), so a body sent
    without one is refused with 411 Length Required rather than taken for an empty one; it is
    still counted as it is dropped, and one over the limit is a 413 as with a Content-Length.
    """

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if "HTTP_TRANSFER_ENCODING" in request.META:
            if discard_unread_body(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                raise PayloadTooLarge
            raise LengthRequired
        try:
            request.body  # noqa: B018  (read for its size check)
        except RequestDataTooBig:
            discard_unread_body(request)
            raise
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
