"""The worker's batch loop, in process, no broker: alerts raised by a tick are sent each on
its own, so one the producer refuses (a record over the broker's limit) does not take the
others with it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from detectors.registry import build
from engine.pipeline import Pipeline
from models.alerts import Alert
from models.events import decode_event
from probity.settings import Settings
from streams.worker import Worker
from tests.streams.faults_helpers import make_events


def test_a_tick_alert_that_cannot_be_sent_does_not_take_the_others(tmp_path: Path) -> None:
    alerts = Pipeline(build()).run(decode_event(x) for x in make_events(2_000, seed=7))
    refused, kept = alerts[0], alerts[1]
    # a broker address is needed to build the worker; nothing here connects to it
    worker = Worker(Settings(kafka="kafka://127.0.0.1:9", data_dir=str(tmp_path)))
    worker.pipeline.tick = lambda: [refused, kept]  # type: ignore[method-assign]
    sent: list[Alert] = []

    async def publish(alert: Alert) -> Any:
        if alert is refused:
            raise RuntimeError("MessageSizeTooLargeError")
        sent.append(alert)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    worker._publish_alert = publish  # type: ignore[method-assign]
    asyncio.run(worker._process_batch([], reference=True))
    assert sent == [kept]
    assert len(worker._unacknowledged) == 1
