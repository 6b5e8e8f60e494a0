"""The job seam: outbox written in the request's transaction, dispatched only after commit,
run by a real arq worker on Redis (or in-process on the embedded default)."""

from __future__ import annotations

import pytest
from arq.connections import RedisSettings, create_pool

from api.db import write_transaction
from api.queue import runner
from api.queue.registry import JobSpec, register
from api.queue.tables import Job
from api.settings import get_settings
from tests import probes

pytestmark = pytest.mark.embedded


async def _queued_in_redis() -> int:
    url = get_settings().queue.redis_url
    if url is None:
        return 0
    redis = await create_pool(RedisSettings.from_dsn(url))
    try:
        return len(await redis.queued_jobs())
    finally:
        await redis.aclose()


async def test_job_deferred_by_a_rolled_back_request_never_runs(client, drain_jobs):
    probes.RAN.clear()
    answer = await client.post("/probe/jobs/rolled-back", params={"rollback": "true"})
    assert answer.status_code == 400
    assert await Job.count() == 0  # the outbox row went with the transaction
    assert await _queued_in_redis() == 0  # and nothing was handed to the queue
    await drain_jobs()
    assert "rolled-back" not in probes.RAN


async def test_job_deferred_by_a_committed_request_runs_on_the_real_backend(client, drain_jobs):
    probes.RAN.clear()
    answer = await client.post("/probe/jobs/committed")
    assert answer.status_code == 200, answer.text
    job_id = answer.json()["job_id"]
    if get_settings().queue.redis_url is not None:
        assert await _queued_in_redis() == 1
    await drain_jobs()
    assert probes.RAN == ["committed"]
    row = await Job.select(Job.state, Job.attempts).where(Job.id == job_id).first()
    assert row == {"state": "done", "attempts": 1}


async def test_failing_job_is_retried_until_it_succeeds(client, drain_jobs):
    probes.RAN.clear()
    probes.FAIL_UNTIL_ATTEMPT["flaky"] = 3
    job_id = (await client.post("/probe/jobs/flaky")).json()["job_id"]
    for _ in range(10):
        await drain_jobs()
        if probes.RAN:
            break
        await _wait_for_retry()
    assert probes.RAN == ["flaky"]
    row = await Job.select(Job.state, Job.attempts, Job.last_error).where(Job.id == job_id).first()
    assert row is not None
    assert (row["state"], row["attempts"]) == ("done", 3)
    assert "fails on attempt 2" in row["last_error"]


async def _wait_for_retry() -> None:
    import asyncio

    await asyncio.sleep(0.3)  # retries are deferred by the (test-sized) backoff


async def test_job_whose_hand_off_was_lost_is_recovered_by_the_sweeper(client, drain_jobs):
    """Commit succeeded but the dispatch never happened (Redis down, process killed): the outbox
    row stays pending and the sweeper hands it over again."""
    probes.RAN.clear()
    saved = runner.get_dispatcher()
    runner.set_dispatcher(None)  # the hand-off after commit goes nowhere
    try:
        async with write_transaction():
            job_id = await runner.defer("test.record", "lost")
    finally:
        runner.set_dispatcher(saved)
    assert await _queued_in_redis() == 0
    assert (await Job.select(Job.state).where(Job.id == job_id).first()) == {"state": "pending"}
    assert await runner.sweep(min_age_s=0.0) == 1
    await drain_jobs()
    assert probes.RAN == ["lost"]
    assert (await Job.select(Job.state).where(Job.id == job_id).first()) == {"state": "done"}


async def test_defer_outside_a_transaction_is_refused(db):
    with pytest.raises(runner.NoTransactionForJob):
        await runner.defer("test.record", "nowhere")


async def test_job_left_running_by_a_dead_worker_is_taken_over_and_a_beating_one_is_not(client, drain_jobs):
    """A worker killed mid-job leaves its row "running" and silent: once its heartbeat is stale the
    sweeper hands it to another worker (as a new attempt). A job whose heartbeat is fresh stays put."""
    from datetime import UTC, datetime, timedelta

    probes.RAN.clear()
    saved = runner.get_dispatcher()
    runner.set_dispatcher(None)
    try:
        async with write_transaction():
            dead = await runner.defer("test.record", "abandoned")
            alive = await runner.defer("test.record", "still running")
    finally:
        runner.set_dispatcher(saved)
    stale = datetime.now(UTC) - timedelta(seconds=get_settings().queue.stale_after_s + 5)
    await Job.update({Job.state: "running", Job.attempts: 1, Job.updated_at: stale}).where(Job.id == dead)
    await Job.update({Job.state: "running", Job.attempts: 1, Job.updated_at: datetime.now(UTC)}).where(Job.id == alive)

    assert await runner.list_abandoned(get_settings().queue.stale_after_s) == [(dead, "t1")]
    assert await runner.sweep(min_age_s=0.0) == 1
    await drain_jobs()
    assert probes.RAN == ["abandoned"]
    assert await Job.select(Job.state, Job.attempts).where(Job.id == dead).first() == {"state": "done", "attempts": 2}
    assert await Job.select(Job.state).where(Job.id == alive).first() == {"state": "running"}


