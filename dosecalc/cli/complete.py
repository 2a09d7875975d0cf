"""What Tab offers for an argument or option (through typer's completion protocol): regimen ids,
BSA formula names, documentation pages. Light: a Tab press imports no engine."""

from __future__ import annotations


def regimens(incomplete: str) -> list[str]:
    """The library's regimen ids (a path typed is left to the shell's file completion)."""
    from dosecalc.base.library import library_ids

    return [r for r in library_ids() if r.startswith(incomplete.lower())]


def formulas(incomplete: str) -> list[str]:
    from dosecalc.clinical.bsa import FORMULAS

    return [f for f in [*FORMULAS, "all"] if f.startswith(incomplete.lower())]


def topics(incomplete: str) -> list[str]:
    from dosecalc.outputs.schema import topics as pages

    return [t for t in pages() if t.startswith(incomplete.lower())]
