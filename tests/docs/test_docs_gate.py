"""The docs step of scripts/test.sh fails on a warning: a copy of the docs with one planted
broken link makes scripts/docs.sh (what test.sh runs) exit non-zero naming the link. With
``--quiet`` the same build passed, so the gate could never fail."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]


def test_the_readme_test_command_builds_the_docs_through_the_gate() -> None:
    script = (ROOT / "scripts" / "test.sh").read_text()
    assert "bash scripts/docs.sh" in script
    gate = (ROOT / "scripts" / "docs.sh").read_text()
    command = next(line for line in gate.splitlines() if "mkdocs build" in line)
    assert "--strict" in command
    assert "--quiet" not in command
    assert "-q " not in command


def _copy_site(tmp_path: Path) -> Path:
    """mkdocs.yml and docs/ copied to ``tmp_path``, with paths that still reach the sources."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    text = (ROOT / "mkdocs.yml").read_text()
    text = text.replace("paths: [core/src]", f"paths: [{ROOT / 'core' / 'src'}]")
    text = text.replace("base_path: [.]", f"base_path: [{ROOT}]")
    config = tmp_path / "mkdocs.yml"
    config.write_text(text)
    assert yaml.safe_load(text.replace("!!python/name:", "")) is not None
    return config


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_planted_broken_link_fails_the_docs_step(tmp_path: Path) -> None:
    config = _copy_site(tmp_path)
    page = tmp_path / "docs" / "reliability.md"
    page.write_text(page.read_text() + "\nSee [the missing page](no-such-page.md).\n")
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "docs.sh"), str(config)],
        cwd=ROOT,
        env={**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=220,
    )
    assert done.returncode != 0, done.stdout + done.stderr
    assert "no-such-page.md" in done.stdout + done.stderr
