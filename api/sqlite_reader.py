"""This process's long-lived read connection to the embedded SQLite file (``api.db.fetch_one`` uses it)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any


class SqliteReader:
    """This process's one long-lived autocommit connection to the SQLite file, for point reads on
    the request path (the token lookup of every request).

    Piccolo opens a connection (and a thread) per query on SQLite, which costs milliseconds; an
    indexed lookup on an open connection costs microseconds, so it runs right on the event loop.
    Each statement reads the latest commit (no transaction is held between statements). Holding
    the connection open also spares every write a checkpoint: SQLite checkpoints the WAL when the
    last connection to the file closes, which is what every Piccolo query did. If the file is
    replaced (a test starts from a new file), the reader reopens it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None

    def connection(self) -> sqlite3.Connection:
        """The open connection to the file as it is now."""
        stat = os.stat(self.path)
        identity = (stat.st_dev, stat.st_ino)
        if self._connection is None or identity != self._identity:
            self.close()
            connection = sqlite3.connect(
                self.path,
                timeout=1,
                isolation_level=None,
                check_same_thread=False,
                detect_types=sqlite3.PARSE_DECLTYPES,  # Piccolo's converters: UUID, TIMESTAMPTZ, BOOLEAN
            )
            connection.row_factory = sqlite3.Row
            self._connection, self._identity = connection, identity
        return self._connection

    def fetch_one(self, sql: str, args: list[Any]) -> dict[str, Any] | None:
        """The first row of a read-only query, or None."""
        cursor = self.connection().execute(sql, args)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()  # no statement left open: the next one sees the latest commit
        return None if row is None else dict(zip(row.keys(), tuple(row), strict=True))

    def close(self) -> None:
        """Close the connection (reopened on next use)."""
        if self._connection is not None:
            self._connection.close()
        self._connection = self._identity = None


_readers: dict[str, SqliteReader] = {}


def sqlite_reader(path: str) -> SqliteReader:
    """This process's reader of the SQLite file at ``path``."""
    reader = _readers.get(path)  # by the engine's path string: a Path built and hashed per request cost more
    if reader is None:
        reader = _readers[path] = SqliteReader(Path(path))
    return reader
