"""Organ-function dose adjustments: the data file (``data/organ.yaml``), and what it says for
one drug at the patient's laboratory values.

The API verify and plan share (pure functions of plain values)::

    values = organ.values_for(patient, labs, policy)         # labs + kidney function, once
    a = organ.assess("epirubicin", values, policy, protocol=spec)
    a.factor        # the dose multiplier the bands ask for (None: no band changes the dose)
    organ.alerts(a, standard=162, adjusted=81, unit="mg", applied=False)

Bands are read from the drug's option in force (policy ``organ.options``, else the file's
default). When several bands match (bilirubin and AST for epirubicin), the lowest dose wins; an
``avoid`` band makes the drug contraindicated whatever else matches.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dosecalc.base.numbers import fmt
from dosecalc.data.organ import (
    ESTIMATES,
    OrganBook,
    action,
    below_every_band,
    book,
    contains,
    describe,
    per_m2,
)

# ---------------------------------------------------------------- loading


# ---------------------------------------------------------------- the patient's values


class Values(NamedTuple):
    """Everything an organ-function rule can read: the lab values and the kidney function."""

    labs: Any  # labs.Labs
    kidney: Any  # renal.Kidney
    uln: dict[str, float]  # lab -> upper limit of normal, in the lab's unit (policy labs.uln.*)
    uln_from: dict[str, str]  # lab -> "labs.uln.ast_u_l = 48 (default: ...)"

    def read(self, lab: str, unit: str, estimate: str | None = None) -> tuple[float | None, str]:
        """(value in ``unit``, how it reads) or (None, why it cannot be read)."""
        from dosecalc.data import labs as lb

        if lab == "kidney":
            assert estimate is not None
            return self.kidney.value(estimate, unit)
        v = self.labs.latest(lab)
        if v is None:
            return None, ""
        if v.unit == unit:
            return v.value, v.shown()
        base = self.uln.get(lab)
        if base is None:
            return None, f"{v.shown()} cannot be compared in {unit}: set labs.uln.{lab}"
        if unit == lb.ULN:
            x = v.value / base
            return x, (f"{v.shown()} = {fmt(x)} × ULN ({self.uln_from[lab]})")
        x = v.value * base
        return x, f"{v.shown()} = {fmt(x)} {unit} ({self.uln_from[lab]})"


ULN_KEYS = {
    "bilirubin": "labs.uln.bilirubin_mg_dl",
    "ast": "labs.uln.ast_u_l",
    "alt": "labs.uln.alt_u_l",
    "alp": "labs.uln.alp_u_l",
}


def uln_of(policy: Any) -> tuple[dict[str, float], dict[str, str]]:
    uln, origin = {}, {}
    for lab, key in ULN_KEYS.items():
        value = policy[key]
        if value is not None:
            uln[lab] = float(value)
            origin[lab] = policy.describe(key)
    return uln, origin


def values_for(patient: Any, labs: Any, policy: Any) -> Values:
    """The patient's lab values and kidney function (computed once, for every drug)."""
    from dosecalc.clinical import renal
    from dosecalc.data.labs import LabValue, merge

    crcl = labs.latest("crcl")
    kidney = renal.kidney_function(patient, policy, crcl.value if crcl else None)
    uln, origin = uln_of(policy)
    scr = getattr(patient, "scr_mg_dl", None)
    if scr is not None and labs.latest("scr") is None:
        # --scr is the serum creatinine as --lab scr= is (reconcile_scr refuses two that
        # differ): a band on scr (epirubicin above 5 mg/dL) reads it, undated
        given = LabValue("scr", float(scr), "mg/dL", None, "--scr", f"{fmt(scr)}mg/dL")
        labs = labs._replace(values=merge([*labs.values, given]).values)
    return Values(labs, kidney, uln, origin)


# ---------------------------------------------------------------- one drug

CHILD = "adult band applied to a child; the paediatric protocol governs"


