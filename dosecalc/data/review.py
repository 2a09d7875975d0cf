"""The list a pharmacist signs the data off from: every number still marked unverified.

``data/REVIEW.md`` is generated from the data files themselves (``python -m dosecalc.data.review``
writes it), and a test fails when the committed file differs from what the data says, so an
entry marked ``verified: false`` (or listed under a regimen's ``unverified:``) cannot be missing
from it. Nothing at run time imports this module.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]  # the package
REVIEW = HERE / "data" / "REVIEW.md"
_VALUE_KEYS = ("dose", "value", "factor", "at", "routes")

# Verified and unverified entries (every mapping with a `verified` flag; a regimen's or example's
# `unverified:` lines count as unverified) before the third clinical data review (issue 30),
# counted with count() on the data of commit 2974705.
BEFORE: dict[str, tuple[int, int]] = {
    "dosecalc/data/ceilings.yaml": (95, 10),
    "dosecalc/data/drugs.yaml": (65, 15),
    "dosecalc/data/organ.yaml": (55, 16),
    "regimens": (0, 13),
    "examples": (0, 6),
}


def _yaml(path: Path) -> Any:
    from dosecalc.data import yamlfile

    return yamlfile.load(path, "data")[0]


def _label(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for key in ("name", "drug"):
            if isinstance(item.get(key), str):
                return item[key]
    return str(index)


def unverified(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every mapping under ``node`` with ``verified: false``, with a readable key path."""
    if isinstance(node, dict):
        if node.get("verified") is False:
            yield " > ".join(path), node
        for key, value in node.items():
            yield from unverified(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from unverified(item, (*path, _label(item, i)))


def flags(node: Any) -> Iterator[bool]:
    """Every `verified` flag under ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get("verified"), bool):
            yield node["verified"]
        for value in node.values():
            yield from flags(value)
    elif isinstance(node, list):
        for item in node:
            yield from flags(item)


def count(data: Any, listed: bool = False) -> tuple[int, int]:
    """(verified, unverified) entries of one file; ``listed``: its `unverified:` lines count."""
    found = list(flags(data))
    extra = len((data or {}).get("unverified") or []) if listed and isinstance(data, dict) else 0
    return sum(found), len(found) - sum(found) + extra


def counts() -> dict[str, tuple[int, int]]:
    """(verified, unverified) per data file, and for the regimen library and the examples."""
    from dosecalc.data.regimen import library_dir

    out = {
        f"dosecalc/data/{p.name}": count(_yaml(p)) for p in sorted((HERE / "data").glob("*.yaml"))
    }
    for folder, title in ((library_dir(), "regimens"), (HERE.parent / "examples", "examples")):
        if folder.is_dir():
            parts = [count(_yaml(p), listed=True) for p in _files(folder)]
            out[title] = (sum(v for v, _ in parts), sum(u for _, u in parts))
    return out


def organ_drugs() -> list[str]:
    """Per drug of organ.yaml: its options, how many bands are verified and unverified, the
    organs it holds no band for, and the sources cited."""
    data = _yaml(HERE / "data" / "organ.yaml")
    sources = data["sources"]
    out = []
    for d in data["drugs"]:
        bands = [
            b for o in (d.get("options") or {}).values() for r in o["rules"] for b in r["bands"]
        ]
        keys = [b["source"] for b in bands] + [g["source"] for g in d.get("no_adjustment_data", [])]
        verified = sum(1 for b in bands if b["verified"])
        options = [
            f"{name}{' (default)' if name == d.get('default') else ''}"
            for name in d.get("options") or {}
        ]
        line = f"- **{d['drug']}**: {verified} bands verified, {len(bands) - verified} unverified"
        if options:
            line += f"; options {', '.join(options)}"
        for g in d.get("no_adjustment_data", []):
            state = (
                "source states none (verified)" if g["verified"] else "nothing read (unverified)"
            )
            line += f"; {g['organ']}: no adjustment data, {state}"
        cited = "; ".join(f"{k} ({sources[k]['cite']})" for k in dict.fromkeys(keys))
        out.append(f"{line}\n  - sources: {_one_line(cited)}")
    return out


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _shown(node: dict[str, Any]) -> str:
    value = next((node[k] for k in _VALUE_KEYS if k in node), None)
    if isinstance(value, list):  # a drug's labelled routes
        value = ", ".join(map(str, value))
    if value is not None:
        return f"**{value}**"
    band = [  # an organ-function band: its bounds and action
        f"{k} {v}"
        for k, v in node.items()
        if k not in ("source", "verified", "note", "message") and not isinstance(v, dict | list)
    ]
    return f"**{', '.join(band)}**" if band else "(no number)"


def _entry(where: str, node: dict[str, Any], sources: dict[str, str]) -> str:
    shown = _shown(node)
    source = node.get("source")
    if isinstance(source, str) and source in sources:
        cited = sources[source]
        cited = cited.get("cite") or cited.get("text") if isinstance(cited, dict) else cited
        source = f"{source} ({str(cited)[:120]}...)"
    parts = [f"- `{where}`: {shown}"]
    if source:
        parts.append(f"  - source: {_one_line(source)}")
    for key in ("note", "message"):
        if node.get(key):
            parts.append(f"  - {key}: {_one_line(node[key])}")
    return "\n".join(parts)


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def sections() -> list[tuple[str, list[str]]]:
    """(heading, entries) for each data file and the regimen library and examples."""
    from dosecalc.data.regimen import library_dir

    out: list[tuple[str, list[str]]] = []
    for name in sorted(p.name for p in (HERE / "data").glob("*.yaml")):
        data = _yaml(HERE / "data" / name)
        sources = data.get("sources") or {}
        entries = [_entry(w, node, sources) for w, node in unverified(data)]
        out.append((f"dosecalc/data/{name}: values with `verified: false`", entries))
    for folder, title in (
        (library_dir(), "regimens"),
        (HERE.parent / "examples", "examples"),
    ):
        if not folder.is_dir():
            continue
        entries = []
        for path in _files(folder):
            data = _yaml(path)
            for text in (data or {}).get("unverified") or []:
                entries.append(f"- `{title}/{path.name}`: {_one_line(text)}")
            for w, node in unverified(data):
                entries.append(_entry(f"{title}/{path.name} > {w}", node, {}))
        out.append((f"{title}/*.yaml: `unverified:` entries", entries))
    return out


def render() -> str:
    parts = sections()
    total = sum(len(entries) for _, entries in parts)
    now = counts()
    table = [
        "| data | verified before → after | unverified before → after |",
        "|---|---|---|",
    ]
    for name in sorted(set(now) | set(BEFORE)):
        (v0, u0), (v1, u1) = BEFORE.get(name, (0, 0)), now.get(name, (0, 0))
        table.append(f"| {name} | {v0} → {v1} | {u0} → {u1} |")
    v0, u0 = (sum(x[i] for x in BEFORE.values()) for i in (0, 1))
    v1, u1 = (sum(x[i] for x in now.values()) for i in (0, 1))
    table.append(f"| **all** | **{v0} → {v1}** | **{u0} → {u1}** |")
    lines = [
        "# Numbers still unverified",
        "",
        "Generated from the data files by `python -m dosecalc.data.review` (a test fails when this "
        "file and the data disagree). Each entry is a number or statement that was NOT read in "
        "retrieved text of its cited source (`verified: false`, or a regimen's `unverified:` "
        "list). A pharmacist signing the data off checks each against the source and either "
        "marks it verified (with the text read) or corrects it.",
        "",
        f"**{total} entries** in {len(parts)} groups.",
        "",
        "## Verified and unverified, before and after the third data review (issue 30)",
        "",
        "Each entry with a `verified` flag (a band, a level, a factor, a guard, a statement that "
        "no adjustment is defined) counts once; a regimen's or example's `unverified:` line counts "
        f"as unverified. Before: the data of commit 2974705. Verified {v0} → {v1}, unverified "
        f"{u0} → {u1}.",
        "",
        *table,
        "",
        "## dosecalc/data/organ.yaml, per drug: what is verified, what is not, and the sources",
        "",
        *organ_drugs(),
    ]
    for heading, entries in parts:
        lines += ["", f"## {heading} ({len(entries)})", ""]
        lines += entries or ["(none)"]
    return "\n".join(lines) + "\n"


def main() -> None:
    text = render()
    if sys.argv[1:] == ["--write"]:
        REVIEW.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
