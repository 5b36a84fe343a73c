"""bench/scenarios/errors.py: its stated request mix, seeded draws, forged token and error checks, and a short
cell against a real app.

The scenario imports Locust, which monkey-patches the interpreter with gevent: its facts are read in a
subprocess, once for the module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jwt
import pytest

from bench.config import ROOT
from bench.run.validity import share_error
from bench.scenarios import scenario_info
from tests.bench.scenarios.test_scenarios import apps_under_test

DRAWS = 20_000
API_WEIGHTS = {  # api's @task weights of its happy-path tasks (bench/scenarios/api.py)
    "ApiUser.list_items": 4,
    "ApiUser.read_item": 4,
    "ApiUser.create_item": 2,
    "ApiUser.update_own_item": 1,
    "ApiUser.delete_own_item": 1,
}

FACTS_SCRIPT = """
import json, random
from collections import Counter

from bench.scenarios import errors

class FakeResponse:
    def __init__(self, status, body, content_type="application/json"):
        self.status_code, self.content = status, body
        self.headers = {"Content-Type": content_type}
        self.failures = []
    def failure(self, message):
        self.failures.append(message)

def checked(status, body, content_type="application/json"):
    response = FakeResponse(status, body, content_type)
    code, envelope = errors.error_code(response, status=404)
    return {"code": code, "envelope": envelope, "failures": response.failures}

rng = errors.user_rng(worker_index=0, user_number=0)
deck = errors.KindDeck(rng)
kinds, happy, every_deck = Counter(), Counter(), set()
for index in range(%(draws)d):
    kind = deck.deal()
    kinds[kind] += 1
    if kind == errors.HAPPY_PATH:
        happy[errors.choose_happy_task(rng).__qualname__] += 1
# From a deck's start: what any DECK_SIZE requests in a row hold
dealt = errors.KindDeck(errors.user_rng(worker_index=0, user_number=1))
for _ in range(50):
    every_deck.add(json.dumps(sorted(Counter(dealt.deal() for _ in range(errors.DECK_SIZE)).items())))

def sequence(worker_index, user_number):
    deck = errors.KindDeck(errors.user_rng(worker_index=worker_index, user_number=user_number))
    return [deck.deal() for _ in range(50)]

