"""Fuzzing the three doors where input comes in: command-line options, YAML files (regimen,
course, policy) and history files. Every generated case must end in exit 0/1 with a valid
result, or exit 2 with an ``Error:`` message; never a traceback, an internal error (exit 3),
a hang, or a partial output file.

``DOSECALC_FUZZ_EXAMPLES`` scales the number of cases (CI runs the default, ~2,500 in all).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dosecalc.cli import app
from dosecalc.data.regimen import library_ids
from tests.conftest import schema

N = int(os.environ.get("DOSECALC_FUZZ_EXAMPLES", "400"))
FUZZ = settings(
    max_examples=N,
    deadline=5000,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("DOSECALC_FUZZ_RANDOM") is None,
)
RUNNER = CliRunner()
PLAN_SCHEMA = schema("plan-output")
CHECK_SCHEMA = schema("check-output")
VERIFY_SCHEMA = schema("verify-output")


def invoke(args: list[str]) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"exception escaped for {args!r}: {result.exception!r}")
    return result.exit_code, result.stdout, result.stderr


def _one_refusal(err: str) -> bool:
    """A refusal as the contract says: ``Error: …`` (one problem, or the count then each), or
    typer's usage error (``Usage: …`` then ``Error: …``)."""
    return err.startswith("Error: ") or (err.startswith("Usage: ") and "\nError: " in err)


def assert_contract(args: list[str], code: int, out: str, err: str) -> None:
    assert "Traceback" not in out + err, (args, err)
    assert code in (0, 1, 2), (args, code, err)
    if code == 2:
        assert err.strip(), args
        assert _one_refusal(err), (args, err)
        assert out == "", (args, out[:200])  # nothing half-printed
    elif "json" in args and not {"-h", "--help"} & set(args):
        data = json.loads(out)
        target = {"check": CHECK_SCHEMA, "plan": PLAN_SCHEMA, "verify": VERIFY_SCHEMA}.get(args[0])
        if target is not None:
            jsonschema.validate(data, target)


# ---------------------------------------------------------------- door 1: command-line options

# Number forms that YAML 1.1, YAML 1.2, TOML, Python or a spreadsheet read differently, or not at
# all (issue 15): each must be refused with exit 2 wherever it comes in.
NUMBER_FORMS = [
    "070",
    "0175",
    "021",
    "010",
    "08",
    "1_0",
    "1_75",
    "1:30",
    "0x1F",
    "0o17",
    "0b101",
    ".inf",
    "-.inf",
    ".nan",
    "١٧٥",
    "１７５",
    "1٧5",
    "−3",
    "1e3",
    "1e400",
    ".5",
    "5.",
    "+5",
    "99999999999999999999",
    "-99999999999999999999",
    str(2**63),
    str(2**63 - 1),
    "1" * 5000,
]
nasty = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "-70kg",
        "nan",
        "inf",
        "-inf",
        "1e308",
        "1e-308",
        "1,5",
        "١٧٥",
        "175 stone",
        "10 units",
        "mg",
        "kg",
        "2 g/m^2",
        "80umol/L",
        "0.9mg/dL",
        "90mL/min",
        "90mL/min/1.73m2",
        "5ft9in",
        "5'9\"",
        "69in",
        "1.75m",
        "175cm",
        "70kg",
        "154lb",
        "1.8",
        "1.8m2",
        "20Gy",
        "3000cGy",
        "29",
        "29y",
        "18months",
        "2026-12-01",
        "2026-02-30",
        "01/12/2026",
        "male",
        "female",
        "M",
        "x",
        "mosteller",
        "schlich",
        "all",
        "epirubicin=600mg/m2",
        "anc=1.2x10^9/L",
        "anc=1200/uL@2026-11-28",
        "anc=1.2G/L@2099-01-01",
        "platelets=-1x10^9/L",
        "bilirubin=2mg/dL",
        "bilirubin=36umol/L@2026-11-29",
        "bilirubin=1.5xULN",
        "direct_bilirubin=4mg/dL",
        "ast=80U/L",
        "ast=80U",
        "alt=2.5xULN",
        "alp=3xULN",
        "scr=9mg/dL",
        "scr=80umol/L@2026-11-30",
        "crcl=10mL/min",
        "crcl=60mL/min/1.73m2",
        "hb=12g/dL",
        "anc=",
        "=1",
        "anc=1.2x10^9/L@",
        "anc=1.2x10^9/L@2026-13-01",
        "anc=1.2x10^9/L@@2026-11-01",
        "ANC=1.5e9/L",
        "neutrophils=1.5",
        "EPI=1e9mg",
        "TAX=100mg/m2",
        "cisplatin=25%@3",
        "all=20%",
        "cisplatin=0%",
        "2=7",
        "2.3=7",
        "0=1",
        "bsa.cap_m2=2",
        "carboplatin.gfr_cap_ml_min=none",
        "rounding.method=bands",
        "x=y",
        "esc-2022",
        "ighg-2025",
        "nope",
        "json",
        "csv",
        "table",
        "xml",
        "ics",
        "../../etc/passwd",
        "%s%n",
        "\u202e",
        "💊",
        "a" * 300,
        # issue 15: number forms that read differently elsewhere, and overflows
        *NUMBER_FORMS,
        "9999-12-31",
        "0001-01-01",
        "2199-12-31",
        "cisplatin=1.2.3%",
        "cisplatin=25%@99999999999999999999",
        "epirubicin=20%@6",
        "all=1_0%",
        "5=7",
        "2=1_75",
        "2=99999999999999999999",
        "1.99999999999999999999=3",
        "5ft-3in",
        "5' -9\"",
        "5ft 13in",
        "5ft12in",
        "carboplatin.gfr_cap_ml_min=",
        "carboplatin.gfr_cap_ml_min=1_25",
        "cumulative.equivalence=",
        "cumulative.equivalence=bogus",
        "cumulative.options=x",
        "bsa.cap_m2=0x2",
        "epirubicin=1_0mg/m2",
    ]
)
values = st.one_of(
    nasty,
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=15),
    st.builds(
        lambda n, u: f"{n!r}{u}",
        st.floats(-1e6, 1e7),
        st.sampled_from(
            [
                "cm",
                "m",
                "in",
                "kg",
                "lb",
                "g",
                "mg",
                "mg/m2",
                "Gy",
                "y",
                "",
                "mL/min",
                "mg/dL",
                "umol/L",
                "units",
            ]
        ),
    ),
)
PLAN_OPTIONS = [
    "--height",
    "--weight",
    "--bsa",
    "--formula",
    "--sex",
    "--age",
    "--scr",
    "--gfr",
    "--lab",
    "--lab",
    "--start",
    "--cycles",
    "--prior",
    "--chest-rt",
    "--equivalence",
    "--delay",
    "--delay-mode",
    "--reduce",
    "--escalate",
    "--reason",
    "--set",
    "--previous-weight",
    "--format",
]
CHECK_OPTIONS = [
    "--prior",
    "--next",
    "--cycles",
    "--height",
    "--weight",
    "--bsa",
    "--sex",
    "--age",
    "--scr",
    "--lab",
    "--chest-rt",
    "--equivalence",
    "--set",
    "--format",
]


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(["plan", "plan", "plan", "check", "bsa", "show"]))
    if command == "bsa":
        args = ["bsa", "--height", draw(values), "--weight", draw(values)]
        for option in draw(
            st.lists(st.sampled_from(["--formula", "--sex", "--format"]), max_size=3)
        ):
            args += [option, draw(values)]
        return args
    if command == "show":
        return [
            "regimens",
            "show",
            draw(st.one_of(st.sampled_from(library_ids()), values)),
            "--format",
            draw(st.sampled_from(["json", "table", "xml"])),
        ]
    options = PLAN_OPTIONS if command == "plan" else CHECK_OPTIONS
    args = [command]
    if command == "plan":
        args.append(draw(st.one_of(st.sampled_from(library_ids()), values)))
        if draw(st.booleans()):  # mostly a plausible patient, so the dose engine is reached
            args += ["--height", "172cm", "--weight", "68kg"]
    for option in draw(st.lists(st.sampled_from(options), max_size=6)):
        args += [option, draw(values)]
    if command == "plan" and draw(st.booleans()):
        args.append("--adjust-organ")
    if command == "check" and "--prior" not in args:
        args += ["--prior", draw(st.one_of(nasty, st.just("epirubicin=300mg/m2")))]
    return args


