"""What every request handler needs, built once by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from starlette.templating import Jinja2Templates

from probity.settings import TriageSettings
from triage.metrics import QueueMetrics
from triage.mfa import SecondFactor
from triage.oidc import OidcLogin
from triage.security import Pseudonymiser, SessionCodec
from triage.store import Store
from triage.throttle import LoginThrottle


@dataclass(frozen=True)
class Context:
    settings: TriageSettings
    store: Store
    sessions: SessionCodec
    pseudonym: Pseudonymiser
    templates: Jinja2Templates
    registry: CollectorRegistry
    throttle: LoginThrottle
    metrics: QueueMetrics
    mfa: SecondFactor
    oidc: OidcLogin | None = None  # None: no single sign-on configured
