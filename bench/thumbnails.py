"""Thumbnail benchmark: 12-megapixel JPEGs through the processing job vs a plain Pillow loop.

    uv run python bench/thumbnails.py [--count 24] [--concurrency 2] [--rounds 12]

The plain loop opens each file, sets the JPEG draft and makes a 512 px thumbnail (and, as a second
figure, also saves it as JPEG); it alternates with the jobs in rounds, over the same photos. The
job path is the real one: each photo is a declared, verified evidence item whose
``evidence.process_item`` job runs through the outbox runner (claim, EXIF capture data, draft,
thumbnail, orientation, JPEG, derived blob stored with fsync, item and custody updated, job
finished), one job at a time; then again with ``--concurrency`` jobs at once, as a worker runs
them. Target: jobs one at a time >= 0.8 of the plain loop's rate, as the median of the per-round
ratios (a burst of load from the shared machine spoils one round, not the figure); the ratio over all
photos is printed beside it. Every photo has a thumbnail of its own, so every job stores a new blob.
Embedded (SQLite) by default; set FIELDVISIT_DATABASE_URL for PostgreSQL (a database of its own).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from bench.setup_field import bench_env, make_field  # noqa: E402


def twelve_megapixel_jpegs(folder: Path, count: int) -> list[Path]:
    """``count`` distinct 4000 x 3000 JPEGs with photo-like content (gradients, texture, noise)."""
    base = Image.merge(
        "RGB",
        [
            Image.linear_gradient("L").resize((4000, 3000)),
            Image.effect_noise((4000, 3000), 40),
            Image.radial_gradient("L").resize((4000, 3000)),
        ],
    )
    paths = []
    for index in range(count):
        image = base.copy()
        # A block big enough to survive the 1/8 draft decode: every photo gets a thumbnail of its own, so
        # every job stores a new derived blob (file fsync, rename, folder fsync) as in real life.
        corner = (index % 16) * 240, (index // 16) * 240
        image.paste(
            (index * 37 % 256, 255 - index * 11 % 256, index * 5 % 256), (*corner, corner[0] + 200, corner[1] + 200)
        )
        path = folder / f"photo-{index}.jpg"
        image.save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


def plain_loop(paths: list[Path], side: int, save: bool) -> float:
    """Seconds for open, draft, thumbnail (and save) over all photos."""
    start = time.perf_counter()
    for path in paths:
        with Image.open(path) as image:
            image.draft("RGB", (side, side))
            image.thumbnail((side, side))
            if save:
                image.convert("RGB").save(io.BytesIO(), "JPEG", quality=85)
    return time.perf_counter() - start


async def declare_photos(paths: list[Path], field: dict[str, str]) -> list[int]:
    """Store each photo's bytes and declare it: verified at once, its processing job in the outbox."""
    from api.db import write_transaction
    from api.evidence.config import evidence_config
    from api.queue.tables import Job
    from evidence import items, repository
    from evidence.blobs import sha256_file
    from evidence.kinds import EvidenceKind
    from evidence.models import DeclareItem
    from evidence.ports import Who

    config = evidence_config()
    who = Who(user_id=uuid.UUID(field["collector_id"]))
    async with write_transaction():
        case_id = uuid.uuid4()
        for path in paths:
            digest = sha256_file(path)
            config.store.put_file(path, digest)
            await repository.record_blob(digest, path.stat().st_size)
            declaration = DeclareItem(
                id=uuid.uuid4(),
                visit_id=uuid.UUID(field["visit_id"]),
                case_id=case_id,
                kind=EvidenceKind.PHOTO,
                sha256=digest,
                content_type="image/jpeg",
                size=path.stat().st_size,
            )
            await items.declare_item(declaration, who, config.defer)
    rows = await Job.select(Job.id).where((Job.name == "evidence.process_item") & (Job.state == "pending"))
    return sorted(int(r["id"]) for r in rows)


