"""A tiny stand-in app for the runner's tests: the contract's performance endpoints on the standard library.

`python fake_app.py setup` creates and seeds the World table in DATABASE_URL (SQLite); `python fake_app.py
serve --host H --port P` serves /health, /plaintext, /json, /db, /queries, /updates and /io with keep-alive.
`--die-after-requests N` makes the server exit once it has answered N requests besides /health (a server that
dies mid-run, at the same point however fast the machine is);
`--refuse-to-start` makes it exit at once (a server that will not start);
`--stall-ms MS` makes every request that arrives in the first MS milliseconds of each second wait until they
are over (a server that pauses once a second, like a stop-the-world collector).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from apps.seed_data import clamp_queries, world_rows  # the runner puts the repository on PYTHONPATH

NAME = os.environ.get("FAKE_APP_NAME", "fake")


def database_path() -> str:
    return os.environ["DATABASE_URL"].removeprefix("sqlite:///")


def connect() -> sqlite3.Connection:
    connection = sqlite3.connect(database_path(), timeout=30, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


def setup() -> None:
    connection = connect()
    connection.execute('CREATE TABLE IF NOT EXISTS world (id INTEGER PRIMARY KEY, "randomNumber" INTEGER)')
    if connection.execute("SELECT count(*) FROM world").fetchone()[0] == 0:
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO world VALUES (?, ?)", world_rows())
        connection.execute("COMMIT")
    connection.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    local = threading.local()
    die_after_requests: int | None = None
    answered = 0
    answered_lock = threading.Lock()
    stall_s = 0.0
    started = time.monotonic()

    def log_message(self, format: str, *args: object) -> None:  # no access log
        pass

    def db(self) -> sqlite3.Connection:
        if not hasattr(self.local, "connection"):
            self.local.connection = connect()
        connection: sqlite3.Connection = self.local.connection
        return connection

    def send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.die_after_requests is not None and self.path != "/health":
            with self.answered_lock:
                Handler.answered += 1
                if Handler.answered >= self.die_after_requests:
                    self.wfile.flush()
                    os._exit(3)

    def send_json(self, value: object) -> None:
        self.send(200, json.dumps(value).encode(), "application/json")

    def random_row(self) -> dict[str, int]:
        world_id = random.randint(1, 10_000)
        (number,) = self.db().execute("SELECT randomNumber FROM world WHERE id = ?", (world_id,)).fetchone()
        return {"id": world_id, "randomNumber": number}

    def stall(self) -> None:
        phase = (time.monotonic() - self.started) % 1.0
        if phase < self.stall_s:
            time.sleep(self.stall_s - phase)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if self.stall_s and url.path != "/health":
            self.stall()
        query = parse_qs(url.query)
        if url.path == "/health":
            self.send_json({"status": "ok", "framework": NAME})
        elif url.path == "/plaintext":
            self.send(200, b"Hello, World!", "text/plain")
        elif url.path == "/json":
            self.send_json({"message": "Hello, World!"})
        elif url.path == "/db":
            self.send_json(self.random_row())
        elif url.path == "/queries":
            count = clamp_queries(query.get("queries", [None])[0])
            self.send_json([self.random_row() for _ in range(count)])
        elif url.path == "/updates":
            count = clamp_queries(query.get("queries", [None])[0])
            rows = [self.random_row() for _ in range(count)]
            self.db().execute("BEGIN IMMEDIATE")
            for row in rows:
                row["randomNumber"] = random.randint(1, 10_000)
                self.db().execute(
                    "UPDATE world SET randomNumber = ? WHERE id = ?", (row["randomNumber"], row["id"])
                )
            self.db().execute("COMMIT")
            self.send_json(rows)
        elif url.path == "/io":
            waited = int(query.get("ms", ["50"])[0])
            time.sleep(waited / 1000)
            self.send_json({"waited_ms": waited})
        else:
            self.send(404, b"not found", "text/plain")


def serve(*, host: str, port: int, die_after_requests: int | None, stall_ms: float) -> None:
    Handler.die_after_requests = die_after_requests
    Handler.stall_s = stall_ms / 1000
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["setup", "serve"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--die-after-requests", type=int)
    parser.add_argument("--refuse-to-start", action="store_true")
    parser.add_argument("--stall-ms", type=float, default=0.0)
    args = parser.parse_args()
    if args.command == "setup":
        setup()
    elif args.refuse_to_start:
        sys.stderr.write("fake app: refusing to start, as asked\n")
        sys.exit(4)
    else:
        serve(
            host=args.host,
            port=args.port,
            die_after_requests=args.die_after_requests,
            stall_ms=args.stall_ms,
        )


if __name__ == "__main__":
    main()
