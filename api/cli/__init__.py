"""The ``fieldvisit`` command line."""
