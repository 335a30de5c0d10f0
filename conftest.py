"""Test-wide isolation: every test starts with a fresh plugin registry.

The registry is scanned once per process and cached, by design; a test that changes
``CATCHMENT_ADAPTERS`` or installs a fake adapter must not leak that into the next test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _fresh_plugin_registry() -> Iterator[None]:
    from catchment.plugins import reset_registry

    reset_registry()
    yield
    reset_registry()
