"""Investigation routes: the officer timeline and cases, as JSON (``api``) and as pages
(``pages``). Every route checks the caller's role; the store applies conflict of interest
(a hidden officer or case answers 404 like an unknown one) and audits each view and step.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import AwareDatetime, BaseModel, Field

from models.alerts import Category
from triage.api import AlertOut, Ctx, Decider, EvidenceOut, NoteIn, NoteOut, Reader, _In
from triage.auth import context
from triage.base import NO_NUL, REFERENCE, Case, CaseOutcome, CaseTask, StoredAlert, User
from triage.chart import file_stem, i2_rows, i2_zip, link_chart, merge_links
from triage.context import Context
from triage.exceptions import InvalidTransition, NotFound
from triage.pages import _render
from triage.present import Masker, masker_for, masker_of_all, note_view, path_links, present
from triage.timeline import Entry, build_timeline

api = APIRouter(prefix="/api", tags=["investigation"])
pages = APIRouter(include_in_schema=False)

OfficerId = Annotated[str, Path(pattern=NO_NUL, min_length=1, max_length=128)]
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TaskId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str, Field(min_length=1, max_length=5000)]


# ------------------------------------------------------------------ shapes
class TimelineEntryOut(BaseModel):
    time: AwareDatetime
    kind: str = Field(description="alert, event (activity) or reference (a reference change)")
    alert: AlertOut | None = None
    event: EvidenceOut | None = None
    cited_by: list[str] = Field(default_factory=list, description="alerts citing the event")


class TimelineOut(BaseModel):
    officer: str
    entries: list[TimelineEntryOut]


class CaseDetailOut(BaseModel):
    case: Case
    alerts: list[AlertOut]
    suggested: list[AlertOut] = Field(description="visible alerts about the officer not attached")
    tasks: list[CaseTask]
    notes: list[NoteOut]


class CaseIn(_In):
    officer: Annotated[str, Field(min_length=1, max_length=128)]
    title: Annotated[str, Field(min_length=1, max_length=500)]


class AttachIn(_In):
    alert_id: Annotated[str, Field(min_length=1, max_length=64)]


class TaskIn(_In):
    text: Text


class CaseCloseIn(_In):
    outcome: CaseOutcome
    rationale: Text
    referral_reference: Annotated[str, Field(pattern=REFERENCE)] | None = Field(
        default=None, description="the IOPC's referral reference (required for referral_iopc)"
    )


# ------------------------------------------------------------------ shared
def _day(value: str | None, end: bool) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidTransition("dates are YYYY-MM-DD") from exc
    return datetime.combine(day.date(), time.max if end else time.min, tzinfo=UTC)


def timeline(
    ctx: Context, officer: str, user: User, category: str | None, date_from: str | None,
    date_to: str | None,
) -> list[Entry]:  # fmt: skip
    start, end = _day(date_from, end=False), _day(date_to, end=True)
    alerts = ctx.store.officer_timeline(officer, user, category=category or None,
                                        date_from=start, date_to=end)  # fmt: skip
    return build_timeline(alerts, ctx.pseudonym, date_from=start, date_to=end)


def case_detail(ctx: Context, case_id: int, user: User) -> dict[str, Any]:
    d = ctx.store.view_case(case_id, user)
    m = masker_of_all([*d.alerts, *d.suggested], ctx.pseudonym)
    return {
        "case": d.case,
        "alerts": [present(a, masker_for(a, ctx.pseudonym)) for a in d.alerts],
        "suggested": [present(a, masker_for(a, ctx.pseudonym)) for a in d.suggested],
        "tasks": [note_view(t, m) for t in d.tasks],
        "notes": [note_view(n, m) for n in d.notes],
    }


#: how many of the officer's latest visible alerts the network is drawn from
NETWORK_ALERTS = 200


def network_links(ctx: Context, officer: str, user: User) -> list[dict[str, str]]:
    """The officer's network as the queue knows it: every link of the association chains
    on the officer's alerts the viewer may see, merged, people pseudonymised (the live
    graph is the worker's; ``probity graph export`` reads it from the events). An officer
    with no visible alert is not found, hidden or unknown alike."""
    alerts = ctx.store.officer_alerts(officer, user, limit=NETWORK_ALERTS)
    if not alerts:
        raise NotFound(f"no officer {officer!r}")
    return merge_links(r for a in alerts for r in path_links(a, masker_for(a, ctx.pseudonym)))


def search(ctx: Context, query: str, user: User) -> dict[str, Any]:
    """Alerts and cases whose officer, detector, alert or case id, subject pseudonym or
    (masked) title contains ``query`` (case-insensitive), at most 100 of each."""
    q = query.strip().lower()
    if len(q) < 2:
        raise InvalidTransition("search for at least two characters")
    alerts, cases = ctx.store.search_candidates(q, user)
    found = []
    for a in alerts:
        shown = present(a, masker_for(a, ctx.pseudonym))
        words = [a.officer, a.detector, a.id, str(shown["title"]),
                 *(str(sub["pseudonym"]) for sub in shown["subjects"])]  # fmt: skip
        if any(q in w.lower() for w in words):
            found.append(shown)
            if len(found) == 100:
                break
    hits = [c for c in cases if any(q in w.lower() for w in (c.officer, c.title, str(c.id)))]
    return {"query": query, "alerts": found, "cases": hits[:100]}


# ------------------------------------------------------------------ API
@api.get("/officers/{officer}/timeline", response_model=TimelineOut)
def get_timeline(
    officer: OfficerId, ctx: Ctx, p: Reader,
    category: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    date_from: Annotated[str | None, Query(max_length=10, pattern=NO_NUL)] = None,
    date_to: Annotated[str | None, Query(max_length=10, pattern=NO_NUL)] = None,
) -> TimelineOut:  # fmt: skip
    """Every visible alert about the officer and every evidence event they cite, in time
    order (people pseudonymised); ``date_from``/``date_to`` are YYYY-MM-DD. Audited."""
    entries = timeline(ctx, officer, p.user, category, date_from, date_to)
    return TimelineOut.model_validate(
        {"officer": officer, "entries": [e.__dict__ for e in entries]}
    )


class NetworkOut(BaseModel):
    officer: str
    entities: list[dict[str, str]] = Field(description="i2 entity rows (models.i2 columns)")
    links: list[dict[str, str]] = Field(description="i2 link rows (models.i2 columns)")


@api.get("/officers/{officer}/network", response_model=NetworkOut)
def get_network(officer: OfficerId, ctx: Ctx, p: Reader) -> NetworkOut:
    """The officer's network from the association chains of their visible alerts, as the
    i2 entity and link rows (people pseudonymised); audited."""
    entities, links = i2_rows(network_links(ctx, officer, p.user))
    ctx.store.record(p.user, "officer.network_exported",
                     {"officer": officer, "entities": len(entities), "links": len(links),
                      "form": "json"})  # fmt: skip
    return NetworkOut(officer=officer, entities=entities, links=links)


class SearchOut(BaseModel):
    query: str
    alerts: list[AlertOut]
    cases: list[Case]


@api.get("/search", response_model=SearchOut)
def search_api(
    ctx: Ctx, p: Reader, q: Annotated[str, Query(min_length=2, max_length=200, pattern=NO_NUL)]
) -> SearchOut:
    """Search the visible alerts and cases (officer, detector, ids, subject pseudonym,
    title as shown); audited."""
    return SearchOut.model_validate(search(ctx, q, p.user))


@api.get("/cases", response_model=list[Case])
def list_cases(
    ctx: Ctx, p: Reader,
    officer: Annotated[str | None, Query(max_length=128, pattern=NO_NUL)] = None,
) -> list[Case]:  # fmt: skip
    """The cases the caller may see, open first."""
    return ctx.store.cases(p.user, officer=officer)


@api.post("/cases", response_model=Case, status_code=201)
def open_case(body: CaseIn, ctx: Ctx, p: Decider) -> Case:
    """Open a case on an officer the caller sees alerts about (audited)."""
    return ctx.store.open_case(body.officer, body.title, p.user)


@api.get("/cases/{case_id}", response_model=CaseDetailOut)
def get_case(case_id: CaseId, ctx: Ctx, p: Reader) -> CaseDetailOut:
    """A case with its alerts, suggested alerts, tasks and notes (audited view)."""
    return CaseDetailOut.model_validate(case_detail(ctx, case_id, p.user))


@api.post("/cases/{case_id}/alerts", response_model=Case)
def attach(case_id: CaseId, body: AttachIn, ctx: Ctx, p: Decider) -> Case:
    ctx.store.attach_alert(case_id, body.alert_id, p.user)
    return ctx.store.view_case(case_id, p.user, audit=False).case


@api.post("/cases/{case_id}/tasks", response_model=CaseTask)
def add_task(case_id: CaseId, body: TaskIn, ctx: Ctx, p: Decider) -> CaseTask:
    return ctx.store.add_case_task(case_id, body.text, p.user)


@api.post("/cases/{case_id}/tasks/{task_id}/done", response_model=Case)
def task_done(case_id: CaseId, task_id: TaskId, ctx: Ctx, p: Decider) -> Case:
    ctx.store.complete_case_task(case_id, task_id, p.user)
    return ctx.store.view_case(case_id, p.user, audit=False).case


@api.post("/cases/{case_id}/notes", response_model=NoteOut)
def add_note(case_id: CaseId, body: NoteIn, ctx: Ctx, p: Decider) -> NoteOut:
    return NoteOut.model_validate(ctx.store.add_case_note(case_id, body.text, p.user).model_dump())


@api.post("/cases/{case_id}/close", response_model=Case)
def close_case(case_id: CaseId, body: CaseCloseIn, ctx: Ctx, p: Decider) -> Case:
    """Record the outcome with its rationale (required) and close the case (audited)."""
    return ctx.store.close_case(case_id, body.outcome, body.rationale, p.user,
                                referral_reference=body.referral_reference)  # fmt: skip


# ------------------------------------------------------------------ pages
def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


Field_ = Annotated[str, Form(pattern=NO_NUL, max_length=5000)]


@pages.get("/officers/{officer}")
def officer_page(officer: OfficerId, request: Request, p: Reader) -> Response:
    ctx = context(request)
    q = request.query_params
    f = {k: q.get(k, "")[:64] for k in ("category", "date_from", "date_to")}
    entries = timeline(ctx, officer, p.user, f["category"], f["date_from"], f["date_to"])
    network = link_chart(network_links(ctx, officer, p.user), officer)
    return _render(request, "officer.html", p, officer=officer, entries=entries, f=f,
                   axis=axis(entries), categories=[c.value for c in Category],
                   cases=ctx.store.cases(p.user, officer=officer), network=network)  # fmt: skip


@pages.get("/officers/{officer}/network.zip")
def network_zip(officer: OfficerId, request: Request, p: Reader) -> Response:
    """The officer's network for i2: ``<officer>_entities.csv`` and ``<officer>_links.csv``
    in one zip, the files ``probity graph export --format csv`` writes; people
    pseudonymised; audited."""
    ctx = context(request)
    links = network_links(ctx, officer, p.user)
    entities, rows = i2_rows(links)
    ctx.store.record(p.user, "officer.network_exported",
                     {"officer": officer, "entities": len(entities), "links": len(rows),
                      "form": "i2"})  # fmt: skip
    stem = file_stem(officer)
    return Response(i2_zip(links, stem), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{stem}-network-i2.zip"'})  # fmt: skip


def axis(entries: list[Entry], width: int = 720) -> list[tuple[int, str, str]]:
    """(x, css class, title) of each entry on a horizontal time axis (server-drawn SVG)."""
    if not entries:
        return []
    t0 = entries[0].time.timestamp()
    span = max(entries[-1].time.timestamp() - t0, 1.0)
    out = []
    for e in entries:
        x = 10 + int((e.time.timestamp() - t0) / span * (width - 20))
        if e.alert:
            out.append((x, f"alert sev-{e.alert['severity']}", str(e.alert["title"])))
        elif e.event:
            out.append((x, e.kind, f"{e.event['kind']} {e.event['source']}"))
    return out


@pages.get("/alerts/{alert_id}/chain.csv")
def chain_csv(
    alert_id: Annotated[str, Path(pattern=NO_NUL, min_length=1, max_length=64)],
    request: Request, p: Reader,
) -> Response:  # fmt: skip
    """The alert's association chain as one i2 link file (both ends' identity and entity
    type per row, then relation, systems, first and last seen, evidence); people
    pseudonymised; audited."""
    ctx = context(request)
    alert, _ = ctx.store.view_alert(alert_id, p.user, audit=False)
    rows = path_links(alert, masker_for(alert, ctx.pseudonym))
    ctx.store.record(p.user, "alert.chain_exported", {"alert": alert.id, "links": len(rows)})
    buf = io.StringIO()
    columns = ["from", "from_kind", "relation", "to", "to_kind", "sources", "first_seen",
               "last_seen", "evidence"]  # fmt: skip
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="chain.csv"'})  # fmt: skip


def _cell(value: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with ``'``."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@pages.get("/search")
def search_page(request: Request, p: Reader) -> Response:
    q = request.query_params.get("q", "")[:200].replace("\x00", "")
    result = search(context(request), q, p.user) if q.strip() else None
    return _render(request, "search.html", p, q=q, result=result)


@pages.get("/cases")
def cases_page(request: Request, p: Reader) -> Response:
    ctx = context(request)
    return _render(request, "cases.html", p, cases=ctx.store.cases(p.user))


@pages.post("/cases")
def open_case_page(
    request: Request, p: Decider,
    officer: Annotated[str, Form(pattern=NO_NUL, min_length=1, max_length=128)],
    title: Annotated[str, Form(pattern=NO_NUL, min_length=1, max_length=500)],
) -> Response:  # fmt: skip
    case = context(request).store.open_case(officer, title, p.user)
    return _see_other(f"/cases/{case.id}")


@pages.get("/cases/{case_id}")
def case_page(case_id: CaseId, request: Request, p: Reader) -> Response:
    ctx = context(request)
    detail = case_detail(ctx, case_id, p.user)
    return _render(request, "case.html", p, **detail, outcomes=[o.value for o in CaseOutcome])


def _pack(request: Request, p: Any, case_id: int, *, pdf: bool) -> Response:
    ctx = context(request)
    detail = ctx.store.view_case(case_id, p.user, audit=False)
    trail = ctx.store.case_trail(case_id, p.user, form="pdf" if pdf else "html")
    m = masker_of_all(detail.alerts, ctx.pseudonym)
    entries = build_timeline(detail.alerts, ctx.pseudonym)
    return _render(
        request, "pack.html", p, case=detail.case,
        tasks=[note_view(t, m) for t in detail.tasks],
        notes=[note_view(n, m) for n in detail.notes],
        alerts=[_with_chart(a, masker_for(a, ctx.pseudonym)) for a in detail.alerts],
        entries=entries, trail=[(e, m.any(e.detail)) for e in trail],
        made_at=ctx.store.clock(), pdf=pdf,
    )  # fmt: skip


def _with_chart(a: StoredAlert, m: Masker) -> dict[str, Any]:
    """The alert as the pack shows it, with its link chart (None without a chain)."""
    return {**present(a, m), "chart": link_chart(path_links(a, m), a.officer)}


@pages.get("/cases/{case_id}/pack")
def referral_pack(case_id: CaseId, request: Request, p: Reader) -> Response:
    """The case as one printable document (print stylesheet): outcome and rationale, the
    alerts with their evidence tables, the timeline of their evidence, tasks, notes and the
    audit trail of who saw, revealed and decided what. Every export is audited."""
    return _pack(request, p, case_id, pdf=False)


@pages.get("/cases/{case_id}/pack.pdf")
def referral_pack_pdf(case_id: CaseId, request: Request, p: Reader) -> Response:
    """The referral pack as a PDF (WeasyPrint; nothing fetched); audited like the page."""
    from triage.pdf import render_pdf

    page = _pack(request, p, case_id, pdf=True)
    html = bytes(page.body).decode("utf-8")
    return Response(render_pdf(html), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="case-{case_id}.pdf"'})  # fmt: skip


@pages.post("/cases/{case_id}/alerts")
def attach_page(
    case_id: CaseId, request: Request, p: Decider,
    alert_id: Annotated[str, Form(pattern=NO_NUL, min_length=1, max_length=64)],
) -> Response:  # fmt: skip
    context(request).store.attach_alert(case_id, alert_id, p.user)
    return _see_other(f"/cases/{case_id}")


@pages.post("/cases/{case_id}/tasks")
def add_task_page(case_id: CaseId, request: Request, p: Decider, text: Field_) -> Response:
    context(request).store.add_case_task(case_id, text, p.user)
    return _see_other(f"/cases/{case_id}")


@pages.post("/cases/{case_id}/tasks/{task_id}/done")
def task_done_page(case_id: CaseId, task_id: TaskId, request: Request, p: Decider) -> Response:
    context(request).store.complete_case_task(case_id, task_id, p.user)
    return _see_other(f"/cases/{case_id}")


@pages.post("/cases/{case_id}/notes")
def add_note_page(case_id: CaseId, request: Request, p: Decider, text: Field_) -> Response:
    context(request).store.add_case_note(case_id, text, p.user)
    return _see_other(f"/cases/{case_id}")


@pages.post("/cases/{case_id}/close")
def close_case_page(
    case_id: CaseId, request: Request, p: Decider,
    outcome: Annotated[str, Form(pattern=NO_NUL, max_length=32)], rationale: Field_,
    referral_reference: Annotated[str, Form(pattern=NO_NUL, max_length=64)] = "",
) -> Response:  # fmt: skip
    try:
        chosen = CaseOutcome(outcome)
    except ValueError as exc:
        raise InvalidTransition("choose an outcome") from exc
    context(request).store.close_case(case_id, chosen, rationale, p.user,
                                      referral_reference=referral_reference or None)  # fmt: skip
    return _see_other(f"/cases/{case_id}")
