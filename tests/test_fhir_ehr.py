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
