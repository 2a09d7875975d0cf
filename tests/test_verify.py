"""dosecalc verify (issue 18, CONTRACT §9): a written order recomputed with the plan engine,
checked as a whole, acknowledged, given a verdict, and recorded."""

from __future__ import annotations

import json
import math
import re
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dosecalc.data.regimen import library_ids
from dosecalc.data.regimen import load as load_regimen
from tests.conftest import ROOT, TODAY, schema, write
from tests.strategies import adults

VERIFY_SCHEMA = schema("verify-output")
START = TODAY + timedelta(days=7)  # the cycle's day 1: next week
MEASURED = TODAY - timedelta(days=2)
PATIENT = ["--height", "175cm", "--weight", "70kg"]


def ec_order(**changes: object) -> dict:
    """A clean order of ec cycle 2 for 175 cm / 70 kg (epirubicin 166 mg, cyclophosphamide
    1,107 mg: 90 and 600 mg/m² × 1.8447 m², Mosteller)."""
    order = {
        "order": "P123-C2",
        "regimen": "ec",
        "regimen_version": "1",
        "cycle": 2,
        "start": START.isoformat(),
        "patient": {
            "height": "175 cm",
            "weight": "70 kg",
            "bsa": "1.84 m2",
            "measured": MEASURED.isoformat(),
        },
        "lines": [
            {"drug": "epirubicin", "dose": "166 mg", "day": 1, "route": "IV"},
            {"drug": "cyclophosphamide", "dose": "1107 mg", "day": 1, "route": "IV"},
        ],
    }
    order.update(changes)
    return order


def save(tmp_path: Path, order: dict, name: str = "order.yaml") -> Path:
    return write(tmp_path, name, yaml.safe_dump(order, sort_keys=False, allow_unicode=True))


def verify_json(cli, path: Path, *args: str) -> tuple[int, dict]:
    code, out, err = cli("verify", str(path), "--format", "json", *args)
    assert code in (0, 1), err
    data = json.loads(out)
    jsonschema.validate(data, VERIFY_SCHEMA)
    return code, data


def codes(data: dict, severity: str | None = None) -> set[str]:
    return {w["code"] for w in data["warnings"] if severity is None or w["severity"] == severity}


# ---------------------------------------------------------------- the "done when"


