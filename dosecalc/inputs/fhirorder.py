"""An order as a FHIR R4 Bundle of MedicationRequests: the bundle ``plan --format fhir`` writes,
or one an EHR sends.

The bundle is read by the one strict FHIR policy (inputs/fhir.py): the JSON types of every
field dosecalc reads are checked as written (a dose value that is text is refused with its
entry and path), then each resource dosecalc reads (MedicationRequest, Medication, Observation,
Patient) is validated with the typed FHIR models of ``fhir.resources`` (R4B, which keeps R4's
MedicationRequest), so an unknown element or a wrong type is refused with its path rather than
misread. The reader then maps what it can:

- the drug from ``medicationCodeableConcept`` (its text and coding displays must name one drug)
  or a ``medicationReference`` to a Medication in the bundle;
- the dose from ``dosageInstruction.doseAndRate.doseQuantity`` (the entry typed ``ordered`` when
  there are several), in mg, g, mcg (UCUM ``ug``) or units (UCUM ``[U]``); its UCUM code is its
  unit, and a unit text that says otherwise is refused;
- the day from ``timing.event`` (or ``timing.repeat.boundsPeriod.start``): for dosecalc's own
  bundles ``sequence`` is the cycle day, otherwise the day counts from ``--start`` (or the first
  date of the bundle, said in the output);
- the route from ``route`` (text, or SNOMED CT codes of IV, PO, SC, IM, IT);
- height, weight and BSA from Observations (LOINC 8302-2, 29463-7 / 3141-9, 8277-6) with their
  dates; sex and age from the Patient.

What it cannot read refuses the bundle with the entry named (a dose range, a repeating timing, a
dose without a unit, two untyped doses); what it reads but does not check (infusion rates,
maximum doses, other resources) is listed in the output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from dosecalc.base import clock, units
from dosecalc.base.errors import FileError, Problem
from dosecalc.data.order import Measurements, Order, OrderLine, day_of, parse_amount
from dosecalc.inputs import fhir

READ = ("MedicationRequest", "Medication", "Observation", "Patient")
ACTIVE = {"active", "draft"}  # a request in any other status is not an order to give now
LOINC = {
    "8302-2": "height",
    "8306-3": "height",  # body height, lying
    "29463-7": "weight",
    "3141-9": "weight",  # body weight, measured
    "8277-6": "bsa",
}
SNOMED_ROUTES = {
    "47625008": "IV",
    "26643006": "PO",
    "34206005": "SC",
    "78421000": "IM",
    "72607000": "IT",
}
DOSECALC_GROUP = "urn:dosecalc:cycle"
LEDGER_ID = "urn:dosecalc:ledger"  # the Patient identifier plan --format fhir writes for --patient
_GROUP = re.compile(r"^(?P<regimen>[^/]+)/phase-(?P<phase>\d+)/cycle-(?P<cycle>\d+)$")


class _DoseAndRate(fhir.Shape):
    doseQuantity: fhir.Quantity | None = None


class _Dosage(fhir.Shape):
    sequence: Decimal | None = None
    doseAndRate: list[_DoseAndRate] | None = None
    route: fhir.CodeableConcept | None = None


class _MedicationRequest(fhir.Shape):
    """The fields of a MedicationRequest dosecalc reads, in their JSON types."""

    status: str
    medicationCodeableConcept: fhir.CodeableConcept | None = None
    medicationReference: fhir.Reference | None = None
    dosageInstruction: list[_Dosage] | None = None


class _Observation(fhir.Shape):
    status: str
    code: fhir.CodeableConcept
    effectiveDateTime: str | None = None
    valueQuantity: fhir.Quantity | None = None


class _Patient(fhir.Shape):
    gender: str | None = None
    birthDate: str | None = None


SHAPES: dict[str, type[fhir.Shape]] = {
    "MedicationRequest": _MedicationRequest,
    "Medication": fhir.Medication,
    "Observation": _Observation,
    "Patient": _Patient,
}


@dataclass
class _Request:
    index: int
    where: str
    drug: str
    given_as: str
    amount: float
    unit: str
    written: str
    when: date | None
    sequence: int | None
    route: str | None
    group: tuple[str, int, int] | None  # dosecalc's (regimen, phase, cycle)
    prescriber: str | None
    infusion: Any = None  # how it is given (regimen.Infusion), from method and timing duration


def read_bundle(
    text: str,
    source: str,
    sha: str,
    base: Path | None = None,
    regimen: str | None = None,
    cycle: int | None = None,
    start: date | None = None,
    regimen_id: str | None = None,
) -> Order:
    """The order a bundle holds: the MedicationRequests of one cycle (``cycle``/``regimen`` pick
    one from a bundle of several cycles, such as a whole plan's, ``regimen`` by its id:
    ``regimen_id`` when it names a file; ``start`` is day 1 when the bundle does not number its
    days)."""
    bundle = fhir.parse(
        text.encode(), source, "a JSON order is a FHIR R4 Bundle of MedicationRequests"
    )
    if not bundle.get("entry"):
        raise FileError(Problem("the Bundle has no entries", file=source))
    items, problems = fhir.entries(bundle, source)
    resources: list[tuple[int, Any, str | None]] = []
    skipped: dict[str, int] = {}
    for i, res, full in items:
        kind = res.get("resourceType")
        if kind not in READ:
            name = str(kind) if isinstance(kind, str) and kind else "entry without a resource"
            skipped[name] = skipped.get(name, 0) + 1
            continue
        where = f"{source} entry {i}"
        try:
            fhir.shape(SHAPES[str(kind)], res, "resource")
        except ValueError as e:
            problems.append(Problem(str(e), file=where))
            continue
        model = _validate(str(kind), res, where, problems)
        if model is not None:
            resources.append((i, model, full))
    skipped_entries = len(bundle.get("entry") or []) - len(items)
    if skipped_entries:
        skipped["entry without a resource"] = skipped_entries
    if problems:
        raise FileError(*problems[:30])
    _one_patient(resources, source)
    medications = _medications(resources)
    requests: list[_Request] = []
    inactive: list[str] = []  # requests whose status is not active or draft
    not_read: list[str] = []
    unchecked: dict[str, int] = {}
    for i, res, _ in resources:
        if res.get_resource_type() != "MedicationRequest":
            continue
        where = f"{source} entry {i}"
        try:
            requests.append(_request(i, res, medications, where, unchecked))
            if res.status not in ACTIVE:
                inactive.append(f"{where}: {requests[-1].drug} has status '{res.status}'")
        except ValueError as e:
            problems.append(Problem(str(e), file=where))
    if problems:
        raise FileError(*problems[:30])
    if not requests:
        raise FileError(Problem("the Bundle holds no MedicationRequest to verify", file=source))
    requests, regimen, cycle, others = _one_cycle(requests, source, regimen, cycle, regimen_id)
    lines, start, assumed = _days(requests, source, start)
    if others:
        not_read.append(
            f"not verified: {others} request{'s' if others > 1 else ''} of other cycles in the "
            "bundle (verify each cycle on its own with --cycle)"
        )
    not_read += [
        f"not checked: {what} ({n} request{'s' if n > 1 else ''})" for what, n in unchecked.items()
    ]
    not_read += [
        f"not read: {n} {kind} resource{'s' if n > 1 else ''}"
        for kind, n in sorted(skipped.items())
    ]
    ident = bundle.get("identifier")
    order_id = (ident.get("value") if isinstance(ident, dict) else None) or bundle.get("id")
    return Order(
        source=source,
        sha256=sha,
        format="fhir",
        lines=tuple(lines),
        regimen=regimen,
        cycle=cycle,
        start=start,
        id=str(order_id)[:200] if isinstance(order_id, str | int) and str(order_id) else None,
        patient=_patient(resources, start, source),
        prescriber=next((r.prescriber for r in requests if r.prescriber), None),
        base=base,
        not_read=tuple(not_read),
        start_assumed=assumed,
        inactive=tuple(inactive),
    )


def _validate(kind: str, res: dict[str, Any], where: str, problems: list[Problem]) -> Any:
    """The resource as a typed R4B model, or None with its problems added."""
    import pydantic
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(kind).model_validate(res)
    except pydantic.ValidationError as e:
        for err in e.errors()[:10]:
            path = _path(err["loc"])
            problems.append(
                Problem(f"{kind}{'.' + path if path else ''}: {_message(err)}", file=where)
            )
    except (ValueError, TypeError, KeyError, AttributeError) as e:  # fhir_core's own refusals
        problems.append(Problem(f"{kind}: not a valid FHIR R4 resource ({e})", file=where))
    return None


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and not part.startswith("function-"):
            out += f".{part}" if out else part
    return out


def _message(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "is not an element of this FHIR R4 resource"
    if err["type"] == "missing":
        return "this required element is missing"
    msg = str(err["msg"])
    return msg[0].lower() + msg[1:] if msg else "is not valid"


def _medications(resources: list[tuple[int, Any, str | None]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for _, res, full in resources:
        if res.get_resource_type() == "Medication":
            for ref in (f"Medication/{res.id}" if res.id else None, full):
                if ref:
                    out[ref] = res
    return out


def _concept_names(concept: Any) -> list[str]:
    if concept is None:
        return []
    names = [concept.text] + [c.display for c in concept.coding or []]
    return [n for n in names if isinstance(n, str) and n.strip()]


def _drug(res: Any, medications: dict[str, Any]) -> tuple[str, str]:
    """(canonical drug, the name as written): the one drug the medication names."""
    concept, field = res.medicationCodeableConcept, "medicationCodeableConcept"
    form = None
    if concept is None:
        ref = res.medicationReference.reference if res.medicationReference else None
        contained = {
            f"#{c.id}": c
            for c in res.contained or []
            if c.id and c.get_resource_type() == "Medication"
        }
        medication = medications.get(ref or "") or contained.get(ref or "")
        if medication is None:
            raise ValueError(
                f"the medication {ref or '(none)'} is not in the bundle; give "
                "medicationCodeableConcept or include the Medication resource"
            )
        concept, field = medication.code, f"Medication {ref}: code"
        form = _concept(medication.form)
    return fhir.drug_named(_concept(concept), field, form)


def _concept(concept: Any) -> fhir.CodeableConcept | None:
    """A typed model's CodeableConcept as the FHIR reader's."""
    if concept is None:
        return None
    return fhir.CodeableConcept(
        text=concept.text,
        coding=[fhir.Coding(system=c.system, code=c.code, display=c.display)
                for c in (concept.coding or [])],
    )  # fmt: skip


def _dose(dosage: Any, drug: str) -> tuple[float, str, str]:
    rates = dosage.doseAndRate or []
    doses = [r for r in rates if r.doseQuantity is not None]
    if not doses:
        if any(r.doseRange is not None for r in rates):
            raise ValueError("the dose is a range (doseRange); an order to verify gives one dose")
        raise ValueError(
            "there is no dosageInstruction.doseAndRate.doseQuantity: no dose to verify"
        )
    if len(doses) > 1:
        ordered = [
            r for r in doses if r.type and any(c.code == "ordered" for c in r.type.coding or [])
        ]
        if len(ordered) != 1:
            raise ValueError(
                "several doses (doseAndRate) without one typed 'ordered': which one is to be "
                "given is unclear"
            )
        doses = ordered
    q = doses[0].doseQuantity
    if q.value is None:
        raise ValueError("doseQuantity has no value")
    field = "dosageInstruction.doseAndRate.doseQuantity"
    quantity = fhir.Quantity(comparator=q.comparator, unit=q.unit, system=q.system, code=q.code)
    unit = fhir.dose_unit(quantity, field)
    written = f"{units.exported(format(q.value, 'f'))} {unit}"  # a JSON number: 1.500 is 1.5
    amount, target = parse_amount(written, drug)
    return amount, target, written


def _when(dosage: Any) -> date | None:
    t = dosage.timing
    if t is None:
        return None
    repeat = t.repeat
    said = [t.code.text] + [c.code for c in t.code.coding or []] if t.code is not None else []
    if any(w is not None and w.strip().lower() != "once" for w in said):
        # QD, BID, 'daily x 3': a schedule, not one administration
        shown = t.code.text or ", ".join(c.code or "?" for c in t.code.coding or [])  # type: ignore[union-attr]
        raise ValueError(
            f"timing.code '{shown}' is a repeating schedule, which is not read: give one "
            "MedicationRequest (or one dosageInstruction) per administration, dated by timing.event"
        )
    if repeat is not None:
        many = (repeat.count or 1) > 1 or (repeat.frequency or 1) > 1 or repeat.period
        bounds = repeat.boundsPeriod
        days = (
            bounds is not None
            and bounds.end is not None
            and _date(bounds.end) != _date(bounds.start or bounds.end)
        )
        lasting = repeat.boundsDuration is not None or repeat.boundsRange is not None
        if repeat.count == 1:
            days = lasting = False  # one administration, whatever its bounds
        if many or days or lasting or repeat.timeOfDay or repeat.dayOfWeek:
            raise ValueError(
                "a repeating timing (timing.repeat) is not read (it repeats, or spans several "
                "days): give one MedicationRequest (or one dosageInstruction) per administration "
                "day"
            )
    events = t.event or []
    if len(events) > 1:
        raise ValueError("several timing.event dates in one dosage: give one per administration")
    if events:
        return _date(events[0])
    bounds = repeat.boundsPeriod if repeat is not None else None
    if bounds is not None and bounds.start is not None:
        return _date(bounds.start)
    return None


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value.date() if hasattr(value, "date") and callable(value.date) else value
    return date.fromisoformat(str(value)[:10])


def _route(dosage: Any) -> str | None:
    """The route of a dosage: its SNOMED code's, else its text or display. Its text, displays and
    codes must name one route (a text 'IV' coded intrathecal is refused, as a medication whose
    text and coding name two drugs is)."""
    from dosecalc.data import drugs

    concept = dosage.route
    if concept is None:
        return None
    named = [("text", concept.text)]
    for i, c in enumerate(concept.coding or []):
        named += [
            (f"coding[{i}].code {c.code}", SNOMED_ROUTES.get(c.code or "")),
            (f"coding[{i}].display", c.display),
        ]
    found: dict[str, str] = {}  # route → where it is named, and how
    for where, name in named:
        if isinstance(name, str) and name.strip():  # 'IV/IT' names two routes: refused
            for route in sorted(drugs.routes_named(name)):
                found.setdefault(
                    route, f"{where} '{name.strip()}'" if "code" not in where else where
                )
    if len(found) > 1:
        said = "; ".join(f"{w} is {r}" for r, w in found.items())
        raise ValueError(
            f"dosageInstruction.route names more than one route ({said}): which is meant?"
        )
    for c in concept.coding or []:
        if c.code in SNOMED_ROUTES:
            return SNOMED_ROUTES[c.code]
    names = _concept_names(concept)
    if names:
        return names[0].strip()
    codes = [c.code for c in concept.coding or [] if c.code]
    return codes[0] if codes else None


_UNCHECKED = (
    ("rateQuantity", "infusion rate (doseAndRate.rate)"),
    ("rateRange", "infusion rate (doseAndRate.rate)"),
    ("rateRatio", "infusion rate (doseAndRate.rate)"),
)
_UNCHECKED_DOSAGE = (
    ("maxDosePerAdministration", "maximum dose per administration"),
    ("maxDosePerPeriod", "maximum dose per period"),
    ("maxDosePerLifetime", "maximum lifetime dose"),
    ("method", "method of administration"),
    ("site", "site of administration"),
    ("additionalInstruction", "additional instructions"),
    ("patientInstruction", "patient instructions"),
    ("asNeededBoolean", "as-needed"),
    ("asNeededCodeableConcept", "as-needed"),
)


def _request(
    i: int, res: Any, medications: dict[str, Any], where: str, unchecked: dict[str, int]
) -> _Request:
    drug, given_as = _drug(res, medications)
    if res.doNotPerform:
        raise ValueError(
            f"{drug}: doNotPerform is true, so the request forbids this dose rather than orders "
            "it; an order to verify holds only doses to give (remove the request)"
        )
    dosages = res.dosageInstruction or []
    if len(dosages) != 1:
        raise ValueError(
            f"{drug}: {len(dosages)} dosageInstructions; dosecalc reads one per "
            "MedicationRequest (one request per administration day)"
        )
    dosage = dosages[0]
    amount, unit, written = _dose(dosage, drug)
    seen = set()
    for rate in dosage.doseAndRate or []:
        for name, what in _UNCHECKED:
            if getattr(rate, name, None) is not None:
                seen.add(what)
    infusion = _given_as(dosage)
    for name, what in _UNCHECKED_DOSAGE:
        if name == "method" and infusion is not None:
            continue  # read: how it is given, compared with the regimen's
        if getattr(dosage, name, None) not in (None, [], False):
            seen.add(what)
    for what in seen:
        unchecked[what] = unchecked.get(what, 0) + 1
    group = None
    gid = res.groupIdentifier
    if gid is not None and gid.system == DOSECALC_GROUP and gid.value:
        m = _GROUP.match(gid.value)
        if m:
            group = (m.group("regimen"), int(m.group("phase")), int(m.group("cycle")))
    requester = res.requester.display if res.requester is not None else None
    return _Request(
        i,
        where,
        drug,
        given_as if given_as.lower() != drug else "",
        amount,
        unit,
        written,
        _when(dosage),
        dosage.sequence if group is not None else None,
        _route(dosage),
        group,
        requester,
        infusion,
    )


_METHOD = re.compile(r"(?P<type>bolus|infusion|continuous infusion)(?: over .*)?", re.IGNORECASE)


def _given_as(dosage: Any) -> Any:
    """How a dose is given, from ``method`` as dosecalc writes it (``bolus``, ``infusion over
    2 h``, ``continuous infusion over 46 h``) and ``timing.repeat.duration``; None otherwise."""
    from dosecalc.data.regimen import Infusion

    method = dosage.method
    text = (method.text or "").strip() if method is not None else ""
    found = _METHOD.fullmatch(text)
    if found is None:
        return None
    kind = {"bolus": "bolus", "infusion": "intermittent"}.get(found["type"].lower(), "continuous")
    repeat = dosage.timing.repeat if dosage.timing is not None else None
    hours = None
    if repeat is not None and repeat.duration is not None:
        unit = {"h": 1.0, "min": 1 / 60, "d": 24.0}.get(str(repeat.durationUnit or ""))
        if unit is None:
            return None
        hours = float(repeat.duration) * unit
    if kind != "bolus" and hours is None:
        return None
    try:
        return Infusion.model_validate(
            {"type": kind, "duration": None if hours is None else f"{hours!r} h"}
        )
    except ValueError:
        return None  # a duration dosecalc does not take: method stays listed as not checked


def _one_cycle(
    requests: list[_Request],
    source: str,
    regimen: str | None,
    cycle: int | None,
    regimen_id: str | None = None,
) -> tuple[list[_Request], str | None, int | None, int]:
    """The requests of one cycle, its regimen and number, and how many others were left out."""
    wanted = (regimen_id or regimen or "").strip().lower() or None
    groups = {r.group for r in requests}
    if None in groups:
        if len(groups) > 1:
            raise FileError(
                Problem(
                    "the bundle mixes dosecalc's cycle-numbered requests with others; "
                    "verify one cycle's requests at a time",
                    file=source,
                )
            )
        return requests, regimen, cycle, 0
    keys = sorted(groups, key=lambda g: (g[1], g[2]))  # type: ignore[index]
    chosen = [
        g
        for g in keys
        if (cycle is None or g[2] == cycle)  # type: ignore[index]
        and (wanted is None or g[0] == wanted)  # type: ignore[index]
    ]
    if len(chosen) > 1 and len({(g[0], g[2]) for g in chosen}) == 1:  # type: ignore[index]
        raise FileError(
            Problem(
                f"the bundle is a course's: {chosen[0][0]} cycle {chosen[0][2]} is in several "  # type: ignore[index]
                "phases; export the plan of that phase's regimen on its own to verify it",
                file=source,
            )
        )
    if len(chosen) != 1:
        shown = chosen or keys
        listed = ", ".join(dict.fromkeys(f"{g[0]} cycle {g[2]}" for g in shown[:12]))  # type: ignore[index]
        how = "give --cycle N (and --regimen ID)" if chosen else "check --cycle and --regimen"
        found = "several cycles" if chosen else "no cycle that matches"
        raise FileError(
            Problem(f"the bundle holds {found} ({listed}); {how} to pick one", file=source)
        )
    g = chosen[0]
    mine = [r for r in requests if r.group == g]
    name, _, number = g  # type: ignore[misc]
    return mine, (regimen or name), number, len(requests) - len(mine)


def _days(
    requests: list[_Request], source: str, start: date | None
) -> tuple[list[OrderLine], date | None, bool]:
    """Order lines with their day numbers, day 1, and whether day 1 was assumed."""

    undated = [r for r in requests if r.when is None]
    if undated:
        raise FileError(
            *[
                Problem(
                    "no date (timing.event or timing.repeat.boundsPeriod.start) says when "
                    "this dose is given",
                    file=r.where,
                )
                for r in undated[:20]
            ]
        )
    assumed = False
    numbered = [r for r in requests if r.sequence is not None]
    if start is None and numbered:
        firsts = {r.when - timedelta(days=r.sequence - 1) for r in numbered}  # type: ignore[operator]
        if len(firsts) > 1:
            raise FileError(
                Problem(
                    "the requests' dates and day numbers (sequence) disagree about the cycle's "
                    f"day 1 ({', '.join(sorted(d.isoformat() for d in firsts))})",
                    file=source,
                )
            )
        start = firsts.pop()
    if start is None:
        start = min(r.when for r in requests)  # type: ignore[type-var]
        assumed = True
    lines = []
    problems = []
    for r in requests:
        day = day_of(start, r.when)  # type: ignore[arg-type]
        if r.sequence is not None and r.sequence != day:
            problems.append(
                Problem(
                    f"{r.drug}: dated {r.when} (day {day} from {start}) but numbered day "
                    f"{r.sequence}",
                    file=r.where,
                )
            )
        if day < 1:
            problems.append(
                Problem(f"{r.drug}: dated {r.when}, before day 1 ({start})", file=r.where)
            )
            continue
        lines.append(
            OrderLine(
                r.drug,
                r.amount,
                r.unit,
                r.written,
                day,
                r.route,
                r.where,
                r.given_as,
                infusion=r.infusion,
            )  # fmt: skip
        )
    if problems:
        raise FileError(*problems[:30])
    return lines, start, assumed


def _one_patient(resources: list[tuple[int, Any, str | None]], source: str) -> None:
    """An order is one patient's: one Patient at most, and every request and measurement whose
    subject is given names it (its fullUrl, Patient/id, or a URL ending in it), or, without a
    Patient, all name one subject. Else the sex, age and measurements read could be another's."""
    patients = [
        (i, res, full) for i, res, full in resources if res.get_resource_type() == "Patient"
    ]
    if len(patients) > 1:
        shown = ", ".join(str(i) for i, _, _ in patients)
        raise FileError(
            Problem(
                f"entries {shown} are {len(patients)} Patients: an order is one patient's; "
                "send each patient's bundle on its own",
                file=source,
            )
        )
    names = set()
    if patients:
        _, res, full = patients[0]
        names = {n for n in (full, f"Patient/{res.id}" if res.id else None) if n}
    subjects: dict[str, int] = {}
    for i, res, _ in resources:
        if res.get_resource_type() not in ("MedicationRequest", "Observation"):
            continue
        ref = res.subject.reference if res.subject is not None else None
        if ref is None:
            continue
        ref = ref.split("/_history/")[0]  # a version of the patient is the patient
        mine = ref in names or any(n.endswith(f"/{ref}") or ref.endswith(f"/{n}") for n in names)
        if (patients and not mine) or (not patients and subjects and ref not in subjects):
            other = (
                f"the bundle's Patient ({', '.join(sorted(names))})"
                if patients
                else f"{next(iter(subjects))} of entry {next(iter(subjects.values()))}"
            )
            raise FileError(
                Problem(
                    f"the subject {ref} is not {other}: an order is one patient's; send each "
                    "patient's bundle on its own",
                    file=f"{source} entry {i}",
                )
            )
        subjects.setdefault(ref, i)


