"""Loading a scenario: safe YAML, `extends:` merging, and every error reported at once with its file:line."""

from __future__ import annotations

import difflib
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from kpsim.errors import InputError
from kpsim.rules import RULES
from kpsim.scenario.schema import Scenario
from kpsim.scenario.yamlsource import LDict, LList, line_of, load_located


def _merge(base, over):
    """Deep-merge `over` onto `base`; actors merge by id, sources concatenate."""
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
                out[key] = _merge(base[key], value)
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


def _merge_actors(base: LList, over: LList) -> LList:
    out = LList()
    out.origin = over.origin
    index = {}
    for item, where in zip(base, base.lines):
        if isinstance(item, LDict) and "id" in item:
            index[item["id"]] = len(out)
        out.append(item)
        out.lines.append(where)
    out.added = []  # ids this file adds to the ones it extends: a misspelt id would land here
    for item, where in zip(over, over.lines):
        key = item.get("id") if isinstance(item, LDict) else None
        if key in index:
            out[index[key]] = _merge(out[index[key]], item)
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
    if path.resolve() in _seen:
        raise InputError(f"{path}: 'extends' forms a cycle")
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
    for parent in parents:
        ppath = path.parent / parent
        if not ppath.exists():
            raise InputError(f"{fname}:{line}: extends = {parent!r} — file not found (looked for {ppath})")
        ptree = load_tree(ppath, _seen + (path.resolve(),))
        merged = ptree if merged is None else _merge(merged, ptree)
    return _merge(merged, tree)


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


def format_errors(exc: ValidationError, tree: LDict) -> list[str]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
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
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

