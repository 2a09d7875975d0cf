"""A plan for use outside the terminal: an iCalendar file and a FHIR R4 bundle.

- ICS (RFC 5545, with the icalendar library): one all-day event per administration day, every
  drug of that day in it with dose and basis; the UID depends only on what the event *is*
  (plan identity, phase, cycle, day), so a re-exported plan updates the events it made rather
  than adding new ones.
- FHIR R4: a Bundle with the Patient (measurements only, undated: dosecalc is not told when
  they were taken), one MedicationRequest per administration (dose, route, date, the dosing
  basis), a DetectedIssue per warning that concerns administrations (implicating their requests)
  and a CarePlan that ties them together.

Every export carries each warning and critical on every administration it concerns (the CSV's
``notice``, the request's ``detectedIssue`` and ``note``, the day's event), every critical about
the plan as a whole on every administration, and the plan's own warnings in its header.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from dosecalc import __version__
from dosecalc.base.alerts import CRITICAL, INFO, SEVERITIES, Alert
from dosecalc.base.numbers import fmt

NAMESPACE = uuid.UUID("6f0b9b4e-5a39-4c36-9d7e-3c1f4f6a2d10")  # dosecalc's own UUID namespace


def plan_identity(plan: Any, identity: dict[str, str | None] | None = None) -> str:
    """What identifies a plan across re-exports: regimen or course, start, and the patient as
    given (--patient, --mrn, --patient-name with --birth-date). Without any, nothing tells two
    patients on one regimen from one start apart: each export gets ids of its own (a calendar or
    FHIR store would otherwise replace one patient's doses with another's). The start is the
    first phase's as planned, before any delay: a delayed cycle 1 moves its events, it does not
    make a second plan beside the first (a calendar would show both dates)."""
    what = plan.course.id if plan.course is not None else plan.regimen.id
    given = identity or {}
    who = [given.get(k) or "" for k in ("patient_id", "mrn", "name", "birth_date")]
    if not any(who):
        who = [f"export {uuid.uuid4()}"]
    first = plan.phases[0] if plan.phases else None
    start = (first.planned if first is not None else None) or plan.start
    return "|".join([what, start.isoformat(), *who])


def label(w: Alert) -> str:
    """``'CRITICAL ORGAN_FUNCTION_CONTRAINDICATION: cisplatin: CrCl 36.5 mL/min …'``."""
    return f"{w.severity.upper()} {w.code}: {w.message}"


def carried(plan: Any) -> tuple[list[list[Alert]], list[Alert]]:
    """What every export carries, most severe first: per administration (in the plan's order)
    each warning and critical that concerns it and every critical about the plan as a whole;
    and the whole plan's warnings and criticals, for the export's header. Info notes stay in
    the table and the JSON."""
    from dosecalc.clinical.plan import alerts_by_administration

    per, whole = alerts_by_administration(plan)
    header = _severest(w for w in whole if w.severity != INFO)
    everywhere = [w for w in header if w.severity == CRITICAL]
    return [_severest([*(w for w in ws if _carried(w)), *everywhere]) for ws in per], header


def _carried(w: Alert) -> bool:
    """Whether an administration's export carries ``w``: warnings and criticals, and the note
    that its dose is not the standard one (DOSE_MODIFIED: a calendar line '90.4 mg (50 mg/m²)'
    at 2.41 m² contradicts itself without the reduction and its reason)."""
    return w.severity != INFO or w.code == "DOSE_MODIFIED"


def _severest(alerts: Any) -> list[Alert]:
    """``alerts`` once each (the same warning may concern several administrations of one day),
    most severe first, otherwise in their order."""
    return sorted(dict.fromkeys(alerts), key=lambda w: -SEVERITIES.index(w.severity))


def _uid(identity: str, phase: int, cycle: int, day: int) -> str:
    digest = hashlib.sha256(f"{identity}|{phase}|{cycle}|{day}".encode()).hexdigest()
    return f"{digest[:32]}@dosecalc"


def to_ics(
    plan: Any, now: datetime | None = None, identity: dict[str, str | None] | None = None
) -> bytes:
    """The plan as an iCalendar file: one all-day event per administration day; UIDs that stay
    the same across re-exports for one patient as identified (``identity``, see plan_identity)."""
    from icalendar import Calendar, Event, vText

    ident = plan_identity(plan, identity)
    now = now or datetime.now(UTC)
    cal = Calendar()
    cal.add("prodid", f"-//dosecalc//dosecalc {__version__}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    name = plan.course.head.name if plan.course is not None else plan.regimen.name
    cal.add("x-wr-calname", f"Chemotherapy: {name}")
    per, header = carried(plan)
    if header:
        cal.add("x-wr-caldesc", vText("\n".join(label(w) for w in header)))
    days: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, a in enumerate(plan.administrations):
        days[(a.date, a.phase, a.cycle, a.day, a.regimen)].append(i)
    for (when, phase, cycle, day, regimen), indices in sorted(
        days.items(), key=lambda kv: kv[0][:4]
    ):
        given = [plan.administrations[i] for i in indices]
        event = Event()
        event.add("uid", _uid(ident, phase, cycle, day))
        event.add("dtstamp", now)
        event.add("dtstart", when)
        event.add("dtend", when + timedelta(days=1))
        event.add(
            "summary",
            f"Chemotherapy: {regimen} cycle {cycle} day {day}"
            + (f" (phase {phase})" if plan.course is not None else ""),
        )
        lines = [
            f"{a.dose.drug} {fmt(a.dose.dose)} {a.dose.unit}{_which(a)} {_how(a.dose)} "
            f"({a.dose.protocol_text}, {a.dose.basis})"
            + (f": {a.dose.note}" if a.dose.note else "")
            for a in given
        ]
        lines += [label(w) for w in _severest(w for i in indices for w in per[i])]
        lines.append(
            f"Calculated by dosecalc {__version__}; verify against the order before giving."
        )
        event.add("description", "\n".join(lines))
        event.add("categories", ["Chemotherapy"])
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()


# ---------------------------------------------------------------- FHIR R4

UCUM = "http://unitsofmeasure.org"
WARNING_CODES = "urn:dosecalc:warning"  # the codes of docs/warnings.md


def _ref(uid: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{uid}"}


def _where(w: Alert) -> tuple[object, ...]:
    """What tells one warning from another, for its DetectedIssue's stable id."""
    return (w.code, w.drug, w.phase, w.cycle, w.day, w.date, w.message)


def _ref_id(ident: str, *parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join([ident, *map(str, parts)])))


