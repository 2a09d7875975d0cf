"""`check --next`: how many more cycles fit, replayed by hand (the reference case's numbers,
a child's dosing rules, priors not given) and held to what a plan of those cycles says."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import write

# epirubicin 30 mg/m² a cycle, halved below age 1 (a rule by age, as a child's regimen has)
INFANT_RULE = """\
id: infant-epi
name: "test: epirubicin with an infant rule"
cycle_length_days: 21
cycles: 6
sources: ["test"]
drugs:
  - drug: epirubicin
    dose: 30 mg/m2
    days: 1
    route: IV
    rules:
      - when: {age_below: 1}
        percent: 50
        source: "test"
"""


def _next(run, *args: str) -> dict:
    p = run("check", *args, "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)["next"]


def test_next_follows_a_rule_by_age_that_ends(run, tmp_path: Path) -> None:
    """An infant of 0.5 years on 21-day cycles is 1 on the day 1 of cycle 10 (day 189): cycles
    1-9 give 15 mg/m² (the rule's 50 %), from cycle 10 on 30 mg/m². From a prior 800 mg/m²:
    800 + 9 x 15 = 935, then 965, 995, 1,025 at cycle 12: 11 cycles fit within the 1,000 mg/m²
    limit, not 13 (every cycle at the infant's dose); the threshold (900) is reached at cycle 7
    (905): 6 fit below it. A plan of the same cycles says the same."""
    regimen = write(tmp_path, "infant.yaml", INFANT_RULE)
    patient = ("--age", "0.5", "--bsa", "0.35")
    nxt = _next(run, "--prior", "epirubicin=800mg/m2", "--next", str(regimen), *patient)
    assert (nxt["cycles_within_threshold"], nxt["cycles_within_limit"]) == (6, 11)
    p = run("check", "--prior", "epirubicin=800mg/m2", "--next", str(regimen), *patient,
            "--cycles", "12")  # fmt: skip
    assert p.returncode == 1 and "NEXT_EXCEEDS_LIMIT" in p.stdout
    plan = run("plan", str(regimen), "--prior", "epirubicin=800mg/m2", *patient, "--cycles",
               "16", "--start", "2026-12-07", "--format", "json")  # fmt: skip
    [projection] = json.loads(plan.stdout)["projection"]
    assert (projection["cycles_within_threshold"], projection["cycles_within_limit"]) == (6, 11)


def test_next_without_a_bsa_does_not_skip_a_childs_rule(run, tmp_path: Path) -> None:
    """Without a BSA, the cycles of an order with rules for children were counted at the
    order's own 30 mg/m² (the infant's 15 ignored): 3 and 6 cycles, where 6 and 11 fit. The
    rule may follow the BSA, the weight or the age of each cycle: the BSA is asked for."""
    regimen = write(tmp_path, "infant.yaml", INFANT_RULE)
    p = run("check", "--prior", "epirubicin=800mg/m2", "--next", str(regimen), "--age", "0.5")
    assert p.returncode == 2, p.stdout
    assert "needs the patient's BSA" in p.stderr and "--bsa" in p.stderr


def test_next_names_a_prior_not_given_instead_of_counting_it_as_zero(run) -> None:
    """``--prior epirubicin=0mg/m2 --next abvd``: nobody said what doxorubicin or bleomycin the
    patient had, yet '8 more cycles fit' counted both from zero without a word. The cycles that
    fit are still counted (ABVD: doxorubicin 50 mg/m² a cycle, 450 / 50 = 9, so 8 below the
    threshold; 550 / 50 = 11 within the limit), and each total whose prior is unknown is named;
    the epirubicin said to be none is not."""
    p = run("check", "--prior", "epirubicin=0mg/m2", "--next", "abvd", "--bsa", "1.8",
            "--format", "json")  # fmt: skip
    out = json.loads(p.stdout)
    assert (out["next"]["cycles_within_threshold"], out["next"]["cycles_within_limit"]) == (8, 11)
    unknown = {w["drug"] for w in out["warnings"] if w["code"] == "LIFETIME_EXPOSURE_UNKNOWN"}
    assert unknown == {"doxorubicin", "bleomycin", "doxorubicin equivalent"}
    said = run("check", "--prior", "doxorubicin=0mg/m2", "--prior", "bleomycin=0units",
               "--next", "abvd", "--bsa", "1.8", "--format", "json")  # fmt: skip
    assert "LIFETIME_EXPOSURE_UNKNOWN" not in said.stdout


def test_next_says_when_the_table_leaves_its_anthracycline_out(run, tmp_path: Path) -> None:
    """IGHG 2025 gives no factor for epirubicin: the cycles of DDP+EPI add nothing to the
    doxorubicin equivalent (daunorubicin 300 mg/m² x 0.6 = 180 stays 180), which a plan of them
    says (EQUIVALENCE_NOT_AVAILABLE) and check --next did not: its projection left epirubicin
    out of the combined total without a word."""
    history = write(tmp_path, "h.csv", "date,drug,dose,unit\n2020-03-02,daunorubicin,300,mg/m2\n")
    p = run("check", "--history", str(history), "--next", "ddp-epi", "--equivalence",
            "ighg-2025", "--age", "30", "--format", "json")  # fmt: skip
    out = json.loads(p.stdout)
    [eq] = [t for t in out["cumulative"] if t["drug"] == "doxorubicin equivalent"]
    assert eq["total"] == 180
    left_out = [w for w in out["warnings"] if w["code"] == "EQUIVALENCE_NOT_AVAILABLE"]
    assert [w["drug"] for w in left_out] == ["epirubicin"]
    assert (out["next"]["cycles_within_threshold"], out["next"]["cycles_within_limit"]) == (17, 20)


def test_next_is_not_dropped_from_a_csv(run, tmp_path: Path) -> None:
    """The CSV of a check holds the totals only: ``--next ddp-epi --cycles 6 --format csv``
    printed the totals, and the answer asked for (and its NEXT_EXCEEDS_LIMIT: 800 + 6 x 50 =
    1,100 mg/m²) was nowhere in it. Refused, naming the formats that hold it."""
    p = run("check", "--prior", "epirubicin=800mg/m2", "--next", "ddp-epi", "--cycles", "6",
            "--format", "csv")  # fmt: skip
    assert p.returncode == 2 and p.stdout == ""
    assert "--next" in p.stderr and "--format json" in p.stderr


def test_a_plan_does_not_count_a_dose_of_the_history_twice(run, tmp_path: Path) -> None:
    """The history holds DIA cycle 1's epirubicin (40 mg/m² on 1-3 December) and the plan starts
    cycle 1 on 1 December: the plan counted those three doses again (epirubicin 120 prior + 240
    planned = 360 mg/m², where 240 were given or planned). Refused, naming the rows; with
    --actual-dates the history's cycle 1 counts once (120 + 120 = 240)."""
    rows = "".join(f"2026-12-0{d},epirubicin,40,mg/m2,dia,1,{d}\n" for d in (1, 2, 3))
    history = write(tmp_path, "h.csv", "date,drug,dose,unit,regimen,cycle,day\n" + rows)
    plan = ("plan", "dia", "--bsa", "1.8", "--start", "2026-12-01", "--history", str(history))
    p = run(*plan)
    assert p.returncode == 2 and p.stdout == ""
    assert "h.csv:2: epirubicin 40 mg/m² on 2026-12-01 is in the history" in p.stderr
    assert "h.csv:4:" in p.stderr and "--actual-dates" in p.stderr
    dated = run(*plan, "--actual-dates", "--format", "json")
    [epi] = [t for t in json.loads(dated.stdout)["cumulative"] if t["drug"] == "epirubicin"]
    assert (epi["prior"], epi["planned"], epi["total"]) == (120, 120, 240)


def test_a_course_does_not_count_the_reference_case_history_twice(run, tmp_path: Path) -> None:
    """The reference course planned over its own history (DIA cycle 1's epirubicin, in mg at the
    BSA of each day, 1.85 m²): each dose counted twice. Refused, naming the first row."""
    rows = "".join(f"2018-09-{19 + d},epirubicin,74,mg,1.85\n" for d in range(3))
    history = write(tmp_path, "h.csv", "date,drug,dose,unit,bsa_m2\n" + rows)
    course = Path(__file__).resolve().parents[1] / "examples" / "chen-2023-pelvic-osteosarcoma.yaml"
    p = run("plan", str(course), "--history", str(history))
    assert p.returncode == 2
    assert "h.csv:2: epirubicin 74 mg on 2018-09-19 is in the history" in p.stderr
    assert "start that phase after them in the course file" in p.stderr


def test_next_is_answered_for_every_patient_of_a_history(run, tmp_path: Path) -> None:
    """A history of two patients with ``--next ddp-epi --cycles 6``: the table was the one-line
    summary ('2 patients checked: 0 over a threshold, 0 over a limit') and exit 1, the answer for
    each patient (P1: 800 mg/m², 1 cycle below the threshold, 4 within the limit; P2: 100 mg/m²,
    15 and 18) and P1's NEXT_EXCEEDS_LIMIT nowhere. Each patient is now printed in full."""
    history = write(
        tmp_path,
        "two.csv",
        "patient,date,drug,dose,unit\n"
        "P1,2019-01-05,epirubicin,800,mg/m2\n"
        "P2,2019-01-05,epirubicin,100,mg/m2\n",
    )
    p = run("check", "--history", str(history), "--next", "ddp-epi", "--cycles", "6")
    assert p.returncode == 1
    assert "Patient P1" in p.stdout and "Patient P2" in p.stdout
    assert "4 more full cycles keep every total within its limit" in p.stdout
    assert "18 more full cycles keep every total within its limit" in p.stdout
    assert "NEXT_EXCEEDS_LIMIT" in p.stdout


def test_next_without_a_bsa_fits_the_reference_case_dia(run) -> None:
    """DIA's mesna (20 % of the ifosfamide dose) adds to no lifetime total, yet without a BSA
    'check --prior epirubicin=700mg/m2 --next dia' was refused: mesna 'needs the patient's BSA'.
    Per m² doses need none: 700 + 120 a cycle is 820 (below 900), 940 (within 1,000), 1,060."""
    nxt = _next(run, "--prior", "epirubicin=700mg/m2", "--next", "dia")
    assert (nxt["cycles_within_threshold"], nxt["cycles_within_limit"]) == (1, 2)


# epirubicin 30 mg/m² in cycles 1-2, 90 in cycles 3-4, 10 from cycle 5: the dose changes by cycle
BY_CYCLE = """\
id: epi-by-cycle
name: "test: epirubicin dose by cycle"
cycle_length_days: 21
cycles: 6
sources: ["test"]
drugs:
  - {drug: epirubicin, dose: 30 mg/m2, days: 1, cycles: 1-2, route: IV}
  - {drug: epirubicin, dose: 90 mg/m2, days: 1, cycles: 3-4, route: IV}
  - {drug: epirubicin, dose: 10 mg/m2, days: 1, cycles: 5-, route: IV}
"""


def test_a_plan_projects_the_regimens_later_cycles_not_its_last_again(run, tmp_path: Path) -> None:
    """A plan of 2 cycles of a regimen whose dose changes by cycle, from a prior 700 mg/m²:
    700 + 30 + 30 + 90 + 90 = 940 at cycle 4, so 3 cycles fit below the 900 mg/m² threshold; then
    10 a cycle: 1,000 at cycle 10, 1,010 at 11, so 10 within the limit. The projection repeated
    the plan's last cycle (30 mg/m²) and said 6 fit below the threshold. The same for an infant
    whose rule ends after the plan's 3 cycles (6 and 11, not 6 and 13). check --next agrees."""
    regimen = write(tmp_path, "by-cycle.yaml", BY_CYCLE)
    plan = run("plan", str(regimen), "--prior", "epirubicin=700mg/m2", "--bsa", "1.8",
               "--cycles", "2", "--start", "2026-12-07", "--format", "json")  # fmt: skip
    [projection] = json.loads(plan.stdout)["projection"]
    assert (projection["cycles_within_threshold"], projection["cycles_within_limit"]) == (3, 10)
    nxt = _next(run, "--prior", "epirubicin=700mg/m2", "--next", str(regimen))
    assert (nxt["cycles_within_threshold"], nxt["cycles_within_limit"]) == (3, 10)
    infant = write(tmp_path, "infant.yaml", INFANT_RULE)
    plan = run("plan", str(infant), "--prior", "epirubicin=800mg/m2", "--age", "0.5", "--bsa",
               "0.35", "--cycles", "3", "--start", "2026-12-07", "--format", "json")  # fmt: skip
    [projection] = json.loads(plan.stdout)["projection"]
    assert (projection["cycles_within_threshold"], projection["cycles_within_limit"]) == (6, 11)


def test_a_course_phase_projects_the_regimens_later_cycles(run, tmp_path: Path) -> None:
    """The same in a course: a phase of 2 cycles of the by-cycle regimen, from 700 mg/m², has 3
    cycles below the threshold (not 6) and 10 within the limit."""
    write(tmp_path, "by-cycle.yaml", BY_CYCLE)
    course = write(
        tmp_path,
        "course.yaml",
        "course: by-cycle\npatient: {bsa: 1.8, age: 30}\nphases:\n"
        "  - {regimen: by-cycle.yaml, cycles: 2, start: 2026-12-07}\n",
    )
    plan = run("plan", str(course), "--prior", "epirubicin=700mg/m2", "--format", "json")
    [projection] = json.loads(plan.stdout)["projection"]
    assert (projection["cycles_within_threshold"], projection["cycles_within_limit"]) == (3, 10)
