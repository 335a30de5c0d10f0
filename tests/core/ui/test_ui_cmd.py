"""`catchment ui` itself: it refuses a non-loopback address without a token, names a port
that is taken, and neither `import catchment` nor the CLI imports the web stack."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from catchment.cli.main import app
from typer.testing import CliRunner

from .conftest import write_project

WEB = ("starlette", "uvicorn", "httpx", "catchment.ui")


def test_a_non_loopback_address_needs_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CATCHMENT_UI_TOKEN", raising=False)
    root = write_project(tmp_path / "p")
    result = subprocess.run(
        [sys.executable, "-m", "catchment", "ui", "--project", str(root), "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "refusing to serve the UI on 0.0.0.0 without a token" in result.stderr
    assert "CATCHMENT_UI_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_taken_port_is_one_clear_message(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["ui", "--project", str(root), "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in str(result.exception or result.output)


@pytest.mark.parametrize("code", ["import catchment", "import catchment.cli.main"])
def test_importing_catchment_or_its_cli_imports_no_web_module(code: str) -> None:
    script = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = [m for m in json.loads(out.stdout) if m.startswith(WEB)]
    assert loaded == []
