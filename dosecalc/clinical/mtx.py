"""High-dose methotrexate from measured levels: is elimination delayed, what leucovorin the
label's table gives, whether glucarpidase should be considered, and until when levels are drawn.

Every time is counted in hours from the START of the methotrexate infusion, which is given, never
inferred. A level is compared with a line at a time (≥ 50 µmol/L at 24 h) when it was drawn at or
after that time: levels fall after the infusion ends, so a level still above the line later was
above it at the line's time too; a level drawn before a line's time is not compared with it (the
sources give no interpolation: MTXPK.org forecasts between the points). Creatinine values drawn
before the start are the baseline (the latest of them); those after it are compared with it.
Pure functions of plain values (data/supportive.py holds every number and its source).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from dosecalc.base.alerts import CRITICAL, INFO, WARNING, Alert
from dosecalc.base.errors import fail
from dosecalc.base.numbers import fmt
from dosecalc.data.labs import LabValue
from dosecalc.data.supportive import HdMtx, Line, Said

NORMAL, LATE_POSSIBLE, LATE, EARLY, CONSENSUS = (
    "normal",
    "delayed-late-possible",
    "delayed-late",
    "delayed-early",
    "delayed",
)


@dataclass(frozen=True)
class Level:
    value: float  # µmol/L
    taken: datetime
    hours: float  # since the start of the infusion
    as_given: str
    where: str
    crossed: tuple[Line, ...]  # the lines this level is above (label and consensus)

    def shown(self) -> str:
        return f"{fmt(self.value)} µmol/L at {fmt(self.hours)} h ({_at(self.taken)})"


@dataclass(frozen=True)
class Creatinine:
    value: float  # mg/dL
    when: str
    hours: float | None  # None: the baseline (drawn before the start)
    rise_percent: float | None  # over the baseline


@dataclass(frozen=True)
class Assessment:
    start: datetime
    duration_h: float
    levels: tuple[Level, ...]
    baseline: Creatinine | None
    creatinine: tuple[Creatinine, ...]
    elimination: str  # normal | delayed-late-possible | delayed-late | delayed-early | delayed
    leucovorin: Said  # the schedule the label's table gives for this elimination
    leucovorin_now: str  # what that means with the latest level
    glucarpidase: (
        str  # consider | judge | creatinine-needed | not-indicated | not-yet | not-covered
    )
    glucarpidase_text: str
    window_end: datetime
    draw: str  # until when levels are drawn
    next_by: datetime | None
    alerts: tuple[Alert, ...]
    rules: HdMtx

    @property
    def delayed(self) -> bool:
        return self.elimination not in (NORMAL, LATE_POSSIBLE)

    @property
    def critical(self) -> bool:
        return any(a.severity == CRITICAL for a in self.alerts)

    @property
    def dosed_for(self) -> str:
        """Who the label's leucovorin doses are for: an adult (mtx is given no size or age)."""
        return _for_whom(self.rules)

    def as_dict(self) -> dict[str, object]:
        r = self.rules
        return {
            "infusion": {
                "start": _at(self.start),
                "duration_h": self.duration_h,
                "end": _at(self.start + timedelta(hours=self.duration_h)),
            },
            "levels": [
                {
                    "value_umol_l": lv.value,
                    "as_given": lv.as_given,
                    "taken": _at(lv.taken),
                    "hours": lv.hours,
                    "from": lv.where,
                    "above": [
                        {
                            "threshold_umol_l": x.umol_l,
                            "at_h": x.at_h,
                            "comparison": x.sign,
                            "source": r.cite(x.source),
                            "verified": x.verified,
                        }
                        for x in lv.crossed
                    ],
                }
                for lv in self.levels
            ],
            "creatinine": {
                "baseline": None if self.baseline is None else _creatinine(self.baseline),
                "values": [_creatinine(c) for c in self.creatinine],
            },
            "expected": [
                {k: v for k, v in e.items() if k != "source"} | {"source": r.cite(e["source"])}
                for e in r.expected
            ],
            "elimination": self.elimination,
            "delayed": self.delayed,
            "leucovorin": {
                "schedule": self.leucovorin.text,
                "now": self.leucovorin_now,
                "dosed_for": self.dosed_for,
                "source": r.cite(self.leucovorin.source),
                "verified": self.leucovorin.verified,
            },
            "glucarpidase": {
                "consider": self.glucarpidase,
                "text": self.glucarpidase_text,
                "window_end": _at(self.window_end),
                "source": r.cite(r.window.source),
                "label": [
                    {"text": s.text, "source": r.cite(s.source), "verified": s.verified}
                    for s in r.glucarpidase
                ],
            },
            "levels_until": {
                "below_umol_l": r.stop_below,
                "text": self.draw,
                "next_by": _at(self.next_by) if self.next_by else None,
                "source": r.cite(r.monitoring.source),
            },
            "warnings": [a.as_dict() for a in self.alerts],
        }


