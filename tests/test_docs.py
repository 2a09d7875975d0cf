"""The documentation a user has (docs/, `dosecalc docs`, `dosecalc schema`) covers everything
dosecalc does, and no text a user sees mentions a document the user does not have.

These tests fail when a command, an option, a warning code, a policy key or a file field is
added without its documentation.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

from dosecalc.outputs.schema import NAMES as SCHEMAS
from tests.conftest import DIA, ROOT

DOCS = ROOT / "docs"
# documents of the project that a user of dosecalc does not have
PRIVATE = re.compile(r"CONTRACT|DESIGN\.md|seed-case\.md|clinical\.md|prior-art\.md|/work/shared")


def commands() -> dict[str, list[str]]:
    """'ledger record' → its options and arguments, as typer builds them."""
    from dosecalc.cli import command

    out: dict[str, list[str]] = {}

    def walk(group, prefix: str) -> None:
        for name in group.commands:
            cmd = group.commands[name]
            path = f"{prefix} {name}".strip()
            if hasattr(cmd, "commands"):
                walk(cmd, path)
                continue
            names = []
            for p in cmd.params:
                if p.param_type_name == "option":
                    names += list(p.opts)
                else:
                    names.append(p.name.upper())
            out[path] = names

    walk(command(), "")
    return out


def section(page: str, heading: str) -> str:
    text = (DOCS / page).read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_every_command_and_option_is_documented() -> None:
    missing = []
    for path, names in commands().items():
        try:
            body = section("commands.md", f"dosecalc {path}")
        except ValueError:
            missing.append(f"dosecalc {path} (no section)")
            continue
        missing += [f"dosecalc {path} {n}" for n in names if f"`{n}" not in body]
    assert not missing, f"undocumented in docs/commands.md: {missing}"


CODE = re.compile(r"^[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+$")
NOT_CODES = re.compile(r"^(DOSECALC|PYDANTIC)_")  # environment variables


def warning_codes() -> set[str]:
    """Every warning code in the source (a constant such as "DOSE_CAPPED") and every monitoring
    code in the data files."""
    codes = set()
    for path in (ROOT / "dosecalc").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if CODE.match(node.value) and not NOT_CODES.match(node.value):
                    codes.add(node.value)
    for path in (ROOT / "dosecalc" / "data").glob("*.yaml"):
        codes |= set(re.findall(r"\bcode:\s*([A-Z][A-Z0-9_]+)", path.read_text(encoding="utf-8")))
    return codes


def test_every_warning_code_is_documented() -> None:
    codes = warning_codes()
    assert {"CUMULATIVE_LIMIT_EXCEEDED", "NEXT_EXCEEDS_LIMIT", "OTOTOXICITY_MONITORING"} <= codes
    text = (DOCS / "warnings.md").read_text(encoding="utf-8")
    missing = sorted(c for c in codes if f"`{c}`" not in text)
    assert not missing, f"undocumented in docs/warnings.md: {missing}"


def test_the_monitoring_codes_are_the_rows_warnings_md_says_they_are() -> None:
    """warnings.md names the first and the last row of the ceiling data's monitoring codes:
    the rows between them are those codes, no more (ORDER_* and MTX_* rows came after)."""
    text = (DOCS / "warnings.md").read_text(encoding="utf-8")
    first, last = re.search(r"The codes from `(\w+)` to `(\w+)` are monitoring", text).groups()
    rows = re.findall(r"^\| `(\w+)` \|", text, re.M)
    between = set(rows[rows.index(first) : rows.index(last) + 1])
    data = (ROOT / "dosecalc" / "data" / "ceilings.yaml").read_text(encoding="utf-8")
    monitoring = set(re.findall(r"^\s*code: (\w+)", data, re.M))
    assert between == monitoring - {"CUMULATIVE_LIMIT_NOT_CHECKED"}


def test_every_policy_key_and_file_field_is_documented() -> None:
    from dosecalc.clinical.policy import SETTINGS
    from dosecalc.data import regimen
    from dosecalc.inputs import history
    from dosecalc.workflows import course

    def lacking(page: str, names) -> list[str]:
        text = (DOCS / page).read_text(encoding="utf-8")
        return [n for n in names if not re.search(rf"(?<![\w.]){re.escape(n)}(?![\w])", text)]

    assert not lacking("policy.md", SETTINGS), "docs/policy.md"
    assert not lacking("history.md", history.COLUMNS), "docs/history.md"
    fields = [
        *regimen.Regimen.model_fields,
        *regimen.DrugOrder.model_fields,
        *regimen.Infusion.model_fields,
    ]
    assert not lacking("regimen.md", fields), "docs/regimen.md"
    course_fields = [
        *course.CourseHead.model_fields,
        *course.PatientBlock.model_fields,
        *(f for m in course.KINDS.values() for f in m.model_fields),
    ]
    assert not lacking("course.md", course_fields), "docs/course.md"
    from dosecalc.inputs import order

    order_fields = [
        *order.OrderFile.model_fields,
        *order.PatientBlock.model_fields,
        *order.LineModel.model_fields,
        *order.AckModel.model_fields,
    ]
    assert not lacking("order.md", order_fields), "docs/order.md"


def test_docs_links_point_at_pages_that_exist() -> None:
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name} links to {target}"


def test_dosecalc_docs_prints_each_page(run) -> None:
    listed = run("docs")
    assert listed.returncode == 0
    for page in DOCS.glob("*.md"):
        assert page.stem.lower() in listed.stdout
    shown = run("docs", "history")
    assert shown.stdout == (DOCS / "history.md").read_text(encoding="utf-8")
    wrong = run("docs", "histroy")
    assert wrong.returncode == 2 and "did you mean history?" in wrong.stderr


def test_the_docs_list_every_topic_and_every_schema() -> None:
    """The lists a user reads, against the program's own: `dosecalc docs`'s pages in
    commands.md, `dosecalc schema`'s names in commands.md and docs/README.md."""
    from dosecalc.outputs.schema import topics

    def named(text: str) -> set[str]:
        return set(re.findall(r"`([a-z-]+)`", text))

    docs_part = section("commands.md", "dosecalc docs")
    assert set(topics()) <= named(docs_part), set(topics()) - named(docs_part)
    schema_part = section("commands.md", "dosecalc schema")
    assert set(SCHEMAS) <= named(schema_part), set(SCHEMAS) - named(schema_part)
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    listed = index[index.index("JSON Schemas:") :].split("\n\n")[0]
    assert set(SCHEMAS) <= named(listed), set(SCHEMAS) - named(listed)


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_every_schema_is_printed_and_valid(run, name: str) -> None:
    from jsonschema import Draft202012Validator

    p = run("schema", name)
    assert p.returncode == 0, p.stderr
    schema = json.loads(p.stdout)
    Draft202012Validator.check_schema(schema)
    assert not PRIVATE.search(p.stdout)


