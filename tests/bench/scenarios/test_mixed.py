"""bench/scenarios/mixed.py: its documented weights, its think time, and one account per simulated user.

The scenario imports Locust, which monkey-patches the interpreter with gevent: the facts are read in a
subprocess, once for the module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from apps.seed_data import MIXED_ACCOUNTS, mixed_username, mixed_usernames
from bench.config import ROOT
from bench.scenarios import scenario_info
from bench.scenarios.common import LOGINS

USERS = 32  # the profiles' user count
# Other scenarios' tasks that mixed may borrow: a site's pages and API calls, not plaintext, json, io or docs.
SITE_SCENARIOS = {"DbUser", "QueriesUser", "UpdatesUser", "FortunesUser", "ApiUser", "MeUser", "FormsUser"}
WRITE_TASKS = {
    "ApiUser.create_item",
    "ApiUser.create_invalid_item",
    "ApiUser.update_own_item",
    "ApiUser.delete_own_item",
    "FormsUser.create_item",
    "FormsUser.create_invalid_item",
    "UpdatesUser.update_worlds",
}

FACTS_SCRIPT = """
import json
from collections import Counter

from locust.env import Environment

from bench.scenarios import common, mixed

def names(weights):
    return {task.__qualname__: weight for task, weight in weights.items()}

def usernames_of(count, *, worker_index):
    common.LOGINS.clear()  # a new cell
    environment = Environment(user_classes=[mixed.MixedUser], host="http://127.0.0.1:1")
    runner = environment.create_local_runner()
    runner.worker_index = worker_index
    users = [mixed.MixedUser(environment) for _ in range(count)]
    for user in users:
        user.on_start()
    return [user.username for user in users]

mixed.MixedUser.host = "http://127.0.0.1:1"  # what a runner sets when it spawns users
# No server: the logins are stubbed, recording who logged in as whom.
logins = []
mixed.shared_token = lambda user, *, username: logins.append(("token", username)) or "token-" + username
mixed.shared_session = lambda user, *, username: logins.append(("session", username))

environment = Environment(user_classes=[mixed.MixedUser], host="http://127.0.0.1:1")
waits = [mixed.MixedUser.wait_time(mixed.MixedUser(environment)) for _ in range(2000)]
local = usernames_of(%(users)d, worker_index=0)
first_logins = list(logins)
print(json.dumps({
    "reads": names(mixed.READ_WEIGHTS),
    "writes": names(mixed.WRITE_WEIGHTS),
    "total": mixed.WEIGHT_TOTAL,
    "task_counts": Counter(task.__qualname__ for task in mixed.MixedUser.tasks),
    "wait_min": min(waits),
    "wait_max": max(waits),
    "local": local,
    "logins": first_logins,
    "next_cell": usernames_of(%(users)d, worker_index=0),
    "two_workers": [name for index in range(2) for name in usernames_of(%(users)d // 2, worker_index=index)],
    "four_workers": [name for index in range(4) for name in usernames_of(%(users)d // 4, worker_index=index)],
    "all_accounts": usernames_of(%(accounts)d, worker_index=0),
    "index_grid": {
        str(workers): [
            mixed.account_index(worker_index=worker, user_number=number)
            for worker in range(workers)
            for number in range(%(accounts)d // 4)
        ]
        for workers in (1, 2, 3, 4)
    },
}))
"""


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    script = FACTS_SCRIPT % {"users": USERS, "accounts": MIXED_ACCOUNTS}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_mixed_still_writes_and_is_the_use_case_row() -> None:
    info = scenario_info("mixed")
    assert info.writes
    assert info.table_row == "use_case"


def test_the_weights_are_the_documented_read_mostly_mix(facts: dict[str, Any]) -> None:
    reads, writes = facts["reads"], facts["writes"]
    assert facts["total"] == 1000
    assert sum(reads.values()) == 950  # YCSB workload B: 95% reads
    assert sum(writes.values()) == 50  # and 5% writes
    assert set(writes) == WRITE_TASKS
    assert not set(reads) & WRITE_TASKS
    docstring = scenario_info("mixed").path.read_text(encoding="utf-8")
    assert "YCSB" in docstring and "95%" in docstring, "the module docstring states the source"


def test_the_mix_borrows_only_the_site_s_requests(facts: dict[str, Any]) -> None:
    borrowed = {name.split(".")[0] for name in (*facts["reads"], *facts["writes"])}
    assert borrowed <= SITE_SCENARIOS, "no plaintext, json, io or docs"
    assert all(weight > 0 for weight in (*facts["reads"].values(), *facts["writes"].values()))


def test_locust_picks_each_task_as_often_as_its_weight(facts: dict[str, Any]) -> None:
    assert facts["task_counts"] == {**facts["reads"], **facts["writes"]}


def test_users_think_between_tasks(facts: dict[str, Any]) -> None:
    assert 0.005 <= facts["wait_min"] < facts["wait_max"] <= 0.015


def test_no_two_users_of_a_process_share_an_account(facts: dict[str, Any]) -> None:
    assert len(set(facts["local"])) == USERS
    assert set(facts["local"]) <= set(mixed_usernames())
    assert len(set(facts["all_accounts"])) == MIXED_ACCOUNTS


def test_each_user_logs_in_as_its_own_account(facts: dict[str, Any]) -> None:
    tokens = [username for kind, username in facts["logins"] if kind == "token"]
    sessions = [username for kind, username in facts["logins"] if kind == "session"]
    assert tokens == sessions == facts["local"]


def test_a_new_cell_numbers_its_users_from_the_first_account_again(facts: dict[str, Any]) -> None:
    assert facts["next_cell"] == facts["local"]


def test_workers_of_one_cell_take_different_accounts(facts: dict[str, Any]) -> None:
    assert len(set(facts["two_workers"])) == USERS
    assert len(set(facts["four_workers"])) == USERS


def test_account_offsets_suit_any_worker_count(facts: dict[str, Any]) -> None:
    # A quarter of the accounts each, on up to four workers: never the same account twice.
    for workers, indexes in facts["index_grid"].items():
        assert len(set(indexes)) == len(indexes), workers
        assert all(0 <= index < MIXED_ACCOUNTS for index in indexes)


def test_mixed_usernames_are_numbered_from_one() -> None:
    assert mixed_username(0) == "mixed-001"
    assert mixed_username(MIXED_ACCOUNTS - 1) == f"mixed-{MIXED_ACCOUNTS:03d}"
    assert len(set(mixed_usernames())) == MIXED_ACCOUNTS
    with pytest.raises(ValueError, match="mixed account index"):
        mixed_username(MIXED_ACCOUNTS)


def test_the_login_cache_numbers_users_per_counter_until_cleared() -> None:
    LOGINS.clear()
    try:
        assert [LOGINS.next_number("a"), LOGINS.next_number("a"), LOGINS.next_number("b")] == [0, 1, 0]
        LOGINS.clear()
        assert LOGINS.next_number("a") == 0
    finally:
        LOGINS.clear()
