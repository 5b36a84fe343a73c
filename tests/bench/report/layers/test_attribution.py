"""bench/report/layers: the layer table, the parsing of collapsed stacks and the attribution, on synthetic
stacks (no profiler, no server)."""

from __future__ import annotations

import pytest

from bench.errors import ConfigError
from bench.report.layers.attribution import attribute, is_idle, layer_of_stack
from bench.report.layers.stacks import module_of, parse_frame, parse_stacks
from bench.report.layers.table import load_layer_table

SITE = "/v/.venv/lib/python3.11/site-packages"
STDLIB = "/py/lib/python3.11"
APP = "/checkout/apps/flask_app"

WORKER = f'process 10:"python -m gunicorn app";Thread.run ({STDLIB}/threading.py:971)'
HANDLE = f"{WORKER};ThreadWorker.handle ({SITE}/gunicorn/workers/gthread.py:514)"
FLASK = f"{HANDLE};Flask.wsgi_app ({SITE}/flask/app.py:1500)"
STACKS = [
    # 4 samples in SQLAlchemy below the app's view, the innermost known frame being the ORM's
    f"{FLASK};read_db ({APP}/performance.py:20);Session.execute ({SITE}/sqlalchemy/orm/session.py:2300) 4",
    # 1 deeper in SQLAlchemy: Session.execute's total share counts it, its self share does not
    f"{FLASK};read_db ({APP}/performance.py:20);Session.execute ({SITE}/sqlalchemy/orm/session.py:2300);"
    f"DefaultDialect.do_execute ({SITE}/sqlalchemy/engine/default.py:900) 1",
    # 2 in json.dumps under Flask's JSON provider: the standard library's json is the serialization layer
    f"{FLASK};DefaultJSONProvider.dumps ({SITE}/flask/json/provider.py:179);"
    f"dumps ({STDLIB}/json/__init__.py:231) 2",
    # 3 in the app's own code (the injected busy loop)
    f"{FLASK};_inject_cpu.<locals>.burn_cpu ({APP}/__init__.py:88) 3",
    # 1 in the server's own request parsing
    f"{HANDLE};Parser.__next__ ({SITE}/gunicorn/http/parser.py:107) 1",
    # 1 with no known package: the rest
    f'process 10:"python";<module> ({STDLIB}/runpy.py:88);something (/elsewhere/tool.py:3) 1',
    # 5 waiting on the GIL in C below the last Python frame: idle, left out
    f"{HANDLE};sock_recv (/py/lib/libpython3.11.so.1.0);take_gil (/py/lib/libpython3.11.so.1.0);"
    "pthread_cond_timedwait (/usr/lib/libc.so.6) 5",
]


@pytest.fixture(scope="module")
def table():  # type: ignore[no-untyped-def]
    return load_layer_table()


def test_module_of_a_frame_is_its_dotted_name_from_packages_stdlib_or_apps() -> None:
    assert module_of(f"{SITE}/flask/app.py") == ("flask.app", True)
    assert module_of(f"{SITE}/sqlalchemy/orm/__init__.py") == ("sqlalchemy.orm", True)
    assert module_of(f"{STDLIB}/json/encoder.py") == ("json.encoder", True)
    assert module_of(f"{APP}/performance.py") == ("apps.flask_app.performance", True)
    assert module_of("/usr/lib/x86_64-linux-gnu/libc.so.6") == ("native:libc.so.6", False)
    assert module_of("/tmp/build/Modules/_json.c") == ("native:_json.c", False)


def test_parse_frame_splits_function_and_file_and_keeps_unresolved_addresses() -> None:
    frame = parse_frame(f"Flask.wsgi_app ({SITE}/flask/app.py:1500)")
    assert (frame.function, frame.module, frame.python) == ("Flask.wsgi_app", "flask.app", True)
    address = parse_frame("0x7f8b9b64524a (/usr/lib/libc.so.6)")
    assert (address.module, address.python) == ("native:libc.so.6", False)


def test_parse_stacks_drops_process_frames_and_keeps_counts() -> None:
    stacks = parse_stacks([STACKS[0] + "\n", "not a stack line\n", "\n"])
    assert len(stacks) == 1
    assert stacks[0].count == 4
    assert [frame.function for frame in stacks[0].frames][:1] == ["Thread.run"]


def test_the_longest_prefix_wins(table) -> None:  # type: ignore[no-untyped-def]
    assert table.layer_of("django.db.models.query") == "orm"
    assert table.layer_of("django.template.base") == "templates"
    assert table.layer_of("django.core.handlers.base") == "framework"
    assert table.layer_of("rest_framework.serializers") == "validation"
    assert table.layer_of("rest_framework.views") == "framework"
    assert table.layer_of("collections") is None


def test_attribution_by_innermost_known_frame_with_idle_samples_left_out(table) -> None:  # type: ignore[no-untyped-def]
    breakdown = attribute(parse_stacks(STACKS), table)
    assert breakdown.idle == 5
    assert breakdown.busy == 12
    assert breakdown.layers == {"server": 1, "validation": 2, "orm": 5, "app": 3, "rest": 1}
    assert list(breakdown.layers) == ["server", "validation", "orm", "app", "rest"]  # the table's order
    assert breakdown.share("orm") == pytest.approx(5 / 12)
    assert breakdown.share("templates") == 0
    assert sum(breakdown.share(layer) for layer in breakdown.layers) == pytest.approx(1.0)


def test_top_functions_have_self_and_total_shares(table) -> None:  # type: ignore[no-untyped-def]
    breakdown = attribute(parse_stacks(STACKS), table)
    hottest = breakdown.functions[0]
    assert hottest.name == "Session.execute (sqlalchemy.orm.session)"
    assert hottest.layer == "orm"
    assert (hottest.self_share, hottest.total_share) == (pytest.approx(4 / 12), pytest.approx(5 / 12))
    names = [function.name for function in attribute(parse_stacks(STACKS), table, top=3).functions]
    assert names == [
        "Session.execute (sqlalchemy.orm.session)",
        "_inject_cpu.<locals>.burn_cpu (apps.flask_app)",
        "dumps (json)",
    ]
    every = attribute(parse_stacks(STACKS), table, top=20).functions
    assert "Flask.wsgi_app (flask.app)" not in {function.name for function in every}  # never innermost


def test_idle_only_looks_below_the_last_python_frame(table) -> None:  # type: ignore[no-untyped-def]
    [waiting, working] = parse_stacks(
        [
            f"{HANDLE};sock_recv (/py/lib/libpython3.11.so.1.0);epoll_wait (/usr/lib/libc.so.6) 1",
            f"{HANDLE};select ({STDLIB}/selectors.py:451);"
            f"Parser.__next__ ({SITE}/gunicorn/http/parser.py:1) 1",
        ]
    )
    assert is_idle(waiting.frames, table)
    assert not is_idle(working.frames, table)  # a Python frame named select is no C wait
    assert layer_of_stack(working.frames, table) == "server"


def test_an_app_overrides_the_table(table) -> None:  # type: ignore[no-untyped-def]
    own = table.with_app({"auth": ["apps.flask_app.auth"]})
    assert own.layer_of("apps.flask_app.auth") == "auth"
    assert own.layer_of("apps.flask_app.performance") == "app"
    assert table.layer_of("apps.flask_app.auth") == "app"  # the shared table is unchanged
    with pytest.raises(ConfigError, match="unknown layer"):
        table.with_app({"network": ["socket"]})
