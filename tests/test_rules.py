"""Issue 19: patient-dependent dosing rules (CONTRACT §11), review status, the regimen file's
hash, `regimens diff`, `plan --compare-policy` and the paediatric limits."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosecalc.base.errors import DosecalcError, InputError
from dosecalc.clinical.bsa import mosteller
from dosecalc.clinical.dosing import calculate
from dosecalc.clinical.patient import build_patient
from dosecalc.clinical.plan import make_plan
from dosecalc.data import regimen as rg
from dosecalc.inputs import policy as pol
from tests import strategies as S
from tests.conftest import ROOT, TODAY, schema, write

VCR = """\
id: vcr-rules
name: vincristine with rules
cycle_length_days: 21
cycles: 1
sources: ["test fixture"]
drugs:
  - drug: vincristine
    dose: 1.5 mg/m2
    max_dose: 2 mg
    days: 1
    rules:
{rules}
"""
PER_KG = """\
      - when: {bsa_below: 0.6 m2}
        dose: 0.05 mg/kg
        source: "COG convention: below 0.6 m2 dose per kg = dose per m2 / 30 (fixture)"
"""
INFANT = """\
      - when: {age_below: 1}
        percent: 50
        source: "AEWS0031 via HemOnc: 50 % under 1 year (fixture)"
"""


def regimen_file(tmp_path: Path, rules: str, name: str = "vcr.yaml") -> Path:
    return write(tmp_path, name, VCR.format(rules=rules.rstrip("\n")))


def dose(tmp_path: Path, rules: str, **patient: str):
    reg = rg.load_file(regimen_file(tmp_path, rules))
    person = build_patient(**patient)
    return calculate(reg.drugs[0], person)


# ---------------------------------------------------------------- done when (installed program)


def test_an_infant_gets_the_per_kg_dose_with_the_rule_in_its_trace_and_an_adult_is_untouched(
    run, tmp_path: Path
) -> None:
    path = regimen_file(tmp_path, PER_KG)
    infant = run("plan", str(path), "--height", "60cm", "--weight", "6kg", "--start",
                 "2026-12-01", "--format", "json")  # fmt: skip
    assert infant.returncode == 0, infant.stderr
    [a] = json.loads(infant.stdout)["administrations"]
    assert a["dose"] == pytest.approx(0.05 * 6)  # 0.3 mg, not 1.5 mg/m² × 0.32 m² = 0.47 mg
    assert a["basis"] == "weight"
    assert a["rule"]["index"] == 1 and a["rule"]["source"].startswith("COG convention")
    assert a["regimen_dose"] == 1.5 and a["regimen_dose_unit"] == "mg/m2"
    assert any("rule 1" in t and "COG convention" in t and "replaces 1.5 mg/m²" in t
               for t in a["trace"])  # fmt: skip
    adult = run("plan", str(path), "--height", "175cm", "--weight", "70kg", "--start",
                "2026-12-01", "--format", "json")  # fmt: skip
    [b] = json.loads(adult.stdout)["administrations"]
    assert b["rule"] is None and b["basis"] == "bsa"
    assert not any("rule" in t for t in b["trace"])
    assert b["dose"] == 2.0  # 1.5 mg/m² × 1.85 m² = 2.77 mg, capped at max_dose 2 mg
    table = run("plan", str(path), "--height", "60cm", "--weight", "6kg", "--start", "2026-12-01")
    assert "DOSE_RULE_APPLIED" in table.stdout and "0.05 mg/kg" in table.stdout


# ---------------------------------------------------------------- boundaries and order


@pytest.mark.parametrize(
    ("bsa", "applies"), [("0.6", False), ("0.6001", False), ("0.5999", True), ("0.3", True)]
)
def test_bsa_exactly_at_the_bound_is_not_below_it(tmp_path: Path, bsa: str, applies: bool) -> None:
    d = dose(tmp_path, PER_KG, bsa=bsa, weight="12kg")
    assert (d.rule is not None) is applies
    expected = 0.05 * 12 if applies else 1.5 * float(bsa)
    assert d.dose == pytest.approx(expected)


@pytest.mark.parametrize(
    ("age", "applies"), [("1", False), ("12months", False), ("0.999", True), ("11months", True)]
)
def test_age_exactly_one_year_is_not_below_one_year(
    tmp_path: Path, age: str, applies: bool
) -> None:
    d = dose(tmp_path, INFANT, bsa="0.7", weight="9kg", age=age)
    assert (d.rule is not None) is applies
    assert d.dose == pytest.approx(1.5 * 0.7 * (0.5 if applies else 1.0))


@pytest.mark.parametrize(("age", "applies"), [("1", True), ("0.99", False), ("3", True)])
def test_age_at_least_includes_its_bound(tmp_path: Path, age: str, applies: bool) -> None:
    rules = """\
      - when: {age_at_least: 1, age_below: 3}
        percent: 75
        source: "fixture"
"""
    d = dose(tmp_path, rules, bsa="0.7", weight="9kg", age=age)
    assert d.dose == pytest.approx(1.5 * 0.7 * (0.75 if age == "1" else 1.0))
    assert (d.rule is not None) is (applies and age != "3")


def test_the_first_matching_rule_wins(tmp_path: Path) -> None:
    both = PER_KG + INFANT  # a 6-kg infant matches both: the per-kg rule comes first
    d = dose(tmp_path, both, height="60cm", weight="6kg", age="0.5")
    assert d.rule is not None and d.rule.index == 1
    assert d.dose == pytest.approx(0.3)
    swapped = dose(tmp_path, INFANT + PER_KG, height="60cm", weight="6kg", age="0.5")
    assert swapped.rule is not None and swapped.rule.index == 1 and swapped.basis == "bsa"
    assert swapped.dose == pytest.approx(1.5 * mosteller(60, 6) * 0.5)


def test_a_rule_that_needs_the_age_is_refused_without_it(run, tmp_path: Path) -> None:
    path = regimen_file(tmp_path, INFANT)
    r = run("plan", str(path), "--height", "70cm", "--weight", "8kg", "--start", "2026-12-01")
    assert r.returncode == 2
    assert "--age" in r.stderr and "rule 1" in r.stderr and "age below 1 year" in r.stderr
    assert "Traceback" not in r.stderr
    ok = run("plan", str(path), "--height", "70cm", "--weight", "8kg", "--age", "8months",
             "--start", "2026-12-01", "--format", "json")  # fmt: skip
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["administrations"][0]["rule"]["percent"] == 50


def test_a_rule_that_cannot_hold_for_other_reasons_needs_no_age(tmp_path: Path) -> None:
    rules = """\
      - when: {age_below: 1, weight_below: 10 kg}
        percent: 50
        source: "fixture"
"""
    d = dose(tmp_path, rules, height="175cm", weight="70kg")  # no age: the weight rules it out
    assert d.rule is None
    with pytest.raises(InputError, match="--age"):
        dose(tmp_path, rules, height="70cm", weight="8kg")


def test_a_weight_rule_needs_the_weight(tmp_path: Path) -> None:
    rules = """\
      - when: {weight_below: 10 kg}
        dose: 0.05 mg/kg
        source: "fixture"
"""
    with pytest.raises(InputError, match="--weight"):
        dose(tmp_path, rules, bsa="0.5")


def test_an_infant_carboplatin_per_kg_needs_no_gfr(tmp_path: Path) -> None:
    text = """\
id: carbo-infant
name: carboplatin with an infant rule
cycle_length_days: 21
sources: ["fixture"]
drugs:
  - drug: carboplatin
    dose: AUC 5
    days: 1
    rules:
      - when: {weight_below: 10 kg}
        dose: 6.6 mg/kg
        source: "fixture"
