"""Background jobs: a transactional outbox in the database, run by arq on Redis or in-process.

Jobs are deferred inside a write transaction (an outbox row in the same transaction) and handed
to the backend only after commit. A sweeper re-dispatches rows that never reached a worker (Redis
down or restarted, process killed between commit and hand-off), so every committed job eventually
runs; jobs are written to be idempotent because delivery is at least once.
"""