print(json.dumps({
    "shares": errors.FAILURE_SHARES,
    "names": [errors.VALIDATION_NAME, errors.MISSING_NAME, errors.UNAUTHENTICATED_NAME],
    "happy_name": errors.HAPPY_PATH,
    "kinds": kinds,
    "deck_size": errors.DECK_SIZE,
    "decks": sorted(every_deck),
    "happy": happy,
    "same_user_twice": sequence(0, 3) == sequence(0, 3),
    "two_users_differ": sequence(0, 3) != sequence(0, 4),
    "two_workers_differ": sequence(0, 3) != sequence(1, 3),
    "token": errors.FORGED_TOKEN,
    "key": errors.FORGED_KEY.decode(),
    "missing_ids": errors.MISSING_IDS,
    "not_found": checked(404, b'{"error": "not_found"}'),
    "wrong_status": checked(200, b'{"id": 1}'),
    "no_envelope": checked(404, b'{"detail": "Not Found"}'),
    "html": checked(404, b"<h1>Not Found</h1>", "text/html"),
}))
"""


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", FACTS_SCRIPT % {"draws": DRAWS}],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_errors_is_a_writing_database_row_next_to_api_out_of_the_score() -> None:
    info, api = scenario_info("errors"), scenario_info("api")
    assert info.table_row == api.table_row == "validation"
    assert info.writes and info.per_database
    assert not info.in_score


def test_the_runner_reads_the_stated_shares_the_scenario_uses(facts: dict[str, Any]) -> None:
    assert dict(scenario_info("errors").failure_shares) == facts["shares"]
    assert facts["shares"] == {
        "/api/items [422]": 0.20,
        "/api/items/[id] [404]": 0.15,
        "/api/items [401]": 0.15,
    }
    assert facts["names"] == list(facts["shares"])
    assert all(
        name.endswith(f"[{status}]") for name, status in zip(facts["names"], (422, 404, 401), strict=True)
    )


def test_each_deck_holds_every_kind_at_its_stated_share(facts: dict[str, Any]) -> None:
    size = facts["deck_size"]
    expected = {name: round(share * size) for name, share in facts["shares"].items()}
    # No share lost to rounding: each is a whole number of requests per deck
    assert all(expected[name] == share * size for name, share in facts["shares"].items())
    expected[facts["happy_name"]] = size - sum(expected.values())
    assert [dict(json.loads(deck)) for deck in facts["decks"]] == [expected], "every deck the same kinds"


def test_seeded_deals_send_each_kind_at_its_stated_share(facts: dict[str, Any]) -> None:
    kinds = dict(facts["kinds"])
    assert sum(kinds.values()) == DRAWS
    for name, share in facts["shares"].items():
        assert kinds[name] == share * DRAWS, name  # whole decks: exactly
    # The runner's own check, on the deals as a window's request counts
    by_name = {f"ANY {name}": count for name, count in kinds.items()}
    assert share_error(requests_by_name=by_name, stated_shares=facts["shares"]) == ""
    assert kinds[facts["happy_name"]] == DRAWS // 2


def test_the_happy_path_is_api_s_tasks_at_api_s_weights(facts: dict[str, Any]) -> None:
    happy = facts["happy"]
    assert set(happy) == set(API_WEIGHTS), "api's invalid item is the 422 kind here, not the happy path"
    total, weights = sum(happy.values()), sum(API_WEIGHTS.values())
    for task, weight in API_WEIGHTS.items():
        assert happy[task] / total == pytest.approx(weight / weights, abs=0.02), task


def test_each_user_draws_a_sequence_of_its_own_the_same_on_every_run(facts: dict[str, Any]) -> None:
    assert facts["same_user_twice"]
    assert facts["two_users_differ"]
    assert facts["two_workers_differ"]


def test_the_forged_token_is_well_formed_but_signed_with_another_key(facts: dict[str, Any]) -> None:
    token = facts["token"]
    claims = jwt.decode(token, facts["key"], algorithms=["HS256"])  # well formed, unexpired
    assert claims["sub"] == "1"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "the server's own key, also 32 bytes or more", algorithms=["HS256"])


def test_missing_ids_fit_a_32_bit_id_column(facts: dict[str, Any]) -> None:
    low, high = facts["missing_ids"]
    assert 0 < low < high < 2**31


def test_only_the_error_envelope_with_the_expected_status_counts(facts: dict[str, Any]) -> None:
    assert facts["not_found"] == {"code": "not_found", "envelope": {"error": "not_found"}, "failures": []}
    for case in ("wrong_status", "no_envelope", "html"):
        assert facts[case]["code"] == "", case
        assert len(facts[case]["failures"]) == 1, case


@pytest.mark.slow
@pytest.mark.parametrize("app", apps_under_test())
def test_every_failure_kind_is_answered_as_the_contract_says(app: str, tmp_path: Path) -> None:
    """A short errors cell on SQLite: each kind (the 404 by all three methods) sent, none failed, its shares
    and the database as the runner checks them."""
    from bench.results import RESULTS_FILE, read_rows
    from bench.run.profiles import Profile
    from bench.run.runner import RunSettings, run_benchmark

    # A count of requests, not a time: enough for every kind, on a busy machine as on an idle one.
    profile = Profile(
        name="errors-test",
        apps=(app,),
        scenarios=("errors",),
        users=(4,),
        warmup_s=0.5,
        duration_s=1.0,
        trials=1,
        min_requests=400,
    )
    run_dir = run_benchmark(RunSettings(profile=profile, reports_dir=tmp_path, pin_runner=False))
    (row,) = list(read_rows(run_dir / RESULTS_FILE))
    assert row["error"] == "", f"{row['error']}\n{row['log_tail'][-1500:]}"
    assert row["failures"] == 0, row["failures_by_kind"]
    assert row["data_check"] == "ok"
    sent = row["requests_by_name"]
    for label in (
        "POST /api/items [422]",
        "GET /api/items/[id] [404]",
        "PUT /api/items/[id] [404]",
        "DELETE /api/items/[id] [404]",
        "POST /api/items [401]",
    ):
        assert sent.get(label, 0) > 0, (label, sent)
