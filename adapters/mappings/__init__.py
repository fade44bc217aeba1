"""Example mapping files shipped as data (``records_audit.toml``: a records system's
audit trail export for the ``csv`` format)."""
