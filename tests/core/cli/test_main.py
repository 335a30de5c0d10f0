"""`catchment --help` and each command's `--help` read as prose: Rich wraps each paragraph to
the terminal once, instead of keeping the line breaks of the source's docstrings."""

from __future__ import annotations

from pathlib import Path

from catchment.cli.main import app, selection_hint, unwrap_help
from catchment.testing import run_cli
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


def test_a_group_help_keeps_its_examples_indented() -> None:
    result = CliRunner().invoke(app, ["runs", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    example = next(line for line in lines if "catchment runs list" in line)
    summary = next(line for line in lines if "Inspect recorded runs" in line)
    assert len(example) - len(example.lstrip()) > len(summary) - len(summary.lstrip())
    assert "catchment runs COMMAND --help" in result.stdout


def test_a_bare_word_after_a_selecting_command_gets_a_hint() -> None:
    assert selection_hint(["materialize", "orders"]) == (
        "hint: to select assets, use -s: `catchment materialize -s 'orders'`"
    )
    assert selection_hint(["assets", "list", "raw", "marts"]) == (
        "hint: to select assets, use -s: `catchment assets list -s 'raw marts'`"
    )
    assert selection_hint(["assets", "show", "orders", "extra"]) is None  # takes an argument
    assert selection_hint(["materialize", "orders", "-w", "2"]) == (
        "hint: to select assets, use -s: `catchment materialize -s 'orders'`"
    )
    assert selection_hint(["materialize", "--bogus"]) is None
    assert selection_hint(["runs", "list", "x"]) is None  # selects nothing


def test_the_cli_prints_the_hint_under_the_usage_error(tmp_path: Path) -> None:
    done = run_cli(["materialize", "orders"], cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert "unexpected extra argument" in done.stderr
    assert "catchment materialize -s 'orders'" in done.stderr
