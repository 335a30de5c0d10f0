"""MkDocs hook: expand generated-reference markers from the code at build time.

``<!-- catchment:cli -->`` becomes the CLI reference; ``<!-- catchment:components -->`` every
component type's attribute table; ``<!-- catchment:component NAME -->`` one of them;
``<!-- catchment:sdk -->`` the modules and names of the adapter SDK.
"""

from __future__ import annotations

import re
from typing import Any

from catchment import docgen

_COMPONENT = re.compile(r"<!-- catchment:component (\S+) -->")


def on_page_markdown(markdown: str, **_: Any) -> str:
    if "<!-- catchment:cli -->" in markdown:
        markdown = markdown.replace("<!-- catchment:cli -->", docgen.render_cli_reference())
    if "<!-- catchment:components -->" in markdown:
        markdown = markdown.replace(
            "<!-- catchment:components -->", docgen.render_component_reference()
        )
    if "<!-- catchment:sdk -->" in markdown:
        markdown = markdown.replace("<!-- catchment:sdk -->", docgen.render_sdk_reference())
    return _COMPONENT.sub(lambda m: docgen.render_component_reference(m.group(1)), markdown)