def _which(a: Any) -> str:
    """' (dose 2 of 3, at 4 h)' for one of a timed supportive line's doses (mesna at 0, 4 and
    8 h), so that its three requests or calendar lines are not read as nine doses; else ''."""
    hours = a.dose.at_hours
    if a.at_h is None or a.at_h not in hours:
        return ""
    return f" (dose {hours.index(a.at_h) + 1} of {len(hours)}, at {fmt(a.at_h)} h)"


def _how(d: Any) -> str:
    """The route and how it is given, without the order's note: 'IV continuous infusion over
    46 h (96.2 mg/h), via pump'."""
    return f"{d.route} {d.infusion_text}".strip()


def _dosage(a: Any, basis: str, code: str) -> dict[str, Any]:
    """One administration's dosageInstruction: when, how (bolus, an infusion over a time, a
    continuous infusion with its rate), how much, and the regimen's note."""
    d = a.dose
    timing: dict[str, Any] = {"event": [a.date.isoformat()]}
    dose_and_rate: dict[str, Any] = {
        "type": {"text": basis},
        "doseQuantity": {"value": d.dose, "unit": d.unit, "system": UCUM, "code": code},
    }
    out: dict[str, Any] = {
        "sequence": a.day,
        "text": f"{fmt(d.dose)} {d.unit}{_which(a)} {_how(d)} on {a.date.isoformat()} "
        f"({d.protocol_text}, {basis}); cycle {a.cycle} day {a.day}",
        "timing": timing,
        "route": {"text": d.route},
        "doseAndRate": [dose_and_rate],
    }
    infusion = d.infusion
    if infusion is not None:
        if infusion.duration is not None:
            timing["repeat"] = {"duration": round(infusion.duration, 4), "durationUnit": "h"}
        if infusion.type is not None:
            out["method"] = {"text": infusion.kind()}
        if d.rate_per_hour is not None and infusion.type == "continuous":
            dose_and_rate["rateQuantity"] = {
                "value": round(d.rate_per_hour, 6),
                "unit": f"{d.unit}/h",
                "system": UCUM,
                "code": f"{code}/h",
            }
    notes = [x for x in (infusion.note if infusion else None, d.note) if x]
    if notes:
        out["additionalInstruction"] = [{"text": text} for text in notes]
    return out


