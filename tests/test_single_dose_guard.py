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


def _ec_order(tmp_path: Path, cycle: int, *lines: tuple[str, str, str]) -> Path:
    """An EC order of ``cycle`` for 175 cm / 70 kg, its lines (drug, dose, route) on day 1."""
    order = {
        "regimen": "ec",
        "cycle": cycle,
        "start": (TODAY + timedelta(days=7)).isoformat(),
        "patient": {"height": "175 cm", "weight": "70 kg", "measured": TODAY.isoformat()},
        "lines": [{"drug": d, "dose": x, "day": 1, "route": r} for d, x, r in lines],
    }
    return write(tmp_path, "order.yaml", yaml.safe_dump(order, sort_keys=False))


def _ec_with_antiemetics(
    tmp_path: Path, ondansetron: str, fosaprepitant: str, route: str = "IV"
) -> Path:
    """ec cycle 2 for 175 cm / 70 kg as ordered, with its antiemetic premedication lines."""
    return _ec_order(
        tmp_path, 2, ("epirubicin", "166 mg", "IV"), ("cyclophosphamide", "1107 mg", "IV"),
        ("fosaprepitant", fosaprepitant, "IV"), ("ondansetron", ondansetron, route),
        ("dexamethasone", "12 mg", "IV"), ("olanzapine", "5 mg", "PO"),
    )  # fmt: skip


