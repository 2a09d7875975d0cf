"""Every option of every command, once: its name, how it reads in --help and its help text.
A command lists its options one a line (``height: Height = None``), so that what an option
means is written in one place whatever commands take it."""

from pathlib import Path
from typing import Annotated

import typer

from dosecalc.cli import complete

Height = Annotated[
    str | None, typer.Option(help="Height, e.g. 175cm, 1.75m, 69in, 5ft9in (bare number: cm).")
]
Weight = Annotated[str | None, typer.Option(help="Weight, e.g. 70kg, 154lb (bare number: kg).")]
Bsa = Annotated[
    str | None,
    typer.Option(help="A measured or prescribed BSA in m², used instead of height and weight."),
]
Formula = Annotated[
    str | None,
    typer.Option(
        help="BSA formula (default mosteller): mosteller, dubois, haycock, gehan-george, boyd, "
        "fujimoto, takahira, shuter-aslani, schlich (needs --sex), livingston-lee, yu-2010.",
        autocompletion=complete.formula,
    ),
]
Sex = Annotated[str | None, typer.Option(help="male or female.", autocompletion=complete.sexes)]
Age = Annotated[str | None, typer.Option(help="Age, e.g. 29 or 29y.")]
Scr = Annotated[str | None, typer.Option(help="Serum creatinine, e.g. 0.9mg/dL or 80umol/L.")]
Gfr = Annotated[
    str | None,
    typer.Option(
        help="GFR / creatinine clearance, e.g. 90mL/min: read as an estimate, held to the "
        "policy's cap (carboplatin.gfr_cap_ml_min) unless --gfr-measured."
    ),
]
GfrMeasured = Annotated[
    bool,
    typer.Option(
        "--gfr-measured",
        help="The --gfr value was measured (e.g. a 24-hour urine or nuclear clearance): used as "
        "measured, not capped; a value above the cap shows the dose at the cap beside it.",
    ),
]
Lab = Annotated[
    list[str] | None,
    typer.Option(
        "--lab",
        help="A laboratory value NAME=VALUE[@YYYY-MM-DD[THH:MM]] (when the sample was taken), "
        "e.g. anc=1.2x10^9/L@2026-11-28, bilirubin=36umol/L, ast=2.5xULN, "
        "mtx=12umol/L@2026-12-03T14:00; repeatable. Names: anc, platelets, hb, bilirubin, "
        "direct_bilirubin, ast, alt, alp, scr, crcl (measured), mtx (methotrexate level).",
    ),
]
LabFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--labs",
        help="A lab file: CSV with the columns date,name,value,unit (one result a row); "
        "repeatable.",
        dir_okay=False,
    ),
]
Genotype = Annotated[
    list[str] | None,
    typer.Option(
        "--genotype",
        help="A pharmacogenomic result GENE=A/B, in quotes: DPYD='*1/*2A', "
        "DPYD='c.1905+1G>A/c.1236G>A', DPYD=AS:1 (an activity score), UGT1A1='*28/*28'; "
        "repeatable. Fluorouracil, capecitabine and irinotecan doses follow it "
        "(dosecalc docs pharmacogenomics).",
    ),
]
History = Annotated[
    list[Path] | None,
    typer.Option(
        "--history",
        help="Prior administrations, a history file (CSV or YAML: dosecalc docs history); repeatable.",
        dir_okay=False,
    ),
]
Prior = Annotated[
    list[str] | None,
    typer.Option(
        "--prior",
        help="Lifetime exposure given "
        "elsewhere, DRUG=AMOUNT, e.g. epirubicin=600mg/m2; repeatable.",
    ),
]
ChestRt = Annotated[
    str | None,
    typer.Option(
        "--chest-rt",
        help="Prior or concurrent radiation to "
        "a field including the heart (chest, mediastinum, mantle, whole lung, left "
        "breast, thoracic spine, TBI), in Gy; lowers anthracycline limits per label.",
    ),
]
Equivalence = Annotated[
    str | None,
    typer.Option(
        "--equivalence",
        help="Doxorubicin-equivalence "
        "table: esc-2022 (default), feijen-2019, ighg-2025 or cog-ltfu-v5.",
        autocompletion=complete.tables,
    ),
]
PolicyFile = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Institution policy file "
        "(TOML); default $DOSECALC_POLICY or policy.toml in the user config "
        "folder.",
        dir_okay=False,
    ),
]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Override one policy value, KEY=VALUE (see dosecalc policy show); repeatable."
    ),
]
ChartFile = Annotated[
    Path | None,
    typer.Option(
        "--chart",
        help="Also write a chart of lifetime exposure against the ceilings: FILE.svg or FILE.png.",
        dir_okay=False,
    ),
]
Fmt = Annotated[
    str,
    typer.Option(
        "--format", help="Output format (dosecalc docs outputs).", autocompletion=complete.formats
    ),
]
Output = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write to FILE instead of standard output.", dir_okay=False
    ),
]
Force = Annotated[bool, typer.Option("--force", help="Overwrite an existing --output file.")]
ForceBoth = Annotated[
    bool, typer.Option("--force", help="Overwrite an existing --output or --chart file.")
]
Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="The ledger: a file path or sqlite:///path/to/ledger.db, or "
        "postgresql://user@host/db (default: $DOSECALC_DB, else ledger.db in your data folder).",
    ),
]
Again = Annotated[
    bool,
    typer.Option(
        "--again",
        help="Rows of the history (or the ledger) that repeat another of the same patient, "
        "day, drug and dose are real second administrations: count them (otherwise refused).",
    ),
]
LedgerPatient = Annotated[
    str | None,
    typer.Option("--patient", help="A patient id in the ledger: their recorded doses count."),
]


