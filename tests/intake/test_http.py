"""``POST /v1/events`` against the real embedded broker: tokens, sources, limits, per-line
answers, idempotence, back-pressure, a broker that goes away."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from intake.app import MetricsApp
from intake.server import RunningIntake
from models.deadletters import load_dead_letter
from probity.settings import Settings
from streams.broker import start_broker
from streams.topics import partition_for
from tests.intake.conftest import (
    ADMIN,
    intake_settings,
    ndjson,
    read_topic,
    topic_ids,
    with_admin,
)

pytestmark = pytest.mark.broker

Factory = Callable[..., RunningIntake]
DATA = Path(__file__).resolve().parents[1] / "adapters" / "data"


def post(intake: RunningIntake, body: bytes, token: str | None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{intake.url}/v1/events", content=body, headers=headers, params=params, timeout=30
    )


def test_without_a_valid_token_401(
    settings: Settings,
    intake_factory: Factory,
    contract_event: Callable[..., dict[str, Any]],
    token_for: Callable[..., str],
) -> None:
    reg = CollectorRegistry()
    intake = intake_factory(settings, reg)
    body = ndjson([contract_event()])
    token = token_for("athena")
    for bad in (None, "pit_000000000000_notthesecretatallxxxxxxx", token[:-2] + "xx"):
        r = post(intake, body, bad)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert reg.get_sample_value("probity_intake_unauthorized_total") == 3
    assert read_topic(settings, settings.topics.activity) == []


def test_revoked_token_stops_at_once(
    settings: Settings,
    intake_factory: Factory,
    contract_event: Callable[..., dict[str, Any]],
    token_for: Callable[..., str],
) -> None:
    from intake.tokens import TokenStore, tokens_path

    intake = intake_factory(settings)
    token = token_for("athena")
    assert post(intake, ndjson([contract_event()]), token).status_code == 200
    TokenStore(tokens_path(settings)).revoke(source="athena")
    assert post(intake, ndjson([contract_event()]), token).status_code == 401


def test_another_sources_events_are_rejected(
    settings: Settings,
    intake_factory: Factory,
    contract_event: Callable[..., dict[str, Any]],
    token_for: Callable[..., str],
) -> None:
    reg = CollectorRegistry()
    intake = intake_factory(settings, reg)
    token = token_for("athena")
    own, other = contract_event(), contract_event(source="pnc")
    missing = contract_event()
    del missing["source"]
    r = post(intake, ndjson([own, other, missing]), token)
    assert r.status_code == 200
    lines = r.json()["lines"]
    assert [x["status"] for x in lines] == ["accepted", "rejected", "accepted"]
    assert lines[1]["reason"] == "source: 'pnc' is not this token's source 'athena'"
    stored = [orjson.loads(v) for _, _, v in read_topic(settings, settings.topics.activity)]
    assert {e["id"] for e in stored} == {own["id"], missing["id"]}
    assert {e["source"] for e in stored} == {"athena"}  # the missing source is the token's
    # naming another source outright is refused whole
    r = post(intake, ndjson([other]), token, source="pnc")
    assert r.status_code == 403
    assert (
        reg.get_sample_value("probity_intake_refused_total", {"source": "athena", "code": "403"})
        == 1
    )


def test_oversized_body_and_line_413(
    broker: Any,
    tmp_path: Path,
    intake_factory: Factory,
    contract_event: Callable[..., dict[str, Any]],
) -> None:
    from intake.tokens import TokenStore, tokens_path

    s = intake_settings(broker, tmp_path, max_body_bytes=64 * 1024, max_line_bytes=4096)
    token = TokenStore(tokens_path(s)).create("athena")[1]
    intake = intake_factory(s)
    body = ndjson([contract_event(attrs={"fields": ["x" * 100]}) for _ in range(600)])
    assert len(body) > 64 * 1024
    r = post(intake, body, token)
    assert r.status_code == 413
    assert r.json()["detail"].startswith("body:")

    # no Content-Length: refused as the stream passes the limit
    def chunks() -> Any:
        for i in range(0, len(body), 8192):
            yield body[i : i + 8192]

    r = httpx.post(
        f"{intake.url}/v1/events",
        content=chunks(),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 413
    long_line = ndjson([contract_event(), contract_event(attrs={"fields": ["y" * 5000]})])
    r = post(intake, long_line, token)
    assert r.status_code == 413
    assert r.json()["detail"].startswith("line 2:")
    assert read_topic(s, s.topics.activity) == []


def test_mixed_batch_answered_per_line(
    settings: Settings,
    intake_factory: Factory,
    contract_event: Callable[..., dict[str, Any]],
    token_for: Callable[..., str],
) -> None:
    reg = CollectorRegistry()
    intake = intake_factory(settings, reg)
    token = token_for("athena")
    good1, good2 = contract_event(), contract_event()
    bad_time = contract_event(time="yesterday")
    no_actor = contract_event()
    del no_actor["actor"]
    staff = {
        "id": "hr-1",
        "time": "2026-03-01T00:00:00Z",
        "source": "athena",
        "kind": "staff.upsert",
        "attrs": {"staff_id": "S1", "name": "Jo Bloggs"},
    }
    body = b"\n".join(
        [
            orjson.dumps(good1),
            b"{not json",
            orjson.dumps(bad_time),
            b"",
            orjson.dumps(no_actor),
            b"[1]",
            orjson.dumps(staff),
            orjson.dumps(good2),
        ]
    )
    r = post(intake, body, token)
    assert r.status_code == 200
    got = r.json()
    assert (got["accepted"], got["rejected"], got["duplicate"], got["failed"]) == (3, 4, 0, 0)
    by_line = {x["line"]: x for x in got["lines"]}
    assert sorted(by_line) == [1, 2, 3, 5, 6, 7, 8]  # the blank line 4 is no record
    assert by_line[1]["status"] == by_line[7]["status"] == by_line[8]["status"] == "accepted"
    assert by_line[2]["reason"].startswith("line: not valid JSON")
    assert by_line[3]["reason"].startswith("time:")
    assert by_line[3]["id"] == bad_time["id"]
    assert by_line[5]["reason"].startswith("actor: required")
    assert by_line[6]["reason"] == "line: not a JSON object (list)"
    assert set(topic_ids(settings, settings.topics.activity)) == {good1["id"], good2["id"]}
    assert topic_ids(settings, settings.topics.reference) == ["hr-1"]
    dead = [load_dead_letter(v) for _, _, v in read_topic(settings, settings.topics.dead_letters)]
    assert sorted(d.origin.line for d in dead if d.origin.line) == [2, 3, 5, 6]
    assert {d.origin.file for d in dead} == {"intake:athena"}
    assert next(d for d in dead if d.origin.line == 2).original_bytes == b"{not json"
    sample = reg.get_sample_value
    assert sample("probity_intake_events_total", {"source": "athena", "status": "accepted"}) == 3
    assert sample("probity_intake_events_total", {"source": "athena", "status": "rejected"}) == 4


def test_json_array_and_keys(
    settings: Settings,
    intake_factory: Factory,
    contract_event: Callable[..., dict[str, Any]],
    token_for: Callable[..., str],
) -> None:
    intake = intake_factory(settings)
    token = token_for("athena")
    events = [contract_event(actor=f"S{i % 3}") for i in range(12)]
    r = post(intake, orjson.dumps(events), token)
    assert r.status_code == 200 and r.json()["accepted"] == 12
    for partition, key, value in read_topic(settings, settings.topics.activity):
        actor = orjson.loads(value)["actor"]
        assert key == actor.encode()
        assert partition == partition_for(actor, settings.partitions)


def test_same_batch_twice_processed_once(
    settings: Settings,
    intake_factory: Factory,
    contract_event: Callable[..., dict[str, Any]],
    token_for: Callable[..., str],
) -> None:
    intake = intake_factory(settings)
    token = token_for("athena")
    events = [contract_event() for _ in range(20)]
    first = post(intake, ndjson(events), token).json()
    assert first["accepted"] == 20
    again = post(intake, ndjson(events), token).json()
    assert (again["accepted"], again["duplicate"]) == (0, 20)
    # one id twice in one batch, and the same batch by two requests at once
    more = [contract_event() for _ in range(10)]
    body = ndjson([*more, more[0]])

    async def both() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return list(
                await asyncio.gather(
                    *[
                        client.post(
                            f"{intake.url}/v1/events",
                            content=body,
                            headers={"Authorization": f"Bearer {token}"},
                        )
                        for _ in range(2)
                    ]
                )
            )

    answers = [r.json() for r in asyncio.run(both())]
    assert sum(a["accepted"] for a in answers) == 10
    assert sum(a["duplicate"] for a in answers) == 12
    ids = topic_ids(settings, settings.topics.activity)
    assert Counter(ids) == Counter({e["id"]: 1 for e in [*events, *more]})


def test_flood_is_throttled_with_retry_after(
    broker: Any,
    tmp_path: Path,
    intake_factory: Factory,
    contract_event: Callable[..., dict[str, Any]],
) -> None:
    from intake.tokens import TokenStore, tokens_path

    s = intake_settings(broker, tmp_path, max_in_flight=30, retry_after_s=2)
    token = TokenStore(tokens_path(s)).create("athena")[1]
    reg = CollectorRegistry()
    intake = intake_factory(s, reg)
    bodies = [ndjson([contract_event() for _ in range(25)]) for _ in range(24)]

    async def flood() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return list(
                await asyncio.gather(
                    *[
                        client.post(
                            f"{intake.url}/v1/events",
                            content=b,
                            headers={"Authorization": f"Bearer {token}"},
                        )
                        for b in bodies
                    ]
                )
            )

    answers = asyncio.run(flood())
    codes = Counter(r.status_code for r in answers)
    assert codes[429] >= 1 and codes[200] >= 1 and set(codes) <= {200, 429}
    accepted: set[str] = set()
    for r in answers:
        if r.status_code == 429:
            assert r.headers["Retry-After"] == "2"
        else:
            assert r.json()["accepted"] == 25
            accepted |= {x["id"] for x in r.json()["lines"]}
    assert set(topic_ids(s, s.topics.activity)) == accepted
    assert (
        reg.get_sample_value("probity_intake_throttled_total", {"source": "athena"}) == codes[429]
    )
    assert intake.service.publisher.in_flight == 0


@pytest.mark.slow
def test_broker_stopped_under_it(
    tmp_path: Path, intake_factory: Factory, contract_event: Callable[..., dict[str, Any]]
) -> None:
    """Nothing is answered accepted that the broker did not store: with the broker gone,
    every line is ``failed`` (503, Retry-After), none ``accepted``."""
    from intake.tokens import TokenStore, tokens_path

    own = start_broker(log_dir=tmp_path / "own-broker")
    try:
        s = intake_settings(own, tmp_path, ack_timeout_s=3.0)
        token = TokenStore(tokens_path(s)).create("athena")[1]
        intake = intake_factory(s)
        before = [contract_event() for _ in range(10)]
        r = post(intake, ndjson(before), token)
        assert r.json()["accepted"] == 10
        stored = set(topic_ids(s, s.topics.activity))
        assert stored == {e["id"] for e in before}
        own.stop()
        after = [contract_event() for _ in range(10)]
        r = post(intake, ndjson(after), token)
        assert r.status_code == 503
        assert r.headers["Retry-After"]
        assert {x["status"] for x in r.json()["lines"]} == {"failed"}
        # a failed id is not remembered: sent again later it is published, not a duplicate
        assert not any(e["id"] in intake.service.publisher._recent["athena"] for e in after)
    finally:
        own.stop()


def test_adapter_format_by_query_and_token(
    settings: Settings, intake_factory: Factory, token_for: Callable[..., str]
) -> None:
    intake = intake_factory(settings)
    m365 = (DATA / "m365" / "audit.jsonl").read_bytes()
    expected = [
        orjson.loads(x) for x in (DATA / "m365" / "audit.expected.jsonl").read_bytes().splitlines()
    ]
    token = token_for("sharepoint")
    r = post(intake, m365, token, format="m365")
    assert r.status_code == 200
    got = r.json()
    assert got["format"] == "m365"
    assert got["accepted"] == len(expected)
    stored = [orjson.loads(v) for _, _, v in read_topic(settings, settings.topics.activity)]
    assert {e["source"] for e in stored} == {"sharepoint"}
    assert {e["id"] for e in stored} == {e["id"] for e in expected}
    # the format from the source's token; the header names it too
    proxy = token_for("proxy", format_name="cef")
    cef = (DATA / "cef" / "proxy.cef").read_bytes()
    r = post(intake, cef, proxy)
    assert r.json()["format"] == "cef" and r.json()["accepted"] >= 1
    r = httpx.post(
        f"{intake.url}/v1/events",
        content=b"x",
        timeout=10,
        headers={"Authorization": f"Bearer {proxy}", "X-Probity-Format": "nope"},
    )
    assert r.status_code == 400 and "unknown format 'nope'" in r.json()["detail"]


def test_openapi_and_metrics(
    settings: Settings, intake_factory: Factory, token_for: Callable[..., str]
) -> None:
    """/metrics wants ``metrics_token`` (per-source counts say whose system is watched);
    /healthz stays open."""
    scrape = "intake-scrape-token"
    proxy = token_for("proxy")
    intake = intake_factory(settings.model_copy(update={"metrics_token": SecretStr(scrape)}))
    spec = httpx.get(
        f"{intake.url}/openapi.json", headers={"Authorization": f"Bearer {proxy}"}, timeout=10
    ).json()
    op = spec["paths"]["/v1/events"]["post"]
    assert {"200", "401", "403", "413", "429", "503"} <= set(op["responses"])
    assert "application/x-ndjson" in op["requestBody"]["content"]
    for wrong in (None, f"Bearer {scrape}x", scrape, f"Basic {scrape}", "Bearer"):
        headers = {"Authorization": wrong} if wrong is not None else {}
        r = httpx.get(f"{intake.url}/metrics", headers=headers, timeout=10)
        assert r.status_code == 401, wrong
        assert r.headers["WWW-Authenticate"].startswith("Bearer") and "probity_" not in r.text
    right = {"Authorization": f"Bearer {scrape}"}
    r = httpx.get(f"{intake.url}/metrics", headers=right, timeout=10)
    assert r.status_code == 200 and "probity_intake_in_flight_records" in r.text
    assert httpx.get(f"{intake.url}/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize("token", [None, ""])
def test_metrics_without_a_token_configured_answer_401_to_everyone(
    token: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """Closed by default: an intake started without ``metrics_token`` refuses every scrape
    and says so once, naming the variable to set."""
    registry = CollectorRegistry()
    with caplog.at_level(logging.WARNING, logger="intake.app"):
        app = MetricsApp(registry, token)
    warnings = [r for r in caplog.records if "PROBITY_METRICS_TOKEN" in r.getMessage()]
    assert len(warnings) == 1

    async def scrape(authorization: str | None) -> int:
        headers = {"Authorization": authorization} if authorization is not None else {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            return (await client.get("/", headers=headers)).status_code

    for given in (None, "Bearer", "Bearer None", "Bearer anything"):
        assert asyncio.run(scrape(given)) == 401, given


def test_admin_wants_the_admin_token(
    settings: Settings,
    intake_factory: Factory,
    token_for: Callable[..., str],
) -> None:
    """/admin (names of accounts) opens to the admin token alone: not to nobody, a wrong or
    bare token, the metrics token, nor a source's token (403); the OpenAPI document opens to
    a source's or the admin token, and there is no /docs page."""
    source = token_for("athena")
    scrape = "intake-scrape-token"
    intake = intake_factory(
        with_admin(settings).model_copy(update={"metrics_token": SecretStr(scrape)})
    )
    url = f"{intake.url}/admin/accounts/unresolved"

    def get(path: str, authorization: str | None) -> httpx.Response:
        headers = {"Authorization": authorization} if authorization is not None else {}
        return httpx.get(f"{intake.url}{path}", headers=headers, timeout=10)

    for wrong in (None, "Bearer", f"Bearer {ADMIN}x", ADMIN, f"Basic {ADMIN}", f"Bearer {scrape}"):
        r = get("/admin/accounts/unresolved", wrong)
        assert r.status_code == 401, wrong
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert get("/openapi.json", wrong).status_code == 401, wrong
    assert get("/admin/accounts/unresolved", f"Bearer {source}").status_code == 403
    assert httpx.get(url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10).json() == []
    for right in (f"Bearer {source}", f"Bearer {ADMIN}"):
        paths = get("/openapi.json", right).json()["paths"]
        assert "/admin/accounts/unresolved" in paths and "/openapi.json" not in paths
    for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert get(page, f"Bearer {ADMIN}").status_code == 404, page


def test_admin_without_a_token_configured_answers_401_to_everyone(
    settings: Settings,
    intake_factory: Factory,
    token_for: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Closed by default: without ``intake.admin_token`` /admin refuses everyone, and one
    warning at start names the variable to set."""
    source = token_for("athena")
    with caplog.at_level(logging.WARNING, logger="intake.app"):
        intake = intake_factory(settings)
    warnings = [r for r in caplog.records if "PROBITY_INTAKE__ADMIN_TOKEN" in r.getMessage()]
    assert len(warnings) == 1
    url = f"{intake.url}/admin/accounts/unresolved"
    for given in (None, "Bearer", "Bearer None", "Bearer anything"):
        headers = {"Authorization": given} if given is not None else {}
        assert httpx.get(url, headers=headers, timeout=10).status_code == 401, given
    source_header = {"Authorization": f"Bearer {source}"}
    assert httpx.get(url, headers=source_header, timeout=10).status_code in (401, 403)