def test_a_clean_ec_order_releases(run, tmp_path: Path) -> None:
    path = save(tmp_path, ec_order())
    p = run("verify", str(path), *PATIENT, "--format", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    jsonschema.validate(data, VERIFY_SCHEMA)
    assert data["verdict"] in ("release", "release-with-notes")
    assert not codes(data, "critical")
    lines = {ln["drug"]: ln for ln in data["lines"]}
    assert [ln["status"] for ln in data["lines"]] == ["ok", "ok"]
    assert lines["epirubicin"]["expected"] == pytest.approx(90 * 1.844662, rel=1e-5)
    assert lines["cyclophosphamide"]["expected"] == pytest.approx(600 * 1.844662, rel=1e-5)
    assert data["missing"] == []
    # the table says it in one glance
    p = run("verify", str(path), *PATIENT)
    assert p.returncode == 0 and p.stdout.lstrip().startswith("RELEASE")


def test_epirubicin_written_as_189_mg_holds(run, tmp_path: Path) -> None:
    order = ec_order()
    order["lines"][0]["dose"] = "189 mg"
    path = save(tmp_path, order)
    p = run("verify", str(path), *PATIENT, "--format", "json")
    assert p.returncode == 1, p.stderr
    data = json.loads(p.stdout)
    assert data["verdict"] == "hold"
    [epi] = [ln for ln in data["lines"] if ln["drug"] == "epirubicin"]
    assert epi["status"] == "outside-tolerance" and round(epi["deviation_percent"], 1) == 13.8
    [w] = [w for w in data["warnings"] if w["code"] == "ORDER_DOSE_DEVIATION"]
    assert w["severity"] == "critical" and "+13.8 %" in w["message"] and w["drug"] == "epirubicin"
    p = run("verify", str(path), *PATIENT)
    assert p.returncode == 1
    assert p.stdout.lstrip().startswith("HOLD") and "+13.8%" in p.stdout
    assert "ORDER_DOSE_DEVIATION" in p.stdout


def test_an_order_with_a_drug_the_regimen_does_not_give_holds(cli, tmp_path: Path) -> None:
    order = ec_order()
    order["lines"].append({"drug": "5-FU", "dose": "500 mg", "day": 1, "route": "IV"})
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert code == 1 and data["verdict"] == "hold"
    [line] = [ln for ln in data["lines"] if ln["drug"] == "fluorouracil"]
    assert line["status"] == "not-in-regimen" and line["expected"] is None
    [w] = [w for w in data["warnings"] if w["code"] == "ORDER_LINE_UNEXPECTED"]
    assert "fluorouracil is not part of ec" in w["message"]


CISPLATIN_HIGH = """\
id: cisplatin-high
name: "cisplatin above its usual maximum single dose (test)"
cycle_length_days: 21
cycles: 2
sources: ["test fixture"]
drugs:
  - drug: cisplatin
    dose: 160 mg/m2
    days: 1
    route: IV
"""


def _order_of(regimen: str, doses: dict[str, str], cycle: int = 1, **extra: object) -> dict:
    return {
        "regimen": regimen,
        "cycle": cycle,
        "start": START.isoformat(),
        "patient": {"height": "175 cm", "weight": "70 kg", "measured": MEASURED.isoformat()},
        "lines": [{"drug": d, "dose": v, "day": 1, "route": "IV"} for d, v in doses.items()],
        **extra,
    }


ACK = {
    "code": "DOSE_ABOVE_USUAL_MAXIMUM",
    "drug": "cisplatin",
    "reason": "as in the protocol, agreed at the tumour board",
    "by": "Dr A. Example",
}


def test_an_acknowledged_critical_is_a_note_that_names_the_acknowledgement(
    cli, tmp_path: Path
) -> None:
    """The plan engine flags cisplatin 160 mg/m² above its usual maximum single dose: the order
    holds, unless it acknowledges that warning with a reason; it is then reported, not dropped."""
    regimen = write(tmp_path, "cisplatin-high.yaml", CISPLATIN_HIGH)
    order = _order_of(str(regimen), {"cisplatin": "295 mg"})
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert code == 1 and "DOSE_ABOVE_USUAL_MAXIMUM" in codes(data, "critical")
    order["acknowledged"] = [ACK]
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert code == 0 and data["verdict"] == "release-with-notes"
    [w] = [w for w in data["warnings"] if w["code"] == "DOSE_ABOVE_USUAL_MAXIMUM"]
    assert w["severity"] == "warning"
    assert "acknowledged by Dr A. Example: as in the protocol" in w["message"]
    assert "critical" in w["message"]
    assert data["acknowledged"][0]["matched"] == ["DOSE_ABOVE_USUAL_MAXIMUM"]


def test_ddp_epi_holds_on_cisplatin_140_unless_acknowledged(cli, tmp_path: Path) -> None:
    """The reference case's cisplatin 140 mg/m² (Chen 2023) is above the usual maximum single
    dose once the drug data says so (issue 16): verify holds exactly when the plan engine raises
    that critical for the same cycle, and an acknowledgement with a reason releases it with
    notes."""
    code, out, _ = cli(
        "plan", "ddp-epi", *PATIENT, "--start", START.isoformat(), "--cycles", "1",
        "--format", "json",
    )  # fmt: skip
    planned = json.loads(out)["warnings"]
    flagged = [
        w for w in planned if w["code"] == "DOSE_ABOVE_USUAL_MAXIMUM" and w["drug"] == "cisplatin"
    ]
    assert [w["severity"] for w in flagged] == ["critical"]  # 140 mg/m² is above 120 mg/m²
    order = _order_of(
        "ddp-epi",
        {"cisplatin": "258 mg", "epirubicin": "92 mg", "ondansetron": "8 mg"},
        supportive_care=[{"kind": "hydration", "for": "cisplatin"}],
    )
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert code == 1 and "DOSE_ABOVE_USUAL_MAXIMUM" in codes(data, "critical")
    order["acknowledged"] = [ACK]
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert code == 0 and data["verdict"] == "release-with-notes"
    assert "DOSE_ABOVE_USUAL_MAXIMUM" in codes(data, "warning")


def test_an_acknowledgement_that_matches_nothing_is_a_warning(cli, tmp_path: Path) -> None:
    order = ec_order(acknowledged=[{**ACK, "drug": "epirubicin"}])
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert code == 0 and data["verdict"] == "release-with-notes"
    [w] = [w for w in data["warnings"] if w["code"] == "ORDER_ACKNOWLEDGEMENT_UNMATCHED"]
    assert "DOSE_ABOVE_USUAL_MAXIMUM for epirubicin" in w["message"]
    assert "matches no warning" in w["message"]


def test_a_lifetime_limit_counts_the_prior_exposure_and_only_the_pharmacist_releases_it(
    cli, tmp_path: Path
) -> None:
    path = save(tmp_path, ec_order())
    code, data = verify_json(cli, path, *PATIENT, "--prior", "epirubicin=950mg/m2")
    assert code == 1 and "CUMULATIVE_LIMIT_EXCEEDED" in codes(data, "critical")
    [epi] = [t for t in data["cumulative"] if t["drug"] == "epirubicin"]
    assert epi["prior"] == 950 and epi["total"] == pytest.approx(950 + 166 / 1.844662, rel=1e-4)
    assert epi["prior_source"] == "prior"
    # the order's own acknowledgement (reason "ok") does not release a lifetime limit passed
    ack = {"code": "CUMULATIVE_LIMIT_EXCEEDED", "drug": "epirubicin", "reason": "ok", "by": "b"}
    path = save(tmp_path, ec_order(acknowledged=[ack]))
    code, data = verify_json(cli, path, *PATIENT, "--prior", "epirubicin=950mg/m2")
    assert code == 1 and data["verdict"] == "hold"
    assert "CUMULATIVE_LIMIT_EXCEEDED" in codes(data, "critical")
    [w] = [w for w in data["warnings"] if w["code"] == "ORDER_ACKNOWLEDGEMENT_NOT_ALLOWED"]
    assert "only the verifying pharmacist may acknowledge CUMULATIVE_LIMIT_EXCEEDED" in w["message"]
    # the verifying pharmacist, named, on the command line: released with notes
    pharmacist = ["--acknowledge", "CUMULATIVE_LIMIT_EXCEEDED:epirubicin=cardiology cleared"]
    code, data = verify_json(
        cli, path, *PATIENT, "--prior", "epirubicin=950mg/m2", *pharmacist, "--by", "Pharm C"
    )
    assert code == 0 and data["verdict"] == "release-with-notes"
    assert "CUMULATIVE_LIMIT_EXCEEDED" in codes(data, "warning")
    [mine] = [a for a in data["acknowledged"] if a["tier"] == "pharmacist"]
    assert (mine["by"], mine["matched"]) == ("Pharm C", ["CUMULATIVE_LIMIT_EXCEEDED"])


def test_lifetime_totals_count_the_doses_as_ordered(cli, tmp_path: Path) -> None:
    """An acknowledged extra anthracycline line still counts against the ceiling."""
    order = ec_order()
    order["lines"].append({"drug": "doxorubicin", "dose": "110 mg", "day": 1, "route": "IV"})
    order["acknowledged"] = [
        {"code": "ORDER_LINE_UNEXPECTED", "drug": "doxorubicin", "reason": "r", "by": "b"}
    ]
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert code == 0
    doxo = [t for t in data["cumulative"] if t["drug"] == "doxorubicin"]
    assert doxo and doxo[0]["planned"] == pytest.approx(110 / 1.844662, rel=1e-4)


# ---------------------------------------------------------------- each single defect


DEFECTS = ["dose +6 %", "dose -6 %", "missing line", "extra drug", "wrong day", "stale BSA"]
EXPECTED_CODE = {
    "dose +6 %": "ORDER_DOSE_DEVIATION",
    "dose -6 %": "ORDER_DOSE_DEVIATION",
    "missing line": "ORDER_LINE_MISSING",
    "extra drug": "ORDER_LINE_UNEXPECTED",
    "wrong day": "ORDER_LINE_UNEXPECTED",
    "stale BSA": "MEASUREMENT_STALE",
}
EXTRAS = ["etoposide", "gemcitabine", "irinotecan"]


def clean_order(cli, regimen_id: str, height: float, weight: float, cycle: int = 1) -> dict:
    """An order written from `dosecalc plan`: the doses of one cycle, as planned."""
    extra = ["--gfr", "90mL/min"] if regimen_id == "carboplatin-paclitaxel" else []
    code, out, err = cli(
        "plan", regimen_id, "--height", f"{height}cm", "--weight", f"{weight}kg",
        "--start", (START - timedelta(days=21 * (cycle - 1))).isoformat(),
        "--cycles", str(cycle), "--format", "json", *extra,
    )  # fmt: skip
    assert code in (0, 1), err
    plan = json.loads(out)
    mine = [a for a in plan["administrations"] if a["cycle"] == cycle]
    regimen = load_regimen(regimen_id)
    start = date.fromisoformat(mine[0]["date"]) - timedelta(days=mine[0]["day"] - 1)
    return {
        "regimen": regimen_id,
        "regimen_version": regimen.version,
        "cycle": cycle,
        "start": start.isoformat(),
        "patient": {
            "height": f"{height} cm",
            "weight": f"{weight} kg",
            "bsa": f"{plan['patient']['bsa_m2']:.2f} m2",
            "measured": MEASURED.isoformat(),
            **({"gfr": "90 mL/min"} if extra else {}),
        },
        "lines": [
            {
                "drug": a["drug"],
                "dose": f"{a['dose']!r} {a['unit']}",
                "day": a["day"],
                "route": a["route"],
                **_given_as(a["infusion"]),
            }
            for a in mine
        ],
        # the hydration, alkalinisation and level monitoring the regimen requires
        "supportive_care": [{"kind": c["kind"], "for": c["for"]} for c in plan["supportive_care"]],
    }


def _given_as(infusion: dict | None) -> dict:
    """How the plan gives a dose, as an order's line states it (infusion: type, duration)."""
    if not infusion or not infusion["type"]:
        return {}
    hours = infusion["duration_h"]
    return {
        "infusion": {"type": infusion["type"], **({"duration": f"{hours!r} h"} if hours else {})}
    }


def inject(order: dict, defect: str, regimen_id: str) -> dict:
    order = json.loads(json.dumps(order))
    lines = order["lines"]
    first = lines[0]
    amount, unit = first["dose"].split()
    if defect == "dose +6 %":
        first["dose"] = f"{float(amount) * 1.06!r} {unit}"
    elif defect == "dose -6 %":
        first["dose"] = f"{float(amount) * 0.94!r} {unit}"
    elif defect == "missing line":
        lines.pop()
    elif defect == "extra drug":
        used = {o.drug for o in load_regimen(regimen_id).drugs}
        drug = next(d for d in EXTRAS if d not in used)
        lines.append({"drug": drug, "dose": "50 mg", "day": 1, "route": "IV"})
    elif defect == "wrong day":
        regimen = load_regimen(regimen_id)
        days = {d for o in regimen.drugs if o.drug == first["drug"] for d in o.days}
        first["day"] = next(d for d in range(2, regimen.cycle_length_days + 1) if d not in days)
    elif defect == "stale BSA":
        start = date.fromisoformat(order["start"])
        order["patient"]["measured"] = (start - timedelta(days=45)).isoformat()
    return order


@pytest.mark.parametrize("regimen_id", library_ids())
@pytest.mark.parametrize("defect", DEFECTS)
def test_each_single_defect_is_caught_with_its_code_and_nothing_else(
    cli, tmp_path: Path, regimen_id: str, defect: str
) -> None:
    order = clean_order(cli, regimen_id, 170.0, 68.0)
    code, clean = verify_json(cli, save(tmp_path, order, "clean.yaml"))
    assert all(ln["status"] == "ok" for ln in clean["lines"]) and clean["missing"] == []
    bad = inject(order, defect, regimen_id)
    code, data = verify_json(cli, save(tmp_path, bad, "bad.yaml"))
    new = codes(data) - codes(clean)
    expected = {EXPECTED_CODE[defect]}
    if defect == "dose +6 %" and regimen_id in ("anlotinib", "dia"):
        # anlotinib 12 mg and dia's cisplatin 120 mg/m² are their drugs' usual maximum single
        # doses (cisplatin: Le Chevalier 1994, issue 16): 6 % more is a true finding
        expected.add("DOSE_ABOVE_USUAL_MAXIMUM")
    if defect == "missing line" and any(
        o.supportive and o.required and o.drug == order["lines"][-1]["drug"]
        for o in load_regimen(regimen_id).drugs
    ):  # the last line is a supportive dose of a line still ordered (mesna, leucovorin)
        expected = {"ORDER_SUPPORTIVE_MISSING"}
    assert new == expected, (defect, data["warnings"])
    if EXPECTED_CODE[defect] in ("ORDER_DOSE_DEVIATION", "ORDER_LINE_UNEXPECTED"):
        assert code == 1 and data["verdict"] == "hold"
    else:
        assert data["verdict"] != "release"


@settings(max_examples=30, suppress_health_check=list(HealthCheck))
@given(regimen_id=st.sampled_from(library_ids()), body=adults(), cycle=st.integers(1, 3))
def test_orders_built_from_plans_verify_clean(cli, tmp_path_factory, regimen_id, body, cycle):
    """Every line of an order written from a plan is ok, nothing is missing, and whatever is
    flagged the plan of that cycle flags too (verify adds no finding of its own)."""
    height, weight = round(body[0], 1), round(body[1], 1)
    regimen = load_regimen(regimen_id)
    cycle = min(cycle, regimen.cycles)
    order = clean_order(cli, regimen_id, height, weight, cycle)
    path = save(tmp_path_factory.mktemp("o"), order)
    extra = ["--gfr", "90mL/min"] if regimen_id == "carboplatin-paclitaxel" else []
    code, data = verify_json(
        cli, path, "--height", f"{height}cm", "--weight", f"{weight}kg", *extra
    )
    assert [ln["status"] for ln in data["lines"]] == ["ok"] * len(order["lines"])
    assert data["missing"] == []
    _, out, _ = cli(
        "plan", regimen_id, "--height", f"{height}cm", "--weight", f"{weight}kg",
        "--start", order["start"], "--cycles", "1", "--format", "json", *extra,
    )  # fmt: skip
    planned = {w["code"] for w in json.loads(out)["warnings"] if w["severity"] != "info"}
    # an order written from a plan alone has no antiemetic line: on a highly emetogenic day
    # verify says so (the plan names the prophylaxis)
    allowed = planned | {"PRIOR_EXPOSURE_UNKNOWN", "ORDER_ANTIEMETIC_MISSING"}
    assert codes(data, "critical") | codes(data, "warning") <= allowed, data["warnings"]


# ---------------------------------------------------------------- tolerance, rounding, route


def test_rounding_to_whole_vials_outside_the_tolerance_is_ok_and_names_the_rule(
    cli, tmp_path: Path
) -> None:
    """Whole 50 mg vials: 166 mg rounds to 150 mg (-9.6 %, within HOPA's 10 %): outside verify's
    5 %, but it is the policy's rounding, so it is ok and says so; 200 mg is not."""
    policy = write(
        tmp_path,
        "policy.toml",
        '[rounding]\nmethod = "strengths"\nstrengths = { epirubicin = [50] }\n',
    )
    order = ec_order()
    order["lines"][0]["dose"] = "150 mg"
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT, "--policy", str(policy))
    [epi] = [ln for ln in data["lines"] if ln["drug"] == "epirubicin"]
    assert epi["status"] == "ok" and epi["deviation_percent"] < -5
    assert "whole units of 50 mg" in epi["rounding_rule"]
    assert "ORDER_DOSE_DEVIATION" not in codes(data)
    order["lines"][0]["dose"] = "200 mg"
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT, "--policy", str(policy))
    assert code == 1 and "ORDER_DOSE_DEVIATION" in codes(data)