async def _finishes_in_its_own_transaction(ctx: runner.JobContext, fail_after: str) -> None:
    async with ctx.final_transaction():
        row = await Job.select(Job.state).where(Job.id == ctx.job_id).first()
        assert row == {"state": "running"}  # still running inside it: done only with the commit
    row = await Job.select(Job.state).where(Job.id == ctx.job_id).first()
    assert row == {"state": "done"}  # committed with the job's own writes, before the runner looks
    if fail_after == "yes":
        raise RuntimeError("failed after its final transaction")


register(JobSpec(name="test.final_transaction", fn=_finishes_in_its_own_transaction))


@pytest.mark.parametrize(("fail_after", "state"), [("no", "done"), ("yes", "pending")])
async def test_job_final_transaction_marks_it_done_unless_it_fails_afterwards(db, fail_after, state):
    async with write_transaction():
        job_id = await runner.defer("test.final_transaction", fail_after)
    result = await runner.run_job(job_id)
    assert result.outcome is (runner.Outcome.DONE if state == "done" else runner.Outcome.RETRY)
    row = await Job.select(Job.state, Job.attempts).where(Job.id == job_id).first()
    assert row == {"state": state, "attempts": 1}  # a failure afterwards wins: the job runs again


async def _overruns_on_its_first_attempt(ctx: runner.JobContext) -> None:
    import asyncio

    async with ctx.transaction():
        await ctx.defer("test.record", "from an overrun")  # written, then rolled back by the cancel
        if ctx.attempt == 1:
            await asyncio.sleep(60)  # holding the write transaction (on SQLite, the writer lock)


register(JobSpec(name="test.overrun", fn=_overruns_on_its_first_attempt, timeout_s=0.2))


async def test_job_past_its_timeout_is_cancelled_rolled_back_and_retried(db):
    """Nothing but its own limit stops a job that never returns (in-process no queue would): the attempt
    is cancelled after ``timeout_s``, its transaction rolls back, the writer is free again, and the
    failure is recorded with the reason and retried like any other."""
    async with write_transaction():
        job_id = await runner.defer("test.overrun")
    result = await runner.run_job(job_id)
    assert result.outcome is runner.Outcome.RETRY
    row = await Job.select(Job.state, Job.attempts, Job.last_error).where(Job.id == job_id).first()
    assert row is not None
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert row["last_error"] == "TimeoutError: the job ran past its 0.2 s limit and was cancelled"
    assert await Job.count().where(Job.name == "test.record") == 0  # the overrun's write went with it
    assert (await runner.run_job(job_id)).outcome is runner.Outcome.DONE  # the writer was released
    assert await Job.count().where(Job.name == "test.record") == 1


async def test_job_a_dead_worker_took_off_the_queue_before_claiming_it_is_delivered_again(client, drain_jobs):
    """arq keeps a delivery locked (in progress) for the longest job timeout, an hour, when the worker
    that took it dies: re-dispatching the same id does nothing. A job still pending long after its time
    is delivered again under an id of its own."""
    from datetime import UTC, datetime, timedelta

    from api.queue.backends import ARQ_FUNCTION, arq_job_id

    probes.RAN.clear()
    saved = runner.get_dispatcher()
    runner.set_dispatcher(None)
    try:
        async with write_transaction():
            job_id = await runner.defer("test.record", "swallowed")
    finally:
        runner.set_dispatcher(saved)
    url = get_settings().queue.redis_url
    if url is not None:  # the delivery a worker took off the queue, then died holding
        redis = await create_pool(RedisSettings.from_dsn(url))
        await redis.enqueue_job(ARQ_FUNCTION, job_id, _job_id=arq_job_id(job_id))
        await redis.zrem("arq:queue", arq_job_id(job_id))
        await redis.set(f"arq:in-progress:{arq_job_id(job_id)}", b"1", ex=3600)
        await redis.aclose()
    long_ago = datetime.now(UTC) - timedelta(seconds=get_settings().queue.stale_after_s + 5)
    await Job.update({Job.updated_at: long_ago, Job.run_after: long_ago}).where(Job.id == job_id)

    # On Redis the same id again is a no-op: only the tagged delivery can make it run.
    assert await runner.sweep(min_age_s=0.0) >= 1
    await drain_jobs()
    assert probes.RAN == ["swallowed"]
    assert await Job.select(Job.state, Job.attempts).where(Job.id == job_id).first() == {"state": "done", "attempts": 1}
    assert await runner.sweep(min_age_s=0.0) == 0
