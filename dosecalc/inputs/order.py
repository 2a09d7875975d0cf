"""Written orders to verify: the order model and its two readers (a YAML order file, and a FHIR R4
Bundle of MedicationRequests such as ``plan --format fhir`` writes or an EHR sends).

An order is one cycle of one regimen for one patient: the lines as written (drug, absolute dose,
day, route), the measurements the prescriber used and any acknowledged warnings. Both readers
return the same :class:`Order`; every problem of a file is reported at once, with file:line for
YAML and the entry for FHIR (exit 2). Nothing here computes a dose: :mod:`dosecalc.verify`
compares an order with the plan engine's doses.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from dosecalc.base.errors import DosecalcError, FileError, Problem
from dosecalc.data.order import (
    ABSOLUTE,
    ORDER,
    Acknowledgement,
    CareItem,
    Measurements,
    Order,
    OrderLine,
    canonical_drug,
    parse_amount,
    parse_auc,
    parse_iso_date,
)
from dosecalc.data.records import patient_id
from dosecalc.data.regimen import MAX_CYCLE_LENGTH_DAYS, MAX_CYCLES, Infusion, known_route

MAX_BYTES = 5_000_000  # an order (or a bundle of one patient's requests) is small
MAX_LINES = 500


# ---------------------------------------------------------------- values people write


def _checked(parse: Any, what: str) -> Any:
    """A validator that checks a measurement with dosecalc.patient's parser, keeps it as written."""

    def check(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"{value!r} is not a {what}")
        try:
            parse(value)
        except DosecalcError as e:
            raise ValueError(e.problems[0].message) from None
        return value

    return PlainValidator(check)


def _patient_parsers() -> dict[str, Any]:
    from dosecalc.clinical import patient as pt

    return {
        "height": pt.parse_height,
        "weight": pt.parse_weight,
        "bsa": pt.parse_bsa,
        "sex": pt.parse_sex,
        "age": pt.parse_age,
        "scr": pt.parse_scr,
        "gfr": pt.parse_gfr,
    }


def _lazy(name: str, what: str) -> Any:
    return _checked(lambda v: _patient_parsers()[name](v if name != "sex" else str(v)), what)


QUANTITY = WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]})


def _genotype(value: Any) -> Any:
    """``genotype:`` as a mapping gene → result or a list of GENE=RESULT, each read as
    ``--genotype`` reads it (an unknown gene or allele is refused); kept as written."""
    from dosecalc.clinical import pgx

    if value is None:
        return None
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        bad = next((x for x in value if not isinstance(x, str) or "=" not in x), None)
        if bad is not None:
            raise ValueError(f"{bad!r} is not GENE=RESULT; e.g. DPYD=*1/*2A (in quotes)")
        items = [tuple(x.partition("=")[::2]) for x in value]
    else:
        raise ValueError(
            f'{value!r} is not a genotype list; write a mapping (DPYD: "*1/*2A") or a list '
            "of GENE=RESULT (- DPYD=*1/*2A)"
        )
    found: dict[str, Any] = {}
    for gene, result in items:
        if not isinstance(gene, str) or not isinstance(result, str):
            raise ValueError(
                f'{gene!r}: write each result as text, GENE: "A/B" (in quotes: a star '
                "name such as *1 is YAML syntax otherwise)"
            )
        try:
            pgx.add(found, pgx.parse(gene, result, "patient.genotype"))
        except DosecalcError as e:
            raise ValueError(e.problems[0].message) from None
    return value


GENOTYPE = WithJsonSchema(
    {
        "anyOf": [
            {"type": "object", "additionalProperties": {"type": "string"}},
            {"type": "array", "items": {"type": "string", "pattern": "="}},
            {"type": "null"},
        ],
        "description": "pharmacogenomic results: DPYD: '*1/*2A' (or a list of DPYD=*1/*2A)",
        "examples": [{"DPYD": "*1/*2A", "UGT1A1": "*1/*28"}],
    }
)


def _text_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{value!r} is not an id; write it as text")
    text = str(value).strip()
    if not text or len(text) > 200:
        raise ValueError("an id is 1 to 200 characters")
    return text


# ---------------------------------------------------------------- the YAML order file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


