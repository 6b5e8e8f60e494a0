"""Load test: hundreds of reference device clients against a running server on PostgreSQL and Redis.

    uv run python -m bench.load [--clients 500] [--seconds 120] [--think 120] [--workers 2]
                                [--client-procs 2] [--batch 100] [--database-url postgresql://.../bench_sync]
                                [--redis-url redis://127.0.0.1:6379/8]

The server is ``fieldvisit serve --workers 2`` plus ``fieldvisit worker`` (arq on Redis), as real
processes on a fresh copy of the seeded field (``bench/sync_field.py``: 500 collectors with one enrolled
phone and 40 assigned visits each). The phones are reference clients (``sync/client``, httpx, one HTTP
client per phone) in --client-procs separate processes. Each phone first downloads its day (not timed),
then, until the end, repeats a cycle with a think time of --think s (+-50%) between cycles:

- **pull**: ``DeviceClient.pull()`` (what changed since its cursor: its own outcomes, follow-up visits);
- **push**: --batch mutations in one push (per visit a check-in, a note, an outcome the first time
  round, a check-out; one of the notes is an ``evidence.declare`` of the photo);
- **upload**: the photo (a generated ~40 kB JPEG, unique bytes each time) through tus, after which the
  worker verifies it, extracts EXIF and makes a thumbnail.

Think time. The load offered is clients x batch / think mutations/s. The default, 500 x 100 / 120 s (about
420 mutations/s, each phone pushing a 100-mutation batch, some 25 visits' work, every two minutes), is the
end-of-day burst: the whole force coming back online within two minutes with its day's work. That is far
above a working day's average (a collector does about 40 visits a day: a few mutations/s for 500 of them).
A shorter think time offers more than the server can apply on 2 cores shared with the phones and the
database (--think 20 offers ~2,500 mutations/s, beyond ``bench.sync_push``'s ceiling): queues then grow
for the whole run, and the latencies measure the queue. Run it to see where the knee is.

PostgreSQL with ``autovacuum = off`` (as on the machine these figures come from): the bench stands in for
it (``loadgen.autovacuum_stand_in``), as any real deployment has it; the report lists what it did.

Reported: operations/s, latency p50/p95/p99/max per operation, errors (a failed operation, any 5xx or
429 the client retried, a transport error, or a rejected mutation), the RSS of the server processes and
the worker (start, peak, end), the jobs the worker had done / left, and each client process's CPU use and
event-loop lag, to show whether the clients themselves were the bottleneck (on 2 shared cores they
compete with the server). Targets: 0 errors, p99 pull < 250 ms, p99 push < 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import loadgen, sync_field
from tests.server import serve

ROOT = Path(__file__).resolve().parent.parent
OPS = ("pull", "push", "upload")


class CountingTransport(httpx.AsyncHTTPTransport):
    """Counts what the reference client's retries would otherwise hide: 5xx, 429, transport errors."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__()
        self.counts = counts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError:
            self.counts["transport"] += 1
            raise
        if response.status_code >= 500 or response.status_code == 429:
            self.counts[f"http {response.status_code}"] = self.counts.get(f"http {response.status_code}", 0) + 1
        return response


def _photo(rng: random.Random) -> bytes:
    from api.demo.media import photo

    return photo(rng, datetime.now(UTC), 31.23, 121.47, size=(480, 360))


def _work(
    phone: Any, visits: list[dict[str, Any]], done: set[str], photo: tuple[str, str, int, str], batch: int
) -> int:
    """Queue one cycle's mutations (``batch`` of them); returns how many."""
    queued = 0
    evidence_id, sha256, size, visit_id = photo
    phone.enqueue(
        "evidence.declare",
        visit_id,
        {
            "id": evidence_id,
            "visit_id": visit_id,
            "kind": "photo",
            "sha256": sha256,
            "size": size,
            "content_type": "image/jpeg",
            "captured_at": datetime.now(UTC).isoformat(),
        },
    )
    queued += 1
    for visit in visits:
        where = {"lat": visit["address"]["lat"], "lon": visit["address"]["lon"], "accuracy_m": 10.0, "mock": False}
        version = int(visit["version"])
        steps: list[tuple[str, dict[str, Any]]] = [("visit.check_in", {}), ("visit.add_note", {"text": "at the door"})]
        if visit["id"] in done:
            steps.append(("visit.add_note", {"text": "came back later"}))
        else:
            code = random.choice(["NOH", "REF", "NFD"])
            steps.append(("visit.record_outcome", {"code": code}))
            done.add(visit["id"])
        steps.append(("visit.check_out", {}))
        for kind, payload in steps:
            if queued >= batch:
                return queued
            phone.enqueue(kind, visit["id"], payload, base_version=version, location=where)
            queued += 1
    while queued < batch:
        phone.enqueue("visit.add_note", visits[0]["id"], {"text": "one more thing"}, base_version=None)
        queued += 1
    return queued


