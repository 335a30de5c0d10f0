"""Every hook in hookspecs.py is documented (docs/reference/hooks.md: when, arguments, returns,
an example) and implemented by at least one test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from catchment import hookspecs

ROOT = Path(__file__).resolve().parents[3]
HOOKS = sorted(n for n in vars(hookspecs) if n.startswith("catchment_"))
DOC = (ROOT / "docs" / "reference" / "hooks.md").read_text()


def _section(name: str) -> str:
    match = re.search(rf"^## {name}\n(.*?)(?=^## |\Z)", DOC, re.M | re.S)
    assert match, f"docs/reference/hooks.md has no '## {name}' section"
    return match.group(1)


def test_the_hook_list_is_the_spec_module() -> None:
    assert len(HOOKS) == 12
    documented = re.findall(r"^## (catchment_\w+)$", DOC, re.M)
    assert sorted(documented) == HOOKS


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented(name: str) -> None:
    section = _section(name)
    for part in ("**When:**", "**Arguments:**", "**Returns:**", "```python"):
        assert part in section, f"{name}: section lacks {part}"
    assert f"def {name}(" in section  # the example implements it


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_exercised_by_a_test(name: str) -> None:
    this = Path(__file__).resolve()
    files = [p for p in (ROOT / "tests").rglob("test_*.py") if p.resolve() != this]
    implementing = [p for p in files if re.search(rf"def {name}\(", p.read_text())]
    assert implementing, f"no test implements {name}"
