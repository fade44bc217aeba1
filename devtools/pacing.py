"""Pacing tables (docs/pacing.md): the same behaviour replayed at several speeds, and where
each multi-event detector stops seeing it.

One generator for every detector: a :class:`Pacing` is a scenario (``n`` acts of one
behaviour spread evenly over a span of days, with what the detector needs around them) run
through the offline pipeline for each row (``n``) and column (span); a cell is the score of
the alert raised, or ``no``. Its markdown table is
what docs/pacing.md shows under the detector's heading; ``tests/devtools/test_pacing.py``
checks the two agree, so the docs cannot drift from the detectors.

``python -m devtools.pacing`` prints the tables; ``--write`` puts them into docs/pacing.md.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from detectors.graph.association import AssociationGraph
from detectors.registry import build
from engine.pipeline import Pipeline
from models.events import Event, decode_event

#: where each scenario's acts start (its history and reference data come before)
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
DOC = Path(__file__).parents[1] / "docs" / "pacing.md"
#: whatever is recorded before the scenario (staff records, watch-lists)
LONG_AGO = T0 - timedelta(days=400)


def ev(eid: str, kind: str, t: datetime, **fields: Any) -> Event:
    """One contract event (decoded as the intake would)."""
    raw = {"id": eid, "time": t.isoformat(), "source": "pacing", "kind": kind, **fields}
    return decode_event(orjson.dumps(raw))


def staff(*ids: str) -> list[Event]:
    """Staff records for ``ids``, long before the scenario."""
    return [ev(f"hr-{i}", "staff.upsert", LONG_AGO, attrs={"staff_id": i, "name": f"Staff {i}",
               "role": "response", "unit": "response-1", "status": "active"})
            for i in ids]  # fmt: skip


def spread(n: int, span_days: float, start: datetime = T0) -> list[datetime]:
    """``n`` times from ``start``, evenly over ``span_days`` (the first and last ends)."""
    if n <= 1:
        return [start] * n
    step = timedelta(days=span_days) / (n - 1)
    return [start + i * step for i in range(n)]


def span_label(days: float) -> str:
    """A span as the tables head it.

    >>> [span_label(d) for d in (1 / 24, 0.5, 1, 14)]
    ['1 h', '12 h', '1 day', '14 days']
    """
    if days < 1:
        return f"{days * 24:g} h"
    return "1 day" if days == 1 else f"{days:g} days"


@dataclass(frozen=True)
class Pacing:
    """One detector's behaviour at several speeds: ``scenario(n, span_days)`` gives the
    events of ``n`` acts over the span; a cell gives the score of ``detector``'s alert
    (about ``officer``, or anyone when ``None``), if it raised one."""

    detector: str
    what: str
    counts: tuple[int, ...]
    spans: tuple[float, ...]
    scenario: Callable[[int, float], list[Event]]
    officer: str | None = "S1"
    graph: bool = False
    #: the unit of ``spans`` as the scenario reads them and the table heads them
    span_unit: str = "days"

    def score(self, n: int, span_days: float) -> float | None:
        """The highest score of the detector's alerts (its defaults) on ``n`` acts over
        ``span_days``; ``None`` when it raises none."""
        dets = [d for d in build() if d.id == self.detector]
        pipeline = Pipeline(dets, graph=AssociationGraph() if self.graph else None)
        events = sorted(self.scenario(n, span_days), key=lambda e: e.time)
        scores = [a.score for a in pipeline.run(events)
                  if a.detector == self.detector and self.officer in (None, a.officer)]  # fmt: skip
        return max(scores, default=None)

    def table(self) -> str:
        """The markdown table: a row per count, a column per span, the alert's score in a
        cell where one is raised, ``no`` where none is."""
        heads = (span_label(s if self.span_unit == "days" else s / 24) for s in self.spans)
        lines = [f"| {self.what} \\ span | " + " | ".join(heads) + " |",
                 "|---" * (len(self.spans) + 1) + "|"]  # fmt: skip
        for n in self.counts:
            found = (self.score(n, s) for s in self.spans)
            cells = ("no" if x is None else f"{x:.0f}" for x in found)
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


# -- the scenarios --------------------------------------------------------------------------


def _view(eid: str, t: datetime, person: str, actor: str = "S1", **fields: Any) -> Event:
    return ev(eid, "record.view", t, actor=actor, record={"type": "person", "id": person},
              subjects=[person], **fields)  # fmt: skip


def no_purpose(n: int, span: float) -> list[Event]:
    """An officer with an ordinary history (four different people looked up a day, each
    once, no task) looks up one more person ``n`` times from day 5, no task."""
    events = staff("S1")
    start = T0 - timedelta(days=5)
    for day in range(45):
        for k in range(4):
            t = start + timedelta(days=day, hours=2 * k)
            events.append(_view(f"bg-{day}-{k}", t, f"P-{day:03d}{k}",
                                attrs={"fields": ["summary"]}))  # fmt: skip
    events += [_view(f"x-{i}", t, "P-TARGET", attrs={"fields": ["summary"]})
               for i, t in enumerate(spread(n, span, T0 + timedelta(hours=1)))]  # fmt: skip
    return events


def convergence(n: int, span: float) -> list[Event]:
    """``n`` officers, none tasked, each look up the same OCG nominal once."""
    events = staff(*(f"S{k}" for k in range(1, n + 1)))
    events.append(ev("w-1", "watchlist.upsert", LONG_AGO,
                     attrs={"list": "ocg_nominal", "person": "P-N1", "group": "OCG-X"}))
    events += [_view(f"x-{k}", t, "P-N1", actor=f"S{k + 1}")
               for k, t in enumerate(spread(n, span))]  # fmt: skip
    return events


def repeat_stop(n: int, span: float) -> list[Event]:
    """One officer stops the same person ``n`` times, no operation, no task."""
    return staff("S1") + [
        ev(f"x-{i}", "stop_search.recorded", t, actor="S1", subjects=["P-1"],
           attrs={"operation": None, "bwv": True, "grounds": "drugs"})
        for i, t in enumerate(spread(n, span))
    ]  # fmt: skip


def vulnerable_victim(n: int, span: float) -> list[Event]:
    """One officer views a vulnerable victim's record ``n`` times, no task."""
    events = staff("S1")
    events.append(ev("w-1", "watchlist.upsert", LONG_AGO,
                     attrs={"list": "vulnerable_victim", "person": "P-V"}))
    events += [_view(f"x-{i}", t, "P-V", attrs={"fields": ["summary"]})
               for i, t in enumerate(spread(n, span))]  # fmt: skip
    return events


