"""Client side of the HTTP benchmarks: many simulated devices, spread over a few client processes
(a single Python process cannot drive hundreds of devices at full speed on its own), all starting and
stopping at the same wall-clock instants, each process reporting its counts, latencies and CPU.

The pull storm speaks HTTP with aiohttp (installed with the dev group, by tuspy): httpx's connection
pool costs ~10 ms of client CPU per request at 100 concurrent connections here (aiohttp ~0.6 ms), which
would make the client, not the server, the bottleneck of the baseline. Pushes and the load test use the
reference client (httpx, one client per phone, as on a real phone)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Tally:
    """What the client processes measured in one window."""

    seconds: float
    count: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    client_cpu: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    def add(self, part: dict[str, Any]) -> None:
        self.count += part["count"]
        self.errors += part["errors"]
        self.latencies += part["latencies"]
        self.client_cpu += part["cpu"]
        self.error_samples += part["error_samples"][:3]

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def pct(self, q: float) -> float:
        """The q-th percentile latency in ms."""
        return percentile(self.latencies, q) * 1000


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


async def _pull_loop(
    base_url: str, tokens: list[str], params: dict[str, Any], headers: dict[str, str], gate: Any
) -> dict[str, Any]:
    import aiohttp

    out: dict[str, Any] = {"count": 0, "errors": 0, "latencies": [], "error_samples": []}
    connector = aiohttp.TCPConnector(limit=len(tokens))
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout, headers=headers) as http:
        window: list[float] = []
        go = asyncio.Event()

        async def get(auth: dict[str, str]) -> tuple[bool, str]:
            try:
                async with http.get("/v1/sync/pull", params=params, headers=auth) as answer:
                    body = await answer.read()
                    return answer.status == 200, f"{answer.status} {body[:200]!r}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                return False, repr(exc)

        async def one(token: str) -> None:
            auth = {"Authorization": f"Bearer {token}"}
            await get(auth)  # warm-up: opens the connection
            await go.wait()
            start_at, stop_at = window
            await asyncio.sleep(max(0.0, start_at - time.time()))
            while time.time() < stop_at:
                began = time.perf_counter()
                ok, sample = await get(auth)
                if time.time() > stop_at:
                    break  # finished after the window: not counted on either side
                if ok:
                    out["count"] += 1
                    out["latencies"].append(time.perf_counter() - began)
                else:
                    out["errors"] += 1
                    out["error_samples"].append(sample)

        async def start() -> None:
            window.extend(await asyncio.to_thread(gate.wait_for_start))
            go.set()

        devices = [asyncio.create_task(one(t)) for t in tokens]
        await start()
        before = psutil.Process().cpu_times()
        await asyncio.gather(*devices)
        after = psutil.Process().cpu_times()
    out["cpu"] = (after.user + after.system) - (before.user + before.system)
    return out


class Gate:
    """Starts every client process's window at once, after all of them are up and warmed up."""

    def __init__(self, manager: Any, processes: int, seconds: float) -> None:
        self.ready = manager.Queue()
        self.start = manager.Queue()
        self.processes, self.seconds = processes, seconds

    def wait_for_start(self) -> tuple[float, float]:
        """In a client: say ready, then wait for the window (start, stop) in wall-clock time."""
        self.ready.put(1)
        window: tuple[float, float] = self.start.get()
        return window

    def open(self) -> tuple[float, float]:
        """In the parent: wait until every client is ready, then give them all the same window."""
        for _ in range(self.processes):
            self.ready.get(timeout=300)
        start_at = time.time() + 0.5
        window = (start_at, start_at + self.seconds)
        for _ in range(self.processes):
            self.start.put(window)
        return window


def _pull_process(
    base_url: str, tokens: list[str], params: dict[str, Any], headers: dict[str, str], gate: Gate
) -> dict[str, Any]:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        pass
    return asyncio.run(_pull_loop(base_url, tokens, params, headers, gate))


def split(items: list[Any], parts: int) -> list[list[Any]]:
    """``items`` dealt into ``parts`` lists."""
    return [items[i::parts] for i in range(parts) if items[i::parts]]


