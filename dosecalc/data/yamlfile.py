"""Safe YAML loading for files people write: line numbers for every node, and no surprises.

- Safe loading only (no ``!!python/...`` tags).
- Dates stay text (no implicit timestamps): the models parse them and report file:line.
- Only ``true``/``false`` are booleans (``no``, ``on``, ``off`` stay text: ``route: no`` is
  not ``False``).
- Numbers are resolved as YAML 1.2 resolves them and read by :mod:`dosecalc.strict`. A plain
  scalar that YAML 1.2 reads as a number but that is not written the one strict way is
  refused with its line, both YAML readings where they differ, and how to write it: ``070``
  (56 in YAML 1.1, 70 in 1.2), ``0x1F``, ``.inf``, a 5,000-digit number. What only YAML 1.1
  reads as a number (``1_0``, ``1:30``, ``0b101``) is text, as in YAML 1.2; a number field
  refuses it when it reads that text (strictly, as every number), a text field keeps it.
- Duplicate keys are refused (PyYAML silently keeps the last one).
- Anchors and aliases are refused: a clinical file is read top to bottom, and aliases are
  how "billion laughs" documents blow up.
- A size bound, strict UTF-8, and deep nesting refused.

``load(path)`` returns the data and a map from key paths (``("drugs", 1, "dose")``) to line
numbers, so that validation errors can point at the line.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from dosecalc.base import strict
from dosecalc.base.errors import FileError, Problem
from dosecalc.base.numbers import article

MAX_BYTES = 1_000_000
MAX_DEPTH = 32

Loc = tuple[str | int, ...]


# Every plain scalar that the YAML 1.2 core schema reads as a number (decimal, hexadecimal,
# octal, infinity, NaN): one tag, whose constructor reads it strictly. The forms only YAML 1.1
# reads as numbers (1_000, 1:30, 0b101) stay text, as in YAML 1.2; a number field reads its
# text with the same strict reader and refuses them, a text field (a time 14:30, a note)
# keeps them as written.
_NUMBER_TAG = "tag:dosecalc,2025:number"
_NUMBER_FORMS = re.compile(
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |0o[0-7]+
    |0x[0-9a-fA-F]+
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INTEGER = re.compile(r"[-+]?[0-9]+", re.ASCII)


def _core_1_2(text: str) -> object:
    """What the YAML 1.2 core schema reads ``text`` as (a number, or the text itself)."""
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"0o[0-7]+", text):
        return int(text[2:], 8)
    if re.fullmatch(r"0x[0-9a-fA-F]+", text):
        return int(text, 16)
    if re.fullmatch(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?", text):
        return float(text)
    if re.fullmatch(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)", text):
        return float(text.replace(".", ""))
    return text


def _number_message(text: str, why: str) -> str:
    """``why`` plus, when YAML 1.1 and 1.2 read ``text`` differently, both readings."""

    def shown(value: object) -> str:
        return (
            "text"
            if isinstance(value, str)
            else f"{value:g}"
            if isinstance(value, float)
            else str(value)
        )

    try:
        old = yaml.safe_load(text) if len(text) <= strict.MAX_CHARS else None
    except (yaml.YAMLError, ValueError):
        old = None
    new = _core_1_2(text) if len(text) <= strict.MAX_CHARS else None
    both = ""
    if old is not None and new is not None and shown(old) != shown(new):
        both = f" (YAML 1.1 reads it as {shown(old)}, YAML 1.2 as {shown(new)})"
    return f"{why}{both}; or put it in quotes if it is text"


STAR_HINT = '; a value that starts with * is text only in quotes, e.g. "*1/*2A"'


class _Loader(yaml.SafeLoader):
    """SafeLoader without timestamps, with strict booleans and numbers, no duplicate keys, no
    aliases."""

    def construct_number(self, node: Any) -> Any:
        text = node.value
        try:
            if _INTEGER.fullmatch(text):
                return strict.integer(text, signed=True)
            return strict.decimal(text, signed=True)
        except strict.NumberError as e:
            self._number_problems.append((node, _number_message(text, str(e))))  # type: ignore[attr-defined]
            return text

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            star = isinstance(event, yaml.AliasEvent) and re.match(r"\d", event.anchor or "")
            raise yaml.MarkedYAMLError(
                problem="YAML anchors and aliases (& and *) are not allowed; write the values out"
                + (STAR_HINT if star else ""),  # a star allele written bare: DPYD: *1
                problem_mark=event.start_mark,
            )
        if len(self._depth_stack) >= MAX_DEPTH:
            raise yaml.MarkedYAMLError(
                problem=f"the document is nested more than {MAX_DEPTH} levels deep",
                problem_mark=event.start_mark,
            )
        self._depth_stack.append(None)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth_stack.pop()

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    problem="a mapping key must be a plain value", problem_mark=key_node.start_mark
                ) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    problem=f"duplicate key '{key}' (first given on line {seen[key]})",
                    problem_mark=key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag
        not in (
            "tag:yaml.org,2002:timestamp",
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
        )
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_NUMBER_TAG, _NUMBER_FORMS, list("-+0123456789."))
_Loader.add_constructor(_NUMBER_TAG, _Loader.construct_number)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _walk(node: Any, loc: Loc, lines: dict[Loc, int], paths: dict[int, Loc]) -> None:
    lines[loc] = node.start_mark.line + 1
    paths[id(node)] = loc
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            _walk(value_node, (*loc, key), lines, paths)
            lines[(*loc, key)] = key_node.start_mark.line + 1  # a key's own line, not its value's
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*loc, i), lines, paths)


def read_text(path: Path, what: str, max_bytes: int = MAX_BYTES) -> str:
    """A file's text: must exist, be at most ``max_bytes`` and be UTF-8."""
    return _read(path, what, max_bytes)[0]


