"""Real processes to hurt: ``fieldvisit serve`` and ``fieldvisit worker`` on the test database, a
private ``redis-server``, and ways to find the moment to strike (PostgreSQL's own view of who is busy).

The processes share the test session's PostgreSQL database, so a test builds its data with the
in-process builders and checks the outcome with the in-process tables. Each process names itself
in ``pg_stat_activity`` (``application_name``), so a test can terminate exactly its backends.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from tests.server import FIELDVISIT, ROOT, free_port

API_APP = "fv-faults-api"
WORKER_APP = "fv-faults-worker"


def database_url() -> str:
    """The test session's database (the processes and the test share it)."""
    return os.environ["FIELDVISIT_DATABASE_URL"]


def process_env(data_dir: Path, redis_url: str, application_name: str, **extra: str) -> dict[str, str]:
    """The environment of a served API or a worker: PostgreSQL named by ``application_name``, Redis, data."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDVISIT_")}
    separator = "&" if "?" in database_url() else "?"
    env |= {
        "FIELDVISIT_DATABASE_URL": f"{database_url()}{separator}application_name={application_name}",
        "FIELDVISIT_REDIS_URL": redis_url,
        "FIELDVISIT_DATA_DIR": str(data_dir),
        "FIELDVISIT_JOB_SWEEP_INTERVAL": "1",
        "FIELDVISIT_JOB_RETRY_BASE": "0.2",
        "FIELDVISIT_DB_POOL_MIN": "1",
        "FIELDVISIT_DB_POOL_MAX": "8",
    }
    env.update(extra)
    return env


async def wait_for(
    check: Callable[[], Awaitable[object]], what: str, timeout: float = 90.0, every: float = 0.05
) -> object:
    """Poll ``check`` until it returns something truthy (generous timeout: the machine is shared)."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(every)


@dataclass
class Process:
    """A ``fieldvisit`` child process that can be killed (SIGKILL) and started again with the same setup."""

    args: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n==== start {self.starts} ====\n".encode())
            out.flush()
            self.process = subprocess.Popen([*FIELDVISIT, *self.args], cwd=ROOT, env=self.env, stdout=out, stderr=out)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, no goodbye."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Server(Process):
    """``fieldvisit serve`` on a port of its own that stays the same across restarts."""

    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.args = ["serve", "--port", str(self.port)]
        super().start()

    async def ready(self, timeout: float = 90.0) -> None:
        """Wait until /health answers."""

        async def answers() -> bool:
            if not self.alive():
                raise AssertionError(f"server exited:\n{self.output()[-4000:]}")
            try:
                async with httpx.AsyncClient(timeout=2) as http:
                    return (await http.get(f"{self.url}/health")).status_code in (200, 503)
            except httpx.TransportError:
                return False

        await wait_for(answers, "the server to answer /health", timeout=timeout, every=0.1)

    async def restart(self) -> None:
        self.start()
        await self.ready()


@contextmanager
def running_server(data_dir: Path, redis_url: str, **extra: str) -> Iterator[Server]:
    """A served API (started by the caller's ``await server.restart()``), stopped at the end."""
    server = Server(args=[], env=process_env(data_dir, redis_url, API_APP, **extra), log=data_dir / "serve.log")
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def worker_process(data_dir: Path, redis_url: str, **extra: str) -> Iterator[Process]:
    """``fieldvisit worker`` (not started yet), stopped at the end."""
    worker = Process(
        args=["worker"], env=process_env(data_dir, redis_url, WORKER_APP, **extra), log=data_dir / "worker.log"
    )
    try:
        yield worker
    finally:
        worker.stop()


async def pg(query: str, *args: object) -> list[asyncpg.Record]:
    """Run one query on a connection of its own (outside every pool the faults may hurt)."""
    conn = await asyncpg.connect(database_url())
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def backends_in_transaction(application_name: str) -> list[int]:
    """Pids of the backends of a process that are inside a multi-statement transaction right now
    (between statements, or running one that is not the transaction's first)."""
    rows = await pg(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database() "
        "AND (state = 'idle in transaction' OR (state = 'active' AND xact_start < query_start))",
        application_name,
    )
    return [int(r["pid"]) for r in rows]


async def terminate_backends(application_name: str) -> int:
    """``pg_terminate_backend`` every connection of a process; returns how many went."""
    rows = await pg(
        "SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity "
        "WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()",
        application_name,
    )
    return sum(1 for r in rows if r["gone"])


@dataclass
class PrivateRedis:
    """A ``redis-server`` of this test alone (never the shared one), without persistence."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen([binary, *args, "--dir", str(self.folder)], stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout != b"PONG\n":
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError("private redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop it hard: whatever it held is gone (no persistence)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """Start a private Redis; the caller may stop and start it again."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        import pytest

        pytest.skip("redis-server is not on PATH: the Redis restart scenario needs a private one")
    folder = Path(tempfile.mkdtemp(prefix="fv-redis-"))
    redis = PrivateRedis(folder)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
