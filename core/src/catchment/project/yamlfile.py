"""YAML loading that remembers where each key is, so errors can say ``catchment.yaml:12``.

Only YAML's safe subset is read (no Python tags). Duplicate keys are errors, not silently the
last one wins. A syntax error is a ``ConfigError`` naming ``file:line:column``.

Limits, so a hostile or broken file fails fast instead of eating memory: a document is at most
``CATCHMENT_YAML_MAX_BYTES`` (default 32 MiB), and aliases may not expand it past
``MAX_EXPANDED_NODES`` nodes when that is more than ``MAX_ALIAS_RATIO`` times the nodes it
really has (a "billion laughs" document is refused; anchors used as templates are fine).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from catchment.errors import ConfigError

Path_ = tuple[str | int, ...]

# libyaml's parser when PyYAML has it (about 10x faster on big projects), same nodes and marks
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_BYTES = 32 * 1024 * 1024
MAX_EXPANDED_NODES = 200_000
MAX_ALIAS_RATIO = 10


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


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Refuse a document whose aliases expand it far beyond its own size (billion laughs):
    counts the expanded tree in one pass over the real nodes (memoised per node)."""
    sizes: dict[int, int] = {}
    real = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes and not done:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                children += [k, v]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if not done:
            sizes[id(node)] = -1  # in progress: meeting it again below is a recursive alias
            real += 1
            stack.append((node, True))
            for child in children:
                if sizes.get(id(child)) == -1:
                    raise ConfigError(
                        "invalid YAML: an alias refers to a node that contains it",
                        where=f"{file}:{child.start_mark.line + 1}",
                        hint="remove the recursive alias",
                    )
                if id(child) not in sizes:
                    stack.append((child, False))
            continue
        sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
        expanded = sizes[id(node)]
        if expanded > MAX_EXPANDED_NODES and expanded > MAX_ALIAS_RATIO * real:
            raise ConfigError(
                f"YAML aliases expand the document to more than {MAX_EXPANDED_NODES:,} nodes",
                where=f"{file}:{node.start_mark.line + 1}",
                hint="aliases (*name) that repeat other aliases multiply; write the values out "
                "or use fewer levels",
            )


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
        loader = _LOADER(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, name, text) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(file=file, data=None, display=name)
        _check_expansion(node, name)
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
    limit = int(os.environ.get("CATCHMENT_YAML_MAX_BYTES") or MAX_BYTES)
    try:
        size = file.stat().st_size
    except OSError:
        size = 0
    if size > limit:
        raise ConfigError(
            f"the file is {size:,} bytes, more than the limit of {limit:,}",
            where=name,
            hint="split the project, or raise CATCHMENT_YAML_MAX_BYTES",
        )
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
