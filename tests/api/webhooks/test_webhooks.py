"""Case status changes reach a real local HTTP receiver: signed, retried with backoff, logged, replayable."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api.people.roles import Role
from api.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.builders import make_case, make_collector, make_staff, make_team, make_visit

pytestmark = pytest.mark.embedded


class Receiver:
    """An HTTP server on loopback that fails the first ``fail_first`` requests with 500."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = 500 if len(receiver.requests) <= receiver.fail_first else 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *args: object) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(fail_first=2) as running:
        yield running


async def _drain_until(drain_jobs, condition, rounds: int = 40) -> None:
    for _ in range(rounds):
        await drain_jobs()
        if condition():
            return
        await asyncio.sleep(0.1)  # a retry waits for its (test-sized) backoff


async def test_status_change_is_delivered_signed_after_retries(client, drain_jobs, receiver):
    admin = await make_staff(Role.ADMIN)
    team = await make_team()
    collector = await make_collector(team)
    case_id, address_id = await make_case(team)
    visit = await make_visit(case_id, address_id, team, assigned_to=collector.user_id)
    created = await client.post(
        "/v1/webhooks", json={"url": receiver.url, "description": "upstream"}, headers=admin.headers
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    subscription = created.json()["subscription"]["id"]
    assert "secret" not in (await client.get("/v1/webhooks", headers=admin.headers)).json()[0]

    when = (date.today() + timedelta(days=3)).isoformat()
    outcome = {"code": "PTP", "promised_date": when, "amount": "100.00", "currency": "CNY"}
    await client.post(f"/v1/visits/{visit}/outcome", json={"outcome": outcome}, headers=collector.headers)
    await _drain_until(drain_jobs, lambda: len(receiver.requests) >= 3)

    assert len(receiver.requests) == 3
    headers, body = receiver.requests[-1]
    assert verify(secret, int(headers[TIMESTAMP_HEADER]), body, headers[SIGNATURE_HEADER])
    assert not verify("wrong-secret-wrong-secret", int(headers[TIMESTAMP_HEADER]), body, headers[SIGNATURE_HEADER])
    event = json.loads(body)
    assert event["event"] == "case.status_changed"
    assert (event["data"]["case_id"], event["data"]["from_status"], event["data"]["to_status"]) == (
        str(case_id),
        "open",
        "promised",
    )
    log = (await client.get(f"/v1/webhooks/{subscription}/deliveries", headers=admin.headers)).json()
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [("delivered", 3, 204)]

    replayed = await client.post(f"/v1/webhooks/deliveries/{log[0]['id']}/replay", headers=admin.headers)
    assert replayed.json()["status"] == "pending"
    await _drain_until(drain_jobs, lambda: len(receiver.requests) >= 4)
    assert len(receiver.requests) == 4
    assert json.loads(receiver.requests[-1][1])["data"]["id"] == event["data"]["id"]


async def test_only_admins_manage_webhooks(client):
    team = await make_team()
    supervisor = await make_staff(Role.SUPERVISOR, team)
    answer = await client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/x"}, headers=supervisor.headers)
    assert answer.status_code == 403
    admin = await make_staff(Role.ADMIN)
    bad = await client.post("/v1/webhooks", json={"url": "file:///etc/passwd"}, headers=admin.headers)
    assert (bad.status_code, bad.json()["code"]) == (400, "400.1")
