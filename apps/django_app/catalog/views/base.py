"""What every /api view shares."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request


class PayloadLimitFirstMixin:
    """Reads the request body before authentication, permissions and parsing.

    The contract answers an oversized body 413 before anything else (a 401 included). Django
    checks DATA_UPLOAD_MAX_MEMORY_SIZE when the body is read, raising RequestDataTooBig, which
    the API's exception handler turns into the 413 envelope.
    """

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        request.body  # noqa: B018  (read for its size check)
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