def to_fhir(plan: Any, identity: dict[str, str | None] | None = None) -> dict[str, Any]:
    """A FHIR R4 Bundle (type collection) of the plan; ``identity`` (name, mrn, birth_date,
    patient_id) as given on the command line goes into the Patient resource."""
    p = plan.patient
    ident = plan_identity(plan, identity)
    patient_id = _ref_id(ident, "patient")
    careplan_id = _ref_id(ident, "careplan")
    entries: list[dict[str, Any]] = []
    observations = []
    for code, display, value, unit in (
        ("8302-2", "Body height", p.height_cm, "cm"),
        ("29463-7", "Body weight", p.weight_kg, "kg"),
        ("8277-6", "Body surface area", p.bsa_m2, "m2"),
    ):
        if value is None:
            continue
        oid = _ref_id(ident, "observation", code)
        observations.append(oid)
        entries.append(
            {
                "fullUrl": f"urn:uuid:{oid}",
                "resource": {
                    "resourceType": "Observation",
                    "id": oid,
                    "status": "final",
                    "code": {
                        "coding": [
                            {"system": "http://loinc.org", "code": code, "display": display}
                        ],
                        "text": display,
                    },
                    "subject": {"reference": f"urn:uuid:{patient_id}"},
                    # no effectiveDateTime: dosecalc is not told when they were measured, and
                    # the plan's start is not that date (verify would read them as fresh)
                    "valueQuantity": {
                        "value": round(value, 4),
                        "unit": unit,
                        "system": UCUM,
                        "code": unit,
                    },
                    **(
                        {"method": {"text": f"{p.bsa_formula} formula"}} if code == "8277-6" else {}
                    ),
                },
            }
        )
    per, _ = carried(plan)
    issues = {_where(w): (w, _ref_id(ident, "issue", *_where(w))) for ws in per for w in ws}
    requests = []
    for a, alerts in zip(plan.administrations, per, strict=True):
        d = a.dose
        at = () if a.at_h is None else (f"at {a.at_h:g} h",)  # a supportive line's timed doses
        rid = _ref_id(ident, "request", a.phase, a.cycle, a.day, d.drug, d.protocol.text, *at)
        requests.append(rid)
        unit = "mg" if d.unit == "mg" else "[U]"
        basis = {
            "bsa": "per body surface area",
            "weight": "per body weight",
            "flat": "flat dose",
            "auc": "carboplatin by target AUC (Calvert)",
            "percent": f"percent of the {d.serves} dose",
            "ratio": f"ratio to the {d.serves} dose",
        }[d.basis]
        entries.append(
            {
                "fullUrl": f"urn:uuid:{rid}",
                "resource": {
                    "resourceType": "MedicationRequest",
                    "id": rid,
                    "status": "draft",
                    "intent": "plan",
                    "medicationCodeableConcept": {"text": d.drug},
                    "subject": {"reference": f"urn:uuid:{patient_id}"},
                    "basedOn": [{"reference": f"urn:uuid:{careplan_id}"}],
                    "supportingInformation": [{"reference": f"urn:uuid:{o}"} for o in observations],
                    "groupIdentifier": {
                        "system": "urn:dosecalc:cycle",
                        "value": f"{a.regimen}/phase-{a.phase}/cycle-{a.cycle}",
                    },
                    **(
                        {"detectedIssue": [_ref(issues[_where(w)][1]) for w in alerts]}
                        if alerts
                        else {}
                    ),
                    "note": [{"text": " | ".join(d.trace)}, *({"text": label(w)} for w in alerts)],
                    "dosageInstruction": [_dosage(a, basis, unit)],
                },
            }
        )
    for key, (w, iid) in issues.items():
        implicated = [
            r for r, alerts in zip(requests, per, strict=True) if key in map(_where, alerts)
        ]
        entries.append(
            {
                "fullUrl": f"urn:uuid:{iid}",
                "resource": {
                    "resourceType": "DetectedIssue",
                    "id": iid,
                    "status": "final",
                    "code": {"coding": [{"system": WARNING_CODES, "code": w.code}], "text": w.code},
                    "severity": {"critical": "high", "warning": "moderate"}[w.severity],
                    "patient": _ref(patient_id),
                    "implicated": [_ref(r) for r in implicated],
                    "detail": w.message,
                },
            }
        )
    name = plan.course.head.name if plan.course is not None else plan.regimen.name
    careplan = {
        "resourceType": "CarePlan",
        "id": careplan_id,
        "status": "draft",
        "intent": "plan",
        "title": name,
        "subject": {"reference": f"urn:uuid:{patient_id}"},
        "period": {
            "start": plan.start.isoformat(),
            "end": max(a.date for a in plan.administrations).isoformat(),
        },
        "description": f"Planned by dosecalc {__version__}: {len(requests)} administrations",
        "activity": [{"reference": {"reference": f"urn:uuid:{r}"}} for r in requests],
        "note": [
            {"text": f"{w.severity}: {w.message}"}
            for w in _severest(w for w in plan.warnings if w.severity != INFO)
        ][:50],
    }
    patient: dict[str, Any] = {"resourceType": "Patient", "id": patient_id}
    if p.sex in ("male", "female"):
        patient["gender"] = p.sex
    identity = identity or {}
    identifiers = []
    if identity.get("mrn"):
        identifiers.append({"type": {"text": "MRN"}, "value": identity["mrn"]})
    if identity.get("patient_id"):
        identifiers.append({"system": "urn:dosecalc:ledger", "value": identity["patient_id"]})
    if identifiers:
        patient["identifier"] = identifiers
    if identity.get("name"):
        patient["name"] = [{"text": identity["name"]}]
    if identity.get("birth_date"):
        patient["birthDate"] = identity["birth_date"]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "id": _ref_id(ident, "bundle"),
        "meta": {"tag": [{"system": "urn:dosecalc", "code": f"dosecalc-{__version__}"}]},
        "entry": [
            {"fullUrl": f"urn:uuid:{patient_id}", "resource": patient},
            {"fullUrl": f"urn:uuid:{careplan_id}", "resource": careplan},
            *entries,
        ],
    }