@pytest.mark.parametrize(
    "factor, ok", [(1.05, True), (0.95, True), (1.0501, False), (0.9499, False)]
)
def test_the_tolerance_boundary_is_within(cli, tmp_path: Path, factor: float, ok: bool) -> None:
    expected = 90 * math.sqrt(175 * 70 / 3600)  # Mosteller 1987
    order = ec_order()
    order["lines"][0]["dose"] = f"{expected * factor!r} mg"
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    [epi] = [ln for ln in data["lines"] if ln["drug"] == "epirubicin"]
    assert epi["status"] == ("ok" if ok else "outside-tolerance"), epi["deviation_percent"]
    assert code == (0 if ok else 1)


def test_a_dose_band_is_ok_and_named(cli, tmp_path: Path) -> None:
    """NHS dose banding: the band dose the policy gives for the recomputed dose is ok."""
    path = save(tmp_path, ec_order())
    args = [*PATIENT, "--set", "rounding.method=bands"]
    _, out, _ = cli("plan", "ec", *args, "--start", START.isoformat(), "--format", "json")
    [epi] = [a for a in json.loads(out)["administrations"] if a["drug"] == "epirubicin"][:1]
    order = ec_order()
    order["lines"][0]["dose"] = f"{epi['dose']!r} mg"
    code, data = verify_json(cli, save(tmp_path, order), *args)
    [line] = [ln for ln in data["lines"] if ln["drug"] == "epirubicin"]
    assert line["status"] == "ok" and "NHS-rule band" in line["rounding_rule"]
    assert line["expected"] == pytest.approx(90 * 1.844662, rel=1e-5)  # before rounding
    assert verify_json(cli, path, *args)[1]["lines"][0]["status"] == "ok"


def test_tolerance_per_drug_and_for_children(cli, tmp_path: Path) -> None:
    order = ec_order()
    order["lines"][0]["dose"] = "175 mg"  # +5.4 %
    path = save(tmp_path, order)
    assert verify_json(cli, path, *PATIENT)[0] == 1
    policy = write(
        tmp_path, "p.toml", "[verify]\ntolerance_percent_by_drug = { epirubicin = 10 }\n"
    )
    code, data = verify_json(cli, path, *PATIENT, "--policy", str(policy))
    assert code == 0
    [epi] = [ln for ln in data["lines"] if ln["drug"] == "epirubicin"]
    assert epi["tolerance_percent"] == 10
    assert epi["tolerance_from"] == "verify.tolerance_percent_by_drug.epirubicin = 10"
    child = write(
        tmp_path,
        "c.toml",
        "[verify]\ntolerance_percent_by_drug = { epirubicin = 10 }\ntolerance_percent_child = 2\n",
    )
    code, data = verify_json(cli, path, *PATIENT, "--age", "15", "--policy", str(child))
    assert code == 1 and "a child" in data["lines"][0]["tolerance_from"]
    code, data = verify_json(cli, path, *PATIENT, "--policy", str(child))
    assert "VERIFY_AGE_UNKNOWN" in codes(data, "warning")


def test_route_bsa_version_and_cycle_checks(cli, tmp_path: Path) -> None:
    order = ec_order(regimen_version="2", cycle=5)
    order["lines"][0]["route"] = "PO"
    order["lines"][1]["route"] = "intravenous"  # the same route, written out
    order["patient"]["bsa"] = "2.0 m2"
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert code == 1
    assert {"ORDER_ROUTE_MISMATCH", "ORDER_BSA_MISMATCH"} <= codes(data, "critical")
    # a version the library does not hold, a cycle the regimen does not have: held
    assert {"ORDER_REGIMEN_VERSION_MISMATCH", "ORDER_CYCLE_UNKNOWN"} <= codes(data, "critical")
    [route] = [w for w in data["warnings"] if w["code"] == "ORDER_ROUTE_MISMATCH"]
    assert route["drug"] == "epirubicin"
    assert [ln["status"] for ln in data["lines"]] == ["wrong-route", "ok"]


def test_a_regimen_file_changed_since_the_order_was_written(cli, tmp_path: Path) -> None:
    code, data = verify_json(cli, save(tmp_path, ec_order()), *PATIENT)
    sha = data["regimen"]["sha256"]
    assert len(sha) == 64 and "ORDER_REGIMEN_VERSION_MISMATCH" not in codes(data)
    code, data = verify_json(cli, save(tmp_path, ec_order(regimen_sha256=sha)), *PATIENT)
    assert "ORDER_REGIMEN_VERSION_MISMATCH" not in codes(data)
    code, data = verify_json(cli, save(tmp_path, ec_order(regimen_sha256="0" * 64)), *PATIENT)
    [w] = [w for w in data["warnings"] if w["code"] == "ORDER_REGIMEN_VERSION_MISMATCH"]
    assert "changed since" in w["message"] and w["severity"] == "critical"
    assert "dosecalc regimens diff" in w["message"]


def test_without_current_measurements_the_output_says_only_arithmetic_was_checked(
    cli, tmp_path: Path
) -> None:
    path = save(tmp_path, ec_order())
    code, data = verify_json(cli, path)
    assert data["patient"]["measurements_from"] == "order"
    assert "ORDER_MEASUREMENTS_FROM_ORDER" in codes(data, "info")
    code, out, _ = cli("verify", str(path))
    assert "only the arithmetic and the protocol were checked" in out
    code, data = verify_json(cli, path, *PATIENT)
    assert data["patient"]["measurements_from"] == "command line"
    assert "ORDER_MEASUREMENTS_FROM_ORDER" not in codes(data)


def test_the_current_weight_against_the_orders_and_a_bsa_that_changed(cli, tmp_path: Path) -> None:
    path = save(tmp_path, ec_order())
    code, data = verify_json(cli, path, "--height", "175cm", "--weight", "80kg")
    assert "WEIGHT_CHANGED" in codes(data, "warning")  # 70 → 80 kg: +14 %
    assert "ORDER_BSA_MISMATCH" in codes(data, "critical")  # 1.84 vs 1.97 m²
    assert "ORDER_DOSE_DEVIATION" in codes(data, "critical")


