"""The phone's local store: visits as last pulled, the outbox of mutations not yet acknowledged, the
results the server gave, resolved conflicts, and the cursor. Plain SQLite; each write is atomic, so a
device killed at any moment restarts with nothing lost and nothing sent twice by mistake."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS visits (id TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL,
                                    body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conflicts (id TEXT PRIMARY KEY, body TEXT NOT NULL);
"""


class LocalStore:
    """A device's persistent state (``path`` may be ``:memory:`` for throwaway clients)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the file."""
        self.db.close()

    # --- meta --------------------------------------------------------------------------------

    def get(self, key: str, default: str = "") -> str:
        """A stored setting (cursor, last seq)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def _set(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?", (key, value, value)
        )

    @property
    def cursor(self) -> str:
        """The feed position after the last applied pull page."""
        return self.get("cursor")

    # --- outbox ------------------------------------------------------------------------------

    def add_to_outbox(self, mutation: dict[str, Any]) -> int:
        """Queue a mutation; assigns and returns its sequence number (one transaction)."""
        with self._transaction():
            seq = int(self.get("last_seq", "0")) + 1
            mutation["seq"] = seq
            self.db.execute(
                "INSERT INTO outbox (seq, id, body) VALUES (?, ?, ?)", (seq, mutation["id"], json.dumps(mutation))
            )
            self._set("last_seq", str(seq))
        return seq

    def pending(self, limit: int) -> list[dict[str, Any]]:
        """The oldest mutations not yet acknowledged, in device order."""
        rows = self.db.execute("SELECT body FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def pending_count(self) -> int:
        """How many mutations wait."""
        return int(self.db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def acknowledge(self, results: list[dict[str, Any]]) -> None:
        """Store the server's results and drop those mutations from the outbox (one transaction)."""
        with self._transaction():
            for result in results:
                self.db.execute(
                    "INSERT INTO results (id, seq, status, body) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
                    (result["id"], result["seq"], result["status"], json.dumps(result)),
                )
                self.db.execute("DELETE FROM outbox WHERE id = ?", (result["id"],))
                for visit_id, version in result.get("versions", {}).items():
                    self.db.execute("UPDATE visits SET version = max(version, ?) WHERE id = ?", (version, visit_id))

    def results(self) -> dict[str, dict[str, Any]]:
        """Every result received, by mutation id."""
        return {r[0]: json.loads(r[1]) for r in self.db.execute("SELECT id, body FROM results")}

    # --- pulled state ------------------------------------------------------------------------

    def apply_page(self, page: dict[str, Any]) -> None:
        """Apply one pull page and move the cursor past it, atomically."""
        with self._transaction():
            for visit in page.get("visits", []):
                self.db.execute(
                    "INSERT INTO visits (id, version, body) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET version = excluded.version, body = excluded.body",
                    (visit["id"], visit["version"], json.dumps(visit)),
                )
            for removal in page.get("removals", []):
                self.db.execute("DELETE FROM visits WHERE id = ?", (removal["id"],))
            for conflict in page.get("conflicts", []):
                self.db.execute(
                    "INSERT INTO conflicts (id, body) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body",
                    (conflict["id"], json.dumps(conflict)),
                )
            self._set("cursor", page["cursor"])

    def visits(self) -> dict[str, dict[str, Any]]:
        """The visits on the device, by id."""
        return {r[0]: json.loads(r[1]) for r in self.db.execute("SELECT id, body FROM visits")}

    def conflicts(self) -> dict[str, dict[str, Any]]:
        """Resolved conflicts the server sent, by id."""
        return {r[0]: json.loads(r[1]) for r in self.db.execute("SELECT id, body FROM conflicts")}

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *args: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
