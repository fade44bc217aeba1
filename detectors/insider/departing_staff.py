"""Departing staff: a leaving date or resignation opens a window of heightened scrutiny that
also looks back, in which data movement is raised at lower lines and job-search browsing
counts."""

from __future__ import annotations

import statistics
from collections import deque
from datetime import date, timedelta
from typing import Any

from detectors.base import EventDetector, StateView
from detectors.exceptions import ConfigError
from detectors.insider._sites import load_sites, site_category
from detectors.insider.params import DepartingStaffParams
from detectors.lib.books import peer_groups
from detectors.lib.common import plural, severity_band
from detectors.lib.moved import MAIL, PRINT, REMOVABLE, UPLOAD, host, moved_out
from detectors.lib.times import DAY, at
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event, ExportAttrs, FileTransferAttrs, WebAttrs

MB = 1_000_000
DATA_FILE = "job_sites.toml"
EPOCH = date(1970, 1, 1)

# what a day's row holds after its day number: (what was done, unit)
MEASURES = (
    ("copied to removable media", "files"),
    ("copied to removable media", "bytes"),
    ("uploaded outside the force", "bytes"),
    ("sent outside the force with attachments", "e-mails"),
    ("printed", "pages"),
    ("downloaded", "files"),
    ("exported", "records"),
)
N_MEASURES = len(MEASURES)
JOBS = 1 + N_MEASURES  # row index of the day's job-search and competitor site visits
IDS = JOBS + 1  # row index of the day's evidence (a few event ids)


def _day(d: date) -> int:
    return (d - EPOCH).days


def _text(measure: int, value: float) -> str:
    """``15 files`` / ``120 MB``."""
    unit = MEASURES[measure][1]
    if unit == "bytes":
        return f"{value / MB:.0f} MB"
    return f"{value:.0f} {unit if value != 1 else unit.rstrip('s')}"


def _name(measure: int) -> str:
    """``files copied to removable media``."""
    what, unit = MEASURES[measure]
    return f"{'MB' if unit == 'bytes' else unit} {what}"


