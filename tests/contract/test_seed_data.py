"""The seed data: the same rows in every app, passwords hashed with the shared argon2id parameters, the mixed
scenario's accounts, and a setup command that can run twice. (The fortunes' rows are checked through
/fortunes.)"""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from html_forms import log_in
from stored_rows import read_password_hashes, read_random_numbers
from targets import ADMIN, USER, AppServer

from apps.seed_data import (
    ARGON2_MEMORY_COST,
    ARGON2_PARALLELISM,
    ARGON2_TIME_COST,
    ITEM_ROWS,
    MIXED_ACCOUNTS,
    items,
    mixed_username,
    mixed_usernames,
    world_rows,
)
from bench.run.servers import run_setup

ARGON2_PARAMETERS = f"argon2id$v=19$m={ARGON2_MEMORY_COST},t={ARGON2_TIME_COST},p={ARGON2_PARALLELISM}$"


def test_world_rows_are_the_shared_ones(app_server: AppServer) -> None:
    assert app_server.seeded_world == dict(world_rows())


def seeded_items_via_api(client: httpx.Client) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for offset in range(0, ITEM_ROWS, 100):
        found += client.get("/api/items", params={"limit": 100, "offset": offset}).json()["items"]
    return found


def test_items_are_the_shared_ones(client: httpx.Client) -> None:
    served = [
        (
            row["id"],
            row["name"],
            row["description"],
            row["price"],
            row["quantity"],
            row["owner"],
            datetime.fromisoformat(str(row["created_at"])),
        )
        for row in seeded_items_via_api(client)
    ]
    expected = [
        (item.id, item.name, item.description, float(item.price), item.quantity, ADMIN, item.created_at)
        for item in items()
    ]
    assert served == expected


def test_passwords_are_hashed_with_the_shared_argon2id_parameters(app_server: AppServer) -> None:
    hashes = read_password_hashes(app_server.database_url)
    for username in (ADMIN, USER):
        assert username in hashes, sorted(hashes)
        assert ARGON2_PARAMETERS in hashes[username], f"{username}: {hashes[username][:60]}"


def test_the_mixed_accounts_are_seeded_with_the_shared_argon2id_parameters(app_server: AppServer) -> None:
    hashes = read_password_hashes(app_server.database_url)
    missing = sorted(set(mixed_usernames()) - set(hashes))
    assert not missing, f"{len(missing)} of {MIXED_ACCOUNTS} mixed accounts missing, e.g. {missing[:3]}"
    for username in mixed_usernames():
        assert ARGON2_PARAMETERS in hashes[username], f"{username}: {hashes[username][:60]}"


@pytest.mark.parametrize("index", [0, MIXED_ACCOUNTS - 1], ids=["first", "last"])
def test_a_mixed_account_gets_a_token_of_its_own(
    client: httpx.Client, app_server: AppServer, index: int
) -> None:
    username = mixed_username(index)
    response = client.post(
        "/api/auth/token", data={"username": username, "password": app_server.password_of(USER)}
    )
    assert response.status_code == 200, response.text
    me = client.get("/api/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["username"] == username
    assert me.json()["is_staff"] is False


def test_a_mixed_account_logs_in_through_the_form(client: httpx.Client, app_server: AppServer) -> None:
    response = log_in(client, username=mixed_username(1), password=app_server.password_of(USER))
    assert response.status_code == 303, f"{response.status_code} {response.text[:500]}"


def test_setup_twice_leaves_the_same_rows(app_server: AppServer, client: httpx.Client) -> None:
    items_before = seeded_items_via_api(client)
    total_before = client.get("/api/items").json()["total"]
    world_before = read_random_numbers(app_server.database_url)
    hashes_before = read_password_hashes(app_server.database_url)
    run_setup(app_server.spec, env=app_server.running.env)
    assert read_random_numbers(app_server.database_url) == world_before
    assert client.get("/api/items").json()["total"] == total_before
    assert seeded_items_via_api(client) == items_before
    assert read_password_hashes(app_server.database_url) == hashes_before  # no account added or rehashed
    assert set(hashes_before) >= {ADMIN, USER, *mixed_usernames()}
