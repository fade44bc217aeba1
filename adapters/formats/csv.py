"""``csv``: a records system's audit export, described by a mapping file (``--mapping``).

The mapping (TOML, validated by :class:`CsvMapping`; an example for a records-system audit
trail is ``adapters/mappings/records_audit.toml``) says which column is which contract
field, how to read the time, which values of the action column are which kinds, and the
constant source name. The file must have a header row naming the columns.

Times: ``time.format`` is a ``strptime`` format or ``iso``; a time without an offset is a
wall-clock time in ``time.timezone`` (``Europe/London``), read through :mod:`zoneinfo`.
When clocks go forward the skipped hour (01:00-01:59 on the last Sunday of March) never
happened: such a row is rejected naming the time column. When clocks go back the hour
01:00-01:59 on the last Sunday of October happens twice; ``time.ambiguous`` decides:
``earlier`` (the default: the first pass, on summer time, UTC+1), ``later`` (the second,
UTC+0) or ``reject``. An event whose time was ambiguous carries ``attrs.time_ambiguous =
true`` so an analyst reading it knows the hour could be the other one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import tomllib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adapters._time import localize, utc_text
from adapters.base import MAX_ID, Adapter, AdapterConfig, content_id
from adapters.exceptions import ConfigError, FieldError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeSpec(_Strict):
    column: str
    format: str = "iso"  # a strptime format, or "iso" (ISO 8601, offset optional)
    timezone: str = "UTC"  # the zone of times written without an offset
    ambiguous: Literal["earlier", "later", "reject"] = "earlier"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class ValuesSpec(_Strict):
    """A column whose values are translated (``values``); unknown values reject the row,
    or pass through when ``other`` is ``keep``."""

    column: str
    values: dict[str, str] = Field(default_factory=dict)
    other: Literal["reject", "keep"] = "reject"


class RecordSpec(_Strict):
    type: ValuesSpec | str  # a column (values kept), or a column with a value table
    id: str


class AttrSpec(_Strict):
    column: str
    as_: Literal["text", "int", "list", "bool"] = Field("text", alias="as")
    separator: str = ";"


class SubjectsSpec(_Strict):
    column: str
    separator: str = ";"


class CsvMapping(_Strict):
    """What one export's columns mean."""

    source: str
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    time: TimeSpec
    id: str | None = None  # the column of the system's own audit id; else content hash
    id_prefix: str = ""
    kind: ValuesSpec
    actor: str
    terminal: str | None = None
    ip: str | None = None
    purpose: str | None = None  # an empty cell is "no purpose given" (null)
    record: RecordSpec | None = None
    subjects: SubjectsSpec | None = None
    attrs: dict[str, AttrSpec | str] = Field(default_factory=dict)

    def columns(self) -> set[str]:
        cols = {self.time.column, self.kind.column, self.actor}
        cols |= {c for c in (self.id, self.terminal, self.ip, self.purpose) if c}
        if self.record:
            rt = self.record.type
            cols |= {rt if isinstance(rt, str) else rt.column, self.record.id}
        if self.subjects:
            cols.add(self.subjects.column)
        cols |= {a if isinstance(a, str) else a.column for a in self.attrs.values()}
        return cols


def load_mapping(path: Path) -> CsvMapping:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"mapping {path}: {exc}") from exc
    try:
        return CsvMapping.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"mapping {path}: {where}: {first['msg']}") from exc


