"""Property-based API tests (schemathesis) against the published OpenAPI: no input, however
odd, makes the service answer 500, and responses match their schema — on SQLite and on
PostgreSQL.

schemathesis' lazy pytest fixture does not run on pytest 9, so each operation's strategy
is driven by hypothesis directly (bounded: ``EXAMPLES`` per operation).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.triage.helpers import bearer
from triage.base import Role

EXAMPLES = 20


def _token_for(path: str, env: dict[str, Any]) -> str:
    """The role that may call the operation, so the fuzzing reaches the handler."""
    if path.startswith("/api/users"):
        return env["tokens"][Role.ADMIN]
    if path.startswith("/api/audit"):
        return env["tokens"][Role.AUDITOR]
    return env["tokens"][Role.HEAD_OF_UNIT]


def _fuzz(operation: Any, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case: Any) -> None:
        case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )

    check()


def test_no_server_errors(any_app_env: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", any_app_env["app"], headers=bearer(any_app_env["tokens"][Role.ANALYST])
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    paths = {operation.path for operation in operations}
    assert {"/api/reveal-requests", "/api/reveal-requests/{request_id}/approve",
            "/api/reveal-requests/{request_id}/decline"} <= paths  # fmt: skip
    for operation in operations:
        _fuzz(operation, bearer(_token_for(operation.path, any_app_env)))