def read_text_sha256(path: Path, what: str, max_bytes: int = MAX_BYTES) -> tuple[str, str]:
    """A file's text (as :func:`read_text`) and the SHA-256 of its bytes."""
    import hashlib

    text, data = _read(path, what, max_bytes)
    return text, hashlib.sha256(data).hexdigest()


def read_trusted(path: Path, what: str) -> Any:
    """The packaged data (which the tests read with the strict loader): plain YAML through
    LibYAML's C loader where it is installed, without the line map or the models. What it
    reads is kept in the user's cache folder under the SHA-256 of the file's bytes (marshal:
    plain data only, behind its own digest), so a plan does not parse 400 kB of YAML each time
    (0.1 s); an edited file has another digest and is read anew, and a cache that is damaged
    or cannot be read or written is passed by."""
    import hashlib
    import marshal

    text, data = _read(path, what)
    cached = _cache_folder() / f"{path.stem}-{hashlib.sha256(data).hexdigest()}.marshal"
    try:
        kept = cached.read_bytes()  # the digest of what follows, then what was read
        if hashlib.sha256(kept[32:]).digest() == kept[:32]:
            return marshal.loads(kept[32:])
    except (OSError, ValueError, EOFError, TypeError):
        pass
    value = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    part = cached.with_name(f"{cached.name}.{os.getpid()}.part")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        payload = marshal.dumps(value)
        part.write_bytes(hashlib.sha256(payload).digest() + payload)
        part.replace(cached)  # whole or not at all, whoever else writes it meanwhile
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
    return value


def _cache_folder() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dosecalc", appauthor=False)) / "data"


def _read(path: Path, what: str, max_bytes: int = MAX_BYTES) -> tuple[str, bytes]:
    """A file's text and the bytes it was decoded from."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FileError(
                Problem(f"the {what} is {size:,} bytes; the limit is {max_bytes:,}", file=str(path))
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileError(Problem(f"no such {what} file", file=str(path))) from None
    except IsADirectoryError:
        raise FileError(
            Problem(f"is a directory, not {article(what)} file", file=str(path))
        ) from None
    except OSError as e:
        raise FileError(Problem(f"cannot be read ({e.strerror})", file=str(path))) from None
    try:
        return data.decode("utf-8-sig"), data
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise FileError(
            Problem(
                f"byte {data[e.start]:#04x} is not UTF-8; save the file as UTF-8",
                file=str(path),
                line=line,
            )
        ) from None


def parse(text: str, source: str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML text; errors name ``source`` and the line."""
    try:
        loader = _Loader(text)  # checks the characters: a ReaderError comes from here
    except yaml.reader.ReaderError as e:
        line = text[: e.position].count("\n") + 1 if isinstance(e.position, int) else None
        raise FileError(
            Problem(
                f"not valid YAML: character {e.character!r} is not allowed", file=source, line=line
            )
        ) from None
    loader._depth_stack = []  # type: ignore[attr-defined]
    loader._number_problems = []  # type: ignore[attr-defined]
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Loc, int] = {}
        paths: dict[int, Loc] = {}
        _walk(node, (), lines, paths)
        data = loader.construct_document(node)
        if loader._number_problems:  # type: ignore[attr-defined]
            raise FileError(
                *(
                    Problem(
                        message,
                        field=key_path(paths.get(id(bad), ())) or None,
                        file=source,
                        line=bad.start_mark.line + 1,
                    )
                    for bad, message in loader._number_problems  # type: ignore[attr-defined]
                )
            )
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        message = " ".join(filter(None, [e.context, e.problem]))
        if "while scanning an alias" in message:  # a star allele written bare: DPYD: *1/*2A
            message += STAR_HINT
        if "'\\t'" in message:  # pyyaml shows the tab as '\t'
            message += "; indent with spaces, not tabs (YAML does not allow tabs for indentation)"
        raise FileError(
            Problem(f"not valid YAML: {message}", file=source, line=mark.line + 1 if mark else None)
        ) from None
    except yaml.YAMLError as e:
        raise FileError(Problem(f"not valid YAML: {e}", file=source)) from None
    except RecursionError:
        raise FileError(Problem("the document is nested too deeply", file=source)) from None
    finally:
        loader.dispose()
    return data, lines


def load(path: Path, what: str) -> tuple[Any, dict[Loc, int]]:
    return parse(read_text(path, what), str(path))


def load_hashed(path: Path, what: str) -> tuple[Any, dict[Loc, int], str]:
    """``load``, and the SHA-256 of the very bytes parsed (read once: no second read can
    differ from what was validated)."""
    import hashlib

    text, data = _read(path, what)
    parsed, lines = parse(text, str(path))
    return parsed, lines, hashlib.sha256(data).hexdigest()


def line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest known node on the path ``loc``."""
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def key_path(loc: Loc) -> str:
    """``("drugs", 1, "dose")`` → ``drugs[1].dose``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def iter_problems(
    errors: Iterator[tuple[Loc, str]], lines: dict[Loc, int], source: str
) -> list[Problem]:
    problems = [
        Problem(message, field=key_path(loc) or None, file=source, line=line_of(lines, loc))
        for loc, message in errors
    ]
    return sorted(problems, key=lambda p: p.line or 0)