@FUZZ
@given(command_lines())
def test_fuzz_command_line_options(args: list[str]) -> None:
    code, out, err = invoke(args)
    assert_contract(args, code, out, err)


# ---------------------------------------------------------------- door 2: YAML files

GOOD_REGIMEN = {
    "id": "fuzz",
    "name": "fuzz",
    "cycle_length_days": 21,
    "cycles": 2,
    "sources": ["fixture"],
    "drugs": [
        {"drug": "cisplatin", "dose": "100 mg/m2", "days": 1},
        {"drug": "vincristine", "dose": "1.4 mg/m2", "days": "1,8", "max_dose": "2 mg"},
    ],
}
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    values,
    st.sampled_from(
        [
            "AUC 5",
            "AUC 50",
            "1-3",
            "1-400",
            "0",
            "2 mg",
            "1 g/m2",
            "10 units/m2",
            "5 mg/kg",
            "2018-09-19",
            "dia",
            "pelvis",
        ]
    ),
)
yaml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = [
    "id",
    "name",
    "cycle_length_days",
    "cycles",
    "sources",
    "drugs",
    "drug",
    "dose",
    "total_dose",
    "days",
    "route",
    "max_dose",
    "cycles",
    "notes",
    "colour",
]


@st.composite
def regimen_documents(draw: st.DrawFn) -> str:
    doc = json.loads(json.dumps(GOOD_REGIMEN))
    for _ in range(draw(st.integers(1, 4))):
        orders = doc.get("drugs")
        orders = [o for o in orders if isinstance(o, dict)] if isinstance(orders, list) else []
        target = draw(st.sampled_from(orders)) if orders and draw(st.booleans()) else doc
        key = draw(st.sampled_from(KEYS))
        if draw(st.integers(0, 4)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(yaml_values)
    try:
        return yaml.safe_dump(doc, allow_unicode=True)
    except Exception:  # a value PyYAML itself cannot write: try the plain good document
        return yaml.safe_dump(GOOD_REGIMEN)


HOSTILE = [
    "id: x\nx: !!python/object/apply:os.system ['echo pwned']\n",
    "a: &a [1,2]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
    "x: " + "[" * 5000 + "]" * 5000 + "\n",
    "x: " + "{a: " * 200 + "1" + "}" * 200 + "\n",
    "id: x\nid: y\n",
    "\ufeffid: fuzz\n",
    "--- \n--- \n",
    "!!binary aGVsbG8=\n",
    "id: x\ndrugs:\n  - drug: cisplatin\n    dose: .nan mg/m2\n    days: 1\n",
    "id: x\ncycle_length_days: 99999999999999999999\n",
    "course: c\nphases:\n  - regimen: /etc/passwd\n    cycles: 1\n    start: 2026-01-01\n",
    "course: c\nphases:\n  - regimen: dia\n    cycles: 100000\n    start: 2026-01-01\n",
    "course: c\nphases:\n  - radiotherapy: x\n    site: pelvis\n    dose_per_fraction: 1e9 Gy\n"
    "    fractions: 5\n    start: 2026-01-05\n",
]


@FUZZ
@given(st.one_of(regimen_documents(), st.sampled_from(HOSTILE), st.text(max_size=200)))
def test_fuzz_regimen_and_course_files(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("y") / "r.yaml"
    path.write_text(text, encoding="utf-8")
    out_file = path.with_name("out.json")
    args = [
        "plan",
        str(path),
        "--bsa",
        "1.8",
        "--start",
        "2026-01-05",
        "--format",
        "json",
        "--output",
        str(out_file),
    ]
    code, out, err = invoke(args)
    assert "Traceback" not in err and code in (0, 1, 2), (text, code, err)
    if code == 2:
        assert err.startswith("Error:") and not out_file.exists(), (text, err)
    else:
        jsonschema.validate(json.loads(out_file.read_text()), PLAN_SCHEMA)


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_raw_bytes_as_a_regimen(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("b") / "r.yaml"
    path.write_bytes(data)
    code, out, err = invoke(["regimens", "validate", str(path)])
    assert code in (0, 1, 2) and "Traceback" not in err, (data, err)


policy_values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(
        st.sampled_from(["cisplatin", "EPI", "x", "TAX"]),
        st.one_of(scalars, st.lists(scalars, max_size=3)),
        max_size=2,
    ),
)
SECTIONS = {
    "bsa": ["formula", "cap_m2", "x"],
    "weight": ["dosing_weight", "change_threshold_percent"],
    "carboplatin": ["gfr_cap_ml_min", "scr_floor_mg_dl", "cap_given_gfr", "cockcroft_gault_weight"],
    "rounding": ["method", "increment_mg", "tolerance_percent", "strengths", "bands"],
    "cumulative": ["equivalence", "options"],
    "other": ["x"],
}


def toml_value(v: object) -> str:
    if v is None:
        return '"none"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if v == v and abs(v) != float("inf") else '"nan"'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f'"{k}" = {toml_value(x)}' for k, x in v.items()) + "}"
    return json.dumps(str(v))


@FUZZ
@given(st.dictionaries(st.sampled_from(list(SECTIONS)), st.data(), max_size=3), st.data())
def test_fuzz_policy_files(tmp_path_factory, sections, data) -> None:
    lines = []
    for section in sections:
        lines.append(f"[{section}]")
        for key in data.draw(st.lists(st.sampled_from(SECTIONS[section]), max_size=3, unique=True)):
            lines.append(f"{key} = {toml_value(data.draw(policy_values))}")
    path = tmp_path_factory.mktemp("p") / "p.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = [
        "plan",
        "dia",
        "--height",
        "172cm",
        "--weight",
        "68kg",
        "--policy",
        str(path),
        "--format",
        "json",
        "--start",
        "2026-01-05",
    ]
    code, out, err = invoke(args)
    assert_contract(args, code, out, err)


# ---------------------------------------------------------------- door 3: history files

cells = st.one_of(
    values,
    st.sampled_from(
        [
            "2019-01-05",
            "2099-01-01",
            "2019-13-40",
            "EPI",
            "epirubicin",
            "TAX",
            "doxorubicin",
            "bleomycin",
            "40",
            "0",
            "-1",
            "1e400",
            "mg/m2",
            "mg",
            "units",
            "mg/kg",
            "1.8",
            "P1",
            "dia",
            "1",
            "",
            "=HYPERLINK(1)",
            *NUMBER_FORMS,
        ]
    ),
)
COLUMNS = [
    "date",
    "drug",
    "dose",
    "unit",
    "bsa_m2",
    "patient",
    "regimen",
    "cycle",
    "day",
    "note",
    "extra",
]


@st.composite
def histories(draw: st.DrawFn) -> str:
    header = draw(
        st.one_of(
            st.just(["date", "drug", "dose", "unit"]),
            st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=7),
        )
    )
    sep = draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    rows = draw(
        st.lists(st.lists(cells, min_size=len(header) - 1, max_size=len(header) + 1), max_size=6)
    )
    good = ["2019-01-05", "EPI", "40", "mg/m2"]
    lines = [sep.join(header)]
    if header == ["date", "drug", "dose", "unit"]:
        lines.append(sep.join(good))
    lines += [sep.join(c.replace("\n", " ").replace("\r", " ") for c in r) for r in rows]
    return "\n".join(lines) + "\n"


