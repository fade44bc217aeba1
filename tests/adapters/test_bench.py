"""The conversion benchmark runs and counts what it converted (its speed is for `make
bench` to report, not for a test to assert on a shared machine)."""

from __future__ import annotations

import io

from adapters import Converted, create
from adapters.bench import bench_ecs, ecs_lines


def test_bench_reports_both_rates_on_the_same_file():
    result = bench_ecs(lines=120, repeat=1)
    assert result["lines"] == 120 and result["events"] == 100  # 1 in 6 is unmapped (4658)
    assert result["orjson_lines_per_cpu_s"] > 0 and result["convert_lines_per_cpu_s"] > 0
    assert result["ratio_to_orjson"] > 0


def test_bench_rounds_give_median_min_and_max_of_each_rate_and_of_the_ratio():
    result = bench_ecs(lines=60, repeat=3)
    assert result["repeat"] == 3 and result["target_lines_per_cpu_s"] == 50_000
    for name in ("orjson_lines_per_cpu_s", "convert_lines_per_cpu_s", "ratio_to_orjson"):
        assert 0 < result[f"{name}_min"] <= result[name] <= result[f"{name}_max"], name
    assert result["met"] == (result["convert_lines_per_cpu_s"] >= 50_000)


def test_bench_input_is_real_ecs_the_adapter_maps():
    out = list(create("ecs").convert(io.BufferedReader(io.BytesIO(ecs_lines(6))), "bench"))
    kinds = [o.event.kind for o in out if isinstance(o, Converted)]
    assert kinds == ["auth.login", "auth.logout", "file.accessed", "object.accessed",
                     "process.started"]  # fmt: skip
