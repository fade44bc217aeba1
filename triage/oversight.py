"""How the system itself is doing, for the ACU: alert effectiveness per detector, the
detectors the engine has made inactive (a missing reference feed), and source coverage.
As JSON (``api``) and as server-rendered pages (``pages``); every route checks the caller's
role and the views are audited.

Roles: effectiveness is for supervisors and the head of unit (it judges the detectors from
analysts' decisions and drives tuning); inactive detectors and source coverage are for
everyone who reads alerts (they explain why alerts are missing). Staff named by the coverage
report follow the alerts' conflict-of-interest rule; accounts that did not resolve to staff
are shown as pseudonyms, like the people on an alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, Field

from probity.settings import Settings
from triage.api import Ctx, Reader, Supervisor
from triage.auth import context
from triage.base import StoredAlert, User
from triage.context import Context
from triage.coverage import CoverageClient, CoverageReport, CoverageUnavailable
from triage.effectiveness import (
    CONFIRMED,
    DISMISSED,
    STAFF_SHARE_WARNING,
    DetectorEffectiveness,
    EffectivenessCollector,
    Period,
    StaffCount,
    effectiveness,
    period_starts,
    sparkline,
)
from triage.pages import _render
from triage.store import Store

api = APIRouter(prefix="/api", tags=["oversight"])
pages = APIRouter(include_in_schema=False)

#: periods an effectiveness table shows
PERIODS = 12


@dataclass(frozen=True)
class Oversight:
    """What these routes need beyond the context, built once by :func:`setup`."""

    coverage: CoverageClient
    staff: StaffCount


def setup(app: FastAPI, settings: Settings, store: Store, registry: CollectorRegistry) -> None:
    """Called by ``create_app``: the coverage client, the staff count and the effectiveness
    metrics on the queue's registry; the routes."""
    t = settings.triage
    token = settings.coverage.token.get_secret_value() if settings.coverage.token else None
    client = CoverageClient(t.coverage_url, token, timeout_s=t.coverage_timeout_s)
    staff = StaffCount(client.staff_known, t.staff_count)
    registry.register(EffectivenessCollector(store, staff))
    app.state.oversight = Oversight(client, staff)
    app.include_router(api)
    app.include_router(pages)


def _oversight(request: Request) -> Oversight:
    found: Oversight = request.app.state.oversight
    return found


# ------------------------------------------------------------------ shapes
class BucketOut(BaseModel):
    start: date
    alerts: int
    confirmed: int
    dismissed: int
    ratio: float | None = Field(description="confirmed / (confirmed + dismissed); None: none yet")


class StaffWeekOut(BaseModel):
    week: date = Field(description="the Monday the week starts")
    officers: int = Field(description="distinct staff the detector alerted about that week")
    share: float = Field(description="officers over the staff count (0 when it is unknown)")


class DetectorEffectivenessOut(BaseModel):
    detector: str
    alerts: int
    confirmed: int
    dismissed: int
    undecided: int = Field(description="open, awaiting a second approver, or a duplicate")
    ratio: float | None
    buckets: list[BucketOut]
    most_staff_week: StaffWeekOut | None
    warnings: list[StaffWeekOut] = Field(
        description=f"weeks it alerted about more than {STAFF_SHARE_WARNING:.0%} of staff"
    )


class EffectivenessOut(BaseModel):
    period: Period
    until: date
    staff: int | None = Field(description="the staff count the shares are over (None: unknown)")
    staff_source: str
    confirmed_outcomes: list[str]
    dismissed_outcomes: list[str]
    detectors: list[DetectorEffectivenessOut]


class StretchOut(BaseModel):
    feed: str
    detectors: list[str] = Field(description="the detectors inactive for want of the feed")
    since: str = Field(description="when the stretch of too little coverage began")
    share: float | None = Field(description="the feed's share of staff when it was raised")
    covered: int | None
    staff: int | None
    min_share: float | None
    alert: str = Field(description="the operational alert that said so")
    alert_status: str
    resumed_at: str | None = Field(description="when judging resumed; None: still inactive")
    resumed_alert: str | None


class InactiveOut(BaseModel):
    inactive: list[StretchOut] = Field(description="stretches not yet resumed, newest first")
    resumed: list[StretchOut] = Field(description="stretches that ended, newest first")


