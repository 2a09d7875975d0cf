"""The institution's policy file (TOML) and ``--set KEY=VALUE``, read into the policy in force.

The policy file is ``--policy FILE``, else ``$DOSECALC_POLICY``, else ``policy.toml`` in the
user's config folder when it exists. Every setting, its default and the source that default
follows are the clinical layer's (clinical/policy.py); here they are read, every problem of a
file at once with its line, and every number of the file by the one strict reader.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from dosecalc.base import strict
from dosecalc.base.errors import FileError, Problem, fail
from dosecalc.clinical.policy import SETTINGS, EntryError, Policy


def default_path() -> Path | None:
    env = os.environ.get("DOSECALC_POLICY")
    if env is not None:
        if not env.strip():  # a deploy's unset variable: never the defaults in silence
            raise fail(
                "$DOSECALC_POLICY",
                "is set but empty; give the policy file's path, or unset it for the defaults",
            )
        return Path(env)
    try:
        from platformdirs import user_config_dir
    except ImportError:  # pragma: no cover - platformdirs is a dependency
        return None
    path = Path(user_config_dir("dosecalc")) / "policy.toml"
    return path if path.is_file() else None


def _line_of(text: str, section: str, key: str) -> int | None:
    lines = text.splitlines()
    current = ""
    for n, line in enumerate(lines, 1):
        head = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if head:
            current = head.group(1)
            continue
        if current == section and re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", line):
            return n
    for n, line in enumerate(lines, 1):
        if re.match(rf"^\s*\[\s*{re.escape(section + '.' + key)}\s*\]", line):
            return n
    return None


_TOML_TOKEN = re.compile(r"[^\s=,\[\]{}]+")


_TOML_NUMBER = re.compile(
    r"[+-]?(?:0[xob][0-9A-Fa-f_]+|[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][+-]?[0-9_]+)?|inf|nan)"
)


def _toml_code(text: str) -> str:
    """``text`` with the contents of its strings and comments blanked out (newlines kept), so
    that what is left is keys, punctuation and bare values. ``text`` is valid TOML."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i : i + 3]
            end = i + 3
            while True:
                end = text.find(quote, end)
                if end < 0:
                    end = n
                    break
                if quote == '"""' and _escaped(text, end):
                    end += 1
                    continue
                end += 3
                while end < n and text[end] == quote[0]:  # up to two quotes before the close
                    end += 1
                break
        elif c in "\"'":
            end = i + 1
            while end < n and text[end] != c and text[end] != "\n":
                end += 2 if c == '"' and text[end] == "\\" else 1
            end = min(end + 1, n)
        else:
            i += 1
            continue
        for k in range(i, end):
            if out[k] != "\n":
                out[k] = " "
        i = end
    return "".join(out)


def _escaped(text: str, at: int) -> bool:
    slashes = 0
    while at - slashes - 1 >= 0 and text[at - slashes - 1] == "\\":
        slashes += 1
    return slashes % 2 == 1


def _toml_number_problems(text: str, source: str) -> list[Problem]:
    """The numbers of a TOML policy that :mod:`dosecalc.strict` does not read as written: TOML
    itself reads ``1_25`` as 125, ``0x7D`` as 125 and allows ``inf``; dosecalc reads every number
    of every file one way (digits, one decimal point, an optional exponent)."""
    problems = []
    code = _toml_code(text)
    lines = code.splitlines()
    for m in _TOML_TOKEN.finditer(code):
        token = m.group()
        if _TOML_NUMBER.fullmatch(token):
            try:  # the form, and the value: 1E1000 is infinity, 2**64 past any integer
                if token.lstrip("+-").isdigit():
                    strict.integer(token, signed=True)
                else:
                    strict.decimal(token, signed=True)
            except strict.NumberError as e:
                line = code.count("\n", 0, m.start()) + 1
                problems.append(Problem(str(e), _toml_key(lines, line), source, line))
    return problems


def _toml_key(lines: list[str], line: int) -> str | None:
    """``section.key`` of the assignment on ``line`` (1-based), if it is on that line."""
    key = re.match(r"\s*([A-Za-z0-9_.-]+)\s*=", lines[line - 1])
    if key is None:
        return None
    for previous in reversed(lines[: line - 1]):
        head = re.match(r"\s*\[\s*([A-Za-z0-9_.-]+)\s*\]", previous)
        if head:
            return f"{head.group(1)}.{key.group(1)}"
    return key.group(1)


