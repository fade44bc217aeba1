"""No identity in clear: every alert of a simulated force, rendered through every page and
API response an analyst (or, for the ACU's alerts, the outside reviewer) reads without a
reveal, shows none of the raw identifiers of its evidence events.

The forces are run offline through the pipeline (the worker's code without Kafka), their
alerts loaded into a queue store; each alert is then read on its page, its API, its
officer's timeline (page and API), the link chart's i2 export, the queue (page and API),
search (page and API), and a case holding it (page, API and the referral pack)."""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from detectors.registry import build
from engine.pipeline import Pipeline
from models.alerts import Alert
from models.events import decode_event
from probity.settings import Settings
from simulation.generator import Force
from tests.triage.conftest import POLICY
from tests.triage.helpers import PASSWORD, bearer, login
from triage.app import create_app
from triage.base import Role
from triage.store import Policy, Store

pytestmark = pytest.mark.slow

#: attributes of an event that name someone (contract attrs); lists are taken item by item
_NAMING = ("number", "to", "name", "dob", "person", "complainant", "complaint", "operation",
           "phones", "value")  # fmt: skip

FORCES = {
    "clean": {"staff": 60, "days": 10, "seed": 11, "it": True},
    # realistic noise with IT life fails to generate at some small sizes (a simulation
    # issue of its own); this one generates
    "realistic-it": {"staff": 100, "days": 14, "seed": 1, "noise": "realistic", "it": True},
}


def identifiers(event: dict[str, Any], officer: str) -> set[str]:
    """The raw identifiers one event carries: its subjects, a person record it touched, the
    attributes that name someone (phones, e-mail addresses, names, dates of birth, people,
    complaint references, operation names), a covert subject's operation. The officer's
    staff id is shown in clear by design; their name and date of birth are not."""
    out = {s for s in event.get("subjects") or [] if isinstance(s, str)}
    record = event.get("record") or {}
    if record.get("type") == "person" and isinstance(record.get("id"), str):
        out.add(record["id"])
    attrs = event.get("attrs") or {}
    for key in _NAMING:
        value = attrs.get(key)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v:
                out.add(v)
    if attrs.get("list") == "covert_subject" and isinstance(attrs.get("group"), str):
        out.add(attrs["group"])
    out.discard(officer)
    # a short value or a lower-case word ("bulk", "disabled") is no one's identifier
    return {v for v in out if len(v) >= 4 and not (v.isalpha() and v.islower())}


