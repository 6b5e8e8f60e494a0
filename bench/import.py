"""Benchmark: importing 100,000 cases into PostgreSQL, against PostgreSQL's own COPY in the same run.

    uv run python bench/import.py [--rows 100000] [--database-url postgresql://...]

Two COPY baselines load the same rows, server-side parsed, no Python in the loop:

- "COPY into the case tables": the cases and their addresses, already shaped as table rows, into
  tables with the same columns, indexes and foreign keys as ``collection_case`` and ``address``:
  the database's ceiling for loading these cases (the target's reference: at least 0.2 of it);
- "COPY raw text": the CSV as text columns into an unlogged table without indexes: the absolute
  floor of what PostgreSQL can ingest, shown for scale.

Also prints the idempotent re-import rate and the importer's peak memory (target: under 300 MB).
The database named by the URL is dropped and re-created.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class PeakRss:
    """Samples this process's resident memory every 10 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *args: object) -> None:
        self._stop.set()
        self._thread.join()


def write_csv(path: Path, rows: int) -> None:
    """The synthetic city's cases as upstream CSV (built in a child so its memory is not counted)."""
    code = (
        "import asyncio, sys\n"
        "from api.demo.city import build_city\n"
        "from api.demo.seed import city_csv\n"
        "async def main():\n"
        f"    city = build_city(seed=11, cases={rows})\n"
        f"    with open({str(path)!r}, 'wb') as out:\n"
        "        async for chunk in city_csv(city):\n"
        "            out.write(chunk)\n"
        "asyncio.run(main())\n"
    )
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


