"""``python -m api.cli`` is ``fieldvisit``."""

from api.cli.main import cli

cli()