@FUZZ
@given(st.one_of(histories(), st.text(max_size=300)))
def test_fuzz_history_csv(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("h") / "h.csv"
    path.write_text(text, encoding="utf-8")
    args = ["check", "--history", str(path), "--format", "json", "--next", "ddp-epi"]
    code, out, err = invoke(args)
    assert_contract(args, code, out, err)


@FUZZ
@given(st.lists(st.dictionaries(st.sampled_from(COLUMNS), cells, max_size=6), max_size=5))
def test_fuzz_history_yaml(tmp_path_factory, rows: list[dict]) -> None:
    path = tmp_path_factory.mktemp("h") / "h.yaml"
    path.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")
    args = ["check", "--history", str(path), "--format", "json"]
    code, out, err = invoke(args)
    assert_contract(args, code, out, err)


# ---------------------------------------------------------------- door 4: numbers as written
# (issue 15) Raw number texts, put where a number goes in every kind of input: exit 0/1 with a
# valid result when the text is a number written the one way, else exit 2; never exit 3.

HALF = settings(FUZZ, max_examples=max(N // 2, 10), deadline=30000)  # a loaded CI machine
raw_numbers = st.one_of(
    st.sampled_from(NUMBER_FORMS),
    st.integers(-(2**70), 2**70).map(str),
    st.from_regex(r"\A[+-]?[0-9_]{0,6}(\.[0-9_]{0,4})?([eE][+-]?[0-9]{1,4})?\Z"),
    st.text(alphabet="0123456789_.:+-eExob١٧５", min_size=1, max_size=8),
)
far_dates = st.builds(
    lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
    st.integers(0, 9999),
    st.integers(1, 12),
    st.integers(1, 31),
)

REGIMEN_TEMPLATE = """id: fuzz
name: fuzz
cycle_length_days: {0}
cycles: {1}
sources: [fixture]
drugs:
  - drug: cisplatin
    dose: {2} mg/m2
    days: {3}
  - drug: vincristine
    dose: {4}
    days: [1, {5}]
    max_dose: {6} mg
"""
COURSE_TEMPLATE = """course: fuzz
patient:
  height: {0}
  weight: {1}
  age: {2}
phases:
  - radiotherapy: IMRT
    site: chest
    dose_per_fraction: {3} Gy
    fractions: {4}
    start: {5}
    cardiac: {6}
  - regimen: ec
    cycles: {7}
"""


@HALF
@given(
    st.sampled_from([REGIMEN_TEMPLATE, COURSE_TEMPLATE]),
    st.lists(
        st.one_of(raw_numbers, st.sampled_from(["21", "2", "1.4", "8", "1"])),
        min_size=8,
        max_size=8,
    ),
    st.sampled_from(["true", "false", "no", "0", "1", '""', "off"]),
    st.one_of(far_dates, st.just("2026-01-05")),
)
def test_fuzz_raw_numbers_in_regimen_and_course_files(
    tmp_path_factory, template: str, numbers: list[str], cardiac: str, start: str
) -> None:
    if template is COURSE_TEMPLATE:
        numbers[5], numbers[6] = start, cardiac
    path = tmp_path_factory.mktemp("n") / "r.yaml"
    path.write_text(template.format(*numbers), encoding="utf-8")
    args = ["plan", str(path), "--bsa", "1.8", "--format", "json"]
    if template is REGIMEN_TEMPLATE:
        args += ["--start", start]
    code, out, err = invoke(args)
    assert_contract(args, code, out, err)


plain_or_raw = st.one_of(raw_numbers, st.sampled_from(["40", "1.8", "1", "2", "4", "21"]))


@HALF
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "date": st.one_of(far_dates, st.just("2020-01-06")),
                "dose": plain_or_raw,
                "bsa_m2": plain_or_raw,
                "cycle": plain_or_raw,
                "day": plain_or_raw,
            }
        ),
        min_size=1,
        max_size=3,
    ),
    st.booleans(),
)
def test_fuzz_raw_numbers_in_history_files(
    tmp_path_factory, rows: list[dict], as_yaml: bool
) -> None:
    folder = tmp_path_factory.mktemp("n")
    if as_yaml:
        path = folder / "h.yaml"
        path.write_text(
            "".join(
                "- drug: epirubicin\n  unit: mg\n  regimen: ec\n"
                + "".join(f"  {k}: {v}\n" for k, v in r.items())
                for r in rows
            ),
            encoding="utf-8",
        )
    else:
        path = folder / "h.csv"
        path.write_text(
            "drug,unit,regimen,date,dose,bsa_m2,cycle,day\n"
            + "".join(f"epirubicin,mg,ec,{','.join(r.values())}\n" for r in rows),
            encoding="utf-8",
        )
    for args in (
        ["check", "--history", str(path), "--bsa", "1.8", "--format", "json"],
        [
            "plan",
            "ec",
            "--bsa",
            "1.8",
            "--history",
            str(path),
            "--actual-dates",
            "--format",
            "json",
        ],
    ):
        code, out, err = invoke(args)
        assert_contract(args, code, out, err)


