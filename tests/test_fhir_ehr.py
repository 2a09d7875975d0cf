"""FHIR R4 Bundles as another system's EHR writes them (not dosecalc's own ``plan --format
fhir``): RxNorm displays of a product, brand names, codings beside a text, comparators, several
patients, MRNs typed by their v2-0203 code. Read by ``verify`` (MedicationRequests) and ``ledger
import`` (MedicationAdministrations), each through the one FHIR reader."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import write

UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
MR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}
LIPOSOMAL = "doxorubicin hydrochloride liposome 2 MG/ML Injectable Suspension"  # RxNorm SCD


def _ok(p: subprocess.CompletedProcess[str], code: int = 0) -> subprocess.CompletedProcess[str]:
    assert p.returncode == code, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    return p


def _medication(text: str | None, display: str | None = None) -> dict:
    concept: dict = {"text": text} if text else {}
    if display:
        concept["coding"] = [{"system": RXNORM, "code": "1", "display": display}]
    return {"medicationCodeableConcept": concept}


def _given(medication: dict, value: float, unit: str = "mg", **dose: object) -> dict:
    return {
        "resourceType": "MedicationAdministration",
        "id": "adm-1",
        "status": "completed",
        **medication,
        "subject": {"reference": "Patient/P1"},
        "effectiveDateTime": "2026-10-01T09:00:00Z",
        "dosage": {"dose": {"value": value, "system": UCUM, "code": unit, **dose}},
    }


def _administrations(*resources: dict) -> str:
    entries = [{"fullUrl": f"urn:uuid:a{i}", "resource": r} for i, r in enumerate(resources)]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def _import(run, tmp_path: Path, db: str, *resources: dict) -> subprocess.CompletedProcess[str]:
    f = write(tmp_path, "mar.json", _administrations(*resources))
    return run("ledger", "import", str(f), "--db", db)


def _drugs(run, db: str) -> list[tuple[str, str, str]]:
    p = _ok(run("ledger", "export", "--format", "json", "--db", db))
    return [(r["drug"], r["dose"], r["unit"]) for r in json.loads(p.stdout)["records"]]


def test_a_liposomal_product_beside_the_conventional_name_is_refused(
    run, sqlite_url: str, tmp_path: Path
) -> None:
    """A text 'doxorubicin' coded with RxNorm's liposomal product (or a text naming Caelyx
    coded with the ingredient 'doxorubicin') was recorded as conventional doxorubicin, counted
    against its 550 mg/m² ceiling: the product name was skipped as unknown. Refused now, on
    both paths; the brand and salt names of the conventional drug are still read."""
    for medication in (
        _medication("doxorubicin", LIPOSOMAL),
        _medication("Caelyx pegylated liposomal doxorubicin 2 mg/ml", "doxorubicin"),
    ):
        p = _ok(_import(run, tmp_path, sqlite_url, _given(medication, 40)), 2)
        assert "mar.json entry 0" in p.stderr and "special formulation" in p.stderr
        assert "not interchangeable" in p.stderr
    _ok(
        _import(run, tmp_path, sqlite_url, _given(_medication("Adriamycin", "DOXOrubicin HCl"), 40))
    )
    _ok(
        _import(
            run,
            tmp_path,
            sqlite_url,
            _given(_medication("Caelyx", LIPOSOMAL), 20) | {"id": "adm-2"},
        )
    )
    assert _drugs(run, sqlite_url) == [
        ("doxorubicin", "40", "mg"),
        ("liposomal doxorubicin", "20", "mg"),
    ]


def test_an_administered_dose_with_a_comparator_is_refused(
    run, sqlite_url: str, tmp_path: Path
) -> None:
    """dosage.dose {comparator: '<', value: 160 mg} was recorded as 160 mg given (a '>' one
    would count less than was given); verify refused it, import did not look."""
    p = _ok(
        _import(run, tmp_path, sqlite_url, _given(_medication("epirubicin"), 160, comparator="<")),
        2,
    )
    assert "mar.json entry 0" in p.stderr and "resource.dosage.dose.comparator '<'" in p.stderr
    _ok(_import(run, tmp_path, sqlite_url, _given(_medication("epirubicin"), 160)))
    assert _drugs(run, sqlite_url) == [("epirubicin", "160", "mg")]


def _request(drug: str, mg: float) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": drug},
        "subject": {"reference": "urn:uuid:p1"},
        "dosageInstruction": [
            {
                "timing": {"event": ["2026-12-01"]},
                "route": {"text": "IV"},
                "doseAndRate": [{"doseQuantity": {"value": mg, "system": UCUM, "code": "mg"}}],
            }
        ],
    }


def _measured(loinc: str, value: float, unit: str) -> dict:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": "urn:uuid:p1"},
        "effectiveDateTime": "2026-11-30",
        "valueQuantity": {"value": value, "system": UCUM, "code": unit},
    }


def _patient(sex: str, born: str, **more: object) -> dict:
    return {"resourceType": "Patient", "gender": sex, "birthDate": born, **more}


def _order(tmp_path: Path, *more: tuple[str, dict], patient: dict | None = None) -> Path:
    """An EC cycle 1 order for a 170 cm, 70 kg woman (BSA 1.82 m²: epirubicin 163.6 mg,
    cyclophosphamide 1,090.9 mg), as an EHR writes it; ``more`` adds entries, or replaces the
    one of its fullUrl."""
    resources = {
        "urn:uuid:p1": patient or _patient("female", "1970-01-01"),
        "urn:uuid:o1": _measured("8302-2", 170, "cm"),
        "urn:uuid:o2": _measured("29463-7", 70, "kg"),
        "urn:uuid:r1": _request("epirubicin", 163.6),
        "urn:uuid:r2": _request("cyclophosphamide", 1090.9),
    } | dict(more)
    entries = [{"fullUrl": full, "resource": r} for full, r in resources.items()]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    return write(tmp_path, "order.json", json.dumps(bundle))


def _verify(run, order: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return run("verify", str(order), "--regimen", "ec", "--cycle", "1", *more)


def test_an_order_bundle_is_one_patients(run, tmp_path: Path) -> None:
    """A bundle with a second Patient (a 76-year-old man after the 56-year-old woman) was
    verified with the last one's sex and age, exit 0; a request whose subject is another
    patient's was verified with this one's measurements. Both refused, naming the entries."""
    assert _ok(_verify(run, _order(tmp_path))).returncode == 0
    man = _patient("male", "1950-01-01")
    p = _ok(_verify(run, _order(tmp_path, ("urn:uuid:p2", man))), 2)
    assert "order.json: entries 0, 5 are 2 Patients" in p.stderr
    other = _request("epirubicin", 163.6) | {"subject": {"reference": "Patient/someone-else"}}
    p = _ok(_verify(run, _order(tmp_path, ("urn:uuid:r3", other))), 2)
    assert "order.json entry 5: the subject Patient/someone-else is not the bundle's Patient" in (
        p.stderr
    )
    # the Patient by its id, its server URL or one of its versions is the one patient
    known = _patient("female", "1970-01-01", id="123")
    for subject in (
        "Patient/123",
        "Patient/123/_history/2",
        "https://ehr.example/fhir/Patient/123",
    ):
        same = _request("epirubicin", 163.6) | {"subject": {"reference": subject}}
        _ok(_verify(run, _order(tmp_path, ("urn:uuid:r1", same), patient=known)))


def test_an_mrn_typed_by_its_hl7_code_is_the_orders_patient(run, tmp_path: Path) -> None:
    """A Patient's MRN typed {v2-0203 MR} (as EHRs type it, beside other identifiers) was not
    read: verify --patient of another patient released the order, checked against the other
    patient's ledger and history."""
    ids = [
        {"system": "urn:oid:2.16.840.1.113883.4.1", "value": "123-45-6789"},
        {"type": MR, "system": "urn:oid:1.2.3.4", "value": "MRN123"},
    ]
    order = _order(tmp_path, patient=_patient("female", "1970-01-01", identifier=ids))
    p = _ok(_verify(run, order, "--patient", "MRN999"), 2)
    assert "the order is for patient MRN123, not --patient MRN999" in p.stderr