def test_interval_since_the_last_cycle_in_the_history(cli, tmp_path: Path) -> None:
    early = START - timedelta(days=14)
    history = write(
        tmp_path,
        "h.csv",
        "date,drug,dose,unit,bsa_m2,regimen,cycle,day\n"
        f"{early},epirubicin,90,mg/m2,1.84,ec,1,1\n"
        f"{early},cyclophosphamide,600,mg/m2,1.84,ec,1,1\n",
    )
    code, data = verify_json(cli, save(tmp_path, ec_order()), *PATIENT, "--history", str(history))
    [w] = [w for w in data["warnings"] if w["code"] == "SHORT_INTERVAL"]
    assert "14 days after the last cycle recorded" in w["message"]
    [epi] = [t for t in data["cumulative"] if t["drug"] == "epirubicin"]
    assert epi["prior"] == 90
    assert "PRIOR_EXPOSURE_UNKNOWN" not in codes(data)
    on_time = write(
        tmp_path,
        "h2.csv",
        f"date,drug,dose,unit,bsa_m2,regimen,cycle,day\n{START - timedelta(days=21)},"
        "epirubicin,90,mg/m2,1.84,ec,1,1\n",
    )
    code, data = verify_json(cli, save(tmp_path, ec_order()), *PATIENT, "--history", str(on_time))
    assert "SHORT_INTERVAL" not in codes(data)


def test_the_order_patient_must_be_the_ledger_patient(cli, tmp_path: Path, sqlite_url) -> None:
    order = ec_order()
    order["patient"]["id"] = "MRN1"
    code, _, err = cli(
        "verify", str(save(tmp_path, order)), *PATIENT, "--patient", "MRN2", "--db", sqlite_url
    )
    assert code == 2 and "the order is for patient MRN1, not --patient MRN2" in err


def test_the_order_patient_must_be_the_history_patient(cli, tmp_path: Path) -> None:
    """An order for MRN123 with a --history whose patient column says P001: the other
    patient's epirubicin was counted without a word. Refused as --patient P001 is."""
    order = ec_order()
    order["patient"]["id"] = "MRN123"
    other = write(
        tmp_path,
        "other.csv",
        "patient,date,drug,dose,unit,bsa_m2,regimen,cycle,day\n"
        f"P001,{START - timedelta(days=21)},epirubicin,90,mg/m2,1.84,ec,1,1\n",
    )
    code, out, err = cli("verify", str(save(tmp_path, order)), *PATIENT, "--history", str(other))
    said = " ".join(err.split())
    assert code == 2 and out == ""
    assert "order.yaml:" in said
    assert "patient.id: the order is for patient MRN123, not patient P001 of --history" in said
    assert "other.csv:2" in said
    # the same patient's history, or one without a patient column: read
    mine = write(tmp_path, "mine.csv", other.read_text().replace("P001", "MRN123"))
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT, "--history", str(mine))
    [epi] = [t for t in data["cumulative"] if t["drug"] == "epirubicin"]
    assert epi["prior_source"] == "history" and epi["prior"] == pytest.approx(90)


# ---------------------------------------------------------------- malformed orders


def test_a_malformed_order_is_refused_with_every_problem_and_its_line(cli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        "regimen: ec\n"
        "cycle: 0\n"
        "start: 2026-13-01\n"
        "patient:\n"
        "  height: 1.75\n"
        "lines:\n"
        "  - drug: epirubicn\n"
        "    dose: 166\n"
        "    day: 1\n"
        "  - drug: cyclophosphamide\n"
        "    dose: 600 mg/m2\n"
        "    day: 1\n"
        "colour: red\n",
    )
    code, out, err = cli("verify", str(path), *PATIENT)
    assert code == 2 and out == ""
    assert f"{path}:2: cycle: input should be greater than or equal to 1" in err
    assert f"{path}:3: start: '2026-13-01' is not a date: there is no month 13" in err
    assert f"{path}:5: patient.height: 1.75 cm is not a plausible height" in err
    assert f"{path}:7: lines[0].drug: 'epirubicn' is not a drug dosecalc knows" in err
    assert f"{path}:8: lines[0].dose: 166 has no unit" in err
    assert f"{path}:11: lines[1].dose: '600 mg/m2' is a mass per m², not a mass" in err
    assert f"{path}:13: colour: unknown key 'colour'" in err
    assert err.startswith("Error: 7 problems:")


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the file is empty"),
        ("- a\n- b\n", "the file is a list, not a mapping of keys"),
        ("id: x\ncycle_length_days: 21\ndrugs: []\n", "this is a regimen file, not an order"),
        (
            "regimen: ec\ncycle: 1\nstart: 2026-12-01\nlines: []\n",
            "lines: needs at least 1 item; the file gives 0",
        ),
    ],
)
def test_not_an_order(cli, tmp_path: Path, text: str, message: str) -> None:
    code, _, err = cli("verify", str(write(tmp_path, "o.yaml", text)), *PATIENT)
    assert code == 2 and message in err


def test_measurements_dated_after_today_are_refused(cli, tmp_path: Path) -> None:
    order = ec_order()
    order["patient"]["measured"] = (TODAY + timedelta(days=1)).isoformat()
    code, out, err = cli("verify", str(save(tmp_path, order)), *PATIENT)
    assert code == 2 and out == "" and "patient.measured: the measurements are dated" in err


def test_a_course_is_not_an_order_regimen(cli, tmp_path: Path) -> None:
    order = ec_order(regimen=str(Path("examples/chen-2023-pelvic-osteosarcoma.yaml").resolve()))
    code, _, err = cli("verify", str(save(tmp_path, order)), *PATIENT)
    assert code == 2 and "is a course; an order is for one cycle of one regimen" in err


# ---------------------------------------------------------------- FHIR


def test_a_plan_exported_as_fhir_comes_back_and_verifies_clean(cli, tmp_path: Path) -> None:
    first = START - timedelta(days=21)
    code, out, _ = cli("plan", "ec", *PATIENT, "--start", first.isoformat(), "--format", "fhir")
    bundle = write(tmp_path, "plan.json", out)
    code, _, err = cli("verify", str(bundle), *PATIENT)
    assert code == 2 and "give --cycle N" in err
    for cycle in (1, 2, 3, 4):
        code, data = verify_json(cli, bundle, *PATIENT, "--cycle", str(cycle))
        assert code == 0, data["warnings"]
        assert [ln["status"] for ln in data["lines"]] == ["ok", "ok"] and data["missing"] == []
        assert data["regimen"]["cycle"] == cycle
        assert abs(data["lines"][0]["deviation_percent"]) < 1e-4
        assert data["order_file"]["format"] == "fhir"
        # issue 30: no ANC/platelet count before a gated cycle, and no kidney function for a
        # drug dosed by it (cyclophosphamide, CrCl < 10: 75 %), are warnings (were notices)
        assert {w["code"] for w in data["warnings"] if w["severity"] != "info"} <= {
            "REGIMEN_UNVERIFIED",
            "PRIOR_EXPOSURE_UNKNOWN",
            "LIFETIME_EXPOSURE_UNKNOWN",  # no history, ledger or --prior: said, never zero
            "LAB_GATE_NOT_CHECKED",
            "ORGAN_FUNCTION_NOT_CHECKED",
            "ORDER_ANTIEMETIC_MISSING",  # EC is highly emetogenic; a plan has no antiemetic line
        }
        assert any("6 requests of other cycles" in w["message"] for w in data["warnings"])


@pytest.mark.parametrize(
    ("written", "above"),
    [("221 mg", False), ("221.36 mg", False), ("221.4 mg", False), ("0.22136 g", False),
     ("222 mg", True), ("221.5 mg", True)],
)  # fmt: skip
def test_a_dose_at_the_maximum_rounded_as_written_is_not_above_it(
    cli, tmp_path: Path, written: str, above: bool
) -> None:
    """DIA's cisplatin is the usual maximum, 120 mg/m² × 1.8447 m² = 221.359 mg: 221.36 mg is
    that dose written to 0.01 mg, and was held as "120 mg/m², above the usual maximum of 120
    mg/m2"; 222 mg is above it whatever it was rounded from."""
    order = {"regimen": "dia", "cycle": 1, "start": START.isoformat(),
             "lines": [{"drug": "cisplatin", "dose": written, "day": 1, "route": "IV"}]}  # fmt: skip
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    found = [w for w in data["warnings"] if w["code"] == "DOSE_ABOVE_USUAL_MAXIMUM"]
    assert bool(found) == above, found


def test_a_bundle_planned_from_a_regimen_file_verifies_with_that_file(cli, tmp_path: Path) -> None:
    """--regimen FILE picks the bundle's cycles by the file's id, which the requests carry (it
    was compared with the path: "the bundle holds no cycle that matches")."""
    mine = tmp_path / "our-ec.yaml"
    mine.write_text(
        (Path(__file__).parents[1] / "regimens" / "ec.yaml")
        .read_text()
        .replace("id: ec\n", "id: our-ec\n")
    )
    first = START - timedelta(days=21)
    code, out, err = cli(
        "plan", str(mine), *PATIENT, "--start", first.isoformat(), "--format", "fhir"
    )
    assert code in (0, 1), err
    bundle = write(tmp_path, "plan.json", out)
    code, data = verify_json(cli, bundle, *PATIENT, "--regimen", str(mine), "--cycle", "2")
    assert data["regimen"]["id"] == "our-ec" and data["regimen"]["cycle"] == 2
    assert [ln["status"] for ln in data["lines"]] == ["ok", "ok"] and data["missing"] == []
    code, _, err = cli("verify", str(bundle), *PATIENT, "--regimen", "ec", "--cycle", "2")
    assert code == 2 and "no cycle that matches (our-ec cycle 1" in err