def test_outputs_validate_against_the_schemas_a_user_has(run, tmp_path: Path) -> None:
    from jsonschema import Draft202012Validator

    def valid(name: str, data) -> None:
        schema = json.loads(run("schema", name).stdout)
        errors = list(Draft202012Validator(schema).iter_errors(data))
        assert not errors, errors[0]

    valid("plan-output", json.loads(run(*DIA, "--format", "json").stdout))
    mfolfox6 = ["plan", "mfolfox6", "--bsa", "1.8", "--start", "2026-12-01", "--format", "json"]
    valid("plan-output", json.loads(run(*mfolfox6).stdout))
    valid(
        "check-output",
        json.loads(run("check", "--prior", "epirubicin=100mg/m2", "--format", "json").stdout),
    )
    history = ROOT / "examples" / "history.csv"
    valid(
        "check-output",
        json.loads(run("check", "--history", str(history), "--format", "json").stdout),
    )
    valid(
        "bsa-output",
        json.loads(run("bsa", "--height", "175cm", "--weight", "70kg", "--format", "json").stdout),
    )
    order = ROOT / "examples" / "order-ec-cycle2.yaml"
    valid("verify-output", json.loads(run("verify", str(order), "--format", "json").stdout))
    # the file schemas accept the library's files
    for name, files in (
        ("regimen", (ROOT / "regimens").glob("*.yaml")),
        ("course", (ROOT / "examples").glob("chen-*.yaml")),
        ("order", (ROOT / "examples").glob("order-*.yaml")),
    ):
        schema = json.loads(run("schema", name).stdout)
        for f in files:
            data = yaml.safe_load(f.read_text(encoding="utf-8"))
            data = json.loads(json.dumps(data, default=str))  # YAML dates as text
            errors = list(Draft202012Validator(schema).iter_errors(data))
            assert not errors, (f.name, errors[0].message)


def user_strings(path: Path) -> list[str]:
    """String constants of a module a user may see: all but comments and the docstrings of
    modules and functions (a class's docstring becomes a schema's description)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip
    ]


def test_no_user_facing_text_mentions_a_document_the_user_does_not_have(run) -> None:
    found = []
    for path in sorted((ROOT / "dosecalc").rglob("*.py")):
        found += [f"{path.name}: {s[:60]!r}" for s in user_strings(path) if PRIVATE.search(s)]
    for folder in ("regimens", "examples", "dosecalc/data"):
        for path in (ROOT / folder).glob("*.yaml"):
            data = json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str)
            if PRIVATE.search(data):
                found.append(f"{folder}/{path.name}: {PRIVATE.search(data).group(0)}")
    for path in [
        ROOT / "README.md",
        *DOCS.glob("*.md"),
        *(ROOT / "dosecalc" / "schemas").glob("*"),
    ]:
        if PRIVATE.search(path.read_text(encoding="utf-8")):
            found.append(path.name)
    for cmd in commands():
        p = run(*cmd.split(), "--help")
        if PRIVATE.search(p.stdout):
            found.append(f"dosecalc {cmd} --help")
    for args in (
        ["policy", "show"],
        ["policy", "show", "--format", "json"],
        [*DIA, "--format", "json"],
    ):
        if PRIVATE.search(run(*args).stdout):
            found.append(" ".join(args))
    assert not found, found


def test_the_readmes_order_is_the_example_file() -> None:
    """The README showed examples/order-ec-cycle2.yaml without its cyclophosphamide line and with
    an acknowledgement for cisplatin, which EC does not give: copied, it was held."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = re.search(r"An order file\s+\(\[examples/order-ec-cycle2\.yaml\]", text)
    assert start is not None
    block = text[start.end() :].split("```yaml\n", 1)[1].split("```\n", 1)[0]
    example = (ROOT / "examples" / "order-ec-cycle2.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(block) == yaml.safe_load(example)
