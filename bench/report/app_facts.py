"""Facts about an app's code and packages, from its files and the installed distributions: lines of code per
feature, the distributions a set of packages pulls in, and their versions."""

from __future__ import annotations

import ast
import importlib.metadata
import io
import tokenize
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# ---- lines of code -----------------------------------------------------------------------------------------


def _docstring_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            value = first.value if isinstance(first, ast.Expr) else None
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def count_code_lines(text: str, *, suffix: str) -> int:
    """Return the lines that hold code: not blank, not only a comment, and (Python) not a docstring."""
    if suffix == ".py":
        try:
            skipped = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
            tokens = tokenize.generate_tokens(io.StringIO(text).readline)
            code = {line for token in tokens if token.type not in skipped for line in _token_lines(token)}
            return len(code - _docstring_lines(ast.parse(text)) - {0})
        except (SyntaxError, tokenize.TokenError):
            pass
    comments = (("#", ""), ("{#", "#}"), ("<!--", "-->"))
    count = 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not any(stripped.startswith(a) and stripped.endswith(b) for a, b in comments):
            count += 1
    return count


def _token_lines(token: tokenize.TokenInfo) -> range:
    if token.type == tokenize.ENDMARKER:
        return range(0)
    return range(token.start[0], token.end[0] + 1)


def feature_lines(directory: Path, paths: Iterable[str]) -> tuple[int, list[str]]:
    """Return the lines of code in these app-relative paths (a folder: all its files) and the missing ones."""
    total, missing = 0, []
    for relative in paths:
        path = directory / relative
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        if not path.exists():
            missing.append(relative)
            continue
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            total += count_code_lines(file.read_text(encoding="utf-8", errors="replace"), suffix=file.suffix)
    return total, missing


# ---- packages and dependencies -----------------------------------------------------------------------------

RequiresLookup = Callable[[str], list[str] | None]  # distribution -> its requirement strings, None if absent


def installed_requirements(name: str) -> list[str] | None:
    """Return the requirement strings of an installed distribution, or None when it is not installed."""
    try:
        return importlib.metadata.requires(name) or []
    except importlib.metadata.PackageNotFoundError:
        return None


def dependency_closure(
    roots: Iterable[str], *, requires: RequiresLookup = installed_requirements
) -> set[str]:
    """Return every installed distribution the roots pull in, themselves included, following extras and
    environment markers, deduplicated by canonical name."""
    seen: set[str] = set()
    pending: list[tuple[str, frozenset[str]]] = []
    for root in roots:
        requirement = Requirement(root)
        pending.append((requirement.name, frozenset(requirement.extras)))
    expanded: set[tuple[str, frozenset[str]]] = set()
    while pending:
        name, extras = pending.pop()
        key = canonicalize_name(name)
        if (key, extras) in expanded:
            continue
        expanded.add((key, extras))
        listed = requires(key)
        if listed is None:
            continue
        seen.add(key)
        for text in listed:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            marker = requirement.marker
            if marker is not None and not any(marker.evaluate({"extra": extra}) for extra in {"", *extras}):
                continue
            pending.append((requirement.name, frozenset(requirement.extras)))
    return seen


def versions_in_metadata(metadata: Mapping[str, Any]) -> dict[str, str]:
    """Return canonical name -> version from metadata.json: every "packages", "versions" or "servers" table
    (name -> version, nested at any depth) and every framework / framework_version pair."""
    found: dict[str, str] = {}

    def walk(value: Any, inside_versions: bool) -> None:
        if not isinstance(value, Mapping):
            return
        framework, version = value.get("framework"), value.get("framework_version")
        if isinstance(framework, str) and isinstance(version, str):
            found[canonicalize_name(framework)] = version
        for key, item in value.items():
            if inside_versions and isinstance(item, str):
                found[canonicalize_name(str(key))] = item
            else:
                walk(item, inside_versions or key in VERSION_TABLES)

    walk(metadata, False)
    return found


VERSION_TABLES = frozenset({"packages", "versions", "servers"})
