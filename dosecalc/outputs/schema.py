"""The JSON Schemas a user has: of the files dosecalc reads and of the JSON it writes.

``dosecalc schema NAME`` prints one; docs/ explains each. The output schemas ship in
``dosecalc/outputs/schemas/``; the file schemas are built from the models that validate the files, so
they can never drift from what dosecalc accepts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).with_name("schemas")
DRAFT = "https://json-schema.org/draft/2020-12/schema"

NAMES = {
    "regimen": "a regimen file (YAML; dosecalc docs regimen)",
    "course": "a course file (YAML; dosecalc docs course)",
    "plan-output": "dosecalc plan --format json (dosecalc docs outputs)",
    "check-output": "dosecalc check --format json (dosecalc docs outputs)",
    "bsa-output": "dosecalc bsa --format json (dosecalc docs outputs)",
    "order": "an order file (YAML; dosecalc docs order)",
    "verify-output": "dosecalc verify --format json (dosecalc docs outputs)",
    "regimens-diff-output": "dosecalc regimens diff --format json (dosecalc docs commands)",
    "mtx-output": "dosecalc mtx --format json (dosecalc docs outputs)",
}


def get(name: str) -> dict[str, Any]:
    """The schema called ``name`` (one of NAMES); ValueError for any other name."""
    key = name.strip().lower()
    if key == "regimen":
        from dosecalc.data.regimen import Regimen

        schema = Regimen.model_json_schema()
        return {"$schema": DRAFT, **schema, "title": "dosecalc regimen file"}
    if key == "course":
        return _course()
    if key == "order":
        from dosecalc.inputs.order import OrderFile

        return {"$schema": DRAFT, **OrderFile.model_json_schema(), "title": "dosecalc order file"}
    path = HERE / f"{key}.schema.json"
    if key not in NAMES or not path.is_file():
        from dosecalc.base.errors import did_you_mean

        raise ValueError(
            f"'{name}' is not a schema here{did_you_mean(key, tuple(NAMES))}; give one of "
            f"{', '.join(NAMES)}"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _course() -> dict[str, Any]:
    from dosecalc.workflows.course import KINDS, CourseHead

    schema = CourseHead.model_json_schema()
    defs = schema.setdefault("$defs", {})
    kinds = []
    for model in KINDS.values():
        part = model.model_json_schema()
        defs.update(part.pop("$defs", {}))
        defs[model.__name__] = part
        kinds.append({"$ref": f"#/$defs/{model.__name__}"})
    schema["properties"]["phases"]["items"] = {"anyOf": kinds}
    return {"$schema": DRAFT, **schema, "title": "dosecalc course file"}


def docs_dir() -> Path:
    """The documentation (``dosecalc/docs`` in a wheel, ``docs/`` in a clone)."""
    here = Path(__file__).resolve().parents[1]  # the package
    installed = here / "docs"
    return installed if installed.is_dir() else here.parent / "docs"


def topics() -> dict[str, str]:
    """Each page of the documentation: its name and its first heading."""
    out = {}
    for path in sorted(docs_dir().glob("*.md")):
        first = path.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
        out[path.stem.lower()] = first
    return out


def page(key: str) -> Path:
    """The file of the documentation page ``key`` (as :func:`topics` names it: README.md is
    ``readme``)."""
    [path] = [p for p in docs_dir().glob("*.md") if p.stem.lower() == key]
    return path
