"""What differs between two versions of a regimen, dose by dose (``dosecalc regimens diff``).

Two regimens are compared by what dosecalc reads from them, not by their bytes: ``2 g/m2`` and
``2000 mg/m2`` are the same dose, a comment is no difference. Drug orders are paired by drug
(the first cisplatin order with the first, the second with the second); an order without a
partner was added or removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dosecalc.data.regimen import DoseSpec, DrugOrder, Regimen, Rule


@dataclass(frozen=True)
class Difference:
    drug: str | None  # None: the regimen itself
    order: int | None  # which order of that drug (1-based), when a regimen has several
    field: str
    change: str  # "changed" | "added" | "removed"
    old: Any
    new: Any
    text: str  # one line a person reads

    def as_dict(self) -> dict[str, object]:
        return {
            "drug": self.drug,
            "order": self.order,
            "field": self.field,
            "change": self.change,
            "old": self.old,
            "new": self.new,
            "text": self.text,
        }


def _days(days: tuple[int, ...]) -> str:
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _cycles(c: tuple[int, int | None] | None) -> str:
    if c is None:
        return "every cycle"
    first, last = c
    if last is None:
        return f"cycles {first}-"
    return f"cycle {first}" if first == last else f"cycles {first}-{last}"


def _spec(s: DoseSpec | None) -> tuple[float, str, str] | None:
    return None if s is None else (round(s.amount, 9), s.unit, s.basis)


def _rule(r: Rule) -> str:
    name = f" '{r.name}'" if r.name else ""
    return f"when {r.when.describe()}: {r.action()}{name} (source: {r.source})"


def _order_text(o: DrugOrder) -> str:
    per = o.per_day
    cap = f", max {o.max_dose.describe()}" if o.max_dose else ""
    rules = f", {len(o.rules)} rule{'s' if len(o.rules) != 1 else ''}" if o.rules else ""
    return (
        f"{per.describe()} on days {_days(o.days)} {o.default_route}{cap}, "
        f"{_cycles(o.cycles)}{rules}"
    )


def _pct(old: float, new: float) -> str:
    return f", {100 * (new / old - 1):+.1f} %" if old else ""


def compare(a: Regimen, b: Regimen) -> list[Difference]:
    """Every difference between regimen ``a`` (the old) and ``b`` (the new)."""
    out: list[Difference] = []

    def meta(field: str, old: Any, new: Any) -> None:
        if old != new:
            shown = lambda v: "—" if v is None else str(v)  # noqa: E731
            out.append(
                Difference(
                    None,
                    None,
                    field,
                    "changed",
                    _plain(old),
                    _plain(new),
                    f"{field}: {shown(old)} → {shown(new)}",
                )
            )

    for field in (
        "id",
        "name",
        "indication",
        "version",
        "status",
        "approved_by",
        "approved_on",
        "review_due",
        "cycle_length_days",
        "cycles",
    ):
        meta(field, getattr(a, field), getattr(b, field))
    for field in ("sources", "assumptions", "unverified", "notes"):
        old, new = list(getattr(a, field)), list(getattr(b, field))
        for item in old:
            if item not in new:
                out.append(
                    Difference(None, None, field, "removed", item, None, f"{field} - {item}")
                )
        for item in new:
            if item not in old:
                out.append(Difference(None, None, field, "added", None, item, f"{field} + {item}"))
    out += _orders(a, b)
    return out


def _plain(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v


def _pairs(a: Regimen, b: Regimen) -> list[tuple[str, int, DrugOrder | None, DrugOrder | None]]:
    """(drug, occurrence, old order, new order), in the new file's order, removed ones last."""

    def numbered(r: Regimen) -> dict[tuple[str, int], DrugOrder]:
        seen: dict[str, int] = {}
        out = {}
        for o in r.drugs:
            seen[o.drug] = seen.get(o.drug, 0) + 1
            out[(o.drug, seen[o.drug])] = o
        return out

    old, new = numbered(a), numbered(b)
    keys = list(new) + [k for k in old if k not in new]
    return [(d, n, old.get((d, n)), new.get((d, n))) for d, n in keys]