"""
    reg = rg.load_file(write(tmp_path, "c.yaml", text))
    plan = make_plan(reg, build_patient("65cm", "7kg"), start="2026-12-01", cycles=1)
    assert plan.administrations[0].dose.dose == pytest.approx(6.6 * 7)
    with pytest.raises(DosecalcError):  # an adult needs the renal function for Calvert
        make_plan(reg, build_patient("175cm", "70kg"), start="2026-12-01", cycles=1)


# ---------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(hw=S.children(), age=S.child_ages, percent=S.percents)
def test_a_rules_percent_never_raises_a_dose(tmp_path_factory, hw, age, percent) -> None:
    tmp = tmp_path_factory.mktemp("p")
    rules = f"""\
      - when: {{age_below: 18}}
        percent: {percent!r}
        source: "fixture"
"""
    h, w = hw
    ruled = dose(tmp, rules, height=f"{h}cm", weight=f"{w}kg", age=f"{age}")
    never = "      - when: {bsa_below: 0.06 m2}\n        percent: 50\n        source: x\n"
    plain = dose(tmp, never, height=f"{h}cm", weight=f"{w}kg", age=f"{age}")
    assert plain.rule is None
    assert ruled.dose <= plain.dose * (1 + 1e-12)
    assert ruled.calculated == pytest.approx(plain.calculated * percent / 100)


@settings(max_examples=80, deadline=None)
@given(height=st.floats(75, 110), side=st.sampled_from([-1, 1]), eps=st.floats(1e-6, 0.01))
def test_per_kg_and_per_m2_doses_meet_at_the_boundary_within_the_stated_tolerance(
    tmp_path_factory, height, side, eps
) -> None:
    """The COG convention (dose per kg = dose per m² ÷ 30 below 0.6 m²) says the two doses are
    the same for a child of 30 kg per m²; at the 0.6 m² boundary real children weigh less per
    m² (Mosteller: W/BSA = 3600 × BSA / H), so the step down at the boundary is
    1 − (W/BSA)/30: for the heights of children of 0.6 m² (75-110 cm, BMI about 10-31) the
    per-kg side is never the higher dose and at most 40 % lower (the tolerance stated here)."""
    tmp = tmp_path_factory.mktemp("b")
    bsa = 0.6 + side * eps
    weight = 3600 * bsa**2 / height  # the child of this height with this Mosteller BSA
    assert mosteller(height, weight) == pytest.approx(bsa)
    d = dose(tmp, PER_KG, height=f"{height}cm", weight=f"{weight}kg")
    per_m2 = 1.5 * bsa
    per_kg = 0.05 * weight
    assert d.dose == pytest.approx(per_kg if side < 0 else per_m2)
    ratio = (weight / bsa) / 30
    assert per_kg / per_m2 == pytest.approx(ratio)
    assert ratio <= 1 and 1 - ratio <= 0.40  # the tolerance the fixture's source implies


# ---------------------------------------------------------------- validation with file:line


def errors(run, path: Path) -> tuple[int, str]:
    r = run("regimens", "validate", str(path))
    return r.returncode, r.stderr


@pytest.mark.parametrize(
    ("rules", "line", "message"),
    [
        ("      - when: {height_below: 80 cm}\n        percent: 50\n        source: x\n",
         12, "unknown key 'height_below'; valid keys here: bsa_below, weight_below, age_below, "
         "age_at_least"),
        ("      - when: {age_below: 1}\n        scale: 50\n        source: x\n",
         13, "unknown key 'scale'; valid keys here: when, dose, percent, source, name, note"),
        ("      - when: {age_below: 1}\n        percent: 50\n        dose: 1 mg/kg\n"
         "        source: x\n", 12, "give either 'dose'"),
        ("      - when: {age_below: 1}\n        percent: 150\n        source: x\n",
         13, "a rule may lower a dose, never raise it"),
        ("      - when: {bsa_below: 0.6}\n        percent: 50\n        source: x\n",
         12, "0.6 has no unit; write e.g. '0.6 m2'"),
        ("      - when: {bsa_below: 10 kg}\n        percent: 50\n        source: x\n",
         12, "'10 kg' is a mass, not an area"),
        ("      - when: {age_below: 1}\n        percent: 50\n", 12, "source: this required key"),
        ("      - when: {}\n        percent: 50\n        source: x\n", 12, "a rule needs a condition"),
        ("      - when: {age_below: 1}\n        dose: 1 units/kg\n        source: x\n",
         13, "vincristine is dosed in mg, but the rule's dose '1 units/kg' is in units"),
        ("      - when: {age_at_least: 5, age_below: 2}\n        percent: 50\n        source: x\n",
         12, "rule 1 can never match: no patient is age below 2 years and age at least 5 years"),
    ],
)  # fmt: skip
def test_bad_rules_are_refused_with_file_and_line(
    run, tmp_path: Path, rules: str, line: int, message: str
) -> None:
    path = regimen_file(tmp_path, rules)
    code, err = errors(run, path)
    assert code == 2
    assert f"{path}:{line}:" in err and message in err, err
    plan = run("plan", str(path), "--bsa", "1.8", "--weight", "70kg", "--age", "30")
    assert plan.returncode == 2 and message in plan.stderr


def test_a_rules_dose_never_raises_the_lines_dose(run, tmp_path: Path) -> None:
    """Only a rule's percent was bounded: doxorubicin 50 mg/m² with a rule 'dose: 75 mg/m2' for
    everyone (weight below 400 kg) planned 75 mg/m² without a word. On the line's basis such a
    file is refused; on another basis the plan names the raise as critical for its patient."""
    raised = "      - when: {weight_below: 400 kg}\n        dose: 2 mg/m2\n        source: typo\n"
    path = regimen_file(tmp_path, raised)
    code, err = errors(run, path)
    message = (
        "drugs[0].rules[0].dose: rule 1's dose '2 mg/m2' is above the line's own dose (1.5 mg/m² "
        "on each listed day): a rule never raises a dose"
    )
    assert code == 2 and f"{path}:13: {message}" in " ".join(err.split()), err
    plan = run("plan", str(path), "--bsa", "1.8", "--weight", "70kg", "--start", "2027-01-04")
    assert plan.returncode == 2 and message in " ".join(plan.stderr.split())
    lower = "      - when: {weight_below: 400 kg}\n        dose: 1.5 mg/m2\n        source: x\n"
    assert errors(run, regimen_file(tmp_path, lower, "same.yaml"))[0] == 0
    # per kg against per m²: 0.05 mg/kg × 70 kg = 3.5 mg > 1.5 mg/m² × 1.8 m² = 2.7 mg
    per_kg = "      - when: {weight_below: 400 kg}\n        dose: 0.05 mg/kg\n        source: x\n"
    path = regimen_file(tmp_path, per_kg, "kg.yaml")
    args = ("--bsa", "1.8", "--weight", "70kg", "--start", "2027-01-04", "--format", "json")
    plan = run("plan", str(path), *args)
    assert plan.returncode == 1, plan.stderr
    found = [w for w in json.loads(plan.stdout)["warnings"] if w["code"] == "DOSE_RULE_RAISES_DOSE"]
    assert len(found) == 1 and found[0]["severity"] == "critical", found
    assert (
        "gives 0.05 mg/kg, 3.5 mg, above the 2.7 mg the line's own dose 1.5 mg/m²"
        in (found[0]["message"])
    )
    # the same rule for a small child lowers the dose: 0.05 mg/kg × 10 kg = 0.5 mg < 0.9 mg
    plan = run("plan", str(path), "--bsa", "0.6", "--weight", "10kg", "--age", "2",
               "--start", "2027-01-04", "--format", "json")  # fmt: skip
    assert plan.returncode in (0, 1), plan.stderr
    codes = [w["code"] for w in json.loads(plan.stdout)["warnings"]]
    assert "DOSE_RULE_RAISES_DOSE" not in codes and "DOSE_RULE_APPLIED" in codes


def test_a_rule_shadowed_by_an_earlier_one_is_dead(run, tmp_path: Path) -> None:
    rules = """\
      - when: {age_below: 3}
        percent: 75
        source: x
      - when: {age_below: 1}
        percent: 50
        source: y
