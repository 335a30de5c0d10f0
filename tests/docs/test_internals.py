"""docs/internals.md names real modules and objects, so the tour stays true as code moves."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "internals.md"
CORE = REPO / "core" / "src" / "catchment"
# `execution/step.py` or `execution/step.py:run_step` (a folder ends with a slash)
NAMED = re.compile(r"`((?:[a-z_]+/)*(?:[a-z_]+\.py|[a-z_]+/))(?::([A-Za-z_.]+))?`")


def test_every_module_the_page_names_exists_with_what_it_says_is_there() -> None:
    named = NAMED.findall(PAGE.read_text())
    assert len(named) > 30  # the page names a module at every stop
    for path, attribute in named:
        assert (CORE / path).exists(), f"{path} is not in core/src/catchment"
        if attribute and path.endswith(".py"):
            module = importlib.import_module("catchment." + path[:-3].replace("/", "."))
            obj: object = module
            for part in attribute.split("."):
                assert hasattr(obj, part), f"{path} has no {attribute}"
                obj = getattr(obj, part)


def test_the_page_is_in_the_site_navigation() -> None:
    assert "internals.md" in (REPO / "mkdocs.yml").read_text()
