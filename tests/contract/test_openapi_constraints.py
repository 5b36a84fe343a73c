"""The three OpenAPI documents declare the same operations and the same constraints for the same fields.

Each app's document is reduced to what a client may send and may get back (openapi_shape.operation_shape) and
compared with the contract's shape of that operation, so that all three agree with each other: a client
generated from any of them sends only what every app accepts, and expects every status the app answers.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_shape import CONTRACT, contract_shape, operation_shape, operations
from targets import AppServer


@pytest.fixture
def document(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_documents_exactly_the_api_operations(document: dict[str, Any]) -> None:
    assert sorted(operations(document)) == sorted(CONTRACT)


@pytest.mark.parametrize("operation", list(CONTRACT))
def test_operation_declares_the_contracts_constraints(
    document: dict[str, Any], app_server: AppServer, operation: str
) -> None:
    assert operation_shape(document, operation) == contract_shape(app_server.target.app, operation)