def _settings_of(section: str, table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """The (name, value) pairs of a section, a subtable that is no setting's value read as its
    keys: ``[labs.uln]`` ``bilirubin_mg_dl = 1.2`` and ``uln.bilirubin_mg_dl = 1.2`` under
    ``[labs]`` are ``labs.uln.bilirubin_mg_dl``, as the key is written everywhere."""
    pairs: list[tuple[str, Any]] = []
    for name, value in table.items():
        dotted = f"{prefix}{name}"
        if isinstance(value, dict) and f"{section}.{dotted}" not in SETTINGS:
            if any(k.startswith(f"{section}.{dotted}.") for k in SETTINGS):
                pairs += _settings_of(section, value, f"{dotted}.")
                continue
        pairs.append((dotted, value))
    return pairs


def _line_of_key(text: str, section: str, name: str) -> int | None:
    """The line of ``name`` (``uln.bilirubin_mg_dl``) of ``section``: under ``[section]``, or its
    last part under ``[section.uln]``."""
    line = _line_of(text, section, name)
    if line is None and "." in name:
        head, _, tail = name.rpartition(".")
        line = _line_of(text, f"{section}.{head}", tail)
    return line


def load(path: Path | None = None, overrides: dict[str, tuple[Any, str]] | None = None) -> Policy:
    """The policy in force: defaults, then the file, then command-line overrides."""
    values = {k: s.default for k, s in SETTINGS.items()}
    origins = dict.fromkeys(SETTINGS, "default")
    source = sha256 = None
    if path is not None:
        import tomllib

        from dosecalc.data.yamlfile import read_text_sha256

        text, sha256 = read_text_sha256(path, "policy", 1_000_000)
        source = str(path)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            m = re.search(r"line (\d+)", str(e))
            raise FileError(
                Problem(f"not valid TOML: {e}", file=source, line=int(m.group(1)) if m else None)
            ) from None
        except RecursionError:
            raise FileError(Problem("not valid TOML: nested too deeply", file=source)) from None
        except ValueError:  # an integer of thousands of digits (Python's int limit)
            data = None
        problems = _toml_number_problems(text, source)
        if data is None and not problems:
            problems = [Problem("not valid TOML: a number too large to read", file=source)]
        if problems:
            raise FileError(*problems)
        for section, table in data.items():
            if not isinstance(table, dict):
                problems.append(
                    Problem(
                        f"'{section}' must be a [section]; sections: "
                        f"{', '.join(sorted({k.split('.')[0] for k in SETTINGS}))}",
                        file=source,
                        line=_line_of(text, "", section),
                    )
                )
                continue
            for name, value in _settings_of(section, table):
                key = f"{section}.{name}"
                line = _line_of_key(text, section, name)
                if key not in SETTINGS:
                    valid = [k.split(".", 1)[1] for k in SETTINGS if k.startswith(section + ".")]
                    problems.append(
                        Problem(
                            f"unknown setting; valid in [{section}]: {', '.join(valid)}"
                            if valid
                            else f"unknown section '{section}'",
                            field=key,
                            file=source,
                            line=line,
                        )
                    )
                    continue
                try:
                    values[key] = SETTINGS[key].check(value)
                    origins[key] = f"{source}:{line}" if line else source
                except ValueError as e:
                    if isinstance(e, EntryError):
                        line = _line_of(text, key, e.entry) or line
                    problems.append(
                        Problem(f"{e}; {SETTINGS[key].help}", field=key, file=source, line=line)
                    )
        if problems:
            raise FileError(*sorted(problems, key=lambda p: p.line or 0))
    for key, (value, origin) in (overrides or {}).items():
        if key not in SETTINGS:
            raise fail("--set", f"'{key}' is not a policy setting; see dosecalc policy show")
        try:
            values[key] = SETTINGS[key].check(value)
        except ValueError as e:
            raise fail(origin, f"{key}: {e}; {SETTINGS[key].help}") from None
        origins[key] = origin
    return Policy(values, origins, source, sha256=sha256)


def parse_sets(items: list[str] | None) -> dict[str, tuple[Any, str]]:
    out: dict[str, tuple[Any, str]] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise fail("--set", f"'{item}' is not KEY=VALUE; e.g. carboplatin.gfr_cap_ml_min=none")
        key = key.strip()
        if key in out and out[key][0] != value.strip():
            raise fail(
                "--set",
                f"{key} is given twice ({out[key][0]!r} and {value.strip()!r}); give it once",
            )
        out[key] = (value.strip(), "--set")
    return out
