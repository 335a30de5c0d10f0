"""Resource limits of the project file: a billion-laughs document fails fast with a clear
message, an oversized file is refused before it is read, and templates see only the
documented globals (no ``lipsum``/``range``) and cannot build huge values."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment.project.templating import render_with
from catchment.project.yamlfile import Located, load_yaml, load_yaml_text


def _laughs(levels: int) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for i in range(levels):
        name = chr(ord("b") + i)
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text


@pytest.mark.parametrize("levels", [7, 9])
def test_billion_laughs_fails_fast(levels: int) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match="aliases expand the document") as info:
        load_yaml_text(_laughs(levels), Path("catchment.yaml"))
    assert time.monotonic() - started < 10.0  # unbounded, this takes minutes
    assert info.value.where is not None
    assert info.value.where.startswith("catchment.yaml:")


def test_anchors_used_as_templates_still_load() -> None:
    text = "base: &base {type: python, attributes: {module: a.py}}\n" + "".join(
        f"c{i}: *base\n" for i in range(500)
    )
    assert len(load_yaml_text(text, Path("c.yaml")).data) == 501


def test_a_recursive_alias_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="refers to a node that contains it"):
        load_yaml_text("a: &a [1, *a]\n", Path("c.yaml"))


def test_an_oversized_file_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "catchment.yaml"
    file.write_text("project: {name: big}\n" + "# padding\n" * 2000)
    monkeypatch.setenv("CATCHMENT_YAML_MAX_BYTES", "10000")
    with pytest.raises(ConfigError, match="more than the limit of 10,000") as info:
        load_yaml(file)
    assert info.value.hint is not None
    assert "CATCHMENT_YAML_MAX_BYTES" in info.value.hint
    monkeypatch.delenv("CATCHMENT_YAML_MAX_BYTES")
    assert load_yaml(file).data == {"project": {"name": "big"}}


def _render(text: str) -> object:
    render = render_with(Located(file=Path("catchment.yaml"), data={}), Path("/srv/p"))
    return render(text, ("defaults", "storage"))


@pytest.mark.parametrize(
    "template",
    [
        "{{ lipsum(10**6) }}",
        "{{ range(10**6) | list }}",
        "{{ dict(a=1) }}",
        "{{ cycler(1, 2) }}",
        "{{ namespace() }}",
        "{{ 'x' * 10**8 }}",
        "{{ [1] * 10**8 }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ 'x' | center(10**9) }}",
        "{{ 10 ** 1000000 }}",
    ],
)
def test_templates_cannot_reach_undocumented_globals_or_build_huge_values(template: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:
        _render(template)
    assert time.monotonic() - started < 10.0  # unbounded, this takes minutes
    assert info.value.where == "catchment.yaml:1"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ project_root }}", "/srv/p"),
        ("{{ env('CATCHMENT_TEST_NOT_SET', 'x') | upper }}", "X"),
        ("{{ 'ab' * 2 }}", "abab"),
        ("{{ 'run-%s' % 'a' }}", "run-a"),
        ("{{ automation_condition.eager() }}", "eager()"),
    ],
)
def test_the_documented_globals_still_work(template: str, expected: str) -> None:
    assert _render(template) == expected


def test_today_yesterday_now_are_there() -> None:
    assert len(str(_render("{{ today() }}{{ yesterday() }}{{ now('%Y') }}"))) == 24
