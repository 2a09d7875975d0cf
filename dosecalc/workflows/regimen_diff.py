"""What differs between two versions of a regimen, dose by dose (``dosecalc regimens diff``).

Two regimens are compared by what dosecalc reads from them, not by their bytes: ``2 g/m2`` and
``2000 mg/m2`` are the same dose, ``1.5 x10^9/L`` and ``1500/uL`` the same gate, a comment is
no difference. Drug orders are paired by drug and by how alike they are (the same days and the
same way: route, bolus or infusion; then in their order), gates by lab, rules by their place; one
without a partner was added or removed.

The comparison is exhaustive by construction: every field of every model of the regimen file
is compared (the tables below say how each is shown; a field they do not name is still compared,
as its value), so no change that can change a dose or a decision goes unreported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from dosecalc.base.numbers import fmt
from dosecalc.data.labs import display_unit
from dosecalc.data.regimen import DoseSpec, DrugOrder, Gate, Infusion, Limit, Regimen, Rule

# How each field is shown. Every field of the models is named (tests/test_rules.py fails when a
# field is added to a model without being named here); one that is not is compared as a value.
REGIMEN_FIELDS = {
    **dict.fromkeys(
        (
            "id",
            "name",
            "indication",
            "version",
            "cycle_length_days",
            "cycles",
            "status",
            "approved_by",
            "approved_on",
            "review_due",
        ),
        "value",
    ),
    **dict.fromkeys(("sources", "assumptions", "unverified", "notes"), "items"),
    "drugs": "orders",
    "gates": "gates",
    "not_gated": "value (a default gate left out, its reason and source)",
    "children": "value (how the sources dose children)",
    "supportive_care": "value (hydration, alkalinisation, monitoring: each item and its source)",
}
ORDER_FIELDS = {
    "drug": "pairs the orders",
    "dose": "dose",
    "total_dose": "dose",
    "days": "days",
    "route": "route (the drug's own when not written)",
    "max_dose": "max_dose",
    "cycles": "cycles",
    "infusion": "field by field",
    "note": "value",
    "source": "value",
    "rules": "one by one",
    # a supportive line (mesna, leucovorin rescue): what it serves and how it is dosed from it
    **dict.fromkeys(
        ("supportive", "serves", "percent_of", "percent", "ratio_to", "ratio", "at_hours"), "value"
    ),
    "required": "value (an order must give it)",
}
GATE_FIELDS = {
    "lab": "pairs the gates",
    "at_least": "bound in the lab's unit",
    "at_most": "bound in the lab's unit",
    "otherwise": "value",
    "source": "value",
    "note": "value",
    "options": "value (each named reading's bounds and source)",
    "default": "value (the option in force)",
    "why_default": "value",
}
INFUSION_FIELDS = dict.fromkeys(("type", "duration", "note", "source", "text"), "value")
RULE_FIELDS = dict.fromkeys(("when", "dose", "percent", "source", "name", "note"), "in its text")
WHEN_FIELDS = dict.fromkeys(("bsa_below", "weight_below", "age_below", "age_at_least"), "text")


@dataclass(frozen=True)
class Difference:
    drug: str | None  # None: the regimen itself
    order: int | None  # which order of that drug (1-based), when a regimen has several
    field: str
    change: str  # "changed" | "added" | "removed"
    old: Any
    new: Any
    text: str  # one line a person reads
    gate: str | None = None  # the lab of the gate (fields gate, gates and gate.*)

    def as_dict(self) -> dict[str, object]:
        return {
            "drug": self.drug,
            "order": self.order,
            "gate": self.gate,
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


def _key(v: Any) -> Any:
    """What dosecalc reads from a value, to compare: a dose as its amount, unit and basis
    (``2 g/m2`` is ``2000 mg/m2``), a bound as its number, a model field by field."""
    if isinstance(v, DoseSpec):
        return (round(v.amount, 9), v.unit, v.basis)
    if isinstance(v, Limit):
        return round(v.value, 9)
    if isinstance(v, float):
        return round(v, 9)
    if isinstance(v, BaseModel):
        return tuple((name, _key(getattr(v, name))) for name in type(v).model_fields)
    if isinstance(v, list | tuple):
        return tuple(_key(x) for x in v)
    return v


def _show(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):  # as the file writes it (required: false)
        return "true" if v else "false"
    if isinstance(v, DoseSpec):
        return v.describe()
    if isinstance(v, Limit):
        return v.text
    if isinstance(v, Infusion):
        return v.describe()
    if isinstance(v, float):
        return fmt(v)
    if isinstance(v, BaseModel):
        return ", ".join(f"{k} {_show(getattr(v, k))}" for k in type(v).model_fields)
    if isinstance(v, list | tuple):
        return ", ".join(map(_show, v))
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def _plain(v: Any) -> Any:
    """A value for the JSON output: text, a number, a list of them or null (a yes or no as
    the text 'true' or 'false')."""
    if isinstance(v, bool):
        return _show(v)
    if v is None or isinstance(v, int | float | str):
        return v
    if isinstance(v, list | tuple) and all(isinstance(x, int | float | str) for x in v):
        return list(v)
    return _show(v)


def _rule(r: Rule) -> str:
    name = f" '{r.name}'" if r.name else ""
    note = f"; {r.note}" if r.note else ""
    return f"when {r.when.describe()}: {r.action()}{name} (source: {r.source}{note})"


def _order_text(o: DrugOrder) -> str:
    per = o.per_day
    cap = f", max {o.max_dose.describe()}" if o.max_dose else ""
    rules = f", {len(o.rules)} rule{'s' if len(o.rules) != 1 else ''}" if o.rules else ""
    return (
        f"{per.describe()} on days {_days(o.days)} {o.default_route}{cap}, "
        f"{_cycles(o.cycles)}{rules}"
    )


def _gate_text(g: Gate) -> str:
    spec = g.spec
    source = f"; source: {g.source}" if g.source else ""
    return f"{spec.text}, otherwise {g.otherwise}{source}"


def _pct(old: float, new: float) -> str:
    return f", {100 * (new / old - 1):+.1f} %" if old else ""


def compare(a: Regimen, b: Regimen) -> list[Difference]:
    """Every difference between regimen ``a`` (the old) and ``b`` (the new)."""
    out: list[Difference] = []
    for field in type(a).model_fields:
        old, new = getattr(a, field), getattr(b, field)
        kind = REGIMEN_FIELDS.get(field, "value")
        if kind == "orders":
            out += _orders(a, b)
        elif kind == "gates":
            out += _gates(old, new)
        elif kind == "items":
            out += _items(field, list(old), list(new))
        elif _key(old) != _key(new):
            out.append(
                Difference(
                    None,
                    None,
                    field,
                    "changed",
                    _plain(old),
                    _plain(new),
                    f"{field}: {_show(old)} → {_show(new)}",
                )
            )
    return out


def _items(field: str, old: list[Any], new: list[Any]) -> list[Difference]:
    out = [
        Difference(None, None, field, "removed", x, None, f"{field} - {x}")
        for x in old
        if x not in new
    ]
    return out + [
        Difference(None, None, field, "added", None, x, f"{field} + {x}")
        for x in new
        if x not in old
    ]


def _paired(
    old: Sequence[Any], new: Sequence[Any], name: Callable[[Any], str]
) -> list[tuple[str, int, Any, Any]]:
    """(name, occurrence, old item, new item), in the new file's order, removed ones last."""

    def numbered(items: Sequence[Any]) -> dict[tuple[str, int], Any]:
        seen: dict[str, int] = {}
        out = {}
        for item in items:
            seen[name(item)] = seen.get(name(item), 0) + 1
            out[(name(item), seen[name(item)])] = item
        return out

    a, b = numbered(old), numbered(new)
    keys = list(b) + [k for k in a if k not in b]
    return [(n, i, a.get((n, i)), b.get((n, i))) for n, i in keys]


