"""Collect, move, cover up: data gathered in bulk, then moved out, then traces removed, in that
order within a time bound, with each step's time in the alert."""

from __future__ import annotations

from typing import Any

from detectors.base import EventDetector, StateView
from detectors.insider.params import SequenceParams
from detectors.lib.times import HOUR, at, spread_score
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import (
    AuditConfigAttrs,
    Event,
    ExportAttrs,
    FileCopiedAttrs,
    MessageAttrs,
    ObjectAccessAttrs,
    WebAttrs,
    attr_or_none,
)

_CLEARED = frozenset({"cleared", "off", "disabled", "false", "0", "success_removed",
                      "failure_removed", "deleted"})  # fmt: skip


@register
class Sequence(EventDetector[SequenceParams]):
    """Collect, then move, then cover up, by one officer within ``window_h`` hours.

    - **collect**: ``collect_min`` files downloaded (``file.downloaded``) or read
      (``file.accessed`` with ``read_data``) within an hour, or a ``record.export`` of
      ``export_min`` records;
    - **move**: a copy to removable media or the cloud (``file.copied``), an upload of
      ``move_min_bytes`` or more, or mail with attachments, to a destination outside
      ``internal_domains``;
    - **cover up**: audit logging cleared or switched off (``audit.config_changed``), or
      ``delete_min`` files deleted (``file.accessed`` with ``delete``) within an hour, not
      counting housekeeping (``routine_deletes``: temp folders, caches).

    Each step counts only after the one before it, and the sequence restarts when its
    first step falls out of the window. One alert per sequence, at the cover-up, with each
    step's time and event. The window is long (a week: a slow leak is collected one day and
    moved days later); a sequence taking longer than ``full_h`` scores ``fall_per_day`` less
    per day beyond it and is high rather than critical (docs/pacing.md).
    """

    id = "insider.sequence"
    Params = SequenceParams
    feeds_risk = True
    kinds = frozenset({"file.downloaded", "file.accessed", "record.export", "file.copied",
                       "web.visited", "message.sent", "audit.config_changed"})  # fmt: skip
    needs_attrs = {"message.sent": ("attachments",)}  # the mail it reads carries some
    category = Category.UNAUTHORISED_DISCLOSURE
    description = "Data collected, then moved out, then traces removed, within a time bound."
    state_cap_bytes = 4_096

    def __init__(self, params: SequenceParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.window_s = p.window_h * HOUR
        self.window_h = p.window_h
        self.collect_min, self.export_min = p.collect_min, p.export_min
        self.move_min, self.delete_min = p.move_min_bytes, p.delete_min
        self.internal = tuple(d.casefold() for d in p.internal_domains)
        self.routine = tuple(r.casefold() for r in p.routine_deletes)
        self.score = p.score
        self.full_s, self.fall_per_day = p.full_h * HOUR, p.fall_per_day

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"collect_min": 1, "export_min": 1, "delete_min": 1, "move_min_bytes": 0,
                 "full_h": 1.0}]  # fmt: skip

    def _outside(self, domain: str) -> bool:
        d = domain.casefold().strip(".")
        return bool(d) and not any(d == i or d.endswith("." + i) for i in self.internal)

    def _step(self, event: Event, state: Any) -> tuple[str, str] | None:
        """(step, what) this event is, if any."""
        a = event.attrs
        kind = event.kind
        if isinstance(a, MessageAttrs):  # the commonest kind read, and the quickest told
            att = a.attachments
            if att and (a.channel or "email") == "email":
                out = [t for t in a.to or () if self._outside(t.rpartition("@")[2])]
                if out:
                    return "move", f"attachments mailed to {', '.join(sorted(out)[:3])}"
            return None
        if kind == "file.downloaded" or (
            isinstance(a, ObjectAccessAttrs) and kind == "file.accessed"
        ):
            access = attr_or_none(a, "access") or ()
            deleting = kind == "file.accessed" and "delete" in access
            if kind == "file.accessed" and not deleting and "read_data" not in access:
                return None
            if deleting:
                path = (attr_or_none(a, "path") or "").casefold().replace("\\", "/")
                if any(r in path for r in self.routine):
                    return None
            name, line = ("del", self.delete_min) if deleting else ("read", self.collect_min)
            hour = int(event.time.timestamp() // HOUR)
            c = state.get(name)
            if c is None or c[0] != hour:
                c = state[name] = [hour, 0, event.id]
            c[1] += 1
            if c[1] != line:
                return None
            if deleting:
                return "cover", f"{line} files deleted within the hour from {c[2]}"
            return "collect", f"{line} files downloaded or read within the hour from {c[2]}"
        if isinstance(a, ExportAttrs):
            if (a.count or 0) >= self.export_min:
                return "collect", f"{a.count} records exported ({a.channel or 'export'})"
            return None
        if isinstance(a, FileCopiedAttrs):
            if a.destination == "removable" or (
                a.destination == "cloud" and self._outside(a.domain or "x")
            ):
                where = a.device or a.domain or a.destination
                return "move", f"files copied to {a.destination} ({where})"
            return None
        if isinstance(a, WebAttrs):
            size = a.bytes_out if a.bytes_out is not None else a.bytes
            if a.action in ("upload", "share") and (size or 0) >= self.move_min:
                domain = a.domain or ""
                if self._outside(domain):
                    return "move", f"upload of {size:,} bytes to {domain}"
            return None
        if isinstance(a, AuditConfigAttrs) and (a.value or "").casefold() in _CLEARED:
            return "cover", f"audit setting {a.setting} set to {a.value}"
        return None

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        state = view.state
        found = self._step(event, state)
        if found is None:
            return []
        now = event.time.timestamp()
        step, what = found
        seq: list[list[Any]] = state.setdefault("seq", [])  # [step, time, event id, what]
        if seq and now - seq[0][1] > self.window_s:
            seq.clear()
        have = [s[0] for s in seq]
        if step == "collect":
            if not have:
                seq.append([step, now, event.id, what])
            return []
        if step == "move":
            if have == ["collect"]:
                seq.append([step, now, event.id, what])
            return []
        if have != ["collect", "move"]:
            return []
        seq.append([step, now, event.id, what])
        steps = list(seq)
        seq.clear()
        told = "; then ".join(f"{s[3]} at {at(s[1])} ({s[2]})" for s in steps)
        span_s = now - steps[0][1]
        span_h = span_s / HOUR
        return [
            self.finding(
                event,
                officer=officer,
                severity="critical" if span_s <= self.full_s else "high",
                score=spread_score(self.score, span_s, self.full_s, self.fall_per_day),
                title=f"{officer}: data collected, moved out, then traces removed "
                f"within {span_h:.0f} h",
                explanation=(
                    f"{officer}: {told}. Collect, move and cover up in that order within "
                    f"{span_h:.1f} hours (the bound is {self.window_h:g} h)."
                ),
                evidence=[s[2] for s in steps],
                facts={
                    "steps": [
                        {"step": s[0], "time": at(s[1]), "event": s[2], "what": s[3]} for s in steps
                    ]
                },
                dedup=f"seq:{steps[0][2]}",
            )
        ]
