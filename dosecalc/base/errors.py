"""Errors the core raises and the exit codes the CLI turns them into.

Every error a user can cause is a :class:`DosecalcError`: it carries the input it is about
(an option name or a file:line and key path) and what would be valid, so that the CLI prints
one sentence and exits 2. Anything else that escapes is a bug (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CRITICAL = 1  # done, with at least one critical warning
    INVALID = 2  # refused: bad input, usage, regimen, course, history or policy
    INTERNAL = 3  # a bug


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: where, what, and what would be valid."""

    message: str
    field: str | None = None  # "--height", or a key path such as "drugs[1].dose"
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class DosecalcError(Exception):
    """Base class of every error caused by input; exit code 2."""

    exit_code = ExitCode.INVALID

    def __init__(self, *problems: Problem, total: int | None = None) -> None:
        if not problems:
            raise TypeError("DosecalcError needs at least one Problem")
        self.problems = problems
        self.total = total or len(problems)  # more than listed when the list was capped
        super().__init__("\n".join(str(p) for p in problems))


class InputError(DosecalcError, ValueError):
    """A value given on the command line (or through the API) is not valid."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(Problem(message, field=field))


class FileError(DosecalcError):
    """A regimen, course, history, drug-data or policy file is not valid."""


def capped(problems: list[Problem], total: int, what: str) -> list[Problem]:
    """``problems`` (the first of ``total`` bad ``what``), then how many more."""
    if total > len(problems):
        return [*problems, Problem(f"and {total - len(problems)} more bad {what}")]
    return problems


def together(errors: list[DosecalcError]) -> FileError:
    """The errors of several files as one, every problem listed and counted (a file's list may
    be capped: its ``total`` counts the rows its tail names)."""
    problems = [p for e in errors for p in e.problems]
    return FileError(*problems, total=sum(e.total for e in errors))


def fail(field: str | None, message: str) -> InputError:
    """Shorthand: ``raise fail("--height", "...")``."""
    return InputError(field, message)


def did_you_mean(value: str, choices: list[str] | tuple[str, ...]) -> str:
    """``' (did you mean dubois?)'`` for a near miss among ``choices``; '' otherwise."""
    import difflib

    close = difflib.get_close_matches(value.strip().lower(), list(choices), n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


class KeyProblem(ValueError):
    """A problem a whole-model check finds with one key (``status`` of a regimen): reported at
    that key's file:line instead of the model's first line."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
