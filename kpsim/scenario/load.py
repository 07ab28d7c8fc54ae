"""Loading a scenario: safe YAML, `extends:` merging, and every error reported at once with its file:line."""

from __future__ import annotations

import difflib
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from kpsim.errors import InputError
from kpsim.rules import RULES
from kpsim.scenario.codings import problem as coding_problem
from kpsim.scenario.schema import Scenario
from kpsim.scenario.yamlsource import LDict, LList, line_of, load_located


def merge(base, over):
    """Deep-merge `over` onto `base`, as `extends:` lays a later file over an earlier one; actors merge by id, sources concatenate."""
    if isinstance(base, LDict) and isinstance(over, LDict):
        out = LDict(base)
        out.lines = dict(base.lines)
        out.origin = over.origin
        for key, value in over.items():
            if key == "actors" and isinstance(base.get(key), LList) and isinstance(value, LList):
                out[key] = _merge_actors(base[key], value)
            elif key == "sources" and isinstance(base.get(key), LList) and isinstance(value, LList):
                out[key] = _concat(base[key], value)
            elif key in base:
                out[key] = merge(base[key], value)
            else:
                out[key] = value
            out.lines[key] = over.lines[key]
        return out
    return over


def _concat(a: LList, b: LList) -> LList:
    out = LList()
    out.origin = b.origin
    for item, where in zip(list(a) + list(b), a.lines + b.lines):
        if item not in out:
            out.append(item)
            out.lines.append(where)
    return out


def _actor_key(item):
    """The id an actor merges by, or None: an id that is a list or mapping (unhashable) merges with nothing; validation reports it at its line."""
    key = item.get("id") if isinstance(item, LDict) else None
    return None if isinstance(key, LDict | LList) else key


def _merge_actors(base: LList, over: LList) -> LList:
    out = LList()
    out.origin = over.origin
    index = {}
    for item, where in zip(base, base.lines):
        if _actor_key(item) is not None:
            index[_actor_key(item)] = len(out)
        out.append(item)
        out.lines.append(where)
    out.added = []  # ids this file adds to the ones it extends: a misspelt id would land here
    for item, where in zip(over, over.lines):
        key = _actor_key(item)
        if key is not None and key in index:
            out[index[key]] = merge(out[index[key]], item)
            out.lines[index[key]] = where
        else:
            out.append(item)
            out.lines.append(where)
            if index and key is not None:
                near = difflib.get_close_matches(str(key), [str(k) for k in index], n=1)
                out.added.append((key, where, near[0] if near else None))
    return out


def load_tree(path: str | Path, _seen: tuple = ()) -> LDict:
    """Load a scenario file and everything it extends, merged."""
    path = Path(path)
    tree = load_located(path)
    parents = tree.pop("extends", None)
    if parents is None:
        return tree
    fname, line = tree.lines.pop("extends")
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise InputError(f"{fname}:{line}: extends = {parents!r} — must be a file name or a list of file names")
    merged = None
    here = _seen + (path.resolve(),)
    for parent in parents:
        ppath = path.parent / parent
        problem = _not_a_file(ppath)
        if problem is None and ppath.resolve() in here:
            problem = "forms a cycle: that file is already being loaded"
        if problem:  # at the line of `extends:`, not as a line-less error about the other file
            raise InputError(f"{fname}:{line}: extends = {parent!r} — {problem} (looked for {ppath})")
        ptree = load_tree(ppath, here)
        merged = ptree if merged is None else merge(merged, ptree)
    return merge(merged, tree)


def _not_a_file(path: Path) -> str | None:
    """Why `path` cannot be extended, or None. The file system's refusals (a name too long, a NUL byte) are bad input too."""
    try:
        if path.is_file():
            return None
        return "is a folder, not a file" if path.is_dir() else "file not found"
    except (OSError, ValueError) as exc:
        return f"file not found ({exc})"


def _is_tag(loc: tuple, k: int) -> bool:
    """pydantic puts a union's tag (the rule name) right after a rule: rules[i].<tag> and events[i].rule.<tag>."""
    if k == 0 or loc[k] not in RULES:
        return False
    return (loc[:1] == ("rules",) and isinstance(loc[k - 1], int)) or (loc[:1] == ("events",) and loc[k - 1] == "rule")


def _field(loc: tuple, tags: bool = True) -> str:
    out = ""
    for k, key in enumerate(loc):
        if isinstance(key, int):
            out += f"[{key}]"
        elif tags and _is_tag(loc, k):
            continue
        else:
            out += ("." if out else "") + str(key)
    return out or "(top level)"


_MESSAGES = {
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "dict_type": "must be a mapping of fields",
    "model_type": "must be a mapping of fields",
    "model_attributes_type": "must be a mapping of fields (name: value), not a single value",
    "list_type": "must be a list",
    "missing": "is required",
}


def field_message(err: dict) -> str:
    """What is wrong with a value, in plain words, from one pydantic error."""
    kind = err["type"]
    if kind == "unknown_field":
        return err["msg"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "string_pattern_mismatch":
        return "must use only letters, digits, '_', '-' and '.', and not start with '.' (it names a folder under results/)"
    if kind == "union_tag_invalid":
        return f"unknown rule — allowed: {', '.join(sorted(RULES))}"
    if kind == "union_tag_not_found":
        return f"needs a 'rule' field — allowed: {', '.join(sorted(RULES))}"
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return msg.replace("Input should be", "must be")


# the members of a union as pydantic names them in an error's loc (a threshold: float | str; an event's value: bool | int | float | str)
_MEMBERS = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "text"}


