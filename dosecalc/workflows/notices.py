"""Notices about options that change nothing, or change what a file said: the user is told.

- ``--prior DRUG=AMOUNT`` for a drug with no lifetime ceiling, no monitoring level and no
  equivalence factor adds to a total that checks nothing (PRIOR_NOT_TRACKED).
- A patient option given on the command line over a course file's ``patient:`` block wins, and
  the output says which value it replaced (PATIENT_OPTION_OVERRIDES_FILE); so does a genotype
  given (``--genotype``, a lab file) over an order's ``genotype:``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dosecalc.base.alerts import INFO, Alert


def untracked_priors(rows: Sequence[Any], result: Any) -> list[Alert]:
    """A notice per ``--prior`` drug that no ceiling, monitoring level or equivalence uses."""
    from dosecalc.data import ceilings

    book = ceilings.book()
    factors = result.equivalence.factors if result is not None else {}
    out, seen = [], set()
    for r in rows:
        if r.where != "--prior" or r.drug in seen:
            continue
        seen.add(r.drug)
        if r.drug in book.entries or r.drug in factors:
            continue
        out.append(
            Alert(
                INFO,
                "PRIOR_NOT_TRACKED",
                f"--prior {r.drug}: dosecalc has no lifetime ceiling, monitoring level or "
                f"equivalence factor for {r.drug}, so this amount is added to its total but "
                "checks nothing (the tracked drugs: dosecalc docs ceilings)",
                drug=r.drug,
            )
        )
    return out


PATIENT_OPTIONS = ("height", "weight", "bsa", "sex", "age", "scr", "gfr")


def overrides(block: Any, given: dict[str, Any], source: str) -> list[Alert]:
    """A notice per patient option given on the command line over a value of the course
    file's ``patient:`` block (the option wins)."""
    if block is None:
        return []
    out = []
    for name in PATIENT_OPTIONS:
        cli_value, file_value = given.get(name), getattr(block, name, None)
        if cli_value is None or file_value is None:
            continue
        if "".join(str(cli_value).split()).lower() == "".join(str(file_value).split()).lower():
            continue
        out.append(
            Alert(
                INFO,
                "PATIENT_OPTION_OVERRIDES_FILE",
                f"--{name} {cli_value} is used instead of {name} {file_value} in the patient "
                f"block of {source}",
            )
        )
    return out


def genotype_overrides(
    given: dict[str, Any], written: dict[str, Any], source: str
) -> tuple[dict[str, Any], list[Alert]]:
    """The genotypes in force: those given (``--genotype``, lab files) over those an order's
    ``patient:`` block writes, gene by gene, and a notice for each written result replaced by
    a different one."""
    from dosecalc.clinical import pgx

    out, said = dict(written), []
    for gene, g in given.items():
        w = written.get(gene)
        if w is not None and not pgx.same(w, g):
            said.append(
                Alert(
                    INFO,
                    "PATIENT_OPTION_OVERRIDES_FILE",
                    f"{gene} {g.given} ({g.where}) is used instead of {gene} {w.given} in the "
                    f"patient block of {source} ({w.where})",
                )
            )
        out[gene] = g
    return out, said