def _is_mrn(kind: Any) -> bool:
    """An identifier typed as the medical record number (:func:`fhir.is_mrn`)."""
    return fhir.is_mrn(((c.system, c.code) for c in kind.coding or []), kind.text)


def _quantity(obs: Any) -> tuple[float, str] | None:
    q = obs.valueQuantity
    if q is None or q.value is None:
        return None
    code = {"[lb_av]": "lb", "[in_i]": "in"}.get(q.code or "", q.code)
    text = (q.unit or "").strip()
    if code and text and text.lower() not in (code.lower(), (q.code or "").lower()):
        try:  # kilograms for kg: the same unit, spelled out
            same = units.unit(text) == units.unit(code)
        except ValueError:
            same = False
        if not same:  # 70 'lb' coded kg was read as 31.8 kg
            raise ValueError(
                f"valueQuantity.unit '{q.unit}' is not the unit its UCUM code '{q.code}' says; "
                "the code is the unit: correct or remove the text"
            )
    return float(q.value), code or text


def _patient(
    resources: list[tuple[int, Any, str | None]], start: date | None, source: str
) -> Measurements:
    """The measurements the bundle's Observations give (the latest of each; two different
    values of one measurement on one day, or both undated, are refused), sex and age."""
    found: dict[str, tuple[date | None, str]] = {}
    seen: dict[tuple[str, date | None], tuple[str, int]] = {}
    conflicts: list[Problem] = []
    sex = age = ident = None
    for i, res, _ in resources:
        kind = res.get_resource_type()
        if kind == "Observation" and res.status not in ("entered-in-error", "cancelled"):
            codes = [c.code for c in (res.code.coding or []) if c.system == "http://loinc.org"]
            what = next((LOINC[c] for c in codes if c in LOINC), None)
            try:
                value = _quantity(res)
            except ValueError as e:
                conflicts.append(
                    Problem(f"{what or 'Observation'}: {e}", file=f"{source} entry {i}")
                )
                continue
            if what is None or value is None:
                continue
            try:
                when = _date(res.effectiveDateTime) if res.effectiveDateTime is not None else None
            except ValueError:
                when = None  # a partial date (2026-11): undated, so it cannot count as recent
            text = f"{value[0]:g} {value[1]}".strip()
            if what == "bsa":
                text = f"{value[0]:g}"  # m² is the only unit of a BSA
            other = seen.setdefault((what, when), (text, i))
            if other[0] != text:
                day = f"on {when}" if when else "without a date"
                conflicts.append(
                    Problem(
                        f"two different {what} Observations {day}: {other[0]} (entry {other[1]}) "
                        f"and {text} (entry {i}); which is right?",
                        file=source,
                    )
                )
            old = found.get(what)
            if old is None or (when is not None and (old[0] is None or when > old[0])):
                found[what] = (when, text)
        elif kind == "Patient":
            if res.gender in ("male", "female"):
                sex = res.gender
            ids = [i for i in res.identifier or [] if i.value]
            ident = next((i.value for i in ids if i.system == LEDGER_ID), None)
            ident = ident or next((i.value for i in ids if i.type and _is_mrn(i.type)), None)
            born = None
            if res.birthDate is not None:
                try:
                    born = _date(res.birthDate)
                except ValueError:  # a partial birth date (a year): no age from it
                    born = None
            if born is not None and start is not None:
                # in years and their part, as --age reads them: whole years made a 9-month-old
                # 0 y, in a rule for those under 6 months
                age = repr(clock.years_old(born, start)) if start >= born else "0"
    if conflicts:
        raise FileError(*conflicts)
    size = found.get("weight") or found.get("bsa") or found.get("height")
    return Measurements(
        height=found["height"][1] if "height" in found else None,
        weight=found["weight"][1] if "weight" in found else None,
        bsa=found["bsa"][1] if "bsa" in found else None,
        measured=size[0] if size else None,
        sex=sex,
        age=age,
        id=ident,
    )