"""
    path = regimen_file(tmp_path, rules)
    code, err = errors(run, path)
    assert code == 2
    assert f"{path}:15: drugs[0].rules[1].when: rule 2 (age below 1 year) can never apply: " in err
    assert "rule 1 (age below 3 years) already matches every patient it would" in err
    assert "put the narrower rule first" in err


def test_a_rule_dead_because_earlier_rules_together_cover_it(run, tmp_path: Path) -> None:
    rules = """\
      - when: {age_below: 1}
        percent: 50
        source: x
      - when: {age_at_least: 1}
        percent: 75
        source: y
      - when: {bsa_below: 0.6 m2}
        dose: 0.05 mg/kg
        source: z
"""
    code, err = errors(run, regimen_file(tmp_path, rules))
    assert code == 2
    assert "rule 3 (BSA below 0.6 m2) can never apply: rule 1 (age below 1 year) and rule 2 " in err


def test_overlapping_rules_that_each_reach_someone_are_fine(run, tmp_path: Path) -> None:
    rules = (
        PER_KG
        + INFANT
        + """\
      - when: {age_below: 3, weight_below: 12 kg}
        percent: 75
        source: z
"""
    )
    code, err = errors(run, regimen_file(tmp_path, rules))
    assert code == 0, err


# ---------------------------------------------------------------- review status


def status_file(tmp_path: Path, block: str) -> Path:
    text = VCR.format(rules=PER_KG.rstrip("\n")).replace(
        "cycles: 1\n", f"cycles: 1\n{block.rstrip()}\n" if block else "cycles: 1\n"
    )
    return write(tmp_path, "status.yaml", text)


def plan_json(run, path: Path) -> tuple[int, dict]:
    r = run("plan", str(path), "--height", "175cm", "--weight", "70kg", "--start", "2026-12-01",
            "--format", "json")  # fmt: skip
    return r.returncode, json.loads(r.stdout) if r.stdout else {}


def codes(data: dict) -> dict[str, str]:
    return {w["code"]: w["severity"] for w in data["warnings"]}


def test_a_draft_says_so_and_a_retired_regimen_is_critical(run, tmp_path: Path) -> None:
    code, data = plan_json(run, status_file(tmp_path, ""))
    assert code == 0 and codes(data)["REGIMEN_NOT_APPROVED"] == "info"
    assert data["regimen"]["status"] == "draft"
    retired = status_file(tmp_path, "status: retired\napproved_by: Dr A\napproved_on: 2020-01-02")
    code, data = plan_json(run, retired)
    assert code == 1 and codes(data)["REGIMEN_NOT_APPROVED"] == "critical"
    table = run("plan", str(retired), "--bsa", "1.8", "--start", "2026-12-01")
    assert table.returncode == 1 and "retired" in table.stdout


def test_an_approved_regimen_past_its_review_date_warns(run, tmp_path: Path) -> None:
    past = (TODAY - timedelta(days=1)).isoformat()
    future = (TODAY + timedelta(days=30)).isoformat()
    ok = status_file(
        tmp_path,
        f"status: approved\napproved_by: Dr A\napproved_on: 2024-01-02\nreview_due: {future}",
    )
    code, data = plan_json(run, ok)
    assert code == 0 and "REGIMEN_NOT_APPROVED" not in codes(data)
    assert "REGIMEN_REVIEW_OVERDUE" not in codes(data)
    assert data["regimen"]["approved_by"] == "Dr A" and data["regimen"]["review_due"] == future
    due = status_file(
        tmp_path,
        f"status: approved\napproved_by: Dr A\napproved_on: 2024-01-02\nreview_due: {past}",
    )
    code, data = plan_json(run, due)
    assert code == 0 and codes(data)["REGIMEN_REVIEW_OVERDUE"] == "warning"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("status: approved", "status approved needs approved_by (who) and approved_on"),
        ("status: approved\napproved_by: Dr A\napproved_on: 2024-1-2", "is not a date; write it"),
        ("status: final", "input should be 'draft', 'approved' or 'retired'"),
        ("approved_by: Dr A", "a draft has no approved_by or approved_on"),
        (
            f"status: approved\napproved_by: A\napproved_on: {TODAY + timedelta(days=2)}",
            "is in the future",
        ),
        (
            "status: approved\napproved_by: A\napproved_on: 2024-02-02\nreview_due: 2024-01-01",
            "review_due 2024-01-01 is not after approved_on 2024-02-02",
        ),
    ],
)
def test_bad_review_fields_are_refused(run, tmp_path: Path, block: str, message: str) -> None:
    path = status_file(tmp_path, block)
    code, err = errors(run, path)
    assert code == 2 and f"{path}:" in err and message in err, err


def test_every_library_regimen_is_a_draft() -> None:
    for rid in rg.library_ids():
        assert rg.load(rid).status == "draft", rid


# ---------------------------------------------------------------- the file's hash


def test_the_plan_names_the_sha256_of_the_regimen_file(run, tmp_path: Path) -> None:
    path = regimen_file(tmp_path, PER_KG)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    code, data = plan_json(run, path)
    assert data["regimen"]["sha256"] == digest
    from jsonschema import validate

    validate(data, schema("plan-output"))
    html = run("plan", str(path), "--bsa", "1.8", "--start", "2026-12-01", "--format", "html")
    assert digest in html.stdout and "draft (not approved)" in html.stdout
    table = run("plan", str(path), "--bsa", "1.8", "--start", "2026-12-01")
    assert f"sha256 {digest[:12]}" in table.stdout


def test_a_course_names_each_phase_regimen_hash(run, tmp_path: Path) -> None:
    reg = regimen_file(tmp_path, PER_KG)
    course = write(
        tmp_path,
        "course.yaml",
        f"course: c\nphases:\n  - regimen: {reg.name}\n    cycles: 1\n    start: 2026-12-01\n"
        "  - regimen: dia\n    cycles: 1\n",
    )
    r = run("plan", str(course), "--bsa", "1.8", "--format", "json")
    data = json.loads(r.stdout)
    phases = data["regimen"]["phases"]
    assert phases[0]["regimen_sha256"] == hashlib.sha256(reg.read_bytes()).hexdigest()
    lib = ROOT / "regimens" / "dia.yaml"
    assert phases[1]["regimen_sha256"] == hashlib.sha256(lib.read_bytes()).hexdigest()
    assert data["regimen"]["sha256"] == hashlib.sha256(course.read_bytes()).hexdigest()


# ---------------------------------------------------------------- regimens diff


def two_versions(tmp_path: Path) -> tuple[Path, Path]:
    old = tmp_path / "map-v1.yaml"
    shutil.copy(ROOT / "regimens" / "map.yaml", old)
    text = old.read_text()
    text = text.replace('version: "1"', 'version: "2"')
    text = text.replace("    dose: 60 mg/m2\n    days: 1-2", "    dose: 50 mg/m2\n    days: 1-2")
    text = text.replace("    max_dose: 20 g\n", "    max_dose: 18 g\n")
    text = text.replace(
        '    infusion: "48 h continuous infusion over days 1-2 (37.5 mg/m2 per day)"\n',
        '    infusion: "48 h continuous infusion over days 1-2 (37.5 mg/m2 per day)"\n'
        "    rules:\n      - when: {bsa_below: 0.6 m2}\n        dose: 1.25 mg/kg\n"
        '        source: "fixture"\n',
    )
    text = text.replace(
        "supportive_care:\n",
        "  - drug: ifosfamide\n    dose: 3 g/m2\n    days: 1-4\nsupportive_care:\n",
        1,
    )
    new = write(tmp_path, "map-v2.yaml", text)
    return old, new


def test_diff_shows_what_changed_between_two_versions_of_a_library_regimen(
    run, tmp_path: Path
) -> None:
    old, new = two_versions(tmp_path)
    r = run("regimens", "diff", str(old), str(new))
    assert r.returncode == 1, r.stderr
    out = r.stdout
    assert "~ regimen version: 1 → 2" in out
    assert (
        "~ cisplatin: dose 60 mg/m² → 50 mg/m² on each listed day "
        "(per cycle 120 mg/m² → 100 mg/m², -16.7 %)" in out
    )
    assert "~ methotrexate: max_dose 20,000 mg → 18,000 mg" in out
    assert "+ doxorubicin: rule 1 added: when BSA below 0.6 m2: 1.25 mg/kg (source: fixture)" in out
    assert "+ ifosfamide: added: 3,000 mg/m² on days 1-4 IV" in out
    assert "5 differences in 4 drug orders" in out
    js = run("regimens", "diff", "map", str(new), "--format", "json")
    data = json.loads(js.stdout)
    assert js.returncode == 1 and not data["identical"]
    assert data["old"]["sha256"] == hashlib.sha256(old.read_bytes()).hexdigest()
    assert {d["field"] for d in data["differences"]} == {
        "version", "dose", "max_dose", "rules", "drug"
    }  # fmt: skip


def test_diff_of_the_same_content_exits_0(run, tmp_path: Path) -> None:
    old, _ = two_versions(tmp_path)
    same = run("regimens", "diff", "map", str(old))
    assert same.returncode == 0 and "no differences: the same file" in same.stdout
    commented = write(
        tmp_path,
        "c.yaml",
        "# a comment\n" + old.read_text().replace("    dose: 12 g/m2\n", "    dose: 12000 mg/m2\n"),
    )
    r = run("regimens", "diff", str(old), str(commented))
    assert r.returncode == 0 and "differ only in comments, layout" in r.stdout


def test_diff_of_bad_input_exits_2(run, tmp_path: Path) -> None:
    assert run("regimens", "diff", "map", "no-such-regimen").returncode == 2
    course = write(tmp_path, "course.yaml", "course: c\nphases:\n  - regimen: dia\n")
    r = run("regimens", "diff", "map", str(course))
    assert r.returncode == 2 and "is a course file" in r.stderr


EC = ROOT / "regimens" / "ec.yaml"
EC_GATES = EC.read_text(encoding="utf-8")
EC_GATES = EC_GATES[EC_GATES.index("gates:") : EC_GATES.index("drugs:")]


def ec_changed(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """The library's EC with each (old text, new text) replaced once."""
    text = EC.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return write(tmp_path, "ec-changed.yaml", text)


