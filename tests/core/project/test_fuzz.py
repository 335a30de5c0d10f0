"""Fuzz load_project with random text, random YAML documents and random component attributes:
it returns a Project (with problems) or raises ConfigError, never anything else."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from catchment.errors import CatchmentError
from catchment.project import Project, load_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import make_registry

REGISTRY = make_registry()
MODULE = "from catchment import asset\n\n@asset\ndef fuzzed():\n    return 1\n"
SETTINGS = settings(
    max_examples=int(os.environ.get("CATCHMENT_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["{{ env('HOME') }}", "{{ nope }}", "{{ 1 +", "{{ env('X', 2) }}", "{%"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
modules = st.one_of(
    st.just("m.py"),
    st.just("missing.py"),
    st.from_regex(r"zz_fuzz_[a-z]{0,4}", fullmatch=True),
    values,
)
attributes = st.one_of(
    values,
    st.fixed_dictionaries(
        {"module": modules},
        optional={"group": values, "key_prefix": values, "server": values, "tables": values},
    ),
)
good_components = st.fixed_dictionaries(
    {
        "type": st.just("python"),
        "name": st.sampled_from(["a", "b"]),
        "attributes": st.fixed_dictionaries(
            {"module": st.just("m.py")},
            optional={"group": st.from_regex(r"[a-z]{1,5}", fullmatch=True), "key_prefix": values},
        ),
    }
)
random_components = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["python", "typed", "explodes", "wrong_return", "dbt", ""])
            | values,
            "name": st.sampled_from(["a", "b", "bad name", ""]) | values,
            "attributes": attributes,
        },
    ),
    max_size=4,
)
components = st.builds(
    lambda good, rest: [*good, *rest], st.lists(good_components, max_size=2), random_components
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "project": st.fixed_dictionaries({"name": values}) | values,
        "defaults": st.fixed_dictionaries({}, optional={"warehouse": values, "storage": values})
        | values,
        "components": components | values,
        "resources": st.dictionaries(st.text(max_size=5), values, max_size=2) | values,
        "io_managers": st.dictionaries(
            st.sampled_from(["default", "x"]),
            st.fixed_dictionaries(
                {"type": st.sampled_from(["memory", "duckdb", "nope"]) | values},
                optional={"config": values},
            ),
            max_size=2,
        )
        | values,
        "extra": values,
    },
)


def _load(text: str) -> Project | None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "catchment.yaml").write_text(text, encoding="utf-8")
        (root / "m.py").write_text(MODULE)
        try:
            project = load_project(root, registry=REGISTRY)
        except CatchmentError as exc:
            assert exc.where, exc  # noqa: PT017 - every error says where
            return None
        for p in project.problems:
            assert p.where
            assert p.message
        return project


@SETTINGS
@given(st.text(max_size=200))
def test_random_text_never_escapes(text: str) -> None:
    _load(text)


@SETTINGS
@given(values)
def test_random_yaml_documents_never_escape(doc: Any) -> None:
    _load(yaml.safe_dump(doc))


@SETTINGS
@given(documents)
def test_random_project_files_never_escape(doc: dict[str, Any]) -> None:
    project = _load(yaml.safe_dump(doc, sort_keys=False))
    if project is not None and project.graph is not None:
        assert all(k in project.graph.specs for k in project.graph)