@HALF
@given(st.data())
def test_fuzz_raw_numbers_in_options(data: st.DataObject) -> None:
    n = data.draw(raw_numbers)
    m = data.draw(raw_numbers)
    kind = data.draw(
        st.sampled_from(["cycles", "delay", "reduce", "escalate", "start", "check", "lab"])
    )
    args = ["plan", data.draw(st.sampled_from(["ec", "dia"])), "--bsa", "1.8"]
    if kind == "cycles":
        args += ["--cycles", n]
    elif kind == "delay":
        args += ["--delay", f"{n}={m}"]
    elif kind in ("reduce", "escalate"):
        drug = data.draw(st.sampled_from(["all", "cisplatin", "epirubicin"]))
        args += [f"--{kind}", f"{drug}={n}%@{m}", "--reason", "fuzz"]
    elif kind == "lab":
        lab = data.draw(
            st.sampled_from(["anc={}x10^{}/L", "platelets={}x10^{}/L", "scr={}e{}mg/dL"])
        )
        args += ["--lab", lab.format(n, m), "--start", "2026-12-01"]
    elif kind == "start":
        args += [
            "--start",
            data.draw(far_dates),
            "--cycles",
            data.draw(st.sampled_from(["1", "100"])),
        ]
    else:
        args = ["check", "--prior", f"epirubicin={n}mg/m2", "--next", "ec", "--cycles", m]
        args += ["--jobs", data.draw(st.one_of(raw_numbers, st.just("1")))]
    code, out, err = invoke(args)
    assert_contract(args, code, out, err)


LAB_COLUMNS = ["date", "name", "value", "unit", "patient", "DATE", ""]
lab_cells = st.one_of(
    st.sampled_from(
        [
            "2026-11-28",
            "2099-01-01",
            "28/11/2026",
            "",
            "anc",
            "platelets",
            "bilirubin",
            "ast",
            "scr",
            "crcl",
            "xyz",
            "1.2",
            "-1",
            "1e400",
            "nan",
            "1,2",
            "x10^9/L",
            "/uL",
            "G/L",
            "mg/dL",
            "umol/L",
            "U/L",
            "U",
            "xULN",
            "mL/min",
            '"',
        ]
    ),
    st.text(max_size=8),
)


