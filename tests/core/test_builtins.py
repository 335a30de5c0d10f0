"""The built-in ``python`` component: which module it imports."""

from __future__ import annotations

import textwrap
from pathlib import Path

from catchment.project import load_project

from .project.conftest import make_registry

PROJECT = """
project: {name: NAME}
components:
  - {type: python, name: code, attributes: {module: MODULE, key_prefix: PREFIX}}
io_managers:
  default: {type: memory}
"""


def _project(root: Path, module: str, files: dict[str, str], prefix: str = "null") -> Path:
    root.mkdir(parents=True)
    text = PROJECT.replace("NAME", root.name).replace("MODULE", module)
    (root / "catchment.yaml").write_text(text.replace("PREFIX", prefix))
    for name, body in files.items():
        (root / name).write_text(textwrap.dedent(body))
    return root


def test_two_projects_with_the_same_module_name_each_get_their_own(tmp_path: Path) -> None:
    """A dotted module another project already imported is not reused for this one."""
    name = "same_name_assets"
    first = _project(
        tmp_path / "one",
        name,
        {f"{name}.py": "from catchment import asset\n@asset\ndef alpha():\n    return 1\n"},
    )
    second = _project(
        tmp_path / "two",
        name,
        {f"{name}.py": "from catchment import asset\n@asset\ndef beta():\n    return 2\n"},
    )
    registry = make_registry()
    keys_one = [str(k) for k in load_project(first, registry=registry).require_graph()]
    keys_two = [str(k) for k in load_project(second, registry=registry).require_graph()]
    keys_one_again = [str(k) for k in load_project(first, registry=registry).require_graph()]
    assert (keys_one, keys_two, keys_one_again) == (["alpha"], ["beta"], ["alpha"])
