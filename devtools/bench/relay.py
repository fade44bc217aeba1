"""The delay's baseline: the same clients and broker as the worker, no judging.

A bare aiokafka consumer (the worker's fetch wait) forwards each canary view as its alert with
an aiokafka producer (acks=all), in its own process as the worker is. Run by
:mod:`devtools.bench.delay` as ``python -m devtools.bench.relay BOOTSTRAP ACTIVITY ALERTS
WAIT_MS``; prints ``ready`` once it reads from the end of the activity topic, then runs until
killed.
"""

from __future__ import annotations

import asyncio
import sys

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


async def relay(bootstrap: str, activity: str, alerts: str, wait_ms: int) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                fetch_max_wait_ms=wait_ms)  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    parts = sorted(consumer.partitions_for_topic(activity) or ())
    tps = [TopicPartition(activity, p) for p in parts]
    consumer.assign(tps)
    await consumer.seek_to_end(*tps)
    for tp in tps:
        await consumer.position(tp)
    print("ready", flush=True)  # the parent waits for it
    while True:
        got = await consumer.getmany(timeout_ms=wait_ms, max_records=5000)
        for records in got.values():
            for r in records:
                event = orjson.loads(r.value)
                if event["record"]["id"] == "P-CANARY":
                    alert = {"detector": "access.canary", "time": event["time"]}
                    await producer.send(alerts, orjson.dumps(alert), key=r.key)


def main(argv: list[str]) -> None:
    bootstrap, activity, alerts, wait_ms = argv[0], argv[1], argv[2], int(argv[3])
    asyncio.run(relay(bootstrap, activity, alerts, wait_ms))


if __name__ == "__main__":
    main(sys.argv[1:])
