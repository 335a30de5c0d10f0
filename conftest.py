"""Test-wide isolation: every test starts with a fresh plugin registry, and a test that
hits its time limit leaves no process behind.

The registry is scanned once per process and cached, by design; a test that changes
``CATCHMENT_ADAPTERS`` or installs a fake adapter must not leak that into the next test.

On Linux the pytest process is made a child subreaper, so processes orphaned by a test
(a tool whose parent was killed) are re-parented to pytest rather than to init; after a test
that timed out, every process that appeared under pytest during it is killed with its group.

Sling 1.4 sometimes wedges with its DuckDB CLI (docs/reliability.md); the session judges it
wedged after ``SLING_STALL_SECONDS`` of silence with no CPU, instead of the 120 s default, so
a wedge costs seconds plus one logged rerun, not the test's time limit. Set in
``os.environ``, it reaches every test and every ``catchment`` subprocess a test starts; so does
``CATCHMENT_CACHE_DIR``, a fresh folder per test process (the adapter index and catalog caches
are exercised, never the user's own ``~/.cache/catchment``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_SUBREAPER = 36  # prctl PR_SET_CHILD_SUBREAPER
SLING_STALL_SECONDS = "20"
"""Test data is tiny: Sling and its DuckDB CLI silent and idle this long is a wedge."""


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("CATCHMENT_SLING_STALL_SECONDS", SLING_STALL_SECONDS)
    if "CATCHMENT_CACHE_DIR" not in os.environ:  # the user cache (adapter index, catalogs)
        import tempfile

        os.environ["CATCHMENT_CACHE_DIR"] = _CREATED["cache"] = tempfile.mkdtemp(
            prefix="catchment-test-cache-"
        )
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_SUBREAPER, 1, 0, 0, 0)


_CREATED: dict[str, str] = {}


def pytest_unconfigure(config: pytest.Config) -> None:
    created = _CREATED.pop("cache", None)
    if created is not None:
        import shutil

        shutil.rmtree(created, ignore_errors=True)
        os.environ.pop("CATCHMENT_CACHE_DIR", None)


def _children() -> set[int]:
    """Processes whose parent is this pytest process (Linux; empty elsewhere)."""
    me = str(os.getpid())
    out: set[int] = set()
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{me}/task"):
            with contextlib.suppress(OSError):
                out.update(
                    int(c) for c in Path(f"/proc/{me}/task/{task}/children").read_text().split()
                )
    return out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    yield
    # pytest-timeout's failure, or a subprocess.TimeoutExpired (whose text says "timed out")
    if call.excinfo is not None and (
        "Timeout" in str(call.excinfo.value) or "Timeout" in call.excinfo.typename
    ):
        item.stash[_TIMED_OUT] = True


_TIMED_OUT = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _no_leftovers_after_a_timeout(request: pytest.FixtureRequest) -> Iterator[None]:
    before = _children()
    yield
    new = _children() - before
    if request.node.stash.get(_TIMED_OUT, False):
        for pid in new:
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(OSError):
                    kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        return
    for pid in new:  # orphans re-parented here by the subreaper: reap the dead ones
        if _zombie(pid):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


@pytest.fixture(autouse=True)
def _fresh_plugin_registry() -> Iterator[None]:
    from catchment.plugins import reset_registry

    reset_registry()
    yield
    reset_registry()
