"""Running an adapter over files: what ``probity convert`` and ``probity ingest --format``
share. Files are read in binary (``-`` is standard input) and converted in order."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from adapters.base import Adapter, Converted, Reject


@dataclass
class ConvertSummary:
    """Records read, events by kind, rejects by reason."""

    events: Counter[str] = field(default_factory=Counter)
    rejects: Counter[str] = field(default_factory=Counter)

    @property
    def events_total(self) -> int:
        return sum(self.events.values())

    @property
    def rejects_total(self) -> int:
        return sum(self.rejects.values())

    def count(self, item: Converted | Reject) -> None:
        if isinstance(item, Reject):
            self.rejects[item.reason[:120]] += 1
        else:
            self.events[item.event.kind] += 1

    def lines(self, format_name: str, top: int = 10) -> list[str]:
        read = self.events_total + self.rejects_total
        out = [
            f"{format_name}: read {read}, events {self.events_total}, rejects {self.rejects_total}"
        ]
        out += [f"  {kind}: {n}" for kind, n in sorted(self.events.items())]
        out += [f"  rejected: {reason} x{n}" for reason, n in self.rejects.most_common(top)]
        if len(self.rejects) > top:
            rest = sum(n for _, n in self.rejects.most_common()[top:])
            out.append(f"  rejected for {len(self.rejects) - top} other reasons: {rest}")
        return out


def convert_files(adapter: Adapter, paths: Iterable[str]) -> Iterator[Converted | Reject]:
    """Every record of every file (``-`` = stdin) as an event or a reject, in order."""
    for path in paths:
        if path == "-":
            yield from adapter.convert(sys.stdin.buffer, "<stdin>")
            continue
        with open(path, "rb") as fh:
            yield from adapter.convert(fh, path)
