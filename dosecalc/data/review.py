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
_VALUE_KEYS = ("dose", "value", "factor", "at")


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


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _shown(node: dict[str, Any]) -> str:
    value = next((node[k] for k in _VALUE_KEYS if k in node), None)
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
