"""Outputs people use outside the terminal: ICS calendar, printable order sheet (checked in a
real headless Chromium), FHIR R4 bundle, charts of lifetime exposure."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DIA, ROOT

REFERENCE = str(ROOT / "examples" / "chen-2023-pelvic-osteosarcoma.yaml")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("DOSECALC_REQUIRE_BROWSER"),
    reason="no chromium here (CI installs it and sets DOSECALC_REQUIRE_BROWSER)",
)


# ---------------------------------------------------------------- ICS


def events_of(raw: bytes):
    from icalendar import Calendar

    cal = Calendar.from_ical(raw)
    return cal, [c for c in cal.walk("VEVENT")]


def test_ics_one_event_per_administration_day_with_every_drug(run) -> None:
    p = subprocess.run([*DIA_CMD(), "--format", "ics"], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    cal, events = events_of(p.stdout)
    assert (cal["VERSION"], str(cal["PRODID"]).startswith("-//dosecalc//")) == ("2.0", True)
    assert len(events) == 10  # DIA: days 1-5 of 2 cycles
    first = events[0]
    assert first.decoded("dtstart").isoformat() == "2026-12-01"
    assert first.decoded("dtend").isoformat() == "2026-12-02"
    description = str(first["DESCRIPTION"])
    for text in (
        "cisplatin 221.4 mg IV (120 mg/m², bsa)",
        "epirubicin 73.8 mg IV",
        "ifosfamide 3,689.3 mg IV",
    ):
        assert text in description
    # mesna's three timed doses: each says which it is (they read as nine boluses a day)
    for k, hour in enumerate((0, 4, 8), 1):
        assert f"mesna 737.9 mg (dose {k} of 3, at {hour} h) IV bolus" in description
    assert all({"UID", "DTSTAMP", "DTSTART"} <= set(e) for e in events)
    # RFC 5545 §3.1: content lines are folded at 75 octets
    assert max(len(line) for line in p.stdout.split(b"\r\n")) <= 75


def DIA_CMD() -> list[str]:
    from tests.conftest import dosecalc_exe

    return [*dosecalc_exe(), *DIA]


def test_ics_uids_are_stable_so_a_re_export_updates_the_calendar() -> None:
    def uids(cmd: list[str], *who: str) -> tuple[list[str], bytes]:
        out = subprocess.run([*cmd, *who, "--format", "ics"], capture_output=True).stdout
        return [str(e["UID"]) for e in events_of(out)[1]], out

    uids_a, a = uids(DIA_CMD(), "--mrn", "P1")
    heavier = [x if x != "70kg" else "75kg" for x in DIA_CMD()]
    uids_b, b = uids(heavier, "--mrn", "P1")
    assert uids_a == uids_b and len(set(uids_a)) == len(uids_a)
    assert str(events_of(a)[1][0]["DESCRIPTION"]) != str(events_of(b)[1][0]["DESCRIPTION"])
    # another patient on the same regimen from the same day: events of their own (they had the
    # same UIDs, and importing one calendar replaced the other patient's doses); without an
    # identity, nothing tells two patients apart: each export has its own
    assert not set(uids(heavier, "--mrn", "P2")[0]) & set(uids_a)
    assert not set(uids(DIA_CMD())[0]) & set(uids(DIA_CMD())[0])


def test_a_delayed_first_cycle_moves_its_events_and_keeps_their_uids() -> None:
    """--delay 1=7 gave every event a new UID (the plan's identity took cycle 1's delayed date as
    its start): a calendar that had the plan kept the old events and added new ones, showing
    every dose twice, a week apart. The identity is the start as planned; the events move."""

    def events(*more: str) -> list:
        cmd = [*DIA_CMD(), "--mrn", "P1", *more, "--format", "ics"]
        p = subprocess.run(cmd, capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return events_of(p.stdout)[1]

    before, after = events(), events("--delay", "1=7")
    assert [str(e["UID"]) for e in before] == [str(e["UID"]) for e in after]
    first, moved = before[0].decoded("dtstart"), after[0].decoded("dtstart")
    assert (moved - first).days == 7
    # a new start is a new plan: its events are its own
    later = [x if x != "2026-12-01" else "2027-06-01" for x in DIA_CMD()]
    p = subprocess.run([*later, "--mrn", "P1", "--format", "ics"], capture_output=True, timeout=60)
    assert not {str(e["UID"]) for e in events_of(p.stdout)[1]} & {str(e["UID"]) for e in before}


def test_the_reference_course_exports_to_a_calendar_that_imports_cleanly(cli, tmp_path) -> None:
    out = tmp_path / "course.ics"
    code, _, err = cli("plan", REFERENCE, "--format", "ics", "--output", str(out))
    assert code == 1, err  # the epirubicin limit: the plan still exports
    cal, events = events_of(out.read_bytes())
    assert len(events) == len({str(e["UID"]) for e in events})
    critical = [e for e in events if "CRITICAL " in str(e["DESCRIPTION"])]
    # the epirubicin limit from where it is crossed on every later epirubicin day (the 2021
    # DDP+EPI doses showed only LIFETIME_EXPOSURE_UNKNOWN), and cisplatin 140 mg/m² (above the
    # usual maximum single dose of 120 mg/m², Le Chevalier 1994) on day 1 of every cycle of
    # DDP+EPI (4) and DDP+IFO (2): a warning about a dose is carried wherever that dose is given
    limit = "CUMULATIVE_LIMIT_EXCEEDED: epirubicin exceeds"
    epirubicin = [
        e
        for e in events
        if any(x.startswith("epirubicin ") for x in str(e["DESCRIPTION"]).split("\n"))
    ]
    after = [e for e in epirubicin if e.decoded("dtstart").isoformat() >= "2019-03-07"]
    assert after and all(limit in str(e["DESCRIPTION"]) for e in after)
    assert not any(limit in str(e["DESCRIPTION"]) for e in epirubicin if e not in after)
    assert critical[0].decoded("dtstart").isoformat() == "2019-03-07"
    cisplatin = [
        e.decoded("dtstart").isoformat()
        for e in critical
        if "DOSE_ABOVE_USUAL_MAXIMUM: cisplatin" in str(e["DESCRIPTION"])
    ]
    assert cisplatin == [
        *("2021-05-17", "2021-06-07", "2021-06-28", "2021-07-19"),
        *("2021-08-09", "2021-08-30"),
    ]
    assert "REGIMEN_UNVERIFIED" in str(cal["X-WR-CALDESC"])  # the plan's own, in the header
    assert any("phase 6" in str(e["SUMMARY"]) for e in events)  # anlotinib days


# ---------------------------------------------------------------- FHIR


def test_fhir_bundle_validates_as_r4(cli) -> None:
    from fhir.resources.R4B.bundle import Bundle

    code, out, _ = cli(*DIA, "--format", "fhir")
    data = json.loads(out)
    bundle = Bundle.model_validate(data)  # raises on any invalid resource
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    # 18 doses of the protocol and 30 of mesna (3 on each ifosfamide day), each a request
    assert kinds.count("MedicationRequest") == 48 and kinds.count("CarePlan") == 1
    request = next(
        e.resource for e in bundle.entry if e.resource.get_resource_type() == "MedicationRequest"
    )
    dose = request.dosageInstruction[0].doseAndRate[0]
    assert (float(dose.doseQuantity.value), dose.doseQuantity.unit, dose.type.text) == (
        pytest.approx(221.359436),
        "mg",
        "per body surface area",
    )
    careplan = next(
        e.resource for e in bundle.entry if e.resource.get_resource_type() == "CarePlan"
    )
    assert len(careplan.activity) == 48


def test_fhir_bundle_of_the_reference_course_validates(cli) -> None:
    from fhir.resources.R4B.bundle import Bundle

    code, out, _ = cli("plan", REFERENCE, "--format", "fhir")
    bundle = Bundle.model_validate(json.loads(out))
    requests = sum(e.resource.get_resource_type() == "MedicationRequest" for e in bundle.entry)
    assert requests == 147 + (11 + 2) * 5 * 3  # and mesna with every ifosfamide dose


# ---------------------------------------------------------------- warnings in every export

# CrCl 36.5 mL/min (Cockcroft-Gault): cisplatin is to be avoided (organ-function data), and its
# 140 mg/m² of DDP+EPI is above the usual maximum single dose (120 mg/m²): two criticals that
# name cycle 1 day 1 and hold for every cisplatin dose of the plan
CISPLATIN_TO_AVOID = [
    *("plan", "ddp-epi", "--height", "175cm", "--weight", "70kg"),
    *("--age", "60", "--sex", "male", "--scr", "2.13mg/dL", "--start", "2026-12-01"),
    *("--prior", "epirubicin=0mg/m2"),  # none before: the lifetime total is known
]
CISPLATIN_CRITICALS = ("DOSE_ABOVE_USUAL_MAXIMUM", "ORGAN_FUNCTION_CONTRAINDICATION")


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_a_dose_to_avoid_carries_its_criticals_in_the_csv(cli) -> None:
    import csv
    import io

    code, out, _ = cli(*CISPLATIN_TO_AVOID, "--format", "json")
    warnings = json.loads(out)["warnings"]
    assert code == 1 and {w["code"] for w in warnings if w["severity"] == "critical"} == set(
        CISPLATIN_CRITICALS
    )
    assert "CrCl 36.5 mL/min" in next(
        w["message"] for w in warnings if w["code"] == CISPLATIN_CRITICALS[1]
    )
    code, out, _ = cli(*CISPLATIN_TO_AVOID, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 1 and [r["drug"] for r in rows] == ["cisplatin", "epirubicin"] * 4
    for row in rows:
        notice = row["notice"].split(" | ")
        if row["drug"] == "cisplatin":  # every cycle's, not only the first that the warning names
            assert [n.split(":")[0] for n in notice[:2]] == [
                f"CRITICAL {c}" for c in CISPLATIN_CRITICALS
            ]
            assert "CrCl 36.5 mL/min" in notice[1] and "avoid cisplatin" in notice[1]
        else:
            assert "CRITICAL" not in row["notice"]
    # the plan's own warning at the first row; a warning of one administration on that one only
    assert "WARNING REGIMEN_UNVERIFIED: ddp-epi" in rows[0]["notice"]
    assert "REGIMEN_UNVERIFIED" not in rows[2]["notice"]
    ototoxicity = [r["cycle"] for r in rows if "WARNING OTOTOXICITY_MONITORING" in r["notice"]]
    assert ototoxicity == ["3"]  # 400 mg/m² reached at cycle 3


def test_a_dose_to_avoid_carries_its_criticals_on_each_fhir_request(cli) -> None:
    from fhir.resources.R4B.bundle import Bundle

    code, out, _ = cli(*CISPLATIN_TO_AVOID, "--format", "fhir")
    assert code == 1
    bundle = json.loads(out)
    Bundle.model_validate(bundle)  # valid FHIR R4, DetectedIssues included
    issues = {f"urn:uuid:{i['id']}": i for i in resources(bundle, "DetectedIssue")}
    requests = resources(bundle, "MedicationRequest")
    assert len(requests) == 8
    for request in requests:
        own = [issues[ref["reference"]] for ref in request.get("detectedIssue", [])]
        notes = [n["text"] for n in request["note"]]
        if request["medicationCodeableConcept"]["text"] != "cisplatin":
            # the default ANC/platelet gates no lab was given for are a warning, not a critical
            assert {i["code"]["coding"][0]["code"] for i in own} <= {"LAB_GATE_NOT_CHECKED"}
            assert all(i["severity"] != "high" for i in own)
            assert not any("CRITICAL" in n for n in notes)
            continue
        high = [i for i in own if i["severity"] == "high"]
        assert [i["code"]["coding"][0]["code"] for i in high] == list(CISPLATIN_CRITICALS)
        for issue in high:
            assert f"urn:uuid:{request['id']}" in [r["reference"] for r in issue["implicated"]]
            assert issue["code"]["coding"][0]["system"] == "urn:dosecalc:warning"
        assert "CrCl 36.5 mL/min" in high[1]["detail"]
        assert [n.split(":")[0] for n in notes[1:3]] == [
            f"CRITICAL {c}" for c in CISPLATIN_CRITICALS
        ]
    [careplan] = resources(bundle, "CarePlan")
    assert careplan["note"][0]["text"].startswith("critical: ")  # most severe first, as before


def test_a_dose_to_avoid_carries_its_criticals_in_each_calendar_event(cli) -> None:
    code, out, _ = cli(*CISPLATIN_TO_AVOID, "--format", "ics")
    cal, events = events_of(out.encode())
    assert code == 1 and len(events) == 4
    for event in events:
        description = str(event["DESCRIPTION"])
        for critical in CISPLATIN_CRITICALS:
            assert f"CRITICAL {critical}: cisplatin" in description
    assert "REGIMEN_UNVERIFIED" in str(cal["X-WR-CALDESC"])


def test_a_critical_about_the_whole_plan_reaches_every_administration(cli, tmp_path) -> None:
    import csv
    import io

    text = (ROOT / "regimens" / "ec.yaml").read_text(encoding="utf-8")
    retired = tmp_path / "ec-retired.yaml"
    retired.write_text(
        text.replace(
            "status: draft  # no clinician has approved this file yet",
            "status: retired\napproved_by: Dr A\napproved_on: 2020-01-01",
        ),
        encoding="utf-8",
    )
    plan = ["plan", str(retired), "--height", "175cm", "--weight", "70kg", "--start", "2026-12-01",
            "--prior", "epirubicin=0mg/m2"]  # fmt: skip
    code, out, _ = cli(*plan, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 1 and len(rows) == 8
    assert all(r["notice"].startswith("CRITICAL REGIMEN_NOT_APPROVED: ") for r in rows)
    code, out, _ = cli(*plan, "--format", "fhir")
    bundle = json.loads(out)
    high = [i for i in resources(bundle, "DetectedIssue") if i["severity"] == "high"]
    [issue] = high  # the default lab gates no lab was given for are warnings, not criticals
    assert issue["code"]["coding"][0]["code"] == "REGIMEN_NOT_APPROVED"
    assert len(issue["implicated"]) == 8
    ref = f"urn:uuid:{issue['id']}"
    assert all(
        [d["reference"] for d in r["detectedIssue"]].count(ref) == 1
        for r in resources(bundle, "MedicationRequest")
    )
    code, out, _ = cli(*plan, "--format", "ics")
    assert all(
        "CRITICAL REGIMEN_NOT_APPROVED" in str(e["DESCRIPTION"]) for e in events_of(out.encode())[1]
    )


def test_a_failed_lab_gate_reaches_every_day_of_its_cycle(cli, tmp_path) -> None:
    import csv
    import io

    text = (ROOT / "regimens" / "dia.yaml").read_text(encoding="utf-8")
    assert "\ngates: []" in text
    gated = tmp_path / "dia-gated.yaml"
    gated.write_text(
        text.replace(
            "\ngates: []", "\ngates:\n  - lab: anc\n    at_least: 1.5 x10^9/L\n    otherwise: delay"
        ),
        encoding="utf-8",
    )
    code, out, _ = cli(
        *("plan", str(gated), "--height", "175cm", "--weight", "70kg", "--start", "2026-12-01"),
        *("--lab", "anc=0.5x10^9/L@2026-11-30", "--format", "csv"),
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    failed = [(r["cycle"], r["day"]) for r in rows if "CRITICAL LAB_GATE_FAILED" in r["notice"]]
    assert code == 1 and failed == [(r["cycle"], r["day"]) for r in rows if r["cycle"] == "1"]
    assert {day for _, day in failed} == {"1", "2", "3", "4", "5"}


def test_fhir_observations_carry_no_invented_date(cli) -> None:
    code, out, _ = cli(*DIA, "--format", "fhir")
    observations = resources(json.loads(out), "Observation")
    assert len(observations) == 3  # height, weight, BSA
    assert not any(k.startswith("effective") for o in observations for k in o)


# ---------------------------------------------------------------- the order sheet


def chromium(*args: str, profile: Path) -> None:
    assert CHROMIUM, "chromium is required (DOSECALC_REQUIRE_BROWSER)"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )


def pdf_of(html: Path, tmp_path: Path) -> tuple[int, str, tuple[float, float]]:
    from pypdf import PdfReader

    pdf = html.with_suffix(".pdf")
    chromium(
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        html.as_uri(),
        profile=tmp_path / "profile",
    )
    reader = PdfReader(pdf)
    box = reader.pages[0].mediabox
    text = "\n".join(page.extract_text() for page in reader.pages)
    text = text.replace("\ufb01", "fi").replace("\ufb02", "fl")  # the PDF's ligatures
    return len(reader.pages), " ".join(text.split()), (float(box.width), float(box.height))


@needs_browser
@pytest.mark.parametrize(("paper", "size"), [("a4", (595, 842)), ("letter", (612, 792))])
def test_the_order_sheet_prints_on_a4_and_letter(cli, tmp_path: Path, paper: str, size) -> None:
    html = tmp_path / f"dia-{paper}.html"
    code, _, _ = cli(*DIA, "--format", "html", "--paper", paper, "--output", str(html))
    assert code == 0
    pages, text, (width, height) = pdf_of(html, tmp_path)
    assert (round(width), round(height)) == size
    # 7 since the sheet carries mesna and the supportive care (issue 32); 10 on letter since it
    # carries the notices (info) and every page's margins name the patient
    assert 2 <= pages <= 10
    for expected in (
        "Chemotherapy order sheet: DIA: cisplatin, epirubicin, ifosfamide",
        "BSA: 1.84 m² (mosteller formula)",
        "221.4 mg",
        "3,689.3 mg",
        "Lifetime cumulative exposure",
        "Treatment calendar",
        "Signatures",
        "Pharmacist (double check of every dose)",
        "December 2026",
        "3 × 737.9 mg",  # mesna, each dose initialled at its hour
        "hydration with cisplatin",
        "highly emetogenic",
    ):
        assert expected in text, expected


@needs_browser
def test_the_reference_order_sheet_shows_the_critical_warning_first(cli, tmp_path: Path) -> None:
    html = tmp_path / "course.html"
    cli("plan", REFERENCE, "--format", "html", "--output", str(html))
    pages, text, _ = pdf_of(html, tmp_path)
    assert pages >= 5
    critical = text.index("Critical: do not give without review (3)")  # + cisplatin 140 ×2
    assert critical < text.index("Patient details") < text.index("Lifetime cumulative exposure")
    assert "epirubicin exceeds its 1,000 mg/m² limit" in text
    # a screenshot: the critical box is drawn in red near the top of the page
    png = tmp_path / "course.png"
    chromium(
        "--window-size=900,900", f"--screenshot={png}", html.as_uri(), profile=tmp_path / "profile2"
    )
    import matplotlib.image

    pixels = matplotlib.image.imread(png)
    assert pixels.shape[:2] == (900, 900)
    top = pixels[:300]
    red = (top[..., 0] > 0.55) & (top[..., 1] < 0.25) & (top[..., 2] < 0.3)
    assert red.sum() > 500, "the red critical box is not near the top"
    assert pixels.std() > 0.05  # not a blank page


# ---------------------------------------------------------------- charts


def test_chart_files_show_the_ceiling_crossing(cli, tmp_path: Path) -> None:
    svg, png = tmp_path / "c.svg", tmp_path / "c.png"
    code, _, _ = cli(*DIA, "--cycles", "11", "--chart", str(svg), "--format", "json")
    assert code == 1
    text = svg.read_text()
    assert text.startswith("<?xml") and "<svg" in text
    assert "limit exceeded 2027-03-24" in text and "threshold 900 mg/m²" in text
    cli(*DIA, "--cycles", "11", "--chart", str(png), "--format", "json")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = cli(*DIA, "--chart", str(tmp_path / "c.pdf"))
    assert code == 2 and "is not an .svg or .png file name" in err


def test_the_terminal_shows_lifetime_exposure_against_the_ceilings(cli, tmp_path: Path) -> None:
    code, out, _ = cli(*DIA, "--cycles", "11")
    assert "epirubicin, lifetime total in mg/m²" in out
    lines = out.splitlines()
    assert any(line.rstrip().endswith("limit") and "━" in line for line in lines)
    assert any(line.rstrip().endswith("threshold") and "┄" in line for line in lines)
    history = tmp_path / "h.csv"
    history.write_text("date,drug,dose,unit\n2019-01-05,EPI,500,mg/m2\n2019-06-05,EPI,450,mg/m2\n")
    code, out, _ = cli("check", "--history", str(history), "--chart", str(tmp_path / "h.svg"))
    assert code == 0 and "epirubicin, lifetime total in mg/m²" in out
    assert "threshold 900 mg/m²" in (tmp_path / "h.svg").read_text()


def test_json_lines_refuse_nan_and_round_trip() -> None:
    import json
    import math

    import pytest

    from dosecalc.outputs import render

    record = {"drug": "epirubicin", "total": 450.0, "date": None, "tags": ["a", "é"]}
    assert json.loads(render.to_json_line(record)) == record
    assert json.loads(render.to_json_line({"x": 1.5})) == {"x": 1.5}
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError):
            render.to_json_line({"total": bad})


TWICE_DAILY = """\
id: capox-notes
name: "capecitabine twice a day, with oxaliplatin"
cycle_length_days: 21
sources: ["a user's file"]
gates: []
drugs:
  - {drug: oxaliplatin, dose: 130 mg/m2, days: 1}
  - {drug: capecitabine, dose: 1000 mg/m2, days: 1-14, route: PO, note: morning}
  - {drug: capecitabine, dose: 1000 mg/m2, days: 1-14, route: PO, note: evening}