def test_a_timing_that_repeats_over_days_is_refused(run, tmp_path: Path) -> None:
    """timing {event: [2026-12-01], code: 'QD x 3 days'}, or repeat {boundsPeriod 12-01 to
    12-03, frequency 1} or {boundsDuration 3 d}, were read as one dose on 2026-12-01 and
    released: the schedule said three. Refused, naming the entry; code ONCE is one dose."""
    schedules = (
        {"event": ["2026-12-01"], "code": {"text": "QD x 3 days"}},
        {"event": ["2026-12-01"], "code": {"coding": [{"code": "BID"}]}},
        {"repeat": {"boundsPeriod": {"start": "2026-12-01", "end": "2026-12-03"}, "frequency": 1}},
        {"event": ["2026-12-01"], "repeat": {"boundsDuration": {"value": 3, "code": "d"}}},
    )
    for timing in schedules:
        epirubicin = _request("epirubicin", 163.6)
        epirubicin["dosageInstruction"][0]["timing"] = timing
        p = _ok(_verify(run, _order(tmp_path, ("urn:uuid:r1", epirubicin))), 2)
        assert "order.json entry 3" in p.stderr and "is not read" in p.stderr, timing
    once = _request("epirubicin", 163.6)
    once["dosageInstruction"][0]["timing"] = {"event": ["2026-12-01"], "code": {"text": "Once"}}
    _ok(_verify(run, _order(tmp_path, ("urn:uuid:r1", once))))


