"""``catchment.redact`` hides passwords in every URL and DSN shape; every CLI command, run
against a project whose run store URL carries a password, never prints that password (with
and without CATCHMENT_DEBUG)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from catchment import redact
from catchment.hookspecs import SDK_MODULES
from catchment.secrets import url_secrets

SECRET = "Secret123"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PORT = _free_port()  # nothing listens: PostgreSQL URLs fail fast, after libpq parsed them

SHAPES = {
    "libpq key=value": f"host=127.0.0.1 port={PORT} user=postgres password=Super{SECRET}",
    "libpq quoted": f"host=127.0.0.1 port={PORT} password='Super {SECRET}' dbname=x",
    "userinfo": f"postgresql://postgres:Super{SECRET}@127.0.0.1:{PORT}/db",
    "@ in password": f"postgresql://postgres:Super@{SECRET}@127.0.0.1:{PORT}/db",
    "percent-encoded @": f"postgresql://postgres:Super%40{SECRET}@127.0.0.1:{PORT}/db",
    "query password": f"postgresql://postgres@127.0.0.1:{PORT}/db?password=Super{SECRET}",
    "query sslpassword": f"postgresql://u@127.0.0.1:{PORT}/db?sslmode=disable&sslpassword={SECRET}",
    "unsupported scheme": f"mysql://root:Super{SECRET}@127.0.0.1/db",
    "unparseable port": f"postgresql://postgres:Super{SECRET}@127.0.0.1:port/db",
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_redact_hides_the_password_of_every_shape(shape: str) -> None:
    url = SHAPES[shape]
    assert SECRET not in redact(url)
    assert "***" in redact(url)


def test_redact_hides_the_pieces_a_driver_echoes_of_a_password_with_an_at() -> None:
    misparsed = f"failed to resolve host '{SECRET}@127.0.0.1'"  # libpq splits at the first @
    assert redact(misparsed, urls=[SHAPES["@ in password"]]) == (
        "failed to resolve host '***@127.0.0.1'"
    )


def test_redact_keeps_what_is_no_secret() -> None:
    for text in ("sqlite:///home/ana/runs.db", "postgresql://ana@db/runs?schema=ci", "a=b c"):
        assert redact(text) == text
    assert redact("boom hunter22 boom", secrets=["hunter22"]) == "boom *** boom"
    assert url_secrets("duckdb:///tmp/x.duckdb") == set()


def test_redact_is_part_of_the_adapter_sdk() -> None:
    import catchment.secrets

    assert "catchment.secrets" in SDK_MODULES
    assert "redact" in catchment.secrets.__all__


PROJECT = """\
project: {name: leaky}
defaults:
  storage: "{{ env('CATCHMENT_STORAGE_URL') }}"
components:
  - type: python
    name: core
    attributes: {module: assets.py}
"""

COMMANDS = [
    ["check"],
    ["plugins"],
    ["materialize"],
    ["materialize", "--allow-broken"],
    ["plan"],
    ["plan", "--allow-broken"],
    ["apply", "--allow-broken"],
    ["runs", "list"],
    ["runs", "show", "abc"],
    ["runs", "retry", "abc", "--allow-broken"],
    ["runs", "execute", "abc"],
    ["assets", "list"],
    ["assets", "show", "one"],
    ["graph"],
    ["ticks"],
    ["schedules", "list"],
    ["sensors", "list"],
    ["partitions", "list", "p"],
    ["automation", "list"],
    ["automation", "evaluate"],
    ["daemon", "--once"],
]


def _run(args: list[str], capfd: pytest.CaptureFixture[str]) -> str:
    from catchment.cli.main import main

    argv = sys.argv
    sys.argv = ["catchment", *args]
    try:
        main()
    except SystemExit:
        pass
    except BaseException as exc:  # with CATCHMENT_DEBUG the error propagates: print it
        import traceback

        traceback.print_exception(exc)
    finally:
        sys.argv = argv
    out, err = capfd.readouterr()
    return out + err


@pytest.mark.timeout(240)
@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_no_cli_command_prints_a_storage_password(
    shape: str,
    debug: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "catchment.yaml").write_text(PROJECT)
    (tmp_path / "assets.py").write_text(
        "from catchment import asset\n\n@asset\ndef one():\n    return 1\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CATCHMENT_STORAGE_URL", SHAPES[shape])
    if debug:
        monkeypatch.setenv("CATCHMENT_DEBUG", "1")
    else:
        monkeypatch.delenv("CATCHMENT_DEBUG", raising=False)
    leaks = {}
    for command in COMMANDS:
        output = _run(command, capfd)
        if SECRET in output:
            leaks[" ".join(command)] = output
    assert not leaks, leaks


def test_a_load_problem_never_carries_a_password() -> None:
    from catchment.project import Problem

    problem = Problem("component", "catchment.yaml:3", f"cannot reach {SHAPES['userinfo']}")
    assert SECRET not in str(problem)
    assert "postgres:***@" in problem.message