def _for_whom(rules: HdMtx) -> str:
    """Who the label's leucovorin doses are for (dosecalc mtx is given no size or age)."""
    return (
        "the label's doses are flat, for an adult (its 15 mg is about 10 mg/m², "
        f"{rules.short('leucovorin-drugscom')}); a child's protocol doses per m² (MAP: 15 mg/m², "
        f"{rules.short('eviq-map-1901')}): give the dose of the patient's regimen"
    )


def _creatinine(c: Creatinine) -> dict[str, object]:
    return {
        "value_mg_dl": c.value,
        "taken": c.when,
        "hours": c.hours,
        "rise_percent": c.rise_percent,
    }


def _at(when: datetime) -> str:
    return when.isoformat(timespec="minutes")


def _hours(start: datetime, when: datetime) -> float:
    return (when - start).total_seconds() / 3600


def levels_of(values: list[LabValue], start: datetime) -> list[tuple[LabValue, float]]:
    """The methotrexate levels with their hours from the start; refused when one has no time
    or was taken before the start."""
    out = []
    for v in values:
        if v.taken is None:
            raise fail(
                "--lab",
                f"mtx {v.text} ({v.where}) has no time: a level is judged by the hours since the "
                "infusion start; give it as mtx=VALUE@YYYY-MM-DDTHH:MM",
            )
        hours = _hours(start, v.taken)
        if hours < 0:
            raise fail(
                "--lab",
                f"mtx {v.text} ({v.where}) was taken at {v.when}, before the infusion start "
                f"{_at(start)}; check the level's time or --infusion-start",
            )
        out.append((v, hours))
    return sorted(out, key=lambda x: x[1])


def creatinine_of(
    values: list[LabValue], start: datetime
) -> tuple[Creatinine | None, list[Creatinine]]:
    """The baseline (the latest value before the start) and the values after it, with their
    rise over the baseline; a value of the start's day or later needs its time."""
    before: list[tuple[datetime, LabValue]] = []
    after: list[tuple[float, LabValue]] = []
    for v in values:
        if v.taken is None:
            if v.date is not None and v.date < start.date():
                before.append((datetime.combine(v.date, time.min), v))
                continue
            raise fail(
                "--lab",
                f"scr {v.text} ({v.where}) has no time and is not from before the infusion's "
                "day: give it as scr=VALUE@YYYY-MM-DDTHH:MM, so that it is known whether it is "
                "the baseline or a value after the start",
            )
        hours = _hours(start, v.taken)
        if hours <= 0:
            before.append((v.taken, v))
        else:
            after.append((hours, v))
    base = None
    if before:
        b = max(before, key=lambda x: x[0])[1]
        base = Creatinine(b.value, b.when, None, None)
    current = [
        Creatinine(
            v.value,
            v.when,
            hours,
            None if base is None else 100 * (v.value / base.value - 1),
        )
        for hours, v in sorted(after, key=lambda x: x[0])
    ]
    return base, current


