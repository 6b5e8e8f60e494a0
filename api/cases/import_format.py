"""The upstream import format (pure): streaming CSV / JSON Lines records, row validation, digests.

CSV columns (header row required; order free; unknown columns refused):

| column | required | meaning |
|---|---|---|
| source | yes | upstream system id (e.g. ``core``) |
| external_ref | yes | the case's id in that system; (source, external_ref) is the upsert key |
| debtor_name | yes | |
| amount_owed | yes | exact decimal, e.g. ``12000.50`` |
| currency | yes | ISO 4217, e.g. ``CNY`` |
| days_past_due | yes | integer |
| national_id | no | full id: only its last 4 characters are kept |
| phones | no | separated by ``;`` |
| contact_state | no | ``reachable`` (default) or ``lost`` |
| status | no | ``open`` (default) or ``closed`` (closes the case upstream) |
| team | no | team name |
| last_contact_at / last_payment_at | no | ISO 8601 with offset |
| home_address, home_lat, home_lon, home_timezone | no | likewise ``work_*``, ``registered_*`` |

JSON Lines: one object per line with the same keys; ``phones`` may be a list, and ``addresses`` a
list of ``{"kind", "text", "lat", "lon", "timezone"}``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from api.cases.rules import AddressKind, ContactState, mask_national_id

REQUIRED = ("source", "external_ref", "debtor_name", "amount_owed", "currency", "days_past_due")
_ADDRESS_FIELDS = ("address", "lat", "lon", "timezone")
OPTIONAL = (
    "national_id",
    "phones",
    "contact_state",
    "status",
    "team",
    "last_contact_at",
    "last_payment_at",
    *(f"{kind}_{field}" for kind in ("home", "work", "registered") for field in _ADDRESS_FIELDS),
)
COLUMNS = frozenset(REQUIRED + OPTIONAL)
_SIMPLE = frozenset((*REQUIRED, "national_id", "contact_state", "status", "team", "last_contact_at", "last_payment_at"))
MAX_LINE = 64 * 1024
MAX_AMOUNT = Decimal(10) ** 15


class ImportAddress(msgspec.Struct, forbid_unknown_fields=True):
    """An address as the upstream system sends it."""

    kind: AddressKind
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    timezone: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class ImportRow(msgspec.Struct, forbid_unknown_fields=True):
    """One validated case row."""

    source: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[^:]+$")]
    external_ref: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    debtor_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    amount_owed: Decimal
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
    days_past_due: Annotated[int, msgspec.Meta(ge=0, le=100_000)]
    national_id: Annotated[str, msgspec.Meta(max_length=40)] = ""
    phones: list[Annotated[str, msgspec.Meta(max_length=40)]] = msgspec.field(default_factory=list)
    contact_state: ContactState = ContactState.REACHABLE
    status: Literal["open", "closed"] = "open"
    team: Annotated[str, msgspec.Meta(max_length=120)] | None = None
    last_contact_at: datetime | None = None
    last_payment_at: datetime | None = None
    addresses: list[ImportAddress] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.amount_owed.is_finite() or not 0 <= self.amount_owed <= MAX_AMOUNT:
            raise ValueError(f"`amount_owed` must be between 0 and {MAX_AMOUNT}")

    @property
    def source_ref(self) -> str:
        return f"{self.source}:{self.external_ref}"


class RowError(msgspec.Struct):
    """Why one row was not imported."""

    row: int
    error: str


class CsvPlan:
    """Where each column of a CSV header is, to turn value lists into row dicts without detours."""

    def __init__(self, header: list[str]) -> None:
        self.width = len(header)
        index = {name: i for i, name in enumerate(header)}
        self.simple = [(name, i) for name, i in index.items() if name in _SIMPLE]
        self.phones = index.get("phones")
        self.addresses: list[tuple[str, int, list[tuple[str, int]]]] = [
            (
                kind,
                index[f"{kind}_address"],
                [(f, index[f"{kind}_{f}"]) for f in ("lat", "lon", "timezone") if f"{kind}_{f}" in index],
            )
            for kind in ("home", "work", "registered")
            if f"{kind}_address" in index
        ]

    def record(self, values: list[str]) -> dict[str, Any]:
        """One CSV record as a row dict (blank cells omitted)."""
        data: dict[str, Any] = {name: values[i] for name, i in self.simple if values[i]}
        if self.phones is not None and values[self.phones]:
            data["phones"] = [p.strip() for p in values[self.phones].split(";") if p.strip()]
        addresses = []
        for kind, text_i, parts in self.addresses:
            if values[text_i]:
                address = {"kind": kind, "text": values[text_i]}
                address.update((key, values[i]) for key, i in parts if values[i])
                addresses.append(address)
        if addresses:
            data["addresses"] = addresses
        return data


def _from_flat(record: dict[str, Any]) -> dict[str, Any]:
    """CSV-style flat columns to the row shape (addresses grouped, phones split, blanks dropped)."""
    data = {k: v for k, v in record.items() if v not in ("", None)}
    addresses = list(data.pop("addresses", []) or [])
    for kind in ("home", "work", "registered"):
        text = data.pop(f"{kind}_address", None)
        parts = {f: data.pop(f"{kind}_{f}", None) for f in ("lat", "lon", "timezone")}
        if text:
            addresses.append({"kind": kind, "text": text, **{k: v for k, v in parts.items() if v is not None}})
    if addresses:
        data["addresses"] = addresses
    if isinstance(data.get("phones"), str):
        data["phones"] = [p.strip() for p in data["phones"].split(";") if p.strip()]
    return data


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def parse_row(record: dict[str, Any], *, flat: bool = True) -> ImportRow:
    """Validate one record; raises ``msgspec.ValidationError`` naming the field.

    ``flat`` records use CSV-style columns (``home_address``...); others are already row-shaped.
    """
    row = msgspec.convert(_from_flat(record) if flat else record, ImportRow, strict=False)
    row.national_id = mask_national_id(row.national_id)
    row.last_contact_at = _aware(row.last_contact_at)
    row.last_payment_at = _aware(row.last_payment_at)
    return row


_ENCODER = msgspec.msgpack.Encoder()


def digest(row: ImportRow) -> str:
    """A fingerprint of everything the upstream system said about a case (change detection only)."""
    return hashlib.blake2b(_ENCODER.encode(row), digest_size=16).hexdigest()


async def decoded_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """UTF-8 lines (with their line ends) from byte chunks, without holding the whole body."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    pending = ""
    async for chunk in chunks:
        pending += decoder.decode(chunk)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
        if len(pending) > MAX_LINE:
            yield pending  # an absurd line: the parser will report it as a bad row
            pending = ""
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def _parsed(records: list[str]) -> list[list[str] | str]:
    """The fields of each record; a record the csv module refuses (a bare carriage return inside a
    field, a NUL) is the error text instead, and the others still count."""
    try:
        return list(csv.reader(records))
    except csv.Error:
        out: list[list[str] | str] = []
        for record in records:
            try:
                out.extend(csv.reader([record]))
            except csv.Error as exc:
                out.append(f"not CSV: {exc}")
        return out


async def csv_records(lines: AsyncIterator[str], batch: int = 1000) -> AsyncIterator[list[list[str] | str]]:
    """CSV records from lines, in batches; a quoted field may span lines (balanced quotes end a record).
    A record that is not CSV comes as its error text."""
    records: list[str] = []
    pending: list[str] = []
    odd_quotes = False
    async for line in lines:
        if '"' in line:
            odd_quotes ^= line.count('"') % 2 == 1
        if pending or odd_quotes:
            pending.append(line)
            if odd_quotes:
                continue
            line, pending = "".join(pending), []
        if line.strip():
            records.append(line)
        if len(records) >= batch:
            yield _parsed(records)
            records = []
    if pending:
        records.append("".join(pending))
    if records:
        yield _parsed(records)