class Finding(NamedTuple):
    """A band that matches the patient's value."""

    lab: str
    value: float
    reading: str  # 'CrCl 40 mL/min by Cockcroft-Gault, actual weight (SCr 1.5 mg/dL)'
    band: str  # '≥ 40 and ≤ 50 mL/min'
    action: str  # percent | dose_at_most | avoid | no_recommendation
    percent: float | None  # of the dose; for dose_at_most, relative to the protocol dose
    dose_at_most: str | None
    text: str | None  # the source's words for the band
    source: str  # short citation
    source_key: str
    verified: bool
    note: str | None
    child: bool = False  # an adult band read with a child's kidney function
    applicable: bool = True  # verified, or unverified data allowed (data.allow_unverified)

    def as_dict(self) -> dict[str, object]:
        return {
            "lab": self.lab,
            "value": self.value,
            "reading": self.reading,
            "band": self.band,
            "action": self.action,
            "percent": self.percent,
            "dose_at_most": self.dose_at_most,
            "source": self.source,
            "verified": self.verified,
            "note": self.note,
            "child": self.child,
            "applicable": self.applicable,
        }


class Assessment(NamedTuple):
    """What the organ-function data says for one drug order at the patient's values."""

    drug: str
    option: str  # '' when the data holds no bands for the drug (only no_data)
    findings: tuple[Finding, ...]
    missing: tuple[str, ...]  # what would be checked, for labs not given
    unreadable: tuple[str, ...]  # values given that could not be read (why)
    percent: float | None  # the dose to give, in % (the lowest band); None: unchanged
    avoid: bool
    no_recommendation: bool
    no_data: tuple[dict[str, Any], ...] = ()  # organs the data holds no band for (and why)
    chosen: str = ""  # 'the data's default' or 'policy organ.options'
    kidney_missing: bool = False  # a kidney rule's function was not given

    @property
    def factor(self) -> float | None:
        return None if self.percent is None else self.percent / 100.0


def applies(when: dict[str, Any] | None, protocol: Any) -> bool:
    """Whether a rule limited by ``when`` applies to an order of ``protocol`` (a DoseSpec; None:
    not known, every rule applies)."""
    if when is None or protocol is None:
        return True
    if when.get("dose_basis") is not None:
        return bool(protocol.basis == when["dose_basis"])
    floor = ceiling = None
    if when.get("hdmtx") is not None:  # the one definition of high-dose methotrexate
        from dosecalc.data.supportive import high_dose

        level = high_dose().at_least
        floor, ceiling = (level, None) if when["hdmtx"] else (None, level)
    if when.get("dose_at_least") is not None:
        floor = per_m2(when["dose_at_least"]).amount
    if when.get("dose_below") is not None:
        ceiling = per_m2(when["dose_below"]).amount
    if floor is not None:
        return not (protocol.basis == "bsa" and protocol.amount < floor)
    if ceiling is not None:
        return not (protocol.basis == "bsa" and protocol.amount >= ceiling)
    return True