def assess(
    mtx: list[LabValue],
    scr: list[LabValue],
    start: datetime,
    duration_h: float,
    rules: HdMtx,
) -> Assessment:
    """Judge the levels of one high-dose methotrexate infusion."""
    if not mtx:
        raise fail(
            "--lab",
            "give at least one methotrexate level, e.g. --lab mtx=12umol/L@2026-12-03T14:00",
        )
    found = levels_of(mtx, start)
    base, current = creatinine_of(scr, start)
    long_infusion = 36 <= duration_h <= 42
    covered = duration_h <= 24 or long_infusion
    consensus = rules.consensus_long if long_infusion else rules.consensus if covered else ()
    levels = []
    for v, hours in found:
        lines = [
            x
            for x in (*rules.early, *rules.late, *consensus)
            if hours >= x.at_h and x.crossed(v.value)
        ]
        levels.append(Level(v.value, v.taken, hours, v.text, v.where, tuple(lines)))  # type: ignore[arg-type]
    aki = [
        c
        for c in current
        if c.rise_percent is not None and c.rise_percent >= rules.creatinine_rise_percent
    ]
    early = [lv for lv in levels if any(x in rules.early for x in lv.crossed)]
    late = [x for x in rules.late if any(x in lv.crossed for lv in levels)]
    above_consensus = [lv for lv in levels if any(x in consensus for x in lv.crossed)]
    # the label's delayed late needs both lines; one crossed is possible, unless a level at or
    # after 96 h is not above its line (0.3 at 72 h, then 0.04 at 96 h: not delayed late)
    resolved = late == [rules.late[0]] and any(lv.hours >= rules.late[-1].at_h for lv in levels)
    if early or aki:
        elimination = EARLY
    elif len(late) == len(rules.late):
        elimination = LATE
    elif above_consensus:
        elimination = CONSENSUS
    elif late and not resolved:
        elimination = LATE_POSSIBLE
    else:
        elimination = NORMAL
    latest = levels[-1]
    leucovorin, now = _leucovorin(elimination, latest, levels, rules)
    status, text = _glucarpidase(above_consensus, covered, long_infusion, levels, base, current, aki, rules, duration_h)  # fmt: skip
    window_end = start + timedelta(hours=rules.window_h[1])
    if status == "consider" and latest.hours > rules.window_h[1]:
        text += (
            f"; the latest level is at {fmt(latest.hours)} h, past the {fmt(rules.window_h[0])}-"
            f"{fmt(rules.window_h[1])} h in which it is best given: {rules.window.text}"
        )
    draw, next_by = _draw(latest, rules)
    alerts = _alerts(levels, consensus, base, aki, status, rules)
    alerts += _notes(elimination, levels, base, current, duration_h, covered, rules)
    if elimination == NORMAL:
        alerts += _before_line(latest, (*rules.early, *consensus, rules.late[0]), rules)
    return Assessment(
        start, duration_h, tuple(levels), base, tuple(current), elimination, leucovorin, now,
        status, text, window_end, draw, next_by, tuple(alerts), rules,
    )  # fmt: skip


def _late_possible(levels: list[Level], rules: HdMtx) -> str:
    """Which of the label's two delayed-late lines a level crossed, which one is still open,
    naming the level that crossed it (not the latest, which may be below both)."""
    first, last = rules.late[0], rules.late[-1]  # > 0.2 at 72 h, > 0.05 at 96 h
    above = next(lv for lv in reversed(levels) if first in lv.crossed or last in lv.crossed)
    if first in above.crossed:
        return (
            f"methotrexate {above.shown()} is above the label's {fmt(first.umol_l)} µmol/L at "
            f"{fmt(first.at_h)} h; if a level at {fmt(last.at_h)} h or later is still above "
            f"{fmt(last.umol_l)} µmol/L, the label's delayed late elimination applies"
        )
    return (
        f"methotrexate {above.shown()} is above the label's {fmt(last.umol_l)} µmol/L at "
        f"{fmt(last.at_h)} h; the label's delayed late elimination also needs a level above "
        f"{fmt(first.umol_l)} µmol/L at {fmt(first.at_h)} h, which no level at or after "
        f"{fmt(first.at_h)} h was: if the {fmt(first.at_h)}-h level was above it, it applies"
    )


def _leucovorin(
    elimination: str, latest: Level, levels: list[Level], rules: HdMtx
) -> tuple[Said, str]:
    if elimination == EARLY:
        if latest.value >= rules.early_switch_below:
            now = f"now the first step: the latest level {latest.shown()} is not below {fmt(rules.early_switch_below)} µmol/L"
        elif latest.value >= rules.stop_below:
            now = f"now the second step: the latest level {latest.shown()} is below {fmt(rules.early_switch_below)} µmol/L"
        else:
            now = f"the latest level {latest.shown()} is below {fmt(rules.stop_below)} µmol/L: the rescue may stop"
        return rules.early_rescue, f"{now}; {rules.early_supportive.text}"
    if elimination == LATE:
        return rules.late_rescue, f"the latest level is {latest.shown()}"
    if elimination == LATE_POSSIBLE:
        return rules.normal, (
            f"{_late_possible(levels, rules)}: {rules.late_rescue.text}; the latest level is "
            f"{latest.shown()}"
        )
    if elimination == CONSENSUS:
        return rules.normal, (
            "the label's table keys delayed elimination to the 24-h and 48-h levels (≥ 50 and "
            f"≥ 5 µmol/L) and creatinine, which these levels do not meet yet; its delayed early "
            f"schedule if they do: {rules.early_rescue.text}"
        )
    return rules.normal, f"the latest level is {latest.shown()}"