async def run_jobs(job_ids: list[int], concurrency: int) -> float:
    """Seconds to run the jobs through the outbox runner, ``concurrency`` at a time."""
    from api.queue.runner import Outcome, run_job

    gate = asyncio.Semaphore(concurrency)

    async def one(job_id: int) -> None:
        async with gate:
            result = await run_job(job_id)
            if result.outcome is not Outcome.DONE:
                raise RuntimeError(f"job {job_id}: {result.outcome}")

    start = time.perf_counter()
    await asyncio.gather(*(one(job_id) for job_id in job_ids))
    return time.perf_counter() - start


@dataclasses.dataclass
class Timings:
    """Seconds per round of each side, and of the concurrent run."""

    plain: list[float] = dataclasses.field(default_factory=list)
    saved: list[float] = dataclasses.field(default_factory=list)
    jobs: list[float] = dataclasses.field(default_factory=list)
    concurrent: float = 0.0

    def ratios(self, base: list[float]) -> list[float]:
        """Per round: the jobs' rate over the plain loop's (same photos, same minute)."""
        return [b / j for b, j in zip(base, self.jobs, strict=True)]


async def interleaved(
    paths: list[Path], others: list[Path], field: dict[str, str], rounds: int, concurrency: int
) -> Timings:
    """Plain loop and jobs (one at a time) alternate in rounds over the same photos, so a change in
    the shared machine's load hits both alike; then the jobs of ``others``, ``concurrency`` at a time."""
    from api.db import start_engine, stop_engine
    from api.queue.catalogue import register_all
    from api.settings import get_settings

    register_all()
    await start_engine(get_settings().database)
    timings = Timings()
    try:
        job_ids = await declare_photos(paths, field)
        size = max(1, len(paths) // rounds)
        for round_no, start in enumerate(range(0, len(paths), size)):
            batch = paths[start : start + size]
            if round_no % 2:  # every other round the jobs go first (warm caches favour neither side)
                timings.jobs.append(await run_jobs(job_ids[start : start + size], 1))
            timings.plain.append(plain_loop(batch, 512, save=False))
            timings.saved.append(plain_loop(batch, 512, save=True))
            if not round_no % 2:
                timings.jobs.append(await run_jobs(job_ids[start : start + size], 1))
        timings.concurrent = await run_jobs(await declare_photos(others, field), concurrency)
    finally:
        await stop_engine()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=12, help="alternations of plain loop and jobs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fv-bench-thumbs-") as tmp:
        env = bench_env(Path(tmp) / "data")
        field = make_field(env)
        os.environ.update(env)  # the job path runs in this process, on the same data dir and database
        # Distinct photos for the concurrent run: items with the same bytes would find their thumbnails made.
        made = twelve_megapixel_jpegs(Path(tmp), 2 * args.count)
        paths, others = made[: args.count], made[args.count :]
        plain_loop(paths[:2], 512, save=False)  # warm Pillow
        size_mb = paths[0].stat().st_size / 1e6
        timings = asyncio.run(interleaved(paths, others, field, args.rounds, args.concurrency))
    n = len(paths)
    plain, plain_saved, sequential = sum(timings.plain), sum(timings.saved), sum(timings.jobs)
    ratios, ratios_saved = timings.ratios(timings.plain), timings.ratios(timings.saved)
    print(f"{n} JPEGs of 4000 x 3000 ({size_mb:.1f} MB each), thumbnails of 512 px, {len(ratios)} rounds")
    print(f"  load average at the end (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  plain Pillow loop (open, draft, thumbnail):        {n / plain:6.1f} photos/s")
    print(f"  plain Pillow loop (... and save the JPEG):          {n / plain_saved:6.1f} photos/s")
    print(f"  processing job, one at a time:                      {n / sequential:6.1f} photos/s")
    print(
        f"  processing job, {args.concurrency} at a time:                        {n / timings.concurrent:6.1f} photos/s"
    )
    print(f"  per-round ratios job / plain loop: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(
        f"  ratio job (one at a time) / plain loop: median of rounds {statistics.median(ratios):.2f}, "
        f"all photos {plain / sequential:.2f}  (target >= 0.8)"
    )
    print(
        f"  ratio job / plain loop that also saves: median of rounds {statistics.median(ratios_saved):.2f}, "
        f"all photos {plain_saved / sequential:.2f}"
    )


if __name__ == "__main__":
    main()
