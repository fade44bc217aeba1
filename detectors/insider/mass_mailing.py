"""Mass mailing: a message to far more recipients than the officer and the organisation
usually address."""

from __future__ import annotations

import bisect
from collections import deque
from typing import Any

from detectors.base import DetectorParams, EventDetector, StateView, param
from detectors.lib.times import DAY, at
from detectors.lib.volume import robust
from detectors.registry import register
from models.alerts import Category, Finding, Severity
from models.events import Event, MessageAttrs


class MassMailingParams(DetectorParams):
    """``insider.mass_mailing``."""

    channels: tuple[str, ...] = param(("email",), "message channels judged")
    min_recipients: int = param(
        40, "fewest recipients that may alert", unit="recipients", quieter="up"
    )
    own_quantile: float = param(1.0, "the officer's usual: this quantile of their recent "
                                "messages", unit="quantile", gt=0, le=1)  # fmt: skip
    own_ratio: float = param(3.0, "times the officer's usual", unit="x", quieter="up")
    ratio: float = param(5.0, "times the organisation's usual", unit="x", quieter="up")
    warmup_messages: int = param(10, "the officer's messages before judging", unit="messages")
    history: int = param(100, "the officer's recent messages kept", unit="messages")
    org_percentile: float = param(0.99, "the organisation's usual: this percentile of "
                                  "messages", unit="quantile", gt=0, lt=1)  # fmt: skip
    org_min: int = param(500, "messages seen before the organisation's line applies",
                         unit="messages")  # fmt: skip
    org_sample: int = param(5000, "messages kept as the organisation's sample",
                            unit="messages")  # fmt: skip
    score: float = param(55.0, "base score of an alert", unit="points", ge=0, le=100)


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
        hist: list[int] = state.setdefault("n", [])
        out = self._judge(event, view, officer, n, hist, a.send_as)
        hist.append(n)
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
        view.state["alerted"] = day
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
