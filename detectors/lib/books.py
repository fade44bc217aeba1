"""Per-subject books of look-ups kept in an officer's state: pruning by event time, re-alert
memory."""

from __future__ import annotations

from typing import Any

from detectors.lib.purpose import (
    SENSITIVE_LISTS,
)
from detectors.lib.times import DAY
from detectors.reference.view import ReferenceView
from models.events import Event

MAX_SUBJECTS = 1000  # per officer and book: a busy desk keeps its most recent subjects


#: what a book's times are (a tuple: ``int | float`` is built anew each time it is read)
_NUMBER = (int, float)


# an entry in a per-subject book: [epoch seconds, event id, opened contact details (0/1)]
Entry = list[Any]


def book(
    state: dict[str, Any] | Any, name: str, person: str, entry: Entry, window_s: float, cap: int
) -> list[Entry]:
    """Append ``entry`` to ``person``'s recent entries; drop what fell out of the window.

    Once per day of event time the whole book is swept, so state stays bounded by the
    subjects seen within the window (and by ``MAX_SUBJECTS``, most recent kept).
    """
    book: dict[str, list[Entry]] = state.setdefault(name, {})
    entries = book.setdefault(person, [])
    if not any(e[1] == entry[1] for e in entries):
        entries.append(entry)
    cutoff = entry[0] - window_s
    entries[:] = [e for e in entries if e[0] >= cutoff][-cap:]
    sweep(state, entry[0], window_s)
    return entries


def sweep(state: Any, now: float, window_s: float) -> None:
    day = int(now // DAY)
    if state.get("_day") == day:
        return
    state["_day"] = day
    cutoff = now - window_s
    for name in ("views", "alerted"):
        book = state.get(name)
        if not book:
            continue
        for key in list(book):
            value = book[key]
            last = value[-1][0] if isinstance(value, list) and value else value
            if isinstance(last, _NUMBER) and last < cutoff:
                del book[key]
        if len(book) > MAX_SUBJECTS:
            by_recency = sorted((recency(v), k) for k, v in book.items())
            for _, key in by_recency[:-MAX_SUBJECTS]:
                del book[key]


def recency(value: Any) -> float:
    """When a book entry was last touched: a list of entries, or a bare time."""
    return float(value[-1][0] if isinstance(value, list) else value)


def recently_alerted(state: Any, key: str, now: float, realert_s: float) -> bool:
    alerted: dict[str, float] = state.setdefault("alerted", {})
    last = alerted.get(key)
    return last is not None and now - last < realert_s


def mark_alerted(state: Any, key: str, now: float) -> None:
    state.setdefault("alerted", {})[key] = now


def on_dedicated_list(person: str, ref: ReferenceView) -> list[str]:
    return [w.list for w in ref.watch_entries(person) if w.list in SENSITIVE_LISTS]


def what_opened(event: Event, person: str, own: bool) -> str:
    """``P-1`` for their own record, ``incident I-9 naming P-1`` for a mention."""
    if own or event.record is None:
        return person
    return f"{event.record.type} {event.record.id} naming {person}"


def purpose_note(event: Event) -> str:
    return f"purpose given: {event.purpose}" if event.purpose else "no purpose given"


#: (unit, role) -> their peer groups: asked on every logon by several insider detectors, for
#: the few units and roles a force has; spelled once (a pure memo, cleared if it ever grows)
_GROUPS: dict[tuple[str | None, str | None], tuple[str, ...]] = {}
_MAX_GROUPS = 4096


def peer_groups(officer: str, ref: ReferenceView) -> tuple[str, ...]:
    """The peer groups whose usual an officer's behaviour is weighed against: their unit
    first, then their role (``unit:...``, ``role:...``), as staff reference data gives them."""
    fact = ref.staff(officer)
    if fact is None:
        return ()
    s = fact.value
    key = (s.unit, s.role)
    groups = _GROUPS.get(key)
    if groups is None:
        if len(_GROUPS) >= _MAX_GROUPS:
            _GROUPS.clear()
        groups = _GROUPS[key] = tuple(
            g for g in (f"unit:{s.unit}" if s.unit else "", f"role:{s.role}" if s.role else "") if g
        )
    return groups