def _glucarpidase(
    above: list[Level],
    covered: bool,
    long_infusion: bool,
    levels: list[Level],
    base: Creatinine | None,
    current: list[Creatinine],
    aki: list[Creatinine],
    rules: HdMtx,
    duration_h: float,
) -> tuple[str, str]:
    if not covered:
        return "not-covered", (
            f"the consensus (Ramsey 2018) gives lines for infusions of 24 h or less and of 36 to "
            f"42 h; this infusion of {fmt(duration_h)} h is not covered: judge the levels with "
            "MTXPK.org or a specialist"
        )
    lines = rules.consensus_long if long_infusion else rules.consensus
    if not above:
        first = min(x.at_h for x in lines)
        if levels[-1].hours < first:
            return "not-yet", (
                f"no level yet at or after {fmt(first)} h, the first consensus line "
                f"({', '.join(f'> {fmt(x.umol_l)} µmol/L at {fmt(x.at_h)} h' for x in lines)})"
            )
        return "not-indicated", "no level is above a consensus line (Ramsey 2018)"
    crossed = "; ".join(
        f"{lv.shown()} > {fmt(x.umol_l)} µmol/L at {fmt(x.at_h)} h"
        for lv in above
        for x in lv.crossed
        if x in lines
    )
    if long_infusion:
        return "consider", f"glucarpidase should be considered: {crossed} (Ramsey 2018)"
    if aki:
        c = aki[0]
        return "consider", (
            f"glucarpidase should be considered: {crossed}, and serum creatinine "
            f"{fmt(c.value)} mg/dL at {fmt(c.hours or 0)} h is {c.rise_percent:+.0f} % over the "
            f"baseline {fmt(base.value if base else 0)} mg/dL (Ramsey 2018 requires a significant "
            "rise; the label counts a 100 % rise as acute kidney injury)"
        )
    if base is not None and current:
        c = current[-1]
        return "judge", (
            f"glucarpidase may be indicated: {crossed}; Ramsey 2018 also requires the serum "
            f"creatinine to be significantly elevated over the baseline and gives no number: "
            f"it is {c.rise_percent:+.0f} % ({fmt(base.value)} → {fmt(c.value)} mg/dL at "
            f"{fmt(c.hours or 0)} h), for the clinician to judge"
        )
    return "creatinine-needed", (
        f"glucarpidase may be indicated: {crossed}; Ramsey 2018 also requires the serum "
        "creatinine to be significantly elevated over the baseline: give the baseline and a "
        "current value (--lab scr=VALUE@YYYY-MM-DDTHH:MM)"
    )


def _draw(latest: Level, rules: HdMtx) -> tuple[str, datetime | None]:
    if latest.value < rules.stop_below:
        return (
            f"the latest level {latest.shown()} is below {fmt(rules.stop_below)} µmol/L: levels "
            f"may stop ({rules.monitoring.text})",
            None,
        )
    next_by = latest.taken + timedelta(hours=24)
    return (
        f"draw methotrexate and serum creatinine at least daily until below "
        f"{fmt(rules.stop_below)} µmol/L; the next by {_at(next_by)} ({rules.monitoring.text})",
        next_by,
    )


