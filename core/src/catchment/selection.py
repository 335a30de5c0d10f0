"""The selection language every command takes (``--select``).

    key:raw/*            fnmatch glob on the key string (a bare word means key:)
    group:marts          tag:pii=true   tag:pii   kind:dbt   owner:team@x
    +sel  sel+  +sel+    all ancestors / all descendants / both, with sel itself
    2+sel  sel+1         ancestors / descendants within that many steps
    not a, a and b, a or b, ( ... ), *      (not binds tighter than and, and than or)

``parse(text)`` returns an immutable ``Selection`` tree; ``Selection.evaluate(graph)`` returns the
selected keys. Syntax errors raise ``SelectionError`` pointing at the offending token's column.
An exact value that names nothing (a key, group, tag, kind or owner no asset has) is an error
too; a glob that matches nothing selects nothing.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from catchment.errors import InvalidKeyError, SelectionError
from catchment.keys import AssetKey

if TYPE_CHECKING:
    from catchment.graph import AssetGraph

KNOWN_PREFIXES = ("key", "group", "tag", "kind", "owner", "project", "team")
_GLOB_CHARS = frozenset("*?[")
_WORD = re.compile(r"[^\s()+]+")
_DEPTH_PREFIX = re.compile(r"(\d+)\+")
_DEPTH_SUFFIX = re.compile(r"\+(\d+)(?=[\s()]|$)")
_KEYWORDS = frozenset({"and", "or", "not"})


# --------------------------------------------------------------------------- tokens
class Token(NamedTuple):
    """One lexical token: ``kind`` is atom, and, or, not, (, ), up, down or end."""

    kind: str
    text: str
    pos: int
    depth: int | None = None


def tokenize(text: str) -> list[Token]:
    """Split a selection into tokens. A ``+`` after an operand is a descendants marker
    (``sel+``, ``sel+2``); elsewhere it is an ancestors marker (``+sel``, ``2+sel``)."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        after_operand = bool(tokens) and tokens[-1].kind in ("atom", ")", "down")
        if c in "()":
            tokens.append(Token(c, c, i))
            i += 1
        elif c == "+":
            m = _DEPTH_SUFFIX.match(text, i) if after_operand else None
            if m:
                tokens.append(Token("down", m.group(0), i, int(m.group(1))))
                i = m.end()
            else:
                tokens.append(Token("down" if after_operand else "up", "+", i))
                i += 1
        else:
            m = None if after_operand else _DEPTH_PREFIX.match(text, i)
            if m:
                tokens.append(Token("up", m.group(0), i, int(m.group(1))))
                i = m.end()
                continue
            w = _WORD.match(text, i)
            assert w is not None  # c is neither space, paren nor '+'
            word = w.group(0)
            kind = word.lower() if word.lower() in _KEYWORDS else "atom"
            tokens.append(Token(kind, word, i))
            i = w.end()
    tokens.append(Token("end", "", n))
    return tokens


