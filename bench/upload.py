"""Upload benchmark: tus through `fieldvisit serve` vs a bare streaming handler, and server memory.

    uv run python bench/upload.py [--size-mb 200] [--chunk-mb 1] [--rounds 9] [--big-gb 1]

1. A SIZE-MB file goes through tus (declare, POST /v1/uploads, PATCH in CHUNK-MB chunks, the whole
   file's sha256 checked on completion) and, in the same run, through a bare uvicorn handler that
   only writes each chunk to disk, with the same client loop (one keep-alive connection). Three more
   variants of that handler show what tus's two duties cost on this machine: one fsyncs the file
   after its last chunk (the durability a stored blob has), one keeps a running sha256 of the file
   (the verification tus owes), one does both (the least a handler that meets the evidence rules
   does). Rounds interleave the five (the order flips every round); each round gives a ratio of tus
   to each variant measured in the same minute, and the figure is the median of those ratios (the
   machine is shared: a burst of load spoils a round, not the figure). Between measurements,
   untimed, the bare handler's file is deleted (its dirty pages would be written back during the
   next one) and the tus item's processing job is awaited (it would run during the next one).
   Target: tus >= 0.7 of the bare handler's (write only) throughput. The last two lines print what
   the hash, and the hash with the fsync, cost the bare handler itself (what the evidence rules
   cost a handler with nothing else to do). --sides bare,tus measures the pair alone.
2. BIG-GB go through tus in ONE streamed PATCH while psutil samples the server process's RSS.
   Target: peak less than 50 MB above idle.
Embedded (SQLite) by default; set FIELDVISIT_DATABASE_URL / FIELDVISIT_REDIS_URL for PostgreSQL.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402

from bench.setup_field import bench_env, make_field  # noqa: E402
from tests.server import free_port, serve  # noqa: E402

MB = 1024 * 1024
SIDES = ("bare", "durable", "hashed", "both", "tus")  # the order of a round (reversed every other round)


def _meta(values: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def tus_upload(
    client: httpx.Client, field: dict[str, str], chunks: list[bytes], digest: str, wait_for_job: bool = True
) -> float:
    """Declare, create and upload; seconds from creation to the verified last chunk. Then, with
    ``wait_for_job`` (jobs run inside the server: no Redis), wait (not timed) until the server has
    processed the item, so that job does not run into the next measurement."""
    auth = {"Authorization": f"Bearer {field['collector']}", "Tus-Resumable": "1.0.0"}
    item_id = str(uuid.uuid4())
    size = sum(len(c) for c in chunks)
    declared = client.post(
        "/v1/evidence/items",
        json={"id": item_id, "visit_id": field["visit_id"], "kind": "recording", "sha256": digest, "consent": True},
        headers=auth,
    )
    declared.raise_for_status()
    meta = _meta({"evidence_id": item_id, "sha256": digest, "kind": "recording", "content_type": "audio/wav"})
    start = time.perf_counter()
    created = client.post("/v1/uploads", headers={**auth, "Upload-Length": str(size), "Upload-Metadata": meta})
    created.raise_for_status()
    offset = 0
    for chunk in chunks:
        headers = {**auth, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        answer = client.patch(created.headers["location"], headers=headers, content=chunk)
        if answer.status_code != 204:
            raise RuntimeError(f"PATCH at {offset}: {answer.status_code} {answer.text}")
        offset = int(answer.headers["upload-offset"])
    elapsed = time.perf_counter() - start
    if offset != size:
        raise RuntimeError("upload did not complete")
    if wait_for_job:
        wait_until_processed(client, auth, item_id)
    return elapsed


def wait_until_processed(client: httpx.Client, auth: dict[str, str], item_id: str, timeout_s: float = 120) -> None:
    """Poll the item until its processing job has run."""
    deadline = time.monotonic() + timeout_s
    while client.get(f"/v1/evidence/items/{item_id}", headers=auth).json().get("state") != "processed":
        if time.monotonic() > deadline:
            raise RuntimeError(f"item {item_id} not processed after {timeout_s}s")
        time.sleep(0.05)


def bare_upload(
    client: httpx.Client, chunks: list[bytes], fsync: bool = False, folder: Path | None = None, sha256: bool = False
) -> float:
    """The same loop against the bare handler (``fsync``: it flushes the file after the last chunk;
    ``sha256``: it keeps a running sha256 of the file, as tus must).

    With ``folder`` (the handler's), the file is deleted afterwards (not timed): its dirty pages would
    otherwise be written back while the next measurement runs."""
    name = uuid.uuid4().hex
    start = time.perf_counter()
    offset = 0
    for number, chunk in enumerate(chunks, start=1):
        last = number == len(chunks)
        headers = {
            "Upload-Offset": str(offset),
            "X-Fsync": "1" if fsync and last else "0",
            "X-Sha256": "1" if sha256 else "0",
            "X-Last": "1" if last else "0",
        }
        answer = client.patch(f"/{name}", headers=headers, content=chunk)
        answer.raise_for_status()
        offset += len(chunk)
    elapsed = time.perf_counter() - start
    if folder is not None:
        (folder / name).unlink()
    return elapsed


def variant(data: bytes, round_no: int, chunk: int) -> tuple[list[bytes], str]:
    """The file with its first bytes changed per round (so no upload finds its blob stored already)."""
    changed = round_no.to_bytes(8, "big") + data[8:]
    return [changed[i : i + chunk] for i in range(0, len(changed), chunk)], hashlib.sha256(changed).hexdigest()


class PeakRss:
    """Samples a process's resident memory in a thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.samples += 1
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def big_stream(total: int, seed: bytes) -> Iterator[bytes]:
    """``total`` bytes in 1 MiB blocks, deterministic (the sha256 is computed from a first pass)."""
    for index in range(total // MB):
        yield index.to_bytes(8, "big") + seed[: MB - 8]


def memory_run(client: httpx.Client, field: dict[str, str], pid: int, total: int) -> tuple[int, int, float, int]:
    """One streamed PATCH of ``total`` bytes; (idle RSS, peak RSS, seconds, RSS samples taken)."""
    seed = os.urandom(MB)
    digest = hashlib.sha256()
    for block in big_stream(total, seed):
        digest.update(block)
    auth = {"Authorization": f"Bearer {field['collector']}", "Tus-Resumable": "1.0.0"}
    item_id = str(uuid.uuid4())
    client.post(
        "/v1/evidence/items",
        json={"id": item_id, "visit_id": field["visit_id"], "kind": "recording", "sha256": digest.hexdigest()},
        headers=auth,
    ).raise_for_status()
    meta = _meta({"evidence_id": item_id, "sha256": digest.hexdigest(), "kind": "recording"})
    created = client.post("/v1/uploads", headers={**auth, "Upload-Length": str(total), "Upload-Metadata": meta})
    created.raise_for_status()
    time.sleep(1.0)
    idle = psutil.Process(pid).memory_info().rss
    headers = {**auth, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    with PeakRss(pid) as sampler:
        start = time.perf_counter()
        answer = client.patch(
            created.headers["location"],
            headers={**headers, "Content-Length": str(total)},
            content=big_stream(total, seed),
        )
        elapsed = time.perf_counter() - start
    if answer.status_code != 204:
        raise RuntimeError(f"big upload: {answer.status_code} {answer.text}")
    return idle, sampler.peak, elapsed, sampler.samples


def throughput(
    tus_client: httpx.Client,
    bare_client: httpx.Client,
    field: dict[str, str],
    data: bytes,
    args: argparse.Namespace,
    bare_dir: Path,
) -> None:
    """The 1 MB-chunk comparison in interleaved rounds (the ratio of each round, then their median),
    then one larger chunk size."""
    chunk = int(args.chunk_mb * MB)
    wait = not os.environ.get("FIELDVISIT_REDIS_URL")  # with Redis the jobs wait for a worker this bench does not start
    tus_upload(tus_client, field, *variant(data[: 4 * MB], 99, chunk), wait)  # warm-up
    bare_upload(bare_client, variant(data[: 4 * MB], 99, chunk)[0], folder=bare_dir)
    times: dict[str, list[float]] = {side: [] for side in SIDES}
    sides = [side for side in SIDES if side in {"bare", "tus", *args.sides.split(",")}]
    for round_no in range(args.rounds):
        chunks, digest = variant(data, round_no, chunk)
        for side in sides if round_no % 2 == 0 else reversed(sides):  # no side always goes first
            os.sync()  # untimed: no side pays for the write-back of what the one before it wrote
            if side == "tus":
                times["tus"].append(tus_upload(tus_client, field, chunks, digest, wait))
            else:
                fsync, sha256 = side in ("durable", "both"), side in ("hashed", "both")
                times[side].append(bare_upload(bare_client, chunks, fsync=fsync, folder=bare_dir, sha256=sha256))
    size = len(data) / MB
    print("target: tus >= 0.7 of the bare handler (write only), as the median of the per-round ratios")
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"file {size:.0f} MB in {args.chunk_mb:g} MB chunks, {args.rounds} interleaved rounds (best / median)")
    tus = times["tus"]
    print(f"  tus (auth, offsets, sha256 verify, blob store): {rates(size, tus)} MB/s")
    print(f"    runs {fmt(tus)}")
    for label, key in (
        ("write only", "bare"),
        ("write + fsync at the end", "durable"),
        ("write + running sha256", "hashed"),
        ("write + sha256 + fsync", "both"),
    ):
        bare = times[key]
        if not bare:
            continue
        print(f"  bare handler, {label + ':':26s}     {rates(size, bare)} MB/s")
        print(f"    runs {fmt(bare)}")
        ratios = [b / t for b, t in zip(bare, tus, strict=True)]  # tus rate / bare rate, same round
        print(f"    ratio tus / bare ({label}) per round: {', '.join(f'{r:.2f}' for r in ratios)}")
        print(
            f"    ratio tus / bare ({label}): median of rounds {statistics.median(ratios):.2f} "
            f"(min {min(ratios):.2f}, max {max(ratios):.2f})"
        )
    for label, key in (("the whole-file sha256 alone costs", "hashed"), ("sha256 and fsync together cost", "both")):
        if not times[key]:
            continue
        cost = [b / h for b, h in zip(times["bare"], times[key], strict=True)]
        print(
            f"  what {label} the bare handler: bare ({key}) / bare (write only), "
            f"median of rounds {statistics.median(cost):.2f} (min {min(cost):.2f}, max {max(cost):.2f})"
        )
    chunks, digest = variant(data, 50, int(args.compare_chunk_mb * MB))
    bare_big = size / bare_upload(bare_client, chunks, folder=bare_dir)
    tus_big = size / tus_upload(tus_client, field, chunks, digest, wait)
    print(
        f"  same file in {args.compare_chunk_mb:g} MB chunks: tus {tus_big:.1f} MB/s, "
        f"bare {bare_big:.1f} MB/s, ratio {tus_big / bare_big:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--chunk-mb", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (odd: the median is one of them)")
    parser.add_argument("--big-gb", type=float, default=1.0, help="0 skips the memory run")
    parser.add_argument("--compare-chunk-mb", type=float, default=16.0, help="a second, larger chunk size")
    parser.add_argument(
        "--sides", default=",".join(SIDES), help=f"comma-separated, among {','.join(SIDES)} (bare and tus always run)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fv-bench-upload-") as tmp:
        env = bench_env(Path(tmp) / "data")
        field = make_field(env)
        bare_port = free_port()
        bare_command = [sys.executable, "-m", "uvicorn", "bench.bare_upload:app", "--port", str(bare_port)]
        bare_dir = Path(tmp) / "bare"
        bare_env = {**env, "BARE_UPLOAD_DIR": str(bare_dir)}
        # The same uvicorn settings as `fieldvisit serve` (access log at info, proxy headers), so the
        # two servers differ only by what the handler does.
        with (Path(tmp) / "bare.log").open("wb") as bare_log:
            bare = subprocess.Popen(
                [*bare_command, "--log-level", "info", "--proxy-headers"],
                cwd=ROOT,
                env=bare_env,
                stdout=bare_log,
                stderr=bare_log,
            )
        try:
            with (
                serve(env) as server,
                httpx.Client(base_url=server.url, timeout=600) as tus_client,
                httpx.Client(base_url=f"http://127.0.0.1:{bare_port}", timeout=600) as bare_client,
            ):
                throughput(tus_client, bare_client, field, os.urandom(args.size_mb * MB), args, bare_dir)
                if args.big_gb > 0:
                    total = int(args.big_gb * 1024) * MB
                    idle, peak, seconds, samples = memory_run(tus_client, field, server.process.pid, total)
                    print(f"{total / MB:.0f} MB in one streamed PATCH: {total / MB / seconds:.1f} MB/s")
                    print(f"  server RSS idle {idle / MB:.1f} MB, peak {peak / MB:.1f} MB ({samples} samples)")
                    print(f"  peak above idle: {(peak - idle) / MB:.1f} MB  (target < 50 MB)")
        finally:
            bare.terminate()
            bare.wait(timeout=10)


def rates(size_mb: float, times: list[float]) -> str:
    """Best / median throughput."""
    return f"{size_mb / min(times):6.1f} / {size_mb / statistics.median(times):6.1f}"


def fmt(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}s" for t in times)


if __name__ == "__main__":
    main()