def test_resources_an_import_does_not_read_are_named(run, sqlite_url: str, tmp_path: Path) -> None:
    """A MedicationStatement (doxorubicin 300 mg/m² given at another hospital) beside one
    administration was dropped without a word: the import said 'imported 1' and the lifetime
    total lacked the 300. Each kind not read is now named in the output."""
    elsewhere = {
        "resourceType": "MedicationStatement",
        "status": "completed",
        "medicationCodeableConcept": {"text": "doxorubicin"},
        "subject": {"reference": "Patient/P1"},
        "dosage": [{"doseAndRate": [{"doseQuantity": {"value": 300, "code": "mg/m2"}}]}],
    }
    encounter = {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"}}
    given = _given(_medication("epirubicin"), 160)
    f = write(tmp_path, "mar.json", _administrations(given, elsewhere, encounter))
    p = _ok(run("ledger", "import", str(f), "--db", sqlite_url, "--format", "json"))
    assert json.loads(p.stdout)["skipped"] == [
        f"{f}: 1 Encounter resource not read (only MedicationAdministrations are imported)",
        f"{f}: 1 MedicationStatement resource not read (only MedicationAdministrations are "
        "imported)",
    ]
    assert _drugs(run, sqlite_url) == [("epirubicin", "160", "mg")]


def test_an_administration_of_a_contained_medication_is_imported(
    run, sqlite_url: str, tmp_path: Path
) -> None:
    """medicationReference '#med' to a Medication contained in the administration (as EHRs
    write a compounded bag) was refused as not in the Bundle, though verify reads it; a
    contained resource of another type is not taken for the Medication."""
    contained = {"resourceType": "Medication", "id": "med", "code": {"text": "Ellence"}}
    given = _given({"medicationReference": {"reference": "#med"}}, 160) | {"contained": [contained]}
    _ok(_import(run, tmp_path, sqlite_url, given))
    assert _drugs(run, sqlite_url) == [("epirubicin", "160", "mg")]
    observation = contained | {"resourceType": "Observation", "id": "obs"}
    other = given | {"id": "adm-2", "contained": [observation]}
    other["medicationReference"] = {"reference": "#obs"}
    p = _ok(_import(run, tmp_path, sqlite_url, other), 2)
    assert "mar.json entry 0: the medication #obs is not in the Bundle" in p.stderr


def test_a_measurements_unit_text_that_disagrees_with_its_code_is_refused(
    run, tmp_path: Path
) -> None:
    """A weight {value 70, unit 'lb', code 'kg'} was read by its text: 31.8 kg, BSA 1.22 m²,
    every dose expected a third lower. The code is the unit, as for a dose; a text that spells
    the code's unit out (kilograms, m²) is read."""
    weight = _measured("29463-7", 70, "kg")
    weight["valueQuantity"]["unit"] = "lb"
    p = _ok(_verify(run, _order(tmp_path, ("urn:uuid:o2", weight))), 2)
    assert (
        "order.json entry 2: weight: valueQuantity.unit 'lb' is not the unit its UCUM code 'kg'"
        in (p.stderr)
    )
    weight["valueQuantity"]["unit"] = "kilograms"
    bsa = _measured("8277-6", 1.82, "m2")
    bsa["valueQuantity"]["unit"] = "m²"
    p = _ok(_verify(run, _order(tmp_path, ("urn:uuid:o2", weight), ("urn:uuid:o3", bsa))))
    assert "weight 70 kg" in p.stdout


def test_a_request_not_to_perform_is_no_dose_to_give(run, tmp_path: Path) -> None:
    """A MedicationRequest with doNotPerform: true ('do not give epirubicin') was verified as
    an order of epirubicin 163.6 mg and released, exit 0."""
    forbidden = _request("epirubicin", 163.6) | {"doNotPerform": True}
    p = _ok(_verify(run, _order(tmp_path, ("urn:uuid:r1", forbidden))), 2)
    assert "order.json entry 3: epirubicin: doNotPerform is true" in p.stderr
    allowed = _request("epirubicin", 163.6) | {"doNotPerform": False}
    _ok(_verify(run, _order(tmp_path, ("urn:uuid:r1", allowed))))


def test_a_medication_whose_form_is_liposomal_is_not_the_conventional_drug(
    run, sqlite_url: str, tmp_path: Path
) -> None:
    """A Medication coded by its ingredient (doxorubicin) with form 'Injectable liposomal
    suspension' was read, verified and recorded as conventional doxorubicin: the form was not
    looked at. Refused on both paths."""
    medication = {
        "resourceType": "Medication",
        "id": "med",
        "code": {"coding": [{"system": RXNORM, "code": "3639", "display": "doxorubicin"}]},
        "form": {"text": "Injectable liposomal suspension"},
    }
    given = _given({"medicationReference": {"reference": "#med"}}, 40) | {"contained": [medication]}
    p = _ok(_import(run, tmp_path, sqlite_url, given), 2)
    assert "form.text 'Injectable liposomal suspension' names a special formulation" in p.stderr
    ordered = _request("epirubicin", 163.6)
    del ordered["medicationCodeableConcept"]
    ordered |= {"medicationReference": {"reference": "#med"}, "contained": [medication]}
    p = _ok(_verify(run, _order(tmp_path, ("urn:uuid:r1", ordered))), 2)
    assert "order.json entry 3" in p.stderr and "Injectable liposomal suspension" in p.stderr
    medication["form"] = {"text": "Injectable solution"}
    _ok(_import(run, tmp_path, sqlite_url, given))
    assert _drugs(run, sqlite_url) == [("doxorubicin", "40", "mg")]


def test_one_administration_under_two_resource_ids_is_refused(
    run, sqlite_url: str, tmp_path: Path
) -> None:
    """Two MedicationAdministrations with the EHR's one identifier MAR-555 (two resource ids:
    two servers, or a version marked entered-in-error) were recorded as 2 doses of 160 mg, or
    the completed one kept beside its own entered-in-error version. Refused, naming both."""
    ident = [{"system": "urn:oid:1.2.3", "value": "MAR-555"}]
    first = _given(_medication("epirubicin"), 160) | {"id": "1001", "identifier": ident}
    for status in ("completed", "entered-in-error"):
        again = first | {"id": "1002", "status": status}
        p = _ok(_import(run, tmp_path, sqlite_url, first, again), 2)
        assert "mar.json entry 1: the identifier urn:oid:1.2.3|MAR-555 is that of entry 0" in (
            p.stderr
        )
    other = first | {"id": "1002", "identifier": [{"system": "urn:oid:1.2.3", "value": "MAR-556"}]}
    _ok(_import(run, tmp_path, sqlite_url, first, other))
    assert _drugs(run, sqlite_url) == [("epirubicin", "160", "mg")] * 2


def test_a_versioned_or_absolute_patient_reference_names_the_patient(
    run, sqlite_url: str, tmp_path: Path
) -> None:
    """subject Patient/P1/_history/2 (a reference to one version) was recorded for a patient
    'P1/_history/2', whose doses no check of P1 counts; an absolute URL was refused. Both are
    P1's; a urn:uuid subject still needs --patient."""
    for i, subject in enumerate(("Patient/P1/_history/2", "https://ehr.example/fhir/Patient/P1")):
        given = _given(_medication("epirubicin"), 160) | {"id": f"adm-{i}"}
        _ok(_import(run, tmp_path, sqlite_url, given | {"subject": {"reference": subject}}))
    p = _ok(run("check", "--patient", "P1", "--db", sqlite_url, "--bsa", "1.6", "--format", "json"))
    totals = {t["drug"]: t["total"] for t in json.loads(p.stdout)["cumulative"]}
    assert totals["epirubicin"] == 200  # 2 × 160 mg / 1.6 m²
    uuid = _given(_medication("epirubicin"), 160) | {"subject": {"reference": "urn:uuid:p1"}}
    p = _ok(_import(run, tmp_path, sqlite_url, uuid | {"id": "adm-3"}), 2)
    assert "subject urn:uuid:p1 is no Patient/ID reference; give --patient ID" in p.stderr


def test_an_import_under_the_patients_resource_id_names_its_mrn(run, tmp_path: Path) -> None:
    """An EHR's administrations for Patient/abc123, whose Patient carries MRN123, were recorded as
    patient abc123 without a word (the summary named no id; the Patient was 'not read'), so a
    check of MRN123 did not count them; and --patient MRN123 was refused as another patient."""
    patient = {
        "resourceType": "Patient",
        "id": "abc123",
        "identifier": [{"type": MR, "value": "MRN123"}, {"system": "urn:x", "value": "9"}],
    }
    given = _given({"medicationCodeableConcept": {"text": "epirubicin"}}, 160)
    given["subject"] = {"reference": "Patient/abc123"}
    bundle = write(tmp_path, "mar.json", _administrations(patient, given))
    p = _ok(run("ledger", "import", str(bundle), "--db", f"sqlite:///{tmp_path / 'a.db'}"))
    assert "imported 1 administration of 1 patient (abc123)" in p.stdout
    assert "Patient resource not read" not in p.stdout
    said = " ".join(p.stderr.split())
    assert "PATIENT_ID_NOT_MRN" in said and "the bundle gives that Patient the MRN MRN123" in said
    db = f"sqlite:///{tmp_path / 'b.db'}"
    p = _ok(run("ledger", "import", str(bundle), "--db", db, "--patient", "MRN123"))
    assert "of 1 patient (MRN123)" in p.stdout and "PATIENT_ID_NOT_MRN" not in p.stderr
    assert [r["patient"] for r in json.loads(_ok(run("ledger", "export", "--format", "json",
            "--db", db)).stdout)["records"]] == ["MRN123"]  # fmt: skip
    p = _ok(run("ledger", "import", str(bundle), "--db", db, "--patient", "9"), 2)
    assert "not --patient 9" in p.stderr  # another identifier (not the MRN) is not the patient


def test_a_transactions_delete_of_an_administration_is_not_a_dose_given(run, tmp_path) -> None:
    """A transaction Bundle's DELETE entry of an administration (the EHR removing it) was read as
    a resource and recorded: a dose counted that the source system had just withdrawn."""
    given = _given({"medicationCodeableConcept": {"text": "epirubicin"}}, 160)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:a0",
                "resource": given,
                "request": {"method": "DELETE", "url": "MedicationAdministration/adm-1"},
            }
        ],
    }
    f = write(tmp_path, "mar.json", json.dumps(bundle))
    db = f"sqlite:///{tmp_path / 'l.db'}"
    p = _ok(run("ledger", "import", str(f), "--db", db), 2)
    assert "request.method DELETE (MedicationAdministration/adm-1) asks a server to remove" in (
        " ".join(p.stderr.split())
    )
    bundle["entry"][0]["request"]["method"] = "POST"
    f.write_text(json.dumps(bundle), encoding="utf-8")
    _ok(run("ledger", "import", str(f), "--db", db))  # a transaction's POST: a resource given
    assert _drugs(run, db) == [("epirubicin", "160", "mg")]
