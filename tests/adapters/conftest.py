"""Fixtures for the adapters' tests: golden cases found on disk, and a runner."""

from __future__ import annotations

import io
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from adapters import AdapterConfig, Converted, create

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
ROOT = HERE.parent.parent
SAMPLES = ROOT.parent / "shared" / "samples"
#: golden files of outputs, not inputs
OUTPUT_SUFFIXES = (".expected.jsonl", ".rejects.jsonl", ".options.toml", ".md", ".toml")


def is_input(path: Path) -> bool:
    """An input file of a golden case (not an output, option, README or licence file)."""
    return path.is_file() and not (
        path.name.endswith(OUTPUT_SUFFIXES) or path.name.startswith((".", "LICENSE"))
    )


@dataclass(frozen=True)
class GoldenCase:
    """One input file of a format, the options it is converted with, and its golden files
    (``<case>.expected.jsonl``: the exact events; ``<case>.rejects.jsonl``: line and reason
    of every record that did not convert)."""

    format: str
    name: str
    folder: Path
    options: dict[str, Any]
    input_path: Path | None = None  # a file beside the golden files
    zip_path: Path | None = None  # a shared sample: the one file inside this zip

    @property
    def expected(self) -> Path:
        return self.folder / f"{self.name}.expected.jsonl"

    @property
    def rejects(self) -> Path:
        return self.folder / f"{self.name}.rejects.jsonl"

    def read_input(self) -> bytes:
        if self.zip_path is not None:
            with zipfile.ZipFile(self.zip_path) as zf:
                (member,) = zf.namelist()
                return zf.read(member)
        assert self.input_path is not None
        return self.input_path.read_bytes()

    def convert(self) -> tuple[list[Converted], list[dict[str, Any]]]:
        opts = self.options
        mapping = ROOT / opts["mapping"] if "mapping" in opts else None
        config = AdapterConfig(
            source=opts.get("source"), tz=ZoneInfo(opts.get("tz", "UTC")), mapping=mapping
        )
        adapter = create(self.format, config)
        events: list[Converted] = []
        rejects: list[dict[str, Any]] = []
        for item in adapter.convert(io.BufferedReader(io.BytesIO(self.read_input())), self.name):
            if isinstance(item, Converted):
                events.append(item)
            else:
                rejects.append({"line": item.line, "reason": item.reason})
        return events, rejects


def golden_cases() -> list[GoldenCase]:
    cases = []
    for folder in sorted(p for p in DATA.iterdir() if p.is_dir()):
        for path in sorted(folder.iterdir()):
            if not is_input(path):
                continue
            options_file = path.with_name(f"{path.stem}.options.toml")
            options = tomllib.loads(options_file.read_text()) if options_file.exists() else {}
            cases.append(GoldenCase(folder.name, path.stem, folder, options, input_path=path))
        samples = folder / "samples.toml"
        if samples.exists():
            for sample in tomllib.loads(samples.read_text())["sample"]:
                zip_path = SAMPLES / folder.name / sample["zip"]
                name = sample["zip"].removesuffix(".zip")
                cases.append(GoldenCase(folder.name, name, folder, sample, zip_path=zip_path))
    return cases


def jsonl(path: Path) -> list[Any]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
