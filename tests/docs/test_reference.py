"""The generated reference covers every CLI command and component type, and the site includes it."""

from __future__ import annotations

import re
from pathlib import Path

from catchment import docgen
from catchment.plugins import get_registry

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_cli_command_is_in_the_cli_reference() -> None:
    commands = docgen.cli_commands()
    rendered = docgen.render_cli_reference()
    assert {"catchment materialize", "catchment plan", "catchment runs show"} <= set(commands)
    for path, cmd in commands.items():
        assert f"`{path}`" in rendered, f"{path} missing from the CLI reference"
        for param in cmd.params:
            if param.param_type_name == "option" and not param.hidden:
                assert f"`{param.opts[0]}`" in rendered, f"{path} {param.opts[0]} undocumented"


def test_every_component_type_is_in_the_component_reference() -> None:
    types = get_registry().component_types
    assert "python" in types
    rendered = docgen.render_component_reference()
    for name, component in types.items():
        assert f"`type: {name}`" in rendered
        for field_name, field in component.attributes.model_fields.items():
            yaml_name = field.alias or field_name  # what users write in catchment.yaml
            assert f"| `{yaml_name}` |" in rendered, f"{name}.{yaml_name} missing"


def test_reference_pages_include_the_generated_sections() -> None:
    assert "<!-- catchment:cli -->" in (DOCS / "reference" / "cli.md").read_text()
    assert "<!-- catchment:components -->" in (DOCS / "reference" / "components.md").read_text()
    for page in (DOCS / "adapters").glob("*.md"):
        if page.name == "index.md":
            continue
        if "<!-- catchment:no-component -->" in page.read_text():  # life-cycle hooks only
            assert page.stem not in get_registry().component_types, f"{page} has a component"
            continue
        marker = re.search(r"<!-- catchment:component (\S+) -->", page.read_text())
        assert marker, f"{page} lacks its attribute table"
        assert marker.group(1) == page.stem, f"{page} shows another adapter's table"


def test_unknown_component_type_renders_a_visible_warning() -> None:
    assert "is not installed here" in docgen.render_component_reference("no-such-type")
