"""Sync push benchmark on PostgreSQL: mutations/s applied against the database's own ceiling.

    uv run python -m bench.sync_push [--devices 200] [--batch 100] [--rounds 1] [--workers 1]
                                     [--client-procs 2] [--database-url postgresql://.../bench_sync]

Each of --devices reference clients (``sync/client``, in --client-procs separate processes) pulls its
day, then queues a day's work offline: per visit a check-in at the door, a note, an outcome (nobody
home / promise to pay / refusal in turn, through the outcome service: case status, promises,
follow-up visits, case events) and a check-out; --batch mutations per device. Then all devices push at
once, one batch each, to ``fieldvisit serve`` (--workers processes, pool as configured) on PostgreSQL
and Redis (--redis-url, flushed first): jobs the pushes defer go to arq, as in production; no worker
runs during the bench, so the server's CPU is spent on the pushes alone.

Two baselines, in the same run, both plain asyncpg in one process with a pool of 20 (the server's
default), 200 concurrent tasks each one transaction per batch (with --workers 2 the baseline stays one
process: it is bound by PostgreSQL, not by its client, which was busy 46% of its run):
- log rows only: the *same* mutations as rows of the mutation log (same columns, ids, payloads and
  results' size) into a copy of ``sync_mutation`` with its indexes: the database's ceiling for taking
  the mutations in, while the server does much more per mutation (a savepoint, the visit and its
  timeline, flags, outcomes, case status, the sync feed and its sequencer, the device's health);
- all rows the push wrote: every row version the pushes left in PostgreSQL, inserted again into
  copies of their tables (``bench/push_rows.py``): the database's ceiling for storing what the push
  stores, so the ratio is the cost of deciding what to store.
Target: ratio >= 0.25.

Every round starts from a fresh copy of the seeded template (``bench/sync_field.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench import device_day, loadgen, push_rows, sync_field
from tests.server import serve


async def _push_devices(base_url: str, tokens: list[str], batch: int, gate: loadgen.Gate) -> dict[str, Any]:
    import psutil

    from sync.client import DeviceClient, LocalStore

    phones = []  # each phone has its own HTTP client and connection, as real phones do
    queued: list[dict[str, Any]] = []
    for token in tokens:
        phone = DeviceClient(base_url, token, LocalStore(":memory:"), timeout_s=1800)  # no retry by timeout
        await phone.pull()
        visits = sorted(phone.store.visits().values(), key=lambda v: v["id"])[: batch // device_day.PER_VISIT]
        device_day.queue_visits(phone, visits)
        queued += [{**m, "device": token} for m in phone.store.pending(batch)]
        phones.append(phone)
    start_at, _ = await asyncio.to_thread(gate.wait_for_start)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    samples: list[str] = []

    async def push(phone: DeviceClient) -> float:
        began = time.perf_counter()
        results = await phone.push(batch_size=batch)
        latencies.append(time.perf_counter() - began)
        for result in results:
            statuses[result["status"]] += 1
            if result["status"] == "rejected":
                samples.append(json.dumps(result.get("error"))[:200])
        return time.time()

    before = psutil.Process().cpu_times()
    finished = await asyncio.gather(*(push(p) for p in phones))
    after = psutil.Process().cpu_times()
    for phone in phones:
        await phone.close()
    return {
        "statuses": dict(statuses),
        "latencies": latencies,
        "finished": max(finished),
        "cpu": after.user + after.system - before.user - before.system,
        "samples": samples[:3],
        "queued": queued,
    }


def _push_process(base_url: str, tokens: list[str], batch: int, gate: loadgen.Gate) -> dict[str, Any]:
    import uvloop

    uvloop.install()
    return asyncio.run(_push_devices(base_url, tokens, batch, gate))


def push_round(url: str, pid: int, tokens: list[str], batch: int, processes: int, database_url: str) -> dict[str, Any]:
    """All devices push one batch each at the same instant; what happened and how fast, and the
    transaction id from which the database's rows were written by the pushes (``xid``)."""
    context = multiprocessing.get_context("spawn")
    parts = loadgen.split(tokens, processes)
    with context.Manager() as manager, ProcessPoolExecutor(max_workers=len(parts), mp_context=context) as pool:
        gate = loadgen.Gate(manager, len(parts), 0.0)
        futures = [pool.submit(_push_process, url, part, batch, gate) for part in parts]
        start_at, _ = gate.open()  # every device has pulled and queued its batch
        xid = asyncio.run(push_rows.mark(database_url))
        time.sleep(max(0.0, start_at - time.time()))
        cpu_before = loadgen.server_cpu([pid])
        outs = [f.result() for f in futures]
        cpu_after = loadgen.server_cpu([pid])
    statuses: Counter[str] = Counter()
    for out in outs:
        statuses.update(out["statuses"])
    return {
        "seconds": max(o["finished"] for o in outs) - start_at,
        "statuses": statuses,
        "latencies": [x for o in outs for x in o["latencies"]],
        "client_cpu": sum(o["cpu"] for o in outs),
        "server_cpu": cpu_after - cpu_before,
        "samples": [s for o in outs for s in o["samples"]],
        "queued": [m for o in outs for m in o["queued"]],
        "xid": xid,
    }


_COLUMNS = (
    "id, device_id, user_id, seq, type, target, base_version, payload, device_time, elapsed_ms, "
    "lat, lon, accuracy_m, mock_location, protocol, status, result, conflict_id"
)


