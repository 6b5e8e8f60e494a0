"""Running the demo day against the app in this process (the same stack ``fieldvisit serve`` runs)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import httpx
from litestar import Litestar

from api.app import create_app
from api.demo.day import Progress, run_day
from api.demo.report import DayLog, Summary, summarise
from api.demo.seed import DemoAlreadySeeded
from api.people import repository as people_repo
from api.queue.backends import InlineBackend
from api.queue.worker import build_worker
from api.settings import Settings, get_settings

BASE = "http://fieldvisit.demo"


async def run_demo(data_dir: Path, progress: Progress, *, cases: int, seed_value: int) -> tuple[DayLog, Summary]:
    """Start the app, run the day through its HTTP doors, summarise; refuse if the city is already there."""
    settings = get_settings()
    app = create_app(settings, run_schedules=False)
    result: tuple[DayLog, Summary] | None = None
    async with app.lifespan():
        if await people_repo.get_team_by_name("team-west") is None:
            result = await _day(app, settings, data_dir, progress, cases, seed_value)
    if result is None:
        raise DemoAlreadySeeded()
    return result


async def _day(
    app: Litestar, settings: Settings, data_dir: Path, progress: Progress, cases: int, seed_value: int
) -> tuple[DayLog, Summary]:
    backend = app.state.queue

    async def drain() -> None:
        """Run every job waiting now: in this process, or a burst of a real arq worker on Redis."""
        if isinstance(backend, InlineBackend):
            await backend.drain()
            return
        worker = build_worker(settings, burst=True, handle_signals=False)
        try:
            await worker.async_run()
        finally:
            await worker.close()

    def make_http() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=cast(Any, app)), base_url=BASE, timeout=120)

    folder = data_dir / "demo"
    await asyncio.to_thread((folder / "phones").mkdir, parents=True, exist_ok=True)
    async with make_http() as http:
        log = await run_day(http, make_http, drain, folder, progress, cases=cases, seed_value=seed_value)
    await drain()
    return log, await summarise()