# --------------------------------------------------------------------------- index
class GraphIndex:
    """Attribute -> asset ids maps of one graph (built with the graph), reused by selections."""

    def __init__(self, graph: AssetGraph):
        """Wrap ``graph``; ``index_attributes`` fills the attribute maps."""
        self.graph = graph
        self._all: frozenset[int] | None = None
        self._key_strings: list[str] | None = None
        self._attrs: dict[str, dict[str, frozenset[int]]] = {}
        self._tags: dict[str, dict[str, frozenset[int]]] | None = None

    @classmethod
    def of(cls, graph: AssetGraph) -> GraphIndex:
        """The index cached on ``graph``."""
        return graph.selection_index

    @property
    def all(self) -> frozenset[int]:
        """Every non-external asset id."""
        if self._all is None:
            ext = self.graph.external_ids
            self._all = frozenset(i for i in range(len(self.graph)) if i not in ext)
        return self._all

    @property
    def key_strings(self) -> list[str]:
        """Canonical key strings, by id."""
        if self._key_strings is None:
            self._key_strings = [str(k) for k in self.graph.keys_by_id]
        return self._key_strings

    def attr(self, name: str) -> dict[str, frozenset[int]]:
        """``group``, ``kind`` or ``owner`` value -> ids; ``project`` or ``team`` -> ids
        (from the definitions' ``workspace/...`` metadata, set in a workspace's graph)."""
        if name in ("project", "team"):
            return self._workspace_attr(name)
        if not self._attrs:
            self.index_attributes()
        return self._attrs[name]

    def _workspace_attr(self, name: str) -> dict[str, frozenset[int]]:
        if not self._attrs:
            self.index_attributes()
        found = self._attrs.get(name)
        if found is None:
            meta = f"workspace/{name}"
            acc: dict[str, list[int]] = {}
            graph = self.graph
            for i in range(len(graph)):
                d = graph.definition_of_id(i)
                value = d.metadata.get(meta) if d is not None else None
                if isinstance(value, str):
                    acc.setdefault(value, []).append(i)
            found = self._attrs[name] = {v: frozenset(ids) for v, ids in acc.items()}
        return found

    def tags(self) -> dict[str, dict[str, frozenset[int]]]:
        """Tag key -> tag value -> ids."""
        if self._tags is None:
            self.index_attributes()
        assert self._tags is not None
        return self._tags

    def index_attributes(self) -> None:
        """Group, kind, owner and tag maps in one pass over the specs (selections usually
        combine several, and one pass costs little more than one map)."""
        groups: defaultdict[str, list[int]] = defaultdict(list)
        kinds: defaultdict[str, list[int]] = defaultdict(list)
        owners: defaultdict[str, list[int]] = defaultdict(list)
        tags: defaultdict[str, defaultdict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for i, s in enumerate(self.graph.specs_by_id):
            if s.group is not None:
                groups[s.group].append(i)
            for v in s.kinds:
                kinds[v].append(i)
            for v in s.owners:
                owners[v].append(i)
            if s.tags:
                for tk, tv in s.tags.items():
                    tags[tk][tv].append(i)
        self._attrs = {
            name: {v: frozenset(ids) for v, ids in acc.items()}
            for name, acc in (("group", groups), ("kind", kinds), ("owner", owners))
        }
        self._tags = {tk: {tv: frozenset(ids) for tv, ids in vs.items()} for tk, vs in tags.items()}


# --------------------------------------------------------------------------- tree
class Selection(ABC):
    """A parsed selection expression; immutable, reusable on any graph."""

    def evaluate(self, graph: AssetGraph) -> frozenset[AssetKey]:
        """The keys of ``graph`` this selection selects."""
        return graph.keys_of(self._ids(GraphIndex.of(graph)))

    @abstractmethod
    def _ids(self, ix: GraphIndex) -> frozenset[int] | set[int]:
        """The selected asset ids."""

    def _str_in(self, parent: type[Selection]) -> str:
        return str(self)


@dataclass(frozen=True)
class _Atom(Selection):
    """A leaf; keeps the source text and position to point errors at it."""

    source: str = field(default="", compare=False, repr=False, kw_only=True)
    pos: int = field(default=0, compare=False, repr=False, kw_only=True)

    def _fail(self, message: str, known: Iterable[str] = (), value: str = "") -> SelectionError:
        known = sorted(known)
        close = difflib.get_close_matches(value, known, n=3) if value else []
        if close:
            message += f"; did you mean {', '.join(close)}?"
        elif known:
            preview = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
            message += f"; known: {preview}"
        return SelectionError(message, text=self.source, position=self.pos)


@dataclass(frozen=True)
class AllAssets(_Atom):
    """``*``: every non-external asset."""

    def _ids(self, ix: GraphIndex) -> frozenset[int]:
        return ix.all

    def __str__(self) -> str:
        return "*"


def _is_glob(value: str) -> bool:
    return not _GLOB_CHARS.isdisjoint(value)


def _match(values: Mapping[str, frozenset[int]], pattern: str) -> set[int] | None:
    """Union of the ids of every value matching glob ``pattern``; None if it is not a glob."""
    if not _is_glob(pattern):
        return None
    out: set[int] = set()
    for v in fnmatch.filter(values, pattern):
        out |= values[v]
    return out


@dataclass(frozen=True)
class KeyMatch(_Atom):
    """``key:<glob>``: keys whose canonical string matches (``*`` also matches ``/``)."""

    pattern: str

    def _ids(self, ix: GraphIndex) -> frozenset[int] | set[int]:
        if _is_glob(self.pattern):
            rx = re.compile(fnmatch.translate(self.pattern))
            return {i for i, s in enumerate(ix.key_strings) if rx.match(s)}
        i = ix.graph.find_id(AssetKey(self.pattern))
        if i is None:
            raise self._fail(f"no asset has key {self.pattern!r}", ix.key_strings, self.pattern)
        return frozenset((i,))

    def __str__(self) -> str:
        return f"key:{self.pattern}"


@dataclass(frozen=True)
class AttrMatch(_Atom):
    """``group:``, ``kind:`` or ``owner:`` with an exact value or a glob."""

    attr: str
    value: str

    def _ids(self, ix: GraphIndex) -> frozenset[int] | set[int]:
        table = ix.attr(self.attr)
        found = _match(table, self.value)
        if found is not None:
            return found
        ids = table.get(self.value)
        if ids is None:
            raise self._fail(f"no asset has {self.attr} {self.value!r}", table, self.value)
        return ids

    def __str__(self) -> str:
        return f"{self.attr}:{self.value}"


@dataclass(frozen=True)
class TagMatch(_Atom):
    """``tag:k=v`` (that value) or ``tag:k`` (any value); globs allowed in both parts."""

    tag: str
    value: str | None = None

    def _ids(self, ix: GraphIndex) -> frozenset[int] | set[int]:
        tags = ix.tags()
        if _is_glob(self.tag):
            names = fnmatch.filter(tags, self.tag)
        elif self.tag in tags:
            names = [self.tag]
        else:
            raise self._fail(f"no asset has tag {self.tag!r}", tags, self.tag)
        out: set[int] = set()
        for name in names:
            values = tags[name]
            if self.value is None:
                for any_value in values.values():
                    out |= any_value
                continue
            found = _match(values, self.value)
            if found is None:
                exact = values.get(self.value)
                if exact is None and len(names) == 1:
                    raise self._fail(
                        f"no asset has tag {self.tag}={self.value}", values, self.value
                    )
                found = set(exact or ())
            out |= found
        return out

    def __str__(self) -> str:
        return f"tag:{self.tag}" if self.value is None else f"tag:{self.tag}={self.value}"


@dataclass(frozen=True)
class Not(Selection):
    """Every non-external asset not selected by ``inner``."""

    inner: Selection

    def _ids(self, ix: GraphIndex) -> frozenset[int] | set[int]:
        return ix.all - self.inner._ids(ix)

    def __str__(self) -> str:
        return f"not {self.inner._str_in(Not)}"

    def _str_in(self, parent: type[Selection]) -> str:
        return f"({self})" if parent in (Upstream, Downstream) else str(self)


@dataclass(frozen=True)
class And(Selection):
    """Assets selected by both sides."""

    left: Selection
    right: Selection

    def _ids(self, ix: GraphIndex) -> frozenset[int] | set[int]:
        left = self.left._ids(ix)
        return left & self.right._ids(ix) if left else left

    def __str__(self) -> str:
        return f"{self.left._str_in(And)} and {self.right._str_in(And)}"

    def _str_in(self, parent: type[Selection]) -> str:
        return str(self) if parent is And else f"({self})"


@dataclass(frozen=True)
class Or(Selection):
    """Assets selected by either side."""

    left: Selection
    right: Selection

    def _ids(self, ix: GraphIndex) -> frozenset[int] | set[int]:
        return self.left._ids(ix) | self.right._ids(ix)

    def __str__(self) -> str:
        return f"{self.left._str_in(Or)} or {self.right._str_in(Or)}"

    def _str_in(self, parent: type[Selection]) -> str:
        return str(self) if parent is Or else f"({self})"


@dataclass(frozen=True)
class Upstream(Selection):
    """``+sel`` / ``2+sel``: ``inner`` and its ancestors (within ``depth`` steps)."""

    inner: Selection
    depth: int | None = None

    def _ids(self, ix: GraphIndex) -> frozenset[int] | set[int]:
        ids = self.inner._ids(ix)
        return ix.graph.upstream_ids(ids, self.depth).union(ids)

    def __str__(self) -> str:
        return f"{self.depth or ''}+{self.inner._str_in(Upstream)}"

    def _str_in(self, parent: type[Selection]) -> str:
        return f"({self})" if parent in (Upstream, Downstream) else str(self)


@dataclass(frozen=True)
class Downstream(Selection):
    """``sel+`` / ``sel+2``: ``inner`` and its descendants (within ``depth`` steps)."""

    inner: Selection
    depth: int | None = None

    def _ids(self, ix: GraphIndex) -> frozenset[int] | set[int]:
        ids = self.inner._ids(ix)
        return ix.graph.downstream_ids(ids, self.depth).union(ids)

    def __str__(self) -> str:
        return f"{self.inner._str_in(Downstream)}+{self.depth or ''}"

    def _str_in(self, parent: type[Selection]) -> str:
        return f"({self})" if parent in (Upstream, Downstream) else str(self)


# --------------------------------------------------------------------------- parser
class _Parser:
    """Recursive descent: or_expr := and_expr ('or' and_expr)*;
    and_expr := not_expr ('and' not_expr)*; not_expr := 'not' not_expr | graph_expr;
    graph_expr := [up] primary [down]; primary := '(' or_expr ')' | atom."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, tok: Token, expected: str) -> SelectionError:
        got = "the end of the selection" if tok.kind == "end" else repr(tok.text)
        return SelectionError(f"expected {expected}, got {got}", text=self.text, position=tok.pos)

    def parse(self) -> Selection:
        if self.peek().kind == "end":
            raise self.fail(self.peek(), "an asset selection")
        node = self.or_expr()
        tok = self.peek()
        if tok.kind == ")":
            raise SelectionError("unmatched ')'", text=self.text, position=tok.pos)
        if tok.kind != "end":
            raise self.fail(tok, "'and', 'or' or the end of the selection")
        return node

    def or_expr(self) -> Selection:
        node = self.and_expr()
        while self.peek().kind == "or":
            self.take()
            node = Or(node, self.and_expr())
        return node

    def and_expr(self) -> Selection:
        node = self.not_expr()
        while self.peek().kind == "and":
            self.take()
            node = And(node, self.not_expr())
        return node

    def not_expr(self) -> Selection:
        if self.peek().kind == "not":
            self.take()
            return Not(self.not_expr())
        return self.graph_expr()

    def graph_expr(self) -> Selection:
        up = self.take() if self.peek().kind == "up" else None
        node = self.primary()
        down = self.take() if self.peek().kind == "down" else None
        if up is not None and down is not None:  # +sel+: both walks start from sel itself
            return Or(Upstream(node, up.depth), Downstream(node, down.depth))
        if up is not None:
            return Upstream(node, up.depth)
        if down is not None:
            return Downstream(node, down.depth)
        return node

    def primary(self) -> Selection:
        tok = self.take()
        if tok.kind == "(":
            node = self.or_expr()
            close = self.peek()
            if close.kind != ")":
                raise self.fail(close, f"')' to close the '(' at column {tok.pos + 1}")
            self.take()
            return node
        if tok.kind == "atom":
            return self.atom(tok)
        raise self.fail(
            tok, "an asset selection (a key, key:, group:, tag:, kind:, owner:, '*' or '(')"
        )

    def atom(self, tok: Token) -> Selection:
        word, pos, text = tok.text, tok.pos, self.text
        if word == "*":
            return AllAssets(source=text, pos=pos)
        prefix, sep, value = word.partition(":")
        if not sep:
            prefix, value = "key", word
        elif prefix not in KNOWN_PREFIXES:
            known = ", ".join(f"{p}:" for p in KNOWN_PREFIXES)
            raise SelectionError(
                f"unknown selection prefix {prefix + ':'!r}; known prefixes are {known}",
                text=text,
                position=pos,
            )
        vpos = pos + (len(prefix) + 1 if sep else 0)
        if not value:
            raise SelectionError(
                f"expected a value after {prefix + ':'!r}", text=text, position=vpos
            )
        if prefix == "key":
            if not _is_glob(value):
                try:
                    AssetKey(value)
                except InvalidKeyError as exc:
                    raise SelectionError(
                        f"invalid asset key {value!r}: {exc.message}", text=text, position=vpos
                    ) from None
            return KeyMatch(value, source=text, pos=vpos)
        if prefix == "tag":
            name, eq, tag_value = value.partition("=")
            if not name:
                raise SelectionError("expected a tag name before '='", text=text, position=vpos)
            if eq and not tag_value:
                raise SelectionError(
                    f"expected a value after 'tag:{name}='",
                    text=text,
                    position=vpos + len(name) + 1,
                )
            return TagMatch(name, tag_value if eq else None, source=text, pos=vpos)
        return AttrMatch(prefix, value, source=text, pos=vpos)


@lru_cache(maxsize=256)
def parse(text: str) -> Selection:
    """Parse a selection expression; raises ``SelectionError`` at the offending column."""
    return _Parser(text).parse()


def select(graph: AssetGraph, expression: str | None) -> frozenset[AssetKey]:
    """Shorthand for ``graph.select(expression)``."""
    return graph.select(expression)
