"""Pure ASGI middleware: the requests in flight, the request body limit and the injected CPU cost."""

from __future__ import annotations

import time
from http import HTTPStatus

import anyio
from fastapi.responses import PlainTextResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apps.fastapi_app.errors import error_response, path_uses_error_envelope


class RequestBodyTooLargeError(HTTPException):
    """Raised while a request body is read, as soon as it passes the limit.

    An HTTPException, so that FastAPI passes it through its body parsing unchanged and the
    app's handler answers it (with the error envelope under /api).
    """

    def __init__(self) -> None:
        super().__init__(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, detail="Request body too large")


class BodySizeLimitMiddleware:
    """Answers 413 to a request body of more than max_bytes bytes.

    A declared Content-Length over the limit is refused before the app runs; a body without
    one (chunked) is counted as the app reads it. FastAPI's own max_body_size does the same
    counting, but answers a declared oversize with a fixed plain-text page, and the contract
    wants the JSON error envelope under /api.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_length = Headers(scope=scope).get("content-length", "")
        if content_length.isdigit() and int(content_length) > self.max_bytes:
            await self._too_large(scope)(scope, receive, send)
            return

        received = 0
        response_started = False

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestBodyTooLargeError
            return message

        async def send_noting_start(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive_within_limit, send_noting_start)
        except RequestBodyTooLargeError:
            # Only reached when no exception handler answered it (outside FastAPI's routes).
            if response_started:
                raise
            await self._too_large(scope)(scope, receive, send)

    @staticmethod
    def _too_large(scope: Scope) -> Response:
        if path_uses_error_envelope(scope["path"]):
            return error_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        return PlainTextResponse("Request body too large", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


class InjectCpuMiddleware:
    """Burns a fixed amount of CPU in every request (BENCH_INJECT_CPU_US).

    It exists to prove that the regression gate notices a slower app; it is added only when the
    amount is above zero, so a normal run pays nothing for it.
    """

    def __init__(self, app: ASGIApp, *, microseconds: int) -> None:
        self.app = app
        self.seconds = microseconds / 1_000_000

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            deadline = time.perf_counter() + self.seconds
            while time.perf_counter() < deadline:
                pass
        await self.app(scope, receive, send)


class InFlightLimitMiddleware:
    """Serves at most `limit` requests at once; the others wait for a free slot before any of their work.

    The threaded variant's admission control, as gunicorn's gthread worker has it: a connection waits
    until one of its `--threads` is free. Without it every request enters at once and takes its turns in
    the thread pool: a `def` endpoint holding a database connection then queues again for a thread to
    validate its response and close its session, behind new requests that hold the threads while they
    wait for a connection (FastAPI issue #3205, PR #12066), until the pool's timeout. With at most
    `limit` requests admitted, `limit` threads and connections are always enough.
    """

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots: anyio.Semaphore | None = None  # made in the event loop that serves the requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = anyio.Semaphore(self.limit)
        async with self._slots:
            await self.app(scope, receive, send)
