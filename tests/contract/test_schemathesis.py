"""Property-based testing of the /api operations from each app's own /openapi.json (schemathesis).

Every generated request, valid or not, must get an answer that is no server error and that the document
describes: a documented status code, content type and body schema. Examples are bounded and derandomized so
that the suite stays fast and repeatable. Requests carry the token of `user`, who owns no seeded item, so the
seeded data that other tests read survives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

# schemathesis' lazy pytest loader (schemathesis.pytest.from_fixture) fails on the locked pytest 9: it sets
# Function._nodeid, which pytest 9 no longer has. Its operation-test builder is used directly instead, one
# pytest test per operation, with the same phases (examples, coverage, fuzzing) as @schema.parametrize().
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from targets import AppServer

MAX_EXAMPLES = 25
MIN_CALLS = 5
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CONFIG: dict[str, Any] = {
    "seed": 20240101,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
}
# (method, path) of every /api operation; {id} stands for the path parameter, whatever its name.
OPERATIONS = [
    ("POST", "/api/auth/token"),
    ("GET", "/api/me"),
    ("GET", "/api/items"),
    ("POST", "/api/items"),
    ("GET", "/api/items/{id}"),
    ("PUT", "/api/items/{id}"),
    ("DELETE", "/api/items/{id}"),
]


@pytest.fixture(scope="session")
def api_schema(app_server: AppServer) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(CONFIG)
    return schemathesis.openapi.from_url(f"{app_server.base_url}/openapi.json", config=config)


def path_pattern(path: str) -> str:
    """Return a regex for path that accepts any parameter name and an optional trailing slash."""
    return "^" + re.escape(path).replace(re.escape("{id}"), r"\{[^}]+\}") + "/?$"


def operation_test(
    schema: schemathesis.BaseSchema, *, method: str, path: str, check: Callable[..., None]
) -> Any:
    """Return the hypothesis test of one operation, built as @schema.parametrize() builds it."""
    selected = schema.include(method=method, path_regex=path_pattern(path))
    results = list(get_all_tests(schema=selected, test_func=check, settings=None, given_kwargs=None))
    assert len(results) == 1, f"{method} {path}: {len(results)} matching operations in the document"
    result = results[0]
    assert isinstance(result, Ok), f"{method} {path}: {result.err()}"
    _, test = result.ok()
    return test


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_operation_answers_as_documented(
    api_schema: schemathesis.BaseSchema, app_server: AppServer, user_token: str, method: str, path: str
) -> None:
    headers = {"Authorization": f"Bearer {user_token}"}

    calls: list[int] = []

    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=app_server.base_url, headers=headers)
        calls.append(response.status_code)
        # gunicorn's 414 (a generated query string past 4094 bytes) is checked too: the document declares it.
        case.validate_response(response, checks=CHECKS, headers=headers)

    operation_test(api_schema, method=method, path=path, check=check)()
    assert len(calls) >= MIN_CALLS, f"only {len(calls)} requests were generated"
