"""Issue 30, deliverable 2: the organ-function bands have no gaps and no overlaps.

For every drug, every option and every measure an option reads (CrCl or eGFR, bilirubin, AST,
ALT, ALP, creatinine, BUN ...), a patient's values are drawn over the whole plausible range and
at every band's exact edges (and the floats next to them). At each point each rule of the option
must give exactly one outcome:

- a band (a reduced dose, a dose cap, avoid, or "no recommendation" where the source says so),
  never two bands of one rule at once (an overlap); or
- the usual dose, which the bands leave only on the better side of themselves: a value at least
  as bad as some band in every measure that band names (higher bilirubin, AST, ALT, ALP,
  creatinine or BUN; lower kidney function) must itself fall in a band of the option. A value
  worse than a band that falls in none is a gap: the docetaxel EU option of data version 1 had
  one (AST 4, ALT 4, ALP 3 × ULN matched neither the 75 mg/m² band, capped at 3.5 × ULN, nor the
  contraindication, which needs ALP > 6 × ULN), so the audit's patient got 100 mg/m² silently.

Rules limited to some orders (``when:``) are checked in every context an order can make: the
rules that always apply, with each group of rules that share a condition.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosecalc.base.numbers import settled
from dosecalc.data import organ as organ_data

# the plausible range of each measure, in the unit a rule states it (input bounds, not clinical)
RANGES = {
    "mL/min": (0.0, 250.0),
    "mL/min/1.73m2": (0.0, 250.0),
    "xULN": (0.0, 60.0),
    "U/L": (0.0, 5000.0),
    "mg/dL": (0.0, 60.0),
}


def worse_is_lower(lab: str) -> bool:
    """Kidney function is worse when lower; every other measure when higher."""
    return lab == "kidney"


def measure(lab: str, unit: str) -> tuple[str, str]:
    return (lab, unit)


def options() -> list[tuple[str, str, dict[str, Any]]]:
    data = organ_data.book().data
    return [
        (d["drug"], name, option)
        for d in data["drugs"]
        for name, option in (d.get("options") or {}).items()
    ]


def contexts(option: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The rules in force for each kind of order: those without ``when``, alone and with each
    group of rules sharing one condition."""
    always = [r for r in option["rules"] if not r.get("when")]
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in option["rules"]:
        if r.get("when"):
            key = repr(sorted((k, v) for k, v in r["when"].items() if k != "source"))
            groups.setdefault(key, []).append(r)
    return [always] + [always + g for g in groups.values()]


def measures_of(rule: dict[str, Any]) -> list[tuple[str, str]]:
    out = [measure(rule["lab"], rule["unit"])]
    for b in rule["bands"]:
        out += [measure(a["lab"], a["unit"]) for a in b.get("also") or []]
    return out


def edges(option: dict[str, Any], m: tuple[str, str]) -> list[float]:
    """Every bound of every band on measure ``m``, and the floats either side of it."""
    found: list[float] = []
    for r in option["rules"]:
        conds = []
        for b in r["bands"]:
            if measure(r["lab"], r["unit"]) == m:
                conds.append(b)
            conds += [a for a in b.get("also") or [] if measure(a["lab"], a["unit"]) == m]
        for c in conds:
            for key in ("at_least", "above", "at_most", "below"):
                if c.get(key) is not None:
                    x = float(c[key])
                    found += [math.nextafter(x, -math.inf), x, math.nextafter(x, math.inf)]
    lo, hi = RANGES[m[1]]
    return sorted({x for x in found if lo <= x <= hi} | {lo, hi})


def in_band(band: dict[str, Any], rule: dict[str, Any], point: dict[tuple[str, str], float]):
    if not organ_data.contains(band, point[measure(rule["lab"], rule["unit"])]):
        return False
    return all(
        organ_data.contains(a, point[measure(a["lab"], a["unit"])]) for a in band.get("also") or []
    )


def _not_better(cond: dict[str, Any], lab: str, x: float) -> bool:
    """Whether ``x`` is at least as bad as the values ``cond`` admits (past its better edge),
    ``x`` settled as the bands compare it (a value within float noise of an edge is on it)."""
    x = settled(x)
    if worse_is_lower(lab):
        hi = organ_data.high(cond)
        return hi is None or x < hi[0] or (x == hi[0] and hi[1])
    lo = organ_data.low(cond)
    return lo is None or x > lo[0] or (x == lo[0] and lo[1])


def at_least_as_bad(band: dict[str, Any], rule: dict[str, Any], point) -> bool:
    if not _not_better(band, rule["lab"], point[measure(rule["lab"], rule["unit"])]):
        return False
    return all(
        _not_better(a, a["lab"], point[measure(a["lab"], a["unit"])])
        for a in band.get("also") or []
    )