class AccountOut(BaseModel):
    pseudonym: str
    events: int


class SourceOut(BaseModel):
    source: str
    declared: bool
    owner: str | None
    expected_daily: int | None
    longest_silence_s: float | None
    events: int
    last_seen: str | None
    last_seen_age_s: float | None
    events_on_day: int | None
    volume_ratio: float | None
    resolved_ratio: float | None = Field(description="share of its activity naming staff")
    silent: bool
    below_volume: bool
    unresolved_accounts: list[AccountOut] = Field(description="the most frequent, pseudonymised")


class CoverageOut(BaseModel):
    connected: bool = Field(description="False: no coverage service configured or answering")
    error: str | None = None
    day: str | None = Field(default=None, description="the reported day (last complete UTC day)")
    sources: list[SourceOut] = Field(default_factory=list)
    staff_known: int | None = None
    rostered: int | None = None
    seen: int | None = None
    coverage: float | None = None
    unseen_staff: list[str] = Field(
        default_factory=list,
        description="rostered, and no source showed them at work (those you may see)",
    )
    unseen_held_back: int = Field(default=0, description="unseen staff you may not see named")


# ------------------------------------------------------------------ shared
def effectiveness_view(
    ctx: Context, over: Oversight, user: User, period: Period, until: date | None
) -> EffectivenessOut:
    end = until or ctx.store.clock().astimezone(UTC).date()
    starts_from = datetime.combine(_first_day(end, period), datetime.min.time(), tzinfo=UTC)
    rows = ctx.store.outcome_rows(user, starts_from)
    staff, source = over.staff()
    found = effectiveness(rows, until=end, period=period, count=PERIODS, staff=staff)
    return EffectivenessOut(
        period=period, until=end, staff=staff, staff_source=source,
        confirmed_outcomes=sorted(CONFIRMED), dismissed_outcomes=sorted(DISMISSED),
        detectors=[_detector_out(d) for d in found],
    )  # fmt: skip


def _first_day(until: date, period: Period) -> date:
    return period_starts(until, period, PERIODS)[0]


def _detector_out(d: DetectorEffectiveness) -> DetectorEffectivenessOut:
    def week(w: Any) -> StaffWeekOut:
        return StaffWeekOut(week=w.week, officers=w.officers, share=w.share)

    return DetectorEffectivenessOut(
        detector=d.detector, alerts=d.alerts, confirmed=d.confirmed, dismissed=d.dismissed,
        undecided=d.undecided, ratio=d.ratio,
        buckets=[BucketOut(start=b.start, alerts=b.alerts, confirmed=b.confirmed,
                           dismissed=b.dismissed, ratio=b.ratio) for b in d.buckets],
        most_staff_week=week(d.most_staff_week) if d.most_staff_week else None,
        warnings=[week(w) for w in d.warnings],
    )  # fmt: skip


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _strs(v: object) -> list[str]:
    return [str(x) for x in v] if isinstance(v, list) else []


def inactive_view(ctx: Context, user: User) -> InactiveOut:
    """Pairs each operational alert that stopped detectors with the one saying they resumed
    (same feed, same ``since``)."""
    alerts = ctx.store.operational_alerts(user)
    resumed: dict[tuple[str, str], StoredAlert] = {}
    raised: list[StoredAlert] = []
    for a in alerts:
        key = (str(a.facts.get("feed", "")), str(a.facts.get("since", "")))
        if "resumed_at" in a.facts:
            resumed[key] = a
        else:
            raised.append(a)
    out: list[StretchOut] = []
    for a in raised:
        f = a.facts
        key = (str(f.get("feed", "")), str(f.get("since", "")))
        end = resumed.get(key)
        covered, staff = _num(f.get("covered")), _num(f.get("staff"))
        out.append(StretchOut(
            feed=key[0], detectors=_strs(f.get("inactive")), since=key[1],
            share=_num(f.get("share")), covered=int(covered) if covered is not None else None,
            staff=int(staff) if staff is not None else None, min_share=_num(f.get("min_share")),
            alert=a.id, alert_status=a.status.value,
            resumed_at=str(end.facts.get("resumed_at")) if end else None,
            resumed_alert=end.id if end else None,
        ))  # fmt: skip
    out.sort(key=lambda s: s.since, reverse=True)
    return InactiveOut(
        inactive=[s for s in out if s.resumed_at is None],
        resumed=[s for s in out if s.resumed_at is not None],
    )


