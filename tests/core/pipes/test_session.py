"""The orchestrator's half of a pipes exchange, fed message lines directly (no process)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from catchment.keys import AssetKey
from catchment.pipes.session import PipesSession
from catchment.results import CheckResult, MaterializeResult


def _line(method: str, **params: object) -> bytes:
    return json.dumps({"catchment_pipes": 1, "method": method, "params": params}).encode()


@pytest.mark.parametrize("name", [{}, {"check_name": None}, {"check_name": ""}])
def test_a_check_message_without_a_check_name_is_a_clear_error(
    make_context: Any, name: dict[str, Any]
) -> None:
    """A remote process (another language, a hand-written line) that leaves out the check's
    name is told which names it may use; the check then fails as not reported, saying why."""
    ctx = make_context("orders", checks=(("orders", "rows"), ("orders", "fresh")))
    session = PipesSession(ctx, label="job.py")
    assert session.handle_line(_line("materialization", asset_key="orders")) == [
        MaterializeResult(key=AssetKey("orders"))
    ]
    assert session.handle_line(_line("check", asset_key="orders", passed=True, **name)) == []
    (error,) = ctx.log.at("error")
    assert error == (
        "job.py: message line 2: check message on asset orders has no check_name, so it cannot "
        "tell which check it reports (this step's checks on orders: fresh, rows); name it, "
        "e.g. report_check('fresh', passed, asset_key='orders')"
    )
    checks = [c for c in session.finish(0) if isinstance(c, CheckResult)]
    assert [(c.check_name, c.passed) for c in checks] == [("fresh", False), ("rows", False)]
    assert all("has no check_name" in (c.description or "") for c in checks)
