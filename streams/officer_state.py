"""Officer state of the partitions a worker owns, kept in our own compacted changelog topic.

Why not a faust table: faust-streaming 0.15 pauses the stream for a table recovery at every
rebalance and can drop records fetched while it ends one (its issues #596 and #606); with no
table faust has nothing to recover. The changelog is keyed by officer and written on the
officer's own activity partition number, so the state of activity partition ``p`` is exactly
changelog partition ``p``: a worker reads it (to its end) when it is assigned ``p``, before it
judges any event of ``p``, and forgets it when ``p`` is revoked.

State is kept as encoded bytes (its changelog form); the most recently active officers are
also kept decoded: those touched since the last checkpoint, the most recently active half of
``cache_size`` of them after it, so that a busy officer is not decoded every batch while an
idle one costs only its bytes; a worker checkpoints early when ``cache_size`` are decoded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import (
    Awaitable,
    Callable,
    Container,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
)
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from engine.codec import pack_state, unpack_state

log = logging.getLogger(__name__)

#: sends one record: (topic, key, value, partition) -> the broker's acknowledgement
Send = Callable[[str, bytes, bytes, int], Awaitable[Awaitable[Any]]]


class OfficerStore(MutableMapping[str, dict[str, Any]]):
    """The pipeline's ``officers`` mapping for one worker, backed by the changelog topic.

    ``assign`` starts loading newly owned partitions; ``ready`` waits for them (the worker
    calls it before judging a batch); ``revoke`` forgets state that may move to another
    worker; at each checkpoint ``pack`` encodes the touched officers' state and ``send``
    writes it.
    """

    def __init__(self, topic: str, bootstrap: str, *, cache_size: int = 4096,
                 client_id: str = "probity-officer-state",
                 connection: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        self.topic = topic
        self.bootstrap = bootstrap
        #: the clients' connection options (probity.transport.kafka_client_config); unset =
        #: plaintext to ``bootstrap``
        self.connection = dict(connection or {"bootstrap_servers": bootstrap})
        self.client_id = client_id
        self.cache_size = cache_size
        self.data: dict[str, bytes] = {}  # encoded state of every officer of owned partitions
        self.home: dict[str, int] = {}  # officer -> the changelog partition holding it
        self.cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._loads: dict[int, asyncio.Task[None]] = {}  # partition -> its load (done = ready)
        self._generation: dict[int, int] = {}  # bumped at each revoke: stale loads are dropped
        self.loaded_records = 0

    # -- partitions ----------------------------------------------------------------------

    def assign(self, partitions: Iterable[int]) -> None:
        """Start reading the changelog of partitions not yet loaded (or loading)."""
        todo = sorted(p for p in partitions if p not in self._loads)
        if todo:
            task = asyncio.ensure_future(self._load(todo))
            for p in todo:
                self._loads[p] = task

    async def ready(self, partitions: Iterable[int]) -> None:
        """Wait until the state of ``partitions`` is loaded (loading them if nobody asked)."""
        parts = set(partitions)
        self.assign(parts)
        for p in parts:
            task = self._loads[p]
            if not task.done():
                await asyncio.shield(task)
            elif task.exception() is not None:  # retry a failed load
                del self._loads[p]
                self.assign([p])
                await asyncio.shield(self._loads[p])

    def revoke(self, partitions: Iterable[int]) -> None:
        """Forget the state of partitions that may move to another worker."""
        gone = set(partitions)
        if not gone:
            return
        for p in gone:
            self._loads.pop(p, None)
            self._generation[p] = self._generation.get(p, 0) + 1
        for officer in [o for o, p in self.home.items() if p in gone]:
            self.home.pop(officer, None)
            self.data.pop(officer, None)
            self.cache.pop(officer, None)

    def loaded(self) -> set[int]:
        return {p for p, t in self._loads.items() if t.done() and t.exception() is None}

    async def _load(self, partitions: list[int]) -> None:
        """Read changelog ``partitions`` from their beginning to their end (the high watermark
        of a fetch: Tansu's ListOffsets is not the log end), latest value per officer."""
        generation = {p: self._generation.get(p, 0) for p in partitions}
        started = time.monotonic()
        # a fresh client per load: no high watermark left over from an earlier assignment
        reader = AIOKafkaConsumer(
            **self.connection, enable_auto_commit=False,
            auto_offset_reset="earliest", client_id=f"{self.client_id}-loader",
            fetch_max_wait_ms=50, max_partition_fetch_bytes=8 * 2**20,
        )  # fmt: skip
        await reader.start()
        latest: dict[str, tuple[int, bytes | None]] = {}
        n = 0
        try:
            while not reader.partitions_for_topic(self.topic):
                await reader._client.force_metadata_update()
                if not reader.partitions_for_topic(self.topic):
                    await asyncio.sleep(0.2)
            tps = [TopicPartition(self.topic, p) for p in partitions]
            reader.assign(tps)
            await reader.seek_to_beginning(*tps)
            pending = set(tps)
            while pending:
                got = await reader.getmany(*pending, timeout_ms=200, max_records=20_000)
                for tp, records in got.items():
                    for rec in records:
                        if rec.key is not None:
                            latest[rec.key.decode()] = (tp.partition, rec.value)
                            n += 1
                for tp in list(pending):
                    high = reader.highwater(tp)
                    if high is not None and await reader.position(tp) >= high:
                        pending.discard(tp)
        finally:
            await reader.stop()
        for officer, (p, raw) in latest.items():
            if self._generation.get(p, 0) != generation[p]:
                continue  # revoked while loading
            if raw is None:  # a tombstone: the officer's state was deleted
                self.data.pop(officer, None)
                self.home.pop(officer, None)
            else:
                self.data[officer] = raw
                self.home[officer] = p
            self.cache.pop(officer, None)
        self.loaded_records += n
        log.info(
            "officer state loaded",
            extra={"partitions": partitions, "records": n, "officers": len(latest),
                   "seconds": round(time.monotonic() - started, 3)},
        )  # fmt: skip

    # -- writing -------------------------------------------------------------------------

    def pack(self, touched: Mapping[str, int]) -> list[tuple[str, int, bytes]]:
        """At a checkpoint: encode the state of each officer touched since the last one
        (officer -> its partition) into the bytes kept and changelogged, then :meth:`trim`
        to them. Returns (officer, partition, bytes) to send."""
        out = []
        for officer, partition in touched.items():
            state = self.cache.get(officer)
            if state is None:
                continue  # nothing decoded, nothing changed
            raw = pack_state(state)  # no spare buffer room kept resident
            self.data[officer] = raw
            self.home[officer] = partition
            out.append((officer, partition, raw))
        self.trim(touched)
        return out

    async def send(self, packed: Iterable[tuple[str, int, bytes]], send: Send
                   ) -> list[Awaitable[Any]]:  # fmt: skip
        """Send states :meth:`pack` gave to the changelog, each on its officer's own
        partition; returns the broker's acknowledgements to await before offsets are
        committed."""
        return [await send(self.topic, officer.encode(), raw, partition)
                for officer, partition, raw in packed]  # fmt: skip

    def trim(self, active: Container[str] | None = None) -> None:
        """Forget decoded states (their bytes are kept): with ``active``, of every officer not
        in it (idle since the last checkpoint: decoded again, from bytes, if they come back);
        then of the least recently active beyond half of ``cache_size``, so that officers
        decoded after it have room before :meth:`full` asks for the next checkpoint. Call
        only when every decoded state is packed."""
        if active is not None:
            for officer in [o for o in self.cache if o not in active]:
                del self.cache[officer]
        keep = self.cache_size // 2
        while len(self.cache) > keep:
            self.cache.popitem(last=False)

    def full(self) -> bool:
        """``cache_size`` officers decoded: checkpoint before judging more (memory bound)."""
        return len(self.cache) >= self.cache_size

    # -- the mapping the pipeline sees ---------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        state = self.cache.get(key)
        if state is None:
            raw = self.data.get(key)
            if raw is None:
                return default
            state = self.cache[key] = unpack_state(raw)
        else:
            self.cache.move_to_end(key)
        return state

    def __getitem__(self, key: str) -> dict[str, Any]:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    def __setitem__(self, key: str, value: dict[str, Any]) -> None:
        self.cache[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self.cache or key in self.data

    def __delitem__(self, key: str) -> None:
        self.cache.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(set(self.cache) | set(self.data))

    def __len__(self) -> int:
        return len(set(self.cache) | set(self.data))