# plan ---------------------------------------------------------------------------------------
RegimenArg = Annotated[
    str,
    typer.Argument(
        help="Library id (e.g. dia), or a regimen or course YAML file.",
        autocompletion=complete.regimens,
    ),
]
AdjustOrgan = Annotated[
    bool,
    typer.Option(
        "--adjust-organ",
        help="Apply the organ-function dose bands (kidney, liver) to the doses; without it "
        "they are flagged but the doses are not changed.",
    ),
]
Start = Annotated[str | None, typer.Option(help="Cycle 1 day 1, YYYY-MM-DD (default today).")]
Cycles = Annotated[
    str | None,
    typer.Option(
        help="Number of cycles (default: the regimen's): 1-500, spanning at most 5 years."
    ),
]
PreviousWeight = Annotated[
    str | None,
    typer.Option(
        "--previous-weight",
        help="Weight at the last calculation: warn when it changed more than the policy's "
        "threshold.",
    ),
]
Reduce = Annotated[
    list[str] | None,
    typer.Option(
        "--reduce",
        help="Dose reduction DRUG=PERCENT[@CYCLE] (DRUG may be 'all'), e.g. cisplatin=25%@3; "
        "repeatable; needs --reason.",
    ),
]
Escalate = Annotated[
    list[str] | None,
    typer.Option(
        "--escalate",
        help="Dose escalation DRUG=PERCENT[@CYCLE]; only when asked for; needs --reason.",
    ),
]
Reason = Annotated[
    str | None,
    typer.Option("--reason", help="Why the doses are modified (printed with every modified dose)."),
]
Paper = Annotated[str, typer.Option("--paper", help="Paper for --format html: a4 or letter.")]
PatientName = Annotated[
    str | None,
    typer.Option(
        "--patient-name",
        help="The patient's name, printed on the order sheet (--format html) and in the FHIR "
        "bundle; without it the sheet has a line to write it by hand.",
    ),
]
Mrn = Annotated[
    str | None,
    typer.Option(
        "--mrn",
        help="The patient's medical record number, for the order sheet and the FHIR bundle.",
    ),
]
BirthDate = Annotated[
    str | None,
    typer.Option(
        "--birth-date",
        help="The patient's date of birth, YYYY-MM-DD, for the order sheet and the FHIR bundle; "
        "it gives the age on the plan's start (an --age it contradicts is refused).",
    ),
]
Delay = Annotated[
    list[str] | None,
    typer.Option(
        "--delay", help="Delay a cycle: CYCLE=DAYS, or PHASE.CYCLE=DAYS in a course; repeatable."
    ),
]
DelayMode = Annotated[
    str,
    typer.Option(
        "--delay-mode",
        help="shift: later cycles follow a delay (default); keep: they keep the original dates.",
    ),
]
ActualDates = Annotated[
    bool,
    typer.Option(
        "--actual-dates",
        help="Date the cycles already given from the --history rows of this regimen (regimen, "
        "cycle, day columns); later cycles follow per --delay-mode.",
    ),
]
ComparePolicy = Annotated[
    Path | None,
    typer.Option(
        "--compare-policy",
        help="Another policy file (TOML): show each dose under the policy in force and under "
        "this one, side by side.",
        dir_okay=False,
    ),
]