async def reset_database(url: str) -> None:
    import asyncpg

    parts = urlsplit(url)  # a query (a Unix socket's ?host=) stays
    name = parts.path.lstrip("/")
    admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def chunks(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        while chunk := handle.read(256 * 1024):
            yield chunk


def table_shaped_files(source: Path, cases: Path, addresses: Path) -> None:
    """The CSV's rows as ``collection_case`` and ``address`` rows (prepared outside the timing)."""
    import csv
    import uuid

    from api.cases.rules import mask_national_id, normalise_address, stage_for

    with source.open() as src, cases.open("w", newline="") as c_out, addresses.open("w", newline="") as a_out:
        case_writer, address_writer = csv.writer(c_out), csv.writer(a_out)
        for row in csv.DictReader(src):
            case_id = str(uuid.uuid4())
            phones = json.dumps(row["phones"].split(";"))
            case_writer.writerow(
                [
                    case_id,
                    "demo",
                    row["external_ref"],
                    f"demo:{row['external_ref']}",
                    row["debtor_name"],
                    mask_national_id(row["national_id"]),
                    phones,
                    row["amount_owed"],
                    row["currency"],
                    row["days_past_due"],
                    stage_for(int(row["days_past_due"])).value,
                    row["contact_state"],
                    row["last_contact_at"],
                ]
            )
            for kind in ("home", "work"):
                if row[f"{kind}_address"]:
                    address_writer.writerow(
                        [
                            str(uuid.uuid4()),
                            case_id,
                            kind,
                            row[f"{kind}_address"],
                            normalise_address(row[f"{kind}_address"]),
                            row[f"{kind}_lat"],
                            row[f"{kind}_lon"],
                            row[f"{kind}_timezone"],
                        ]
                    )


async def copy_into_case_tables(url: str, cases: Path, addresses: Path) -> float:
    """Seconds for COPY of table-shaped rows into tables built like collection_case and address."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "DROP TABLE IF EXISTS bench_address; DROP TABLE IF EXISTS bench_case;"
            "CREATE TABLE bench_case (LIKE collection_case INCLUDING ALL);"
            "ALTER TABLE bench_case ADD FOREIGN KEY (team) REFERENCES team(id);"
            "CREATE TABLE bench_address (LIKE address INCLUDING ALL);"
            'ALTER TABLE bench_address ADD FOREIGN KEY ("case") REFERENCES bench_case(id);'
        )
        case_columns = [
            "id",
            "source",
            "external_ref",
            "source_ref",
            "debtor_name",
            "national_id_last4",
            "phones",
            "amount_owed",
            "currency",
            "days_past_due",
            "stage",
            "contact_state",
            "last_contact_at",
        ]
        address_columns = ["id", "case", "kind", "text", "normalised", "lat", "lon", "timezone"]
        started = time.perf_counter()
        async with connection.transaction():
            await connection.copy_to_table("bench_case", source=str(cases), format="csv", columns=case_columns)
            await connection.copy_to_table(
                "bench_address", source=str(addresses), format="csv", columns=address_columns
            )
        return time.perf_counter() - started
    finally:
        await connection.close()


async def copy_baseline(url: str, path: Path) -> float:
    """Seconds for PostgreSQL's COPY of the same CSV into an unlogged table of text columns."""
    import asyncpg

    header = path.open().readline().strip().split(",")
    connection = await asyncpg.connect(url)
    try:
        columns = ", ".join(f'"{c}" text' for c in header)
        await connection.execute(f"CREATE UNLOGGED TABLE IF NOT EXISTS bench_copy ({columns})")
        await connection.execute("TRUNCATE bench_copy")
        started = time.perf_counter()
        await connection.copy_to_table("bench_copy", source=str(path), format="csv", header=True)
        return time.perf_counter() - started
    finally:
        await connection.close()


async def run(url: str, rows: int) -> None:
    await reset_database(url)
    os.environ["FIELDVISIT_DATABASE_URL"] = url
    from api.cases.importer import import_stream
    from api.db import start_engine, stop_engine
    from api.migrations import upgrade
    from api.people.tables import Team
    from api.queue.catalogue import register_all
    from api.settings import get_settings

    register_all()
    await start_engine(get_settings().database)
    await upgrade()
    for name in ("team-west", "team-central", "team-east"):
        await Team.insert(Team(name=name))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.csv"
        write_csv(path, rows)
        size_mb = path.stat().st_size / 1e6
        shaped_cases, shaped_addresses = Path(tmp) / "c.csv", Path(tmp) / "a.csv"
        table_shaped_files(path, shaped_cases, shaped_addresses)
        tables_s = min([await copy_into_case_tables(url, shaped_cases, shaped_addresses) for _ in range(2)])
        copy_s = await copy_baseline(url, path)
        with PeakRss() as memory:
            started = time.perf_counter()
            first = await import_stream(chunks(path), "text/csv")
            first_s = time.perf_counter() - started
        started = time.perf_counter()
        again = await import_stream(chunks(path), "text/csv")
        again_s = time.perf_counter() - started
        copy_again_s = await copy_baseline(url, path)
    await stop_engine()
    copy_best = min(copy_s, copy_again_s)
    print(f"rows                          {rows:>10,}   ({size_mb:.1f} MB CSV)")
    print(f"importer, first load          {rows / first_s:>10,.0f} rows/s   created={first.created}")
    print(f"importer, re-import           {rows / again_s:>10,.0f} rows/s   unchanged={again.unchanged}")
    print(f"COPY into the case tables     {rows / tables_s:>10,.0f} rows/s   (best of 2)")
    print(f"COPY raw text, unlogged       {rows / copy_best:>10,.0f} rows/s   (best of 2)")
    print(f"first load / COPY case tables {tables_s / first_s:>10.3f}   (target >= 0.2)")
    print(f"re-import / COPY case tables  {tables_s / again_s:>10.3f}")
    print(f"first load / COPY raw text    {copy_best / first_s:>10.3f}")
    print(
        f"peak RSS during import  {memory.peak / 1e6:>10.1f} MB  (+{(memory.peak - memory.baseline) / 1e6:.1f} MB "
        "over the process before it; target < 300 MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/fieldvisit_bench")
    args = parser.parse_args()
    asyncio.run(run(args.database_url, args.rows))


if __name__ == "__main__":
    main()