@pytest.fixture(scope="module", params=sorted(FORCES))
def force_queue(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    force = Force(**FORCES[request.param])
    raw = {e["id"]: orjson.loads(orjson.dumps(e)) for e in force.events()}  # dates as text
    alerts: list[Alert] = Pipeline(build()).run(
        decode_event(orjson.dumps(e)) for e in force.events()
    )
    assert len(alerts) > 20
    db = tmp_path_factory.mktemp(request.param) / "queue.db"
    store = Store(f"sqlite:///{db}", policy=Policy(acu_units=POLICY.acu_units))
    store.migrate()
    store.upsert_alerts(alerts)
    users = {r: store.create_user(r.value, PASSWORD, r, f"S-{r.value}")
             for r in (Role.ANALYST, Role.REVIEWER)}  # fmt: skip
    settings = Settings(secret_key=SecretStr("k" * 32), store_url="sqlite://",
                        triage={"cookie_secure": False})  # fmt: skip
    app = create_app(settings, store, registry=CollectorRegistry())
    yield {"app": app, "store": store, "users": users, "alerts": alerts, "raw": raw}
    store.dispose()


def _leaks(text: str, wanted: set[str]) -> set[str]:
    return {v for v in wanted if v in text or html.escape(v) in text}


def test_no_page_or_api_response_shows_an_evidence_identifier(force_queue):
    env = force_queue
    store, app = env["store"], env["app"]
    reader = {Role.ANALYST: login(app, "analyst")[0], Role.REVIEWER: login(app, "reviewer")[0]}
    tokens = {r: bearer(store.create_token(u.id, "t", u)) for r, u in env["users"].items()}
    api = TestClient(app)
    leaks: dict[str, set[str]] = {}
    checked = 0
    for alert in env["alerts"]:
        stored = store.view_alert(alert.id, env["users"][Role.REVIEWER], audit=False)[0] \
            if alert.officer_unit in POLICY.acu_units else None  # fmt: skip
        role = Role.REVIEWER if stored is not None else Role.ANALYST
        user, page, auth = env["users"][role], reader[role], tokens[role]
        wanted: set[str] = set()
        for eid in alert.evidence:
            if eid in env["raw"]:
                wanted |= identifiers(env["raw"][eid], alert.officer)
        if not wanted:
            continue
        checked += 1
        case = store.open_case(alert.officer, "identity check", user)
        store.attach_alert(case.id, alert.id, user)
        q = urllib.parse.quote(alert.officer)
        for label, response in {
            "alert page": page.get(f"/alerts/{alert.id}"),
            "alert api": api.get(f"/api/alerts/{alert.id}", headers=auth),
            "timeline page": page.get(f"/officers/{q}"),
            "timeline api": api.get(f"/api/officers/{q}/timeline", headers=auth),
            "i2 export": page.get(f"/alerts/{alert.id}/chain.csv"),
            "queue page": page.get(f"/queue?officer={q}"),
            "queue api": api.get(f"/api/alerts?officer={q}", headers=auth),
            "search page": page.get(f"/search?q={q}"),
            "search api": api.get(f"/api/search?q={q}", headers=auth),
            "case page": page.get(f"/cases/{case.id}"),
            "case api": api.get(f"/api/cases/{case.id}", headers=auth),
            "referral pack": page.get(f"/cases/{case.id}/pack"),
        }.items():
            assert response.status_code == 200, (label, alert.id, response.status_code)
            found = _leaks(response.text, wanted)
            if found:
                leaks.setdefault(f"{alert.detector} {label}", set()).update(found)
    assert checked > 10
    assert not leaks, sorted((k, sorted(v)) for k, v in leaks.items())


def test_identifiers_typed_into_notes_are_masked_too(app_env, alert_factory):
    """An analyst's note quoting the alert's people or identifiers (a subject, a path's phone
    number, an identifier the detector declared) shows them pseudonymised, on the page, in
    the API, on the case and in the referral pack; an identifier the alert does not name is
    shown as typed (docs/security.md says so)."""
    store, app = app_env["store"], app_env["app"]
    analyst = app_env["users"][Role.ANALYST]
    hop = {"from": "S1001", "to": "+447700900999", "relation": "called"}
    a = alert_factory(officer="S1001", subjects=["P-9003"], identifiers=["CO-2026-000123"],
                      path=[hop])  # fmt: skip
    store.upsert_alert(a)
    store.assign(a.id, "analyst", app_env["users"][Role.SUPERVISOR])
    text = "Rang +447700900999 about P-9003 re complaint CO-2026-000123; see also X-42."
    store.add_note(a.id, text, analyst)
    case = store.open_case("S1001", "notes check", analyst)
    store.attach_alert(case.id, a.id, analyst)
    store.add_case_note(case.id, text, analyst)
    store.add_case_task(case.id, "Check P-9003 with the phone +447700900999", analyst)
    page, _ = login(app, "analyst")
    api = TestClient(app)
    auth = bearer(app_env["tokens"][Role.ANALYST])
    pseudonym = app.state.ctx.pseudonym
    for response in (page.get(f"/alerts/{a.id}"), api.get(f"/api/alerts/{a.id}", headers=auth),
                     page.get(f"/cases/{case.id}"), api.get(f"/api/cases/{case.id}", headers=auth),
                     page.get(f"/cases/{case.id}/pack")):  # fmt: skip
        body = response.text
        assert response.status_code == 200
        for raw in ("+447700900999", "P-9003", "CO-2026-000123"):
            assert raw not in body and pseudonym(raw) in body
        assert "X-42" in body  # not one the alert names: as typed