def sequence(n: int, span: float) -> list[Event]:
    """Collect (an export of 40 records), move (a copy to a USB stick), cover up (audit
    logging cleared): the first ``n`` of the three steps, evenly over the span."""
    t_collect, t_move, t_cover = spread(3, span)
    steps = [
        ev("x-collect", "record.export", t_collect, actor="S1",
           record={"type": "case", "id": "C-1"}, attrs={"count": 40, "channel": "download"}),
        ev("x-move", "file.copied", t_move, actor="S1",
           attrs={"destination": "removable", "device": "USB-1", "files": 40}),
        ev("x-cover", "audit.config_changed", t_cover, actor="S1",
           attrs={"setting": "audit_logging", "value": "off"}),
    ]  # fmt: skip
    return staff("S1") + steps[:n]


def complaint_pattern(n: int, span: float) -> list[Event]:
    """``n`` use-of-force complaints (weight 2 each) against one officer."""
    return staff("S1") + [
        ev(f"x-{i}", "complaint.logged", t,
           attrs={"staff_id": "S1", "complaint": f"CO-{i}", "category": "use_of_force"})
        for i, t in enumerate(spread(n, span, T0 - timedelta(days=800)))
    ]  # fmt: skip


def bulk_exfiltration(n: int, span_hours: float) -> list[Event]:
    """An officer whose usual is four look-ups an hour, eight hours a day, makes ``n``
    look-ups of different people, then copies a file to a USB stick (no purpose)."""
    events = staff("S1")
    for day in range(10, 0, -1):
        for k in range(32):
            t = T0 - timedelta(days=day, minutes=-15 * k)
            events.append(_view(f"bg-{day}-{k}", t, f"P-{day:02d}{k:02d}"))
    start = T0 + timedelta(days=1)
    times = spread(n, span_hours / 24, start)
    events += [_view(f"x-{i}", t, f"P-X{i:03d}") for i, t in enumerate(times)]
    events.append(ev("x-out", "file.copied", times[-1] + timedelta(minutes=5), actor="S1",
                     attrs={"destination": "removable", "device": "USB-1"}))  # fmt: skip
    return events


