"""The patient ledger: every administration recorded, per patient, for life.

Three rooms: :mod:`.store` (the tables, where the ledger is, recording and reading records),
:mod:`.chain` (the hash chain and its checks) and :mod:`.readers` (files to import: history
CSV/YAML and FHIR Bundles), with :mod:`.fields` (every stored field and its bound) and
:mod:`.witness` (the head kept outside the database). Their public names are importable from
here, as they were from the single module this package replaces.
"""

from dosecalc.ledger.chain import FIELDS, GENESIS, Walk, digest, dose_row  # noqa: F401
from dosecalc.ledger.readers import (  # noqa: F401
    entries_from_rows,
    fhir_entries,
    history_rows,
    read_source,
)
from dosecalc.ledger.store import (  # noqa: F401
    META,
    METADATA,
    MIGRATIONS,
    NEEDS_PSYCOPG,
    RECORD_SOURCE,
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
