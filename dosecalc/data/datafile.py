"""Validate YAML data against a pydantic model and report every problem with file:line.

All problems of a file are reported at once, each as ``file:line: key.path: message``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel

from dosecalc.base.errors import FileError, Problem
from dosecalc.data import yamlfile

M = TypeVar("M", bound=BaseModel)


def _describe(error: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "extra_forbidden":
        return f"unknown key '{loc[-1]}'{_valid_keys(model, loc[:-1])}"
    if kind == "missing":
        return "this required key is missing"
    ctx = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    given = error.get("input")
    if kind == "bool_type":
        return f"{given!r} is not a yes/no value here; write true or false"
    if kind in ("int_type", "float_type") and isinstance(given, str):  # 1_0, 1:30 (text in YAML)
        from dosecalc.base import strict

        why = strict.problem(given, signed=True, integer=kind == "int_type")
        if why is not None:
            return why
    shown = f" (got {given!r})" if not isinstance(given, dict | list) else ""
    plain = _plain(kind, ctx, given)
    if plain is not None:
        return plain
    return f"{error['msg'][0].lower()}{error['msg'][1:]}{shown}"


# The patterns of the data models, in words
PATTERNS = {
    "^[a-z0-9][a-z0-9-]*$": "lowercase letters, digits and hyphens, e.g. my-ec",
    "^[a-z0-9][a-z0-9 -]*$": "lowercase letters, digits, spaces and hyphens",
    "^[A-Z][A-Z0-9_]*$": "capital letters, digits and underscores, e.g. DOSE_ABOVE_USUAL_MAXIMUM",
    "\\S": "some text, not only spaces",
}


def _plain(kind: str, ctx: dict[str, Any], given: Any) -> str | None:
    """pydantic's wording ('list should have at least 1 item after validation') in plain
    words, for the errors a person writing a file meets most."""
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return f"needs at least {n} item{'s' if n != 1 else ''}; the file gives {ctx.get('actual_length', 0)}"
    if kind == "too_long":
        n = ctx.get("max_length")
        return f"takes at most {n} items; the file gives {ctx.get('actual_length')}"
    if kind == "string_pattern_mismatch":
        words = PATTERNS.get(str(ctx.get("pattern")))
        if words:
            return f"{given!r} is not valid here: write {words}"
    if kind == "string_too_short":
        return "is empty; write a text"
    return None


def _valid_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """'; valid keys: a, b, c' for the model at ``loc`` (best effort, for the message)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return ""
        current = _model_in(field.annotation)
        if current is None:
            return ""
    fields = getattr(current, "model_fields", None)
    if not fields:
        return ""
    names = [f.alias or name for name, f in fields.items()]
    return f"; valid keys here: {', '.join(names)}"


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def errors_of(exc: pydantic.ValidationError, model: type[BaseModel]) -> Iterator[tuple[Any, str]]:
    from dosecalc.base.errors import KeyProblem

    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, KeyProblem):  # a whole-model check about one key: at that key
            loc = (*loc, cause.key)
        yield loc, _describe(error, model)


def validate(
    model: type[M],
    data: Any,
    lines: dict[Any, int],
    source: str,
    context: dict[str, Any] | None = None,
) -> M:
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"{_kind(data)}, not a mapping of keys"
        raise FileError(Problem(f"the file is {kind}", file=source, line=1 if data else None))
    try:
        return model.model_validate(data, context=context)
    except pydantic.ValidationError as e:
        raise FileError(*yamlfile.iter_problems(errors_of(e, model), lines, source)) from None


def _kind(data: Any) -> str:
    """What a YAML document holds, in words: 'a list', 'a number', 'a text'."""
    if isinstance(data, list):
        return "a list"
    if isinstance(data, bool):
        return "a true/false value"
    if isinstance(data, int | float):
        return "a number"
    if isinstance(data, str):
        return "a text"
    return f"a {type(data).__name__}"


def load_validated(path: Path, what: str, model: type[BaseModel]) -> Any:
    """A data file's plain data, validated against ``model`` with every problem at its
    file:line (the packaged files are read with :func:`yamlfile.read_trusted` instead)."""
    data, lines = yamlfile.load(path, what)
    validate(model, data, lines, str(path))
    return data


def load_model(
    path: Path,
    model: type[M],
    what: str,
    context: dict[str, Any] | None = None,
    trusted: bool = False,
) -> M:
    """Load and validate a YAML file. ``trusted`` (the packaged data, checked by the tests with
    the strict loader) parses with LibYAML's C loader first; any problem is then reported
    through the strict loader, with file:line."""
    if trusted:
        import yaml

        try:
            return model.model_validate(yamlfile.read_trusted(path, what), context=context)
        except (yaml.YAMLError, pydantic.ValidationError):
            pass
    data, lines = yamlfile.load(path, what)
    return validate(model, data, lines, str(path), context)
