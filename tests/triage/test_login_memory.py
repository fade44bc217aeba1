"""The review's step: 64 parallel logins took the server to 979 MB, over its 512 Mi limit.
Here the real service (``probity triage serve``, a process of its own) takes 64 logins at
once while its resident memory is sampled; the peak must stay under the deployments' limit.
Each argon2id verification needs 64 MiB; the hashing cap (``max_concurrent_hashes``) is what
keeps the sum bounded."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from streams.broker import free_port
from tests.deploy.conftest import DEPLOY
from tests.triage.helpers import CSRF, PASSWORD

pytestmark = pytest.mark.slow

PARALLEL = 64


def _limit_bytes() -> int:
    """The triage service's memory limit in the compose file (the Kubernetes one agrees)."""
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    limit = str(compose["services"]["triage"]["deploy"]["resources"]["limits"]["memory"])
    number, unit = re.fullmatch(r"(\d+)([kmg])", limit.lower()).groups()  # type: ignore[union-attr]
    return int(number) * 1024 ** {"k": 1, "m": 2, "g": 3}[unit]


def _login(base: str, start: threading.Barrier, out: list[int]) -> None:
    with httpx.Client(base_url=base, follow_redirects=False, timeout=120) as client:
        token = CSRF.search(client.get("/login").text)
        assert token is not None
        start.wait()
        resp = client.post("/login", data={"username": "ana", "password": PASSWORD,
                                           "csrf_token": token.group(1)})  # fmt: skip
        out.append(resp.status_code)


def test_64_parallel_logins_stay_under_the_memory_limit(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROBITY_")}
    env.update(PROBITY_STORE_URL=f"sqlite:///{tmp_path}/queue.db",
               PROBITY_SECRET_KEY="k" * 64, PROBITY_TRIAGE__COOKIE_SECURE="false",
               PROBITY_DATA_DIR=str(tmp_path))  # fmt: skip
    probity = [sys.executable, "-m", "probity", "triage"]
    made = subprocess.run([*probity, "user", "create", "--username", "ana", "--staff-id",
                           "S-ANA", "--role", "analyst", "--password-stdin"], env=env,
                          input=PASSWORD + "\n", capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    port = free_port()
    server = subprocess.Popen([*probity, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        proc = psutil.Process(server.pid)
        idle = proc.memory_info().rss
        peak, done = idle, threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, proc.memory_info().rss)
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start, statuses = threading.Barrier(PARALLEL), []
        clients = [threading.Thread(target=_login, args=(base, start, statuses))
                   for _ in range(PARALLEL)]  # fmt: skip
        for c in clients:
            c.start()
        for c in clients:
            c.join(timeout=300)
        done.set()
        sampler.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    # every login went through, or was told to come back (503 + Retry-After: no hash slot)
    assert len(statuses) == PARALLEL and set(statuses) <= {303, 503}, statuses
    assert statuses.count(303) >= PARALLEL // 2
    mib = 1024 * 1024
    print(f"triage RSS idle {idle / mib:.0f} MiB, peak {peak / mib:.0f} MiB under {PARALLEL} "
          f"parallel logins ({statuses.count(303)} ok); limit {_limit_bytes() / mib:.0f} MiB")
    assert peak < _limit_bytes()
