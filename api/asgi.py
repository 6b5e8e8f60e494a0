"""ASGI entry point for uvicorn: ``api.asgi:app``."""

import gc

from api.app import create_app

app = create_app()
# What is built by now (modules, the app, its routes, its OpenAPI schema) lives as long as the process. Frozen
# out of the collector's generations, it is no longer walked by every full collection: on a sync pull storm
# garbage collection was ~7% of the server's CPU (see bench/sync_pull.py).
gc.collect()
gc.freeze()
