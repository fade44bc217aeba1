"""Structured logs: JSON lines with ids, never the content of events at INFO."""

from __future__ import annotations

import doctest
import io
import json
import logging
import warnings
from collections.abc import Iterator

import pytest

import probity.logging as plog
from probity.logging import configure_logging
from probity.settings import Settings

SECRET = "meet me behind the Crown at 9, bring the PNC printout on J. Bloggs"


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    yield stream
    # leave the root logger as pytest had it
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_probity_handler", False):
            root.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_doctests(out: io.StringIO) -> None:  # out: removes the handler it installs
    result = doctest.testmod(plog)
    assert result.attempted > 0 and result.failed == 0


def test_info_line_is_json_with_event_id_and_without_message_text(
    out: io.StringIO, event_factory
) -> None:
    configure_logging(Settings(log_level="INFO", log_format="json"), stream=out)
    event = event_factory(
        "message.sent",
        id="ev-77",
        actor="S1",
        subjects=["P-JBLOGGS"],
        attrs={"channel": "whatsapp", "to": ["+447700900123"], "text": SECRET},
    )
    log = logging.getLogger("streams.worker")
    log.info(
        "event consumed %s",
        event,
        extra={"event_id": event.id, "kind": event.kind, "text": SECRET, "event": event},
    )
    [line] = _lines(out)
    assert line["message"].startswith("event consumed <event ev-77 ")
    assert line["event_id"] == "ev-77"
    assert line["level"] == "INFO" and line["logger"] == "streams.worker"
    assert str(line["time"]).endswith("+00:00")
    assert line["redacted"] == ["event", "text"]
    raw = out.getvalue()
    for fragment in ("Crown", "Bloggs", "JBLOGGS", "+447700900123", "whatsapp"):
        assert fragment not in raw


def test_debug_keeps_extras_but_still_summarises_events(out: io.StringIO, event_factory) -> None:
    configure_logging(Settings(log_level="DEBUG"), stream=out)
    event = event_factory("message.sent", id="ev-1", actor="S1", attrs={"text": SECRET})
    logging.getLogger("x").debug("state", extra={"window": 3, "event": event})
    [line] = _lines(out)
    assert line["window"] == 3
    assert line["event"] == "<event ev-1 athena message.sent>"
    assert SECRET not in out.getvalue()


def test_level_filters_and_reconfiguring_does_not_double_lines(out: io.StringIO) -> None:
    configure_logging(Settings(log_level="WARNING"), stream=out)
    configure_logging(Settings(log_level="WARNING"), stream=out)
    log = logging.getLogger("y")
    log.info("not shown")
    log.warning("shown", extra={"detector": "access.canary"})
    assert [(x["message"], x["detector"]) for x in _lines(out)] == [("shown", "access.canary")]


def test_text_format_for_a_terminal(out: io.StringIO) -> None:
    configure_logging(Settings(log_level="INFO", log_format="text"), stream=out)
    logging.getLogger("z").info("hello", extra={"body": SECRET})
    text = out.getvalue()
    assert "INFO z: hello" in text and SECRET not in text


def test_python_warnings_become_json_records(out: io.StringIO) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        logging.captureWarnings(False)  # an earlier configure_logging in this process took it
        configure_logging(Settings(log_level="INFO"), stream=out)
        try:
            warnings.warn("old API", DeprecationWarning, stacklevel=1)
        finally:
            logging.captureWarnings(False)
    [line] = _lines(out)
    assert line["logger"] == "py.warnings" and line["level"] == "WARNING"
    assert "DeprecationWarning: old API" in str(line["message"])
