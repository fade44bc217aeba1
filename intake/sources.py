"""The sources file: every system that should feed Probity, who owns it, what it sends, how
much a day and the longest silence that is still normal for it.

What "all systems monitored" means is declared here, as data; :mod:`intake.coverage` measures
the feeds against it. TOML, one ``[[source]]`` table per system:

>>> text = '''
... [[source]]
... name = "athena"
... owner = "Records management, IT service desk"
... format = "contract"
... expected_daily = 3400
... longest_silence = "2h"
... '''
>>> (s,) = parse_sources(text, "example").sources
>>> s.name, s.expected_daily, s.longest_silence_s
('athena', 3400, 7200)
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from intake.exceptions import SourcesError

#: the example shipped with Probity: the systems of the simulated force (``probity run``)
EXAMPLE = Path(__file__).with_name("sources.toml")

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_s(value: str | int) -> int:
    """Seconds in ``"90s"``, ``"30m"``, ``"6h"``, ``"2d"`` (or an int of seconds).

    >>> duration_s("30m"), duration_s("1d"), duration_s(45)
    (1800, 86400, 45)
    """
    if isinstance(value, int):
        return value
    m = _DURATION.match(value)
    if m is None:
        raise ValueError(f"{value!r} is not a duration such as 90s, 30m, 6h or 2d")
    return int(m.group(1)) * _UNIT_S[m.group(2)]


class Source(BaseModel):
    """One feeding system."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,64}$")] = Field(
        description="the `source` its events carry"
    )
    owner: str = Field(min_length=1, description="who answers for the feed (team or role)")
    format: str = Field(default="contract", description="what it sends (a probity format)")
    expected_daily: int = Field(ge=0, description="events expected on a normal day")
    longest_silence_s: int = Field(
        gt=0, alias="longest_silence", description="longest normal gap between two events"
    )

    @field_validator("longest_silence_s", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return duration_s(value) if isinstance(value, str | int) else value


class SourcesFile(BaseModel):
    """The declared sources, by name."""

    model_config = ConfigDict(frozen=True)

    sources: tuple[Source, ...] = ()

    def by_name(self) -> dict[str, Source]:
        return {s.name: s for s in self.sources}


def parse_sources(text: str, where: str) -> SourcesFile:
    """The sources declared in TOML ``text`` (``where`` names it in errors)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{where}: not TOML ({exc})") from exc
    unknown = set(data) - {"source"}
    if unknown:
        raise SourcesError(f"{where}: unknown table(s) {sorted(unknown)}: only [[source]]")
    sources = []
    for i, item in enumerate(data.get("source", []), start=1):
        try:
            sources.append(Source.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "?"
            raise SourcesError(f"{where}: source {i}: {field}: {err['msg']}") from exc
    names = [s.name for s in sources]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SourcesError(f"{where}: source(s) declared twice: {', '.join(twice)}")
    return SourcesFile(sources=tuple(sources))


def load_sources(path: str | Path | None) -> SourcesFile:
    """The sources file at ``path`` (``None``: the shipped example)."""
    p = Path(path) if path else EXAMPLE
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesError(f"{p}: cannot read ({exc})") from exc
    return parse_sources(text, str(p))
