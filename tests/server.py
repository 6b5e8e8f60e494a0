"""Real processes for tests: the ``fieldvisit`` CLI and a served API on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
FIELDVISIT = [sys.executable, "-m", "api.cli"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(*args: str, env: dict[str, str], check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``fieldvisit ARGS`` in a child process with exactly ``env`` on top of the basics."""
    result = subprocess.run(
        [*FIELDVISIT, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"fieldvisit {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def embedded_env(data_dir: Path) -> dict[str, str]:
    """An environment for the embedded default: no database URL, no Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDVISIT_")}
    env["FIELDVISIT_DATA_DIR"] = str(data_dir)
    return env


@dataclass
class Served:
    """A running ``fieldvisit serve``."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def serve(env: dict[str, str], *extra: str, ready_timeout: float = 60) -> Iterator[Served]:
    """Start ``fieldvisit serve`` on a free port; wait for /health; stop it afterwards."""
    port = free_port()
    log = Path(env.get("FIELDVISIT_DATA_DIR") or tempfile.mkdtemp()) / f"serve-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*FIELDVISIT, "serve", "--port", str(port), *extra], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited early:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code in (200, 503):
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server not ready after {ready_timeout}s:\n{log.read_text()}")
            time.sleep(0.1)
        yield Served(url=url, process=process, log=log)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
