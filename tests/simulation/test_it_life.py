"""Benign IT life (``Force(it=True)``, ``probity simulate --it``): the kinds the insider
detectors read, deterministic per seed, valid contract events, and the CLI option."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
from click.testing import CliRunner

from models.events import decode_event
from probity.cli import main
from simulation.generator import Force


def test_it_life_adds_the_kinds_insiders_are_judged_on(it_force: Force) -> None:
    kinds = Counter(e["kind"] for e in it_force.events())
    for kind in ("auth.login", "device.connected", "file.copied", "file.printed",
                 "message.sent", "process.started", "web.visited"):  # fmt: skip
        assert kinds[kind] > 0, kind
    for e in it_force.events():
        decode_event(orjson.dumps(e))  # every event keeps the contract
    assert it_force.labels()["metadata"]["it"] is True


def test_it_life_is_deterministic_per_seed(it_force: Force) -> None:
    again = Force(staff=60, days=10, seed=11, it=True)
    assert orjson.dumps(again.events()) == orjson.dumps(it_force.events())


def test_simulate_it_option(tmp_path: Path) -> None:
    args = ["simulate", "--staff", "40", "--days", "16", "--seed", "2", "--quiet", "--it",
            "--out", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    labels = orjson.loads((tmp_path / "labels.json").read_bytes())
    insider = {s["kind"] for s in labels["scenarios"] if s["detectors"][0].startswith("insider.")}
    assert insider == {
        "usb_theft", "cloud_or_personal_mail", "small_hours_logon", "hacking_tool", "mass_mail",
        "collect_move_cover", "leaver_takes_files", "manager_workstation", "slow_leak",
    }  # fmt: skip


def test_it_life_gives_the_reference_the_insider_detectors_need(it_force: Force) -> None:
    """Contract 1.3 facts: line managers, private addresses and leavers on HR's records, a
    register assigning workstations (shared ones marked), and job sites browsed."""
    events = it_force.events()
    staff = [e["attrs"] for e in events if e["kind"] == "staff.upsert"]
    assert sum("line_manager" in a for a in staff) > len(staff) // 2
    assert any("personal_emails" in a for a in staff)
    assert any("notice_date" in a and "leaving_date" in a for a in staff)
    terminals = [e["attrs"] for e in events if e["kind"] == "terminal.assigned"]
    assert any(t["owner"] for t in terminals) and any(t["shared"] for t in terminals)
    assert any(t["terminal"].startswith("HOTDESK-") and t["shared"] for t in terminals)
    from simulation.it_life import JOB_SITES

    jobs = [e for e in events if e["kind"] == "web.visited" and e["attrs"]["domain"] in JOB_SITES]
    assert jobs


def test_without_it_life_no_contract_13_facts(small_force: Force) -> None:
    """The clean world's HR records stay as they were (its events are pinned)."""
    for e in small_force.events():
        assert e["kind"] != "terminal.assigned"
        if e["kind"] == "staff.upsert":
            assert not {"line_manager", "personal_emails", "notice_date"} & set(e["attrs"])