@register
class DepartingStaff(EventDetector[DepartingStaffParams]):
    """Data moved by a member of staff who is leaving, judged at a leaver's lower lines.

    HR's ``staff.upsert`` gives ``leaving_date`` and/or ``notice_date`` (contract 1.3). The
    window runs from ``lookback_days`` before the notice (or, without one, before the day
    the leaving date became known, or the leaving date if earlier) to ``after_days`` after
    the leaving date. Every officer's days with data movement are kept as daily rows (files
    and bytes to removable media, bytes uploaded and e-mails with attachments outside the
    force, pages printed, files downloaded, records exported; ``detectors.lib.moved``), so
    that when a leaving date becomes known the days already in the window are judged at
    once (one finding for the look-back), and later days as they happen.

    A day in the window raises when a measure exceeds the leaver's line: ``floors``, and
    ``ratio`` x the officer's own usual day before the window (median of their days with
    that measure, once ``own_min_days`` are known) and x the peer group's (unit, else role)
    once ``peer_min`` days are seen. A measure the officer never used before the window is
    named as new. Job-search and competitor browsing (``job_sites.toml``, versioned) in the
    window adds ``job_points`` per day to a leaver's finding; it never alerts alone, and is
    not counted at all for staff who are not leaving. Movements under a purpose (a task)
    do not count.
    """

    id = "insider.departing_staff"
    Params = DepartingStaffParams
    feeds_risk = True
    kinds = frozenset({"auth.login", "file.copied", "web.visited", "message.sent",
                       "file.printed", "file.downloaded", "record.export"})  # fmt: skip
    needs_attrs = {"message.sent": ("attachments",)}  # the mail it reads carries some
    category = Category.UNAUTHORISED_DISCLOSURE
    description = "Data moved by a leaver in the window around their notice, at lower lines."
    state_cap_bytes = 16_384

    def __init__(self, params: DepartingStaffParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        if len(p.floors) != N_MEASURES:
            raise ConfigError(f"{self.id}: floors needs {N_MEASURES} values, got {len(p.floors)}")
        self.version, self.sites = load_sites(DATA_FILE, p.extra_file, self.id)
        self.lookback, self.after, self.open_days = p.lookback_days, p.after_days, p.open_days
        self.keep_days = p.lookback_days + p.usual_days
        self.floors = tuple(float(f) for f in p.floors)
        self.ratio, self.own_min, self.peer_min = p.ratio, p.own_min_days, p.peer_min
        self.peer_sample = p.peer_sample
        self.min_upload = p.min_upload_bytes
        self.inside = frozenset(d.casefold() for d in p.inside_domains)
        self.job_points, self.job_max = p.job_points, p.job_max
        self.score, self.min_score = p.score, p.min_score
        # group -> per measure, recent days' values (days with that measure), this worker's
        self._peers: dict[str, list[deque[float]]] = {}

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"floors": (1, 1, 1, 1, 1, 1, 1), "min_score": 0.0, "lookback_days": 5},
                {"ratio": 1.0, "own_min_days": 1, "peer_min": 1}]  # fmt: skip

    # -- reading the event ------------------------------------------------------------------

    def _measure(self, event: Event) -> tuple[list[tuple[int, float]], str | None]:
        """The row increments this event makes, and the job site it visited (if any)."""
        a = event.attrs
        moved = moved_out(event, self.inside, self.min_upload)
        if moved is not None:
            if moved.channel == REMOVABLE:
                return [(0, 1.0), (1, float(moved.bytes))], None
            if moved.channel == UPLOAD:
                return [(2, float(moved.bytes))], None
            if moved.channel == MAIL:
                return [(3, 1.0)], None
            if moved.channel == PRINT:
                return [(4, float(moved.items))], None
        if isinstance(a, FileTransferAttrs) and event.kind == "file.downloaded":
            return [(5, 1.0)], None
        if isinstance(a, ExportAttrs):
            return [(6, float(a.count if a.count and a.count > 0 else 1))], None
        if isinstance(a, WebAttrs):
            domain = a.domain or host(a.url)
            if domain and site_category(domain, self.sites) is not None:
                return [], domain.casefold()
        return [], None

    def _window(self, view: StateView, officer: str) -> tuple[int, int, int, str] | None:
        """(first day, last day, the day it became known, a key) of the officer's leaver
        window, from HR's record as of now; ``None`` when they are not leaving."""
        fact = view.ref.staff(officer)
        if fact is None:
            return None
        s = fact.value
        leaving, notice = s.leaving_date, s.notice_date
        if leaving is None and notice is None:
            return None
        known = _day(fact.time.date())
        if notice is not None:
            anchor = _day(notice)
        else:
            assert leaving is not None
            anchor = min(known, _day(leaving))
        end = _day(leaving) + self.after if leaving is not None else anchor + self.open_days
        return anchor - self.lookback, end, known, f"{notice}|{leaving}"

    # -- judging --------------------------------------------------------------------------

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        login = event.kind == "auth.login"  # a logon only opens the look-back
        if login and self._window(view, officer) is None:
            return []  # most staff are not leaving: their logons open nothing
        adds, job = ([], None) if login else self._measure(event)
        if not login and not adds and job is None:
            return []
        if event.purpose and adds:
            return []  # tasked work: an exhibit copied, a file sent to the CPS under a case
        state = view.state
        today = int(event.time.timestamp() // DAY)
        rows: list[list[Any]] = state.setdefault("rows", [])
        row: list[Any] | None = None
        if not login and (not rows or rows[-1][0] != today):
            if rows and rows[-1][0] < today:
                self._close(view, officer, rows[-1])
            rows.append([today, *([0.0] * N_MEASURES), 0, []])
            rows.sort(key=lambda r: r[0])  # a late event's day goes in its place
            cut = today - self.keep_days
            while rows and rows[0][0] < cut:
                rows.pop(0)
        if not login:
            row = next(r for r in rows if r[0] == today)
            for idx, value in adds:
                row[1 + idx] += value
            if job is not None:
                row[JOBS] += 1
                state["job_site"] = job
            elif len(row[IDS]) < 4:
                row[IDS].append(event.id)
        window = self._window(view, officer)
        if window is None:
            return []
        first, last, known, key = window
        if not first <= today <= last:
            return []
        out: list[Finding] = []
        raised: list[int] = state.setdefault("raised", [])
        lines = self._lines(rows, first, peer_groups(officer, view.ref))
        if state.get("window") != key:
            state["window"] = key
            earlier = [r for r in rows if first <= r[0] < today and r[0] not in raised]
            hits = [(r, self._over(r, lines)) for r in earlier]
            hits = [(r, over) for r, over in hits if over]
            if hits:
                out += self._raise(event, view, officer, hits, lines, rows, first, known, True)
                raised.extend(r[0] for r, _ in hits)
        if row is not None and adds and today not in raised:
            over = self._over(row, lines)
            if over:
                out += self._raise(event, view, officer, [(row, over)], lines, rows, first,
                                   known, False)  # fmt: skip
                raised.append(today)
        del raised[: max(0, len(raised) - 40)]
        return out

    def _lines(self, rows: list[list[Any]], first: int, groups: tuple[str, ...]) -> dict[str, Any]:
        """Per measure: the line, the officer's usual before the window (and how many days),
        the peer group's usual (and its group), and whether it is new for the officer."""
        before = [r for r in rows if r[0] < first]
        out: dict[str, Any] = {"line": [], "own": [], "peer": [], "new": [], "before": len(before)}
        for m in range(N_MEASURES):
            days = [float(r[1 + m]) for r in before if r[1 + m] > 0]
            line = self.floors[m]
            own = None
            if len(days) >= self.own_min:
                own = (statistics.median(days), len(days))
                line = max(line, self.ratio * own[0])
            peer = None
            for g in groups:
                sample = self._peers.get(g)
                if sample is not None and len(sample[m]) >= self.peer_min:
                    peer = (statistics.median(sample[m]), len(sample[m]), g.partition(":")[2])
                    line = max(line, self.ratio * peer[0])
                    break
            out["line"].append(line)
            out["own"].append(own)
            out["peer"].append(peer)
            out["new"].append(bool(before) and not days)
        return out

    def _over(self, row: list[Any], lines: dict[str, Any]) -> list[int]:
        """The measures of a day at or above their lines."""
        line = lines["line"]
        return [m for m in range(N_MEASURES) if row[1 + m] > 0 and row[1 + m] >= line[m]]

    def _raise(
        self, event: Event, view: StateView, officer: str, hits: list[tuple[list[Any], list[int]]],
        lines: dict[str, Any], rows: list[list[Any]], first: int, known: int, lookback: bool,
    ) -> list[Finding]:  # fmt: skip
        state = view.state
        window_rows = [r for r in rows if r[0] >= first]
        job_days = sum(1 for r in window_rows if r[JOBS])
        measures = sorted({m for _, over in hits for m in over})
        new = [m for m in measures if lines["new"][m]]
        score = self.score + 8.0 * (len(measures) - 1) + 10.0 * bool(new)
        score += 5.0 * (len(hits) - 1) if lookback else 0.0
        score += min(self.job_max, self.job_points * job_days)
        score = min(95.0, score)
        if score < self.min_score:
            return []
        fact = view.ref.staff(officer)
        s = fact.value if fact is not None else None
        leaving = f"leaving date {s.leaving_date}" if s and s.leaving_date else "no leaving date"
        notice = f"notice given {s.notice_date}" if s and s.notice_date else "no notice date"
        window = (f"leaver window from {EPOCH + timedelta(days=first)} ({leaving}; {notice}; "
                  f"known to HR from {EPOCH + timedelta(days=known)})")  # fmt: skip
        days = []
        for r, over in hits[:5]:
            what = ", ".join(f"{_text(m, r[1 + m])} {MEASURES[m][0]}" for m in over)
            days.append(f"{EPOCH + timedelta(days=r[0])}: {what}")
        if len(hits) > 5:
            days.append(f"and {plural(len(hits) - 5, 'more day')}")
        usual = []
        for m in measures:
            own, peer = lines["own"][m], lines["peer"][m]
            if own:
                own_t = f"their usual {_text(m, own[0])} a day over {plural(own[1], 'day')}"
            elif lines["new"][m]:
                own_t = (f"new for them: none on {plural(lines['before'], 'earlier day')} "
                         "with data movement")  # fmt: skip
            else:
                own_t = "too few earlier days for a usual"
            peer_t = (f"peer group {peer[2]} usual {_text(m, peer[0])} ({peer[1]} days seen)"
                      if peer else "too few peer days for a peer usual")  # fmt: skip
            usual.append(f"{_name(m)}: line {_text(m, lines['line'][m])}; {own_t}; "
                         f"{peer_t}")  # fmt: skip
        jobs = (f"; job-search or competitor sites visited on {plural(job_days, 'day')} in the "
                f"window (latest {state.get('job_site')}, list {self.version})"
                if job_days else "")  # fmt: skip
        head = ("looking back on the window, " if lookback else "") + (
            f"{plural(len(hits), 'day')} above a leaver's lines"
        )
        evidence = [i for r, _ in hits for i in r[IDS]][:20] or [event.id]
        severity = severity_band(score, 60, 45)
        last_day = max(r[0] for r, _ in hits)
        return [
            self.finding(
                event,
                officer=officer,
                severity=severity,
                score=score,
                title=f"{officer}, leaving: {head}"
                + (f" ({', '.join(_name(m) for m in new)} new)" if new else ""),
                explanation=(
                    f"{officer} is leaving ({window}). {head[0].upper()}{head[1:]}: "
                    + "; ".join(days)
                    + ". "
                    + ". ".join(usual)
                    + jobs
                    + f". Judged at {at(event.time.timestamp())}."
                ),
                evidence=evidence,
                facts={
                    "lookback": lookback,
                    "days": [str(EPOCH + timedelta(days=r[0])) for r, _ in hits],
                    "measures": [_name(m) for m in measures],
                    "new": [_name(m) for m in new],
                    "job_days": job_days,
                    "list_version": self.version,
                },
                dedup=f"leaver:{'lb' if lookback else 'day'}:{last_day}",
            )
        ]

    def _close(self, view: StateView, officer: str, row: list[Any]) -> None:
        """A finished day's measures join its peer groups' samples; its evidence is kept
        only if some measure reached its floor (no other day can ever raise)."""
        if not any(row[1 + m] >= self.floors[m] for m in range(N_MEASURES)):
            row[IDS] = []
        for g in peer_groups(officer, view.ref):
            sample = self._peers.get(g)
            if sample is None:
                sample = self._peers[g] = [deque(maxlen=self.peer_sample)
                                           for _ in range(N_MEASURES)]  # fmt: skip
            for m in range(N_MEASURES):
                if row[1 + m] > 0:
                    sample[m].append(float(row[1 + m]))
