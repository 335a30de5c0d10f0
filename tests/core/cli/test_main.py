"""`catchment --help` and each command's `--help` read as prose: Rich wraps each paragraph to
the terminal once, instead of keeping the line breaks of the source's docstrings."""

from __future__ import annotations

from catchment.cli.main import app, unwrap_help
from typer.testing import CliRunner


def test_command_summaries_are_not_broken_at_source_line_ends() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "what each sensor, schedule and automation evaluation decided" in result.stdout


def test_a_command_help_paragraph_wraps_as_one() -> None:
    result = CliRunner().invoke(app, ["daemon", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "waits and takes over when the first stops" in result.stdout


def test_examples_and_lists_keep_their_lines() -> None:
    text = "Say what.\n\nMore words\nacross lines.\n\n  catchment a\n  catchment b\n\n- one\n- two"
    assert unwrap_help(text) == (
        "Say what.\n\nMore words across lines.\n\n  catchment a\n  catchment b\n\n- one\n- two"
    )