def problems(option: dict[str, Any], point: dict[tuple[str, str], float]) -> list[str]:
    """What is wrong at ``point``: an overlap (two bands of one rule) or a gap (a value at least
    as bad as a band, in no band)."""
    out = []
    for rules in contexts(option):
        matched = []
        for r in rules:
            hits = [b for b in r["bands"] if in_band(b, r, point)]
            if len(hits) > 1:
                out.append(f"overlap in the {r['lab']} rule: {hits}")
            matched += hits
        if matched:
            continue
        for r in rules:
            for b in r["bands"]:
                if at_least_as_bad(b, r, point):
                    out.append(
                        f"gap: at least as bad as the {r['lab']} band "
                        f"{organ_data.describe(b, r['unit'])} "
                        f"{[organ_data.describe(a, a['unit']) for a in b.get('also') or []]}, "
                        "but in no band (the usual dose would be given)"
                    )
    return out


def all_measures(option: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted({m for r in option["rules"] for m in measures_of(r)})


def points(option: dict[str, Any]) -> st.SearchStrategy[dict[tuple[str, str], float]]:
    return st.fixed_dictionaries(
        {
            m: st.one_of(
                st.sampled_from(edges(option, m)),
                st.floats(*RANGES[m[1]], allow_nan=False, allow_infinity=False),
            )
            for m in all_measures(option)
        }
    )


OPTIONS = options()


@pytest.mark.parametrize("drug, name, option", OPTIONS, ids=[f"{d}/{n}" for d, n, _ in OPTIONS])
def test_every_option_gives_exactly_one_outcome_everywhere(
    drug: str, name: str, option: dict[str, Any]
) -> None:
    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(points(option))
    def holds(point: dict[tuple[str, str], float]) -> None:
        found = problems(option, point)
        shown = {f"{lab} ({unit})": v for (lab, unit), v in point.items()}
        assert not found, f"{drug}, option {name}, at {shown}: {found}"

    holds()


def test_every_option_at_every_combination_of_edges() -> None:
    """The exact boundaries, exhaustively where the grid is small (two or three measures)."""
    import itertools

    for drug, name, option in OPTIONS:
        ms = all_measures(option)
        grid = [edges(option, m) for m in ms]
        if math.prod(len(g) for g in grid) > 200_000:
            continue
        for values in itertools.product(*grid):
            point = dict(zip(ms, values, strict=True))
            found = problems(option, point)
            shown = {f"{lab} ({unit})": v for (lab, unit), v in point.items()}
            assert not found, f"{drug}, option {name}, at {shown}: {found}"


def test_the_audit_patient_falls_in_a_docetaxel_eu_band() -> None:
    """AST 4, ALT 4, ALP 3 × ULN, bilirubin 0.8 mg/dL (0.8 × ULN at the default ULN 1 mg/dL):
    the audit's patient, whom data version 1 gave 100 mg/m² without an alert."""
    [option] = [o for d, n, o in OPTIONS if d == "docetaxel" and n == "eu-smpc"]
    point = {m: 0.0 for m in all_measures(option)}
    point.update({("ast", "xULN"): 4.0, ("alt", "xULN"): 4.0, ("alp", "xULN"): 3.0})
    point[("bilirubin", "xULN")] = 0.8
    assert not problems(option, point)


def engine_values(point: dict[tuple[str, str], float]) -> Any:
    """The patient of ``point`` as the engine reads one: lab values in each rule's unit, the
    kidney function a measured clearance at a BSA of 1.73 m² (indexed = absolute)."""
    from dosecalc.clinical import organ, renal
    from dosecalc.data.labs import Labs, LabValue
    from dosecalc.inputs.policy import load

    kidney = next((v for (lab, _), v in point.items() if lab == "kidney"), None)
    labs = Labs(
        tuple(
            LabValue(lab, v, unit, None, "test", f"{v}{unit}")
            for (lab, unit), v in point.items()
            if lab != "kidney"
        )
    )
    k = renal.Kidney(1.0, kidney, None, "", None, None, "", bsa_m2=1.73)
    uln, origin = organ.uln_of(load())
    return organ.Values(labs, k, uln, origin)


def one_value_per_lab(point: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    """A patient has one value of each lab: measures of one lab in two units take the first."""
    first: dict[str, float] = {}
    for (lab, _), v in sorted(point.items()):
        first.setdefault(lab, v)
    return {m: first[m[0]] for m in point}


@pytest.mark.parametrize("drug, name, option", OPTIONS, ids=[f"{d}/{n}" for d, n, _ in OPTIONS])
def test_the_engine_finds_exactly_the_bands_the_data_holds(
    drug: str, name: str, option: dict[str, Any]
) -> None:
    """organ.assess at the same points: every band that holds is a finding, none other, and
    nothing is reported missing (one outcome: a band per rule, or the usual dose)."""
    from dosecalc.clinical import organ

    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(points(option))
    def holds(point: dict[tuple[str, str], float]) -> None:
        point = one_value_per_lab(point)
        a = organ.assess(drug, engine_values(point), {drug: name})
        expected = [
            b["source"] for r in option["rules"] for b in r["bands"] if in_band(b, r, point)
        ]
        assert sorted(f.source_key for f in a.findings) == sorted(expected), point
        assert not a.missing and not a.unreadable, (point, a.missing, a.unreadable)
        if not expected:
            assert a.percent is None and not a.avoid and not a.no_recommendation

    holds()