def assess(
    drug: str,
    values: Values,
    options: dict[str, str] | None = None,
    protocol: Any = None,
    data: OrganBook | None = None,
    allow_unverified: bool = False,
) -> Assessment | None:
    """The organ-function assessment of ``drug`` (None: the data does not name it).

    ``protocol`` is the order's per-day DoseSpec: it decides rules limited to some doses
    (``when``) and turns a ``dose_at_most`` band into a percentage (only for doses per m²).
    A band marked unverified is reported but never lowers the dose unless
    ``allow_unverified`` (policy data.allow_unverified); its avoid or no-dose finding holds
    whatever the policy, being the cautious reading."""
    data = data or book()
    if drug not in data.entries:
        return None
    no_data = tuple({**g, "cite": data.cite(g["source"])} for g in data.no_data(drug))
    chosen = data.option(drug, options)
    if chosen is None:
        return Assessment(drug, "", (), (), (), None, False, False, no_data)
    name, option = chosen
    how = "policy organ.options" if (options or {}).get(drug) else "the data's default"
    findings: list[Finding] = []
    missing: list[str] = []
    unreadable: list[str] = []
    kidney_missing = False
    for rule in option["rules"]:
        lab, unit, estimate = rule["lab"], rule["unit"], rule.get("estimate")
        if not applies(rule.get("when"), protocol):
            continue
        value, reading = values.read(lab, unit, estimate)
        if value is None and lab == "direct_bilirubin" and not reading:
            total, words = values.read("bilirubin", unit)
            if total is not None and below_every_band(rule["bands"], total):
                continue  # the direct bilirubin is at most the total: no band can hold it
            if total is not None:
                unreadable.append(
                    f"direct bilirubin: not given, and the total ({words}) leaves it possibly "
                    f"{' or '.join(describe(b, unit) for b in rule['bands'])}: give the direct "
                    "bilirubin"
                )
                continue
        if value is None:
            what = _lab_words(lab, estimate, values.kidney.child)
            if reading:
                unreadable.append(f"{what}: {reading}")
            else:
                missing.append(what)
                kidney_missing = kidney_missing or lab == "kidney"
            continue
        child = (
            lab == "kidney"
            and values.kidney.child
            and values.kidney.measured_ml_min is None
            and not values.kidney.gfr_used
        )
        for band in rule["bands"]:
            if not contains(band, value):
                continue
            also_ok, also_words = True, []
            for cond in band.get("also") or []:
                other, words = values.read(cond["lab"], cond["unit"])
                if other is None:
                    also_ok = False
                    (unreadable if words else missing).append(
                        f"{cond['lab']} (for the band {lab} {describe(band, unit)} "
                        f"with {cond['lab']} {describe(cond, cond['unit'])})"
                        + (f": {words}" if words else "")
                    )
                    break
                if not contains(cond, other):
                    also_ok = False
                    break
                also_words.append(f"{words}, {cond['lab']} {describe(cond, cond['unit'])}")
            if not also_ok:
                continue
            percent = band.get("percent")
            limit = band.get("dose_at_most")
            if limit is not None:
                percent = percent_of(limit, protocol)
            findings.append(
                Finding(
                    lab=lab
                    if lab != "kidney"
                    else ESTIMATES["schwartz-bedside" if child else estimate or ""],
                    value=value,
                    reading=reading + ("; " + "; ".join(also_words) if also_words else ""),
                    band=f"{_band_lab(lab, unit)} {describe(band, unit)}"
                    + "".join(
                        f" with {c['lab']} {describe(c, c['unit'])}" for c in band.get("also") or []
                    ),
                    action=action(band),
                    percent=None if percent is None else float(percent),
                    dose_at_most=limit,
                    text=band.get("text"),
                    source=data.cite(band["source"]),
                    source_key=band["source"],
                    verified=bool(band["verified"]),
                    note=band.get("note"),
                    child=child,
                    applicable=bool(band["verified"]) or allow_unverified,
                )
            )
    avoid = any(f.action == "avoid" for f in findings)
    norec = any(f.action == "no_recommendation" for f in findings)
    percents = [
        f.percent for f in findings if f.percent is not None and f.percent < 100 and f.applicable
    ]
    return Assessment(
        drug,
        name,
        tuple(findings),
        tuple(dict.fromkeys(missing)),
        tuple(dict.fromkeys(unreadable)),
        min(percents) if percents else None,
        avoid,
        norec,
        no_data,
        how,
        kidney_missing,
    )


def percent_of(limit: str, protocol: Any) -> float | None:
    """A 'dose_at_most 20 mg/m2' band as a percentage of the protocol's dose per m² (None when
    the protocol dose is not per m², or already at or under the limit)."""
    cap = per_m2(limit)
    if protocol is None or protocol.basis != "bsa" or protocol.unit != cap.unit:
        return None
    if protocol.amount <= cap.amount:
        return None
    return 100.0 * cap.amount / protocol.amount


def _band_lab(lab: str, unit: str) -> str:
    if lab == "kidney":
        return "kidney function"
    return lab


def _lab_words(lab: str, estimate: str | None, child: bool = False) -> str:
    if lab == "kidney" and child:  # no adult estimate is computed under 18 (renal.py)
        return (
            f"kidney function ({ESTIMATES['schwartz-bedside']}, 1-18 years: --scr with "
            "--height, or a measured --lab crcl)"
        )
    if lab == "kidney":
        return (
            f"kidney function ({ESTIMATES[estimate or '']}: --scr with --age, --sex and "
            "--weight, or a measured --lab crcl)"
        )
    return lab


# ---------------------------------------------------------------- warnings