def pull_storm(
    base_url: str,
    tokens: list[str],
    *,
    seconds: float,
    processes: int,
    params: dict[str, Any],
    headers: dict[str, str],
    server_pids: list[int],
) -> tuple[Tally, float]:
    """Every device pulls in a loop for ``seconds``; (the tally, server CPU seconds used meanwhile, and
    PostgreSQL's: see ``database_cpu``)."""
    tally = Tally(seconds=seconds)
    context = multiprocessing.get_context("spawn")
    parts = split(tokens, processes)
    with context.Manager() as manager, ProcessPoolExecutor(max_workers=len(parts), mp_context=context) as pool:
        gate = Gate(manager, len(parts), seconds)
        futures = [pool.submit(_pull_process, base_url, part, params, headers, gate) for part in parts]
        start_at, stop_at = gate.open()
        time.sleep(max(0.0, start_at - time.time()))
        cpu_before, db_before = server_cpu(server_pids), database_cpu()
        time.sleep(max(0.0, stop_at - time.time()))
        cpu_after, db_after = server_cpu(server_pids), database_cpu()
        for future in futures:
            tally.add(future.result())
    return tally, cpu_after - cpu_before, db_after - db_before


def database_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL processes of this host (its backends: the server's
    pooled connections live through a run, so their time is counted; a backend that exits in between
    takes its time with it)."""
    total = 0.0
    for process in psutil.process_iter(["name"]):
        if process.info["name"] in ("postgres", "postmaster"):
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
    return total


def server_cpu(pids: list[int]) -> float:
    """CPU seconds used so far by these processes and their children."""
    total = 0.0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            for p in [process, *process.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def server_rss(pids: list[int]) -> int:
    """Resident memory of these processes and their children, in bytes."""
    total = 0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            total += sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
        except psutil.NoSuchProcess:
            continue
    return total


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait for ``url``/health to answer."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early ({process.returncode})")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code in (200, 503):
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server at {url} not ready after {timeout}s")
        time.sleep(0.1)


@contextmanager
def uvicorn_app(
    app: str, port: int, workers: int, env: dict[str, str], log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Serve an ASGI app with uvicorn, with the options ``fieldvisit serve`` uses; yields its URL and process."""
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "info", "--proxy-headers"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load() -> str:
    """The machine's load averages and core count, for the report."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


_NEEDS_WORK = """
SELECT relname,
       n_dead_tup > 50 + 0.2 * n_live_tup AS vacuum,
       n_mod_since_analyze > 50 + 0.1 * n_live_tup AS analyze
FROM pg_stat_user_tables
WHERE n_dead_tup > 50 + 0.2 * n_live_tup OR n_mod_since_analyze > 50 + 0.1 * n_live_tup
"""


@contextmanager
def autovacuum_stand_in(database_url: str, naptime_s: float = 60.0) -> Iterator[list[str]]:
    """If the server runs with ``autovacuum = off`` (this machine's PostgreSQL does), do its job for the
    benchmark's database meanwhile: every ``naptime_s`` (autovacuum's default naptime), VACUUM and/or
    ANALYZE the tables past autovacuum's default thresholds (50 rows + 20% dead, 50 rows + 10% changed).

    Any real deployment runs autovacuum; without it, statistics stay those of the seeded template
    (the outcome and promise tables empty) and every pooled connection keeps the plans it cached for
    empty tables (sequential scans) however big they grow, and dead rows are never removed. Yields the
    list of what it did (empty when autovacuum is on)."""
    import asyncpg

    done: list[str] = []

    async def autovacuum_is_on() -> bool:
        connection = await asyncpg.connect(database_url)
        try:
            return bool(await connection.fetchval("SHOW autovacuum") == "on")
        finally:
            await connection.close()

    if asyncio.run(autovacuum_is_on()):
        yield done
        return
    stop = asyncio.Event()

    async def run() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            while True:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=naptime_s)
                    return
                except TimeoutError:
                    pass
                for row in await connection.fetch(_NEEDS_WORK):
                    verb = (
                        "VACUUM (ANALYZE)"
                        if row["vacuum"] and row["analyze"]
                        else "VACUUM"
                        if row["vacuum"]
                        else "ANALYZE"
                    )
                    await connection.execute(f'{verb} "{row["relname"]}"')
                    done.append(f"{verb} {row['relname']}")
        finally:
            await connection.close()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    try:
        yield done
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=120)
