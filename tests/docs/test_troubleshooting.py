"""The troubleshooting page cannot drift from the code.

Every entry's message is marked ``<!-- message: "FRAGMENT" -->`` right before its code block.
The fragment must be in that block and still be written in the source (core/src or
adapters/*/src), or, marked ``from: pydantic``, still be what pydantic says. Every exception
class a user can meet must be named on the page.
"""

from __future__ import annotations

import ast
import builtins
import re
from functools import cache
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "troubleshooting.md"
MARKER = re.compile(r'<!-- message: "(?P<fragment>[^"]+)"(?P<pydantic> from: pydantic)? -->')
ENTRY = re.compile(r"^### (?P<title>.+?)\n(?P<body>.*?)(?=^##|\Z)", re.MULTILINE | re.DOTALL)
BLOCK = re.compile(r"```text\n(?P<text>.*?)```", re.DOTALL)
MARKED_BLOCK = re.compile(MARKER.pattern + r"\s*\n```text\n(?P<text>.*?)```", re.DOTALL)


def _source_files() -> list[Path]:
    roots = [ROOT / "core" / "src", *sorted((ROOT / "adapters").glob("*/src"))]
    return [p for r in roots for p in sorted(r.rglob("*.py")) if "__pycache__" not in p.parts]


@cache
def _source_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in _source_files())


@cache
def _pydantic_messages() -> frozenset[str]:
    """What pydantic says for a missing field, a wrong type, an unknown field."""

    class Probe(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str
        count: int = 0
        items: list[str] = []

    msgs: set[str] = set()
    for data in ({}, {"name": 3, "count": "x", "items": 1, "extra": 1}):
        try:
            Probe.model_validate(data)
        except ValidationError as exc:
            msgs.update(e["msg"] for e in exc.errors())
    return frozenset(msgs)


def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


def _marked() -> list[tuple[str, bool, str]]:
    return [(m["fragment"], bool(m["pydantic"]), m["text"]) for m in MARKED_BLOCK.finditer(_page())]


def test_the_page_has_entries_for_every_area() -> None:
    headings = set(re.findall(r"^## (.+)$", _page(), re.MULTILINE))
    for area in (
        "Project file",
        "Adapters and plugins",
        "Graph",
        "Selection",
        "Partitions",
        "Running",
        "Run storage",
        "dbt",
        "dlt",
        "Sling",
    ):
        assert area in headings, f"no '## {area}' section"
    assert len(_marked()) >= 80


def test_every_message_block_is_marked() -> None:
    """A new entry cannot skip the marker: each ```text block in an entry follows one."""
    page = _page()
    marked = {m.start("text") for m in MARKED_BLOCK.finditer(page)}
    for entry in ENTRY.finditer(page):
        for block in BLOCK.finditer(page, entry.start("body"), entry.end("body")):
            assert block.start("text") in marked, (
                f"entry {entry['title']!r}: its message block has no <!-- message: ... --> marker"
            )


@pytest.mark.parametrize(
    ("fragment", "from_pydantic", "text"), _marked(), ids=lambda v: str(v)[:40]
)
def test_message_fragment_is_shown_and_still_in_the_source(
    fragment: str, from_pydantic: bool, text: str
) -> None:
    assert fragment in text, f"the block under the marker does not show {fragment!r}"
    if from_pydantic:
        assert fragment in _pydantic_messages(), f"pydantic no longer says {fragment!r}"
    else:
        found = fragment in _source_text()
        assert found, f"{fragment!r} is no longer in core/src or adapters/*/src: update the page"


def _exception_classes() -> dict[str, Path]:
    """Public exception classes defined in the source, found by their bases (to a fixpoint)."""
    exc_names = {
        n for n, o in vars(builtins).items() if isinstance(o, type) and issubclass(o, BaseException)
    }
    classes: list[tuple[str, list[str], Path]] = []
    for path in _source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = [
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                ]
                classes.append((node.name, bases, path))
    found: dict[str, Path] = {}
    changed = True
    while changed:
        changed = False
        for name, bases, path in classes:
            if name not in found and any(b in exc_names for b in bases):
                found[name] = path
                exc_names.add(name)
                changed = True
    return {n: p for n, p in found.items() if not n.startswith("_")}


def test_every_error_class_is_named_on_the_page() -> None:
    from catchment import errors

    page = _page()
    core = {
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, errors.CatchmentError)
    }
    classes = _exception_classes()
    assert {"CatchmentError", "ConfigError", "GraphError", "StorageError", "AdapterError"} <= (
        core | set(classes)
    )
    for name in sorted(core | set(classes)):
        assert f"`{name}`" in page, (
            f"{name} ({classes.get(name, 'catchment.errors')}) is not on the page"
        )
