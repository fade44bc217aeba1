"""Structured logs: one JSON object per line, safe to ship to a force's log platform.

The data is about staff and victims, and log platforms are read by many more people than the
ACU queue. So at INFO and above a log line carries identifiers (event id, alert id, detector,
topic, offset...) and never the content of events: extra fields outside :data:`SAFE_FIELDS`
are dropped (their names listed under ``redacted``), and an event, alert or finding passed as
an argument or extra is reduced to its ids. DEBUG keeps other extras, for a developer's
machine only.

>>> import io, json, logging
>>> from probity.settings import Settings
>>> out = io.StringIO()
>>> configure_logging(Settings(log_level="INFO"), stream=out)
>>> logging.getLogger("probity.demo").info(
...     "event consumed", extra={"event_id": "e1", "text": "meet at the usual place"})
>>> line = json.loads(out.getvalue())
>>> (line["message"], line["event_id"], "text" in line, line["redacted"])
('event consumed', 'e1', False, ['text'])
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any, Final

from pythonjsonlogger.json import JsonFormatter

from probity.settings import Settings

#: Extra fields that may appear at INFO and above: identifiers and figures, never content.
SAFE_FIELDS: Final = frozenset(
    {
        "event_id", "event_ids", "alert_id", "alert_ids", "detector", "detectors", "kind",
        "source", "topic", "partition", "offset", "offsets", "reason_class", "count",
        "events", "alerts", "invalid", "duration_s", "lag", "worker", "app_id", "group",
        "partitions", "status", "port", "host", "path", "method", "status_code", "url",
        "category", "severity", "file", "line", "mode", "version", "redacted",
        "from_offset", "to_offset", "applied", "judged", "nodes", "edges",
    }
)  # fmt: skip

_STANDARD: Final = frozenset(
    logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__
) | {"message", "asctime"}
_HANDLER_FLAG: Final = "_probity_handler"


def _summary(value: Any) -> Any:
    """An event, alert or finding reduced to what identifies it; anything else unchanged."""
    from models.alerts import Alert, Finding
    from models.events import Event

    if isinstance(value, Event):
        return f"<event {value.id} {value.source} {value.kind}>"
    if isinstance(value, Alert):
        return f"<alert {value.id} {value.detector}>"
    if isinstance(value, Finding):
        return f"<finding {value.detector}>"
    return value


class RedactFilter(logging.Filter):
    """Drop extras outside :data:`SAFE_FIELDS` at INFO and above; summarise models always."""

    def __init__(self, safe: frozenset[str] = SAFE_FIELDS) -> None:
        super().__init__()
        self.safe = safe

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_summary(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _summary(v) for k, v in record.args.items()}
        extras = [k for k in record.__dict__ if k not in _STANDARD and not k.startswith("_")]
        redacted = []
        for key in extras:
            value = record.__dict__[key]
            if record.levelno >= logging.INFO and key not in self.safe:
                del record.__dict__[key]
                redacted.append(key)
            else:
                record.__dict__[key] = _summary(value)
        if redacted:
            record.redacted = sorted(redacted)
        return True


def json_formatter() -> logging.Formatter:
    """JSON lines with ``time`` (UTC, RFC 3339), ``level``, ``logger`` and ``message``."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        json_ensure_ascii=False,
    )


def configure_logging(settings: Settings, *, stream: IO[str] | None = None) -> None:
    """Send the root logger's records to ``stream`` (stderr) as the settings say.

    Called once by each entry point (worker, triage service); calling it again replaces the
    handler it installed, so tests and reloads do not double every line.

    The faust worker must then be told to leave logging alone, or it replaces this handler
    with its own coloured text one on start: ``faust.worker.Worker(app, ...,
    override_logging=False)``, and its ``spinner`` set to ``None`` (it writes terminal escape
    codes to stdout otherwise).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_FLAG, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_FLAG, True)
    handler.addFilter(RedactFilter())
    if settings.log_format == "json":
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # a library's warning is a record too (logger ``py.warnings``), not a bare line on stderr
    # that would break the JSON-lines stream
    logging.captureWarnings(True)
    # client libraries are chatty at INFO (every rebalance, every connection)
    if settings.log_level != "DEBUG":
        for name in ("aiokafka", "kafka"):
            logging.getLogger(name).setLevel(logging.WARNING)
