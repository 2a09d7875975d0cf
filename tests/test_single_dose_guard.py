"""The usual-maximum-single-dose guard of a regimen's doses (drugs.yaml ``max_single_dose``) on
every path: plan, course, verify and regimens validate, with real files and the program."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import yaml

from tests.conftest import TODAY, write

PATIENT = ["--height", "175cm", "--weight", "70kg"]
ADULT = [*PATIENT, "--start", TODAY.isoformat()]


def regimen(tmp_path: Path, name: str, *lines: dict) -> Path:
    """A one-cycle regimen file of ``lines`` (each a drug line of the regimen format)."""
    body = {
        "id": name,
        "name": f"test {name}",
        "cycle_length_days": 21,
        "cycles": 1,
        "sources": ["test"],
        "gates": [],
        "drugs": list(lines),
    }
    return write(tmp_path, f"{name}.yaml", yaml.safe_dump(body, sort_keys=False))


def line(drug: str, dose: str, days: object = 1, **more: object) -> dict:
    return {"drug": drug, "dose": dose, "days": days, "route": "IV", **more}


def plan_json(run, path: Path | str, *args: str, patient: list[str] = ADULT) -> tuple[int, dict]:
    p = run("plan", str(path), *patient, *args, "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)


def guard_warnings(data: dict) -> list[dict]:
    codes = ("DOSE_ABOVE_USUAL_MAXIMUM", "DOSE_GUARD_UNVERIFIED")
    return [w for w in data["warnings"] if w["code"] in codes]


# ---------------------------------------------------------------- ten-fold, unverified guard


def test_ten_fold_above_an_unverified_maximum_is_critical_in_a_plan(run, tmp_path: Path) -> None:
    """Gemcitabine's usual maximum (1500 mg/m²) is marked unverified: 20,000 mg/m² (13 times
    it) passed a plan with exit 0 and only DOSE_GUARD_UNVERIFIED, while the same amount in a
    history file is refused as a slip. At ten times or more it is critical whatever the review."""
    code, data = plan_json(run, regimen(tmp_path, "gem20x", line("gemcitabine", "20000 mg/m2")))
    [w] = guard_warnings(data)
    assert code == 1
    assert (w["severity"], w["code"]) == ("critical", "DOSE_ABOVE_USUAL_MAXIMUM")
    assert "marked unverified" in w["message"] and "slip past doubt" in w["message"]


def test_below_ten_fold_an_unverified_maximum_still_only_warns(run, tmp_path: Path) -> None:
    """9,000 mg/m² is 6 times gemcitabine's unverified 1500 mg/m²: the unverified guard holds
    nothing below ten-fold (unless the policy allows unverified data), as before."""
    code, data = plan_json(run, regimen(tmp_path, "gem6x", line("gemcitabine", "9000 mg/m2")))
    [w] = guard_warnings(data)
    assert code == 0
    assert (w["severity"], w["code"]) == ("warning", "DOSE_GUARD_UNVERIFIED")


def test_ten_fold_above_an_unverified_maximum_is_critical_in_a_course(run, tmp_path: Path) -> None:
    regimen(tmp_path, "gem20x", line("gemcitabine", "20000 mg/m2"))
    course = write(
        tmp_path,
        "course.yaml",
        f"course: c\nphases:\n  - regimen: gem20x.yaml\n    cycles: 1\n"
        f"    start: {TODAY.isoformat()}\n",
    )
    code, data = plan_json(run, course, patient=PATIENT)
    assert code == 1
    assert [w["severity"] for w in guard_warnings(data)] == ["critical"]


def test_ten_fold_above_an_unverified_maximum_as_ordered_holds_verify(run, tmp_path: Path) -> None:
    """The order's own amount: gemcitabine 30,000 mg for 1.84 m² is 16,264 mg/m²."""
    path = regimen(tmp_path, "gem", line("gemcitabine", "1000 mg/m2"))
    start = TODAY + timedelta(days=7)
    order = {
        "regimen": str(path),
        "cycle": 1,
        "start": start.isoformat(),
        "patient": {"height": "175 cm", "weight": "70 kg", "measured": TODAY.isoformat()},
        "lines": [{"drug": "gemcitabine", "dose": "30000 mg", "day": 1, "route": "IV"}],
    }
    written = write(tmp_path, "order.yaml", yaml.safe_dump(order, sort_keys=False))
    p = run("verify", str(written), "--height", "175cm", "--weight", "70kg", "--format", "json")
    assert p.returncode == 1, p.stderr
    found = guard_warnings(json.loads(p.stdout))
    assert [(w["severity"], w["code"]) for w in found] == [("critical", "DOSE_ABOVE_USUAL_MAXIMUM")]
    assert found[0]["message"].startswith("as ordered: gemcitabine 30,000 mg")
