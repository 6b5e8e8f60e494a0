"""Fixtures: a migrated database, a clean state per test, the app, a client, job draining, and a
report of any test that runs far too long."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import threading
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import Finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from api.app import create_app
from api.db import get_engine, start_engine
from api.migrations import upgrade
from api.queue.backends import InlineBackend
from api.queue.catalogue import register_all
from api.queue.runner import get_dispatcher
from api.settings import get_settings

DrainJobs = Callable[[], Awaitable[None]]
# A test still running after this many seconds prints every thread's and asyncio task's stack.
HANG_REPORT_S = float(os.environ.get("FIELDVISIT_TEST_HANG_REPORT_S", "300"))
# drain_jobs gives up after this many seconds and fails the test, naming the jobs and where they wait.
DRAIN_LIMIT_S = float(os.environ.get("FIELDVISIT_TEST_DRAIN_LIMIT_S", "240"))
_session_loop: asyncio.AbstractEventLoop | None = None


def _table_names() -> list[str]:
    names = [t._meta.tablename for t in Finder().get_table_classes()]
    return [n for n in names if n != Migration._meta.tablename]


@pytest.fixture(scope="session")
async def database() -> None:
    """A freshly migrated database for the whole session."""
    global _session_loop
    _session_loop = asyncio.get_running_loop()  # the tests' one loop (see _hang_report)
    settings = get_settings()
    engine = get_engine()
    if isinstance(engine, PostgresEngine):
        conn = await engine.get_new_connection()
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()
    else:
        settings.database.sqlite_path.unlink(missing_ok=True)
    await start_engine(settings.database)
    await upgrade()
    register_all()


async def clean_database() -> None:
    """Empty every table (the schema and migration records stay), once the jobs of the previous test
    running in this process have finished."""
    backend = get_dispatcher()
    if isinstance(backend, InlineBackend):
        await backend.drain()
    engine = get_engine()
    names = _table_names()
    if isinstance(engine, PostgresEngine):
        quoted = ", ".join(f'"{n}"' for n in names)
        await engine.run_querystring(QueryString(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        with sqlite3.connect(get_settings().database.sqlite_path, timeout=30) as conn:
            for name in names:
                conn.execute(f'DELETE FROM "{name}"')  # noqa: S608 - names come from our own tables


@pytest.fixture
async def db(database: None) -> None:
    """A clean database (and a clean Redis test db) for one test."""
    await clean_database()
    redis_url = get_settings().queue.redis_url
    if redis_url is not None:
        from redis.asyncio import Redis

        redis = Redis.from_url(redis_url)
        await redis.flushdb()
        await redis.aclose()


@pytest.fixture(scope="session")
async def app(database: None) -> Litestar:
    """The application, built once for the session."""
    from tests.probes import PROBE_HANDLERS

    return create_app(extra_handlers=PROBE_HANDLERS, run_schedules=False)


@pytest.fixture(scope="session")
async def session_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    # The app runs in the tests' own event loop (the database pool lives there too). Its lifespan
    # is held open by one task, because fixture setup and teardown run in different tasks.
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold_lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    holder = asyncio.create_task(hold_lifespan())
    await started.wait()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fieldvisit.test") as client:
        yield client
    stop.set()
    await holder


@pytest.fixture
async def client(session_client: httpx.AsyncClient, db: None) -> httpx.AsyncClient:
    """An HTTP client on the real app stack (ASGI, in this process), over a clean database."""
    session_client.headers.clear()
    return session_client


@pytest.fixture(scope="session")
def drain_jobs(app: Litestar) -> DrainJobs:
    """Run every job waiting now: a real arq worker in burst mode on Redis, or the in-process backend."""

    async def drain() -> None:
        settings = get_settings()
        if settings.queue.redis_url is None:
            backend = app.state.queue
            assert isinstance(backend, InlineBackend)
            await _drain_inline(backend)
            return
        from api.queue.worker import build_worker

        worker = build_worker(settings, burst=True, handle_signals=False)
        try:
            await asyncio.wait_for(worker.async_run(), DRAIN_LIMIT_S)
        except TimeoutError:
            raise AssertionError(f"the burst worker was still running jobs after {DRAIN_LIMIT_S:.0f} s") from None
        finally:
            await worker.close()

    return drain


async def _drain_inline(backend: InlineBackend) -> None:
    """``backend.drain()`` for at most DRAIN_LIMIT_S: past it, the jobs still running are named with
    where they wait, cancelled (so they do not run into the next tests), and the test fails."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRAIN_LIMIT_S
    while tasks := backend.running():  # a retry starts a new task: look again until none is left
        if loop.time() >= deadline:
            report = [f"{len(tasks)} job(s) still running after {DRAIN_LIMIT_S:.0f} s of drain_jobs:"]
            for task in tasks:
                report.append(task_stack(task))
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise AssertionError("\n".join(report))
        await asyncio.wait(tasks, timeout=deadline - loop.time())


@pytest.fixture(autouse=True)
def _hang_report(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test still running after HANG_REPORT_S seconds prints, to the terminal, the stack of every
    thread and of every asyncio task of the session's loop, so that a hang in CI can be diagnosed
    from its log. The test itself goes on (a slow machine is not a failure)."""
    plugins = request.config.pluginmanager
    args = (request.node.nodeid, plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager"))
    timer = threading.Timer(HANG_REPORT_S, _report_hang, args=args)
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()


def task_stack(task: asyncio.Task[Any]) -> str:
    """Where a task waits: every coroutine of its await chain, innermost last, and what the innermost
    awaits (``Task.print_stack`` shows only the outermost frame of a suspended task)."""
    lines = [f"--- {task!r}"]
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        frame = frame or getattr(awaited, "ag_frame", None)
        if frame is None:  # a future, or a C-level awaitable: the bottom of the chain
            lines.append(f"    awaiting {awaited!r}")
            break
        code = frame.f_code
        lines.append(f'  File "{code.co_filename}", line {frame.f_lineno}, in {code.co_name}')
        inner = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
        awaited = inner or getattr(awaited, "ag_await", None)
    return "\n".join(lines)


def _report_hang(nodeid: str, reporter: Any, capture: Any) -> None:
    lines = [f"=== {nodeid} still running after {HANG_REPORT_S:.0f} s: every thread's and task's stack"]
    for thread_id, frame in sys._current_frames().items():
        lines += [f"--- thread {thread_id}", *traceback.format_stack(frame)]
    loop = _session_loop
    if loop is not None and not loop.is_closed():
        for task in asyncio.all_tasks(loop):  # read from this thread: the loop is idle when it hangs
            lines.append(task_stack(task))
    text = "\n".join(line.rstrip("\n") for line in lines)
    if reporter is None or capture is None:
        print(text, file=sys.__stderr__, flush=True)
        return
    with capture.global_and_fixture_disabled():  # past the test's output capture, to the terminal
        reporter.write_line(text)