async def _device(
    base_url: str,
    token: str,
    n: int,
    think: float,
    batch: int,
    window: list[float],
    go: asyncio.Event,
    out: dict[str, Any],
    base_photo: bytes,
) -> None:
    from sync.client import DeviceClient, LocalStore
    from sync.client.uploads import upload

    rng = random.Random(n)
    transport = CountingTransport(out["http_errors"])
    http = httpx.AsyncClient(base_url=base_url, timeout=120, transport=transport)
    phone = DeviceClient(base_url, token, LocalStore(":memory:"), http=http, attempts=4, backoff_s=0.5)
    try:
        await phone.pull()  # the morning download, before the window
    except Exception as exc:
        out["failures"].append(f"setup pull: {exc!r}"[:200])
    await go.wait()
    start_at, stop_at = window
    await asyncio.sleep(max(0.0, start_at - time.time()) + rng.uniform(0, think))  # phones start spread out
    done: set[str] = set()
    cycle = 0
    per_cycle = max(1, (batch - 1) // 4)
    while time.time() < stop_at:
        visits = sorted(phone.store.visits().values(), key=lambda v: v["id"])
        if not visits:
            break
        chosen = [visits[(cycle * per_cycle + i) % len(visits)] for i in range(min(per_cycle, len(visits)))]
        data = base_photo + os.urandom(16)  # bytes after the JPEG's end: a new photo every time
        photo = (str(uuid.uuid4()), hashlib.sha256(data).hexdigest(), len(data), chosen[0]["id"])
        for op in OPS:
            if time.time() >= stop_at:
                break
            began = time.perf_counter()
            try:
                if op == "pull":
                    await phone.pull()
                elif op == "push":
                    _work(phone, chosen, done, photo, batch)
                    results = await phone.push(batch_size=batch)
                    for result in results:
                        out["statuses"][result["status"]] = out["statuses"].get(result["status"], 0) + 1
                        if result["status"] == "rejected":
                            out["failures"].append(f"rejected: {result.get('error')}"[:200])
                else:
                    await upload(http, data, evidence_id=photo[0], kind="photo", content_type="image/jpeg")
            except Exception as exc:
                out["errors"][op] += 1
                out["failures"].append(f"{op}: {exc!r}"[:200])
                continue
            out["latencies"][op].append(time.perf_counter() - began)
        cycle += 1
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))
    await phone.close()
    await http.aclose()


async def _client_main(
    base_url: str, tokens: list[tuple[int, str]], think: float, batch: int, gate: loadgen.Gate
) -> dict[str, Any]:
    import psutil

    out: dict[str, Any] = {
        "latencies": {op: [] for op in OPS},
        "errors": dict.fromkeys(OPS, 0),
        "http_errors": {"transport": 0},
        "statuses": {},
        "failures": [],
    }
    base_photo = _photo(random.Random(len(tokens)))
    window: list[float] = []
    go = asyncio.Event()
    devices = [
        asyncio.create_task(_device(base_url, token, n, think, batch, window, go, out, base_photo))
        for n, token in tokens
    ]
    window.extend(await asyncio.to_thread(gate.wait_for_start))
    go.set()
    lags: list[float] = []

    async def ticker() -> None:
        while time.time() < window[1]:
            began = time.perf_counter()
            await asyncio.sleep(0.1)
            lags.append(time.perf_counter() - began - 0.1)

    await asyncio.sleep(max(0.0, window[0] - time.time()))
    before = psutil.Process().cpu_times()
    ticking = asyncio.create_task(ticker())
    await asyncio.gather(*devices)
    await ticking
    after = psutil.Process().cpu_times()
    out["cpu"] = after.user + after.system - before.user - before.system
    out["wall"] = time.time() - window[0]
    out["lag_p99"] = loadgen.percentile(lags, 99)
    return out


def _client_process(
    base_url: str, tokens: list[tuple[int, str]], think: float, batch: int, gate: loadgen.Gate
) -> dict[str, Any]:
    import uvloop

    uvloop.install()
    return asyncio.run(_client_main(base_url, tokens, think, batch, gate))


class RssSampler:
    """Samples the resident memory of the server tree and of the worker once a second."""

    def __init__(self, server_pid: int, worker_pid: int) -> None:
        self.pids = {"server": server_pid, "worker": worker_pid}
        self.samples: dict[str, list[int]] = {"server": [], "worker": []}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.samples[name].append(loadgen.server_rss([pid]))
            self._stop.wait(1.0)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _jobs(url: str) -> dict[str, int]:
    async def count() -> dict[str, int]:
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            rows = await connection.fetch("SELECT state, count(*) AS n FROM job GROUP BY state")
        finally:
            await connection.close()
        return {r["state"]: r["n"] for r in rows}

    return asyncio.run(count())


