"""ASGI entry point for uvicorn: ``api.asgi:app``."""

import gc

from api.app import create_app

app = create_app()
# What is built by now (modules, the app, its routes, its OpenAPI schema) lives as long as the process. Frozen
# out of the collector's generations, it is no longer walked by every full collection: on a sync pull storm
# garbage collection was ~7% of the server's CPU (see bench/sync_pull.py).
gc.collect()
gc.freeze()
# A busy server holds many young objects at once (200 pushes of 100 decoded mutations wait for the pool):
# at the default threshold (700) the collector ran ~640 times in a 20,000-mutation push bench, 5 of them
# full collections of 40-170 ms each, ~0.9 s of the server's ~11 s. At 10,000 it ran ~40 times, none
# full, 0.3 s (bench/sync_push.py, 2 runs each way). Cyclic garbage lives a little longer; nothing else.
gc.set_threshold(10_000, 10, 10)