def diff(run, old: str | Path, new: str | Path) -> tuple[int, list[str], list[dict]]:
    """Exit code, the table's difference lines, the JSON differences (validated)."""
    from jsonschema import Draft202012Validator

    table = run("regimens", "diff", str(old), str(new))
    js = run("regimens", "diff", str(old), str(new), "--format", "json")
    assert js.returncode == table.returncode, js.stderr
    data = json.loads(js.stdout)
    errors = list(Draft202012Validator(schema("regimens-diff-output")).iter_errors(data))
    assert not errors, errors[0]
    assert data["identical"] == (table.returncode == 0)
    lines = [ln for ln in table.stdout.splitlines() if ln[:2] in ("~ ", "+ ", "- ")]
    return table.returncode, lines, data["differences"]


@pytest.mark.parametrize(
    "edits, lines, fields",
    [
        (  # the ANC gate lowered
            [("at_least: 1.5 x10^9/L", "at_least: 0.5 x10^9/L")],
            ["~ regimen gate anc: at_least 1.5 ×10⁹/L → 0.5 ×10⁹/L"],
            [("gate.at_least", "anc", "1.5 ×10⁹/L", "0.5 ×10⁹/L")],
        ),
        (  # the gate's action
            [("otherwise: delay", "otherwise: stop")],
            ["~ regimen gate anc: otherwise delay → stop"],
            [("gate.otherwise", "anc", "delay", "stop")],
        ),
        (  # every gate removed: the sources now state none
            [(EC_GATES, "gates: []\n")],
            ["- regimen gate anc removed: anc ≥ 1.5 ×10⁹/L, otherwise delay; source: Epirubicin",
             "- regimen gate platelets removed: platelets ≥ 100 ×10⁹/L, otherwise delay; source:"],
            [("gate", "anc", None, None), ("gate", "platelets", None, None)],
        ),
        (  # every gate removed, and gates no longer stated at all
            [(EC_GATES, "")],
            ["~ regimen gates: 2 gates → not stated", "- regimen gate anc removed:",
             "- regimen gate platelets removed:"],
            [("gates", None, "2 gates", "not stated"), ("gate", "anc", None, None),
             ("gate", "platelets", None, None)],
        ),
        (  # a gate added, with an upper bound in × ULN
            [("drugs:", "  - lab: bilirubin\n    at_most: 1.5 xULN\n    otherwise: 'reduce 50%'\ndrugs:")],
            ["+ regimen gate bilirubin added: bilirubin ≤ 1.5 × ULN, otherwise reduce 50%"],
            [("gate", "bilirubin", None, None)],
        ),
        (  # the bound moved from a lower to an upper one
            [("at_least: 100 x10^9/L", "at_most: 100 x10^9/L")],
            ["~ regimen gate platelets: at_least 100 ×10⁹/L → —",
             "~ regimen gate platelets: at_most — → 100 ×10⁹/L"],
            [("gate.at_least", "platelets", "100 ×10⁹/L", None),
             ("gate.at_most", "platelets", None, "100 ×10⁹/L")],
        ),
    ],
)  # fmt: skip
def test_diff_reports_every_change_of_a_lab_gate(run, tmp_path, edits, lines, fields) -> None:
    code, shown, differences = diff(run, "ec", ec_changed(tmp_path, *edits))
    assert code == 1
    assert len(shown) == len(lines)
    assert all(s.startswith(expected) for s, expected in zip(shown, lines, strict=True)), shown
    got = [(d["field"], d["gate"], d["old"], d["new"]) for d in differences]
    assert [g[:2] for g in got] == [f[:2] for f in fields]
    assert all(d["drug"] is None for d in differences)
    for (_, _, old, new), (_, _, want_old, want_new) in zip(got, fields, strict=True):
        assert (old, new) == (want_old, want_new) or want_old is want_new is None


def test_diff_reads_a_gate_as_dosecalc_does(run, tmp_path: Path) -> None:
    same = ec_changed(tmp_path, ("at_least: 1.5 x10^9/L", "at_least: 1500/uL"))
    code, shown, differences = diff(run, "ec", same)
    assert (code, shown, differences) == (0, [], [])