def _alerts(
    levels: list[Level],
    consensus: tuple[Line, ...],
    base: Creatinine | None,
    aki: list[Creatinine],
    glucarpidase: str,
    rules: HdMtx,
) -> list[Alert]:
    """MTX_ELIMINATION_DELAYED for each level above a line of delayed elimination (label,
    consensus), and for the creatinine rise the label counts as acute kidney injury."""
    words = {
        "consider": "glucarpidase should be considered",
        "judge": "glucarpidase may be indicated if the creatinine rise is significant",
        "creatinine-needed": "glucarpidase may be indicated: give the creatinine",
        "not-covered": "glucarpidase: this infusion length is not covered by the consensus",
        "not-yet": "glucarpidase: no level yet at the consensus's first time (36 h); draw it",
    }
    g = words.get(glucarpidase, "glucarpidase is not indicated by the consensus lines")
    out = []
    late_all = all(any(x in lv.crossed for lv in levels) for x in rules.late)
    for lv in levels:
        lines = [
            x
            for x in lv.crossed
            if x in rules.early or x in consensus or (late_all and x in rules.late)
        ]
        if not lines:
            continue
        why = "; ".join(
            f"{x.words()} ({rules.short(x.source)}, {'verified' if x.verified else 'unverified'})"
            for x in lines
        )
        out.append(
            Alert(
                CRITICAL,
                "MTX_ELIMINATION_DELAYED",
                f"methotrexate {fmt(lv.value)} µmol/L at {fmt(lv.hours)} h after the infusion "
                f"start ({_at(lv.taken)}): {why}; {g}",
                drug="methotrexate",
            )
        )
    for c in aki:
        assert base is not None
        out.append(
            Alert(
                CRITICAL,
                "MTX_ELIMINATION_DELAYED",
                f"serum creatinine {fmt(c.value)} mg/dL at {fmt(c.hours or 0)} h after the "
                f"infusion start ({c.when}) is {c.rise_percent:+.0f} % over the baseline "
                f"{fmt(base.value)} mg/dL ({base.when}): at or above the label's "
                f"{fmt(rules.creatinine_rise_percent)} % rise, acute kidney injury with delayed "
                f"early elimination ({rules.short(rules.creatinine.source)}, verified); {g}",
                drug="methotrexate",
            )
        )
    return out


def _before_line(latest: Level, lines: tuple[Line, ...], rules: HdMtx) -> list[Alert]:
    """The latest level, drawn before the next line of delayed elimination and above it (80
    µmol/L at 23.5 h): it is not compared with that line, so 'normal' says nothing of it yet."""
    ahead = [x for x in lines if x.at_h > latest.hours]
    if not ahead:
        return []
    when = min(x.at_h for x in ahead)
    over = [x for x in ahead if x.at_h == when and x.crossed(latest.value)]
    if not over:
        return []
    why = "; ".join(
        f"{x.words()} ({rules.short(x.source)}, {'verified' if x.verified else 'unverified'})"
        for x in over
    )
    return [
        Alert(
            WARNING,
            "MTX_LEVEL_BEFORE_LINE",
            f"methotrexate {latest.shown()} was drawn before {fmt(when)} h and is {why}: a level "
            f"is compared with a line only at or after its time (dosecalc does not interpolate), "
            f"so elimination is not judged against it yet; draw a level at {fmt(when)} h or "
            "later, or forecast this one with MTXPK.org",
            drug="methotrexate",
        )
    ]


def _notes(
    elimination: str,
    levels: list[Level],
    base: Creatinine | None,
    current: list[Creatinine],
    duration_h: float,
    covered: bool,
    rules: HdMtx,
) -> list[Alert]:
    out = []
    if elimination == LATE_POSSIBLE:
        out.append(
            Alert(
                WARNING,
                "MTX_LEVEL_ABOVE_EXPECTED",
                f"{_late_possible(levels, rules)} ({rules.short(rules.late[0].source)})",
                drug="methotrexate",
            )
        )
    if base is None or not current:
        missing = (
            "no baseline serum creatinine (drawn before the start)"
            if base is None
            else "no serum creatinine after the start"
        )
        out.append(
            Alert(
                WARNING,
                "MTX_CREATININE_MISSING",
                f"{missing} was given: the label's acute kidney injury "
                "criterion and the consensus's creatinine condition could not be checked "
                "(--lab scr=VALUE@YYYY-MM-DDTHH:MM)",
                drug="methotrexate",
            )
        )
    if duration_h != 4:
        out.append(
            Alert(
                INFO,
                "MTX_TABLE_EXTRAPOLATED",
                f"the infusion lasts {fmt(duration_h)} h: {rules.label_scope}",
                drug="methotrexate",
            )
        )
    return out
