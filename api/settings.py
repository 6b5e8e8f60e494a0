"""Typed settings, one object per concern, read once from ``FIELDVISIT_*`` environment variables.

Defaults give the embedded mode: a SQLite file and blobs under ``./var``, jobs run in-process.
Every variable is listed (with its default) in ``SETTINGS_DOC`` which the README and
``fieldvisit settings`` print.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import msgspec


class SettingsInvalid(Exception):
    """An environment variable holds a value the server cannot use."""


def _env(name: str) -> str | None:
    value = os.environ.get(f"FIELDVISIT_{name}")
    return value if value not in (None, "") else None


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsInvalid(f"FIELDVISIT_{name} must be an integer, got {raw!r}") from None


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsInvalid(f"FIELDVISIT_{name} must be a number, got {raw!r}") from None


class DatabaseSettings(msgspec.Struct, frozen=True):
    """Where the data lives: PostgreSQL when ``url`` is set, otherwise a SQLite file in the data dir."""

    url: str | None
    sqlite_path: Path
    pool_min: int
    pool_max: int
    sqlite_busy_timeout_s: float

    @property
    def is_postgres(self) -> bool:
        return self.url is not None


class QueueSettings(msgspec.Struct, frozen=True):
    """Background jobs: arq on Redis when ``redis_url`` is set, otherwise in-process."""

    redis_url: str | None
    max_attempts: int
    sweep_interval_s: float
    retry_base_s: float
    heartbeat_s: float = 10.0

    @property
    def stale_after_s(self) -> float:
        """A running job whose heartbeat is this old belongs to a dead worker: another one takes it over."""
        return self.heartbeat_s * 6

    @property
    def is_inline(self) -> bool:
        return self.redis_url is None


class StorageSettings(msgspec.Struct, frozen=True):
    """Where files go: the data dir holds the SQLite file, blobs and upload scratch space."""

    data_dir: Path

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def export_dir(self) -> Path:
        return self.data_dir / "exports"


class AuthSettings(msgspec.Struct, frozen=True):
    """Token and enrolment policy."""

    enrolment_ttl_hours: int
    device_seen_resolution_s: int
    device_pull_resolution_s: float


class HttpSettings(msgspec.Struct, frozen=True):
    """The HTTP surface: bind address and request size limits."""

    host: str
    port: int
    max_body_bytes: int


class ComplianceSettings(msgspec.Struct, frozen=True):
    """Rules from the collection guides: visiting window, geofence, retention, approval tiers."""

    visit_window_start_hour: int
    visit_window_end_hour: int
    default_timezone: str
    geofence_radius_m: float
    retention_years: int
    visit_due_days: int
    pressure_after_hours: int
    revisit_max_attempts: int
    qc_sample_share: float
    approval_tiers: tuple[tuple[str, Decimal], ...]


class Settings(msgspec.Struct, frozen=True):
    """All settings, grouped by concern."""

    database: DatabaseSettings
    queue: QueueSettings
    storage: StorageSettings
    auth: AuthSettings
    http: HttpSettings
    compliance: ComplianceSettings


def _approval_tiers() -> tuple[tuple[str, Decimal], ...]:
    raw = _env("APPROVAL_TIERS") or "collector:100000,supervisor:500000,director:1000000"
    tiers: list[tuple[str, Decimal]] = []
    for part in raw.split(","):
        name, sep, limit = part.partition(":")
        if not sep:
            raise SettingsInvalid(f"FIELDVISIT_APPROVAL_TIERS entry {part!r} must be name:limit")
        try:
            tiers.append((name.strip(), Decimal(limit.strip())))
        except ArithmeticError:
            raise SettingsInvalid(f"FIELDVISIT_APPROVAL_TIERS limit {limit!r} is not a number") from None
    return tuple(tiers)


def load_settings() -> Settings:
    """Read every setting from the environment (no caching: use ``get_settings`` in the app)."""
    data_dir = Path(_env("DATA_DIR") or "./var").resolve()
    start = _env_int("VISIT_WINDOW_START_HOUR", 8)
    end = _env_int("VISIT_WINDOW_END_HOUR", 22)
    if not 0 <= start < end <= 24:
        raise SettingsInvalid("visiting window must satisfy 0 <= start < end <= 24")
    return Settings(
        database=DatabaseSettings(
            url=_env("DATABASE_URL"),
            sqlite_path=data_dir / "fieldvisit.sqlite3",
            pool_min=_env_int("DB_POOL_MIN", 2),
            pool_max=_env_int("DB_POOL_MAX", 20),
            sqlite_busy_timeout_s=_env_float("SQLITE_BUSY_TIMEOUT", 30.0),
        ),
        queue=QueueSettings(
            redis_url=_env("REDIS_URL"),
            max_attempts=_env_int("JOB_MAX_ATTEMPTS", 8),
            sweep_interval_s=_env_float("JOB_SWEEP_INTERVAL", 30.0),
            retry_base_s=_env_float("JOB_RETRY_BASE", 2.0),
            heartbeat_s=_env_float("JOB_HEARTBEAT", 10.0),
        ),
        storage=StorageSettings(data_dir=data_dir),
        auth=AuthSettings(
            enrolment_ttl_hours=_env_int("ENROLMENT_TTL_HOURS", 24),
            device_seen_resolution_s=_env_int("DEVICE_SEEN_RESOLUTION", 60),
            device_pull_resolution_s=_env_float("DEVICE_PULL_RESOLUTION", 5.0),
        ),
        http=HttpSettings(
            host=_env("HOST") or "127.0.0.1",
            port=_env_int("PORT", 8000),
            max_body_bytes=_env_int("MAX_BODY_BYTES", 16 * 1024 * 1024),
        ),
        compliance=ComplianceSettings(
            visit_window_start_hour=start,
            visit_window_end_hour=end,
            default_timezone=_env("DEFAULT_TIMEZONE") or "Asia/Shanghai",
            geofence_radius_m=_env_float("GEOFENCE_RADIUS_M", 300.0),
            retention_years=_env_int("RETENTION_YEARS", 5),
            visit_due_days=_env_int("VISIT_DUE_DAYS", 7),
            pressure_after_hours=_env_int("PRESSURE_AFTER_HOURS", 24),
            revisit_max_attempts=_env_int("REVISIT_MAX_ATTEMPTS", 3),
            qc_sample_share=_env_float("QC_SAMPLE_SHARE", 0.30),
            approval_tiers=_approval_tiers(),
        ),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()


# name, default, meaning — printed by `fieldvisit settings` and copied into the README.
SETTINGS_DOC: tuple[tuple[str, str, str], ...] = (
    ("FIELDVISIT_DATA_DIR", "./var", "SQLite file, blobs, uploads and exports"),
    ("FIELDVISIT_DATABASE_URL", "(unset: SQLite in the data dir)", "postgresql://user@host:port/db"),
    ("FIELDVISIT_DB_POOL_MIN", "2", "PostgreSQL pool: minimum connections"),
    ("FIELDVISIT_DB_POOL_MAX", "20", "PostgreSQL pool: maximum connections"),
    ("FIELDVISIT_SQLITE_BUSY_TIMEOUT", "30", "SQLite: seconds to wait for a lock"),
    ("FIELDVISIT_REDIS_URL", "(unset: jobs run in-process)", "redis://host:port/db for arq"),
    ("FIELDVISIT_JOB_MAX_ATTEMPTS", "8", "attempts before a job is marked failed"),
    ("FIELDVISIT_JOB_SWEEP_INTERVAL", "30", "seconds between re-enqueues of jobs left pending"),
    ("FIELDVISIT_JOB_RETRY_BASE", "2", "first retry delay of a failed job, doubled per attempt"),
    (
        "FIELDVISIT_JOB_HEARTBEAT",
        "10",
        "seconds between a running job's heartbeats; silent for 6 of them, it is taken over by another worker",
    ),
    ("FIELDVISIT_ENROLMENT_TTL_HOURS", "24", "lifetime of a device enrolment code"),
    ("FIELDVISIT_DEVICE_SEEN_RESOLUTION", "60", "seconds between writes of a device's last-seen time"),
    (
        "FIELDVISIT_DEVICE_PULL_RESOLUTION",
        "5",
        "seconds between writes of a device's last pull time while its cursor stays the same",
    ),
    ("FIELDVISIT_HOST", "127.0.0.1", "bind address for `fieldvisit serve`"),
    ("FIELDVISIT_PORT", "8000", "port for `fieldvisit serve`"),
    ("FIELDVISIT_MAX_BODY_BYTES", "16777216", "largest request body outside uploads"),
    ("FIELDVISIT_VISIT_WINDOW_START_HOUR", "8", "legal visiting window start (debtor local time)"),
    ("FIELDVISIT_VISIT_WINDOW_END_HOUR", "22", "legal visiting window end (debtor local time)"),
    ("FIELDVISIT_DEFAULT_TIMEZONE", "Asia/Shanghai", "timezone of addresses that name none"),
    ("FIELDVISIT_GEOFENCE_RADIUS_M", "300", "check-ins farther than this from the address are flagged"),
    ("FIELDVISIT_RETENTION_YEARS", "5", "years records are kept after a case ends"),
    ("FIELDVISIT_VISIT_DUE_DAYS", "7", "a visit is due this many days after its request"),
    ("FIELDVISIT_PRESSURE_AFTER_HOURS", "24", "a reachable case unpaid this long after contact gets a visit"),
    ("FIELDVISIT_REVISIT_MAX_ATTEMPTS", "3", "NOH/NFD visits before escalation"),
    ("FIELDVISIT_QC_SAMPLE_SHARE", "0.30", "share of completed visits sampled for QC each month"),
    ("FIELDVISIT_UPLOAD_LIMITS_MB", "photo:64,recording:2048,signature:8,document:64", "largest upload per kind"),
    ("FIELDVISIT_UPLOAD_TTL_HOURS", "24", "an incomplete upload is deleted this long after its last chunk"),
    ("FIELDVISIT_MAX_IMAGE_PIXELS", "64000000", "images with more pixels are flagged, not decoded"),
    (
        "FIELDVISIT_APPROVAL_TIERS",
        "collector:100000,supervisor:500000,director:1000000",
        "agreement approval limits; above the last: general manager",
    ),
)