@st.composite
def lab_files(draw: st.DrawFn) -> str:
    header = draw(
        st.one_of(
            st.just(["date", "name", "value", "unit"]),
            st.lists(st.sampled_from(LAB_COLUMNS), min_size=1, max_size=6),
        )
    )
    rows = draw(
        st.lists(
            st.lists(lab_cells, min_size=max(len(header) - 1, 0), max_size=len(header) + 1),
            max_size=6,
        )
    )
    lines = [",".join(header)]
    if header == ["date", "name", "value", "unit"]:
        lines.append("2026-11-28,anc,1.0,x10^9/L")
    lines += [",".join(c.replace("\n", " ").replace("\r", " ") for c in r) for r in rows]
    return "\n".join(lines) + "\n"


@FUZZ
@given(
    st.one_of(lab_files(), st.text(max_size=300)),
    st.sampled_from(["ec", "dia", "carboplatin-paclitaxel"]),
)
def test_fuzz_lab_file(tmp_path_factory, text: str, regimen: str) -> None:
    path = tmp_path_factory.mktemp("l") / "labs.csv"
    path.write_text(text, encoding="utf-8")
    args = [
        "plan",
        regimen,
        "--height",
        "170cm",
        "--weight",
        "70kg",
        "--age",
        "60",
        "--sex",
        "female",
        "--scr",
        "0.9mg/dL",
        "--start",
        "2026-12-01",
        "--labs",
        str(path),
        "--adjust-organ",
        "--format",
        "json",
    ]
    code, out, err = invoke(args)
    assert_contract(args, code, out, err)


toml_numbers = st.one_of(
    raw_numbers.filter(lambda t: "\n" not in t and '"' not in t),
    st.sampled_from(['""', '" "', '"none"', '"None"', '"off"', '"bogus"', "true", "[]", "[1, 2]"]),
)


@HALF
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    ("carboplatin", "gfr_cap_ml_min"),
                    ("carboplatin", "scr_floor_mg_dl"),
                    ("bsa", "cap_m2"),
                    ("rounding", "increment_mg"),
                    ("cumulative", "equivalence"),
                    ("weight", "change_threshold_percent"),
                ]
            ),
            toml_numbers,
        ),
        max_size=3,
        unique_by=lambda x: x[0],
    ),
    st.integers(0, 3),
)
def test_fuzz_raw_numbers_in_policy_files(tmp_path_factory, items: list, depth: int) -> None:
    lines = []
    for (section, key), value in items:
        lines += [f"[{section}]", f"{key} = {value}"]
    if depth:
        lines.append("[rounding.strengths]")
        lines.append("cisplatin = " + "[" * 10**depth + "1" + "]" * 10**depth)
    path = tmp_path_factory.mktemp("p") / "p.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for args in (
        ["policy", "show", "--policy", str(path), "--format", "json"],
        [
            "plan",
            "carboplatin-paclitaxel",
            "--bsa",
            "1.8",
            "--gfr",
            "90mL/min",
            "--policy",
            str(path),
        ],
    ):
        code, out, err = invoke(args)
        assert_contract(args, code, out, err)


