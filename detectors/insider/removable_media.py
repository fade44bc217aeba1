"""Removable media: a device new for the officer, first use after a long gap, or copies to
removable media far above the officer's own and their peer group's usual."""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, datetime
from typing import Any

from detectors.base import EventDetector, StateView
from detectors.insider.params import RemovableMediaParams
from detectors.lib.books import peer_groups
from detectors.lib.common import plural, severity_band
from detectors.lib.times import DAY, at, spread_score
from detectors.lib.volume import robust
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import DeviceAttrs, Event, FileCopiedAttrs

MB = 1_000_000


@register
class RemovableMedia(EventDetector[RemovableMediaParams]):
    """Removable storage used in a way new for this officer, or copies far above the usual.

    Three signals, each explained with its figures:

    - **new device**: a storage device serial (``device.connected``'s ``device_id``, or
      ``file.copied``'s ``device``) this officer has not used before, once they have been
      seen for ``warmup_days`` (their first logon or device event starts the clock);
    - **after a gap**: removable media used again after ``gap_days`` without any;
    - **volume**: files or bytes copied to removable media over the last ``window_days``
      days (a rolling total of daily buckets, so fifty files across midnight or over two
      days count as fifty) above the officer's own line and, once ``peer_min`` days are
      seen, the peer group's (same unit, else same role, from the staff reference data).
      The total is of the days in the window above the usual day (the median; every day
      with copies while there is no usual); for ``m`` such days the line is the greatest of
      ``min_files`` / ``min_bytes``, ``ratio`` x ``m`` usual days and ``m`` usual days +
      ``k`` robust sd x sqrt(m) (one day: the usual daily line). The officer's usual applies
      once ``own_min_days`` days with copies are known (the floors alone before). Raised
      when a line is crossed; copies up to an alert are not counted again; not during the
      officer's warm-up. Copies spread over more than ``full_days`` score ``fall_per_day``
      less per day beyond it.

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
        self.window_days = p.window_days
        self.full_s, self.fall_per_day = p.full_days * DAY, p.fall_per_day
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
                {"task_factor": 1.0, "own_min_days": 1, "peer_min": 1,
                 "window_days": 1}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        state = view.state
        since = state.get("since")
        if since is None:
            since = state["since"] = event.time.timestamp()
        a = event.attrs
        if isinstance(a, DeviceAttrs):
            if (a.device_type or "").casefold() not in self.storage_types:
                return []
            return self._use(event, view, officer, event.time.timestamp(), since, a.device_id,
                             0, 0)  # fmt: skip
        if isinstance(a, FileCopiedAttrs) and a.destination == "removable":
            size = a.bytes if a.bytes is not None and a.bytes > 0 else 0
            return self._use(event, view, officer, event.time.timestamp(), since, a.device, 1,
                             size)  # fmt: skip
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
        span_s = 0.0
        if files:
            over = self._volume(event, view, officer, files, size, warm, facts, reasons)
            if over is not None:  # weaker while the officer's own usual is not known yet
                known = state["day"]["own_days"] >= self.own_min_days
                vol = max(weight, 1.0 if known else 0.8) + over
                span_s = facts["volume"]["span_days"] * DAY if vol > weight else 0.0
                weight = vol
        if not reasons:
            return []
        extra = 0.2 * (len(reasons) - 1)
        score = self.score * (weight + extra)
        spread = ""
        if span_s > self.full_s:  # the volume carries the finding: slower copying ranks lower
            full = score
            score = spread_score(score, span_s, self.full_s, self.fall_per_day)
            spread = (f"; spread over {span_s / DAY:.0f} days, so it scores "
                      f"{full - score:.0f} less than at once")  # fmt: skip
        task = event.purpose
        if task:
            score *= self.task_factor
        if score < self.min_score:
            return []
        severity = severity_band(score, 75, 50)
        evidence = list(facts.pop("_ids", ()))
        if event.id not in evidence:
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
                explanation=(f"{officer} at {at(now)}: " + "; ".join(reasons) + spread
                             + task_text + "."),
                evidence=evidence,
                facts={**facts, "purpose": task},
                dedup=f"{event.time.date().isoformat()}:{'|'.join(sorted(facts))}:{serial}",
            )
        ]  # fmt: skip

    def _volume(
        self, event: Event, view: StateView, officer: str, files: int, size: int, warm: bool,
        facts: dict[str, Any], reasons: list[str],
    ) -> float | None:  # fmt: skip
        """Add the copy to the day's bucket; the excess over the lines of the window's total
        the moment it crosses (0 to 0.8), else ``None``."""
        state = view.state
        day = int(event.time.timestamp() // DAY)
        cur = state.get("day")
        if cur is None or cur["d"] != day:
            if cur is not None:
                self._close(state, cur)
            group = list(peer_groups(officer, view.ref))  # kept in state: JSON
            cur = state["day"] = {"d": day, "files": 0, "bytes": 0, "g": group,
                                  **self._lines(state, group)}  # fmt: skip
        cur["files"] += files
        cur["bytes"] += size
        ids: list[list[Any]] = state.setdefault("ids", [])
        ids.append([day, event.id])
        del ids[:-20]
        if not warm:
            return None
        # the window: the last window_days days, after the day of the last volume alert
        first = max(day - self.window_days + 1, int(state.get("va", -(10**9))) + 1)
        if first > day:
            return None
        rows = [r for r in state.get("days", ()) if r[0] >= first]
        rows.append([day, cur["files"], cur["bytes"]])
        f = self._over(rows, 1, cur["mf"], cur["sf"], cur["pmf"], cur["psf"], self.min_files)
        b = self._over(rows, 2, cur["mb"], cur["sb"], cur["pmb"], cur["psb"], self.min_bytes)
        hit = f if f is not None else b
        if hit is None:
            return None
        state["va"] = day
        total, m, line, start = hit
        n = sum(r[1] for r in rows if r[0] >= start)
        nb = sum(r[2] for r in rows if r[0] >= start)
        since_d = datetime.fromtimestamp(start * DAY, UTC).date().isoformat()
        own = (
            f"their own usual {cur['mf']:.0f} files / {cur['mb'] / MB:.0f} MB a day over "
            f"{plural(cur['own_days'], 'day')} with copies"
            if cur["own_days"] >= self.own_min_days
            else f"too few days of their own with copies ({cur['own_days']}) for a usual"
        )
        peer = (
            f"peer group {cur['peer']} usual {cur['pmf']:.0f} files / "
            f"{cur['pmb'] / MB:.0f} MB a day ({cur['pn']} days seen)"
            if cur["pmf"] is not None
            else "too few peer days seen for a peer usual"
        )
        what, unit = ("files", 1) if f is not None else ("MB", MB)
        when = "today" if start == day else f"since {since_d}"
        reasons.append(
            f"{plural(n, 'file')} ({nb / MB:.0f} MB) copied to removable media {when} "
            f"({plural(m, 'day')} above the usual day: {total / unit:.0f} {what}, above the "
            f"line {line / unit:.0f} {what}); {own}; {peer}"
        )
        facts["volume"] = {
            "files": n, "bytes": nb, "days": m, "since": since_d, "span_days": day - start,
            "line": line, "own_median_files": cur["mf"], "own_median_bytes": cur["mb"],
            "peer_median_files": cur["pmf"], "peer_median_bytes": cur["pmb"],
            "peer": cur["peer"],
        }  # fmt: skip
        facts["_ids"] = [i for d, i in ids if d >= start]
        return min(0.8, 0.1 * total / max(1.0, line))

    def _over(
        self, rows: list[list[Any]], col: int, med: float, sd: float, pmed: float | None,
        psd: float | None, floor: int,
    ) -> tuple[float, int, float, int] | None:  # fmt: skip
        """The window's total above the officer's line and the peer group's (in column
        ``col`` of the day rows): (total, days, own line, first day), else ``None``."""
        days = [r for r in rows if r[col] > med]
        m = len(days)
        if not m:
            return None
        total = float(sum(r[col] for r in days))
        root = math.sqrt(m)
        line = max(float(floor), m * med + self.k * sd * root, self.ratio * m * med)
        if total <= line:
            return None
        peer = (
            None
            if pmed is None or psd is None
            else max(m * pmed + self.k * psd * root, self.ratio * m * pmed)
        )
        if peer is not None and total <= peer:
            return None
        return total, m, line, int(days[0][0])

    def _lines(self, state: Any, group: list[str]) -> dict[str, Any]:
        """The officer's and the peer group's usual day, fixed when a day's copying starts."""
        hist: list[list[int]] = state.get("days", [])
        out: dict[str, Any] = {"own_days": len(hist), "mf": 0.0, "sf": 0.0, "mb": 0.0,
                               "sb": 0.0, "peer": None, "pmf": None, "psf": None,
                               "pmb": None, "psb": None, "pn": 0}  # fmt: skip
        if len(hist) >= self.own_min_days:
            mf, sf = robust([float(h[1]) for h in hist])
            mb, sb = robust([float(h[2]) for h in hist])
            out.update(mf=mf, sf=sf, mb=mb, sb=sb)
        for key in group:
            peers = self._peers.get(key)
            if peers is None or len(peers) < self.peer_min:
                continue
            pf, psf = robust([float(p[0]) for p in peers])
            pb, psb = robust([float(p[1]) for p in peers])
            out.update(peer=key.partition(":")[2], pn=len(peers), pmf=pf, psf=psf, pmb=pb,
                       psb=psb)  # fmt: skip
            break
        return out

    def _close(self, state: Any, cur: dict[str, Any]) -> None:
        """A finished day with copies joins the officer's daily buckets (their usual and the
        window's total) and their peer groups' sample."""
        hist: list[list[int]] = state.setdefault("days", [])
        row = [int(cur["d"]), int(cur["files"]), int(cur["bytes"])]
        hist.append(row)
        del hist[: -self.history_days]
        for key in cur.get("g") or ():
            peers = self._peers.get(key)
            if peers is None:
                peers = self._peers[key] = deque(maxlen=self.peer_sample)
            peers.append((row[1], row[2]))
