"""Institution policy: every contested dosing choice as a named, cited, overridable value.

Real pharmacies disagree (carboplatin GFR cap, BSA cap, dosing weight, rounding, anthracycline
equivalence...). Each choice is a setting with a default, the source that default follows, and
where the value in force came from: the default, a policy file (TOML) or ``--set KEY=VALUE``.
The policy file is ``--policy FILE``, else ``$DOSECALC_POLICY``, else ``policy.toml`` in the
user's config folder when it exists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dosecalc.base import strict

# The widest rounding, banding or verification tolerance a policy may set: the HOPA position
# statement (Fahrenbruch R et al. J Oncol Pract 2018) accepts rounding cytotoxic and biologic
# doses within 10 % of the ordered dose, and NHS England dose banding stays within 6 % (standard
# chemotherapy) and 10 % (biologicals, NICE KTT22). A dose further from the computed one than
# that is not rounding; applying the same bound to verification is dosecalc's choice.
TOLERANCE_MAX_PERCENT = 10.0


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    why: str  # the source the default follows
    check: Callable[[Any], Any]  # value → normalised value; ValueError with what is valid
    help: str


def _choice(*names: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.strip().lower() not in names:
            from dosecalc.base.errors import did_you_mean

            hint = did_you_mean(value, names) if isinstance(value, str) else ""
            shown = "an empty value" if value == "" else repr(show(value))
            raise ValueError(f"{shown} is not one of {', '.join(names)}{hint}")
        return value.strip().lower()

    return check


def _number(lo: float, hi: float, none: bool = False) -> Callable[[Any], float | None]:
    """A number from ``lo`` to ``hi`` (read by :mod:`dosecalc.strict`); with ``none``, also the
    word ``none`` for no limit. An empty value is an error, never "no limit"."""
    valid = f"give a number from {lo:g} to {hi:g}" + (", or none for no limit" if none else "")

    def check(value: Any) -> float | None:
        if isinstance(value, str) and not value.strip():
            raise ValueError(f"the value is empty; {valid}")
        if none and (value is None or (isinstance(value, str) and value.strip().lower() == "none")):
            return None
        if isinstance(value, bool):
            raise ValueError(f"{show(value)!r} is not a number; {valid}")
        try:
            number = strict.number(value)
        except ValueError as e:
            raise ValueError(f"{e}; {valid}") from None
        if not lo <= number <= hi:
            raise ValueError(f"{show(value)} is outside {lo:g}-{hi:g}")
        return number

    return check


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else None
    if text in ("true", "yes", "on"):
        return True
    if text in ("false", "no", "off"):
        return False
    shown = "an empty value" if text == "" else repr(show(value))
    raise ValueError(f"{shown} is not true or false")


def _formula(value: Any) -> str:
    from dosecalc.base.errors import DosecalcError
    from dosecalc.clinical.patient import bsa_formula

    if not isinstance(value, str):
        raise ValueError(f"{show(value)!r} is not a formula name")
    try:
        return bsa_formula(value)
    except DosecalcError as e:
        raise ValueError(e.problems[0].message) from None


def _equivalence(value: Any) -> str | None:
    """The name of an equivalence table of the ceilings data (None: the data's default)."""
    if value is None:
        return None
    from dosecalc.base.errors import did_you_mean
    from dosecalc.data.ceilings import book

    tables = book().tables
    if not isinstance(value, str):
        shown = repr(value) if isinstance(value, list | dict) else repr(show(value))
        raise ValueError(
            f"{shown} is not the name of a table; give one of {', '.join(tables)} (in quotes)"
        )
    if value.strip().lower() not in tables:
        shown = "an empty value" if value == "" else repr(show(value))
        hint = did_you_mean(value, tuple(tables)) if isinstance(value, str) else ""
        raise ValueError(
            f"{shown} is not an equivalence table; give one of {', '.join(tables)}{hint}"
        )
    return value.strip().lower()


class EntryError(ValueError):
    """A bad entry of a table setting; ``entry`` is its key, so the message can name its line."""

    def __init__(self, entry: str, message: str) -> None:
        super().__init__(f"{entry}: {message}")
        self.entry = entry


def _table(kind: str) -> Callable[[Any], dict[str, Any]]:
    """A mapping drug → list of positive numbers (strengths, band doses) or → option name."""

    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError("must be a table of drug = value")
        from dosecalc.data import drugs
        from dosecalc.data.ceilings import EQUIVALENT

        out: dict[str, Any] = {}
        for name, item in value.items():
            equivalent = drugs.fold(str(name)) == drugs.fold(EQUIVALENT)
            drug = EQUIVALENT if kind == "ceiling options" and equivalent else _policy_drug(name)
            if kind == "numbers":
                numbers = []
                for x in item if isinstance(item, list) and item else [None]:
                    try:
                        numbers.append(strict.number(x) if isinstance(x, int | float) else 0.0)
                    except ValueError:
                        numbers.append(0.0)
                if not all(x > 0 for x in numbers):
                    raise EntryError(str(name), "give a list of positive numbers (mg or units)")
                out[drug] = sorted(numbers)
            else:
                if kind == "ceiling options":
                    from dosecalc.data.ceilings import book

                    entry = book().entries.get(drug)
                    if entry is None:
                        raise EntryError(
                            str(name), f"dosecalc tracks no lifetime ceiling for {drug}"
                        )
                    if not isinstance(item, str) or item.strip() not in entry.options:
                        raise EntryError(
                            str(name),
                            f"{show(item)!r} is not a ceiling option for {drug}; give one of "
                            f"{', '.join(entry.options)}",
                        )
                    item = item.strip()
                out[drug] = _option_name(str(name), item)
        return out

    return check


def _policy_drug(name: Any) -> str:
    """A drug named in a policy table: its canonical name. A policy is written once and
    reviewed, so it names drugs in full: an abbreviation is an error here (ISMP)."""
    from dosecalc.data import drugs

    try:
        found, abbreviation = drugs.resolve(str(name))
    except ValueError as e:
        raise EntryError(str(name), str(e)) from None
    if abbreviation:
        raise EntryError(
            str(name), f"write the full generic name ({found.name}), not an abbreviation"
        )
    return found.name


def _option_name(name: str, item: Any) -> str:
    if not isinstance(item, str) or not item.strip():
        raise EntryError(name, "give the name of one of the drug's options")
    return item.strip()


# Codes no order file may acknowledge for itself, whatever the policy says: a lifetime limit
# passed, a dose the order leaves out, a cycle the regimen does not have (the pharmacist tier of
# verify.acknowledge, docs/policy.md).
# A dose at twice the recomputed one or more, or a tenth or less (a unit or decimal slip), each
# within 10 % (1.8 ×, 0.11 ×), a route the drug's label calls fatal, intrathecal use its label
# does not give (ROUTE_INTRATHECAL_NOT_LABELLED) and a dosed supportive line
# left out (ORDER_SUPPORTIVE_MISSING of mesna), are held to the same rule by verify itself
# (verify.pharmacist_only).
PHARMACIST_ONLY = ("CUMULATIVE_LIMIT_EXCEEDED", "ORDER_LINE_MISSING", "ORDER_CYCLE_UNKNOWN")
TIERS = ("order", "pharmacist")


def _tiers(value: Any) -> dict[str, str]:
    """verify.acknowledge: warning CODE = order | pharmacist (who may acknowledge it)."""
    if not isinstance(value, dict):
        raise ValueError("must be a table of CODE = order or pharmacist")
    out = dict.fromkeys(PHARMACIST_ONLY, "pharmacist")
    for code, tier in value.items():
        name = str(code).strip()
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            raise EntryError(str(code), "is not a warning code (e.g. DOSE_ABOVE_USUAL_MAXIMUM)")
        if not isinstance(tier, str) or tier.strip().lower() not in TIERS:
            raise EntryError(name, f"{show(tier)!r} is not order or pharmacist")
        if name in PHARMACIST_ONLY and tier.strip().lower() != "pharmacist":
            raise EntryError(
                name, "only the verifying pharmacist may acknowledge it; an order cannot release it"
            )
        out[name] = tier.strip().lower()
    return out


def _gate_options(value: Any) -> dict[str, str]:
    """A mapping "<regimen>.<lab>" → the name of one of that gate's options (checked against
    the regimen when it is planned). TOML's dotted key (mfolfox6.platelets = ...) is a nested
    table: it is read the same."""
    import re

    if not isinstance(value, dict):
        raise ValueError('must be a table of "regimen.lab" = option')
    flat: dict[str, Any] = {}
    for name, item in value.items():
        if isinstance(item, dict):
            flat.update({f"{name}.{lab}": v for lab, v in item.items()})
        else:
            flat[str(name)] = item
    out: dict[str, str] = {}
    for name, item in flat.items():
        key = name.strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*\.[a-z_]+", key):
            raise EntryError(
                name, 'name a regimen\'s gate as "regimen.lab", e.g. "mfolfox6.platelets"'
            )
        if not isinstance(item, str) or not item.strip():
            raise EntryError(name, "give the name of one of the gate's options")
        out[key] = item.strip()
    return out


def _drug_percents(value: Any) -> dict[str, float]:
    """A mapping drug → percent (0-10), e.g. verify.tolerance_percent_by_drug."""
    if not isinstance(value, dict):
        raise ValueError("must be a table of drug = percent")

    out: dict[str, float] = {}
    for name, item in value.items():
        drug = _policy_drug(name)
        try:
            number = _number(0, TOLERANCE_MAX_PERCENT)(item)
        except ValueError as e:
            raise EntryError(
                str(name), f"{e}; give a percent from 0 to {TOLERANCE_MAX_PERCENT:g}"
            ) from None
        out[drug] = number  # type: ignore[assignment]
    return out


def _agents(value: Any) -> dict[str, str]:
    """emetogenic.agents: prophylaxis key or level → the institution's agents, free text."""
    from dosecalc.data.emetogenic import KEYS

    if not isinstance(value, dict):
        raise ValueError('must be a table of level = text, e.g. high = "..."')
    out: dict[str, str] = {}
    for name, item in value.items():
        key = str(name).strip().lower()
        if key not in KEYS:
            raise EntryError(
                str(name), f"is not a level or prophylaxis key; give {', '.join(KEYS)}"
            )
        if not isinstance(item, str) or not item.strip() or len(item) > 500:
            raise EntryError(str(name), "give the agents as text (at most 500 characters)")
        out[key] = " ".join(item.split())
    return out


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "bsa.formula",
            "mosteller",
            "Mosteller 1987, the formula most oncology protocols and ASCO use",
            _formula,
            "BSA formula when --formula is not given",
        ),
        Setting(
            "bsa.cap_m2",
            None,
            "ASCO 2012/2021 (Griggs et al.): full weight-based dosing, no routine BSA cap",
            _number(0.5, 4.0, none=True),
            "cap the BSA used for dosing (m²), or none",
        ),
        Setting(
            "weight.dosing_weight",
            "actual",
            "ASCO 2012/2021 (Griggs et al.): actual body weight for cytotoxic dosing",
            _choice("actual", "ideal", "adjusted"),
            "weight used for BSA and per-kg doses: actual, ideal (Devine) or adjusted",
        ),
        Setting(
            "weight.change_threshold_percent",
            10.0,
            "10 % is common practice (Mass General Brigham uses 5 %; COSA: no evidence)",
            _number(0.1, 100),
            "warn when weight changed more than this since --previous-weight",
        ),
        Setting(
            "weight.change_threshold_percent_child",
            5.0,
            "NIH Clinical Center: 5 % in paediatrics, 10 % in adults (APHON forum, 2022); "
            "Texas Children's uses 10 %",
            _number(0.1, 100),
            "the same for a child (age below weight.child_below_age_years; needs --age)",
        ),
        Setting(
            "weight.child_below_age_years",
            18.0,
            "dosecalc's paediatric cut-off, as for the paediatric ceilings (labels do not define "
            "'children')",
            _number(1, 30),
            "a patient younger than this is a child for weight.change_threshold_percent_child "
            "and verify.tolerance_percent_child",
        ),
        Setting(
            "weight.bmi_warn_below",
            12.0,
            "dosecalc's screen for a height or weight slip, not a clinical threshold (no guideline "
            "names one): well below WHO's severe thinness (BMI under 16)",
            _number(5, 18.5),
            "warn (BMI_IMPLAUSIBLE) when the height and weight give a BMI below this",
        ),
        Setting(
            "weight.bmi_warn_above",
            60.0,
            "dosecalc's screen for a unit slip (a weight in lb read as kg), not a clinical "
            "threshold (no guideline names one): well above WHO's obesity class III (BMI 40 or "
            "more)",
            _number(40, 120),
            "warn (BMI_IMPLAUSIBLE) when the height and weight give a BMI above this",
        ),
        Setting(
            "carboplatin.gfr_cap_ml_min",
            125.0,
            "FDA 2010 / NCCN: cap an estimated GFR at 125 mL/min (eviQ/ADDIKD: do not cap)",
            _number(20, 250, none=True),
            "cap on an estimated GFR in Calvert, or none",
        ),
        Setting(
            "carboplatin.cap_given_gfr",
            False,
            "a measured clearance (--gfr with --gfr-measured, --lab crcl) is used as measured; "
            "dosecalc warns when it is above the cap and shows the dose at the cap beside it",
            _bool,
            "also cap a measured GFR (an estimated one is always held to the cap)",
        ),
        Setting(
            "carboplatin.scr_floor_mg_dl",
            0.7,
            "NCCN carboplatin dosing template (Appendix B): consider a minimum SCr of 0.7 mg/dL",
            _number(0.1, 2.0, none=True),
            "raise a lower serum creatinine to this, or none",
        ),
        Setting(
            "carboplatin.cockcroft_gault_weight",
            "adjusted-if-bmi-25",
            "NCCN template: if BMI >= 25 consider adjusted body weight (IBW + 0.4 x (TBW - IBW))",
            _choice("actual", "ideal", "adjusted", "adjusted-if-bmi-25"),
            "weight Cockcroft-Gault uses",
        ),
        Setting(
            "rounding.method",
            "none",
            "no rounding unless the institution chooses it",
            _choice("none", "increment", "strengths", "percent", "bands"),
            "none | increment | strengths | percent (HOPA) | bands (NHS England rule)",
        ),
        Setting(
            "rounding.increment_mg",
            1.0,
            "a common pharmacy increment for intravenous doses",
            _number(0.001, 1000),
            "increment for rounding.method = increment or percent",
        ),
        Setting(
            "rounding.tolerance_percent",
            10.0,
            "HOPA position statement (Fahrenbruch et al. 2018): rounding within 10 % is acceptable",
            _number(0, TOLERANCE_MAX_PERCENT),
            "largest deviation allowed for rounding.method = percent",
        ),
        Setting(
            "rounding.band_percent_chemotherapy",
            6.0,
            "NHS England dose banding: bands lie within 6 % for standard chemotherapy (NICE KTT22)",
            _number(0, TOLERANCE_MAX_PERCENT),
            "band width for cytotoxics",
        ),
        Setting(
            "rounding.band_percent_biologic",
            10.0,
            "NHS England dose banding: within 10 % for biological drugs (NICE KTT22)",
            _number(0, TOLERANCE_MAX_PERCENT),
            "band width for antibodies and conjugates",
        ),
        Setting(
            "rounding.strengths",
            {},
            "none configured: the institution lists its vial or tablet strengths",
            _table("numbers"),
            "drug = [strengths in mg or units]",
        ),
        Setting(
            "rounding.bands",
            {},
            "none configured: without a table, bands are generated by the NHS rule",
            _table("numbers"),
            "drug = [band doses in mg or units] (e.g. the national tables)",
        ),
        Setting(
            "data.allow_unverified",
            False,
            "dosecalc's data marks every number not read in its cited source verified: false "
            "(dosecalc/data/REVIEW.md lists them); such numbers decide nothing unless the "
            "institution, having checked them, says so",
            _bool,
            "use numbers of the drug data marked unverified (an equivalence table's factors, a "
            "usual maximum single dose); every output then names them",
        ),
        Setting(
            "bsa.given_tolerance_percent",
            5.0,
            "the tolerance of a recomputed dose (verify.tolerance_percent: Mass General Brigham "
            "order entry, a dose that moves more than 5 % must be approved again): a BSA that "
            "far from the one the height and weight give changes every dose that much",
            _number(0, TOLERANCE_MAX_PERCENT),
            "largest difference of a given BSA (--bsa) from the BSA of the height and weight "
            "given with it before it is critical (BSA_MISMATCH)",
        ),
        Setting(
            "verify.tolerance_percent",
            5.0,
            "Mass General Brigham order entry: a dose that recalculation would change by more "
            "than 5 % must be approved again before it is given (clinicalhelp.mgb.org, Dose "
            "Modifications)",
            _number(0, TOLERANCE_MAX_PERCENT),
            "largest deviation of an ordered dose from the recomputed one that verify accepts",
        ),
        Setting(
            "verify.tolerance_percent_by_drug",
            {},
            "none configured: every drug has verify.tolerance_percent",
            _drug_percents,
            "drug = percent: a drug's own tolerance, e.g. carboplatin = 10",
        ),
        Setting(
            "verify.tolerance_percent_child",
            5.0,
            "the adult default's source, as no paediatric figure was found: Mass General Brigham "
            "order entry, a dose that recalculation changes by more than 5 % is approved again "
            "(clinicalhelp.mgb.org); so a child keeps 5 % when verify.tolerance_percent is "
            "loosened",
            _number(0, TOLERANCE_MAX_PERCENT, none=True),
            "tolerance for a child (younger than weight.child_below_age_years; needs the age); "
            "the smaller of it and the drug's own applies",
        ),
        Setting(
            "verify.acknowledge",
            dict.fromkeys(PHARMACIST_ONLY, "pharmacist"),
            "dosecalc's tiers: an order may not acknowledge a lifetime limit passed, a dose it "
            "leaves out or a cycle the regimen does not have (nor a dose at 2 × the recomputed "
            "one or more, or a tenth or less, each within 10 %: 1.8 ×, 0.11 ×, nor a route the "
            "drug's label calls fatal, nor a drug given intrathecally that its label does not "
            "give so, nor a dosed supportive line left out); only the verifying "
            "pharmacist may, with verify "
            "--acknowledge and --by",
            _tiers,
            "CODE = order | pharmacist: who may acknowledge a warning (an order's own "
            "acknowledged: entry, or the verifying pharmacist's --acknowledge)",
        ),
        Setting(
            "verify.measurement_max_age_days",
            30.0,
            "Mass General Brigham order entry: the chemotherapy weight must be re-entered every "
            "30 days for oncology patients (clinicalhelp.mgb.org, Chemo vs. Non-Chemo Weight)",
            _number(1, 3650),
            "warn (MEASUREMENT_STALE) when the order's measurements are older than this on day 1",
        ),
        Setting(
            "cumulative.equivalence",
            None,
            "the default table of data/ceilings.yaml (ESC 2022)",
            _equivalence,
            "doxorubicin-equivalence table",
        ),
        Setting(
            "labs.max_age_days",
            3.0,
            "the UK standard: blood tests within 3 days of treatment (Chambers P et al. "
            "Cancer Med 2021, doi:10.1002/cam4.4316)",
            _number(0, 60),
            "a lab value older than this many days before a cycle's day 1 is stale",
        ),
        Setting(
            "labs.uln.bilirubin_mg_dl",
            1.0,
            "Mayo Clinic adult reference range 0.1-1.0 mg/dL (laboratories differ: set yours)",
            _number(0.1, 5, none=True),
            "upper limit of normal for total bilirubin (mg/dL), for bands in × ULN",
        ),
        Setting(
            "labs.uln.ast_u_l",
            48.0,
            "Mayo Clinic adult reference range 8-48 U/L (laboratories differ: set yours)",
            _number(5, 500, none=True),
            "upper limit of normal for AST (U/L), to read U/L values against × ULN bands",
        ),
        Setting(
            "labs.uln.alt_u_l",
            55.0,
            "Mayo Clinic adult reference range 7-55 U/L (laboratories differ: set yours)",
            _number(5, 500, none=True),
            "upper limit of normal for ALT (U/L)",
        ),
        Setting(
            "labs.uln.alp_u_l",
            115.0,
            "Mayo Clinic adult reference range 45-115 U/L (laboratories differ: set yours)",
            _number(10, 2000, none=True),
            "upper limit of normal for alkaline phosphatase (U/L)",
        ),
        Setting(
            "organ.options",
            {},
            "each drug's default option in data/organ.yaml",
            _table("options"),
            "drug = organ-function option name (e.g. bleomycin = uk-renal-drug-handbook)",
        ),
        Setting(
            "pgx.options",
            {},
            "each drug's default option in data/pgx.yaml: CPIC for fluorouracil and "
            "capecitabine, DPWG for irinotecan, the label for liposomal irinotecan",
            _table("options"),
            "drug = pharmacogenomic option name (e.g. fluorouracil = dpwg)",
        ),
        Setting(
            "pgx.not_tested_severity",
            "warning",
            "EMA 2020 (test for DPD deficiency before starting fluorouracil or capecitabine) "
            "and the FDA labels' boxed warning since February 2026 (test for DPYD variants "
            "before starting unless immediate treatment is necessary): a warning, so that urgent "
            "treatment is not blocked",
            _choice("info", "warning", "critical"),
            "severity of PGX_NOT_TESTED: a drug with a pharmacogenomic guideline ordered "
            "without a genotype for its gene (info, warning or critical)",
        ),
        Setting(
            "organ.cockcroft_gault_weight",
            "actual",
            "the labels that band by Cockcroft-Gault name the equation without a weight "
            "adjustment (pemetrexed, Fludara, capecitabine label texts); NCCN's adjusted weight "
            "is for carboplatin's Calvert dose. That the labels mean actual weight was not read "
            "in their text",
            _choice("actual", "ideal", "adjusted", "adjusted-if-bmi-25", "same-as-carboplatin"),
            "weight Cockcroft-Gault uses for organ-function bands (not carboplatin's Calvert "
            "dose): actual, ideal, adjusted, adjusted-if-bmi-25 or same-as-carboplatin",
        ),
        Setting(
            "organ.kidney_estimate_child",
            "schwartz-bedside",
            "Schwartz GJ et al. J Am Soc Nephrol 2009: bedside eGFR = 0.413 x height (cm) / SCr "
            "(mg/dL), mL/min/1.73 m²; National Kidney Foundation: for children 1-18 years",
            _choice("schwartz-bedside", "measured-only"),
            "kidney function of a patient under 18 for organ-function bands: schwartz-bedside "
            "(from 1 year) or measured-only (a measured --lab crcl)",
        ),
        Setting(
            "gates.options",
            {},
            "each gate's default option in its regimen file (mfolfox6 platelets: the US "
            "oxaliplatin label's 75 x10^9/L)",
            _gate_options,
            "regimen.lab = gate option name (e.g. mfolfox6.platelets = eu-smpc)",
        ),
        Setting(
            "gates.default",
            True,
            "every lab value given is judged: a regimen whose sources state no count gate is "
            "held to these defaults when it gives a myelosuppressive drug (any class but "
            "monoclonal antibodies, kinase inhibitors, other targeted, hormonal, corticosteroid "
            "and supportive agents); a regimen may leave out a default gate with a cited reason "
            "(not_gated)",
            _bool,
            "true or false: default ANC and platelet gates for a regimen that states none",
        ),
        Setting(
            "gates.default_anc_at_least",
            1.5,
            "epirubicin US label (delay day 1 until ANC >= 1,500/mm3 and platelets >= "
            "100,000/mm3); the paclitaxel, pemetrexed and docetaxel labels give the same ANC (read "
            "in label copies); carboplatin asks 2.0, doxorubicin in AC 1.0, so it is a default, "
            "never applied over a regimen's own gates",
            _number(0.5, 3),
            "default ANC gate, x10^9/L (0.5-3)",
        ),
        Setting(
            "gates.default_platelets_at_least",
            100.0,
            "epirubicin US label (platelets >= 100,000/mm3 before day 1); the paclitaxel and "
            "pemetrexed labels give the same (read in label copies)",
            _number(25, 200),
            "default platelet gate, x10^9/L (25-200)",
        ),
        Setting(
            "children.small_weight_kg",
            10.0,
            "Cancer Council Australia, Cancer Guidelines Wiki (paediatric dose calculation): BSA "
            "dosing under 10 kg can lead to significant overdoses; above 10 kg dose by BSA unless "
            "an approved protocol says otherwise",
            _number(1, 30),
            "SMALL_CHILD_BSA_DOSING below this weight, kg",
        ),
        Setting(
            "children.infant_below_age_years",
            1.0,
            "PMID 8523060 (children under 1 year: reduced doses calculated on body weight are "
            "normally recommended); COG Chemotherapy Standardization Task Force (Balis et al., "
            "Pediatr Blood Cancer 2017, in the CHOP summary read): BSA dosing of infants causes "
            "excessive toxicity, so infants have separate dosing methods",
            _number(0, 3),
            "SMALL_CHILD_BSA_DOSING below this age, years (needs --age)",
        ),
        Setting(
            "children.small_bsa_m2",
            0.6,
            "UNVERIFIED: 0.6 m² is the cut-off protocols commonly use for per-kg dosing, but it "
            "was not read in a retrieved paediatric source; the nearest read is 0.5 m² (BSA-banded "
            "busulfan for infants and children, Balis et al.); 0.6 flags more children than 0.5",
            _number(0.2, 1.5),
            "SMALL_CHILD_BSA_DOSING below this BSA, m²",
        ),
        Setting(
            "cumulative.options",
            {},
            "each drug's default option in data/ceilings.yaml",
            _table("ceiling options"),
            "drug = ceiling option name",
        ),
        Setting(
            "emetogenic.option",
            "asco-2020",
            "ASCO 2020 (Hesketh et al., J Clin Oncol 2020;38:2782): its per-agent table was read in "
            "full; MASCC/ESMO 2023 is encoded where verified (data/emetogenic.yaml)",
            _choice("asco-2020", "mascc-esmo-2023", "nccn-chart"),
            "emetogenic risk classes and prophylaxis: asco-2020, mascc-esmo-2023 or nccn-chart "
            "(a secondary chart from NCCN, for contrast)",
        ),
        Setting(
            "emetogenic.agents",
            {},
            "none configured: a plan names the guideline's classes of antiemetics only",
            _agents,
            "level or prophylaxis key = the institution's own antiemetic agents, free text "
            '(e.g. high = "aprepitant 125 mg PO ..."), shown with the class',
        ),
        Setting(
            "names.abbreviations",
            "accept",
            "accept the abbreviations regimens and histories commonly use (DDP, EPI, IFO), each "
            "reported as read; ISMP recommends full generic names: 'refuse' enforces that",
            _choice("accept", "refuse"),
            "accept (each read reported) | refuse (every abbreviated drug name is an error)",
        ),
    )
}


