"""`catchment new adapter`: answers derived from the name, clear errors, and template updates
through copier's answers file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from catchment.cli.new_cmd import adapter_answers, render_adapter
from catchment.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "catchment", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_answers_come_from_the_name() -> None:
    assert adapter_answers("my-tool") == {
        "adapter_name": "my_tool",
        "distribution_name": "catchment-my-tool",
        "package_name": "catchment_my_tool",
    }


@pytest.mark.parametrize("name", ["MyTool", "1tool", "my tool", "tool-", "", "a/b"])
def test_invalid_names_are_refused_with_a_hint(name: str) -> None:
    with pytest.raises(ConfigError, match="invalid adapter name") as info:
        adapter_answers(name)
    assert info.value.hint is not None
    assert "lowercase letters" in info.value.hint


@pytest.mark.parametrize("name", ["builtin", "python", "class"])
def test_reserved_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="reserved"):
        adapter_answers(name)


def test_default_folder_is_catchment_name_and_options_reach_the_answers(tmp_path: Path) -> None:
    result = cli("new", "adapter", "acme", "--author", "Data Team", "--tool", "ACME", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "catchment-acme"
    assert "created catchment-acme" in result.stdout
    assert "pip install -e '.[test]'" in result.stdout
    pyproject = (out / "pyproject.toml").read_text()
    assert 'name = "catchment-acme"' in pyproject
    assert 'authors = [{ name = "Data Team"' in pyproject
    assert 'acme = "catchment_acme.hooks"' in pyproject
    assert "ACME adapter for catchment" in (out / "README.md").read_text()
    hooks = (out / "src" / "catchment_acme" / "hooks.py").read_text()
    assert 'ADAPTER_NAME = "acme"' in hooks


def test_a_non_empty_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = cli("new", "adapter", "acme", "--dir", str(target))
    assert result.returncode == 1
    assert "folder exists and is not empty" in result.stderr
    assert "hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert (target / "notes.txt").read_text() == "mine"
    assert not (target / "pyproject.toml").exists()


def test_an_invalid_name_is_one_clear_line_on_the_cli(tmp_path: Path) -> None:
    result = cli("new", "adapter", "My Tool", cwd=tmp_path)
    assert result.returncode == 1
    assert "invalid adapter name 'My Tool'" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_help_teaches_the_command() -> None:
    result = cli("new", "adapter", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for phrase in ("catchment-NAME", "conformance kit", "copier update", "--dir", "Examples"):
        assert phrase in text


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV}
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_generated_adapter_takes_template_updates(tmp_path: Path) -> None:
    """A template served from git: render v1, edit the adapter, release v2, `copier update`."""
    from copier import run_update

    template = tmp_path / "template"
    shutil.copytree(REPO / "adapter_template", template)
    _git("init", "-q", "-b", "main", cwd=template)
    _git("add", ".", cwd=template)
    _git("commit", "-qm", "v1", cwd=template)
    _git("tag", "v0.1.0", cwd=template)

    adapter = render_adapter("acme", tmp_path / "acme", template=str(template))
    answers = (adapter / ".copier-answers.yml").read_text()
    assert "_commit: v0.1.0" in answers
    readme = adapter / "README.md"
    readme.write_text(readme.read_text() + "\nOur own notes.\n")
    _git("init", "-q", "-b", "main", cwd=adapter)
    _git("add", ".", cwd=adapter)
    _git("commit", "-qm", "adapter", cwd=adapter)

    changelog = template / "template" / "CHANGELOG.md.jinja"
    changelog.write_text(changelog.read_text() + "\n- Template update: new CI matrix.\n")
    _git("commit", "-qam", "v2", cwd=template)
    _git("tag", "v0.2.0", cwd=template)

    run_update(adapter, defaults=True, overwrite=True, quiet=True)
    assert "Template update: new CI matrix." in (adapter / "CHANGELOG.md").read_text()
    assert "Our own notes." in readme.read_text()
    assert "_commit: v0.2.0" in (adapter / ".copier-answers.yml").read_text()
