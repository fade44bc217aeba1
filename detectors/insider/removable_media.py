"""Removable media: a device new for the officer, first use after a long gap, or copies to
removable media far above the officer's own and their peer group's usual."""

from __future__ import annotations

from collections import deque
from typing import Any

from detectors.base import DetectorParams, EventDetector, StateView, param
from detectors.lib.books import peer_groups
from detectors.lib.common import plural
from detectors.lib.times import DAY, at
from detectors.lib.volume import robust
from detectors.registry import register
from models.alerts import Category, Finding, Severity
from models.events import DeviceAttrs, Event, FileCopiedAttrs

MB = 1_000_000


class RemovableMediaParams(DetectorParams):
    """``insider.removable_media``."""

    warmup_days: float = param(14.0, "days an officer is seen before new devices count",
                               unit="days")  # fmt: skip
    gap_days: float = param(60.0, "days without removable media that make a use notable",
                            unit="days")  # fmt: skip
    storage_types: tuple[str, ...] = param(("usb_storage",), "device types that are storage")
    history_days: int = param(30, "days with copies kept for the officer's usual", unit="days")
    own_min_days: int = param(3, "days with copies before the officer's own usual applies",
                              unit="days")  # fmt: skip
    k: float = param(4.0, "robust standard deviations above the usual", unit="sd", quieter="up")
    ratio: float = param(3.0, "times the usual", unit="x", quieter="up")
    min_files: int = param(25, "fewest files copied in a day that may alert", unit="files")
    min_bytes: int = param(500 * MB, "fewest bytes copied in a day that may alert", unit="bytes")
    peer_min: int = param(15, "peer days seen before the peer group's line applies",
                          unit="days")  # fmt: skip
    peer_sample: int = param(300, "peer days kept per group", unit="days")
    task_factor: float = param(0.4, "score multiplier when the copy carries a task/purpose",
                               unit="x", ge=0, le=1)  # fmt: skip
    score: float = param(55.0, "base score of an alert", unit="points", ge=0, le=100)
    min_score: float = param(40.0, "scores below this give no alert", unit="points", ge=0,
                             le=100, quieter="up")  # fmt: skip
    max_devices: int = param(50, "devices remembered per officer", unit="devices", ge=1)