def test_diff_reports_a_change_of_review_status(run, tmp_path: Path) -> None:
    retired = ec_changed(
        tmp_path,
        (
            "status: draft  # no clinician has approved this file yet",
            "status: retired\napproved_by: Dr A\napproved_on: 2024-01-01",
        ),
    )
    code, shown, differences = diff(run, "ec", retired)
    assert code == 1 and shown == [
        "~ regimen status: draft → retired",
        "~ regimen approved_by: — → Dr A",
        "~ regimen approved_on: — → 2024-01-01",
    ]
    assert differences[0] | {"text": ""} == {
        "drug": None, "order": None, "gate": None, "field": "status", "change": "changed",
        "old": "draft", "new": "retired", "text": "",
    }  # fmt: skip


def test_diff_reports_a_cap_added_changed_or_removed(run, tmp_path: Path) -> None:
    capped = ec_changed(
        tmp_path, ("    dose: 90 mg/m2\n", "    dose: 90 mg/m2\n    max_dose: 150 mg\n")
    )
    code, shown, differences = diff(run, "ec", capped)
    assert (code, shown) == (1, ["~ epirubicin: max_dose none → 150 mg"])
    assert [(d["drug"], d["field"], d["old"], d["new"]) for d in differences] == [
        ("epirubicin", "max_dose", None, "150 mg")
    ]
    lower = write(tmp_path, "lower.yaml", capped.read_text().replace("150 mg", "0.12 g"))
    assert diff(run, capped, lower)[1] == ["~ epirubicin: max_dose 150 mg → 120 mg"]
    assert diff(run, lower, "ec")[1] == ["~ epirubicin: max_dose 120 mg → none"]


def test_diff_reports_an_infusion_change_in_text_and_json(run, tmp_path: Path) -> None:
    given = ec_changed(
        tmp_path,
        (
            "    dose: 90 mg/m2\n",
            "    dose: 90 mg/m2\n    infusion: {type: bolus, source: label}\n",
        ),
    )
    code, shown, differences = diff(run, "ec", given)
    assert (code, shown) == (1, ["~ epirubicin: infusion — → bolus"])
    longer = write(
        tmp_path,
        "longer.yaml",
        given.read_text().replace(
            "{type: bolus, source: label}", "{type: intermittent, duration: 30 min, source: label}"
        ),
    )
    code, shown, differences = diff(run, given, longer)
    assert code == 1 and shown == [
        "~ epirubicin: infusion type bolus → intermittent",
        "~ epirubicin: infusion duration — → 30 min",
    ]
    assert [(d["field"], d["old"], d["new"]) for d in differences] == [
        ("infusion.type", "bolus", "intermittent"),
        ("infusion.duration", None, 0.5),
    ]
    # the short form, free text (it broke the JSON output before: exit 3)
    old, new = two_versions(tmp_path)
    text = old.read_text().replace('infusion: "48 h continuous', 'infusion: "24 h continuous')
    code, shown, differences = diff(run, old, write(tmp_path, "map-24h.yaml", text))
    assert code == 1 and shown[0].startswith("~ doxorubicin: infusion text 48 h continuous")
    assert differences[0]["field"] == "infusion.text"


def test_diff_reports_schedule_route_and_rule_changes(run, tmp_path: Path) -> None:
    rule = (
        "    rules:\n      - when: {age_below: 1}\n        percent: 50\n        source: fixture\n"
    )
    old = ec_changed(
        tmp_path, ("  - drug: cyclophosphamide\n", f"{rule}  - drug: cyclophosphamide\n")
    )
    old = write(tmp_path, "old.yaml", old.read_text())
    new = ec_changed(
        tmp_path,
        ("cycle_length_days: 21", "cycle_length_days: 28"),
        ("cycles: 4", "cycles: 6"),
        ("    days: 1\n    route: IV\n  - drug: cyclo", "    days: 1,8\n    route: IV\n  - drug: cyclo"),
        ("  - drug: cyclophosphamide\n", f"{rule.replace('50', '75')}  - drug: cyclophosphamide\n"),
        ("    dose: 600 mg/m2\n    days: 1\n    route: IV", "    dose: 600 mg/m2\n    days: 1\n    route: PO\n    cycles: 1-4"),
    )  # fmt: skip
    code, shown, differences = diff(run, old, new)
    assert code == 1 and shown == [
        "~ regimen cycle_length_days: 21 → 28",
        "~ regimen cycles: 4 → 6",
        "~ epirubicin: days 1 → 1, 8",
        "~ epirubicin: rule 1 when age below 1 year: 50 % (source: fixture) → "
        "when age below 1 year: 75 % (source: fixture)",
        "~ cyclophosphamide: route IV → PO",
        "~ cyclophosphamide: cycles every cycle → cycles 1-4",
    ]
    assert [d["field"] for d in differences] == [
        *("cycle_length_days", "cycles", "days", "rules", "route", "cycles"),
    ]


def test_diff_compares_every_field_of_a_line_and_pairs_lines_by_how_they_are_given(
    run, tmp_path: Path
) -> None:
    """'required: false' on dia's mesna line (an order may then leave mesna out) was
    'identical', exit 0: a field described in the diff's table other than as plain 'value' was
    never compared. And mFOLFOX6 with its fluorouracil bolus and infusion listed in the other
    order was two dose changes, +500 % and -83 %: lines were paired by their place."""
    dia = (ROOT / "regimens" / "dia.yaml").read_text()
    optional = dia.replace("    for: ifosfamide\n", "    for: ifosfamide\n    required: false\n", 1)
    assert optional != dia
    code, shown, differences = diff(run, "dia", write(tmp_path, "dia.yaml", optional))
    assert code == 1 and shown == ["~ mesna: required true → false"], shown
    assert [(d["field"], d["old"], d["new"]) for d in differences] == [
        ("required", "true", "false")
    ]
    src = (ROOT / "regimens" / "mfolfox6.yaml").read_text()
    head, bolus, infusion = src.split("  - drug: fluorouracil\n")
    swapped = head + "  - drug: fluorouracil\n" + infusion + "  - drug: fluorouracil\n" + bolus
    if not infusion.endswith("\n"):
        swapped = (
            head + "  - drug: fluorouracil\n" + infusion + "\n  - drug: fluorouracil\n" + bolus
        )
    code, shown, _ = diff(run, "mfolfox6", write(tmp_path, "swapped.yaml", swapped))
    assert code == 0 and shown == [], shown
    # a change in one of them is that line's, named as it now stands
    changed = swapped.replace("dose: 400 mg/m2\n    days: 1\n    route: IV\n    infusion:\n      type: bolus",
                              "dose: 300 mg/m2\n    days: 1\n    route: IV\n    infusion:\n      type: bolus")  # fmt: skip
    assert changed != swapped
    code, shown, differences = diff(run, "mfolfox6", write(tmp_path, "changed.yaml", changed))
    assert (
        code == 1
        and len(shown) == 1
        and shown[0].startswith("~ fluorouracil (order 2): dose 400 mg/m² → 300 mg/m²")
    ), shown


def test_the_diff_knows_every_field_of_the_regimen_models() -> None:
    """A field added to a model of the regimen file must be named in the diff's tables, where
    it is decided how it is shown."""
    from dosecalc.workflows import regimen_diff as rd

    for model, table in (
        (rg.Regimen, rd.REGIMEN_FIELDS),
        (rg.DrugOrder, rd.ORDER_FIELDS),
        (rg.Gate, rd.GATE_FIELDS),
        (rg.Infusion, rd.INFUSION_FIELDS),
        (rg.Rule, rd.RULE_FIELDS),
        (rg.RuleWhen, rd.WHEN_FIELDS),
    ):
        assert set(model.model_fields) == set(table), model.__name__


