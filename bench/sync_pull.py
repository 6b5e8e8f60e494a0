"""Sync pull benchmark on PostgreSQL: a collector's day, and pulls/s against the framework's ceiling.

    uv run python -m bench.sync_pull [--devices 200] [--seconds 15] [--rounds 2] [--workers 1]
                                     [--client-procs 2] [--database-url postgresql://.../bench_sync]

1. A 40-visit day: one device pulls its whole day (no cursor, one page) through ``fieldvisit serve``,
   as JSON, MessagePack, and each gzipped; median time of --repeats pulls and the bytes on the wire.
2. Pulls/s: --devices devices (each with its own token and day) pull their whole day in a loop for
   --seconds. In the same run, the same client pulls as fast from a minimal Litestar handler
   (``bench/bare_pull.py``) that serves a precomputed copy of a real answer: the same bytes, the same
   gzip settings, the same uvicorn options and number of server processes (--workers). Rounds
   alternate; the best round of each side is kept. Target: ratio >= 0.5.

Both servers are real processes (``fieldvisit serve`` / uvicorn); the devices are httpx clients in
--client-procs separate processes (JSON with gzip, as the reference client speaks). On 2 shared cores
the clients compete with the server for CPU: the report gives each side's CPU seconds so you can see
which one was the bottleneck (``ms/pull``: server CPU per answered pull). ``ms/pull`` counts the
``fieldvisit serve`` process only; PostgreSQL's own CPU (the page statement and the token lookup) runs
on the same cores and is given apart (``pg ms``), and ``all ms`` adds server, PostgreSQL and clients:
the CPU the 2 cores spend per pull. A change that moves work into SQL can lower ``ms/pull`` and still
lose pulls/s (a JSON answer written by PostgreSQL did: see commit 0f7eab2); ``all ms`` shows it.
The database is a fresh copy of the seeded template (``bench/sync_field.py``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench import loadgen, sync_field
from tests.server import free_port, serve

FORMATS = {
    "JSON": {"Accept": "application/json", "Accept-Encoding": "identity"},
    "JSON + gzip": {"Accept": "application/json", "Accept-Encoding": "gzip"},
    "MessagePack": {"Accept": "application/msgpack", "Accept-Encoding": "identity"},
    "MessagePack + gzip": {"Accept": "application/msgpack", "Accept-Encoding": "gzip"},
}
PARAMS = {"protocol": 1, "limit": 200}


def day(url: str, token: str, visits: int, repeats: int) -> bytes:
    """Table 1: one device's day in each format; returns the plain JSON answer (the baseline's payload)."""
    print(f"\n1. a {visits}-visit day, one device, one page (median of {repeats} pulls, keep-alive connection)")
    print(f"   {'format':<20}{'ms':>8}{'bytes':>10}")
    payload = b""
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
        for name, headers in FORMATS.items():
            times, size = [], 0
            for _ in range(repeats + 1):
                began = time.perf_counter()
                answer = http.get("/v1/sync/pull", params=PARAMS, headers=headers)
                times.append(time.perf_counter() - began)
                answer.raise_for_status()
                size = answer.num_bytes_downloaded
                if name == "JSON":
                    body = answer.json()
                    if len(body["visits"]) != visits or body["has_more"]:
                        raise RuntimeError(f"expected the whole day in one page, got {len(body['visits'])} visits")
                    payload = answer.content
            print(f"   {name:<20}{statistics.median(times[1:]) * 1000:>8.1f}{size:>10,}")
    return payload


def storm_row(name: str, tally: loadgen.Tally, server_cpu: float, db_cpu: float) -> str:
    def per_pull(seconds: float) -> float:
        return seconds / tally.count * 1000 if tally.count else float("nan")

    return (
        f"   {name:<26}{tally.rate:>9.0f}{tally.pct(50):>8.1f}{tally.pct(99):>8.1f}{tally.errors:>7}"
        f"{server_cpu:>9.1f}{tally.client_cpu:>9.1f}{per_pull(server_cpu):>10.2f}{per_pull(db_cpu):>8.2f}"
        f"{per_pull(server_cpu + db_cpu + tally.client_cpu):>8.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=sync_field.DEFAULT_URL)
    parser.add_argument("--collectors", type=int, default=500, help="seeded collectors (the template is shared)")
    parser.add_argument("--visits", type=int, default=40, help="visits per collector")
    parser.add_argument("--devices", type=int, default=200, help="concurrent devices in the throughput run")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each throughput round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20, help="pulls per format in the day table")
    parser.add_argument("--workers", type=int, default=1, help="server processes, the same for both sides")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes driving the devices")
    parser.add_argument("--reseed", action="store_true", help="rebuild the seeded template")
    args = parser.parse_args()

    sync_field.prepare(args.database_url, max(args.collectors, args.devices), args.visits, reseed=args.reseed)
    devices = sync_field.devices(args.database_url)[: args.devices]
    tokens = [d.token for d in devices]
    print(f"{loadgen.load()} at the start")
    with tempfile.TemporaryDirectory(prefix="fv-bench-pull-") as tmp:
        env = sync_field.server_env(args.database_url, data_dir=Path(tmp) / "data")
        with serve(env, "--workers", str(args.workers)) as server:
            payload = day(server.url, tokens[0], args.visits, args.repeats)
            (Path(tmp) / "payload.json").write_bytes(payload)
            bare_env = {**env, "BARE_PULL_FILE": str(Path(tmp) / "payload.json")}
            with loadgen.uvicorn_app(
                "bench.bare_pull:app", free_port(), args.workers, bare_env, Path(tmp) / "bare.log"
            ) as (bare_url, bare):
                print(
                    f"\n2. pulls/s: {len(tokens)} devices pulling their {args.visits}-visit day in a loop, "
                    f"{args.seconds:g} s per round, {args.rounds} rounds alternating; JSON + gzip; "
                    f"{args.workers} server process(es); {args.client_procs} client processes"
                )
                print(f"   answer: {len(payload):,} bytes of JSON before gzip, served by both sides")
                print(f"   {'server':<26}{'pulls/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}", end="")
                print(f"{'srv cpu':>9}{'cli cpu':>9}{'ms/pull':>10}{'pg ms':>8}{'all ms':>8}")
                best: dict[str, tuple[loadgen.Tally, float]] = {}
                for _ in range(args.rounds):
                    for name, url, pid in (
                        ("fieldvisit serve", server.url, server.process.pid),
                        ("bare Litestar handler", bare_url, bare.pid),
                    ):
                        tally, cpu, db_cpu = loadgen.pull_storm(
                            url,
                            tokens,
                            seconds=args.seconds,
                            processes=args.client_procs,
                            params=PARAMS,
                            headers={"Accept": "application/json", "Accept-Encoding": "gzip"},
                            server_pids=[pid],
                        )
                        print(storm_row(name, tally, cpu, db_cpu), flush=True)
                        if name not in best or tally.rate > best[name][0].rate:
                            best[name] = (tally, cpu)
                real, bare_best = best["fieldvisit serve"][0], best["bare Litestar handler"][0]
                print(f"   ratio fieldvisit / bare (best rounds): {real.rate / bare_best.rate:.3f}  (target >= 0.5)")
                print(f"   errors: {real.errors} (fieldvisit), {bare_best.errors} (bare)")
                for sample in (real.error_samples + bare_best.error_samples)[:3]:
                    print(f"     e.g. {sample}")
    print(f"{loadgen.load()} at the end")


if __name__ == "__main__":
    main()