@register
class RemovableMedia(EventDetector[RemovableMediaParams]):
    """Removable storage used in a way new for this officer, or copies far above the usual.

    Three signals, each explained with its figures:

    - **new device**: a storage device serial (``device.connected``'s ``device_id``, or
      ``file.copied``'s ``device``) this officer has not used before, once they have been
      seen for ``warmup_days`` (their first logon or device event starts the clock);
    - **after a gap**: removable media used again after ``gap_days`` without any;
    - **volume**: files or bytes copied to removable media in one day above the officer's
      own line (median + ``k`` robust sd, ``ratio`` x median, at least ``min_files`` /
      ``min_bytes``; the floors alone until ``own_min_days`` days with copies are known)
      and, once ``peer_min`` days are seen, the peer group's line (same unit, else same
      role, from the staff reference data). Raised once per day, when the line is crossed;
      not during the officer's warm-up.

    The score is multiplied by ``task_factor`` when the copy carries a purpose (digital
    forensics and video units copy exhibits every day under a task); a finding scoring
    below ``min_score`` is not raised. Peer days are a sample kept in the instance (as
    ``access.volume_anomaly`` does), rebuilt from the stream after a restart.
    """

    id = "insider.removable_media"
    Params = RemovableMediaParams
    feeds_risk = True
    kinds = frozenset({"auth.login", "device.connected", "file.copied"})
    category = Category.UNAUTHORISED_DISCLOSURE
    description = "Removable media: a new device, use after a long gap, or copies above usual."
    state_cap_bytes = 8_192

    def __init__(self, params: RemovableMediaParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.warmup_s = p.warmup_days * DAY
        self.gap_s = p.gap_days * DAY
        self.gap_days = p.gap_days
        self.storage_types = frozenset(t.casefold() for t in p.storage_types)
        self.history_days = p.history_days
        self.own_min_days = p.own_min_days
        self.k, self.ratio = p.k, p.ratio
        self.min_files, self.min_bytes = p.min_files, p.min_bytes
        self.peer_min, self.peer_sample = p.peer_min, p.peer_sample
        self.task_factor, self.score, self.min_score = p.task_factor, p.score, p.min_score
        self.max_devices = p.max_devices
        self._peers: dict[str, deque[tuple[int, int]]] = {}

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"warmup_days": 0.0, "min_files": 1, "min_bytes": 1, "min_score": 0.0},
                {"task_factor": 1.0, "own_min_days": 1, "peer_min": 1}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        state = view.state
        now = event.time.timestamp()
        since = state.get("since")
        if since is None:
            since = state["since"] = now
        a = event.attrs
        if isinstance(a, DeviceAttrs):
            if (a.device_type or "").casefold() not in self.storage_types:
                return []
            return self._use(event, view, officer, now, since, a.device_id, 0, 0)
        if isinstance(a, FileCopiedAttrs) and a.destination == "removable":
            size = a.bytes if a.bytes is not None and a.bytes > 0 else 0
            return self._use(event, view, officer, now, since, a.device, 1, size)
        return []

    def _use(
        self, event: Event, view: StateView, officer: str, now: float, since: float,
        serial: str | None, files: int, size: int,
    ) -> list[Finding]:  # fmt: skip
        state = view.state
        reasons: list[str] = []
        weight = 0.0
        facts: dict[str, Any] = {}
        warm = now - since >= self.warmup_s
        devices: dict[str, float] = state.setdefault("devices", {})
        last = state.get("last_use")
        if last is not None and now - last >= self.gap_s:
            days = (now - last) / DAY
            reasons.append(f"first removable media use in {days:.0f} days (last {at(last)})")
            facts["gap_days"] = round(days, 1)
            weight = max(weight, 0.9)
        if serial:
            if serial not in devices:
                if warm:
                    known = len(devices)
                    reasons.append(
                        f"device {serial} is new for {officer} ("
                        + (f"{plural(known, 'other device')} used before"
                           if known else "no removable device used before")
                        + f", seen for {(now - since) / DAY:.0f} days)"
                    )  # fmt: skip
                    facts["new_device"] = serial
                    weight = max(weight, 1.0)
                if len(devices) >= self.max_devices:
                    del devices[min(devices, key=devices.__getitem__)]
            devices[serial] = now
        elif last is None and warm and files:
            reasons.append(f"first removable media use seen in {(now - since) / DAY:.0f} days")
            facts["first_use"] = True
            weight = max(weight, 1.0)
        state["last_use"] = now
        if files:
            over = self._volume(event, view, officer, files, size, warm, facts, reasons)
            if over is not None:  # weaker while the officer's own usual is not known yet
                known = state["day"]["own_days"] >= self.own_min_days
                weight = max(weight, 1.0 if known else 0.8) + over
        if not reasons:
            return []
        extra = 0.2 * (len(reasons) - 1)
        score = self.score * (weight + extra)
        task = event.purpose
        if task:
            score *= self.task_factor
        if score < self.min_score:
            return []
        severity: Severity = "high" if score >= 75 else "medium" if score >= 50 else "low"
        cur = state.get("day")
        evidence = list(cur["ids"]) if cur and "volume" in facts else []
        evidence.append(event.id)
        task_text = (
            f"; it carries purpose {task}, so it weighs {self.task_factor:g}x"
            if task else "; no purpose given"
        )  # fmt: skip
        return [
            self.finding(
                event,
                officer=officer,
                severity=severity,
                score=min(95.0, score),
                title=f"{officer}: removable media, {reasons[0].split(' (')[0]}",
                explanation=f"{officer} at {at(now)}: " + "; ".join(reasons) + task_text + ".",
                evidence=evidence,
                facts={**facts, "purpose": task},
                dedup=f"{event.time.date().isoformat()}:{'|'.join(sorted(facts))}:{serial}",
            )
        ]

    def _volume(
        self, event: Event, view: StateView, officer: str, files: int, size: int, warm: bool,
        facts: dict[str, Any], reasons: list[str],
    ) -> float | None:  # fmt: skip
        """Add the copy to the day's count; the excess over the lines the moment it crosses
        (0 to 0.8), else ``None``."""
        state = view.state
        day = int(event.time.timestamp() // DAY)
        cur = state.get("day")
        group = peer_groups(officer, view.ref)
        if cur is None or cur["d"] != day:
            if cur is not None:
                self._close(state, cur)
            cur = state["day"] = {"d": day, "files": 0, "bytes": 0, "ids": [], "alerted": 0,
                                  "g": group, **self._lines(state, group)}  # fmt: skip
        cur["files"] += files
        cur["bytes"] += size
        ids: list[str] = cur["ids"]
        ids.append(event.id)
        del ids[:-20]
        if cur["alerted"] or not warm:
            return None
        n, b = cur["files"], cur["bytes"]
        over_files = n > cur["own_files"] and (cur["peer_files"] is None or n > cur["peer_files"])
        over_bytes = b > cur["own_bytes"] and (cur["peer_bytes"] is None or b > cur["peer_bytes"])
        if not (over_files or over_bytes):
            return None
        cur["alerted"] = 1
        med_f, med_b = cur["med_files"], cur["med_bytes"]
        own = (
            f"their own usual {med_f:.0f} files / {med_b / MB:.0f} MB a day over "
            f"{plural(cur['own_days'], 'day')} with copies"
            if cur["own_days"] >= self.own_min_days
            else f"too few days of their own with copies ({cur['own_days']}) for a usual"
        )
        peer = (
            f"peer group {cur['peer']} usual {cur['peer_med_files']:.0f} files / "
            f"{cur['peer_med_bytes'] / MB:.0f} MB ({cur['peer_n']} days seen)"
            if cur["peer_files"] is not None
            else "too few peer days seen for a peer usual"
        )
        reasons.append(
            f"{plural(n, 'file')} ({b / MB:.0f} MB) copied to removable media today, above "
            f"the line {cur['own_files']:.0f} files / {cur['own_bytes'] / MB:.0f} MB; {own}; "
            f"{peer}"
        )
        facts["volume"] = {
            "files": n, "bytes": b, "own_median_files": med_f, "own_median_bytes": med_b,
            "peer_median_files": cur["peer_med_files"], "peer_median_bytes": cur["peer_med_bytes"],
            "peer": cur["peer"],
        }  # fmt: skip
        line = float(max(1.0, cur["own_files"] if over_files else cur["own_bytes"]))
        return min(0.8, 0.1 * float(n if over_files else b) / line)

    def _lines(self, state: Any, group: list[str]) -> dict[str, Any]:
        """The officer's and the peer group's lines, fixed when a day's copying starts."""
        hist: list[list[int]] = state.get("hist", [])
        out: dict[str, Any] = {"own_days": len(hist), "med_files": 0.0, "med_bytes": 0.0,
                               "peer": None, "peer_files": None, "peer_bytes": None,
                               "peer_med_files": None, "peer_med_bytes": None,
                               "peer_n": 0}  # fmt: skip
        own_f, own_b = float(self.min_files), float(self.min_bytes)
        if len(hist) >= self.own_min_days:
            mf, sf = robust([float(h[0]) for h in hist])
            mb, sb = robust([float(h[1]) for h in hist])
            out.update(med_files=mf, med_bytes=mb)
            own_f = max(own_f, mf + self.k * sf, self.ratio * mf)
            own_b = max(own_b, mb + self.k * sb, self.ratio * mb)
        out.update(own_files=own_f, own_bytes=own_b)
        for key in group:
            peers = self._peers.get(key)
            if peers is None or len(peers) < self.peer_min:
                continue
            pf, psf = robust([float(p[0]) for p in peers])
            pb, psb = robust([float(p[1]) for p in peers])
            out.update(peer=key.partition(":")[2], peer_n=len(peers), peer_med_files=pf,
                       peer_med_bytes=pb, peer_files=max(pf + self.k * psf, self.ratio * pf),
                       peer_bytes=max(pb + self.k * psb, self.ratio * pb))  # fmt: skip
            break
        return out

    def _close(self, state: Any, cur: dict[str, Any]) -> None:
        """A finished day with copies joins the officer's history and their peer groups'."""
        hist: list[list[int]] = state.setdefault("hist", [])
        row = [int(cur["files"]), int(cur["bytes"])]
        hist.append(row)
        del hist[: -self.history_days]
        for key in cur.get("g") or ():
            peers = self._peers.get(key)
            if peers is None:
                peers = self._peers[key] = deque(maxlen=self.peer_sample)
            peers.append((row[0], row[1]))
