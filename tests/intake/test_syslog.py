"""The intake's TCP syslog port (RFC 6587 framing) against the real embedded broker."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from intake.server import RunningIntake
from models.deadletters import load_dead_letter
from probity.settings import SyslogListener
from streams.broker import EmbeddedBroker
from tests.intake.conftest import intake_settings, read_topic

pytestmark = pytest.mark.broker

CEF = (
    "<134>1 2026-03-02T09:15:02.000Z proxy01.force.example bluecoat 412 WEB - "
    "CEF:0|Symantec|ProxySG|7.3|200|Upload|3|rt=1772442902000 externalId=px-{n} "
    "suser=jo.bloggs src=10.20.30.41 request=https://wetransfer.com/api/v4/transfers "
    "requestMethod=POST out=52428800 in=2048 act=OBSERVED"
)


def wait_for(predicate: Callable[[], Any], timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = predicate()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_syslog_port_delivers_cef(
    broker: EmbeddedBroker, tmp_path: Path, intake_factory: Callable[..., RunningIntake]
) -> None:
    listener = SyslogListener(port=0, source="webproxy", format="syslog")
    s = intake_settings(broker, tmp_path, syslog=(listener,), max_line_bytes=2048)
    reg = CollectorRegistry()
    intake = intake_factory(s, reg)
    (port,) = intake.syslog_ports
    counted = CEF.format(n=1).encode()
    framed = (
        f"{len(counted)} ".encode()
        + counted  # octet counting
        + CEF.format(n=2).encode()
        + b"\n"  # newline framing
        + b"<134>1 2026-03-02T09:15:02Z host app - - - plain text, no CEF\n"
        + b"3000 "
        + b"x" * 3000  # over the limit: skipped, dead-lettered
        + CEF.format(n=1).encode()
        + b"\n"  # the first again: a duplicate
        + CEF.format(n=3).encode()  # no trailer: ends with the connection
    )
    with socket.create_connection(("127.0.0.1", port.port)) as sock:
        sock.sendall(framed)

    def events() -> list[dict[str, Any]]:
        got = [orjson.loads(v) for _, _, v in read_topic(s, s.topics.activity)]
        return got if len(got) >= 3 else []

    stored = wait_for(events)
    assert sorted(e["id"] for e in stored) == ["px-1", "px-2", "px-3"]
    for e in stored:
        assert e["source"] == "webproxy"  # bound to the port
        assert e["kind"] == "web.visited" and e["actor"] == "jo.bloggs"
        assert e["attrs"]["bytes_out"] == 52428800
    dead = wait_for(
        lambda: [load_dead_letter(v) for _, _, v in read_topic(s, s.topics.dead_letters)]
    )
    reasons = sorted(d.reason for d in dead)
    assert len(reasons) == 2
    assert reasons[0].startswith("MSG: not CEF")
    assert reasons[1] == "message: 3000 bytes, the limit is 2048"
    sample = reg.get_sample_value
    assert (
        wait_for(
            lambda: sample(
                "probity_intake_events_total", {"source": "webproxy", "status": "duplicate"}
            )
        )
        == 1
    )
    assert sample("probity_intake_events_total", {"source": "webproxy", "status": "accepted"}) == 3
