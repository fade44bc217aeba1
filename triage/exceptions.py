"""Errors of the ``triage`` package."""

from __future__ import annotations

from probity.errors import ProbityError


class TriageError(ProbityError):
    """Base for errors of the ACU queue."""


class NotFound(TriageError):
    """No such alert, user or suppression, or one the caller may not see (never say which)."""


class Forbidden(TriageError):
    """The caller's role does not allow this action."""


class InvalidAlert(TriageError):
    """An alert the store cannot hold (a field beyond the schema's limits): dead-letter it."""


class InvalidTransition(TriageError):
    """A workflow step that does not apply to the alert's current status."""


class QuotaExceeded(TriageError):
    """A per-user limit (the daily reveals) is used up: 429."""


class ApprovalPending(TriageError):
    """A reveal of a covert, VIP, canary or vulnerable-victim subject waits for a second
    person's approval (202): ``request_id`` names the request."""

    def __init__(self, request_id: int) -> None:
        super().__init__(
            f"reveal request {request_id} awaits a second supervisor's approval: this person is "
            "on a covert, VIP, canary or vulnerable-victim list"
        )
        self.request_id = request_id


class AuthError(TriageError):
    """Bad credentials, an expired session or a missing CSRF token."""


class AuditChainBroken(TriageError):
    """The audit log's hash chain does not verify; ``seq`` names the first bad row."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"audit row {seq}: {reason}")
        self.seq = seq
        self.reason = reason
