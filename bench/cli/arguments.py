"""What every command shares: the terminal, SIGTERM as an exception, argparse types."""

from __future__ import annotations

import argparse
import logging
import signal
from types import FrameType

from bench.config import discover_apps
from bench.terminal import make_console

console = make_console(stderr=True)
log = logging.getLogger("bench")

SubParsers = argparse._SubParsersAction


class Stop(BaseException):
    """Raised in the main thread on SIGTERM so that every context manager cleans up.

    A BaseException, like KeyboardInterrupt: no `except Exception` on the way may swallow it.
    """


def raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1")
    return value


def cpu_set(text: str) -> set[int]:
    """argparse type: a CPU list such as '0' or '0,2-3'."""
    cpus: set[int] = set()
    try:
        for part in text.split(","):
            low, _, high = part.partition("-")
            cpus.update(range(int(low), int(high or low) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a CPU list like 0 or 0,2-3") from None
    return cpus


def comma_list(text: str) -> list[str]:
    """argparse type: 'a,b,c' -> ['a', 'b', 'c']."""
    return [part.strip() for part in text.split(",") if part.strip()]


def positive_ints(text: str) -> list[int]:
    """argparse type: '8,32,128' -> [8, 32, 128]."""
    return [positive_int(part) for part in comma_list(text)]


def positive_float(text: str) -> float:
    """argparse type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not above 0")
    return value


def positive_floats(text: str) -> list[float]:
    """argparse type: '0.25,0.5,1' -> [0.25, 0.5, 1.0]; 'none' -> [] (switches a profile's list off)."""
    if text.strip().lower() == "none":
        return []
    return [positive_float(part) for part in comma_list(text)]


def fraction(text: str) -> float:
    """argparse type: a fraction written 0.1 or 10%."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction like 0.1 or 10%") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1 (0% and 100%)")
    return value


def add_app_server_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that choose an app and how it is served (serve and ui share them)."""
    parser.add_argument("--app", required=True, help=f"one of: {', '.join(discover_apps()) or 'none yet'}")
    parser.add_argument("--server", help="server variant from the app's app.toml (default: its default)")
    parser.add_argument(
        "--db",
        default="sqlite",
        help="sqlite (default), postgres (a throw-away local cluster) or a DATABASE_URL",
    )
    parser.add_argument("--workers", type=positive_int, default=1, help="server worker processes (default 1)")
    parser.add_argument(
        "--threads", type=positive_int, default=8, help="threads per worker, for threaded servers (default 8)"
    )