def coverage_view(ctx: Context, over: Oversight, user: User) -> CoverageOut:
    """The coverage report with the queue's rules applied to the people it names."""
    try:
        report: CoverageReport = over.coverage.report()
    except CoverageUnavailable as exc:
        ctx.store.record(user, "coverage.viewed", {"connected": False})
        return CoverageOut(connected=False, error=str(exc))
    staff = report.staff
    shown, held = ctx.store.staff_visible(user, staff.unseen_staff)
    ctx.store.record(user, "coverage.viewed", {"day": report.day, "unseen_shown": len(shown)})
    return CoverageOut(
        connected=True, day=report.day, staff_known=staff.known, rostered=staff.rostered,
        seen=staff.seen, coverage=staff.coverage, unseen_staff=shown, unseen_held_back=held,
        sources=[
            SourceOut(
                **s.model_dump(exclude={"unresolved_accounts"}),
                unresolved_accounts=[
                    AccountOut(pseudonym=ctx.pseudonym(u.account), events=u.events)
                    for u in s.unresolved_accounts
                ],
            )
            for s in report.sources
        ],
    )  # fmt: skip


PeriodQ = Annotated[Literal["week", "month"], Query()]
#: the days ``until`` may be (the periods before it must stay within the calendar)
UNTIL_RANGE = (date(2000, 1, 1), date(2199, 12, 31))
UntilQ = Annotated[
    date | None,
    Query(ge=UNTIL_RANGE[0], le=UNTIL_RANGE[1],
          description="the last day shown (default: today, UTC)"),
]  # fmt: skip
Over = Annotated[Oversight, Depends(_oversight)]


# ------------------------------------------------------------------ JSON
@api.get("/detectors/effectiveness", response_model=EffectivenessOut)
def get_effectiveness(
    ctx: Ctx, over: Over, p: Supervisor, period: PeriodQ = "week", until: UntilQ = None
) -> EffectivenessOut:
    """Per detector: alerts, confirmed, dismissed and their ratio per week or month (the 12
    ending with ``until``'s), and the weeks it alerted about more than 15% of staff. Alerts
    the caller may not see do not count."""
    return effectiveness_view(ctx, over, p.user, period, until)


@api.get("/detectors/inactive", response_model=InactiveOut)
def get_inactive(ctx: Ctx, p: Reader) -> InactiveOut:
    """Detectors the engine made inactive (a reference feed covering too few staff): which,
    the feed, its coverage, since when, and when judging resumed."""
    return inactive_view(ctx, p.user)


@api.get("/coverage", response_model=CoverageOut)
def get_coverage(ctx: Ctx, over: Over, p: Reader) -> CoverageOut:
    """Source coverage from the coverage service: silent or below-volume sources, the share
    of each source's events whose actor resolved to staff, and rostered staff no source
    showed at work (named by the conflict-of-interest rule; accounts pseudonymised)."""
    return coverage_view(ctx, over, p.user)


# ------------------------------------------------------------------ pages
@pages.get("/detectors/effectiveness")
def effectiveness_page(
    request: Request, over: Over, p: Supervisor, period: PeriodQ = "week", until: UntilQ = None
) -> Response:
    view = effectiveness_view(context(request), over, p.user, period, until)
    lines = {d.detector: sparkline([b.ratio for b in d.buckets]) for d in view.detectors}
    return _render(request, "effectiveness.html", p, view=view, lines=lines,
                   warn_share=STAFF_SHARE_WARNING)  # fmt: skip


@pages.get("/detectors/inactive")
def inactive_page(request: Request, p: Reader) -> Response:
    ctx = context(request)
    view = inactive_view(ctx, p.user)
    return _render(request, "inactive.html", p, view=view)


@pages.get("/coverage")
def coverage_page(request: Request, over: Over, p: Reader) -> Response:
    view = coverage_view(context(request), over, p.user)
    return _render(request, "coverage.html", p, view=view)