# check --------------------------------------------------------------------------------------
AllPatients = Annotated[
    bool,
    typer.Option(
        "--all-patients",
        help="Audit every patient in the ledger: one status line per patient over a threshold "
        "(JSON: every patient).",
    ),
]
Next = Annotated[
    str | None,
    typer.Option(
        "--next",
        help="A proposed regimen: how many more full cycles fit under the ceilings?",
        autocompletion=complete.regimens,
    ),
]
NextCycles = Annotated[
    str | None, typer.Option("--cycles", help="With --next: the number of cycles proposed.")
]
Details = Annotated[
    bool,
    typer.Option(
        "--details",
        help="With several patients: every patient's totals in full, not the one-line summary.",
    ),
]
OnlyOver = Annotated[  # the older name of --patients-over, kept working, not listed
    str | None, typer.Option("--only-over", hidden=True, help="The same as --patients-over.")
]
PatientsOver = Annotated[
    str | None,
    typer.Option(
        "--patients-over",
        help="Only the patients (CSV: the drugs) at or over a threshold, or over a limit: "
        "threshold or limit; of the history files or, with --all-patients, of the ledger.",
    ),
]
Jobs = Annotated[
    str | None,
    typer.Option(
        help="Threads of the analytics engine that checks histories naming many patients, "
        "Parquet histories and the ledger audit (default: one per CPU)."
    ),
]

# mtx ----------------------------------------------------------------------------------------
InfusionStart = Annotated[
    str | None,
    typer.Option(
        "--infusion-start",
        help="When the methotrexate infusion started, YYYY-MM-DDTHH:MM: every level is judged "
        "by the hours since it (never guessed).",
    ),
]
InfusionDuration = Annotated[
    str | None,
    typer.Option(
        "--infusion-duration",
        help="How long the infusion ran, e.g. 4h or 24h (the glucarpidase consensus differs "
        "for 24 h or less and 36-42 h).",
    ),
]

# verify -------------------------------------------------------------------------------------
OrderArg = Annotated[
    Path,
    typer.Argument(
        help="The order: a YAML order file, or a FHIR R4 Bundle of MedicationRequests (.json), "
        "e.g. what plan --format fhir writes.",
        dir_okay=False,
    ),
]
ExpectOrgan = Annotated[
    bool,
    typer.Option(
        "--adjust-organ",
        help="Expect the doses the organ-function bands (kidney, liver) give for the labs; "
        "without it a band the labs fall in is flagged and the standard dose expected.",
    ),
]
LastWeight = Annotated[
    str | None,
    typer.Option(
        "--previous-weight",
        help="The last recorded weight (default: the order's, when --weight is given): warn "
        "when the weight changed more than the policy's threshold.",
    ),
]
OrderRegimen = Annotated[
    str | None,
    typer.Option(
        "--regimen", help="For a FHIR bundle that does not name it: the regimen (id or file)."
    ),
]
OrderCycle = Annotated[
    str | None,
    typer.Option("--cycle", help="For a FHIR bundle of several cycles: the cycle to verify."),
]
OrderStart = Annotated[
    str | None,
    typer.Option(
        "--start", help="For a FHIR bundle without day numbers: the cycle's day 1, YYYY-MM-DD."
    ),
]
Record = Annotated[
    bool,
    typer.Option(
        "--record",
        help="Record the check (the order's SHA-256, verdict, lines, who, when) in the ledger of "
        "--patient; it records no dose.",
    ),
]
CheckedBy = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Who checks: with --record, who checked (default: your user name); with "
        "--acknowledge, who acknowledges (required).",
    ),
]
Acknowledge = Annotated[
    list[str] | None,
    typer.Option(
        "--acknowledge",
        help="The verifying pharmacist acknowledges a warning of this order, CODE[:DRUG[:DAY]]="
        "REASON (with --by): it then releases with notes; repeatable. What an order may not "
        "acknowledge itself (policy verify.acknowledge) only this releases.",
    ),
]