def _and(items: tuple[str, ...]) -> str:
    """'bilirubin', 'bilirubin and ast', 'bilirubin, ast and scr'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def alerts(
    a: Assessment,
    standard: float | None = None,
    adjusted: float | None = None,
    unit: str = "mg",
    applied: bool = False,
    where: dict[str, Any] | None = None,
) -> list[Any]:
    """The warnings of one assessment: ORGAN_FUNCTION_ADJUSTMENT / _CONTRAINDICATION /
    _NO_RECOMMENDATION (critical), each naming the measure that decided (the value, how it was
    obtained), the band, the option and the source; a line for the labs that would have been
    checked (a warning for kidney function, which a renally handled drug's dose needs); and
    ORGAN_FUNCTION_NO_DATA for an organ the data holds no band for."""
    from dosecalc.base.alerts import CRITICAL, INFO, WARNING, Alert

    where = dict(where or {})
    out: list[Alert] = []
    for f in a.findings:
        said = f" ({f.text})" if f.text else ""
        doubt = "" if f.verified else f" [unverified: {f.note}]"
        child = f" [{CHILD}]" if f.child else ""
        head = f"{a.drug}: {f.reading}; {a.drug} band {f.band}{said}"
        tail = f" ({f.source}; option {a.option}, {a.chosen}){doubt}{child}"
        if f.action == "avoid":
            out.append(
                Alert(
                    CRITICAL,
                    "ORGAN_FUNCTION_CONTRAINDICATION",
                    f"{head} → avoid {a.drug}{tail}",
                    drug=a.drug,
                    **where,
                )
            )
        elif f.action == "no_recommendation":
            out.append(
                Alert(
                    CRITICAL,
                    "ORGAN_FUNCTION_NO_RECOMMENDATION",
                    f"{head} → the source has no dose for this range; decide with the "
                    f"prescriber before giving {a.drug}{tail}",
                    drug=a.drug,
                    **where,
                )
            )
        else:
            if f.percent is None:
                what = (
                    f"at most {f.dose_at_most}: the protocol dose is already at or under it, "
                    "or is not per m², so no change"
                )
            else:
                what = f"{fmt(f.percent)} % of the dose"
                if f.dose_at_most:
                    what = f"at most {f.dose_at_most} = {what}"
                if not f.applicable:
                    what += (
                        ", not applied: this band is unverified in dosecalc's data and decides "
                        "nothing unless the institution, having checked it, allows unverified "
                        "data (data.allow_unverified)"
                    )
                elif standard is not None and f.percent == a.percent and adjusted is not None:
                    what += f": {fmt(standard)} → {fmt(adjusted)} {unit}"
                if f.applicable and f.percent == a.percent:
                    what += (
                        ", applied (--adjust-organ)"
                        if applied
                        else ", not applied: the doses shown are unadjusted (give "
                        "--adjust-organ to plan the adjusted dose)"
                    )
            out.append(
                Alert(
                    CRITICAL,
                    "ORGAN_FUNCTION_ADJUSTMENT",
                    f"{head} → {what}{tail}",
                    drug=a.drug,
                    **where,
                )
            )
    if a.unreadable:
        out.append(
            Alert(
                WARNING,
                "ORGAN_FUNCTION_NOT_CHECKED",
                f"{a.drug}: not checked against the organ-function data (option {a.option}): "
                + "; ".join(a.unreadable),
                drug=a.drug,
                **where,
            )
        )
    if a.missing:
        kidney = "; give it before dosing" if a.kidney_missing else ""
        out.append(
            Alert(
                WARNING if a.kidney_missing else INFO,
                "ORGAN_FUNCTION_NOT_CHECKED",
                f"{a.drug}: its dose depends on "
                + _and(a.missing)
                + f" (organ-function data, option {a.option}); not given, so not checked{kidney}",
                drug=a.drug,
                **where,
            )
        )
    for gap in a.no_data:
        organ = "kidney" if gap["organ"] == "renal" else "liver"
        if gap.get("verified"):
            why = (
                f"the source states no {organ}-function dose"
                + (f" ({gap['text']})" if gap.get("text") else "")
                + f"; source: {gap['cite']}"
            )
        else:
            why = f"dosecalc holds no {organ}-function band for it (unverified: {gap.get('note')})"
        out.append(
            Alert(
                INFO,
                "ORGAN_FUNCTION_NO_DATA",
                f"{a.drug}: {organ} function not checked: {why}",
                drug=a.drug,
                **where,
            )
        )
    return out
