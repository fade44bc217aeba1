"""Mass mailing: a message to far more recipients than the officer and the organisation
usually address."""

from __future__ import annotations

import bisect
from collections import deque
from typing import Any

from detectors.base import EventDetector, StateView
from detectors.insider.params import MassMailingParams
from detectors.lib.common import plural
from detectors.lib.times import DAY, at, spread_score
from detectors.lib.volume import robust
from detectors.registry import register
from models.alerts import Category, Finding, Severity
from models.events import Event, MessageAttrs


@register
class MassMailing(EventDetector[MassMailingParams]):
    """A message (``message.sent`` on ``channels``) to far more recipients than usual.

    The officer's usual is the ``own_quantile`` of the recipients of their last ``history``
    messages (by default the largest: a bulletin writer's usual is their weekly bulletin,
    not their median note; nothing is judged before ``warmup_messages``); their line is the
    greater of ``min_recipients`` and ``own_ratio`` x that usual. The organisation's
    usual is the ``org_percentile`` of a sample of every officer's messages this worker
    saw (once ``org_min`` are seen); its line is ``ratio`` times that. A message above both
    lines alerts (at most one a day per officer), with the figures. Messages sent as
    another mailbox (``send_as``) say so in the explanation.

    A campaign split over several messages is judged as one: the recipients of the
    officer's messages to ``part_min`` or more are summed in daily buckets over
    ``window_days``; for ``m`` days with such messages the line is ``m`` times the single
    message's (the officer's usual being the larger of their usual message, the campaign's
    own messages aside, and their usual day of such messages before the window, so it is
    judged once the officer was seen before the window; the organisation's ``ratio`` x its
    usual). A campaign spread over more than ``full_days`` scores ``fall_per_day`` less per
    day beyond. Messages up to an alert are not counted again.
    """

    id = "insider.mass_mailing"
    Params = MassMailingParams
    feeds_risk = True
    kinds = frozenset({"message.sent"})
    category = Category.MISUSE_OF_SYSTEMS
    description = "Messages to far more recipients than the officer's and the force's usual."
    state_cap_bytes = 4_096

    def __init__(self, params: MassMailingParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.channels = frozenset(c.casefold() for c in p.channels)
        self.min_recipients, self.ratio = p.min_recipients, p.ratio
        self.own_q, self.own_ratio = p.own_quantile, p.own_ratio
        self.warmup, self.history = p.warmup_messages, p.history
        self.q, self.org_min, self.score = p.org_percentile, p.org_min, p.score
        self.window_days, self.part_min = p.window_days, p.part_min
        self.full_s, self.fall_per_day = p.full_days * DAY, p.fall_per_day
        self.history_days = p.history_days
        self._org: deque[int] = deque(maxlen=p.org_sample)
        self._ranked: list[int] = []  # the sample, sorted alongside

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"min_recipients": 1, "warmup_messages": 1, "org_min": 1, "ratio": 1.0,
                 "own_ratio": 1.0}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        a = event.attrs
        if officer is None or not isinstance(a, MessageAttrs) or not a.to:
            return []
        if (a.channel or "").casefold() not in self.channels:
            return []
        n = len(set(a.to))
        state = view.state
        hist: list[int] | None = state.get("n")
        if hist is None:
            state.setdefault("first", int(event.time.timestamp() // DAY))
            hist = state["n"] = []
        out: list[Finding] = []
        if n > self.min_recipients:
            out = self._judge(event, view, officer, n, hist, a.send_as)
        if n >= self.part_min:
            campaign = self._campaign(event, view, officer, n, hist, a.send_as)
            out = out or campaign  # after a message's own alert the day is told: none
        hist.append(n)
        if len(hist) > self.history:
            del hist[: -self.history]
        self._add(n)
        return out

    def _add(self, n: int) -> None:
        org, ranked = self._org, self._ranked
        if org.maxlen is not None and len(org) == org.maxlen:
            del ranked[bisect.bisect_left(ranked, org[0])]
        org.append(n)
        bisect.insort(ranked, n)

    def _judge(
        self, event: Event, view: StateView, officer: str, n: int, hist: list[int],
        send_as: str | None,
    ) -> list[Finding]:  # fmt: skip
        if n <= self.min_recipients:
            return []
        if len(hist) < self.warmup or not hist:
            return []
        ranked = sorted(hist)
        usual = ranked[min(len(ranked) - 1, int(self.own_q * len(ranked)))]
        med = float(robust([float(h) for h in ranked])[0])
        line = max(float(self.min_recipients), self.own_ratio * usual)
        own = (f"their {self.own_q:.0%} of {len(hist)} recent messages go to at most {usual} "
               f"(median {med:.0f})")  # fmt: skip
        if n <= line:
            return []
        org_line = org_q = None
        if len(self._ranked) >= self.org_min:
            org_q = self._ranked[min(len(self._ranked) - 1, int(self.q * len(self._ranked)))]
            org_line = self.ratio * org_q
            if n <= org_line:
                return []
        day = int(event.time.timestamp() // DAY)
        if view.state.get("alerted") == day:
            return []
        view.state["alerted"] = view.state["ca"] = day
        org = (
            f"the organisation's {self.q:.0%} of messages go to at most {org_q} "
            f"(line {org_line:.0f}, {len(self._ranked)} messages seen)"
            if org_q is not None
            else "too few messages seen for the organisation's usual"
        )
        over = n / max(line, 1.0)
        score = min(90.0, self.score + 5 * (over - 1))
        severity: Severity = "high" if score >= 70 else "medium"
        mailbox = f" as {send_as}" if send_as else ""
        return [
            self.finding(
                event,
                officer=officer,
                severity=severity,
                score=score,
                title=f"{officer} sent a message{mailbox} to {n} recipients",
                explanation=(
                    f"{officer} sent a message{mailbox} to {n} recipients at "
                    f"{at(event.time.timestamp())}, above their line {line:.0f}: {own}; {org}."
                ),
                evidence=[event.id],
                facts={
                    "recipients": n,
                    "own_median": med,
                    "own_usual": usual,
                    "own_line": line,
                    "org_percentile": org_q,
                    "org_line": org_line,
                    "send_as": send_as,
                },
                dedup=f"mail:{day}",
            )
        ]

    def _campaign(
        self, event: Event, view: StateView, officer: str, n: int, hist: list[int],
        send_as: str | None,
    ) -> list[Finding]:  # fmt: skip
        """Add a message of ``part_min`` or more recipients to the day's bucket; a finding
        when the window's messages together cross the lines of that many days."""
        state = view.state
        day = int(event.time.timestamp() // DAY)
        days: list[list[int]] = state.setdefault("days", [])
        if days and days[-1][0] == day:
            days[-1][1] += n
        else:
            days.append([day, n])
            del days[: -self.history_days]
        ids: list[list[Any]] = state.setdefault("ids", [])
        ids.append([day, event.id, n])
        del ids[:-20]
        if len(hist) < self.warmup or state.get("alerted") == day:
            return []
        start = day - self.window_days + 1
        if state["first"] >= start:
            return []  # no usual yet from before the window: a new bulletin writer's first days
        first = max(start, int(state.get("ca", -(10**9))) + 1)
        rows = [r for r in days if r[0] >= first]
        m, total = len(rows), sum(r[1] for r in rows)
        sizes = [k for d, _, k in ids if d >= first]
        if not rows or len(sizes) < 2:
            return []  # one message alone is judged as one
        ranked = sorted(hist)
        for k in sizes[:-1]:  # the campaign's own messages are not the officer's usual
            at_k = bisect.bisect_left(ranked, k)
            if at_k < len(ranked) and ranked[at_k] == k and len(ranked) > 1:
                del ranked[at_k]
        single = ranked[min(len(ranked) - 1, int(self.own_q * len(ranked)))]
        before = sorted(r[1] for r in days if r[0] < start)
        usual_day = before[min(len(before) - 1, int(self.own_q * len(before)))] if before else 0
        usual = max(single, usual_day)
        line = max(float(self.min_recipients), self.own_ratio * usual * m)
        if total <= line:
            return []
        org_q = None
        org_line = 0.0
        if len(self._ranked) >= self.org_min:
            org_q = self._ranked[min(len(self._ranked) - 1, int(self.q * len(self._ranked)))]
            org_line = self.ratio * org_q * m
            if total <= org_line:
                return []
        state["alerted"] = state["ca"] = day
        parts = [i for d, i, _ in ids if d >= first]
        span_s = (day - rows[0][0]) * DAY
        full = min(90.0, self.score + 5 * (total / max(line, 1.0) - 1))
        score = spread_score(full, span_s, self.full_s, self.fall_per_day)
        since = at(rows[0][0] * DAY)[:10]
        org = (
            f"the organisation's {self.q:.0%} of messages go to at most {org_q} (line "
            f"{org_line:.0f} for {plural(m, 'day')}, {len(self._ranked)} messages seen)"
            if org_q is not None
            else "too few messages seen for the organisation's usual"
        )
        spread = (f"; spread over {span_s / DAY:.0f} days, so it scores {full - score:.0f} "
                  "less than at once" if score < full else "")  # fmt: skip
        mailbox = f" as {send_as}" if send_as else ""
        return [
            self.finding(
                event,
                officer=officer,
                severity="high" if score >= 70 else "medium",
                score=score,
                title=f"{officer} mailed {total} recipients{mailbox} in {len(parts)} messages",
                explanation=(
                    f"{officer} sent {len(parts)} messages{mailbox} to {total} recipients in "
                    f"all since {since} (on {plural(m, 'day')}, the last at "
                    f"{at(event.time.timestamp())}), above their line {line:.0f}: their "
                    f"usual message goes to at most {single} and their usual day of "
                    f"messages to {self.part_min} or more to {usual_day}; {org}{spread}."
                ),
                evidence=parts,
                facts={
                    "recipients": total, "messages": len(parts), "days": m, "since": since,
                    "own_usual": single, "own_usual_day": usual_day, "own_line": line,
                    "org_percentile": org_q, "org_line": org_line or None, "send_as": send_as,
                },
                dedup=f"mail:{day}",
            )
        ]  # fmt: skip