def _orders(a: Regimen, b: Regimen) -> list[Difference]:
    out: list[Difference] = []
    several = {
        o.drug for r in (a, b) for o in r.drugs if sum(x.drug == o.drug for x in r.drugs) > 1
    }
    for drug, n, old, new in _pairs(a, b):
        label = f"{drug} (order {n})" if drug in several else drug
        order = n if drug in several else None

        def add(
            field: str,
            change: str,
            o: Any,
            v: Any,
            text: str,
            drug: str = drug,
            order: int | None = order,
            label: str = label,
        ) -> None:
            out.append(Difference(drug, order, field, change, o, v, f"{label}: {text}"))

        if old is None:
            assert new is not None
            add("drug", "added", None, _order_text(new), f"added: {_order_text(new)}")
            continue
        if new is None:
            add("drug", "removed", _order_text(old), None, f"removed: {_order_text(old)}")
            continue
        po, pn = old.per_day, new.per_day
        if _spec(po) != _spec(pn):
            same = po.basis == pn.basis and po.unit == pn.unit
            cycle_o, cycle_n = po.amount * len(old.days), pn.amount * len(new.days)
            per_cycle = (
                f" (per cycle {po.describe(cycle_o)} → {pn.describe(cycle_n)}"
                f"{_pct(cycle_o, cycle_n)})"
                if same and po.basis != "auc"
                else ""
            )
            add(
                "dose",
                "changed",
                po.text,
                pn.text,
                f"dose {po.describe()} → {pn.describe()} on each listed day"
                + (_pct(po.amount, pn.amount) if same and not per_cycle else "")
                + per_cycle,
            )
        elif (old.total_dose is None) != (new.total_dose is None):
            add(
                "written_as",
                "changed",
                "total_dose" if old.total_dose else "dose",
                "total_dose" if new.total_dose else "dose",
                "the same dose per day, now written as "
                + ("a total divided over the days" if new.total_dose else "a dose per day"),
            )
        if old.days != new.days:
            add(
                "days",
                "changed",
                list(old.days),
                list(new.days),
                f"days {_days(old.days)} → {_days(new.days)}",
            )
        for field, o, v in (
            ("route", old.default_route, new.default_route),
            ("cycles", _cycles(old.cycles), _cycles(new.cycles)),
            ("infusion", old.infusion, new.infusion),
            ("note", old.note, new.note),
            ("source", old.source, new.source),
        ):
            if o != v:
                add(field, "changed", o, v, f"{field} {o or '—'} → {v or '—'}")
        if _spec(old.max_dose) != _spec(new.max_dose):
            o = old.max_dose.describe() if old.max_dose else None
            v = new.max_dose.describe() if new.max_dose else None
            add("max_dose", "changed", o, v, f"max_dose {o or 'none'} → {v or 'none'}")
        _rules(old, new, add)
    return out


def _rules(old: DrugOrder, new: DrugOrder, add: Any) -> None:
    for i in range(max(len(old.rules), len(new.rules))):
        o = _rule(old.rules[i]) if i < len(old.rules) else None
        v = _rule(new.rules[i]) if i < len(new.rules) else None
        if o == v:
            continue
        if o is None:
            add("rules", "added", None, v, f"rule {i + 1} added: {v}")
        elif v is None:
            add("rules", "removed", o, None, f"rule {i + 1} removed: {o}")
        else:
            add("rules", "changed", o, v, f"rule {i + 1} {o} → {v}")


def describe(ref: str, path: Path, r: Regimen) -> dict[str, object]:
    return {"ref": ref, "path": str(path), "id": r.id, "version": r.version, "sha256": r.sha256}


def as_text(a: dict[str, Any], b: dict[str, Any], diffs: list[Difference]) -> str:
    def who(x: dict[str, Any]) -> str:
        v = f" v{x['version']}" if x["version"] else ""
        return f"{x['id']}{v} ({x['path']}, sha256 {str(x['sha256'])[:12]})"

    lines = [f"--- {who(a)}", f"+++ {who(b)}"]
    if not diffs:
        same = a["sha256"] == b["sha256"]
        lines.append(
            "no differences: the same file"
            if same
            else "no differences in what dosecalc reads (the files differ only in comments, "
            "layout or how the same values are written)"
        )
    for d in diffs:
        mark = {"added": "+", "removed": "-"}.get(d.change, "~")
        lines.append(f"{mark} {d.text if d.drug else 'regimen ' + d.text}")
    if diffs:
        drugs_changed = len({d.drug for d in diffs if d.drug})
        lines.append(
            f"{len(diffs)} difference{'s' if len(diffs) != 1 else ''}"
            + (
                f" in {drugs_changed} drug order{'s' if drugs_changed != 1 else ''}"
                if drugs_changed
                else ""
            )
        )
    return "\n".join(lines) + "\n"


def load(ref: str) -> tuple[Path, Regimen]:
    """A library id or a regimen file (a course file is refused: diff its regimens)."""
    from dosecalc.base.errors import FileError, Problem
    from dosecalc.data import regimen as rg
    from dosecalc.workflows import course as crs

    path = rg.resolve(ref)
    opened = crs.open_file(str(path))
    if isinstance(opened, crs.Course):
        raise FileError(
            Problem(
                "is a course file; regimens diff compares two regimen files (or a file and a "
                "library id)",
                file=str(path),
            )
        )
    return path, opened
