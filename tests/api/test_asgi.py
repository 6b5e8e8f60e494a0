"""The ASGI entry point ``fieldvisit serve`` loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.embedded
def test_the_served_app_freezes_what_it_built_out_of_the_garbage_collector():
    probe = "import gc, api.asgi; print(gc.get_freeze_count(), api.asgi.app is not None)"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, check=True
    )
    frozen, built = done.stdout.split()[-2:]
    assert built == "True"
    assert int(frozen) > 10_000  # the modules and the app: far more than a handful of objects
