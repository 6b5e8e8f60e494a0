"""Tables of the sync engine. Engine tables hold ids of application records as plain UUIDs
(no foreign keys into ``api``), so the engine never depends on the application."""

from __future__ import annotations
