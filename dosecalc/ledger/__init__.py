"""The patient ledger (CONTRACT §8): every administration recorded, per patient, for life.

Three rooms: :mod:`.store` (the tables, where the ledger is, recording and reading records),
:mod:`.chain` (the hash chain and its checks) and :mod:`.readers` (files to import: history
CSV/YAML and FHIR Bundles). Their public names are all importable from here.
"""

from dosecalc.ledger.chain import FIELDS, GENESIS, Walk, digest, dose_row
from dosecalc.ledger.readers import (
    entries_from_rows,
    fhir_entries,
    history_rows,
    read_source,
)
from dosecalc.ledger.store import (
    META,
    METADATA,
    MIGRATIONS,
    NEEDS_PSYCOPG,
    RECORDS,
    SCHEMA_VERSION,
    SOURCE_LIMIT,
    Entry,
    Ledger,
    LedgerError,
    check_entry,
    default_url,
    resolve_url,
    shown,
    who,
)

__all__ = [
    "FIELDS",
    "GENESIS",
    "META",
    "METADATA",
    "MIGRATIONS",
    "NEEDS_PSYCOPG",
    "RECORDS",
    "SCHEMA_VERSION",
    "SOURCE_LIMIT",
    "Entry",
    "Ledger",
    "LedgerError",
    "Walk",
    "check_entry",
    "default_url",
    "digest",
    "dose_row",
    "entries_from_rows",
    "fhir_entries",
    "history_rows",
    "read_source",
    "resolve_url",
    "shown",
    "who",
]
