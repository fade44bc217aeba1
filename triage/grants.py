"""The PostgreSQL grants for the queue's runtime role.

Two roles: the *migration owner* owns the tables (runs ``alembic upgrade`` or the first
start, and nothing else); the *runtime role* that the service, the sink and the audit
feed connect as may use the tables but only INSERT and SELECT on ``audit_log``: it cannot
UPDATE, DELETE or TRUNCATE it, nor disable its triggers (only an owner can). Print the
statements with ``probity triage db grants --role NAME`` and run them as the owner, in the
queue's schema, after each migration, or let ``probity triage db migrate --grant-to NAME``
(run as the owner) do both.
"""

from __future__ import annotations

import re

from triage.tables import Base

#: tables with evidence or the chain's head: never in the runtime's free hand
_GUARDED = frozenset({"audit_log", "audit_head"})


def working_tables() -> tuple[str, ...]:
    """Every table of the schema but the audit log and its head: the runtime reads and
    changes them freely (they hold state, not evidence). Taken from the tables themselves,
    so a table added by a migration is granted without anyone remembering to."""
    return tuple(sorted(set(Base.metadata.tables) - _GUARDED))

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def runtime_role_sql(role: str) -> str:
    """The GRANT statements for ``role`` (an existing login role) on the current schema.

    >>> "INSERT ON audit_log" in runtime_role_sql("probity_app")
    True
    >>> runtime_role_sql("x; DROP TABLE alerts")
    Traceback (most recent call last):
    ...
    ValueError: a role name is lower-case letters, digits and _
    """
    if not _NAME.match(role):
        raise ValueError("a role name is lower-case letters, digits and _")
    tables = ", ".join(working_tables())
    return f"""\
-- run as the migration owner, with search_path set to the queue's schema
DO $$ BEGIN
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO {role}', current_schema());
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO {role}',
                 current_schema());
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {role};
GRANT SELECT ON alembic_version TO {role};
-- the audit log: append and read only; no UPDATE, DELETE, TRUNCATE (and not the owner,
-- so no ALTER TABLE ... DISABLE TRIGGER)
GRANT SELECT, INSERT ON audit_log TO {role};
-- the head row (last seq and hash) serialises appenders; the chain is checked against
-- the signed checkpoints, not against this row alone
GRANT SELECT, UPDATE ON audit_head TO {role};
"""


def reader_role_sql(role: str) -> str:
    """The GRANTs for the workers' ``role``: read the analysts' suppressions, nothing else.

    >>> print(reader_role_sql("probity_reader").splitlines()[-1])
    GRANT SELECT ON suppressions TO probity_reader;
    """
    if not _NAME.match(role):
        raise ValueError("a role name is lower-case letters, digits and _")
    return f"""\
-- run as the migration owner, with search_path set to the queue's schema
DO $$ BEGIN
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO {role}', current_schema());
END $$;
GRANT SELECT ON suppressions TO {role};
"""
