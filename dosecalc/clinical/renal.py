"""Renal function: the GFR for carboplatin's Calvert dose, and the kidney function every other
drug's organ-function rule reads (:func:`kidney_function`), computed once per plan.

Calvert AH et al. J Clin Oncol 1989;7:1748-56: dose (mg) = target AUC × (GFR + 25).
The GFR is a clearance in mL/min: given with ``--gfr`` (an estimate unless ``--gfr-measured``
says it was measured; ``--lab crcl=`` is a measured clearance), or estimated by Cockcroft–Gault
(Nephron 1976;16:31-41) from age, sex, weight and serum creatinine, under the policy's weight
choice and creatinine floor. An estimate is held to the policy's GFR cap (FDA 2010 / NCCN: cap
an estimated GFR at 125 mL/min); a measured clearance is used as measured, and one above the cap
shows the dose at the cap beside it.
Calvert's formula was derived in patients with GFRs of 33-135 mL/min (Calvert 1989, as Shibata
et al. Cancer Chemother Pharmacol 2015, PMID 25957958, state it; droracle.ai quotes 33-136):
below that range it overdoses (the same abstract: 'the Calvert formula causes carboplatin
overdosing by overestimating the carboplatin clearance'), so such a GFR is flagged critical.

CKD-EPI 2021 (race-free; Inker LA et al. N Engl J Med 2021;385:1737-49, the equation as the
National Kidney Foundation prints it): eGFR = 142 x min(SCr/k,1)^a x max(SCr/k,1)^-1.200 x
0.9938^age [x 1.012 female], k = 0.7 (F) / 0.9 (M), a = -0.241 (F) / -0.302 (M), in
mL/min/1.73 m²; ADDIKD and eviQ de-index it to the patient's BSA for dosing (x BSA / 1.73).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from dosecalc.base.errors import DosecalcError, fail
from dosecalc.base.numbers import fmt, measured, past
from dosecalc.clinical.patient import Patient, adjusted_weight, devine_ibw
from dosecalc.clinical.policy import Policy

CALVERT_GFR_ML_MIN = (33.0, 135.0)  # the GFRs Calvert's formula was derived in


@dataclass(frozen=True)
class Renal:
    gfr_ml_min: float  # the value used in Calvert
    source: str  # "given" | "cockcroft-gault"
    uncapped_ml_min: float | None  # the estimate before the cap, when the cap lowered it
    trace: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    critical: tuple[str, ...] = ()  # a GFR below the range Calvert's formula was derived in
    measured: bool = False  # a measured clearance (--gfr-measured, --lab crcl)
    cap_ml_min: float | None = None  # the policy's cap a measured GFR was above (both doses)

    def capped(self) -> str | None:
        """What the cap did to a GFR it lowered (GFR_CAPPED), else None."""
        if self.uncapped_ml_min is None:
            return None
        if self.measured:
            why = "the policy caps a measured one too (carboplatin.cap_given_gfr)"
        elif self.source == "given":
            why = "--gfr without --gfr-measured is an estimate (say --gfr-measured if measured)"
        else:
            why = "Cockcroft-Gault's is an estimate"
        return (
            f"carboplatin: the GFR {fmt(self.uncapped_ml_min)} mL/min is above the policy's "
            f"cap (carboplatin.gfr_cap_ml_min), and {why}: Calvert uses "
            f"{fmt(self.gfr_ml_min)} mL/min"
        )


def cockcroft_gault(age_years: float, weight_kg: float, scr_mg_dl: float, sex: str) -> float:
    """CrCl (mL/min) = (140 − age) × weight / (72 × SCr), × 0.85 for women."""
    crcl = (140.0 - age_years) * weight_kg / (72.0 * scr_mg_dl)
    return crcl * 0.85 if sex == "female" else crcl


def for_calvert(patient: Patient, policy: Policy, measured: float | None = None) -> Renal:
    """The GFR for Calvert (flagged when below the range the formula was derived in), or an
    error that says what is missing. ``measured``: a measured creatinine clearance (--lab crcl),
    used as given like --gfr."""
    found = _for_calvert(patient, policy, measured)
    lo = CALVERT_GFR_ML_MIN[0]
    if found.gfr_ml_min >= lo:
        return found
    from dataclasses import replace

    how = "as given" if found.source == "given" else "by Cockcroft-Gault"
    return replace(
        found,
        critical=(
            f"carboplatin: the GFR {fmt(found.gfr_ml_min)} mL/min ({how}) is below the "
            f"{fmt(lo)}-{fmt(CALVERT_GFR_ML_MIN[1])} mL/min the Calvert formula was derived in "
            "(Calvert 1989); below it the formula overestimates carboplatin clearance and "
            "overdoses: check the creatinine and measure the GFR before dosing",
        ),
    )


def _for_calvert(patient: Patient, policy: Policy, measured: float | None) -> Renal:
    cap = policy["carboplatin.gfr_cap_ml_min"]
    cap_why = policy.describe("carboplatin.gfr_cap_ml_min")
    if patient.gfr_ml_min is not None or measured is not None:
        gfr = patient.gfr_ml_min if patient.gfr_ml_min is not None else measured
        assert gfr is not None
        was_measured = patient.gfr_measured if patient.gfr_ml_min is not None else True
        # a child's is measured (docs/labs.md): --gfr-measured, or a --lab crcl (which a --gfr
        # given beside it must equal)
        child_measured = was_measured or measured is not None
        child = patient.age_years is not None and patient.age_years < ADULT_YEARS
        if child and not child_measured:
            raise fail(
                "--gfr",
                f"carboplatin is dosed by AUC (Calvert), and the patient is "
                f"{_years(patient.age_years)} years old: a child's GFR must be measured, and the "
                f"GFR {fmt(gfr)} mL/min given (--gfr, or an order's patient gfr) is an estimate "
                "unless --gfr-measured says it was measured (a child's eGFR is per 1.73 m², not "
                "the child's own mL/min): give the measured GFR in mL/min (--gfr VALUE with "
                "--gfr-measured, or --lab crcl=VALUE@DATE), or dose by the protocol's rule for "
                "children (rules: in the regimen)",
            )
        if patient.gfr_ml_min is None:
            option = "--lab crcl: a measured clearance"
        elif was_measured:
            option = "--gfr with --gfr-measured: a measured clearance"
        else:
            option = "--gfr: an estimate (say --gfr-measured if it was measured)"
        trace = [f"GFR {fmt(gfr)} mL/min as given ({option})"]
        if child and patient.bsa_m2:
            # a child's GFR is often reported per 1.73 m²: show what this one is per 1.73 m²
            trace.append(
                f"GFR {fmt(gfr)} mL/min is {fmt(gfr * 1.73 / patient.bsa_m2)} mL/min/1.73 m² "
                f"at BSA {patient.bsa_m2:.2f} m²: Calvert takes the child's own mL/min; a value "
                "reported per 1.73 m² is given × BSA / 1.73"
            )
        warnings: list[str] = []
        if cap is not None and gfr > cap:
            if not was_measured or policy["carboplatin.cap_given_gfr"]:
                trace.append(f"capped at {fmt(cap)} mL/min ({cap_why})")
                return Renal(cap, "given", gfr, tuple(trace), measured=was_measured)
            warnings.append(
                f"the measured GFR {fmt(gfr)} mL/min is above the {fmt(cap)} mL/min cap "
                f"({policy.short('carboplatin.gfr_cap_ml_min')}), which holds for estimates: "
                "the dose uses it as measured, and the dose at the cap is shown beside it; "
                "check that it was measured (--set carboplatin.cap_given_gfr=true caps it too)"
            )
            return Renal(gfr, "given", None, tuple(trace), tuple(warnings), (), True, cap)
        return Renal(gfr, "given", None, tuple(trace), tuple(warnings), measured=was_measured)
    # as kidney_function says: no adult estimate for a child (whatever else is missing)
    if patient.age_years is not None and patient.age_years < ADULT_YEARS:
        raise fail(
            "--gfr",
            f"carboplatin is dosed by AUC (Calvert), which needs the GFR in mL/min; the patient "
            f"is {_years(patient.age_years)} years old, and Cockcroft-Gault was derived in adults "
            "(it is not computed under 18): give a measured GFR (--gfr VALUE with "
            "--gfr-measured, or --lab crcl=VALUE@DATE), or dose by the protocol's rule for "
            "children (rules: in the regimen)",
        )
    missing = [
        n
        for n, v in (
            ("--scr", patient.scr_mg_dl),
            ("--age", patient.age_years),
            ("--sex", patient.sex),
            ("--weight", patient.weight_kg),
        )
        if v is None
    ]
    if missing:
        raise fail(
            missing[0],
            "carboplatin is dosed by AUC (Calvert), which needs the GFR: "
            "give --gfr, or --scr with --age, --sex and --weight for Cockcroft-Gault "
            f"(missing: {', '.join(missing)})",
        )
    assert patient.scr_mg_dl is not None and patient.age_years is not None
    assert patient.sex is not None and patient.weight_kg is not None
    trace = []
    scr = patient.scr_mg_dl
    floor = policy["carboplatin.scr_floor_mg_dl"]
    if floor is not None and scr < floor:
        trace.append(
            f"SCr {fmt(scr)} mg/dL raised to {fmt(floor)} "
            f"({policy.describe('carboplatin.scr_floor_mg_dl')})"
        )
        scr = floor
    weight, which = _cg_weight(patient, policy)
    crcl = cockcroft_gault(patient.age_years, weight, scr, patient.sex)
    trace.append(
        f"Cockcroft-Gault: (140 − {fmt(patient.age_years)} y) × {fmt(weight)} kg ({which}) / "
        f"(72 × SCr {fmt(scr)} mg/dL){' × 0.85 (female)' if patient.sex == 'female' else ''}"
        f" = {fmt(crcl)} mL/min"
    )
    if cap is not None and crcl > cap:
        trace.append(f"capped at {fmt(cap)} mL/min ({cap_why})")
        return Renal(cap, "cockcroft-gault", crcl, tuple(trace))
    return Renal(crcl, "cockcroft-gault", None, tuple(trace))


def _cg_weight(
    patient: Patient, policy: Policy, key: str = "carboplatin.cockcroft_gault_weight"
) -> tuple[float, str]:
    """The weight Cockcroft-Gault uses under the policy ``key`` (carboplatin's Calvert dose, or
    the organ-function bands' own choice) and how it reads."""
    rule = policy[key]
    if rule == "same-as-carboplatin":
        key = "carboplatin.cockcroft_gault_weight"
        rule = policy[key]
    actual = patient.weight_kg
    assert actual is not None
    if rule == "actual":
        return actual, "actual weight"
    if patient.height_cm is None or patient.sex is None:
        raise fail(
            "--height",
            f"Cockcroft-Gault with {rule} body weight (policy {key}) needs --height and --sex",
        )
    ideal = devine_ibw(patient.height_cm, patient.sex)
    if rule == "ideal":
        return ideal, "ideal weight, Devine"
    bmi = actual / (patient.height_cm / 100) ** 2
    if rule == "adjusted-if-bmi-25" and bmi < 25:
        return actual, f"actual weight, BMI {bmi:.1f} < 25"
    if actual <= ideal:
        return actual, "actual weight, not above ideal"
    return adjusted_weight(actual, ideal), f"adjusted weight, BMI {bmi:.1f}"


# ---------------------------------------------------------------- kidney function for every drug

PER_173 = "mL/min/1.73m2"
ADULT_YEARS = 18.0  # Cockcroft-Gault and CKD-EPI were derived in adults
# Bedside Schwartz (Schwartz GJ et al. J Am Soc Nephrol 2009;20:629-37): eGFR (mL/min/1.73 m²)
# = 0.413 x height (cm) / SCr (mg/dL, IDMS-traceable); the National Kidney Foundation: 'for use
# in children 1-18 years old' (data/organ.yaml, source schwartz-2009).
SCHWARTZ_K = 0.413
SCHWARTZ_YEARS = (1.0, 18.0)


def _years(age: float) -> str:
    """An age beside the limits it is held to (18: adult equations; 1: bedside Schwartz) with
    the digits it takes not to print as one it is not (17.999, not 18)."""
    return past(age, ADULT_YEARS, SCHWARTZ_YEARS[0])


def bedside_schwartz(height_cm: float, scr_mg_dl: float) -> float:
    """eGFR in mL/min/1.73 m² (bedside Schwartz 2009)."""
    return SCHWARTZ_K * height_cm / scr_mg_dl


class Kidney(NamedTuple):
    """The patient's kidney function, computed once for every drug whose dose depends on it."""

    scr_mg_dl: float | None
    measured_ml_min: float | None  # --lab crcl: wins over any estimate
    cockcroft_gault_ml_min: float | None
    cockcroft_gault_trace: str  # how it was computed, or why it could not be
    ckd_epi_ml_min_173: float | None  # CKD-EPI 2021, mL/min/1.73 m²
    ckd_epi_ml_min: float | None  # de-indexed to the patient's BSA
    ckd_epi_trace: str
    bsa_m2: float | None = None
    child: bool = False  # younger than 18: every kidney rule reads the child's estimate
    schwartz_ml_min_173: float | None = None  # bedside Schwartz 2009 (children 1-18 years)
    schwartz_trace: str = ""
    cockcroft_gault_weight: str = ""  # 'actual weight', 'adjusted weight, BMI 31.2'
    gfr_ml_min: float | None = None  # --gfr (or the order's gfr): after a measured --lab crcl
    gfr_measured: bool = False  # --gfr-measured

    def native(self, estimate: str) -> tuple[float | None, str, str]:
        """(value, its unit, how it reads) of the estimate a rule names, for this patient: a
        child's rules read bedside Schwartz; (None, '', why not) when it cannot be had. The
        value is printed with the digits it takes not to look like a band's edge it is not
        (CrCl 50.04, not 50, beside a band above 50)."""
        scr = f"SCr {measured(self.scr_mg_dl or 0)} mg/dL"
        if self.child:
            v = self.schwartz_ml_min_173
            if v is None:
                return None, "", self.schwartz_trace
            return v, PER_173, f"eGFR {measured(v)} mL/min/1.73 m² by bedside Schwartz 2009 ({scr})"
        if estimate == "cockcroft-gault":
            v = self.cockcroft_gault_ml_min
            if v is None:
                return None, "", self.cockcroft_gault_trace
            return (
                v,
                "mL/min",
                (
                    f"CrCl {measured(v)} mL/min by Cockcroft-Gault, {self.cockcroft_gault_weight} ({scr})"
                ),
            )
        if estimate in ("ckd-epi-2021", "ckd-epi-deindexed"):
            v = self.ckd_epi_ml_min_173
            if v is None:
                return None, "", self.ckd_epi_trace
            return v, PER_173, f"eGFR {measured(v)} mL/min/1.73 m² by CKD-EPI 2021 ({scr})"
        raise ValueError(f"unknown kidney-function estimate {estimate!r}")

    def value(self, estimate: str, unit: str = "mL/min") -> tuple[float | None, str]:
        """(value in ``unit``, how it was obtained) for a rule that names ``estimate`` and
        compares in ``unit`` (mL/min, or mL/min/1.73m2: indexed to 1.73 m² of BSA). A measured
        clearance wins; like is compared with like (× 1.73 / BSA, or × BSA / 1.73). (None, why
        not) when it cannot be had; (None, '') when nothing was given to estimate from."""
        if self.measured_ml_min is not None:
            v, native, reading = (
                self.measured_ml_min,
                "mL/min",
                f"measured creatinine clearance {measured(self.measured_ml_min)} mL/min (--lab crcl)",
            )
        elif self.gfr_used:
            v, native, reading = self.gfr_ml_min or 0.0, "mL/min", self.gfr_words()
        elif self.scr_mg_dl is None:
            return None, ""  # nothing given to estimate from: a lab not given, not an error
        else:
            found, native, reading = self.native(estimate)
            if found is None:
                return None, reading
            v = found
        if native == unit:
            return v, reading
        if self.bsa_m2 is None:
            return None, (
                f"{reading} cannot be compared with bands in {_shown(unit)} without the BSA "
                "(give --height and --weight, or --bsa)"
            )
        if unit == PER_173:
            x = v * 1.73 / self.bsa_m2
            return x, f"{reading} = {fmt(x)} mL/min/1.73 m² at BSA {self.bsa_m2:.2f} m²"
        x = v * self.bsa_m2 / 1.73
        return x, f"{reading} = {fmt(x)} mL/min at BSA {self.bsa_m2:.2f} m²"

    @property
    def gfr_used(self) -> bool:
        """Whether the --gfr given decides the kidney bands: measured, or an estimate where no
        serum creatinine gives the data's own (an order's old estimate never overrules the
        creatinine of today)."""
        return self.gfr_ml_min is not None and (self.gfr_measured or self.scr_mg_dl is None)

    def gfr_words(self, more: str = "") -> str:
        how = "measured, --gfr-measured" if self.gfr_measured else "an estimate, --gfr"
        return f"GFR {measured(self.gfr_ml_min or 0)} mL/min as given ({how}{more})"

    def as_dict(self) -> dict[str, object]:
        return {
            "scr_mg_dl": self.scr_mg_dl,
            "measured_crcl_ml_min": self.measured_ml_min,
            "given_gfr_ml_min": self.gfr_ml_min,
            "cockcroft_gault_ml_min": self.cockcroft_gault_ml_min,
            "cockcroft_gault": self.cockcroft_gault_trace,
            "ckd_epi_2021_ml_min_per_1_73m2": self.ckd_epi_ml_min_173,
            "ckd_epi_2021_ml_min": self.ckd_epi_ml_min,
            "ckd_epi_2021": self.ckd_epi_trace,
            "child": self.child,
            "bedside_schwartz_ml_min_per_1_73m2": self.schwartz_ml_min_173,
            "bedside_schwartz": self.schwartz_trace,
        }

    def summary(self) -> str:
        """'CrCl 41.3 mL/min (Cockcroft-Gault); eGFR 47 mL/min/1.73 m² (CKD-EPI 2021) = 43 mL/min'."""
        parts = []
        if self.measured_ml_min is not None:
            parts.append(f"measured CrCl {fmt(self.measured_ml_min)} mL/min (used for every drug)")
        elif self.gfr_used:
            parts.append(self.gfr_words("; used for every drug"))
        elif self.gfr_ml_min is not None:
            parts.append(self.gfr_words("; Calvert only: the kidney bands read the SCr"))
        if self.cockcroft_gault_ml_min is not None:
            parts.append(f"CrCl {fmt(self.cockcroft_gault_ml_min)} mL/min (Cockcroft-Gault)")
        if self.ckd_epi_ml_min_173 is not None:
            de = (
                f" = {fmt(self.ckd_epi_ml_min)} mL/min at the patient's BSA"
                if self.ckd_epi_ml_min is not None
                else ""
            )
            parts.append(f"eGFR {fmt(self.ckd_epi_ml_min_173)} mL/min/1.73 m² (CKD-EPI 2021){de}")
        if self.schwartz_ml_min_173 is not None:
            parts.append(
                f"eGFR {fmt(self.schwartz_ml_min_173)} mL/min/1.73 m² (bedside Schwartz, child)"
            )
        return "; ".join(parts)


def _shown(unit: str) -> str:
    return "mL/min/1.73 m²" if unit == PER_173 else unit


def ckd_epi_2021(scr_mg_dl: float, age_years: float, sex: str) -> float:
    """eGFR in mL/min/1.73 m² (CKD-EPI 2021 creatinine equation, race-free)."""
    female = sex == "female"
    k, a = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = scr_mg_dl / k
    egfr = 142.0 * min(ratio, 1.0) ** a * max(ratio, 1.0) ** -1.200 * 0.9938**age_years
    return egfr * 1.012 if female else egfr


def kidney_function(patient: Patient, policy: Policy, measured: float | None = None) -> Kidney:
    """Cockcroft-Gault (the weight of policy organ.cockcroft_gault_weight; without carboplatin's
    SCr floor and GFR cap, which are dose choices for Calvert), CKD-EPI 2021 and, for a child,
    bedside Schwartz 2009, each with how it was computed or why it could not be."""
    scr, age, sex, weight = patient.scr_mg_dl, patient.age_years, patient.sex, patient.weight_kg
    missing = [
        n
        for n, v in (("--scr", scr), ("--age", age), ("--sex", sex), ("--weight", weight))
        if v is None
    ]
    cg: float | None = None
    which = ""
    if missing:
        cg_trace = f"Cockcroft-Gault not computed: needs {', '.join(missing)}"
    elif age is not None and age < ADULT_YEARS:
        cg_trace = (
            f"Cockcroft-Gault not computed: it was derived in adults and the patient is "
            f"{_years(age)} years old; give a measured clearance (--lab crcl)"
        )
    else:
        assert scr is not None and age is not None and sex is not None
        try:
            used, which = _cg_weight(patient, policy, "organ.cockcroft_gault_weight")
        except DosecalcError as e:
            why = e.problems[0].message.removeprefix("Cockcroft-Gault ")
            cg_trace = f"Cockcroft-Gault not computed: {why}"
        else:
            cg = cockcroft_gault(age, used, scr, sex)
            cg_trace = (
                f"Cockcroft-Gault: (140 − {fmt(age)} y) × {fmt(used)} kg ({which}, "
                f"{policy.short('organ.cockcroft_gault_weight')}) / "
                f"(72 × SCr {fmt(scr)} mg/dL){' × 0.85 (female)' if sex == 'female' else ''}"
                f" = {fmt(cg)} mL/min"
            )
    epi = epi_abs = None
    gaps = [n for n, v in (("--scr", scr), ("--age", age), ("--sex", sex)) if v is None]
    if gaps:
        epi_trace = f"CKD-EPI 2021 not computed: needs {', '.join(gaps)}"
    elif age is not None and age < ADULT_YEARS:
        epi_trace = (
            f"CKD-EPI 2021 not computed: it is for adults (the patient is {_years(age)} years old)"
        )
    else:
        assert scr is not None and age is not None and sex is not None
        epi = ckd_epi_2021(scr, age, sex)
        epi_trace = (
            f"CKD-EPI 2021: SCr {fmt(scr)} mg/dL, {fmt(age)} y, {sex} = {fmt(epi)} mL/min/1.73 m²"
        )
        if patient.bsa_m2 is not None:
            epi_abs = epi * patient.bsa_m2 / 1.73
            epi_trace += f", × BSA {patient.bsa_m2:.2f} m² / 1.73 = {fmt(epi_abs)} mL/min"
        else:
            epi_trace += "; not de-indexed (no BSA)"
    child = age is not None and age < ADULT_YEARS
    schwartz, schwartz_trace = _schwartz(patient, policy) if child else (None, "")
    return Kidney(
        scr,
        measured,
        cg,
        cg_trace,
        epi,
        epi_abs,
        epi_trace,
        patient.bsa_m2,
        child,
        schwartz,
        schwartz_trace,
        which,
        patient.gfr_ml_min,
        patient.gfr_measured,
    )


def _schwartz(patient: Patient, policy: Policy) -> tuple[float | None, str]:
    """A child's bedside Schwartz eGFR, or why it is not computed."""
    age, scr, height = patient.age_years, patient.scr_mg_dl, patient.height_cm
    assert age is not None
    if policy["organ.kidney_estimate_child"] == "measured-only":
        return None, (
            f"the patient is {_years(age)} years old and "
            f"{policy.short('organ.kidney_estimate_child')}: give a measured clearance "
            "(--lab crcl)"
        )
    if age < SCHWARTZ_YEARS[0]:
        return None, (
            f"the patient is {_years(age)} years old: bedside Schwartz is for children 1-18 years "
            "and adult equations do not apply; give a measured clearance (--lab crcl)"
        )
    if scr is None or height is None:
        need = " and ".join(n for n, v in (("--scr", scr), ("--height", height)) if v is None)
        return None, f"bedside Schwartz (a child's eGFR) not computed: needs {need}"
    v = bedside_schwartz(height, scr)
    return v, (
        f"bedside Schwartz 2009 (the patient is {_years(age)} years old): 0.413 × {fmt(height)} cm "
        f"/ SCr {fmt(scr)} mg/dL = {fmt(v)} mL/min/1.73 m²"
    )