def test_an_exported_bundle_s_measurements_are_undated_and_said_to_be(cli, tmp_path: Path) -> None:
    """plan --format fhir is not told when height and weight were measured, so its Observations
    carry no date; verify reads them as undated (never as measured on the plan's start, which
    would pass the stale-measurement check), says so, and still verifies the doses."""
    first = TODAY - timedelta(days=200)  # a plan that began long ago: its start is no measurement
    code, out, _ = cli("plan", "ec", *PATIENT, "--start", first.isoformat(), "--format", "fhir")
    bundle = write(tmp_path, "plan.json", out)
    code, data = verify_json(cli, bundle, "--cycle", "4")  # the order's own measurements
    assert data["patient"]["measurements_from"] == "order" and data["patient"]["measured"] is None
    assert "MEASUREMENT_UNDATED" in codes(data, "warning") and "MEASUREMENT_STALE" not in codes(
        data
    )
    [undated] = [w for w in data["warnings"] if w["code"] == "MEASUREMENT_UNDATED"]
    assert "its Observations carry no effectiveDateTime" in undated["message"]
    assert [ln["status"] for ln in data["lines"]] == ["ok", "ok"]
    code, out, _ = cli("verify", str(bundle), "--cycle", "4")
    said = " ".join(out.split())  # as wrapped at the width
    assert "the order: BSA 1.84 m², measured: not stated" in said and str(first) not in said
    code, data = verify_json(cli, bundle, *PATIENT, "--cycle", "4")  # current measurements given
    assert "MEASUREMENT_UNDATED" not in codes(data) and data["patient"]["measured"] is None


def _ehr_bundle(**dosage_extra: object) -> dict:
    """A bundle as an EHR might send it: a Medication referenced by the request, coded routes,
    an 'ordered' and a 'calculated' dose, a bounds period instead of events."""

    def request(i: int, med: str, value: float, **extra: object) -> dict:
        dosage = {
            "timing": {"repeat": {"boundsPeriod": {"start": START.isoformat()}}},
            "route": {"coding": [{"system": "http://snomed.info/sct", "code": "47625008"}]},
            "doseAndRate": [
                {
                    "type": {"coding": [{"code": "calculated"}]},
                    "doseQuantity": {"value": value + 1, "unit": "mg"},
                },
                {
                    "type": {"coding": [{"code": "ordered"}]},
                    "doseQuantity": {
                        "value": value,
                        "unit": "milligram",
                        "system": "http://unitsofmeasure.org",
                        "code": "mg",
                    },
                },
            ],
            **extra,
        }
        return {
            "fullUrl": f"urn:uuid:00000000-0000-0000-0000-00000000000{i}",
            "resource": {
                "resourceType": "MedicationRequest",
                "id": f"mr{i}",
                "status": "active",
                "intent": "order",
                "medicationReference": {"reference": med},
                "subject": {"reference": "Patient/p1"},
                "requester": {"display": "Dr B. Example"},
                "dosageInstruction": [dosage],
            },
        }

    def medication(mid: str, display: str) -> dict:
        return {
            "fullUrl": f"urn:uuid:{mid}",
            "resource": {
                "resourceType": "Medication",
                "id": mid,
                "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                     "code": "1", "display": display}]},
            },
        }  # fmt: skip

    weight = {
        "fullUrl": "urn:uuid:w",
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "effectiveDateTime": MEASURED.isoformat(),
            "valueQuantity": {"value": 70, "unit": "kg"},
        },
    }
    height = json.loads(json.dumps(weight))
    height["fullUrl"] = "urn:uuid:h"  # its own: one fullUrl twice is refused (FHIR bdl-7)
    height["resource"]["code"]["coding"][0]["code"] = "8302-2"
    height["resource"]["valueQuantity"] = {"value": 175, "unit": "cm"}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "identifier": {"value": "EHR-ORDER-9"},
        "entry": [
            medication("m1", "Epirubicin Hydrochloride"),
            medication("m2", "cyclophosphamide"),
            request(1, "Medication/m1", 166, **dosage_extra),
            request(2, "Medication/m2", 1107),
            weight,
            height,
            {"resource": {"resourceType": "Patient", "id": "p1", "gender": "female"}},
        ],
    }


def test_an_ehr_bundle_is_read_and_what_is_not_checked_is_said(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "ehr.json", json.dumps(_ehr_bundle()))
    code, _, err = cli("verify", str(path), *PATIENT)
    assert code == 2 and "give --regimen" in err
    code, data = verify_json(cli, path, *PATIENT, "--regimen", "ec", "--cycle", "2")
    assert code == 0, data["warnings"]
    assert data["order"] == "EHR-ORDER-9" and data["prescriber"] == "Dr B. Example"
    assert [(ln["drug"], ln["ordered"], ln["route"], ln["status"]) for ln in data["lines"]] == [
        ("epirubicin", 166, "IV", "ok"),
        ("cyclophosphamide", 1107, "IV", "ok"),
    ]
    assert data["patient"]["sex"] == "female"
    assert "ORDER_START_ASSUMED" in codes(data, "warning")  # no day numbers: the first date
    code, data = verify_json(
        cli, path, *PATIENT, "--regimen", "ec", "--cycle", "2", "--start", START.isoformat()
    )
    assert "ORDER_START_ASSUMED" not in codes(data)
    rate = _ehr_bundle(patientInstruction="take with water")
    rate["entry"][2]["resource"]["dosageInstruction"][0]["doseAndRate"][1]["rateQuantity"] = {
        "value": 100,
        "unit": "mL/h",
    }
    path = write(tmp_path, "rate.json", json.dumps(rate))
    code, data = verify_json(cli, path, *PATIENT, "--regimen", "ec", "--cycle", "2")
    said = " ".join(
        w["message"] for w in data["warnings"] if w["code"] == "ORDER_FIELD_NOT_CHECKED"
    )
    assert "infusion rate" in said and "patient instructions" in said


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda b: b["entry"][2]["resource"]["dosageInstruction"][0].update(
                doseAndRate=[{"doseRange": {"low": {"value": 1, "unit": "mg"}}}]
            ),
            "the dose is a range (doseRange)",
        ),
        (
            lambda b: b["entry"][2]["resource"]["dosageInstruction"][0]["timing"]["repeat"].update(
                frequency=2, period=1, periodUnit="d"
            ),
            "a repeating timing (timing.repeat) is not read",
        ),
        (
            lambda b: b["entry"][2]["resource"]["dosageInstruction"][0]["doseAndRate"][1][
                "doseQuantity"
            ].update(value="abc"),
            "resource.dosageInstruction[0].doseAndRate[1].doseQuantity.value is a string; a JSON "
            "number is due",
        ),
        (
            lambda b: b["entry"][2]["resource"]["dosageInstruction"][0]["doseAndRate"][1][
                "doseQuantity"
            ].update(value="90.2"),
            "doseQuantity.value is a string; a JSON number is due",
        ),
        (
            lambda b: b["entry"][2]["resource"]["dosageInstruction"][0]["doseAndRate"][1][
                "doseQuantity"
            ].update(unit="mg", system="http://unitsofmeasure.org", code="g"),
            "doseQuantity.unit 'mg' is not the unit its UCUM code 'g' says",
        ),
        (
            lambda b: b["entry"][0]["resource"]["code"].update(text="doxorubicin"),
            "names more than one drug",
        ),
        (
            lambda b: b["entry"][0]["resource"]["code"]["coding"][0].update(display="Zzyzx"),
            "code names no drug dosecalc knows ('Zzyzx'",
        ),
        (lambda b: b.update(resourceType="Parameters"), "a JSON order is a FHIR R4 Bundle"),
        (  # the outside check: text IV, coded intrathecal, was read as IV without a word
            lambda b: b["entry"][2]["resource"]["dosageInstruction"][0].update(
                route={
                    "text": "IV",
                    "coding": [
                        {
                            "system": "http://snomed.info/sct",
                            "code": "35223008",
                            "display": "Intrathecal route",
                        }
                    ],
                }
            ),  # fmt: skip
            "route names more than one route (text 'IV' is IV; coding[0].display 'Intrathecal "
            "route' is IT): which is meant?",
        ),
        (  # the SNOMED code is IV, the text intrathecal: the code won silently
            lambda b: b["entry"][2]["resource"]["dosageInstruction"][0]["route"].update(
                text="intrathecal"
            ),
            "route names more than one route (text 'intrathecal' is IT; coding[0].code 47625008 "
            "is IV)",
        ),
        (  # a text naming two routes was read as its IV (coded IV): intrathecal hidden
            lambda b: b["entry"][2]["resource"]["dosageInstruction"][0]["route"].update(
                text="IV/IT"
            ),
            "route names more than one route (text 'IV/IT' is IT; text 'IV/IT' is IV)",
        ),
    ],
    ids=[
        "range",
        "repeat",
        "bad-value",
        "number-as-text",
        "unit-not-its-code",
        "text-and-coding-disagree",
        "unknown-drug",
        "not-a-bundle",
        "route-text-iv-coded-intrathecal",
        "route-code-iv-text-intrathecal",
        "route-text-iv-and-it",
    ],
)
def test_what_a_bundle_cannot_say_is_refused_naming_the_entry(
    cli, tmp_path: Path, change, message: str
) -> None:
    bundle = _ehr_bundle()
    change(bundle)
    path = write(tmp_path, "b.json", json.dumps(bundle))
    code, out, err = cli("verify", str(path), *PATIENT, "--regimen", "ec", "--cycle", "2")
    assert code == 2 and out == "" and message in err, err


