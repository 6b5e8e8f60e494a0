"""Solving regions in parallel processes, one region per task.

A pool lives only for one planning call. On Linux the workers are forks of the caller: they start in
milliseconds with the solver already imported (a ``forkserver`` costs ~1.7 s of imports per pool on
this machine, a quarter of a 1,000-visit plan). The forked workers only compute: they touch no
inherited connection, lock or event loop, and leave through ``os._exit`` like every multiprocessing
worker. Where ``fork`` does not exist, ``spawn``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def worker_count(requested: int, tasks: int) -> int:
    """How many processes to use: the request (0: one per CPU), never more than tasks."""
    available = requested if requested > 0 else (os.cpu_count() or 1)
    return max(1, min(available, tasks))


def _context() -> multiprocessing.context.BaseContext:
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def run_all(fn: Callable[[T], R], tasks: list[T], workers: int) -> list[R]:
    """``[fn(t) for t in tasks]``, in processes when there is more than one task and worker."""
    count = worker_count(workers, len(tasks))
    if count == 1:
        return [fn(task) for task in tasks]
    with ProcessPoolExecutor(max_workers=count, mp_context=_context()) as pool:
        return list(pool.map(fn, tasks, chunksize=1))