@dataclass(frozen=True)
class Policy:
    values: dict[str, Any]
    origins: dict[str, str]  # key → "default" | "file:line" | "--set" | "--formula" ...
    file: str | None = None
    notes: tuple[str, ...] = field(default=())
    sha256: str | None = None  # of the policy file's bytes

    def file_dict(self) -> dict[str, str] | None:
        """The policy file in force, ``{"path", "sha256"}``, or None: the defaults."""
        return {"path": self.file, "sha256": self.sha256 or ""} if self.file else None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def describe(self, key: str) -> str:
        """'carboplatin.gfr_cap_ml_min = 125 (default: FDA 2010 / NCCN ...)'."""
        origin = self.origins[key]
        why = f"default: {SETTINGS[key].why}" if origin == "default" else f"from {origin}"
        return f"{key} = {_show(self.values[key], key)}, {why}"

    def short(self, key: str) -> str:
        """'carboplatin.gfr_cap_ml_min = 125' plus where it came from unless the default."""
        origin = self.origins[key]
        tail = "" if origin == "default" else f" ({origin})"
        return f"{key} = {_show(self.values[key], key)}{tail}"

    def as_dict(self) -> dict[str, object]:
        return {
            key: {
                "value": self.values[key],
                "from": self.origins[key],
                "default_follows": SETTINGS[key].why,
            }
            for key in SETTINGS
        }