# ---------------------------------------------------------------- what a person sees


def test_the_verdict_view_fits_80_columns(tmp_path: Path) -> None:
    from dosecalc.clinical import patient as pt
    from dosecalc.clinical.verify import verify
    from dosecalc.inputs import order as od
    from dosecalc.inputs import policy as pol
    from dosecalc.outputs import render
    from dosecalc.outputs.verifyview import view

    order = ec_order()
    order["lines"][0]["dose"] = "189 mg"
    order["lines"].append({"drug": "fluorouracil", "dose": "500 mg", "day": 1, "route": "IV"})
    order["lines"].pop(1)
    rules = pol.load()
    person = pt.build_patient("175cm", "70kg", policy=rules)
    result = verify(
        od.read(save(tmp_path, order)),
        load_regimen("ec"),
        person,
        rules,
        patient_from="command line",
        order_bsa_m2=1.84,
    )
    text = render.to_text(view(result), width=80)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    first = text.splitlines()[0]
    # the deviation, the line not in the regimen and the line missing (critical: only the
    # pharmacist may let an order leave a dose out)
    assert first.strip().startswith("HOLD") and "3 critical" in first
    table = text[text.index("Day   Drug") :]
    assert "OUTSIDE ±5%" in table and "NOT IN REGIMEN" in table and "MISSING" in table
    reasons = text[text.index("Reasons") :]
    assert reasons.index("CRITICAL") < reasons.index("WARNING")
    assert reasons.rindex("CRITICAL") < reasons.index("WARNING")


# ---------------------------------------------------------------- the record of a check


def test_recorded_checks_are_in_the_chain_and_the_second_person_makes_the_double_check(
    run, tmp_path: Path, ledger_url: str
) -> None:
    from tests.conftest import sql

    order = ec_order()
    order["patient"]["id"] = "MRN7"
    path = save(tmp_path, order)
    base = ["verify", str(path), *PATIENT, "--patient", "MRN7", "--db", ledger_url, "--record"]
    p = run(*base, "--by", "A. Pharmacist", "--format", "json")
    assert p.returncode == 0, p.stderr
    first = json.loads(p.stdout)
    jsonschema.validate(first, VERIFY_SCHEMA)
    assert first["recorded"]["check"] == 1 and first["recorded"]["independent"] is False
    assert "PATIENT_NOT_IN_LEDGER" in codes(first, "warning")  # a first cycle: no doses yet
    p = run(*base, "--by", "A. Pharmacist")  # the same person again: not independent
    assert "not an independent double" in p.stdout and "re-check" in p.stdout
    # another name typed at the same account is a re-check too, never the independent check
    p = run(*base, "--by", "B. Pharmacist", "--format", "json")
    again = json.loads(p.stdout)["recorded"]
    assert (again["kind"], again["independent"]) == ("re-check", False)
    # another person: a name no earlier check bears, at another account
    other = {"USER": "cpharm", "LOGNAME": "cpharm", "LNAME": "cpharm", "USERNAME": "cpharm"}
    p = run(*base, "--by", "C. Pharmacist", "--format", "json", env=other)
    second = json.loads(p.stdout)["recorded"]
    assert second["independent"] is True and second["double_check_of"] == first["recorded"]["seq"]
    # verifying records no dose, and the ledger still verifies
    p = run("ledger", "verify", "--db", ledger_url, "--format", "json")
    report = json.loads(p.stdout)
    assert p.returncode == 0 and report["ok"], report["problems"]
    assert report["checks"] == 4 and report["doses"] == 0
    p = run("ledger", "verify", "--db", ledger_url)
    assert "4 checked orders" in p.stdout
    # the checks sit beside the doses of the patient
    run("ledger", "record", "--patient", "MRN7", "--date", MEASURED.isoformat(), "--drug", "EPI",
        "--dose", "90mg/m2", "--bsa", "1.84", "--db", ledger_url)  # fmt: skip
    p = run("ledger", "list", "--patient", "MRN7", "--db", ledger_url, "--format", "json")
    kinds = [r["kind"] for r in json.loads(p.stdout)["records"]]
    assert kinds == ["check", "check", "check", "check", "dose"]
    p = run("ledger", "list", "--patient", "MRN7", "--db", ledger_url)
    assert "verified order" in p.stdout and "independent" in p.stdout
    p = run("ledger", "export", "--patient", "MRN7", "--db", ledger_url)
    assert p.stdout.count("\n") == 2  # the header and the one dose: a check is no dose
    p = run("ledger", "void", "1", "--patient", "MRN7", "--reason", "x", "--db", ledger_url)
    assert p.returncode == 2 and "is an order's check, not a dose" in p.stderr
    # the check is covered by the chain: an edited verdict shows
    sql(ledger_url, "UPDATE dosecalc_records SET reason = 'release' WHERE seq = 1")
    p = run("ledger", "verify", "--db", ledger_url)
    assert p.returncode == 1 and "record #1 was changed after it was recorded" in p.stdout


def test_a_recorded_hold_names_the_lines_and_the_order(run, tmp_path: Path, sqlite_url) -> None:
    order = ec_order()
    order["lines"][0]["dose"] = "189 mg"
    path = save(tmp_path, order)
    p = run("verify", str(path), *PATIENT, "--patient", "MRN8", "--db", sqlite_url, "--record")
    assert p.returncode == 1 and "recorded as #1" in p.stdout
    p = run("ledger", "export", "--format", "json", "--db", sqlite_url)
    [r] = json.loads(p.stdout)["records"]
    assert r["kind"] == "check" and r["reason"] == "hold" and r["cycle"] == 2
    assert len(r["source_sha256"]) == 64 and r["regimen"] == "ec"
    note = json.loads(r["note"])
    assert note["verdict"] == "hold" and note["order"] == "P123-C2"
    assert note["critical"] == ["ORDER_DOSE_DEVIATION"]
    assert "day 1 epirubicin 189 mg / 166 mg +13.8 % outside-tolerance" in note["lines"]


def test_record_needs_a_patient_and_by_needs_record(cli, tmp_path: Path) -> None:
    path = save(tmp_path, ec_order())
    code, _, err = cli("verify", str(path), *PATIENT, "--record")
    assert code == 2 and "give --patient ID" in err
    code, _, err = cli("verify", str(path), *PATIENT, "--by", "me")
    assert code == 2 and "give --record or --acknowledge too" in err
    code, _, err = cli("verify", str(path), *PATIENT, "--acknowledge", "ORDER_LINE_MISSING=x")
    assert code == 2 and "give --by NAME" in err


# ---------------------------------------------------------------- labs and organ function


def test_lab_gates_and_organ_function_come_from_the_plan_engine(cli, tmp_path: Path) -> None:
    """The regimen's gates are checked against the order's cycle (numbered as such), and an
    organ-function band is expected with --adjust-organ (flagged without it)."""
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    taken = f"@{TODAY.isoformat()}"
    path = save(tmp_path, ec_order(start=tomorrow))
    code, data = verify_json(cli, path, *PATIENT, "--lab", f"anc=1.0x10^9/L{taken}",
                             "--lab", f"platelets=150x10^9/L{taken}")  # fmt: skip
    assert code == 1
    [gate] = [w for w in data["warnings"] if w["code"] == "LAB_GATE_FAILED"]
    assert gate["cycle"] == 2 and "ec cycle 2: anc" in gate["message"]
    order = ec_order(start=tomorrow)
    order["lines"][0]["dose"] = "83 mg"  # half of 166 mg: the band for bilirubin 1.2-3 mg/dL
    path = save(tmp_path, order)
    liver = ["--lab", f"bilirubin=2mg/dL{taken}", "--lab", f"ast=30U/L{taken}"]
    code, data = verify_json(cli, path, *PATIENT, *liver)
    assert {"ORGAN_FUNCTION_ADJUSTMENT", "ORDER_DOSE_DEVIATION"} <= codes(data, "critical")
    code, data = verify_json(cli, path, *PATIENT, *liver, "--adjust-organ")
    [epi] = [ln for ln in data["lines"] if ln["drug"] == "epirubicin"]
    half = 0.5 * 90 * math.sqrt(175 * 70 / 3600)  # the band: half the dose (Mosteller BSA)
    assert epi["status"] == "ok" and epi["expected"] == pytest.approx(half, rel=1e-6)
    assert "ORDER_DOSE_DEVIATION" not in codes(data)


