"""Importing cases from the upstream system: per-row report, idempotent upserts, streaming, CLI and HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from piccolo.querystring import QueryString

from api.cases.importer import import_stream
from api.cases.tables import Address, Case, CaseEvent, Visit
from api.db import get_engine
from api.people.roles import Role
from tests.builders import make_staff, make_team, make_visit
from tests.server import cli, embedded_env

pytestmark = pytest.mark.embedded

HEADER = (
    "source,external_ref,debtor_name,national_id,phones,amount_owed,currency,days_past_due,contact_state,team,"
    "last_contact_at,home_address,home_lat,home_lon,home_timezone,work_address\n"
)


def csv_body(team: str) -> str:
    return HEADER + "".join(
        [
            f"core,A1,Li Wei,110101199001011234,+86 138 1111 2222;+86 139 3333 4444,12000.50,CNY,45,reachable,{team},"
            '2026-11-20T10:00:00+08:00,"12 Garden Road, Flat 3",31.23,121.47,Asia/Shanghai,\n',
            f'core,A2,Zhang Min,,,800.00,CNY,10,lost,{team},,"Line one\nline two",31.1,121.3,,Tower B\n',
            "core,A3,Bad Amount,,,lots,CNY,3,reachable,,,,,,,\n",
            "core,A4,,,,10.00,CNY,3,reachable,,,,,,,\n",
            "core,A5,No Team,,,10.00,CNY,3,reachable,ghosts,,,,,,\n",
            "core,A6,Too Few Fields\n",
            "core,A7,Bad Currency,,,10.00,yuan,3,reachable,,,,,,,\n",
            f"core,A8,Wang Fang,,,99.99,CNY,120,reachable,{team},,Riverside 8,31.0,121.0,,\n",
        ]
    )


async def chunks_of(text: str, size: int = 37) -> AsyncIterator[bytes]:
    data = text.encode()
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_csv_import_reports_bad_rows_by_number_and_keeps_the_good_ones(db):
    team = await make_team("north")
    report = await import_stream(chunks_of(csv_body("north")), "text/csv")
    assert (report.rows, report.created, report.failed) == (8, 3, 5)
    assert [e.row for e in report.errors] == [3, 4, 5, 6, 7]
    assert "amount_owed" in report.errors[0].error
    assert "debtor_name" in report.errors[1].error
    assert "unknown team 'ghosts'" in report.errors[2].error
    assert "expected 16 fields, found 3" in report.errors[3].error
    assert "currency" in report.errors[4].error

    a1 = await Case.select().where(Case.source_ref == "core:A1").first()
    assert a1["national_id_last4"] == "1234"
    assert Decimal(str(a1["amount_owed"])) == Decimal("12000.50")
    assert (a1["stage"], a1["team"], a1["contact_state"]) == ("middle", team, "reachable")
    assert a1["last_contact_at"].isoformat() == "2026-11-20T02:00:00+00:00"
    addresses = await Address.select().where(Address.case == a1["id"])
    assert {(a["kind"], a["text"]) for a in addresses} == {("home", "12 Garden Road, Flat 3")}
    a2_addresses = await Address.select(Address.text, Address.kind).where(Address.case.source_ref == "core:A2")
    assert {a["text"] for a in a2_addresses} == {"Line one\nline two", "Tower B"}
    everything = await get_engine().run_querystring(QueryString("SELECT * FROM collection_case"))
    assert "110101199001011234" not in json.dumps(everything, default=str)  # the full id is never stored


async def test_importing_the_same_file_twice_changes_nothing(db):
    await make_team("north")
    await import_stream(chunks_of(csv_body("north")), "text/csv")
    before = {r["source_ref"]: r["version"] for r in await Case.select(Case.source_ref, Case.version)}
    addresses = await Address.count()
    again = await import_stream(chunks_of(csv_body("north"), 4096), "text/csv")
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 3, 5)
    assert {r["source_ref"]: r["version"] for r in await Case.select(Case.source_ref, Case.version)} == before
    assert await Address.count() == addresses


async def test_changed_rows_update_and_closed_cases_cancel_their_open_visits(db):
    team = await make_team("north")
    await import_stream(chunks_of(csv_body("north")), "text/csv")
    a8 = await Case.select().where(Case.source_ref == "core:A8").first()
    address = await Address.select().where(Address.case == a8["id"]).first()
    visit = await make_visit(a8["id"], address["id"], team)
    jsonl = (
        "\n".join(
            json.dumps(row)
            for row in [
                {
                    "source": "core",
                    "external_ref": "A8",
                    "debtor_name": "Wang Fang",
                    "amount_owed": "99.99",
                    "currency": "CNY",
                    "days_past_due": 121,
                    "team": "north",
                    "status": "closed",
                    "addresses": [{"kind": "work", "text": "New Office 1", "lat": 31.2, "lon": 121.2}],
                },
                {
                    "source": "core",
                    "external_ref": "A9",
                    "debtor_name": "New One",
                    "amount_owed": 5,
                    "currency": "CNY",
                    "days_past_due": 1,
                    "phones": ["+86 1"],
                },
                "not an object",
            ]
        )
        + "\n{broken json\n"
    )
    report = await import_stream(chunks_of(jsonl), "application/x-ndjson")
    assert (report.rows, report.created, report.updated, report.closed, report.failed) == (4, 1, 1, 1, 2)
    closed = await Case.select().where(Case.id == a8["id"]).first()
    assert (closed["status"], closed["days_past_due"], closed["version"]) == ("closed", 121, a8["version"] + 2)
    assert (await Visit.select(Visit.status).where(Visit.id == visit).first())["status"] == "cancelled"
    events = await CaseEvent.select(CaseEvent.to_status, CaseEvent.reason).where(CaseEvent.case == a8["id"])
    assert events == [{"to_status": "closed", "reason": "closed_upstream"}]
    assert await Address.count().where(Address.case == a8["id"]) == 2


async def test_http_import_streams_csv_and_refuses_unknown_formats(client):
    await make_team("north")
    admin = await make_staff(Role.ADMIN)
    answer = await client.post(
        "/v1/cases/import",
        content=chunks_of(csv_body("north")),
        headers={**admin.headers, "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["created"], answer.json()["failed"]) == (3, 5)
    wrong = await client.post("/v1/cases/import", content=b"x", headers={**admin.headers, "Content-Type": "text/xml"})
    assert (wrong.status_code, wrong.json()["code"]) == (415, "415.20")
    header = await client.post(
        "/v1/cases/import", content=b"source,colour\n", headers={**admin.headers, "Content-Type": "text/csv"}
    )
    assert (header.status_code, header.json()["code"]) == (400, "400.20")
    dispatcher = await make_staff(Role.DISPATCHER, await make_team())
    forbidden = await client.post(
        "/v1/cases/import", content=b"", headers={**dispatcher.headers, "Content-Type": "text/csv"}
    )
    assert forbidden.status_code == 403


async def test_a_record_the_csv_module_refuses_is_a_bad_row_and_a_bad_header_a_coded_400(client):
    await make_team("north")
    admin = await make_staff(Role.ADMIN)
    body = csv_body("north").replace("core,A6,Too Few Fields\n", "core,A6,Bare\rReturn,,,1.00,CNY,3,,,,,,,,\n")
    answer = await client.post("/v1/cases/import", content=body, headers={**admin.headers, "Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["rows"], report["created"], report["failed"]) == (8, 3, 5)
    assert [e["row"] for e in report["errors"]][3] == 6
    assert report["errors"][3]["error"].startswith("not CSV: ")  # the csv module's own words
    header = await client.post(
        "/v1/cases/import", content=b"}:1\r{\n", headers={**admin.headers, "Content-Type": "text/csv"}
    )
    assert (header.status_code, header.json()["code"]) == (400, "400.20"), header.text


def test_cli_import_shows_progress_and_writes_the_error_report(tmp_path):
    env = embedded_env(tmp_path)
    cli("teams", "create", "north", env=env)
    source = tmp_path / "cases.csv"
    source.write_text(csv_body("north"))
    errors = tmp_path / "errors.tsv"
    result = cli("cases", "import", str(source), "--errors", str(errors), env=env)
    assert "importing cases.csv" in result.stderr
    assert "│ 8    │ 3       │ 0       │ 0         │ 0      │ 5      │" in result.stdout
    assert errors.read_text().splitlines()[0].startswith("3\t")
    again = cli("cases", "import", str(source), env=env)
    assert "│ 8    │ 0       │ 0       │ 3         │ 0      │ 5      │" in again.stdout
    missing = cli("cases", "import", str(tmp_path / "nope.csv"), env=env, check=False)
    assert missing.returncode == 2
