"""The engines of many patients: DuckDB for history files, PostgreSQL for the ledger audit. They compute numbers; every message is the clinical layer's."""
