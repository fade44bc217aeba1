"""The worker applies each detector's volume at start-up and refuses one it does not know."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from detectors.exceptions import ConfigError
from probity.settings import Settings
from streams.worker import Worker


def test_the_worker_builds_its_detectors_with_the_volume(tmp_path: Path) -> None:
    s = Settings(data_dir=str(tmp_path), kafka="kafka://127.0.0.1:9",  # never dialled here
                 detector_volume={"field_repeat_stop": "fewer"})  # fmt: skip
    worker = Worker(s)
    det = next(d for d in worker.pipeline.detectors if d.id == "field.repeat_stop")
    assert det.params.min_stops == 4


def test_the_worker_refuses_an_unknown_volume_naming_the_detector(tmp_path: Path) -> None:
    s = Settings(data_dir=str(tmp_path), detector_volume={"field_repeat_stop": "quieter"})
    with pytest.raises(ConfigError, match=r"field\.repeat_stop: unknown volume 'quieter'"):
        Worker(s)


def test_probity_worker_stops_at_start_up_on_an_unknown_volume(tmp_path: Path) -> None:
    """Before any broker is started: the message names the detector and the volumes."""
    env = {**os.environ, "PROBITY_DATA_DIR": str(tmp_path),
           "PROBITY_DETECTOR_VOLUME__FIELD_REPEAT_STOP": "less"}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "probity", "worker"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode != 0
    assert "field.repeat_stop: unknown volume 'less': one of fewer, default, more" in done.stderr
    assert not list(tmp_path.iterdir())  # no broker was started