@settings(FUZZ, max_examples=max(N // 8, 10))
@given(raw_numbers, raw_numbers, raw_numbers)
def test_fuzz_raw_numbers_in_ledger_options(
    tmp_path_factory, cycle: str, day: str, seq: str
) -> None:
    db = f"sqlite:///{tmp_path_factory.mktemp('l') / 'l.db'}"
    record = ["ledger", "record", "--patient", "P1", "--date", "2025-01-06", "--drug", "EPI"]
    record += ["--dose", "40mg/m2", "--cycle", cycle, "--day", day, "--db", db]
    code, out, err = invoke(record)
    assert_contract(record, code, out, err)
    void = ["ledger", "void", seq, "--patient", "P1", "--reason", "fuzz", "--db", db]
    code, out, err = invoke(void)
    assert code in (0, 2) and "Traceback" not in err, (void, code, err)


# ---------------------------------------------------------------- the error contract


def _commands(group, prefix=()):  # every public command of the app
    from typer.main import get_command

    cmd = get_command(group) if not hasattr(group, "commands") else group
    for name, sub in getattr(cmd, "commands", {}).items():
        if hasattr(sub, "commands"):
            yield from _commands(sub, (*prefix, name))
        else:
            yield (*prefix, name)


COMMANDS = sorted(_commands(app))


def test_every_public_command_is_covered() -> None:
    assert {" ".join(c) for c in COMMANDS} >= {
        "plan",
        "check",
        "bsa",
        "regimens list",
        "regimens show",
        "regimens validate",
        "policy show",
    }


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    "junk",
    [
        ["--bogus"],
        ["nonexistent.yaml"],
        ["--format", "nope"],
        ["--history", "/nonexistent/h.csv"],
        ["\u202e💊", "--height"],
    ],
)
def test_no_public_command_prints_a_traceback(
    run, command: tuple[str, ...], junk: list[str]
) -> None:
    p = run(*command, *junk)
    assert p.returncode in (0, 1, 2), (command, junk, p.stderr)
    assert "Traceback" not in p.stderr + p.stdout


def test_output_file_is_never_left_half_written(cli, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    code, _, _ = cli("plan", "dia", "--height", "1.75", "--weight", "70kg", "--output", str(out))
    assert code == 2 and not out.exists() and not list(tmp_path.iterdir())


# ---------------------------------------------------------------- door 5: the patient ledger
# FHIR imports of every wrong JSON type, integers past any column, texts at and past every
# bound (on SQLite and on a real PostgreSQL), and damaged ledger files: exit 0/1/2, never 3.

GOOD_ADMIN = {
    "resourceType": "MedicationAdministration",
    "id": "a1",
    "status": "completed",
    "medicationCodeableConcept": {"text": "Epirubicin", "coding": [{"display": "epirubicin"}]},
    "subject": {"reference": "Patient/F1"},
    "effectiveDateTime": "2024-01-05T09:30:00+01:00",
    "dosage": {
        "dose": {
            "value": 90,
            "unit": "mg/m2",
            "system": "http://unitsofmeasure.org",
            "code": "mg/m2",
        }
    },
    "note": [{"text": "given"}],
}
FHIR_PATHS = [
    ("resourceType",),
    ("id",),
    ("identifier",),
    ("status",),
    ("subject",),
    ("subject", "reference"),
    ("effectiveDateTime",),
    ("effectivePeriod",),
    ("effectivePeriod", "start"),
    ("dosage",),
    ("dosage", "dose"),
    ("dosage", "dose", "value"),
    ("dosage", "dose", "unit"),
    ("dosage", "dose", "code"),
    ("dosage", "dose", "system"),
    ("medicationCodeableConcept",),
    ("medicationCodeableConcept", "text"),
    ("medicationCodeableConcept", "coding"),
    ("medicationReference",),
    ("note",),
]
HUGE_INTS = st.one_of(
    st.integers(),
    st.integers(2**31 - 3, 2**31 + 3),
    st.integers(2**63 - 3, 2**63 + 3),
    st.integers(-(2**63) - 3, -(2**31) + 3),
    st.sampled_from([10**20, 10**400, -(10**20), 0, -1]),
)
json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    HUGE_INTS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            "2024-01-05",
            "2025-01-06garbage",
            "2024-01-05T09:30:00Z",
            "mg/m2",
            "mg",
            "g/m2",
            "units",
            "Patient/F1",
            "Patient/",
            "completed",
            "not-done",
            "epirubicin",
            "doxorubicin",
            "http://unitsofmeasure.org",
            "\u0000",
            "x" * 250,
        ]
    ),
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def fhir_bundles(draw: st.DrawFn) -> str:
    admin = json.loads(json.dumps(GOOD_ADMIN))
    for _ in range(draw(st.integers(1, 4))):
        *parents, key = draw(st.sampled_from(FHIR_PATHS))
        target = admin
        for name in parents:
            if not isinstance(target.get(name), dict):
                target[name] = {}
            target = target[name]
        if draw(st.integers(0, 5)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(json_values)
    resources = [admin] + ([GOOD_ADMIN] if draw(st.booleans()) else [])
    entries = [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate(resources)]
    if draw(st.integers(0, 6)) == 0:
        entries.append(draw(json_values))
    text = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})
    if draw(st.integers(0, 4)) == 0:  # a key given twice
        key = draw(st.sampled_from(['"value": ', '"code": ', '"status": ', '"reference": ']))
        text = text.replace(key, f"{key}{json.dumps(draw(json_leaves))}, {key}", 1)
    return text


# a ledger command waits on its database: a loaded machine may take seconds for one example
LEDGER_FUZZ = settings(FUZZ, deadline=None)


def _ledger_ok(args: list[str], code: int, out: str, err: str) -> None:
    assert "Traceback" not in out + err, (args, err)
    assert code in (0, 1, 2), (args, code, err)
    if code == 2:
        assert _one_refusal(err), (args, err)


@LEDGER_FUZZ
@given(st.one_of(fhir_bundles(), st.text(max_size=200)))
def test_fuzz_fhir_imports(tmp_path_factory, text: str) -> None:
    folder = tmp_path_factory.mktemp("f")
    path = folder / "mar.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    args = ["ledger", "import", str(path), "--db", f"sqlite:///{folder / 'l.db'}"]
    _ledger_ok(args, *invoke(args))