def test_a_field_the_diff_does_not_name_is_still_compared() -> None:
    """Exhaustive by construction: a model field the tables do not know yet is compared as a
    value, in a drug order, a gate and the regimen itself."""
    from dosecalc.workflows import regimen_diff as rd

    class Order(rg.DrugOrder):
        preparation: str | None = None

    class Gate(rg.Gate):
        repeat: str | None = None

    class Regimen(rg.Regimen):
        review_board: str | None = None

    base = rg.load("ec")

    def fields(model: object) -> dict:
        return {name: getattr(model, name) for name in type(model).model_fields}

    def version(how: str | None, repeat: str | None, board: str | None) -> rg.Regimen:
        drugs = [Order.model_construct(**fields(base.drugs[0]), preparation=how), *base.drugs[1:]]
        gates = [Gate.model_construct(**fields(g), repeat=repeat) for g in base.gates or []]
        data = fields(base) | {"drugs": drugs, "gates": gates, "review_board": board}
        return Regimen.model_construct(**data)

    found = rd.compare(version(None, None, None), version("in 100 mL", "weekly", "OC-1"))
    assert [(d.drug, d.gate, d.field, d.old, d.new) for d in found] == [
        ("epirubicin", None, "preparation", None, "in 100 mL"),
        (None, "anc", "gate.repeat", None, "weekly"),
        (None, "platelets", "gate.repeat", None, "weekly"),
        (None, None, "review_board", None, "OC-1"),
    ]


# ---------------------------------------------------------------- plan --compare-policy


def test_compare_policy_shows_each_dose_under_both_policies(run, tmp_path: Path) -> None:
    other = write(tmp_path, "other.toml", '[bsa]\ncap_m2 = 2.0\n[rounding]\nmethod = "percent"\n')
    args = ["plan", "dia", "--height", "190cm", "--weight", "95kg", "--start", "2026-12-01",
            "--cycles", "1", "--compare-policy", str(other)]  # fmt: skip
    table = run(*args)
    assert table.returncode == 0, table.stderr
    assert "Policy comparison" in table.stdout and "bsa.cap_m2: none → 2" in table.stdout
    data = json.loads(run(*args, "--format", "json").stdout)["policy_comparison"]
    assert data["file"] == str(other)
    assert data["other_bsa_m2"] == pytest.approx(2.0) and data["bsa_m2"] > 2.0
    first = data["administrations"][0]
    assert first["drug"] == "cisplatin" and first["other_dose"] == pytest.approx(240, abs=2.5)
    assert first["difference_percent"] < 0
    # 9 doses of the protocol and 15 of mesna, which follow the ifosfamide they are dosed from
    assert data["doses_changed"] == len(data["administrations"]) == 24
    refused = run(*args, "--format", "csv")
    assert refused.returncode == 2 and "--compare-policy" in refused.stderr
    # the data's default equivalence table named in the other policy is no change, and a
    # value is shown as policy show writes it
    named = write(tmp_path, "named.toml", '[cumulative]\nequivalence = "esc-2022"\n'
                  '[rounding]\nstrengths = {cisplatin = [10, 50]}\n')  # fmt: skip
    table = run(*args[:-1], str(named)).stdout
    assert "cumulative.equivalence" not in table, table
    assert "rounding.strengths: none → cisplatin: 10, 50" in table


# ---------------------------------------------------------------- paediatric limits


DAUNO = """\
id: dauno
name: daunorubicin fixture
cycle_length_days: 21
cycles: 1
sources: ["fixture"]
drugs:
  - drug: daunorubicin
    dose: 1 mg/kg
    days: 1
"""


def test_daunorubicin_under_two_years_is_checked_per_kg(tmp_path: Path) -> None:
    reg = rg.load_file(write(tmp_path, "d.yaml", DAUNO))
    infant = build_patient("75cm", "9kg", age="1")
    bsa = mosteller(75, 9)
    prior = 9 * 9.5 / bsa  # 9.5 mg/kg given before, in mg/m²: one more 1 mg/kg crosses 10 mg/kg
    from dosecalc.inputs import history

    rows = history.load([], [f"daunorubicin={prior}mg/m2"]).all_rows()
    plan = make_plan(reg, infant, start="2026-12-01", cycles=1, history=rows)
    [t] = [t for t in plan.cumulative if t.drug == "daunorubicin"]
    assert t.limit == pytest.approx(10 * 9 / bsa)
    assert any(w.code == "CUMULATIVE_LIMIT_EXCEEDED" for w in plan.warnings)
    assert not any(w.code == "CUMULATIVE_LIMIT_NOT_CHECKED" for w in plan.warnings)


def test_daunorubicin_per_kg_is_named_unchecked_without_a_weight(run, tmp_path: Path) -> None:
    hist = write(tmp_path, "h.csv", "date,drug,dose,unit\n2026-01-01,daunorubicin,100,mg/m2\n")
    r = run("check", "--history", str(hist), "--age", "1", "--bsa", "0.45", "--format", "json")
    assert "CUMULATIVE_LIMIT_NOT_CHECKED" in {w["code"] for w in json.loads(r.stdout)["warnings"]}
    r = run("check", "--history", str(hist), "--age", "1", "--bsa", "0.45", "--weight", "9kg",
            "--format", "json")  # fmt: skip
    data = json.loads(r.stdout)
    assert "CUMULATIVE_LIMIT_NOT_CHECKED" not in {w["code"] for w in data["warnings"]}
    [t] = [t for t in data["cumulative"] if t["drug"] == "daunorubicin"]
    assert t["limit"] == pytest.approx(10 * 9 / 0.45)


@pytest.mark.parametrize(("age", "warned"), [("7", True), ("30", False), (None, False)])
def test_a_childs_weight_change_is_flagged_from_5_percent(
    tmp_path: Path, age: str | None, warned: bool
) -> None:
    reg = rg.load("map")
    person = build_patient("120cm", "25kg", age=age, previous_weight="26.5kg")  # -5.7 %
    plan = make_plan(reg, person, start="2026-12-01", cycles=1)
    found = [w for w in plan.warnings if w.code == "WEIGHT_CHANGED"]
    assert bool(found) is warned
    if warned:
        assert "weight.change_threshold_percent_child = 5" in found[0].message
    rules = pol.load(None, {"weight.change_threshold_percent_child": ("10", "--set")})
    plan = make_plan(reg, build_patient("120cm", "25kg", age=age, previous_weight="26.5kg",
                                        policy=rules), start="2026-12-01", cycles=1, policy=rules)  # fmt: skip
    assert not [w for w in plan.warnings if w.code == "WEIGHT_CHANGED"]


def test_a_small_child_dosed_per_m2_is_held(tmp_path: Path) -> None:
    plan = make_plan(rg.load("map"), build_patient("60cm", "6kg", age="0.5"), start="2026-12-01")
    small = [w for w in plan.warnings if w.code == "SMALL_CHILD_BSA_DOSING"]
    # leucovorin rescue (15 mg/m², eviQ) is dosed per m² too
    assert {w.drug for w in small} == {"cisplatin", "doxorubicin", "methotrexate", "leucovorin"}
    assert all(w.severity == "critical" and "Cancer Council Australia" in w.message for w in small)
    # each threshold crossed is named: 6 kg, 0.5 years, BSA 0.32 m²
    assert all(
        "children.small_weight_kg" in w.message
        and "children.infant_below_age_years" in w.message
        and "children.small_bsa_m2" in w.message
        and "UNVERIFIED" in w.message
        for w in small
    )
    reg = rg.load_file(regimen_file(tmp_path, PER_KG))
    plan = make_plan(reg, build_patient("60cm", "6kg"), start="2026-12-01")
    assert not [w for w in plan.warnings if w.code == "SMALL_CHILD_BSA_DOSING"]
    adult = make_plan(rg.load("map"), build_patient("175cm", "70kg"), start="2026-12-01")
    assert not [w for w in adult.warnings if w.code == "SMALL_CHILD_BSA_DOSING"]