class CsvAdapter(Adapter):
    format = "csv"
    description = "a records system's CSV audit export, described by a TOML mapping"
    default_source = "records"
    needs_mapping = True

    def __init__(self, config: AdapterConfig | None = None) -> None:
        config = config or AdapterConfig()
        if config.mapping is None:
            raise ConfigError("format csv needs --mapping FILE")
        self.mapping = load_mapping(config.mapping)
        if config.source is None:
            config = AdapterConfig(self.mapping.source, config.tz, config.mapping, config.options)
        super().__init__(config)
        self.zone = ZoneInfo(self.mapping.time.timezone)
        self.header: list[str] = []
        self.index: dict[str, int] = {}

    def records(self, stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
        """One CSV record at a time (a quoted cell may span lines), with the line it starts
        on; the header row is read first and checked against the mapping."""
        m = self.mapping
        lines = io.TextIOWrapper(stream, encoding=m.encoding, errors="replace", newline="")
        try:
            yield from self._rows(lines)
        finally:
            with contextlib.suppress(ValueError):  # the caller may have closed the file
                lines.detach()  # so that the wrapper does not close the caller's stream

    def _rows(self, lines: IO[str]) -> Iterator[tuple[int, bytes]]:
        m = self.mapping
        consumed: list[str] = []

        def feed() -> Iterator[str]:
            for line in lines:
                consumed.append(line)
                yield line

        reader = csv.reader(feed(), delimiter=m.delimiter, strict=False)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ConfigError(f"header row: {exc}") from exc
        self.header = [h.strip() for h in header]
        self.index = {name: i for i, name in enumerate(self.header)}
        missing = sorted(m.columns() - set(self.index))
        if missing:
            raise ConfigError(f"columns named in the mapping but not in the header: {missing}")
        start = reader.line_num + 1
        while True:
            consumed.clear()
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:
                row = None
            raw = "".join(consumed).rstrip("\r\n")
            if row is None or any(cell.strip() for cell in row):
                yield start, raw.encode("utf-8")
            start = reader.line_num + 1

    def to_event(self, raw: bytes) -> dict[str, Any]:
        m = self.mapping
        try:
            rows = list(csv.reader(io.StringIO(raw.decode("utf-8")), delimiter=m.delimiter))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise FieldError("line", f"not a CSV record ({exc})") from exc
        if len(rows) != 1 or len(rows[0]) != len(self.header):
            got = len(rows[0]) if len(rows) == 1 else f"{len(rows)} rows,"
            raise FieldError("line", f"{got} columns, the header has {len(self.header)}")
        row = rows[0]

        def cell(column: str) -> str | None:
            value = row[self.index[column]].strip()
            return value or None

        time, ambiguous = self._time(cell(m.time.column))
        kind = self._values(m.kind, cell(m.kind.column))
        actor = cell(m.actor)
        if actor is None:
            raise FieldError(m.actor, "empty: the user is required")
        own_id = cell(m.id) if m.id else None
        event_id = f"{m.id_prefix}{own_id}" if own_id else ""
        out: dict[str, Any] = {
            "id": event_id if 0 < len(event_id) <= MAX_ID else content_id(self.source, raw),
            "time": time,
            "source": self.source,
            "kind": kind,
            "actor": actor,
        }
        if m.record:
            rt = m.record.type
            type_column = rt if isinstance(rt, str) else rt.column
            rtype, rid = cell(type_column), cell(m.record.id)
            if rtype and rid:
                if not isinstance(rt, str):
                    rtype = self._values(rt, rtype)
                out["record"] = {"type": rtype, "id": rid}
            elif kind.startswith("record."):
                blame = m.record.id if rtype else type_column
                raise FieldError(blame, f"empty: {kind} needs the record")
        if m.subjects:
            value = cell(m.subjects.column)
            if value:
                out["subjects"] = [
                    s.strip() for s in value.split(m.subjects.separator) if s.strip()
                ]
        if m.purpose:
            out["purpose"] = cell(m.purpose)
        for name, column in (("terminal", m.terminal), ("ip", m.ip)):
            if column and cell(column):
                out[name] = cell(column)
        attrs: dict[str, Any] = {}
        for name, spec in m.attrs.items():
            spec = AttrSpec(column=spec) if isinstance(spec, str) else spec
            value = cell(spec.column)
            if value is not None:
                attrs[name] = _typed(value, spec)
        if ambiguous:
            attrs["time_ambiguous"] = True
        out["attrs"] = attrs
        return out

    def _time(self, value: str | None) -> tuple[str, bool]:
        spec = self.mapping.time
        if value is None:
            raise FieldError(spec.column, "empty: the time is required")
        try:
            if spec.format == "iso":
                parsed = datetime.fromisoformat(value)
            else:
                parsed = datetime.strptime(value, spec.format)  # noqa: DTZ007 (zone applied below)
        except ValueError as exc:
            raise FieldError(
                spec.column, f"{value!r} does not match {spec.format!r}"[:160]
            ) from exc
        if parsed.tzinfo is not None:
            return utc_text(parsed), False
        try:
            aware, ambiguous = localize(parsed, self.zone, spec.ambiguous)
        except ValueError as exc:
            raise FieldError(spec.column, str(exc)) from exc
        return utc_text(aware), ambiguous

    @staticmethod
    def _values(spec: ValuesSpec, value: str | None) -> str:
        if value is None:
            raise FieldError(spec.column, "empty")
        found = spec.values.get(value)
        if found is not None:
            return found
        if spec.other == "keep":
            return value
        raise FieldError(spec.column, f"{value!r} is not in the mapping's values"[:160])


def _typed(value: str, spec: AttrSpec) -> Any:
    if spec.as_ == "int":
        try:
            return int(value)
        except ValueError as exc:
            raise FieldError(spec.column, f"not an integer: {value!r}"[:120]) from exc
    if spec.as_ == "list":
        return [v.strip() for v in value.split(spec.separator) if v.strip()]
    if spec.as_ == "bool":
        lowered = value.lower()
        if lowered in ("true", "yes", "y", "1"):
            return True
        if lowered in ("false", "no", "n", "0"):
            return False
        raise FieldError(spec.column, f"not a yes/no value: {value!r}"[:120])
    return value