def removable_media(n: int, span: float) -> list[Event]:
    """An officer who copies three files to their own USB stick on each of ten working days
    copies ``n`` files to it, evenly over the span (no purpose)."""
    events = staff("S1")
    for day in range(20, 0, -1):
        t = T0 - timedelta(days=day)
        events.append(ev(f"lg-{day}", "auth.login", t, actor="S1", attrs={"logon_type":
                                                                          "interactive"}))
        if day <= 10:
            events += [ev(f"bg-{day}-{k}", "file.copied", t + timedelta(minutes=10 + k),
                          actor="S1", attrs={"destination": "removable", "device": "USB-1"})
                       for k in range(3)]  # fmt: skip
    events += [ev(f"x-{i}", "file.copied", t, actor="S1",
                  attrs={"destination": "removable", "device": "USB-1"})
               for i, t in enumerate(spread(n, span))]  # fmt: skip
    return events


def mass_mailing(n: int, span: float) -> list[Event]:
    """An officer who mails one to four colleagues three times a day (as thirty colleagues
    do, the organisation's usual) mails ``n`` recipients in five messages of ``n / 5``."""
    people = [f"S{k}" for k in range(1, 31)]
    events = staff(*people)
    for day in range(20, 0, -1):
        for k, who in enumerate(people):
            for j in range(3):
                t = T0 - timedelta(days=day, hours=-j * 3, minutes=-k)
                to = [f"u{(k + j + i) % 97}@police.example" for i in range(1 + (k + j) % 4)]
                events.append(ev(f"bg-{day}-{k}-{j}", "message.sent", t, actor=who,
                                 attrs={"channel": "email", "to": to}))  # fmt: skip
    per = n // 5
    events += [ev(f"x-{i}", "message.sent", t, actor="S1",
                  attrs={"channel": "email",
                         "to": [f"r{i * per + r}@police.example" for r in range(per)]})
               for i, t in enumerate(spread(5, span))]  # fmt: skip
    return events


def _shifts(officer: str, days: Iterable[int]) -> list[Event]:
    """Shifts 07:00-17:00 for ``officer`` on each of ``days`` (relative to T0's day)."""
    day0 = T0.replace(hour=0)
    return [ev(f"r-{officer}-{d}", "shift.rostered", LONG_AGO,
               attrs={"staff_id": officer, "start": (day0 + timedelta(days=d, hours=7)).isoformat(),
                      "end": (day0 + timedelta(days=d, hours=17)).isoformat()})
            for d in days]  # fmt: skip


def off_duty(n: int, span_hours: float) -> list[Event]:
    """An officer rostered 07:00-17:00 every day but the next (a rest day) looks up ``n``
    different people from 19:00, two hours after the shift, from their office terminal,
    evenly over a span of hours."""
    events = staff("S1") + _shifts("S1", (d for d in range(-7, 8) if d != 1))
    start = T0.replace(hour=19)
    events += [_view(f"x-{i}", t, f"P-{i:03d}", terminal="WS-WOR-001")
               for i, t in enumerate(spread(n, span_hours / 24, start))]  # fmt: skip
    return events


def no_bwv(n: int, span: float) -> list[Event]:
    """In a force where cameras often fail (twelve of sixty officers have had a stop without
    video, so one alone does not alert), one officer records ``n`` stops without video."""
    others = [f"S{k}" for k in range(2, 62)]
    events = staff("S1", *others)
    for k, who in enumerate(others):
        t = T0 - timedelta(days=20, hours=-k)
        events.append(ev(f"bg-{who}", "stop_search.recorded", t, actor=who, subjects=["P-0"],
                         attrs={"bwv": k >= 12, "grounds": "drugs"}))  # fmt: skip
    events += [ev(f"x-{i}", "stop_search.recorded", t, actor="S1", subjects=[f"P-{i}"],
                  attrs={"bwv": False, "grounds": "drugs"})
               for i, t in enumerate(spread(n, span))]  # fmt: skip
    return events


