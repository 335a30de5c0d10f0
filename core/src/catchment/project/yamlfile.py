"""YAML loading that remembers where each key is, so errors can say ``catchment.yaml:12``.

Only YAML's safe subset is read (no Python tags). Duplicate keys are errors, not silently the
last one wins. A syntax error is a ``ConfigError`` naming ``file:line:column``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from catchment.errors import ConfigError

Path_ = tuple[str | int, ...]


@dataclass
class Located:
    """A loaded YAML document and the line of every key / list item in it."""

    file: Path
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    display: str = ""

    def line_of(self, path: Sequence[str | int]) -> int:
        """The line of the deepest existing prefix of ``path`` (1 if none)."""
        p = tuple(path)
        while p:
            line = self.lines.get(p)
            if line is not None:
                return line
            p = p[:-1]
        return self.lines.get((), 1)

    def where(self, path: Sequence[str | int] = ()) -> str:
        """``file:line`` of ``path``."""
        return f"{self.display or self.file}:{self.line_of(path)}"


def field_path(path: Iterable[str | int]) -> str:
    """``components[0].attributes.port`` for ``("components", 0, "attributes", "port")``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _index(
    node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str, seen_nodes: set[int]
) -> None:
    if id(node) in seen_nodes:  # an alias: indexed where its anchor is (no exponential walk)
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            if key == "<<":
                continue
            if key in seen:
                mark = key_node.start_mark
                raise ConfigError(
                    f"duplicate key {key!r}",
                    where=f"{file}:{mark.line + 1}:{mark.column + 1}",
                    hint="each key may appear once in a mapping; remove or rename one",
                )
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _index(value_node, (*path, key), lines, file, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _index(item, (*path, i), lines, file, seen_nodes)


def _yaml_error(exc: yaml.YAMLError, file: str, text: str = "") -> ConfigError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None and mark is not None and context_mark != mark:
        context = f"{context} started at line {context_mark.line + 1}"
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    if mark is not None:
        where = f"{file}:{mark.line + 1}:{mark.column + 1}"
    elif isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        where = f"{file}:{before.count(chr(10)) + 1}:{len(before) - before.rfind(chr(10))}"
        message = f"invalid YAML: character #x{exc.character:04x}: {exc.reason}"
    else:
        where = file
    return ConfigError(message, where=where, hint="fix the YAML syntax at that position")


def load_yaml_text(text: str, file: Path, display: str | None = None) -> Located:
    """Parse one YAML document from ``text``, remembering key lines."""
    name = display or str(file)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, name, text) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(file=file, data=None, display=name)
        lines: dict[Path_, int] = {(): node.start_mark.line + 1}
        _index(node, (), lines, name, set())
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, name, text) from None
    except RecursionError:
        raise ConfigError(
            "invalid YAML: nested too deeply", where=name, hint="simplify the document"
        ) from None
    finally:
        loader.dispose()
    return Located(file=file, data=data, lines=lines, display=name)


def load_yaml(file: Path, display: str | None = None) -> Located:
    """Read and parse ``file``; errors name the file (and line/column when known)."""
    name = display or str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "file not found", where=name, hint="run `catchment new project NAME` or pass the folder"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text (byte {exc.start})", where=name, hint="save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", where=name) from None
    return load_yaml_text(text, file, display=name)
