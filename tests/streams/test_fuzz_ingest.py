"""Bad input through ingest, on the real broker: every line of a fuzzed JSONL file ends up
either on its topic, byte for byte, or in the dead letters once, with a reason, its bytes
and its file and line; a line too large for a broker is dead-lettered, not lost."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import psutil
import pytest

from models.deadletters import MAX_ORIGINAL, load_dead_letter
from models.events import decode_event
from models.exceptions import DecodeError
from streams.ingest import OVERSIZE, ingest_paths
from streams.replay import read_topic
from tests.streams.fuzz_helpers import PAYLOADS, VIEW, dumps, generate

pytestmark = pytest.mark.broker

LIMIT = 100_000  # max_record_bytes for the test: some huge strings are over it


def test_fuzzed_lines_are_published_as_sent_or_dead_lettered_with_their_line(
    stream_settings, tmp_path: Path
) -> None:
    s = stream_settings.model_copy(update={"max_record_bytes": LIMIT})
    oversized_valid = dumps({**VIEW, "id": "big", "attrs": {"note": "x" * (LIMIT + 1)}})
    decode_event(oversized_valid)  # valid by the contract, too large for the topic
    content = b"\n".join([*generate(PAYLOADS, 150), oversized_valid, dumps(VIEW)]) + b"\n"
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(content)

    # the oracle: what each line should become, read as ingest reads a file
    good: Counter[bytes] = Counter()
    bad: dict[int, bytes] = {}
    for lineno, line in enumerate(content.split(b"\n")[:-1], start=1):
        raw = line.rstrip(b"\r\n")
        if not raw.strip():
            continue
        try:
            if len(raw) > LIMIT:
                raise DecodeError("too large")
            decode_event(raw)
        except DecodeError:
            bad[lineno] = raw
            continue
        good[raw] += 1
    assert len(bad) >= 60 and good, "the strategies should make mostly bad lines, some good"

    rss_before = psutil.Process().memory_info().rss
    summary = ingest_paths(s, s.bootstrap_servers, [str(path)])
    grown = (psutil.Process().memory_info().rss - rss_before) / 2**20
    assert not summary.failed, summary.lines()
    assert summary.read == len(bad) + sum(good.values())
    assert summary.invalid_total == len(bad)
    assert summary.published_total == sum(good.values())
    assert summary.invalid[OVERSIZE] >= 1
    assert grown < 200, f"ingest grew {grown:.0f} MB"

    published = Counter(read_topic(s, s.topics.activity) + read_topic(s, s.topics.reference))
    assert published == good
    dead = [load_dead_letter(v) for v in read_topic(s, s.topics.dead_letters)]
    by_line = Counter(d.origin.line for d in dead)
    assert set(by_line) == set(bad) and max(by_line.values()) == 1
    for d in dead:
        assert d.origin.line is not None
        raw = bad[d.origin.line]
        assert d.origin.file == str(path)
        assert d.reason.strip()
        assert d.original_bytes == raw[:MAX_ORIGINAL]
        assert (d.original_size or len(raw)) == len(raw)
    big_line = next(n for n, raw in bad.items() if raw == oversized_valid)
    assert next(d for d in dead if d.origin.line == big_line).reason.startswith(OVERSIZE)