def test_the_map_file_says_its_sources_give_no_rules() -> None:
    reg = rg.load("map")
    assert all(not o.rules for o in reg.drugs)
    assert any("Dosing rules for small children" in u for u in reg.unverified)
    assert math.isfinite(len(reg.unverified))


@pytest.mark.parametrize(
    ("height", "weight", "age", "crossed"),
    [
        # the case: 11 months, 11 kg, BSA 0.48 m² (weight alone would not flag it)
        ("75cm", "11kg", "0.92", {"children.infant_below_age_years", "children.small_bsa_m2"}),
        ("75cm", "11kg", None, {"children.small_bsa_m2"}),  # BSA 0.48 m², no age given
        ("80cm", "12kg", "0.9", {"children.infant_below_age_years"}),  # BSA 0.52: also BSA
        ("100cm", "16kg", "3", set()),  # BSA 0.67 m², 3 years: none
    ],
)
def test_an_infant_or_small_child_is_flagged_by_weight_age_or_bsa(
    height: str, weight: str, age: str | None, crossed: set[str]
) -> None:
    """R-CHOP has no rules for children: every per-m² or flat drug of an infant or a child below
    0.6 m² is SMALL_CHILD_BSA_DOSING (critical), naming the thresholds crossed."""
    person = build_patient(height, weight, age=age)
    plan = make_plan(rg.load("r-chop-21"), person, start="2026-12-08", cycles=1)
    small = [w for w in plan.warnings if w.code == "SMALL_CHILD_BSA_DOSING"]
    if person.bsa_m2 is not None and person.bsa_m2 < 0.6:
        crossed = crossed | {"children.small_bsa_m2"}
    if not crossed:
        assert not small
        return
    # prednisone's flat 100 mg is an adult's dose (it was not flagged)
    assert {w.drug for w in small} == {"rituximab", "cyclophosphamide", "doxorubicin",
                                       "vincristine", "prednisone"}  # fmt: skip
    [flat] = [w for w in small if w.drug == "prednisone"]
    assert flat.message.startswith("prednisone is dosed as a flat dose in r-chop-21")
    assert all(w.severity == "critical" for w in small)
    for key in ("children.small_weight_kg", "children.infant_below_age_years",
                "children.small_bsa_m2"):  # fmt: skip
        assert (key in small[0].message) is (key in crossed)


def test_a_child_on_a_regimen_that_says_nothing_of_children_is_warned() -> None:
    """A 12-year-old on R-CHOP (no rules, no children: statement): CHILD_DOSING_NOT_STATED;
    on MAP (its sources dose every age enrolled per m², said in children:) nothing; an adult
    nothing."""

    def codes(regimen: str, age: str) -> set[str]:
        person = build_patient("150cm", "40kg", age=age)
        plan = make_plan(rg.load(regimen), person, start="2026-12-08", cycles=1)
        return {w.code for w in plan.warnings}

    assert "CHILD_DOSING_NOT_STATED" in codes("r-chop-21", "12")
    # an infant is a child too: anlotinib's flat 12 mg for a 3-kg infant said nothing at all
    infant = build_patient("50cm", "3kg", age="0.2")
    plan = make_plan(rg.load("anlotinib"), infant, start="2026-12-08", cycles=1)
    assert "CHILD_DOSING_NOT_STATED" in {w.code for w in plan.warnings}
    plan = make_plan(rg.load("r-chop-21"), infant, start="2026-12-08", cycles=1)
    assert {"CHILD_DOSING_NOT_STATED", "SMALL_CHILD_BSA_DOSING"} <= {w.code for w in plan.warnings}
    assert "CHILD_DOSING_NOT_STATED" not in codes("map", "12")
    assert "CHILD_DOSING_NOT_STATED" not in codes("r-chop-21", "30")
    assert "SMALL_CHILD_BSA_DOSING" not in codes("r-chop-21", "12")


def test_the_child_thresholds_are_policy_settings() -> None:
    """children.small_bsa_m2 = 0.4 no longer flags a BSA of 0.48 m² (no age, 11 kg)."""
    rules = pol.load(None, {"children.small_bsa_m2": ("0.4", "--set")})
    person = build_patient("75cm", "11kg", policy=rules)
    plan = make_plan(rg.load("r-chop-21"), person, start="2026-12-08", cycles=1, policy=rules)
    assert not [w for w in plan.warnings if w.code == "SMALL_CHILD_BSA_DOSING"]
    default = make_plan(rg.load("r-chop-21"), build_patient("75cm", "11kg"),
                        start="2026-12-08", cycles=1)  # fmt: skip
    assert [w for w in default.warnings if w.code == "SMALL_CHILD_BSA_DOSING"]


INFANT_RULE = """id: kids-vcr
name: "vincristine with an infant rule"
cycle_length_days: 7
cycles: 1
sources: ["test"]
drugs:
  - drug: vincristine
    dose: 1.5 mg/m2
    max_dose: 2 mg
    days: 1
    route: IV
    rules:
      - when: {age_below: 1}
        dose: 0.05 mg/kg
        source: "infant rule"
"""


def test_a_date_of_birth_gives_the_age_and_an_age_it_contradicts_is_refused(
    run, tmp_path: Path
) -> None:
    """An infant born 2026-06-01 planned with --age 5 was dosed as a 5-year-old (0.4 mg, not
    0.05 mg/kg = 0.35 mg) on a sheet printing both the date of birth and 'Age: 5 y'."""
    regimen = tmp_path / "kids.yaml"
    regimen.write_text(INFANT_RULE, encoding="utf-8")
    args = ["plan", str(regimen), "--birth-date", "2026-06-01", "--height", "65cm", "--weight",
            "7kg", "--start", "2026-12-07", "--format", "fhir"]  # fmt: skip
    r = run(*args, "--age", "5")
    assert r.returncode == 2 and r.stdout == ""
    assert "--age 5 contradicts --birth-date 2026-06-01: 0.518 y on the plan's start" in r.stderr
    for agreeing in ([], ["--age", "6mo"]):
        r = run(*args, *agreeing)
        assert r.returncode in (0, 1), r.stderr
        assert "0.35 mg IV on 2026-12-07 (0.05 mg/kg" in r.stdout
    # on a birthday the age is whole: 6 on the 6th (days / 365.25 made it 5.997, and --age 6
    # a contradiction); 18 on the 18th, an adult
    r = run(*args[:2], "--birth-date", "2020-12-07", "--age", "6", *args[4:])
    assert r.returncode in (0, 1), r.stderr
    r = run(*args[:-4], "--start", "2026-05-01", "--format", "fhir")
    assert r.returncode == 2 and "2026-06-01 is after the plan's start, 2026-05-01" in r.stderr