def _gates(old: list[Gate] | None, new: list[Gate] | None) -> list[Difference]:
    """Gates paired by lab. ``gates: []`` (the sources state none) is not an unstated list."""
    out: list[Difference] = []
    if (old is None) != (new is None):
        o, v = (
            "not stated"
            if g is None
            else f"{len(g)} gate{'s' if len(g) != 1 else ''}"
            if g
            else "none (the sources state none)"
            for g in (old, new)
        )
        out.append(Difference(None, None, "gates", "changed", o, v, f"gates: {o} → {v}"))
    pairs = _paired(old or [], new or [], lambda g: g.lab)
    several = {lab for lab, n, _, _ in pairs if n > 1}
    for lab, n, o, v in pairs:
        label = f"gate {lab}" + (f" ({n})" if lab in several else "")

        def add(field: str, change: str, was: Any, now: Any, text: str, lab: str = lab) -> None:
            out.append(Difference(None, None, field, change, was, now, text, gate=lab))

        if o is None:
            add("gate", "added", None, _gate_text(v), f"{label} added: {_gate_text(v)}")
            continue
        if v is None:
            add("gate", "removed", _gate_text(o), None, f"{label} removed: {_gate_text(o)}")
            continue
        so, sv = o.spec, v.spec
        for field in type(o).model_fields:
            if field == "lab":
                continue
            if field in ("at_least", "at_most"):  # in the lab's unit: 1500/uL is 1.5 x10^9/L
                bounds = [(getattr(s, field), s.unit) for s in (so, sv)]
                if _key(bounds[0]) == _key(bounds[1]):
                    continue
                was, now = (None if x is None else f"{fmt(x)} {display_unit(u)}" for x, u in bounds)
            else:
                was, now = getattr(o, field), getattr(v, field)
                if _key(was) == _key(now):
                    continue
            add(
                f"gate.{field}",
                "changed",
                _plain(was),
                _plain(now),
                f"{label}: {field} {_show(was)} → {_show(now)}",
            )
    return out