@pytest.fixture(params=["sqlite", "postgresql"])
def fuzz_ledger(request, tmp_path_factory):
    """One ledger for a fuzz test (its examples add to it): SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('fl') / 'ledger.db'}"
        return
    from tests import pg

    with pg.database(request.getfixturevalue("postgres_server")) as url:
        yield url


texts = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=195, max_size=210),
    st.sampled_from(
        [
            "x" * 199,
            "x" * 200,
            "x" * 201,
            "é" * 200,
            "é" * 201,
            "a\u0000b",
            "\ud800",
            "n" * 2001,
            "",
        ]
    ),
)
RECORD_TEXTS = ["--patient", "--note", "--regimen", "--by", "--id", "--time", "--drug", "--bsa"]


@st.composite
def ledger_commands(draw: st.DrawFn, db: str) -> list[str]:
    kind = draw(st.sampled_from(["record", "record", "void", "read"]))
    if kind == "void":
        return [
            "ledger",
            "void",
            str(draw(HUGE_INTS)),
            "--patient",
            draw(texts),
            "--reason",
            draw(texts),
            "--db",
            db,
        ]
    if kind == "read":
        command = draw(st.sampled_from([["check"], ["ledger", "list"], ["ledger", "export"]]))
        return [*command, "--patient", draw(texts), "--db", db]
    args = {"--patient": "P1", "--date": "2024-01-05", "--drug": "cisplatin", "--dose": "50mg/m2"}
    for option in draw(
        st.lists(st.sampled_from([*RECORD_TEXTS, "--cycle", "--day", "--dose"]), max_size=3)
    ):
        if option in ("--cycle", "--day"):
            args[option] = str(draw(HUGE_INTS))
        elif option == "--dose":
            args[option] = draw(
                st.sampled_from(["1" * 45 + "mg", f"{draw(HUGE_INTS)}mg", "9000mg/m2"])
            )
        else:
            args[option] = draw(texts)
    return ["ledger", "record", "--db", db, "--again", *[x for kv in args.items() for x in kv]]


@LEDGER_FUZZ
@given(data=st.data())
def test_fuzz_ledger_bounds_on_both_databases(fuzz_ledger: str, data) -> None:
    """Every stored field's bound, integers past 2³¹ and 2⁶³, NUL and broken text: the same
    answer on SQLite and PostgreSQL, and never an internal error."""
    args = data.draw(ledger_commands(fuzz_ledger))
    _ledger_ok(args, *invoke(args))


@LEDGER_FUZZ
@given(st.lists(st.tuples(HUGE_INTS, HUGE_INTS), min_size=1, max_size=3))
def test_fuzz_huge_integers_in_an_import(tmp_path_factory, pairs) -> None:
    folder = tmp_path_factory.mktemp("h")
    rows = "".join(f"2024-01-{i + 1:02d},EPI,50,mg/m2,{c},{d}\n" for i, (c, d) in enumerate(pairs))
    path = folder / "h.csv"
    path.write_text("date,drug,dose,unit,cycle,day\n" + rows, encoding="utf-8")
    args = ["ledger", "import", str(path), "--patient", "H", "--db", f"sqlite:///{folder / 'l.db'}"]
    _ledger_ok(args, *invoke(args))


@pytest.fixture(scope="module")
def sound_ledger(tmp_path_factory) -> Path:
    """The bytes of a sound SQLite ledger: seven doses of 50 mg/m² epirubicin for P (350),
    and 60 records of other patients around them."""
    import sqlite3

    folder = tmp_path_factory.mktemp("sound")
    db = f"sqlite:///{folder / 'l.db'}"
    rows = "".join(
        f"2020-{1 + i % 12:02d}-{1 + i % 28:02d},cisplatin,{20 + i},mg/m2,,Q{i}\n"
        for i in range(60)
    )
    rows += "".join(f"2024-{m:02d}-05,epirubicin,50,mg/m2,,P\n" for m in range(1, 8))
    path = folder / "h.csv"
    path.write_text("date,drug,dose,unit,bsa_m2,patient\n" + rows, encoding="utf-8")
    code, _, err = invoke(["ledger", "import", str(path), "--db", db])
    assert code == 0, err
    sqlite3.connect(folder / "l.db").execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    return folder / "l.db"


@st.composite
def damages(draw: st.DrawFn, size: int) -> tuple[str, int, int, bytes]:
    kind = draw(
        st.sampled_from(["truncate", "zero", "random", "zero-page", "random-page", "empty"])
    )
    pages = size // 4096
    if kind.endswith("page"):
        start, length = draw(st.integers(0, pages - 1)) * 4096, 4096
    else:
        start = draw(st.integers(0, size - 1))
        length = draw(st.integers(1, 8192))
    noise = draw(st.binary(min_size=length, max_size=length)) if "random" in kind else b""
    return kind, start, length, noise


DAMAGED_USES = [
    ["check", "--patient", "P", "--format", "json"],
    ["plan", "ec", "--bsa", "1.8", "--start", "2026-12-01", "--patient", "P", "--format", "json"],
    ["check", "--all-patients", "--format", "json"],
    ["ledger", "verify"],
    ["ledger", "list"],
    ["ledger", "export", "--patient", "P"],
    [
        "ledger",
        "record",
        "--patient",
        "P",
        "--date",
        "2024-09-05",
        "--drug",
        "EPI",
        "--dose",
        "50mg/m2",
    ],
]


@LEDGER_FUZZ
@given(data=st.data())
def test_fuzz_damaged_ledger_files(tmp_path_factory, sound_ledger: Path, data) -> None:
    """A damaged SQLite ledger (cut short, zeroed, overwritten): every command ends in exit 0,
    1 or 2, and a total it reports is the true one (350 mg/m² epirubicin), never a smaller."""
    sound = sound_ledger.read_bytes()
    kind, start, length, noise = data.draw(damages(len(sound)))
    damaged = bytearray(sound)
    if kind == "truncate":
        damaged = damaged[:start]
    elif kind == "empty":
        damaged = bytearray()
    elif kind.startswith("zero"):
        damaged[start : start + length] = bytes(len(damaged[start : start + length]))
    else:
        damaged[start : start + length] = noise[: len(damaged[start : start + length])]
    folder = tmp_path_factory.mktemp("d")
    (folder / "l.db").write_bytes(bytes(damaged))
    args = [*data.draw(st.sampled_from(DAMAGED_USES)), "--db", f"sqlite:///{folder / 'l.db'}"]
    code, out, err = invoke(args)
    _ledger_ok(args, code, out, err)
    if code == 0 and args[0] == "check" and "--patient" in args:
        [epi] = [t for t in json.loads(out)["cumulative"] if t["drug"] == "epirubicin"]
        assert epi["prior"] == pytest.approx(350.0), (kind, start, length)
    if code == 0 and args[0] == "plan":
        [epi] = [t for t in json.loads(out)["cumulative"] if t["drug"] == "epirubicin"]
        assert epi["prior"] == pytest.approx(350.0), (kind, start, length)


def test_a_foreign_sqlite_file_as_a_ledger(tmp_path) -> None:
    import sqlite3

    for i, script in enumerate(["", "CREATE TABLE t (x);", "CREATE TABLE dosecalc_records (x);"]):
        path = tmp_path / f"{i}.db"
        conn = sqlite3.connect(path)
        conn.executescript(script or "PRAGMA user_version = 3;")
        conn.close()
        for use in DAMAGED_USES:
            args = [*use, "--db", f"sqlite:///{path}"]
            code, out, err = invoke(args)
            assert code == 2 and err.startswith("Error:"), (args, err)


# ---------------------------------------------------------------- door 4: written orders

GOOD_ORDER = {
    "order": "F-1",
    "regimen": "ec",
    "regimen_version": "1",
    "cycle": 2,
    "start": "2026-12-22",
    "patient": {"height": "175 cm", "weight": "70 kg", "bsa": "1.84 m2", "measured": "2026-11-28"},
    "lines": [
        {"drug": "epirubicin", "dose": "166 mg", "day": 1, "route": "IV"},
        {"drug": "cyclophosphamide", "dose": "1107 mg", "day": 1, "route": "IV"},
    ],
    "acknowledged": [
        {"code": "ORDER_DOSE_DEVIATION", "drug": "epirubicin", "reason": "r", "by": "b"}
    ],
}
ORDER_KEYS = [
    "order",
    "regimen",
    "regimen_version",
    "cycle",
    "start",
    "patient",
    "lines",
    "acknowledged",
    "drug",
    "dose",
    "day",
    "route",
    "height",
    "weight",
    "bsa",
    "measured",
    "age",
    "id",
    "code",
    "reason",
    "by",
    "colour",
]
order_scalars = st.one_of(
    scalars,
    st.sampled_from(
        ["1.5 g", "500 mcg", "15 units", "1e9 mg", "0 mg", "-5 mg", "166 mg/m2", "IV", "PO",
         "intrathecal", "ddp-epi", "map", "regimens/ec.yaml", "../x.yaml", "2099-01-01",
         "1900-01-01", "ORDER_LINE_MISSING", "DOSE_ABOVE_USUAL_MAXIMUM", "P1", 22, 400]
    ),
)  # fmt: skip
order_values = st.recursive(
    order_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(ORDER_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def order_documents(draw: st.DrawFn) -> str:
    doc = json.loads(json.dumps(GOOD_ORDER))
    for _ in range(draw(st.integers(1, 4))):
        targets: list[dict] = [doc]
        for key in ("patient", "lines", "acknowledged"):
            value = doc.get(key)
            if isinstance(value, dict):
                targets.append(value)
            elif isinstance(value, list):
                targets += [x for x in value if isinstance(x, dict)]
        target = draw(st.sampled_from(targets))
        key = draw(st.sampled_from(ORDER_KEYS))
        if draw(st.integers(0, 4)) == 0:
            target.pop(key, None)
        elif key == "lines" and target is doc and draw(st.booleans()):
            target[key] = [dict(x) for x in GOOD_ORDER["lines"]] * draw(st.integers(0, 3))
        else:
            target[key] = draw(order_values)
    try:
        return yaml.safe_dump(doc, allow_unicode=True)
    except Exception:
        return yaml.safe_dump(GOOD_ORDER)


@FUZZ
@given(st.one_of(order_documents(), st.sampled_from(HOSTILE), st.text(max_size=200)), st.booleans())
def test_fuzz_order_files(tmp_path_factory, text: str, current: bool) -> None:
    path = tmp_path_factory.mktemp("o") / "order.yaml"
    path.write_text(text, encoding="utf-8")
    args = ["verify", str(path), "--format", "json"]
    if current:
        args += ["--height", "172cm", "--weight", "68kg"]
    code, out, err = invoke(args)
    assert_contract(args, code, out, err)


def _bundle() -> dict:
    code, out, _ = invoke(
        ["plan", "ec", "--height", "175cm", "--weight", "70kg", "--start", "2026-11-10",
         "--cycles", "2", "--format", "fhir"]
    )  # fmt: skip
    assert code == 0
    return json.loads(out)


BUNDLE = None
FHIR_KEYS = ["resourceType", "status", "dosageInstruction", "doseAndRate", "doseQuantity",
             "value", "unit", "code", "system", "timing", "event", "sequence", "route", "text",
             "medicationCodeableConcept", "groupIdentifier", "valueQuantity", "effectiveDateTime",
             "entry", "resource", "repeat", "boundsPeriod", "start", "coding", "gender",
             "birthDate", "medicationReference", "reference"]  # fmt: skip


@st.composite
def bundles(draw: st.DrawFn) -> str:
    global BUNDLE
    if BUNDLE is None:
        BUNDLE = _bundle()
    doc = json.loads(json.dumps(BUNDLE))
    for _ in range(draw(st.integers(1, 4))):
        # walk down to a random dict inside the bundle
        node: object = doc
        for _ in range(draw(st.integers(0, 6))):
            children = (
                [v for v in node.values() if isinstance(v, dict | list)]
                if isinstance(node, dict)
                else [v for v in node if isinstance(v, dict | list)]
                if isinstance(node, list)
                else []
            )
            if not children:
                break
            node = draw(st.sampled_from(children))
        if isinstance(node, dict):
            key = draw(st.sampled_from(FHIR_KEYS))
            if draw(st.integers(0, 3)) == 0:
                node.pop(key, None)
            else:
                node[key] = draw(order_values)
    return json.dumps(doc)


@FUZZ
@given(st.one_of(bundles(), st.text(max_size=100).map(lambda t: "{" + t)))
def test_fuzz_fhir_orders(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("f") / "order.json"
    path.write_text(text, encoding="utf-8")
    args = ["verify", str(path), "--cycle", "2", "--height", "175cm", "--weight", "70kg",
            "--format", "json"]  # fmt: skip
    code, out, err = invoke(args)
    assert_contract(args, code, out, err)
