"""The audit trail: one append-only SQLite file, every record chained by SHA-256 to the
one before; decision records, the expert overrides register, account events, and the
queries auditors run over it."""