@pytest.mark.parametrize(
    ("dose", "said"), [("166 mg/day", "'166 mg/day' is not a mass (the order gives"),
                       ("166 mL", "'166 mL' is not a mass;"),
                       ("90 mg/m2", "'90 mg/m2' is a mass per m², not a mass")]
)  # fmt: skip
def test_a_dose_in_a_unit_that_is_no_mass_is_refused_in_plain_words(
    cli, tmp_path: Path, dose: str, said: str
) -> None:
    lines = [{"drug": "epirubicin", "dose": dose, "day": 1, "route": "IV"},
             {"drug": "cyclophosphamide", "dose": "1107 mg", "day": 1, "route": "IV"}]  # fmt: skip
    code, _, err = cli("verify", str(save(tmp_path, ec_order(lines=lines))), *PATIENT)
    assert code == 2 and said in err and "is, not" not in err, err


@pytest.mark.parametrize("text", ["none", "N/A", "No hydration", "not given."])
def test_a_supportive_item_whose_text_says_nothing_is_ordered_is_refused(
    cli, tmp_path: Path, text: str
) -> None:
    """An order stating cisplatin's hydration as `text: none` counted as hydration stated
    (release): the item now is refused, naming its line, as what it says it is."""
    order = _order_of(
        "ddp-epi",
        {"cisplatin": "258 mg", "epirubicin": "92 mg", "ondansetron": "8 mg"},
        supportive_care=[{"kind": "hydration", "for": "cisplatin", "text": text}],
    )
    code, out, err = cli("verify", str(save(tmp_path, order)), *PATIENT, "--format", "json")
    assert code == 2 and out == "", out
    assert f"text {text!r} says no hydration is ordered" in err and "Traceback" not in err
    assert "order.yaml:" in err, err


def test_an_order_cannot_bring_its_own_copy_of_a_library_regimen(cli, tmp_path: Path) -> None:
    """An order naming `regimen: ec.yaml`, a copy of the library's EC (same id, name, version)
    with epirubicin 120 mg/m² for 90, was released at 221 mg: only the file's SHA-256 differed."""
    text = (ROOT / "regimens" / "ec.yaml").read_text(encoding="utf-8")
    assert "dose: 90 mg/m2" in text
    write(tmp_path, "ec.yaml", text.replace("dose: 90 mg/m2", "dose: 120 mg/m2", 1))
    order = ec_order()
    order["regimen"] = "ec.yaml"
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert code == 1 and data["verdict"] == "hold"
    [w] = [w for w in data["warnings"] if w["code"] == "ORDER_REGIMEN_VERSION_MISMATCH"]
    assert "that is not the library's ec" in w["message"] and w["severity"] == "critical"
    # the library's own file, named by its path, is the library's regimen
    order["regimen"] = str(ROOT / "regimens" / "ec.yaml")
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert "ORDER_REGIMEN_VERSION_MISMATCH" not in {w["code"] for w in data["warnings"]}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("hydration omitted (fluid restriction)", "omitted"),
        ("0 mL", "0 ml"),
        ("TBD", "tbd"),
        ("nothing", "nothing"),
        ("see note", "see note"),
        ("no hydration (fluid restricted)", "no hydration"),
        ("NaCl 0.9 % 0 L", "0 l"),
        ("withheld today", "withheld"),
    ],
)
def test_a_supportive_text_that_withholds_or_defers_is_refused(
    cli, tmp_path: Path, text: str, why: str
) -> None:
    """The outside check: 'hydration omitted (fluid restriction)', '0 mL', 'TBD', 'nothing',
    'see note' counted as hydration stated (only a short list of whole texts was refused)."""
    order = _order_of(
        "ddp-epi",
        {"cisplatin": "258 mg", "epirubicin": "92 mg", "ondansetron": "8 mg"},
        supportive_care=[{"kind": "hydration", "for": "cisplatin", "text": text}],
    )
    code, out, err = cli("verify", str(save(tmp_path, order)), *PATIENT, "--format", "json")
    said = " ".join(err.split())
    assert code == 2 and out == "", out
    assert f"text {text!r} says no hydration is ordered ({why!r})" in said, err


@pytest.mark.parametrize(
    "text",
    [
        "1 L NaCl 0.9 % over 2 h, no potassium",
        "10 mL/kg NaCl 0.9 % before, 0.5 L after",
        "appropriate pre-treatment hydration; maintain hydration and urine output for 24 h",
        "2 L/m2/day",
    ],
)
def test_a_supportive_text_that_states_what_is_given_is_read(
    cli, tmp_path: Path, text: str
) -> None:
    order = _order_of(
        "ddp-epi",
        {"cisplatin": "258 mg", "epirubicin": "92 mg", "ondansetron": "8 mg"},
        supportive_care=[{"kind": "hydration", "for": "cisplatin", "text": text}],
    )
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert not [
        w for w in data["warnings"]
        if w["code"] == "ORDER_SUPPORTIVE_MISSING" and w["drug"] == "cisplatin"
    ]  # fmt: skip


@pytest.mark.parametrize("height", [150, 163, 170, 175, 188, 201])
@pytest.mark.parametrize("prior", [810, 910])
def test_verify_of_plans_own_bundle_reaches_the_ceilings_the_plan_does(
    run, tmp_path: Path, height: int, prior: int
) -> None:
    """The bundle wrote each dose to 6 decimals: verify of EC's own bundle at 170 cm with 910
    mg/m² before totalled 1,000.0000002 and held it for a limit the plan's 1,000 did not exceed
    (and at 175 cm with 810 lost the threshold the plan reached). Its doses are written whole."""
    who = ["--height", f"{height}cm", "--weight", "70kg", "--prior", f"epirubicin={prior}mg/m2"]
    bundle = tmp_path / "ec.json"
    run("plan", "ec", *who[:4], "--start", "2026-12-08", "--format", "fhir", "-o", str(bundle))
    plan = json.loads(
        run("plan", "ec", *who, "--start", "2026-12-08", "--cycles", "1", "--format", "json").stdout
    )
    checked = json.loads(
        run("verify", str(bundle), "--cycle", "1", *who, "--format", "json").stdout
    )

    def ceilings(data: dict) -> tuple:
        total = next(c["total"] for c in data["cumulative"] if c["drug"] == "epirubicin")
        codes = sorted(w["code"] for w in data["warnings"] if w["code"].startswith("CUMULATIVE_"))
        return total, codes

    assert ceilings(checked) == ceilings(plan)
    assert ceilings(plan)[0] == prior + 90


@pytest.mark.parametrize(
    ("dose", "shown", "word"), [("157.7", "-5.01%", "OUTSIDE"), ("174.3", "+4.99%", "ok")]
)
def test_a_deviation_next_to_the_tolerance_never_prints_as_it(
    run, tmp_path: Path, dose, shown, word
) -> None:
    """157.7 mg for 166 (-5.011 %) printed '-5.0%  OUTSIDE ±5%' and held; 174.3 (+4.988 %)
    printed '+5.0%  ok': the same figure on both sides of the verdict."""
    text = (ROOT / "examples" / "order-ec-cycle2.yaml").read_text(encoding="utf-8")
    assert "    dose: 166 mg\n" in text
    order = write(tmp_path, "o.yaml", text.replace("    dose: 166 mg\n", f"    dose: {dose} mg\n"))
    out = run("verify", str(order), *PATIENT, "--prior", "epirubicin=90mg/m2").stdout
    row = next(line for line in out.splitlines() if "epiRUBicin" in line and "mg" in line)
    assert shown in row and word in row, row
    if word == "OUTSIDE":
        assert f"is {shown[:-1]} % from the 166 mg recomputed" in " ".join(out.split())


def test_lifetime_totals_wrap_under_their_line_at_80_columns(run) -> None:
    """At 80 columns 'threshold' of the doxorubicin-equivalent line wrapped to column 0, read as
    an item of its own."""
    order = str(ROOT / "examples" / "order-ec-cycle2.yaml")
    out = run("verify", order, *PATIENT, "--prior", "epirubicin=90mg/m2", env={"COLUMNS": "80"})
    block = out.stdout.split("Lifetime totals with this order\n", 1)[1].split("\n\n", 1)[0]
    lines = block.splitlines()
    assert len(lines) == 3 and all(len(x) <= 80 for x in lines), block
    assert lines[2].startswith("    ") and lines[2].strip() == "threshold", block