def _how(o: DrugOrder) -> tuple[Any, ...]:
    """How a line is given: its route (as dosecalc reads it), bolus or infusion, whether it is a
    supportive line and what it serves."""
    from dosecalc.data.drugs import route_key

    return (
        route_key(o.default_route),
        o.infusion.type if o.infusion else None,
        o.supportive,
        o.serves,
    )


# How lines of one drug are paired, most alike first: the same days, cycles, way and note; the
# same days and way; the same way; then in their order. Two lines merely listed in the other
# order (mFOLFOX6's fluorouracil bolus and infusion) are the same lines, not a +500 % dose.
_PAIRING: tuple[Callable[[DrugOrder], Any], ...] = (
    lambda o: (o.drug, o.days, o.cycles, _how(o), (o.note or "").strip().lower()),
    lambda o: (o.drug, o.days, _how(o)),
    lambda o: (o.drug, _how(o)),
    lambda o: o.drug,
)


def _order_pairs(
    old: Sequence[DrugOrder], new: Sequence[DrugOrder]
) -> list[tuple[str, int, DrugOrder | None, DrugOrder | None]]:
    """(drug, which line of that drug (1-based: in the new file, in the old for one removed),
    old line, new line), in the new file's order, removed ones last."""
    partner: dict[int, int] = {}  # new index → old index
    for key in _PAIRING:
        taken = set(partner.values())
        for j, v in enumerate(new):
            if j in partner:
                continue
            i = next((i for i, o in enumerate(old) if i not in taken and key(o) == key(v)), None)
            if i is not None:
                partner[j] = i
                taken.add(i)

    def nth(items: Sequence[DrugOrder], k: int) -> int:
        return sum(1 for x in items[: k + 1] if x.drug == items[k].drug)

    out: list[tuple[str, int, DrugOrder | None, DrugOrder | None]] = [
        (v.drug, nth(new, j), old[partner[j]] if j in partner else None, v)
        for j, v in enumerate(new)
    ]
    paired = set(partner.values())
    return out + [(o.drug, nth(old, i), o, None) for i, o in enumerate(old) if i not in paired]


def _orders(a: Regimen, b: Regimen) -> list[Difference]:
    out: list[Difference] = []
    pairs = _order_pairs(a.drugs, b.drugs)
    several = {
        drug
        for drug in {p[0] for p in pairs}
        if max(sum(o.drug == drug for o in r.drugs) for r in (a, b)) > 1
    }
    for drug, n, old, new in pairs:
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
            add("drug", "added", None, _order_text(new), f"added: {_order_text(new)}")
            continue
        if new is None:
            add("drug", "removed", _order_text(old), None, f"removed: {_order_text(old)}")
            continue
        for field in type(old).model_fields:
            if field in ("drug", "total_dose"):
                continue  # the pair's name; a total_dose is compared with the dose
            if field == "dose":
                _dose(old, new, add)
            elif field == "days":  # each field shown its own way is branched on first
                if old.days != new.days:
                    o, v = list(old.days), list(new.days)
                    add("days", "changed", o, v, f"days {_days(old.days)} → {_days(new.days)}")
            elif field == "route":
                o, v = old.default_route, new.default_route
                if o != v:
                    add("route", "changed", o, v, f"route {o} → {v}")
            elif field == "cycles":
                if old.cycles != new.cycles:
                    o, v = _cycles(old.cycles), _cycles(new.cycles)
                    add("cycles", "changed", o, v, f"cycles {o} → {v}")
            elif field == "max_dose":
                if _key(old.max_dose) != _key(new.max_dose):
                    o = old.max_dose.describe() if old.max_dose else None
                    v = new.max_dose.describe() if new.max_dose else None
                    add("max_dose", "changed", o, v, f"max_dose {o or 'none'} → {v or 'none'}")
            elif field == "infusion":
                _infusion(old.infusion, new.infusion, add)
            elif field == "rules":
                _rules(old, new, add)
            elif _key(getattr(old, field)) != _key(getattr(new, field)):
                o, v = getattr(old, field), getattr(new, field)
                add(field, "changed", _plain(o), _plain(v), f"{field} {_show(o)} → {_show(v)}")
    return out