"""


@pytest.mark.parametrize("days", ["1-14", "1-2"])
def test_each_line_of_one_drug_keeps_its_own_note_number(cli, tmp_path: Path, days: str) -> None:
    """A morning and an evening line of one drug, otherwise alike: every row says its own note
    (from day 2 both said the evening's), as the JSON's note does; a run is one line's days."""
    from tests.conftest import write

    path = write(tmp_path, "r.yaml", TWICE_DAILY.replace("1-14", days))
    args = ("plan", str(path), "--bsa", "1.8", "--start", "2026-12-15", "--cycles", "1")
    code, out, _ = cli(*args)
    assert code == 0, out
    assert "1. capecitabine: morning" in out and "2. capecitabine: evening" in out
    table = out[: out.index("\nNotes\n")]
    runs = 1 if days == "1-14" else 2  # 14 days: one row a line; 2 days: one row a day
    assert table.count(" capecitabine ") == 2 * runs
    assert re.findall(r"see note (\d+)", table) == ["1", "2"] * runs
    _, text, _ = cli(*args, "--format", "json")
    notes = [a["note"] for a in json.loads(text)["administrations"] if a["drug"] == "capecitabine"]
    assert notes == ["morning", "evening"] * (14 if days == "1-14" else 2)


def test_a_reduced_dose_says_so_in_the_calendar(cli) -> None:
    """'doxorubicin 91.5 mg IV (50 mg/m², bsa)' at 2.44 m² contradicted itself: the reduction and
    its reason (DOSE_MODIFIED, a note) stayed in the table; now each export carries it."""
    code, out, err = cli(
        "plan", "r-chop-21", "--height", "195cm", "--weight", "110kg", "--start", "2027-03-15",
        "--cycles", "2", "--reduce", "doxorubicin=25%@2", "--reason", "neutropenia",
        "--format", "ics",
    )  # fmt: skip
    assert code == 0, err
    _, events = events_of(out.encode() if isinstance(out, str) else out)
    said = [str(e["DESCRIPTION"]) for e in events if "DOSE_MODIFIED" in str(e["DESCRIPTION"])]
    assert len(said) == 1 and "doxorubicin 91.5 mg" in said[0]
    assert "standard 122 mg, reduced 25 % from cycle 2 (neutropenia) → 91.5 mg" in said[0]


@needs_browser
def test_the_course_sheet_prints_every_file_hash_whole(cli, tmp_path: Path) -> None:
    """The course file's and each phase's regimen SHA-256 ran off the right edge of the A4 page
    (cut mid-hash): they tie each dose to one version of a file, so each is printed whole."""
    html = tmp_path / "course.html"
    code, _, err = cli("plan", REFERENCE, "--format", "html", "--output", str(html))
    assert code == 1, err  # the epirubicin limit: the sheet still prints
    import hashlib

    _, text, _ = pdf_of(html, tmp_path)
    flat = "".join(text.split())
    assert hashlib.sha256(Path(REFERENCE).read_bytes()).hexdigest() in flat


def test_a_chart_never_draws_an_unknown_prior_exposure_as_zero(cli, tmp_path: Path) -> None:
    """Without --prior, --history or --patient the line counts this plan's doses only: the chart
    file (and the terminal's and the order sheet's) says so beside each panel, where it was
    drawn from zero as if the patient had never had an anthracycline."""
    ec = ("plan", "ec", "--height", "175cm", "--weight", "70kg", "--start", "2026-12-01")
    unknown = "prior exposure NOT GIVEN: these doses only, the lifetime total may be higher"
    svg = tmp_path / "c.svg"
    code, out, _ = cli(*ec, "--chart", str(svg))
    assert code == 0
    text = svg.read_text()
    assert text.count(unknown) == 2  # epirubicin and the doxorubicin equivalent
    assert "last dose 2027-02-02: 360 mg/m² + unknown prior" in text
    assert out.count(unknown) == 2
    code, out, _ = cli(*ec, "--prior", "epirubicin=0mg/m2", "--chart", str(svg), "--force")
    assert code == 0 and unknown not in svg.read_text() and unknown not in out
    assert "last dose 2027-02-02: 360 mg/m² -->" in svg.read_text()  # matplotlib's text comment


def test_a_chart_of_amounts_given_without_dates_draws_them(cli, tmp_path: Path) -> None:
    """check --prior alone has no date: the chart drew no line at all (epirubicin 850 mg/m²
    looked like none) on an axis of made-up dates, 1970-01-01."""
    svg = tmp_path / "c.svg"
    code, _, _ = cli("check", "--prior", "epirubicin=850mg/m2", "--chart", str(svg))
    assert code == 0
    text = svg.read_text()
    assert "total 850 mg/m², given without dates" in text
    assert "threshold 900 mg/m²" in text and "limit 1,000 mg/m²" in text
    assert "no dates: the exposure was given without dates (- -prior)" in text  # an XML comment
    assert "1970" not in text
