"""Look-ups in one shift far above the officer's own baseline and their role peers'."""

from __future__ import annotations

import bisect
from collections import deque
from typing import Any

from detectors.access.params import VolumeAnomalyParams
from detectors.base import EventDetector, StateView
from detectors.lib.common import plural
from detectors.lib.purpose import LOOKUP_KINDS, role_of
from detectors.lib.times import at, epoch, when
from detectors.lib.volume import robust, robust_sorted
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event


@register
class VolumeAnomaly(EventDetector[VolumeAnomalyParams]):
    """Look-ups in one shift far above the officer's own baseline and their role peers'.

    A shift is the rostered shift covering the look-up (``tolerance_min`` either side), else
    the calendar day. The baseline is the median and MAD of the officer's last
    ``history_shifts`` shifts; no alert until ``warmup_shifts`` are known. A shift is
    anomalous when its count exceeds all of: median + ``k`` x robust sd, ``ratio`` x median,
    and median + ``min_excess``; and, when the worker has seen at least ``peer_min`` shifts of
    the same role, the role's median + ``k`` x robust sd. Raised once per shift, the moment the
    count crosses the line.

    Role peers are a sample kept in the detector instance: each worker sees the shifts of the
    officers its partitions hold (a random sample of the role, since activity is keyed by
    officer). It is rebuilt from the stream after a restart; until then only the officer's
    own baseline applies.
    """

    id = "access.volume_anomaly"
    Params = VolumeAnomalyParams
    feeds_risk = True
    kinds = LOOKUP_KINDS
    category = Category.MISUSE_OF_SYSTEMS
    description = "Look-ups per shift far above the officer's own and their role's baseline."

    def __init__(self, params: VolumeAnomalyParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.k = p.k
        self.ratio = p.ratio
        self.min_excess = p.min_excess
        self.warmup_shifts = p.warmup_shifts
        self.history_shifts = p.history_shifts
        self.peer_min = p.peer_min
        self.peer_sample = p.peer_sample
        self.tolerance_s = p.tolerance_min * 60
        self.score = p.score
        self._peers: dict[str, deque[int]] = {}
        self._ranked: dict[str, list[float]] = {}  # each role's peers, sorted

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"warmup_shifts": 1, "min_excess": 1, "k": 1.0, "ratio": 1.0}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        state = view.state
        shift = view.ref.shift_at(officer, event.time, self.tolerance_s)
        key = shift.event_id if shift else "day:" + event.time.date().isoformat()
        role = role_of(officer, view.ref) or "unknown"
        current = state.get("current")
        if current is None or current["key"] != key:
            if current is not None:
                self._close(state, current, role)
            counted = shift is not None or not view.ref.has_shifts(officer)
            current = state["current"] = {
                "key": key, "n": 0, "first": event.id, "ids": [], "alerted": 0,
                "counted": int(counted),
                "start": epoch(shift.start) if shift else epoch(event.time),
                "end": epoch(shift.end) if shift else None,
                **self._lines(state, role),
            }  # fmt: skip
        current["n"] += 1
        ids: list[str] = current["ids"]
        ids.append(event.id)
        del ids[:-20]
        line, peer_line = current.get("line"), current.get("peer_line")
        n = current["n"]
        if current["alerted"] or line is None or n <= line:
            return []
        if peer_line is not None and n <= peer_line:
            return []
        current["alerted"] = 1
        history: list[int] = state.get("history", [])
        med, sd = current["median"], current["sd"]
        over = n / med if med else float("inf")
        peer_text = (
            f"; role peers ({role}, {current['peer_n']} shifts seen) median "
            f"{current['peer_median']:.0f}, line {peer_line:.0f}"
            if peer_line is not None
            else f"; too few {role} shifts seen yet for a role baseline"
        )
        shift_text = (
            f"rostered shift {at(current['start'])} to {at(current['end'])}"
            if current["end"] is not None
            else f"{event.time.date().isoformat()} (no rostered shift)"
        )
        return [
            self.finding(
                event,
                officer=officer,
                severity="high" if over >= 2 * self.ratio else "medium",
                score=min(90.0, self.score + 5 * (over - self.ratio)),
                title=f"{officer} made {n} look-ups in one shift, {over:.1f}x their median",
                explanation=(
                    f"{officer} made {plural(n, 'look-up')} by {when(event.time)} in the "
                    f"{shift_text}. Baseline: median {med:.0f} per shift over their last "
                    f"{len(history)} shifts (robust sd {sd:.1f}); alert line {line:.0f} "
                    f"(median + {self.k:g} sd, at least {self.ratio:g}x median and "
                    f"+{self.min_excess}){peer_text}."
                ),
                evidence=ids,
                facts={"lookups": n, "median": med, "robust_sd": sd, "line": line,
                       "peer_line": peer_line, "history_shifts": len(history), "role": role},
                dedup=f"{key}:{current['first']}",
            )
        ]

    def _lines(self, state: Any, role: str) -> dict[str, Any]:
        """The officer's and the role's alert lines, fixed when a shift starts."""
        history: list[int] = state.get("history", [])
        if len(history) < self.warmup_shifts:
            return {"line": None, "peer_line": None}
        med, sd = robust([float(h) for h in history])
        out: dict[str, Any] = {
            "median": med, "sd": sd, "peer_line": None,
            "line": max(med + self.k * sd, self.ratio * med, med + self.min_excess),
        }  # fmt: skip
        peers = self._peers.get(role)
        if peers is not None and len(peers) >= self.peer_min:
            ranked = self._ranked.get(role)
            if ranked is None or len(ranked) != len(peers):
                ranked = self._ranked[role] = sorted(float(p) for p in peers)
            pmed, psd = robust_sorted(ranked)
            out.update(peer_line=max(pmed + self.k * psd, self.ratio * pmed), peer_median=pmed,
                       peer_n=len(peers))  # fmt: skip
        return out

    def _close(self, state: Any, current: dict[str, Any], role: str) -> None:
        """A finished shift joins the history (off-roster spells of rostered staff do not)."""
        if not current.get("counted", 1):
            return
        history: list[int] = state.setdefault("history", [])
        history.append(int(current["n"]))
        del history[: -self.history_shifts]
        peers = self._peers.setdefault(role, deque(maxlen=self.peer_sample))
        n = int(current["n"])
        ranked = self._ranked.get(role)
        if ranked is not None and len(ranked) == len(peers):  # kept sorted alongside
            if peers and len(peers) == peers.maxlen:
                del ranked[bisect.bisect_left(ranked, float(peers[0]))]  # about to drop out
            if peers.maxlen != 0:
                bisect.insort(ranked, float(n))
        peers.append(n)
