"""Identity resolution: accounts to staff ids as of the event's time (adapters.identity),
through the adapters and ``probity convert --staff``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from adapters.base import AdapterConfig, Converted
from adapters.identity import IdentityResolver
from adapters.registry import create
from models.events import decode_obj
from probity.cli import main

DATA = Path(__file__).resolve().parent / "data"
MAPPING = Path(__file__).resolve().parents[2] / "adapters" / "mappings" / "records_audit.toml"


def upsert(staff_id: str, time: str, *accounts: dict[str, Any], n: int = 0) -> dict[str, Any]:
    return {
        "id": f"hr-{staff_id}-{time}-{n}",
        "time": time,
        "source": "hr",
        "kind": "staff.upsert",
        "attrs": {"staff_id": staff_id, "accounts": list(accounts)},
    }


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def resolver() -> IdentityResolver:
    r = IdentityResolver()
    for obj in [
        upsert(
            "S1001",
            "2026-03-01T00:00:00Z",
            {"id": "FORCE\\amelia.hughes", "type": "username"},
            {"id": "amelia.hughes@force.example", "type": "email"},
            {"id": "S-1-5-21-1004336348-1177238915-682003330-1001", "type": "sid"},
            {"id": "U1001", "type": "system_user", "system": "records"},
        ),
        # the duty account: Ravi's until the 15th, then Jo's
        upsert(
            "S2002",
            "2026-03-01T00:00:00Z",
            {"id": "FORCE\\duty.sgt", "valid_to": "2026-03-15T00:00:00Z"},
        ),
        upsert(
            "S3003",
            "2026-03-15T00:00:00Z",
            {"id": "FORCE\\duty.sgt", "valid_from": "2026-03-15T00:00:00Z"},
        ),
    ]:
        assert r.observe(decode_obj(obj))
    return r


def test_one_officer_named_three_ways(resolver: IdentityResolver) -> None:
    named = [
        ("FORCE\\amelia.hughes", "windows"),
        ("force\\AMELIA.HUGHES", "windows"),  # case does not matter
        ("Amelia.Hughes@force.example", "m365"),
        ("U1001", "records"),
    ]
    for account, source in named:
        assert resolver.resolve(account, at(2), source) == "S1001", account
    # a bare name does not match a declared DOMAIN\\name (another domain may hold it)
    assert resolver.resolve("amelia.hughes", at(2), "windows") is None
    # a system user id counts only in its system; a SID wins over the name
    assert resolver.resolve("U1001", at(2), "pnc") is None
    assert (
        resolver.resolve(
            "CORP\\someone", at(2), "windows", "S-1-5-21-1004336348-1177238915-682003330-1001"
        )
        == "S1001"
    )
    assert resolver.resolve("S1001", at(2)) == "S1001"  # a staff id is itself


def test_account_reassigned_mid_month(resolver: IdentityResolver) -> None:
    assert resolver.resolve("FORCE\\duty.sgt", at(10)) == "S2002"
    assert resolver.resolve("FORCE\\duty.sgt", at(14, 23)) == "S2002"
    assert resolver.resolve("FORCE\\duty.sgt", at(15, 0)) == "S3003"
    assert resolver.resolve("FORCE\\duty.sgt", at(28)) == "S3003"


def test_later_upsert_drops_an_account_from_its_time() -> None:
    r = IdentityResolver()
    r.observe(decode_obj(upsert("S1", "2026-03-01T00:00:00Z", {"id": "jsmith"})))
    r.observe(decode_obj(upsert("S1", "2026-03-20T00:00:00Z", n=1)))  # no accounts any more
    assert r.resolve("FORCE\\jsmith", at(10)) == "S1"
    assert r.resolve("FORCE\\jsmith", at(21)) is None


def test_adapter_resolves_and_flags(resolver: IdentityResolver) -> None:
    adapter = create("windows-json", AdapterConfig(source="windows-hq", identity=resolver))
    with (DATA / "windows-json" / "nxlog.jsonl").open("rb") as fh:
        events = [x for x in adapter.convert(fh, "nxlog.jsonl") if isinstance(x, Converted)]
    by_actor = {e.event.actor for e in events}
    assert "S1001" in by_actor and "FORCE\\amelia.hughes" not in by_actor
    amelia = next(e for e in events if e.event.actor == "S1001")
    assert orjson.loads(amelia.json)["attrs"]["actor_account"] == "FORCE\\amelia.hughes"
    assert amelia.event.key == "S1001"
    flagged = [e for e in events if orjson.loads(e.json)["attrs"].get("unresolved_account")]
    assert flagged and all(e.event.actor and e.event.actor.startswith("FORCE\\") for e in flagged)
    listed = {(u.source, u.account): u.count for u in resolver.unresolved()}
    assert sum(listed.values()) == len(flagged)
    assert all(source == "windows-hq" for source, _ in listed)


def test_convert_with_staff_file(tmp_path: Path) -> None:
    staff = tmp_path / "staff.jsonl"
    staff.write_bytes(
        b"\n".join(
            orjson.dumps(x)
            for x in [
                upsert("S1001", "2026-03-01T00:00:00Z", {"id": "jo.bloggs@force.example"}),
                {
                    "id": "a-1",
                    "time": "2026-03-01T00:00:00Z",
                    "source": "x",
                    "kind": "auth.login",
                    "actor": "S1",
                },  # not an upsert: ignored
            ]
        )
    )
    unresolved = tmp_path / "unresolved.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "convert",
            "--format",
            "m365",
            "--staff",
            str(staff),
            "--unresolved",
            str(unresolved),
            str(DATA / "m365" / "audit.jsonl"),
        ],
    )
    assert result.exit_code == 0, result.output
    events = [orjson.loads(x) for x in result.stdout.splitlines()]
    jo = [e for e in events if e["actor"] == "S1001"]
    assert jo and all(e["attrs"]["actor_account"] == "jo.bloggs@force.example" for e in jo)
    others = [e for e in events if e["actor"] != "S1001"]
    assert all(e["attrs"]["unresolved_account"] is True for e in others)
    listed = [orjson.loads(x) for x in unresolved.read_bytes().splitlines()]
    assert sum(x["count"] for x in listed) == len(others)
    assert "unresolved accounts" in result.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{nope\n")
    result = CliRunner().invoke(
        main,
        ["convert", "--format", "m365", "--staff", str(bad), str(DATA / "m365" / "audit.jsonl")],
    )
    assert result.exit_code == 2 and "bad.jsonl line 1" in result.output


@pytest.mark.broker
def test_ingest_with_staff_keys_by_staff_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kafka import KafkaConsumer, TopicPartition

    from probity.settings import get_settings
    from streams.broker import start_broker

    staff = tmp_path / "staff.jsonl"
    staff.write_bytes(
        orjson.dumps(upsert("S1001", "2026-03-01T00:00:00Z", {"id": "jo.bloggs@force.example"}))
    )
    broker = start_broker(log_dir=tmp_path)
    try:
        monkeypatch.setenv("PROBITY_KAFKA", broker.url)
        monkeypatch.setenv("PROBITY_DATA_DIR", str(tmp_path))
        get_settings.cache_clear()
        result = CliRunner().invoke(
            main,
            [
                "ingest",
                "--format",
                "m365",
                "--staff",
                str(staff),
                str(DATA / "m365" / "audit.jsonl"),
            ],
        )
        assert result.exit_code == 0, result.output
        topic = get_settings().topics.activity
        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, consumer_timeout_ms=2000)
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records = [(r.key, orjson.loads(r.value)) for r in consumer]
        consumer.close()
    finally:
        get_settings.cache_clear()
        broker.stop()
    jo = [(k, e) for k, e in records if e["actor"] == "S1001"]
    assert jo and all(k == b"S1001" for k, _ in jo)
    assert all(e["attrs"].get("unresolved_account") for k, e in records if e["actor"] != "S1001")