def test_a_ten_fold_antiemetic_premedication_line_holds_verify(run, tmp_path: Path) -> None:
    """Ondansetron 80 mg IV (8 mg meant) and fosaprepitant 1,500 mg IV (150 mg meant) were
    listed as premedication and released: the antiemetics had no usual maximum single dose.
    They now hold the order (ondansetron IV 16 mg, the IV maximum; fosaprepitant 150 mg); the
    doses meant pass."""
    wrong = _ec_with_antiemetics(tmp_path, "80 mg", "1500 mg")
    p = run("verify", str(wrong), *PATIENT, "--prior", "epirubicin=0mg/m2", "--format", "json")
    assert p.returncode == 1, p.stderr
    data = json.loads(p.stdout)
    assert data["verdict"] == "hold"
    found = {w["drug"]: (w["severity"], w["code"]) for w in guard_warnings(data)}
    assert found == {
        "ondansetron": ("critical", "DOSE_ABOVE_USUAL_MAXIMUM"),
        "fosaprepitant": ("critical", "DOSE_ABOVE_USUAL_MAXIMUM"),
    }
    [ondansetron] = [w for w in guard_warnings(data) if w["drug"] == "ondansetron"]
    assert ondansetron["message"].startswith("as ordered: ondansetron 80 mg")
    assert (
        "usual maximum IV single dose of 16 mg (FDA Drug Safety Communication"
        in (ondansetron["message"])
    )

    right = _ec_with_antiemetics(tmp_path, "8 mg", "150 mg")
    p = run("verify", str(right), *PATIENT, "--prior", "epirubicin=0mg/m2", "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    data = json.loads(p.stdout)
    assert guard_warnings(data) == []
    assert not [w for w in data["warnings"] if w["severity"] == "critical"]
    statuses = {c["drug"]: c["status"] for c in data["lines"]}
    assert statuses["ondansetron"] == statuses["fosaprepitant"] == "antiemetic"


# ---------------------------------------------------------------- the day's total


def test_two_lines_of_one_drug_on_one_day_are_summed(run, tmp_path: Path) -> None:
    """Doxorubicin 75 mg/m² written twice on day 1 is 150 mg/m² that day (usual maximum
    90 mg/m² for one administration day): each line alone passed, and the plan said nothing."""
    path = regimen(
        tmp_path,
        "dox-split",
        line("doxorubicin", "75 mg/m2", note="first half"),
        line("doxorubicin", "75 mg/m2", note="second half"),
    )
    code, data = plan_json(run, path, "--prior", "doxorubicin=0mg/m2")
    [w] = guard_warnings(data)
    assert code == 1 and (w["severity"], w["day"]) == ("critical", 1)
    assert (
        "276.7 mg in one day, 138.3 mg on dox-split day 1 (first half) + 138.3 mg on "
        in (w["message"])
    )
    assert "is 150 mg/m², above the usual maximum single dose of 90 mg/m2 for one " in w["message"]


def test_a_twice_daily_drug_is_held_to_its_daily_maximum(run, tmp_path: Path) -> None:
    """Capecitabine's usual maximum is 2500 mg/m² a day (1250 mg/m² twice daily): 2500 mg/m²
    morning and evening is 5000 mg/m² a day; once per distinct pair of doses, not per day."""
    path = regimen(
        tmp_path,
        "cape2x",
        line("capecitabine", "2500 mg/m2", "1-14", route="PO", note="morning"),
        line("capecitabine", "2500 mg/m2", "1-14", route="PO", note="evening"),
    )
    code, data = plan_json(run, path, "--genotype", "DPYD=*1/*1")
    [w] = guard_warnings(data)
    assert code == 1 and w["severity"] == "critical" and "5,000 mg/m²" in w["message"]
    correct = regimen(
        tmp_path,
        "cape",
        line("capecitabine", "1250 mg/m2", "1-14", route="PO", note="morning"),
        line("capecitabine", "1250 mg/m2", "1-14", route="PO", note="evening"),
    )
    assert guard_warnings(plan_json(run, correct, "--genotype", "DPYD=*1/*1")[1]) == []


def test_two_phases_of_a_course_on_one_day_are_summed(run, tmp_path: Path) -> None:
    """Two EC phases starting the same day give epirubicin 90 mg/m² twice on that day: 180 mg/m²
    against the usual maximum of 150 mg/m²."""
    start = TODAY.isoformat()
    course = write(
        tmp_path,
        "course.yaml",
        f"course: c\nphases:\n  - regimen: ec\n    cycles: 1\n    start: {start}\n"
        f"  - regimen: ec\n    cycles: 1\n    start: {start}\n",
    )
    code, data = plan_json(run, course, "--prior", "epirubicin=0mg/m2", patient=PATIENT)
    [w] = guard_warnings(data)
    assert code == 1 and w["severity"] == "critical" and w["phase"] is None
    assert "on phase 1, ec day 1 + " in w["message"] and "on phase 2, ec day 1" in w["message"]


def test_a_bolus_and_an_infusion_of_fluorouracil_are_held_each_to_its_own_guard(
    run, tmp_path: Path
) -> None:
    """Fluorouracil's data holds a bolus to 600 mg/m² and one infusion to 3200 mg/m² (one
    administration there is one bolus or one infusion): FOLFOX6's 400 mg/m² bolus and 3000 mg/m²
    46-h infusion on day 1 (3400 mg/m² together) is no finding; two 400 mg/m² boluses on one
    day are 800 mg/m² of boluses."""
    infusion = {"type": "continuous", "duration": "46 h"}
    folfox6 = regimen(
        tmp_path,
        "folfox6",
        line("fluorouracil", "400 mg/m2", infusion={"type": "bolus"}),
        line("fluorouracil", "3000 mg/m2", infusion=infusion),
    )
    assert guard_warnings(plan_json(run, folfox6)[1]) == []
    twice = regimen(
        tmp_path,
        "bolus2x",
        line("fluorouracil", "400 mg/m2", infusion={"type": "bolus"}, note="a"),
        line("fluorouracil", "400 mg/m2", infusion={"type": "bolus"}, note="b"),
    )
    [w] = guard_warnings(plan_json(run, twice)[1])
    assert "800 mg/m², above the usual maximum bolus of 600 mg/m2 for one" in w["message"]


def test_no_library_regimen_gains_a_guard_finding_for_an_adult(run) -> None:
    """The day's total adds nothing to the packaged regimens as written (mFOLFOX6's bolus and
    infusion, mesna and leucovorin at their hours): the guard's only findings for a 175 cm,
    70 kg adult are cisplatin 140 mg/m² of the reference case's DDP regimens."""
    from dosecalc.data.regimen import library_ids

    found = set()
    for rid in library_ids():
        _, data = plan_json(run, rid, "--age", "50", "--sex", "male", "--scr", "0.9mg/dL")
        found |= {(rid, w["drug"], w["code"]) for w in guard_warnings(data)}
    assert found == {
        ("ddp-epi", "cisplatin", "DOSE_ABOVE_USUAL_MAXIMUM"),
        ("ddp-ifo", "cisplatin", "DOSE_ABOVE_USUAL_MAXIMUM"),
    }


def test_two_lines_of_one_drug_as_ordered_are_summed_in_verify(run, tmp_path: Path) -> None:
    epi = ("epirubicin", "166 mg", "IV")
    written = _ec_order(tmp_path, 1, epi, epi, ("cyclophosphamide", "1107 mg", "IV"))
    p = run("verify", str(written), *PATIENT, "--prior", "epirubicin=0mg/m2", "--format", "json")
    assert p.returncode == 1, p.stderr
    [w] = guard_warnings(json.loads(p.stdout))
    assert w["message"].startswith("as ordered: epirubicin 332 mg in one day, 166 mg on ec day 1")
    assert w["message"].count("order.yaml:") == 2  # each line where it was written
    assert "), is 180 mg/m²" in w["message"]


# ---------------------------------------------------------------- regimens validate


def validate(run, path: Path) -> tuple[int, str]:
    p = run("regimens", "validate", str(path))
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, p.stdout


def test_validate_reports_a_dose_above_the_usual_maximum_as_plan_does(run, tmp_path: Path) -> None:
    """Doxorubicin 600 mg/m² and 60 g/m² were "ok" (exit 0) while plan of the same file is
    critical: per m² against a per-m² guard needs no patient."""
    for dose, shown in (("600 mg/m2", "600 mg/m²"), ("60 g/m2", "60,000 mg/m²")):
        path = regimen(tmp_path, "dox", line("doxorubicin", dose))
        code, out = validate(run, path)
        assert code == 1 and out.startswith("critical: ")
        assert f"critical DOSE_ABOVE_USUAL_MAXIMUM: doxorubicin {dose} (dox line 1) is {shown}" in (
            out
        )
        assert plan_json(run, path, "--prior", "doxorubicin=0mg/m2")[0] == 1


def test_validate_judges_across_bases_only_at_the_bounds(run, tmp_path: Path) -> None:
    """A flat dose against a per-m² guard is judged at the largest BSA dosecalc takes (4 m²):
    doxorubicin 400 mg is 100 mg/m² there (critical); 60 mg/kg is 7.5 mg/m² at 0.5 kg and 4 m²,
    so validate leaves it to plan, which has the patient."""
    code, out = validate(run, regimen(tmp_path, "flat", line("doxorubicin", "400 mg")))
    assert code == 1 and "is 100 mg/m² even at the largest BSA dosecalc takes (4 m²)" in out
    assert validate(run, regimen(tmp_path, "kg", line("doxorubicin", "60 mg/kg")))[0] == 0


def test_validate_sums_a_day_and_says_what_an_unverified_guard_says(run, tmp_path: Path) -> None:
    path = regimen(
        tmp_path,
        "dox-split",
        line("doxorubicin", "75 mg/m2", note="first half"),
        line("doxorubicin", "75 mg/m2", note="second half"),
    )
    code, out = validate(run, path)
    assert code == 1
    assert "75 mg/m2 on day 1 (dox-split line 1: first half) + 75 mg/m2 on day 1" in out
    code, out = validate(run, regimen(tmp_path, "gem6x", line("gemcitabine", "9000 mg/m2")))
    assert code == 0 and "notice: warning DOSE_GUARD_UNVERIFIED: gemcitabine 9000 mg/m2" in out
    code, out = validate(run, regimen(tmp_path, "gem20x", line("gemcitabine", "20000 mg/m2")))
    assert code == 1 and "slip past doubt" in out


def test_validate_a_course_judges_its_phases_regimens(run, tmp_path: Path) -> None:
    regimen(tmp_path, "dox10x", line("doxorubicin", "600 mg/m2"))
    course = write(
        tmp_path,
        "course.yaml",
        "course: c\nphases:\n  - regimen: dox10x.yaml\n    cycles: 1\n    start: 2026-12-07\n",
    )
    code, out = validate(run, course)
    assert code == 1 and "doxorubicin 600 mg/m2 (dox10x line 1)" in out


def test_the_library_validates_as_it_plans(run) -> None:
    """Only the reference case's cisplatin 140 mg/m² (ddp-epi, ddp-ifo) is above its usual
    maximum among the packaged regimens; every other validates ok."""
    from tests.conftest import ROOT

    p = run("regimens", "validate", str(ROOT / "regimens"))
    assert p.returncode == 1
    flagged = [ln for ln in p.stdout.splitlines() if ln.startswith("critical:")]
    assert [ln.split("/")[-1] for ln in flagged] == [
        "ddp-epi.yaml (valid, with a critical finding)",
        "ddp-ifo.yaml (valid, with a critical finding)",
    ]


# ---------------------------------------------------------------- a cap does not hide a slip


VCR14 = line("vincristine", "14 mg/m2", max_dose="2 mg")


def test_a_ten_fold_vincristine_capped_at_2_mg_is_critical(run, tmp_path: Path) -> None:
    """Vincristine 14 mg/m² (meant 1.4) with max_dose 2 mg planned 2 mg with only DOSE_CAPPED
    (exit 0) for a 4-year-old of 0.67 m² (1.4 mg/m² is 0.93 mg) and for an adult alike; the
    label's usual dose per m² is at most 2 mg/m² (children), so the dose per m² before the cap
    is judged against it."""
    path = regimen(tmp_path, "vcr14", VCR14)
    for patient in (["--height", "100", "--weight", "16", "--age", "4"], PATIENT):
        code, data = plan_json(run, path, patient=[*patient, "--start", TODAY.isoformat()])
        [w] = guard_warnings(data)
        assert code == 1 and (w["severity"], w["code"]) == ("critical", "DOSE_ABOVE_USUAL_MAXIMUM")
        assert "vincristine 2 mg (capped from " in w["message"]
        assert "is 14 mg/m², above the usual maximum single dose of 2 mg/m2" in w["message"]
    code, out = validate(run, path)
    assert code == 1 and "vincristine 14 mg/m2 (before its cap of 2 mg) (vcr14 line 1)" in out


def test_vincristine_as_the_label_doses_it_is_no_finding(run, tmp_path: Path) -> None:
    """1.4 mg/m² (max 2 mg) and AEWS0031's 2 mg/m² (max 2 mg), for a small child and an adult:
    nothing (R-CHOP-21's line too)."""
    for dose in ("1.4 mg/m2", "2 mg/m2"):
        path = regimen(tmp_path, "vcr", line("vincristine", dose, max_dose="2 mg"))
        assert validate(run, path)[0] == 0
        for patient in (["--height", "100", "--weight", "16", "--age", "4"], PATIENT):
            _, data = plan_json(run, path, patient=[*patient, "--start", TODAY.isoformat()])
            assert guard_warnings(data) == [], dose


def test_a_flat_2_mg_of_vincristine_for_a_small_child_is_above_2_mg_per_m2(
    run, tmp_path: Path
) -> None:
    """2 mg given to a child of 0.67 m² is 3 mg/m², above the most the label gives per m²."""
    path = regimen(tmp_path, "vcr2", line("vincristine", "2 mg"))
    patient = ["--height", "100", "--weight", "16", "--age", "4", "--start", TODAY.isoformat()]
    [w] = guard_warnings(plan_json(run, path, patient=patient)[1])
    assert w["severity"] == "critical" and "is 3 mg/m²" in w["message"]


def test_a_dose_above_the_maximum_names_every_time_it_is_given(run) -> None:
    """Cisplatin 140 mg/m² in both cycles of DDP+IFO was named at cycle 1 day 1 only: cycle 2's
    row carried no mark and no warning named it."""
    p = run("plan", "ddp-ifo", "--height", "175cm", "--weight", "70kg", "--start", "2026-12-08",
            "--format", "json")  # fmt: skip
    [w] = [w for w in json.loads(p.stdout)["warnings"] if w["code"] == "DOSE_ABOVE_USUAL_MAXIMUM"]
    assert w["message"].endswith("; the same dose is given 2 times: day 1 of cycles 1, 2")


# ---------------------------------------------------------------- a route's own maximum


def test_ondansetron_24_mg_iv_holds_verify_and_24_mg_po_passes(run, tmp_path: Path) -> None:
    """Ondansetron's guard was its oral maximum (24 mg) for every route, so 24 mg IV (above the
    16 mg IV maximum of the FDA's 2012 communication) was released. An IV line is now held to the
    IV maximum (verified: critical); the same 24 mg by mouth is the oral label dose and passes."""
    iv = _ec_with_antiemetics(tmp_path, "24 mg", "150 mg", route="IV")
    p = run("verify", str(iv), *PATIENT, "--prior", "epirubicin=0mg/m2", "--format", "json")
    assert p.returncode == 1, p.stderr
    data = json.loads(p.stdout)
    assert data["verdict"] == "hold"
    [w] = guard_warnings(data)
    assert (w["drug"], w["severity"], w["code"]) == (
        "ondansetron", "critical", "DOSE_ABOVE_USUAL_MAXIMUM",
    )  # fmt: skip
    assert w["message"].startswith("as ordered: ondansetron 24 mg is 24 mg, above the usual ")
    assert "maximum IV single dose of 16 mg (FDA Drug Safety Communication" in w["message"]
    assert "no single intravenous dose of ondansetron should exceed 16 mg" in w["message"]

    po = _ec_with_antiemetics(tmp_path, "24 mg", "150 mg", route="PO")
    p = run("verify", str(po), *PATIENT, "--prior", "epirubicin=0mg/m2", "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    assert guard_warnings(json.loads(p.stdout)) == []


def test_a_regimen_line_is_held_to_its_route_maximum_in_plan_and_validate(
    run, tmp_path: Path
) -> None:
    """The regimen line's route picks the maximum on plan's and validate's paths alike:
    ondansetron 24 mg IV is above the IV 16 mg, 24 mg PO is not; aprepitant 130 mg (the IV
    emulsion's dose) is above the oral 125 mg by mouth, not IV."""
    held = (("ondansetron", "24 mg", "IV", "IV single dose of 16 mg"),
            ("aprepitant", "130 mg", "PO", "PO single dose of 125 mg"))  # fmt: skip
    passed = (("ondansetron", "24 mg", "PO"), ("aprepitant", "130 mg", "IV"))
    for drug, dose, route, maximum in held:
        path = regimen(tmp_path, f"{drug}-{route.lower()}", line(drug, dose, route=route))
        code, data = plan_json(run, path)
        [w] = guard_warnings(data)
        assert code == 1 and (w["severity"], w["code"]) == ("critical", "DOSE_ABOVE_USUAL_MAXIMUM")
        assert f"{drug} {dose} is {dose}, above the usual maximum {maximum}" in w["message"]
        code, out = validate(run, path)
        assert code == 1 and f"above the usual maximum {maximum}" in out
    for drug, dose, route in passed:
        path = regimen(tmp_path, f"{drug}-{route.lower()}", line(drug, dose, route=route))
        assert guard_warnings(plan_json(run, path)[1]) == []
        assert validate(run, path)[0] == 0


def test_a_day_total_by_a_route_is_held_to_that_route_maximum(run, tmp_path: Path) -> None:
    """Two ondansetron 12 mg IV lines on one day are 24 mg IV, above the IV maximum for one
    administration day; 12 mg IV and 12 mg PO are each held to their own route's maximum."""
    path = regimen(
        tmp_path,
        "ond-twice",
        line("ondansetron", "12 mg", note="morning"),
        line("ondansetron", "12 mg", note="evening"),
    )
    code, data = plan_json(run, path)
    [w] = guard_warnings(data)
    assert code == 1 and w["severity"] == "critical"
    assert (
        "above the usual maximum IV single dose of 16 mg for one administration day"
        in (w["message"])
    )
    code, out = validate(run, path)
    assert code == 1 and "IV single dose of 16 mg for one administration day" in out
    mixed = regimen(
        tmp_path,
        "ond-mixed",
        line("ondansetron", "12 mg"),
        line("ondansetron", "12 mg", route="PO"),
    )
    assert guard_warnings(plan_json(run, mixed)[1]) == []
    assert validate(run, mixed)[0] == 0


def test_granisetron_iv_is_held_to_its_iv_maximum(run, tmp_path: Path) -> None:
    """Granisetron IV had no maximum of its own: a ten-fold slip of 1 mg IV (10 mg) was held only
    to the transdermal patch's 34.3 mg and planned without a word. IV is now held to the EU/UK
    labels' 3 mg (SC to the extended-release 10 mg); 3 mg IV and 2 mg by mouth pass."""
    for dose, route, maximum in (("10 mg", "IV", "IV single dose of 3 mg"),
                                 ("20 mg", "SC", "SC single dose of 10 mg")):  # fmt: skip
        path = regimen(tmp_path, f"gran-{route.lower()}", line("granisetron", dose, route=route))
        code, data = plan_json(run, path)
        [w] = guard_warnings(data)
        assert code == 1 and (w["severity"], w["code"]) == ("critical", "DOSE_ABOVE_USUAL_MAXIMUM")
        assert f"granisetron {dose} is {dose}, above the usual maximum {maximum}" in w["message"]
        assert validate(run, path)[0] == 1
    for dose, route in (("3 mg", "IV"), ("2 mg", "PO"), ("10 mg", "SC")):
        path = regimen(tmp_path, f"gran-ok-{route.lower()}", line("granisetron", dose, route=route))
        assert guard_warnings(plan_json(run, path)[1]) == []
