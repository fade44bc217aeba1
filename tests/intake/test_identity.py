"""The intake resolves accounts to staff ids from the reference topic's staff.upsert events:
one officer named three ways by three systems lands on one partition; an unknown account is
kept, flagged, counted and listed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner
from kafka import KafkaProducer
from prometheus_client import CollectorRegistry

from intake.server import RunningIntake
from probity.cli import main
from probity.settings import Settings
from streams.topics import partition_for
from tests.intake.conftest import ADMIN, read_topic, with_admin

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "adapters" / "mappings" / "records_audit.toml"

UPSERT = {
    "id": "hr-1001",
    "time": "2026-03-01T00:00:00Z",
    "source": "hr",
    "kind": "staff.upsert",
    "attrs": {
        "staff_id": "S1001",
        "name": "Amelia Hughes",
        "accounts": [
            {"id": "FORCE\\amelia.hughes", "type": "username"},
            {"id": "amelia.hughes@force.example", "type": "email"},
            {"id": "U1001", "type": "system_user", "system": "records"},
        ],
    },
}
WINDOWS = {
    "SourceName": "Microsoft-Windows-Security-Auditing",
    "Channel": "Security",
    "Hostname": "WS-WOR-012.force.example",
    "EventTime": "2026-03-02 07:41:07",
    "EventID": 4624,
    "RecordNumber": 771201,
    "TargetUserName": "amelia.hughes",
    "TargetDomainName": "FORCE",
    "LogonType": "2",
    "WorkstationName": "WS-WOR-012",
}
M365 = {
    "CreationTime": "2026-03-02T09:15:02",
    "Id": "5b1c2d3e-0001-4a5b-9c8d-000000000001",
    "Operation": "FileAccessed",
    "RecordType": 6,
    "Workload": "SharePoint",
    "UserId": "Amelia.Hughes@force.example",
    "ClientIP": "10.20.30.41",
    "ObjectId": "https://force.sharepoint.com/sites/Intel/Shared Documents/a.xlsx",
    "SiteUrl": "https://force.sharepoint.com/sites/Intel/",
}
CSV = (
    "AuditRef,EventTime,UserId,Workstation,ClientAddress,Action,RecordType,RecordId,"
    "SubjectIds,Reason,SearchText,ResultCount,FieldsViewed,ExportChannel,ExportCount\n"
    "200001,02/03/2026 09:45:10,U1001,WS-WOR-012,10.20.30.41,VIEW,NOMINAL,P-5001,P-5001,"
    "INC-2026-0042,,,summary,,\n"
)


def wait_for(predicate: Callable[[], Any], timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := predicate()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def post(intake: RunningIntake, token: str, body: bytes) -> dict[str, Any]:
    r = httpx.post(
        f"{intake.url}/v1/events",
        content=body,
        timeout=30,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    got: dict[str, Any] = r.json()
    return got


def test_one_officer_three_systems_one_partition(
    settings: Settings,
    intake_factory: Callable[..., RunningIntake],
    token_for: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # HR's upsert is on the reference topic before the intake starts: read at start-up
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    producer.send(settings.topics.reference, key=b"S1001", value=orjson.dumps(UPSERT)).get(10)
    producer.close()
    reg = CollectorRegistry()
    intake = intake_factory(with_admin(settings), reg)
    windows = token_for("windows-hq", format_name="windows-json", tz="Europe/London")
    m365 = token_for("m365", format_name="m365")
    records = token_for("records", format_name="csv", mapping=str(MAPPING))
    hr = token_for("hr")

    assert post(intake, windows, orjson.dumps(WINDOWS))["accepted"] == 1
    unknown = {
        **M365,
        "Id": "5b1c2d3e-0001-4a5b-9c8d-000000000099",
        "UserId": "svc-backup@force.example",
    }
    assert post(intake, m365, orjson.dumps([M365, unknown]))["accepted"] == 2
    assert post(intake, records, CSV.encode())["accepted"] == 1

    stored = [(p, k, orjson.loads(v)) for p, k, v in read_topic(settings, settings.topics.activity)]
    amelia = [(p, k, e) for p, k, e in stored if e["actor"] == "S1001"]
    assert sorted(e["source"] for _, _, e in amelia) == ["m365", "records", "windows-hq"]
    assert {e["attrs"]["actor_account"] for _, _, e in amelia} == {
        "FORCE\\amelia.hughes",
        "Amelia.Hughes@force.example",
        "U1001",
    }
    assert {(p, k) for p, k, _ in amelia} == {
        (partition_for("S1001", settings.partitions), b"S1001")
    }

    # the unknown account: kept, keyed by itself, flagged, counted and listed
    (_, k, svc) = next(x for x in stored if x[2]["actor"] == "svc-backup@force.example")
    assert k == b"svc-backup@force.example" and svc["attrs"]["unresolved_account"] is True
    assert reg.get_sample_value("probity_intake_unresolved_accounts_total", {"source": "m365"}) == 1
    unresolved = f"{intake.url}/admin/accounts/unresolved"
    assert httpx.get(unresolved, timeout=10).status_code == 401
    listed = httpx.get(unresolved, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10).json()
    assert [(x["source"], x["account"], x["count"]) for x in listed] == [
        ("m365", "svc-backup@force.example", 1)
    ]
    monkeypatch.setenv("PROBITY_INTAKE__ADMIN_TOKEN", ADMIN)
    out = CliRunner().invoke(main, ["intake", "accounts", "--unresolved", "--url", intake.url])
    assert out.exit_code == 0 and out.output.startswith("m365\tsvc-backup@force.example\t1\t")

    # an upsert sent while it runs is followed: the service account is now someone's
    later = {
        **UPSERT,
        "id": "hr-2002",
        "time": "2026-03-03T00:00:00Z",
        "attrs": {
            "staff_id": "S2002",
            "accounts": [{"id": "svc-backup@force.example", "valid_from": "2026-03-03T00:00:00Z"}],
        },
    }
    assert post(intake, hr, orjson.dumps(later))["accepted"] == 1
    identity = intake.service.identity
    assert identity is not None
    assert wait_for(lambda: identity.staff_count == 2)
    after = {
        **unknown,
        "Id": "5b1c2d3e-0001-4a5b-9c8d-000000000100",
        "CreationTime": "2026-03-04T10:00:00",
    }
    assert post(intake, m365, orjson.dumps(after))["accepted"] == 1
    events = [orjson.loads(v) for _, _, v in read_topic(settings, settings.topics.activity)]
    ids = {e["id"]: e for e in events}
    assert ids[after["Id"]]["actor"] == "S2002"
    assert ids[unknown["Id"]]["actor"] == "svc-backup@force.example"  # before: still no one