Text = Annotated[str, Field(min_length=1, max_length=2000)]
IsoDate = Annotated[
    date,
    PlainValidator(parse_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-12-01"]}),
]
Id = Annotated[
    str,
    PlainValidator(_text_id),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
]


class PatientBlock(_Strict):
    """The measurements the prescriber used."""

    id: Id | None = Field(None, description="the patient's id (checked against --patient)")

    @field_validator("id")
    @classmethod
    def _patient(cls, value: str | None) -> str | None:
        return None if value is None else patient_id(value)

    height: Annotated[str | float | None, _lazy("height", "height"), QUANTITY] = None
    weight: Annotated[str | float | None, _lazy("weight", "weight"), QUANTITY] = None
    bsa: Annotated[str | float | None, _lazy("bsa", "BSA"), QUANTITY] = Field(
        None, description="the BSA written on the order"
    )
    measured: IsoDate | None = Field(None, description="when height and weight were measured")
    sex: Annotated[
        str | None,
        _lazy("sex", "sex"),
        WithJsonSchema({"enum": ["male", "female", "m", "f", None]}),
    ] = None
    age: Annotated[str | float | None, _lazy("age", "age"), QUANTITY] = None
    scr: Annotated[str | float | None, _lazy("scr", "serum creatinine"), QUANTITY] = None
    gfr: Annotated[str | float | None, _lazy("gfr", "GFR"), QUANTITY] = None
    genotype: Annotated[dict[str, str] | list[str] | None, PlainValidator(_genotype), GENOTYPE] = (
        None
    )
    note: Text | None = None


class LineModel(_Strict):
    drug: str = Field(description="name or synonym, as in a regimen")
    dose: str | int | float = Field(
        description="the dose written: absolute (mg, g, mcg, units), or carboplatin's target "
        "AUC (AUC 6)"
    )
    day: StrictInt = Field(ge=1, le=MAX_CYCLE_LENGTH_DAYS, description="day of the cycle")
    route: Text | None = None
    infusion: Infusion | None = Field(
        None,
        description="how it is given, as in a regimen: {type: bolus|intermittent|continuous, "
        "duration: '46 h'}; needed where the regimen gives the drug two ways on one day",
    )
    note: Text | None = None

    _known_route = field_validator("route")(known_route)  # as a regimen's line reads it

    @field_validator("infusion", mode="after")
    @classmethod
    def _typed(cls, value: Infusion | None) -> Infusion | None:
        if value is not None and value.type is None:
            raise ValueError(
                "give its type, e.g. {type: bolus} or {type: continuous, duration: 46 h}: "
                "verify compares it with the regimen's"
            )
        return value

    @field_validator("drug", mode="before")
    @classmethod
    def _drug(cls, value: Any) -> str:
        return canonical_drug(value)

    @field_validator("dose", mode="after")
    @classmethod
    def _dose(cls, value: Any, info: Any) -> Any:
        drug = info.data.get("drug")
        if drug is not None:
            if parse_auc(value, drug) is None:
                parse_amount(value, drug)
        elif isinstance(value, int | float):
            raise ValueError(f"{value!r} has no unit; {ABSOLUTE}")
        return value


class AckModel(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)
    drug: str | None = None
    cycle: StrictInt | None = Field(None, ge=1, le=MAX_CYCLES, description="the order's cycle")
    day: StrictInt | None = Field(
        None, ge=1, le=MAX_CYCLE_LENGTH_DAYS, description="the day it covers (none: every day)"
    )
    reason: Text
    by: Text

    @field_validator("drug", mode="before")
    @classmethod
    def _drug(cls, value: Any) -> str | None:
        from dosecalc.data.ceilings import EQUIVALENT

        if isinstance(value, str) and " ".join(value.lower().split()) == EQUIVALENT:
            return EQUIVALENT  # the doxorubicin-equivalent total's own warnings
        return None if value is None else canonical_drug(value)

    @field_validator("reason", "by")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say it: an acknowledgement needs a reason and who gives it")
        return value.strip()


class CareModel(_Strict):
    """Supportive care the order states that is not a dosed drug (docs/order.md)."""

    kind: Literal["hydration", "alkalinisation", "monitoring", "other"] = Field(
        description="hydration, alkalinisation, monitoring or other"
    )
    serves: str = Field(alias="for", description="the drug it goes with, e.g. cisplatin")
    text: Text | None = Field(None, description="what is ordered, e.g. '1 L NaCl 0.9 % over 2 h'")

    @field_validator("serves", mode="before")
    @classmethod
    def _drug(cls, value: Any) -> str:
        return canonical_drug(value)

    @model_validator(mode="after")
    def _ordered(self) -> CareModel:
        why = nothing_ordered(self.text or "", self.kind)
        if why is not None:
            raise ValueError(
                f"text {self.text!r} says no {self.kind} is ordered ({why!r}), yet the item "
                "states it: leave the item out (and acknowledge why, if the regimen requires it) "
                "or write what is ordered"
            )
        return self


def nothing_ordered(text: str, kind: str) -> str | None:
    """What in a supportive care item's text says nothing is ordered (the item would count as
    stated), or None: the whole text one of NOTHING_ORDERED, or 'no hydration', or a word that
    withholds or defers it anywhere in it ('hydration omitted (fluid restriction)', 'TBD', 'see
    note'), or a volume of 0 ('0 mL'). 'no potassium' in '1 L NaCl 0.9 %, no potassium' is not."""
    said = " ".join(text.lower().replace(".", " ").split())
    if said in NOTHING_ORDERED:
        return said
    for pattern in (rf"\bno {kind}\b", NOT_ORDERED, ZERO_VOLUME):
        found = re.search(pattern, text.lower())
        if found:
            return found.group(0)
    return None


# what a supportive care item's text says when nothing is ordered (the item would count as stated)
NOT_ORDERED = (
    r"\b(?:omit|omits|omitted|omitting|withheld|withhold|withholding|nothing|none|nil|tbd|tbc|"
    r"to be (?:decided|determined|confirmed)|see (?:the )?notes?|not (?:given|ordered|required|"
    r"needed|applicable))\b"
)
ZERO_VOLUME = r"(?<![\d.,])0+(?:[.,]0+)?\s*(?:ml|l|litres?|liters?|cc)\b"
NOTHING_ORDERED = frozenset(
    ("none", "no", "nil", "n/a", "na", "-", "--", "0", "omitted", "withheld", "held",
     "not given", "not ordered", "not required", "not needed", "not applicable")
)  # fmt: skip


class OrderFile(_Strict):
    """An order file: one cycle of one regimen, as written (docs/order.md)."""

    order: Id | None = Field(None, description="the order's own id")
    regimen: Text = Field(description="library id or path (relative to this file)")
    regimen_version: Id | None = None
    regimen_sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="the SHA-256 of the regimen file ordered from"
    )
    cycle: StrictInt = Field(ge=1, le=MAX_CYCLES, description="the cycle this order is for")
    start: IsoDate = Field(description="that cycle's day 1")
    patient: PatientBlock | None = None
    prescriber: Text | None = None
    lines: list[LineModel] = Field(min_length=1, max_length=MAX_LINES)
    acknowledged: list[AckModel] = Field([], max_length=100)
    supportive_care: list[CareModel] = Field(
        [],
        max_length=100,
        description="hydration, alkalinisation, monitoring ordered with the lines (the regimen's "
        "supportive_care)",
    )
    note: Text | None = None

    @field_validator("regimen_version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(f'{value!r}: write the version in quotes, e.g. "1.0"')
        return value


def read_bytes(path: Path) -> tuple[bytes, str]:
    """The order file's bytes and their SHA-256 (what a recorded check names)."""
    from dosecalc.data.yamlfile import read_text

    read_text(path, "order", MAX_BYTES)  # exists, size, UTF-8: one clear message each
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def read(
    path: Path,
    regimen: str | None = None,
    cycle: int | None = None,
    start: date | None = None,
    regimen_id: str | None = None,
) -> Order:
    """An order file (YAML) or a FHIR R4 Bundle (JSON), by its content. ``regimen``, ``cycle``
    and ``start`` pick one cycle of a bundle (and say what a bundle does not; ``regimen_id``:
    the id of the regimen file ``regimen`` names, which a bundle's requests carry); a YAML order
    states them itself, and a different value is refused."""
    data, sha = read_bytes(path)
    text = data.decode("utf-8-sig")
    if path.suffix.lower() == ".json" or _is_fhir(text):
        from dosecalc.inputs.fhirorder import read_bundle

        return read_bundle(text, str(path), sha, path.parent, regimen, cycle, start, regimen_id)
    order = read_yaml(text, str(path), sha, path.parent)
    for option, given, own in (
        ("--regimen", regimen, order.regimen),
        ("--cycle", cycle, order.cycle),
        ("--start", start, order.start),
    ):
        if given is not None and given != own:
            raise FileError(
                Problem(
                    f"the order file says {option[2:]} {own}, {option} says {given}; an order "
                    f"file states its own {option[2:]} (the option is for FHIR bundles)",
                    field=option,
                    file=str(path),
                )
            )
    return order


def _genotypes(value: Any, at: Any) -> tuple[tuple[str, str, str], ...]:
    """The block's genotype results as (gene, result, file:line)."""
    if isinstance(value, dict):
        return tuple((g, r, at("patient", "genotype", g)) for g, r in value.items())
    out = []
    for i, item in enumerate(value or []):
        gene, _, result = item.partition("=")
        out.append((gene, result, at("patient", "genotype", i)))
    return tuple(out)


def _is_fhir(text: str) -> bool:
    """JSON with a resourceType (a YAML order may also start with '{': a flow mapping)."""
    if not text.lstrip().startswith("{"):
        return False
    import json

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "resourceType" in data


def read_yaml(text: str, source: str, sha: str, base: Path | None = None) -> Order:
    from dosecalc.data import datafile, yamlfile

    data, lines = yamlfile.parse(text, source)
    if isinstance(data, dict) and ("course" in data or "drugs" in data):
        what = "a course" if "course" in data else "a regimen"
        raise FileError(
            Problem(
                f"this is {what} file, not an order; `dosecalc plan` reads it (an order names "
                "its regimen, cycle, start and lines)",
                file=source,
            )
        )
    model = datafile.validate(OrderFile, data, lines, source)

    def at(*loc: Any) -> str:
        line = yamlfile.line_of(lines, loc)
        return f"{source}:{line}" if line else source

    order_lines = []
    for i, ln in enumerate(model.lines):
        auc = parse_auc(ln.dose, ln.drug)
        amount, unit = (0.0, "mg") if auc is not None else parse_amount(ln.dose, ln.drug)
        raw = data["lines"][i]["drug"]
        order_lines.append(
            OrderLine(
                ln.drug,
                amount,
                unit,
                str(ln.dose).strip(),
                ln.day,
                ln.route.strip() if ln.route else None,
                at("lines", i),
                raw.strip() if raw.strip().lower() != ln.drug else "",
                auc,
                ln.infusion,
            )
        )
    p = model.patient
    measurements = (
        Measurements(
            p.height,
            p.weight,
            p.bsa,
            p.measured,
            p.sex,
            p.age,
            p.scr,
            p.gfr,
            p.id,
            _genotypes(p.genotype, at),
        )  # fmt: skip
        if p is not None
        else Measurements()
    )
    wrong = [
        Problem(
            f"acknowledges cycle {a.cycle}, but this order is for cycle {model.cycle}: an "
            "acknowledgement covers a line of this order only",
            field=f"acknowledged[{i}].cycle",
            file=source,
            line=yamlfile.line_of(lines, ("acknowledged", i, "cycle")),
        )
        for i, a in enumerate(model.acknowledged)
        if a.cycle is not None and a.cycle != model.cycle
    ]
    if wrong:
        raise FileError(*wrong)
    acks = tuple(
        Acknowledgement(
            a.code, a.drug, a.reason, a.by, at("acknowledged", i), a.day, model.cycle, ORDER
        )
        for i, a in enumerate(model.acknowledged)
    )
    care = tuple(
        CareItem(c.kind, c.serves, c.text, at("supportive_care", i))
        for i, c in enumerate(model.supportive_care)
    )
    return Order(
        supportive_care=care,
        source=source,
        sha256=sha,
        format="yaml",
        lines=tuple(order_lines),
        regimen=model.regimen.strip(),
        cycle=model.cycle,
        start=model.start,
        id=model.order,
        regimen_version=model.regimen_version,
        regimen_sha256=model.regimen_sha256,
        patient=measurements,
        acknowledged=acks,
        prescriber=model.prescriber,
        base=base,
        key_lines={
            ".".join(k): n
            for k in (
                ("regimen",),
                ("cycle",),
                ("start",),
                ("patient", "id"),
                ("patient", "measured"),
            )  # fmt: skip
            if (n := yamlfile.line_of(lines, k)) is not None
        },
    )