def test_an_order_lines_route_is_read_as_a_regimens(run, tmp_path: Path) -> None:
    """A regimen's route is one route exactly; an order's 'IV/IT' for vincristine was read as
    written and held only as a route mismatch, 'give IV' compared as text."""
    order = write(
        tmp_path,
        "o.yaml",
        "regimen: r-chop-21\ncycle: 1\nstart: 2026-12-08\n"
        "patient: {height: 175 cm, weight: 70 kg}\nlines:\n"
        "  - {drug: vincristine, dose: 2 mg, day: 1, route: IV/IT}\n"
        "  - {drug: doxorubicin, dose: 92 mg, day: 1, route: give IV}\n",
    )
    p = run("verify", str(order))
    assert p.returncode == 2, p.stdout
    assert "o.yaml:6: lines[0].route: route 'IV/IT' names more than one route" in p.stderr
    assert "o.yaml:7: lines[1].route: route 'give IV' is not a route dosecalc knows" in p.stderr


# ---------------------------------------------------------------- a route the label does not give


EPI_IT = (
    "id: epi-it\nname: epirubicin intrathecal\ncycle_length_days: 21\nsources: [x]\n"
    "drugs:\n  - {drug: epirubicin, dose: 10 mg, days: 1, route: IT}\n"
)


def test_an_order_giving_epirubicin_intrathecally_is_held_for_the_pharmacist(
    cli, tmp_path: Path
) -> None:
    """An order of epirubicin IT, matching a regimen file that gives it IT, was released with
    notes (exit 0): no rule knew which routes a drug's label gives, only the vinca alkaloids'.
    It is held (ROUTE_INTRATHECAL_NOT_LABELLED, critical); the order's own acknowledgement does
    not release it, the verifying pharmacist's does. The same line written as a FHIR bundle
    (plan --format fhir, read back) is held the same way."""
    write(tmp_path, "epi-it.yaml", EPI_IT)
    order = {"regimen": str(tmp_path / "epi-it.yaml"), "cycle": 1, "start": START.isoformat(),
             "lines": [{"drug": "epirubicin", "dose": "10 mg", "day": 1, "route": "IT"}],
             "acknowledged": [{"code": "ROUTE_INTRATHECAL_NOT_LABELLED", "drug": "epirubicin",
                               "reason": "our protocol", "by": "Dr A"}]}  # fmt: skip
    path = save(tmp_path, order)
    code, data = verify_json(cli, path, *PATIENT)
    assert code == 1 and data["verdict"] == "hold"
    held = [w for w in data["warnings"] if w["code"] == "ROUTE_INTRATHECAL_NOT_LABELLED"]
    assert [(w["severity"], w["drug"], w["day"]) for w in held] == [("critical", "epirubicin", 1)]
    assert "IT is not a route its label gives (IV only" in held[0]["message"]
    assert "ORDER_ACKNOWLEDGEMENT_NOT_ALLOWED" in codes(data)
    code, data = verify_json(cli, path, *PATIENT, "--acknowledge",
                             "ROUTE_INTRATHECAL_NOT_LABELLED:epirubicin=protocol X",
                             "--by", "A. Pharmacist")  # fmt: skip
    assert "ROUTE_INTRATHECAL_NOT_LABELLED" not in codes(data, "critical")
    assert "ROUTE_INTRATHECAL_NOT_LABELLED" in codes(data, "warning")  # named, never dropped
    # the order written as FHIR: the same line, the same hold
    code, out, _ = cli("plan", str(tmp_path / "epi-it.yaml"), *PATIENT, "--start",
                       START.isoformat(), "--format", "fhir")  # fmt: skip
    assert code == 1
    bundle = write(tmp_path, "epi-it.json", out)
    code, data = verify_json(cli, bundle, *PATIENT, "--regimen", str(tmp_path / "epi-it.yaml"))
    assert code == 1 and data["verdict"] == "hold"
    assert "ROUTE_INTRATHECAL_NOT_LABELLED" in codes(data, "critical")


def test_an_order_line_by_an_unlabelled_route_is_named_a_labelled_one_is_not(
    cli, tmp_path: Path
) -> None:
    """Against ec (epirubicin IV): an order's epirubicin IT is a route mismatch and a route its
    label does not give (both critical); its epirubicin PO a warning the prescriber
    acknowledges. The clean ec order, intrathecal methotrexate and cytarabine, and the
    antiemetics by their labelled routes, get no route warning."""
    bad = ec_order()
    bad["lines"][0]["route"] = "intrathecal"
    code, data = verify_json(cli, save(tmp_path, bad), *PATIENT)
    assert code == 1
    assert {"ORDER_ROUTE_MISMATCH", "ROUTE_INTRATHECAL_NOT_LABELLED"} <= codes(data, "critical")
    oral = ec_order()
    oral["lines"][0]["route"] = "PO"
    oral["acknowledged"] = [{"code": "ORDER_ROUTE_MISMATCH", "drug": "epirubicin",
                             "reason": "x", "by": "Dr A"}]  # fmt: skip
    code, data = verify_json(cli, save(tmp_path, oral), *PATIENT)
    named = [w for w in data["warnings"] if w["code"] == "ROUTE_NOT_LABELLED"]
    assert [(w["severity"], w["drug"]) for w in named] == [("warning", "epirubicin")]
    code, data = verify_json(cli, save(tmp_path, ec_order()), *PATIENT)
    assert not {c for c in codes(data) if c.startswith("ROUTE_")}
    write(tmp_path, "it.yaml", "id: it\nname: triple IT\ncycle_length_days: 21\nsources: [x]\n"
          "drugs:\n  - {drug: methotrexate, dose: 12 mg, days: 1, route: IT}\n"
          "  - {drug: cytarabine, dose: 30 mg, days: 1, route: intrathecal}\n")  # fmt: skip
    order = {"regimen": str(tmp_path / "it.yaml"), "cycle": 1, "start": START.isoformat(),
             "lines": [{"drug": "methotrexate", "dose": "12 mg", "day": 1, "route": "IT"},
                       {"drug": "cytarabine", "dose": "30 mg", "day": 1, "route": "i.t."},
                       {"drug": "ondansetron", "dose": "8 mg", "day": 1, "route": "PO"}]}  # fmt: skip
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert not {c for c in codes(data) if c.startswith("ROUTE_")}, data["warnings"]
    assert [ln["status"] for ln in data["lines"]][:2] == ["ok", "ok"]


def test_an_antiemetic_given_intrathecally_is_held(cli, tmp_path: Path) -> None:
    """An ec order's ondansetron or dexamethasone line written IT (premedication, a line the
    regimen does not dose) was a warning only, their labels' routes being unverified, and the
    order was released with notes. Their injections' labels give IV and IM (ondansetron) and
    IV, IM and local injection (dexamethasone): intrathecally each is held for the pharmacist."""
    order = ec_order()
    order["lines"] += [{"drug": "ondansetron", "dose": "8 mg", "day": 1, "route": "IT"},
                       {"drug": "dexamethasone", "dose": "12 mg", "day": 1, "route": "IT"}]  # fmt: skip
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert code == 1 and data["verdict"] == "hold"
    held = {
        w["drug"]
        for w in data["warnings"]
        if w["code"] == "ROUTE_INTRATHECAL_NOT_LABELLED" and w["severity"] == "critical"
    }
    assert held == {"ondansetron", "dexamethasone"}
    order["lines"][-2:] = [{"drug": "ondansetron", "dose": "8 mg", "day": 1, "route": "IM"},
                           {"drug": "dexamethasone", "dose": "12 mg", "day": 1, "route": "PO"}]  # fmt: skip
    code, data = verify_json(cli, save(tmp_path, order), *PATIENT)
    assert not {c for c in codes(data) if c.startswith("ROUTE_")}, data["warnings"]


def test_a_bundles_dose_with_trailing_zeros_is_read_as_the_json_number_it_is(
    run, tmp_path: Path
) -> None:
    """A JSON number has no thousands separator: an EHR's doseQuantity 166.000 is 166 mg, not
    refused as a typed '166.000 mg' is (which could be 166,000 where a point separates them)."""
    who = ["--height", "175cm", "--weight", "70kg"]
    bundle = tmp_path / "ec.json"
    run("plan", "ec", *who, "--start", "2026-12-08", "--format", "fhir", "-o", str(bundle))
    text, n = re.subn(r'"value": 166\.0\d*', '"value": 166.000', bundle.read_text(), count=1)
    assert n == 1
    bundle.write_text(text)
    p = run("verify", str(bundle), "--cycle", "1", *who, "--prior", "epirubicin=0mg/m2",
            "--format", "json")  # fmt: skip
    assert p.returncode in (0, 1), p.stderr
    [line] = [x for x in json.loads(p.stdout)["lines"] if x["drug"] == "epirubicin"]
    assert line["ordered"] == 166