async def asyncpg_round(url: str, queued: list[dict[str, Any]], devices: dict[str, sync_field.Device]) -> float:
    """Seconds for plain asyncpg to insert the same mutations as rows, one transaction per device batch."""
    from datetime import datetime

    import asyncpg

    connection = await asyncpg.connect(url)
    await connection.execute(
        "DROP TABLE IF EXISTS bench_mutation; CREATE TABLE bench_mutation (LIKE sync_mutation INCLUDING ALL)"
    )
    await connection.close()
    batches: dict[str, list[tuple[Any, ...]]] = {}
    for m in queued:
        device = devices[m["device"]]
        location = m.get("location") or {}
        result = json.dumps({"id": m["id"], "seq": m["seq"], "status": "applied", "versions": {m["target"]: 3}})
        batches.setdefault(m["device"], []).append(
            (
                uuid.UUID(m["id"]),
                uuid.UUID(device.device_id),
                uuid.UUID(device.user_id),
                m["seq"],
                m["type"],
                uuid.UUID(m["target"]),
                m["base_version"],
                json.dumps(m["payload"]),
                datetime.fromisoformat(m["device_time"]),
                m["elapsed_ms"],
                location.get("lat"),
                location.get("lon"),
                location.get("accuracy_m"),
                bool(location.get("mock")),
                1,
                "applied",
                result,
                None,
            )
        )
    pool = await asyncpg.create_pool(url, min_size=20, max_size=20)
    placeholders = ", ".join(f"${i}" for i in range(1, 19))
    sql = f"INSERT INTO bench_mutation ({_COLUMNS}) VALUES ({placeholders})"  # noqa: S608 - constants

    async def insert(rows: list[tuple[Any, ...]]) -> None:
        async with pool.acquire() as connection, connection.transaction():
            await connection.executemany(sql, rows)

    began = time.perf_counter()
    await asyncio.gather(*(insert(rows) for rows in batches.values()))
    elapsed = time.perf_counter() - began
    await pool.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=sync_field.DEFAULT_URL)
    parser.add_argument("--collectors", type=int, default=500, help="seeded collectors (the template is shared)")
    parser.add_argument("--visits", type=int, default=40, help="visits per collector")
    parser.add_argument("--devices", type=int, default=200, help="devices pushing at once")
    parser.add_argument("--batch", type=int, default=100, help="mutations per device (one push each)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds, each on a fresh copy of the seed")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes driving the devices")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--reseed", action="store_true", help="rebuild the seeded template")
    args = parser.parse_args()
    if args.batch > args.visits * device_day.PER_VISIT:
        parser.error(f"--batch at most {args.visits * device_day.PER_VISIT} ({device_day.PER_VISIT} per visit)")
    print(f"{loadgen.load()} at the start")
    print(
        f"{args.devices} devices push {args.batch} mutations each at once; {args.workers} server process(es); "
        f"{args.client_procs} client processes; asyncpg baseline in 1 process, pool of 20"
    )
    header = f"   {'round':<7}{'server mut/s':>13}{'log rows/s':>12}{'ratio':>7}{'all rows mut/s':>16}{'ratio':>7}"
    print(header + f"{'p50 s':>7}{'p99 s':>7}{'srv cpu':>9}{'cli cpu':>9}  results")
    ratios: list[float] = []
    all_ratios: list[float] = []
    written: list[push_rows.Written] = []
    for round_no in range(1, args.rounds + 1):
        sync_field.prepare(args.database_url, max(args.collectors, args.devices), args.visits, reseed=args.reseed)
        args.reseed = False
        devices = sync_field.devices(args.database_url)[: args.devices]
        by_token = {d.token: d for d in devices}
        sync_field.flush_redis(args.redis_url)
        with tempfile.TemporaryDirectory(prefix="fv-bench-push-") as tmp:
            env = sync_field.server_env(args.database_url, redis_url=args.redis_url, data_dir=Path(tmp) / "data")
            with serve(env, "--workers", str(args.workers)) as server:
                out = push_round(
                    server.url, server.process.pid, list(by_token), args.batch, args.client_procs, args.database_url
                )
        statuses: Counter[str] = out["statuses"]
        done = sum(n for status, n in statuses.items() if status != "rejected")
        rate = done / out["seconds"]
        mutations = len(out["queued"])
        written = asyncio.run(push_rows.written_since(args.database_url, out["xid"]))
        baseline = mutations / asyncio.run(asyncpg_round(args.database_url, out["queued"], by_token))
        all_rows = mutations / asyncio.run(push_rows.insert_again(args.database_url, written, len(devices)))
        ratios.append(rate / baseline)
        all_ratios.append(rate / all_rows)
        latencies = out["latencies"]
        print(
            f"   {round_no:<7}{rate:>13,.0f}{baseline:>12,.0f}{rate / baseline:>7.3f}{all_rows:>16,.0f}"
            f"{rate / all_rows:>7.3f}"
            f"{loadgen.percentile(latencies, 50):>7.2f}{loadgen.percentile(latencies, 99):>7.2f}"
            f"{out['server_cpu']:>9.1f}{out['client_cpu']:>9.1f}  {dict(statuses)}",
            flush=True,
        )
        for sample in out["samples"][:3]:
            print(f"     rejected, e.g. {sample}")
    rows = sum(len(w.rows) for w in written)
    print(f"   rows the push wrote (last round): {rows:,} = {rows / max(1, mutations):.1f} per mutation")
    print(f"     {push_rows.rows_per_table(written)}")
    print(f"   ratio server / asyncpg, log rows only: best {max(ratios):.3f}  (target >= 0.25)")
    print(f"   ratio server / asyncpg, all rows the push wrote: best {max(all_ratios):.3f}  (target >= 0.25)")
    print(f"{loadgen.load()} at the end")


if __name__ == "__main__":
    main()
