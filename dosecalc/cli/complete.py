"""What Tab offers for an argument or option (through typer's completion protocol): regimen ids,
BSA formula names, output formats, sexes, equivalence tables, documentation pages, schema
names. Light: a Tab press imports no engine."""

from __future__ import annotations

import typer


def regimens(incomplete: str) -> list[str]:
    """The library's regimen ids (a path typed is left to the shell's file completion)."""
    from dosecalc.base.library import library_ids

    return [r for r in library_ids() if r.startswith(incomplete.lower())]


def formulas(incomplete: str) -> list[str]:
    """BSA formulas and 'all' (dosecalc bsa shows them side by side)."""
    from dosecalc.clinical.bsa import FORMULAS

    return [f for f in [*FORMULAS, "all"] if f.startswith(incomplete.lower())]


def formula(incomplete: str) -> list[str]:
    """One BSA formula, for a command that doses with it (plan, check, verify: no 'all')."""
    return [f for f in formulas(incomplete) if f != "all"]


def formats(ctx: typer.Context, incomplete: str) -> list[str]:
    """The output formats of the command being typed."""
    from dosecalc.cli.program import FORMATS

    name = getattr(getattr(ctx, "command", None), "name", "") or ""
    return [f for f in FORMATS.get(name, "table|json").split("|") if f.startswith(incomplete)]


def sexes(incomplete: str) -> list[str]:
    return [s for s in ("male", "female") if s.startswith(incomplete.lower())]


def tables(incomplete: str) -> list[str]:
    """The doxorubicin-equivalence tables of the ceilings data."""
    from dosecalc.data.ceilings import book

    return [t for t in book().tables if t.startswith(incomplete.lower())]


def topics(incomplete: str) -> list[str]:
    from dosecalc.outputs.schema import topics as pages

    return [t for t in pages() if t.startswith(incomplete.lower())]


def schemas(incomplete: str) -> list[str]:
    from dosecalc.outputs.schema import NAMES

    return [n for n in NAMES if n.startswith(incomplete.lower())]
