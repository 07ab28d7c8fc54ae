"""Safe YAML loading that remembers where every value came from.

Errors must name the file and line of the offending value, even after a
scenario has been merged with the roster it extends, so every mapping and
list carries the (file, line) of each of its entries.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from kpsim.errors import InputError


class LDict(dict):
    """A dict that knows the (file, line) of each key."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines: dict = {}
        self.origin: tuple[str, int] = ("?", 0)


class LList(list):
    """A list that knows the (file, line) of each item."""

    def __init__(self, *args):
        super().__init__(*args)
        self.lines: list = []
        self.origin: tuple[str, int] = ("?", 0)


def _where(node: yaml.Node, fname: str) -> tuple[str, int]:
    return (fname, node.start_mark.line + 1)


_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


# An alias (*name) is expanded into a fresh copy of what its anchor (&name) holds, so
# a few lines can ask for billions of values ("billion laughs"). Copies beyond this
# many values are refused, before they are built: memory stays bounded.
ALIAS_BUDGET = 10_000


# PyYAML composes nested values by recursion: a few thousand '[' would end in RecursionError
# (a traceback). A scenario is a few levels deep; deeper is refused at the line it starts.
MAX_DEPTH = 100


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing values nested more than MAX_DEPTH deep."""

    def __init__(self, text: str, fname: str):
        super().__init__(text)
        self.fname, self.depth = fname, 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise InputError(f"{self.fname}:{line}: values nested more than {MAX_DEPTH} deep — a scenario is a few levels deep")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # what YAML counts as a line break


def _line_at(text: str, index: int) -> int:
    """The line of the character at `index`, counted as YAML counts lines."""
    return 1 + len(_BREAK.findall(text, 0, index))


class _Builder:
    """Builds LDict/LList trees from composed YAML nodes, counting what aliases repeat."""

    def __init__(self, fname: str, loader: yaml.SafeLoader):
        self.fname, self.loader = fname, loader
        self.seen: set[int] = set()
        self.open: set[int] = set()  # nodes being built: an alias to one of them is a cycle
        self.repeated = 0

    def build(self, node: yaml.Node):
        fname = self.fname
        line = node.start_mark.line + 1
        if id(node) in self.open:
            raise InputError(f"{fname}:{line}: an alias (*name) refers to the value that contains it — a scenario is finite data")
        if id(node) in self.seen:
            self.repeated += 1
            if self.repeated > ALIAS_BUDGET:
                raise InputError(
                    f"{fname}:{line}: aliases (*name) repeat more than {ALIAS_BUDGET:,} values — refused (a YAML 'alias bomb'); "
                    "write the values out or use fewer nested aliases"
                )
        self.seen.add(id(node))
        if isinstance(node, yaml.CollectionNode) and node.tag not in _PLAIN_TAGS:
            raise InputError(f"{fname}:{line}: unsupported YAML tag {node.tag!r} — only plain data is allowed")
        if not isinstance(node, yaml.CollectionNode):
            return self._scalar(node)
        self.open.add(id(node))
        try:
            return self._mapping(node) if isinstance(node, yaml.MappingNode) else self._sequence(node)
        finally:
            self.open.discard(id(node))

    def _mapping(self, node: yaml.MappingNode) -> LDict:
        out = LDict()
        out.origin = _where(node, self.fname)
        for knode, vnode in node.value:
            if isinstance(knode, yaml.CollectionNode):
                raise InputError(f"{self.fname}:{knode.start_mark.line + 1}: a key must be plain text or a number, not a list or mapping")
            key = self._scalar(knode)
            if key in out:
                raise InputError(f"{self.fname}:{knode.start_mark.line + 1}: duplicate key {key!r}")
            out[key] = self.build(vnode)
            out.lines[key] = _where(knode, self.fname)
        return out

    def _scalar(self, node: yaml.Node):
        """A plain value. PyYAML's constructors let ValueError, KeyError... escape on values that look like their type
        but are not (2012-13-45 as a date, `!!bool maybe`): those are reported at their line."""
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise
        except Exception as exc:
            kind, value = node.tag.rsplit(":", 1)[-1], str(node.value)
            shown = value if len(value) <= 40 else value[:40] + "…"
            raise InputError(f"{self.fname}:{node.start_mark.line + 1}: cannot read {shown!r} as a {kind} ({exc})") from None

    def _sequence(self, node: yaml.SequenceNode) -> LList:
        out = LList()
        out.origin = _where(node, self.fname)
        for item in node.value:
            out.append(self.build(item))
            out.lines.append(_where(item, self.fname))
        return out


def load_located(path: str | Path):
    """Parse one YAML file with the safe loader into LDict/LList trees."""
    path = Path(path)
    fname = str(path)
    if not path.exists():
        raise InputError(f"{fname}: file not found")
    if path.is_dir():
        raise InputError(f"{fname}: is a folder, expected a YAML file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{fname}: cannot read file ({exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # the line of the first bad byte: what precedes it is valid UTF-8
        line = _line_at(raw[: exc.start].decode("utf-8"), exc.start)
        raise InputError(f"{fname}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x}) — save the file as UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as a file read as text
    loader = None
    try:
        loader = _Loader(text, fname)  # checks every character at once: a ReaderError
        node = loader.get_single_node()
        if node is None:
            raise InputError(f"{fname}:1: the file is empty — expected a scenario mapping")
        data = _Builder(fname, loader).build(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise InputError(f"{fname}:{line}: YAML syntax error — {exc.problem or exc}") from None
    except yaml.reader.ReaderError as exc:  # a control character: unmarked, but its position is known
        raise InputError(f"{fname}:{_line_at(text, exc.position)}: character #x{exc.character:04x} is not allowed in YAML ({exc.reason})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{fname}: YAML error — {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, LDict):
        raise InputError(f"{fname}:1: expected a mapping of fields at the top level, got {type(data).__name__}")
    return data


def line_of(tree, loc: tuple) -> tuple[str, int]:
    """The (file, line) of the deepest entry of `loc` that exists in the tree."""
    where = getattr(tree, "origin", ("?", 0))
    node = tree
    for key in loc:
        if isinstance(node, LDict) and key in node:
            where = node.lines.get(key, where)
            node = node[key]
        elif isinstance(node, LList) and isinstance(key, int) and 0 <= key < len(node):
            where = node.lines[key] if key < len(node.lines) else where
            node = node[key]
        # keys that are not in the data (pydantic's union tags) are skipped
    return where