# ledger -------------------------------------------------------------------------------------
By = Annotated[
    str | None,
    typer.Option("--by", help="Who records this (default: your user name); kept in the audit."),
]
RecordAgain = Annotated[
    bool,
    typer.Option(
        "--again",
        help="Record a dose identical to one already recorded (a real second administration).",
    ),
]
HighDose = Annotated[
    str | None,
    typer.Option(
        "--allow-high-dose",
        metavar="REASON",
        help="Record a dose above its drug's usual maximum single dose, saying why (kept with "
        "the record). A dose at ten times that maximum or more is never recorded.",
    ),
]
RecordPatient = Annotated[str, typer.Option("--patient", help="The patient's id.")]
RecordDate = Annotated[str, typer.Option("--date", help="The day it was given, YYYY-MM-DD.")]
RecordDrug = Annotated[str, typer.Option("--drug", help="The drug (name or abbreviation).")]
RecordDose = Annotated[
    str, typer.Option("--dose", help="The dose given, with its unit: 40mg/m2, 72mg, 2g/m2.")
]
RecordBsa = Annotated[
    str | None, typer.Option("--bsa", help="The BSA that day in m² (for an mg dose).")
]
RecordRegimen = Annotated[str | None, typer.Option(help="The regimen it was part of.")]
RecordCycle = Annotated[str | None, typer.Option(help="Its cycle number.")]
RecordDay = Annotated[str | None, typer.Option(help="Its day in the cycle.")]
RecordNote = Annotated[str | None, typer.Option(help="A free-text note.")]
RecordTime = Annotated[
    str | None,
    typer.Option("--time", help="The time it was given, HH:MM (tells two doses of a day apart)."),
]
RecordId = Annotated[
    str | None,
    typer.Option("--id", help="The administration's id in the source system (e.g. the MAR)."),
]
ImportFile = Annotated[
    Path,
    typer.Argument(
        help="A history CSV or YAML (dosecalc docs history), or a FHIR R4 Bundle of "
        "MedicationAdministrations (.json)."
    ),
]
ImportPatient = Annotated[
    str | None,
    typer.Option(
        "--patient", help="The patient the file is about (else its patient column or subject)."
    ),
]
ListPatient = Annotated[
    str | None, typer.Option("--patient", help="One patient's records (else every patient).")
]
VoidSeq = Annotated[str, typer.Argument(help="The number of the record to void (see ledger list).")]
VoidPatient = Annotated[str, typer.Option("--patient", help="Whose record it is (a safety check).")]
VoidReason = Annotated[str, typer.Option("--reason", help="Why it is voided.")]
ExportPatient = Annotated[
    str | None, typer.Option("--patient", help="One patient (else every patient).")
]
ExportFormat = Annotated[
    str,
    typer.Option(
        "--format",
        help="csv: a history file of the doses in force (dosecalc docs history); json: the whole "
        "audit trail, voids and hashes included.",
    ),
]
Anchor = Annotated[
    str | None,
    typer.Option(
        "--anchor",
        help="A record hash noted earlier (or its first 12+ characters): it must still be in "
        "the chain, which catches a chain rewritten from that record on.",
    ),
]
AcceptHead = Annotated[
    bool,
    typer.Option(
        "--accept-head",
        help="After a deliberate restore from a backup: accept the ledger's head although it is "
        "older than the one this machine last saw (the records after it are then reported, not "
        "hidden).",
    ),
]