def none_text(key: str) -> str:
    """What a value of None means for ``key``: no limit, or (equivalence) the data's default."""
    if key == "cumulative.equivalence":
        from dosecalc.data.ceilings import book

        return f"{book().data.equivalence.default} (the data's default)"
    return "none"


def in_force(policy: Policy) -> list[Any]:
    """POLICY_IN_FORCE (info) when a policy file or --set changed anything from the defaults:
    the file with its checksum and each value changed, with where it came from. For an output
    that has no policy line of its own (check: its equivalence table, ceiling options and
    unverified data follow the policy)."""
    from dosecalc.base.alerts import INFO, Alert

    changed = [
        f"{key} = {show(policy.values[key], key)}"
        + ("" if origin.startswith(f"{policy.file}:") else f" ({origin})")
        for key, origin in policy.origins.items()
        if origin != "default" and policy.values[key] != SETTINGS[key].default
    ]
    if policy.file is None and not changed:
        return []
    sha = f" (SHA-256 {policy.sha256[:12]})" if policy.sha256 else ""
    where = f"policy file {policy.file}{sha}" if policy.file else "no policy file"
    what = "; ".join(changed) if changed else "every value as its default"
    return [
        Alert(
            INFO,
            "POLICY_IN_FORCE",
            f"{where}: {what} (dosecalc policy show explains each)",
        )
    ]


def show(value: Any, key: str = "") -> str:
    """A policy value as it is written in a policy file: ``none``, ``true``/``false``, ``0.7``,
    ``cisplatin: 10, 50, 100`` (never Python's ``[50.0, 150.0]`` or ``False``); with ``key``,
    what None means for it (the equivalence table: the data's default)."""
    if value is None:
        return none_text(key)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "; ".join(f"{k}: {show(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value)
    if isinstance(value, float) and math.isfinite(value):
        from dosecalc.base.numbers import fmt

        return fmt(value, None if value != int(value) else 0)
    return str(value)


_show = show


def defaults() -> Policy:
    """The policy of the defaults alone (no file, no --set)."""
    return Policy({k: s.default for k, s in SETTINGS.items()}, dict.fromkeys(SETTINGS, "default"))
