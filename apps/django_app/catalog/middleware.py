"""Middleware: the CPU busy loop that the regression gate injects (BENCH_INJECT_CPU_US)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

GetResponse = Callable[[HttpRequest], HttpResponseBase]
AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


def burn_cpu(microseconds: int) -> None:
    """Busy-loop for the given number of microseconds, holding the CPU (no sleep)."""
    deadline = time.perf_counter_ns() + microseconds * 1_000
    while time.perf_counter_ns() < deadline:
        pass


@sync_and_async_middleware
def inject_cpu_middleware(
    get_response: GetResponse | AsyncGetResponse,
) -> GetResponse | AsyncGetResponse:
    """Return a middleware that burns BENCH_INJECT_CPU_US of CPU before every request."""
    burn_us = settings.BENCH_INJECT_CPU_US
    if burn_us <= 0:
        # Leaves the middleware chain entirely: no cost at all when nothing is injected.
        raise MiddlewareNotUsed

    # Both flavours, so that Django never adapts the chain between sync and async for it.
    if iscoroutinefunction(get_response):
        async_get_response: AsyncGetResponse = get_response  # type: ignore[assignment]

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            burn_cpu(burn_us)
            return await async_get_response(request)

        return async_middleware

    sync_get_response: GetResponse = get_response  # type: ignore[assignment]

    def middleware(request: HttpRequest) -> HttpResponseBase:
        burn_cpu(burn_us)
        return sync_get_response(request)

    return middleware