def vip_browsing(n: int, span: float) -> list[Event]:
    """An officer with no task opens incident records that name a VIP (not the VIP's own
    record: one glance at a busy incident log is ordinary) ``n`` times."""
    events = staff("S1")
    events.append(ev("w-1", "watchlist.upsert", LONG_AGO,
                     attrs={"list": "vip", "person": "P-VIP", "group": "celebrity"}))  # fmt: skip
    events += [ev(f"x-{i}", "record.view", t, actor="S1",
                  record={"type": "incident", "id": f"INC-{i}"}, subjects=["P-VIP", f"P-{i}"],
                  attrs={"fields": ["summary"]})
               for i, t in enumerate(spread(n, span))]  # fmt: skip
    return events


#: every detector's pacing, by id; docs/pacing.md has a section (and a table) for each
PACINGS: dict[str, Pacing] = {p.detector: p for p in (
    Pacing("access.no_purpose", "look-ups", (4, 5, 6, 8), (0.5, 1, 2, 7, 14, 15, 21),
           no_purpose),
    Pacing("association.convergence", "officers", (2, 3, 4), (0.5, 1, 3, 4, 7, 14, 15, 21),
           convergence, officer=None, graph=True),
    Pacing("access.vulnerable_victim", "views", (2, 3, 4), (0.5, 1, 7, 14, 28, 29, 42),
           vulnerable_victim),
    Pacing("field.repeat_stop", "stops", (2, 3, 4), (1, 7, 30, 60, 61, 90),
           repeat_stop),
    Pacing("insider.sequence", "steps", (2, 3), (1 / 24, 1, 3, 4, 7, 8, 14), sequence),
    Pacing("access.bulk_exfiltration", "look-ups", (30, 60, 120), (1, 2, 3, 4, 8, 24),
           bulk_exfiltration, span_unit="h"),
    Pacing("insider.removable_media", "files", (25, 50, 100),
           (1 / 24, 0.5, 1, 2, 3, 5, 7, 8, 14),
           removable_media),
    Pacing("conduct.complaint_pattern", "complaints", (2, 3, 4), (30, 180, 365, 366, 540),
           complaint_pattern),
    Pacing("insider.mass_mailing", "recipients", (100, 200, 400), (1 / 24, 0.5, 1, 2, 3, 4, 7),
           mass_mailing),
    Pacing("access.off_duty", "look-ups", (3, 4, 6, 8), (0.5, 1, 4.5, 6, 9, 10.5, 12, 18, 24),
           off_duty,
           span_unit="h"),
    Pacing("field.no_bwv", "stops", (2, 3, 4), (1, 7, 30, 31, 45, 61), no_bwv),
    Pacing("access.vip_browsing", "openings", (1, 2, 3), (1 / 24, 1, 7, 8, 14, 30),
           vip_browsing),
)}  # fmt: skip


# -- the document ---------------------------------------------------------------------------

_HEADING = re.compile(r"^## `([a-z_]+\.[a-z_]+)`", re.MULTILINE)


def tables_in(text: str) -> dict[str, str]:
    """The first markdown table under each ``## `detector.id``` heading of ``text``."""
    out: dict[str, str] = {}
    for m in _HEADING.finditer(text):
        rows: list[str] = []
        for line in text[m.end():].splitlines()[1:]:
            if line.startswith("|"):
                rows.append(line)
            elif rows or line.startswith("## "):
                break
        out[m.group(1)] = "\n".join(rows)
    return out


def rewrite(text: str, tables: dict[str, str]) -> str:
    """``text`` with the table under each detector's heading replaced by ``tables``'."""
    for det_id, old in tables_in(text).items():
        if det_id in tables and old:
            head = text.index(f"## `{det_id}`")
            at = text.index(old, head)
            text = text[:at] + tables[det_id] + text[at + len(old):]
    return text


def main(argv: list[str]) -> None:
    """Print every table (``--write``: put them into docs/pacing.md)."""
    tables = {det_id: p.table() for det_id, p in PACINGS.items()}
    if "--write" in argv:
        DOC.write_text(rewrite(DOC.read_text(), tables))
    for det_id, table in tables.items():
        print(f"## `{det_id}`\n\n{table}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
