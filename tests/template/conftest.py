"""What the template tests share: an adapter freshly rendered from the template."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.cli.new_cmd import render_adapter

REPO = Path(__file__).resolve().parents[2]
ADAPTERS = sorted(p.name for p in (REPO / "adapters").iterdir() if (p / "pyproject.toml").is_file())


def package_of(root: Path) -> Path:
    """The import package folder of the adapter distribution at ``root``."""
    (package,) = (root / "src").glob("catchment_*/")
    return package


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An adapter rendered from the template with the real renderer."""
    return render_adapter("acme", tmp_path_factory.mktemp("rendered") / "catchment-acme")