def test_a_rule_by_age_is_held_to_the_age_on_each_cycles_day_1(run, tmp_path: Path) -> None:
    """An infant of 0.9 years on a weekly plan from 2026-12-07 turns 1 in January: the
    infant's rule (0.05 mg/kg) held for all ten cycles, the age frozen at the start."""
    regimen = tmp_path / "kids.yaml"
    regimen.write_text(INFANT_RULE.replace("cycles: 1", "cycles: 10"), encoding="utf-8")
    r = run("plan", str(regimen), "--age", "0.9", "--height", "65cm", "--weight", "7kg",
            "--start", "2026-12-07", "--cycles", "10", "--format", "json")  # fmt: skip
    assert r.returncode in (0, 1), r.stderr
    doses = [a for a in json.loads(r.stdout)["administrations"] if a["drug"] == "vincristine"]
    infant = [a["cycle"] for a in doses if a["rule"] and "below 1 y" in a["rule"]["matched"]]
    # 0.9 y + 35 days = 0.996 y (cycle 6, 2027-01-11); + 42 days = 1.015 y (cycle 7)
    assert infant == [1, 2, 3, 4, 5, 6]
    assert [a["dose"] for a in doses[:6]] == pytest.approx([0.35] * 6)  # 0.05 mg/kg x 7 kg
    # from cycle 7, the regimen's own 1.5 mg/m² x 0.3555 m² (Mosteller, 65 cm, 7 kg)
    assert [a["rule"] for a in doses[6:]] == [None] * 4
    assert [a["dose"] for a in doses[6:]] == pytest.approx([1.5 * (65 * 7 / 3600) ** 0.5] * 4)
    assert "age 0.995825 y is below 1 y" in doses[5]["rule"]["matched"]


CARBO_INFANT = """id: carbo-infant
name: "carboplatin with an infant rule"
cycle_length_days: 21
cycles: 4
sources: ["test"]
drugs:
  - drug: carboplatin
    dose: AUC 5
    days: 1
    route: IV
    rules:
      - when: {age_below: 1}
        dose: 6.6 mg/kg
        source: "infant rule"
"""


def test_an_infants_carboplatin_by_auc_after_the_first_birthday(run, tmp_path: Path) -> None:
    """An infant of 0.95 years turns 1 before cycle 2, when the per-kg rule ends and the
    regimen's AUC 5 applies: the GFR was looked for only with the age at the start (per kg, no
    GFR needed), and cycle 2 crashed (AssertionError, exit 3), with a measured GFR given too."""
    regimen = write(tmp_path, "carbo.yaml", CARBO_INFANT)
    args = ("plan", str(regimen), "--height", "72cm", "--weight", "9kg", "--age", "0.95",
            "--sex", "male", "--start", "2026-12-08", "--format", "json")  # fmt: skip
    r = run(*args, "--gfr", "40mL/min", "--gfr-measured")
    assert r.returncode in (0, 1), r.stderr
    doses = [a["dose"] for a in json.loads(r.stdout)["administrations"]]
    assert doses == pytest.approx([6.6 * 9] + [5 * (40 + 25)] * 3)
    r = run(*args)  # no GFR: refused, naming the measured GFR a child's Calvert dose needs
    assert r.returncode == 2 and r.stdout == "" and "internal error" not in r.stderr
    assert "--gfr-measured" in r.stderr and "--lab crcl" in r.stderr


def test_checks_follow_each_cycles_patient_after_an_age_rule_ends(run, tmp_path: Path) -> None:
    """An infant of 0.95 years (9 kg, measured CrCl 30 mL/min) turns 1 before cycle 2, when the
    per-kg rule ends and carboplatin is 360 mg/m² again: the organ-function band and the
    small-child check were computed once with the start's age (per kg), and cycles 2-3 were
    152.7 mg (the label's band: 200 mg/m², 84.9 mg) with no warning, exit 0."""
    regimen = write(
        tmp_path,
        "carbo.yaml",
        CARBO_INFANT.replace("dose: AUC 5", "dose: 360 mg/m2").replace("6.6 mg/kg", "12 mg/kg"),
    )
    r = run("plan", str(regimen), "--height", "72cm", "--weight", "9kg", "--age", "0.95",
            "--sex", "male", "--lab", "crcl=30mL/min@2026-12-06", "--adjust-organ",
            "--start", "2026-12-08", "--cycles", "3", "--format", "json")  # fmt: skip
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    bsa = (72 * 9 / 3600) ** 0.5
    doses = [a["dose"] for a in out["administrations"]]
    assert doses == pytest.approx([108] + [round(200 * bsa, 1)] * 2, abs=0.05)
    said = {w["code"]: w for w in out["warnings"]}
    band = said["ORGAN_FUNCTION_ADJUSTMENT"]
    assert band["severity"] == "critical" and band["cycle"] == 2 and "200 mg/m2" in band["message"]
    small = said["SMALL_CHILD_BSA_DOSING"]
    assert small["severity"] == "critical" and small["cycle"] == 2


def test_on_the_first_birthday_an_infants_rule_no_longer_holds(run, tmp_path: Path) -> None:
    """A child born 2026-01-05 is 1 on 2027-01-05: the age of that cycle's day 1 was the start's
    exact age plus days / 365.25 (0.99995), and the infant's 50 % still held on the birthday."""
    regimen = write(
        tmp_path,
        "vcr.yaml",
        INFANT_RULE.replace("cycles: 1", "cycles: 6").replace("dose: 0.05 mg/kg", "percent: 50"),
    )
    r = run("plan", str(regimen), "--bsa", "0.62", "--weight", "11kg", "--birth-date",
            "2026-01-05", "--start", "2026-12-08", "--cycles", "6", "--format", "fhir")  # fmt: skip
    assert r.returncode in (0, 1), r.stderr
    for day in ("2026-12-08", "2026-12-29"):
        assert f"0.465 mg IV on {day}" in r.stdout  # 50 % of 1.5 mg/m² × 0.62 m²
    for day in ("2027-01-05", "2027-01-12"):
        assert f"0.93 mg IV on {day}" in r.stdout


def test_a_weight_or_bsa_a_rule_compared_is_not_printed_on_its_limit(run, tmp_path: Path) -> None:
    """9.995 kg printed as 'weight 10 kg' and '1.25 mg/kg × 10 kg, rule 1' beside a rule for
    below 10 kg; a BSA of 0.5998 m² as '0.60 m²' beside a rule for below 0.6 m²."""
    regimen = write(
        tmp_path,
        "dox.yaml",
        "id: dox-infant\nname: dox\ncycle_length_days: 21\ncycles: 1\nsources: [test]\n"
        "drugs:\n  - drug: doxorubicin\n    dose: 37.5 mg/m2\n    days: 1\n    route: IV\n"
        "    rules:\n      - when: {weight_below: 10 kg}\n        dose: 1.25 mg/kg\n"
        "        source: test\n",
    )
    r = run("plan", str(regimen), "--height", "75cm", "--weight", "9995g", "--age", "1.5",
            "--prior", "doxorubicin=0mg/m2", "--start", "2026-12-08")  # fmt: skip
    assert r.returncode in (0, 1), r.stderr
    assert "weight 9.995 kg" in r.stdout and "1.25 mg/kg × 9.995 kg, rule 1" in r.stdout
    assert "10 kg," not in r.stdout.split("Cycle")[0]
    small = write(tmp_path, "vcr.yaml", VCR.format(rules=PER_KG.rstrip("\n")))
    r = run("plan", str(small), "--height", "81cm", "--weight", "15.99kg", "--age", "2",
            "--start", "2026-12-01", "--cycles", "1")  # fmt: skip
    assert r.returncode in (0, 1), r.stderr
    assert "BSA 0.5998 m²" in r.stdout and "BSA 0.60 m²" not in r.stdout