def _one_per_union(errors: list[dict]) -> list[dict]:
    """pydantic reports a value that fits no member of a union once per member, as fields `q.float` and `q.str` that do
    not exist: one error instead, at the value's own path (a NaN or infinity says so; otherwise every member is named)."""
    groups: dict[tuple, list[dict]] = {}
    for err in errors:
        loc = tuple(err["loc"])
        if loc and loc[-1] in _MEMBERS:
            groups.setdefault(loc[:-1], []).append(err)
    out = []
    for err in errors:
        loc = tuple(err["loc"])
        group = groups.get(loc[:-1]) if loc and loc[-1] in _MEMBERS else None
        if group is None or len(group) < 2:
            out.append(err)
        elif err is group[0]:
            finite = [e for e in group if e["type"] == "finite_number"]
            kinds = [_MEMBERS[e["loc"][-1]] for e in group]
            msg = field_message(finite[0]) if finite else "must be " + ", ".join(kinds[:-1]) + " or " + kinds[-1]
            out.append({**err, "loc": loc[:-1], "type": "union_members", "msg": msg})
    return out


def _key_message(err: dict, tree: LDict) -> str:
    """A mapping key of the wrong type (`1:` or `null:` among the fields, a year that is not whole). pydantic names it in
    `loc` as text ('None') and adds '[key]' for a dict's keys; the key itself is the error's input, which finds its line."""
    loc, key = tuple(err["loc"]), err["input"]
    where = loc[:-1] if err["type"] == "invalid_key" else loc[:-2]
    fname, line = line_of(tree, where + (key,))
    what = "a field name must be text" if err["type"] == "invalid_key" else field_message(err)
    return f"{fname}:{line}: {_field(where)}: key {key!r} — {what}"


def format_errors(exc: ValidationError, tree: LDict) -> list[str]:
    out = []
    for err in _one_per_union(exc.errors()):
        loc = tuple(err["loc"])
        if err["type"] == "invalid_key" or loc[-1:] == ("[key]",):
            out.append(_key_message(err, tree))
            continue
        if err["type"] == "scenario_issues":
            for sub, message in err["ctx"]["issues"]:
                fname, line = line_of(tree, loc + sub)
                out.append(f"{fname}:{line}: {_field(loc + sub, tags=False)} {message}")
            continue
        if err["type"] == "extra_forbidden":
            err = {**err, "type": "unknown_field", "msg": _unknown(loc)}
        if err["type"] == "union_tag_invalid":
            loc, err = loc + ("rule",), {**err, "input": err["ctx"]["tag"]}
        fname, line = line_of(tree, loc)
        field = _field(loc)
        hint = coding_problem(loc, err.get("input"))
        if hint:  # meant as a range or a coding level
            out.append(f"{fname}:{line}: {field} {hint}")
            continue
        value = ""
        if err["type"] not in ("missing", "unknown_field") and not isinstance(err.get("input"), dict | list):
            value = f" = {err['input']!r}"
        out.append(f"{fname}:{line}: {field}{value} — {field_message(err)}")
    return sorted(out, key=_file_line)


def _file_line(message: str):
    fname, line, _ = message.split(":", 2)
    return (fname, int(line) if line.isdigit() else 0)


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _unknown(loc: tuple) -> str:
    """'unknown field (did you mean …?) — allowed: …', the allowed names found by walking the schema along loc."""
    models = [Scenario]
    for k, key in enumerate(loc[:-1]):
        if isinstance(key, int):
            continue
        if _is_tag(loc, k):
            models = [RULES[key]]
            continue
        models = [m for model in models if key in model.model_fields for m in _models_in(model.model_fields[key].annotation)]
    if len(models) != 1:
        return "unknown field"
    allowed = list(models[0].model_fields)
    near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f" (did you mean '{near[0]}'?)" if near else ""
    return f"unknown field{hint} — allowed: {', '.join(allowed)}"


def load_scenario(path: str | Path) -> Scenario:
    """Load, merge and validate; every problem is reported at once as InputError."""
    return validate_tree(load_tree(path))


def extension_notes(tree: LDict) -> list[str]:
    """Actors a file adds to the roster it extends, so that a misspelt id does not pass unseen."""
    notes = []
    for key, (fname, line), near in getattr(tree.get("actors"), "added", []):
        hint = f" (did you mean {near!r}?)" if near else ""
        notes.append(f"{fname}:{line}: note: actor {key!r} is not in the file it extends — added as a new actor{hint}")
    return notes


def validate_tree(tree: LDict) -> Scenario:
    try:
        return Scenario.model_validate(tree)
    except ValidationError as exc:
        raise InputError(format_errors(exc, tree)) from None


def scenario_yaml(scenario: Scenario) -> str:
    """The exact, fully merged scenario, for the results folder."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    # PyYAML's own emitter, not libyaml's (15× faster): a sweep's fingerprint hashes this text, and libyaml writes some
    # strings differently (characters beyond the BMP, long quoted lines), and is not in every PyYAML build
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