def report(args: argparse.Namespace, outs: list[dict[str, Any]], rss: RssSampler, jobs: dict[str, int]) -> None:
    mb = 1024 * 1024
    offered = args.clients * args.batch / args.think
    print(
        f"\n{args.clients} phones, {args.seconds:g} s, think {args.think:g} s +-50%, {args.batch} mutations a push "
        f"(offered ~{offered:.0f} mutations/s)"
    )
    print(f"   {'op':<8}{'count':>7}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    for op in OPS:
        lat = [x for o in outs for x in o["latencies"][op]]
        errors = sum(o["errors"][op] for o in outs)
        print(
            f"   {op:<8}{len(lat):>7}{len(lat) / args.seconds:>8.1f}"
            + "".join(f"{loadgen.percentile(lat, q) * 1000:>9.0f}" for q in (50, 95, 99, 100))
            + f"{errors:>8}"
        )
    statuses: dict[str, int] = {}
    http_errors: dict[str, int] = {}
    for o in outs:
        for key, value in o["statuses"].items():
            statuses[key] = statuses.get(key, 0) + value
        for key, value in o["http_errors"].items():
            http_errors[key] = http_errors.get(key, 0) + value
    print(f"   mutations: {sum(statuses.values()) / args.seconds:.0f}/s  {statuses}")
    print(f"   retried by the clients (counted as errors): {http_errors}")
    failures = [f for o in outs for f in o["failures"]]
    print(f"   errors in all: {len(failures) + sum(http_errors.values())}")
    for failure in failures[:5]:
        print(f"     e.g. {failure}")
    for name, samples in rss.samples.items():
        if samples:
            print(
                f"   {name} RSS: start {samples[0] / mb:.0f} MB, peak {max(samples) / mb:.0f} MB, "
                f"end {samples[-1] / mb:.0f} MB"
            )
    print(f"   jobs: {jobs}")
    for number, o in enumerate(outs, 1):
        print(
            f"   client process {number}: CPU {o['cpu'] / o['wall']:.0%} of a core, "
            f"event-loop lag p99 {o['lag_p99'] * 1000:.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=sync_field.DEFAULT_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument(
        "--think", type=float, default=120.0, help="mean seconds between a phone's cycles (see the think time above)"
    )
    parser.add_argument("--batch", type=int, default=100, help="mutations per push")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--visits", type=int, default=40)
    parser.add_argument("--collectors", type=int, default=500, help="seeded collectors (the template is shared)")
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    sync_field.prepare(args.database_url, max(args.collectors, args.clients), args.visits, reseed=args.reseed)
    tokens = [(n, d.token) for n, d in enumerate(sync_field.devices(args.database_url)[: args.clients])]
    sync_field.flush_redis(args.redis_url)
    print(f"{loadgen.load()} at the start")
    with tempfile.TemporaryDirectory(prefix="fv-bench-load-") as tmp:
        env = sync_field.server_env(args.database_url, redis_url=args.redis_url, data_dir=Path(tmp) / "data")
        with (Path(tmp) / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "worker"], cwd=ROOT, env=env, stdout=log, stderr=log
            )
        try:
            with serve(env, "--workers", str(args.workers), ready_timeout=300) as server:
                context = multiprocessing.get_context("spawn")
                parts = loadgen.split(tokens, args.client_procs)
                with (
                    context.Manager() as manager,
                    ProcessPoolExecutor(max_workers=len(parts), mp_context=context) as pool,
                ):
                    gate = loadgen.Gate(manager, len(parts), args.seconds)
                    futures = [
                        pool.submit(_client_process, server.url, part, args.think, args.batch, gate) for part in parts
                    ]
                    with (
                        RssSampler(server.process.pid, worker.pid) as rss,
                        loadgen.autovacuum_stand_in(args.database_url) as maintenance,
                    ):
                        start_at, _ = gate.open()
                        cpu_before = loadgen.server_cpu([server.process.pid])
                        outs = [f.result() for f in futures]
                        cpu_after = loadgen.server_cpu([server.process.pid])
                        busy = time.time() - start_at
                time.sleep(2)
                jobs = _jobs(args.database_url)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    report(args, outs, rss, jobs)
    print(f"   server CPU: {(cpu_after - cpu_before) / busy:.0%} of a core on average")
    if maintenance:
        tally = Counter(maintenance)
        done = ", ".join(f"{what} x{n}" if n > 1 else what for what, n in sorted(tally.items()))
        print(f"   PostgreSQL runs with autovacuum off: the bench did its work meanwhile: {done}")
    print(f"{loadgen.load()} at the end")


if __name__ == "__main__":
    main()
