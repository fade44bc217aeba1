"""Conversion speed: ``ecs`` lines converted per second against ``orjson.loads`` of the same
file in the same run (the floor any JSON adapter stands on). Issue 15 asks for at least
50,000 lines/s per core.

``python -m adapters.bench [--lines N] [--repeat R]`` prints one JSON object;
:func:`bench_ecs` is what ``probity bench`` (``make bench``) calls. The file mixes the
Security events a workstation writes most (logons, logoffs, object access, process starts)
with ones the table does not map, as real feeds do; times and record numbers vary per line.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from adapters.base import Converted
from adapters.registry import create

#: issue 15: ``probity convert`` of ECS JSON, lines per second per core
TARGET_LINES_PER_CPU_S = 50_000

_USER = {"SubjectUserSid": "S-1-5-21-1004336348-1177238915-682003330-5102",
         "SubjectUserName": "jsmith", "SubjectDomainName": "FORCE"}  # fmt: skip
_TEMPLATES: list[tuple[str, dict[str, Any]]] = [
    ("4624", {"TargetUserName": "jsmith", "TargetDomainName": "FORCE", "LogonType": "2",
              "TargetUserSid": _USER["SubjectUserSid"], "WorkstationName": "WS-HQ-0231",
              "IpAddress": "10.20.30.41", "AuthenticationPackageName": "Negotiate"}),
    ("4634", {"TargetUserName": "jsmith", "TargetDomainName": "FORCE", "LogonType": "2"}),
    ("4663", {**_USER, "ObjectType": "File", "ObjectName": "\\\\FS01\\Intel\\report.docx",
              "AccessList": "%%4416\n\t\t\t\t", "ProcessName": "C:\\Windows\\explorer.exe"}),
    ("4663", {**_USER, "ObjectType": "Key", "ObjectName": "\\REGISTRY\\MACHINE\\SOFTWARE",
              "AccessList": "%%4432\n\t\t\t\t", "ProcessName": "C:\\Windows\\explorer.exe"}),
    ("4688", {**_USER, "NewProcessName": "C:\\Windows\\System32\\notepad.exe",
              "CommandLine": "notepad.exe notes.txt",
              "ParentProcessName": "C:\\Windows\\explorer.exe"}),
    ("4658", {**_USER, "HandleId": "0x1a4", "ProcessName": "C:\\Windows\\explorer.exe"}),
]  # fmt: skip


def ecs_lines(n: int) -> bytes:
    """``n`` ECS documents as Elastic Agent writes them (one per line)."""
    out = io.BytesIO()
    base = 1772442902
    for i in range(n):
        code, data = _TEMPLATES[i % len(_TEMPLATES)]
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + i)) + f".{i % 1000:03d}Z"
        doc = {
            "@timestamp": stamp,
            "agent": {"type": "filebeat", "version": "8.13.0"},
            "ecs": {"version": "8.11.0"},
            "event": {"code": code, "kind": "event", "module": "system",
                      "dataset": "system.security", "outcome": "success",
                      "provider": "Microsoft-Windows-Security-Auditing"},
            "host": {"name": "ws-hq-0231", "os": {"family": "windows", "version": "10.0"}},
            "log": {"level": "information"},
            "user": {"name": "jsmith", "domain": "FORCE"},
            "winlog": {"channel": "Security", "computer_name": "WS-HQ-0231.force.example",
                       "event_id": code, "record_id": str(100000 + i), "api": "wineventlog",
                       "provider_name": "Microsoft-Windows-Security-Auditing",
                       "event_data": data},
        }  # fmt: skip
        out.write(orjson.dumps(doc) + b"\n")
    return out.getvalue()


def bench_ecs(lines: int = 100_000, repeat: int = 5) -> dict[str, Any]:
    """Lines per CPU second (per core) of ``orjson.loads`` and of ``ecs`` conversion (read,
    convert, validate through the contract decoder, serialise) of one file, ``repeat`` rounds
    of each in turn (orjson, convert, orjson, convert...) so that a busy machine shows as
    spread rather than as a different ratio: median, min and max of each rate and of each
    round's ratio. CPU time of this process: other programs on a shared machine do not count
    (wall-clock medians beside them)."""
    import statistics

    data = ecs_lines(lines)
    adapter = create("ecs")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ecs.ndjson"
        path.write_bytes(data)

        def parse_only() -> int:
            with path.open("rb") as fh:
                return sum(1 for line in fh if orjson.loads(line) is not None)

        def convert() -> int:
            events = 0
            sink = io.BytesIO()
            with path.open("rb") as fh:
                for item in adapter.convert(fh, str(path)):
                    if isinstance(item, Converted):
                        sink.write(item.json)
                        sink.write(b"\n")
                        events += 1
            return events

        def timed(fn: Any) -> tuple[float, float, int]:
            c0, w0 = time.process_time(), time.perf_counter()
            result = fn()
            return time.process_time() - c0, time.perf_counter() - w0, result

        json_cpu, json_wall, conv_cpu, conv_wall, events = [], [], [], [], 0
        for _ in range(max(1, repeat)):
            c, w, _n = timed(parse_only)
            json_cpu.append(c)
            json_wall.append(w)
            c, w, events = timed(convert)
            conv_cpu.append(c)
            conv_wall.append(w)

    def rate(seconds: float) -> int:
        return round(lines / max(seconds, 1e-9))

    def spread(cpu: list[float]) -> dict[str, int]:
        rates = sorted(rate(c) for c in cpu)
        return {"median": round(statistics.median(rates)), "min": rates[0], "max": rates[-1]}

    ratios = sorted(j / max(c, 1e-9) for j, c in zip(json_cpu, conv_cpu, strict=True))
    orjson_rates, convert_rates = spread(json_cpu), spread(conv_cpu)
    return {
        "lines": lines,
        "events": events,
        "repeat": len(conv_cpu),
        "orjson_lines_per_cpu_s": orjson_rates["median"],
        "orjson_lines_per_cpu_s_min": orjson_rates["min"],
        "orjson_lines_per_cpu_s_max": orjson_rates["max"],
        "convert_lines_per_cpu_s": convert_rates["median"],
        "convert_lines_per_cpu_s_min": convert_rates["min"],
        "convert_lines_per_cpu_s_max": convert_rates["max"],
        "ratio_to_orjson": round(statistics.median(ratios), 4),
        "ratio_to_orjson_min": round(ratios[0], 4),
        "ratio_to_orjson_max": round(ratios[-1], 4),
        "orjson_lines_per_wall_s": rate(statistics.median(json_wall)),
        "convert_lines_per_wall_s": rate(statistics.median(conv_wall)),
        "target_lines_per_cpu_s": TARGET_LINES_PER_CPU_S,
        "met": convert_rates["median"] >= TARGET_LINES_PER_CPU_S,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(orjson.dumps(bench_ecs(args.lines, args.repeat), option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
