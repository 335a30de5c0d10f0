"""The run display of `materialize`, `apply` and `runs retry`: what a person sees on a terminal."""

from __future__ import annotations

import pytest
from catchment import asset, asset_check, materialize
from catchment.cli.display import RunDisplay


@asset
def brackets() -> None:
    raise ValueError("no file [/tmp/in.csv] in [bold]raw[/bold]")


def test_error_text_with_brackets_is_shown_verbatim_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages are text, not rich markup: a '[/path]' neither crashes the display nor vanishes."""
    monkeypatch.setenv("COLUMNS", "300")
    with RunDisplay(1, tty=True) as display:
        result = materialize([brackets], on_event=display.on_event, raise_on_failure=False)
    display.summary(result)
    out = capsys.readouterr().out
    # step failed + asset failed lines, and the summary table
    assert out.count("no file [/tmp/in.csv] in [bold]raw[/bold]") == 3
    assert "FAILED" in out


@asset(resources=["warehouse"])
def needs_warehouse(warehouse: object) -> None:
    return None


@pytest.mark.parametrize("tty", [True, False])
def test_a_failed_step_shows_the_hint_of_its_error(
    tty: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fix (hint) of a catchment error raised in a step is printed, not only recorded."""
    monkeypatch.setenv("COLUMNS", "300")
    with RunDisplay(1, tty=tty) as display:
        materialize([needs_warehouse], on_event=display.on_event, raise_on_failure=False)
    out = capsys.readouterr().out
    assert "resource 'warehouse' is not configured" in out
    assert "hint: add 'warehouse' under resources: in catchment.yaml" in out


@asset
def one() -> int:
    return 1


@asset_check(asset="one")
def positive(one: int) -> bool:
    return one > 0


def test_the_summary_counts_one_check_in_the_singular(capsys: pytest.CaptureFixture[str]) -> None:
    with RunDisplay(1, tty=False) as display:
        result = materialize([one, positive], on_event=display.on_event)
    display.summary(result)
    assert "1 materialized, 0 failed, 0 skipped, 1 check (0 failed)" in capsys.readouterr().out