def _dose(old: DrugOrder, new: DrugOrder, add: Any) -> None:
    po, pn = old.per_day, new.per_day
    if _key(po) != _key(pn):
        same = po.basis == pn.basis and po.unit == pn.unit
        cycle_o, cycle_n = po.amount * len(old.days), pn.amount * len(new.days)
        per_cycle = (
            f" (per cycle {po.describe(cycle_o)} → {pn.describe(cycle_n)}{_pct(cycle_o, cycle_n)})"
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


def _infusion(old: Infusion | None, new: Infusion | None, add: Any) -> None:
    """How it is given: the whole when one side has none, else field by field."""
    if _key(old) == _key(new):
        return
    if old is None or new is None:
        o, v = _show(old), _show(new)
        add(
            "infusion",
            "changed",
            None if old is None else o,
            None if new is None else v,
            f"infusion {o} → {v}",
        )
        return
    for field in type(old).model_fields:
        o, v = getattr(old, field), getattr(new, field)
        if _key(o) != _key(v):
            hours = field == "duration"
            so = _hours(o) if hours else _show(o)
            sv = _hours(v) if hours else _show(v)
            add(
                f"infusion.{field}",
                "changed",
                _plain(o),
                _plain(v),
                f"infusion {field} {so} → {sv}",
            )


def _hours(h: float | None) -> str:
    if h is None:
        return "—"
    return f"{fmt(h * 60)} min" if h < 1 else f"{fmt(h)} h"


def _rules(old: DrugOrder, new: DrugOrder, add: Any) -> None:
    for i in range(max(len(old.rules), len(new.rules))):
        o = old.rules[i] if i < len(old.rules) else None
        v = new.rules[i] if i < len(new.rules) else None
        if _key(o) == _key(v):
            continue
        if o is None:
            add("rules", "added", None, _rule(v), f"rule {i + 1} added: {_rule(v)}")
        elif v is None:
            add("rules", "removed", _rule(o), None, f"rule {i + 1} removed: {_rule(o)}")
        else:
            add("rules", "changed", _rule(o), _rule(v), f"rule {i + 1} {_rule(o)} → {_rule(v)}")


def describe(ref: str, path: Path, r: Regimen) -> dict[str, object]:
    return {"ref": ref, "path": str(path), "id": r.id, "version": r.version, "sha256": r.sha256}


def same_claim(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """Two files that call themselves the same id and version with different contents: an
    edited copy that keeps the library's name, which a plan's header would not tell apart."""
    if a["id"] != b["id"] or a["version"] != b["version"] or a["sha256"] == b["sha256"]:
        return None
    v = f" v{a['version']}" if a["version"] else " (no version)"
    return (
        f"both files call themselves {a['id']}{v} but their contents differ (sha256 "
        f"{str(a['sha256'])[:12]} and {str(b['sha256'])[:12]}): give the edited one its own "
        "id or version, so that a plan made from it cannot be taken for the other"
    )


def as_text(a: dict[str, Any], b: dict[str, Any], diffs: list[Difference]) -> str:
    def who(x: dict[str, Any]) -> str:
        v = f" v{x['version']}" if x["version"] else ""
        return f"{x['id']}{v} ({x['path']}, sha256 {str(x['sha256'])[:12]})"

    lines = [f"--- {who(a)}", f"+++ {who(b)}"]
    claim = same_claim(a, b)
    if claim:
        lines.append(f"note: {claim}")
    if not diffs:
        same = a["sha256"] == b["sha256"]
        lines.append(
            "no differences: the same file"
            if same
            else "no differences in what dosecalc reads (the files differ only in comments, "
            "layout, the order of lines or how the same values are written)"
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
